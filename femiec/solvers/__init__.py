"""Solvers: PETSc SNES driver with linear-solver presets, and adaptive time stepping."""
from femiec.solvers.snes import PRESETS, NonlinearSolver, SolveStats
from femiec.solvers.timestepping import AdaptiveTimeStepper, StepRecord

__all__ = ["PRESETS", "NonlinearSolver", "SolveStats", "AdaptiveTimeStepper", "StepRecord"]
