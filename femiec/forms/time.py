"""Discrete time derivatives (pure UFL): backward Euler and variable-step BDF2.

With u^{n+1} the unknown, u^n and u^{n-1} the previous steps, dt = t^{n+1} - t^n and the step ratio
w = dt / (t^n - t^{n-1}):

    backward Euler:  du/dt ~ (u^{n+1} - u^n) / dt                                   (first order)
    BDF2:            du/dt ~ [(1+2w)/(1+w) u^{n+1} - (1+w) u^n + w^2/(1+w) u^{n-1}] / dt   (second order)

BDF2 with w = 0 is backward Euler, so one compiled form serves the first step (w = 0) and all later ones
(w updated in a ``dolfinx.fem.Constant``). The coefficients sum to zero, so a conservative spatial
discretization stays conservative with either scheme. Variable-step BDF2 is zero-stable for step ratios
w < 1 + sqrt(2) (Grigorieff 1983): :func:`bdf2_step_ratio` gives the w a step takes (0, a backward-Euler
step, for the first step and after a larger jump, e.g. a step shortened to land on an output time).
"""
from __future__ import annotations

#: the largest step ratio dt / dt_previous of a zero-stable variable-step BDF2 step
BDF2_MAX_RATIO = 1 + 2 ** 0.5


def backward_euler(u, u_n, dt):
    """(u - u_n) / dt."""
    return (u - u_n) / dt


def bdf2(u, u_n, u_nm1, dt, ratio):
    """Variable-step BDF2 derivative; ``ratio`` = dt / dt_previous (0 gives backward Euler)."""
    a0, a1, a2 = bdf2_coefficients(ratio)
    return (a0 * u + a1 * u_n + a2 * u_nm1) / dt


def bdf2_coefficients(ratio):
    """(a0, a1, a2) with du/dt ~ (a0 u^{n+1} + a1 u^n + a2 u^{n-1}) / dt for step ratio w = ``ratio``."""
    w = ratio
    return (1 + 2 * w) / (1 + w), -(1 + w), w * w / (1 + w)


def bdf2_step_ratio(dt: float, dt_previous: float | None) -> float:
    """w = dt / dt_previous of a BDF2 step, or 0 (backward Euler) without a previous step or when w is not
    below :data:`BDF2_MAX_RATIO`."""
    ratio = dt / dt_previous if dt_previous else 0.0
    return ratio if ratio < BDF2_MAX_RATIO else 0.0
