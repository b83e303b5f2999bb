"""Closed-form reference solutions shared by tests, docs and benchmarks."""
