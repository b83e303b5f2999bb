"""Discrete time derivatives (pure UFL): backward Euler, variable-step BDF2 and variable-step BDF-k.

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
#: the largest step ratio of a stable variable-step BDF3 step (Li and Liao 2022)
BDF3_MAX_RATIO = 2.553


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
    return dt / dt_previous if dt_previous and bdf_order(dt, [dt_previous], 2) == 2 else 0.0


def bdf(states, coefficients, dt):
    """Variable-step BDF-k derivative sum_j a_j u^{n+1-j} / dt of ``states`` = (u^{n+1}, u^n, ...) with
    ``coefficients`` a_j (a vector Constant of len(states) entries, or numbers; trailing zeros for a lower
    order: :func:`bdf_coefficients`)."""
    return sum(coefficients[j] * u for j, u in enumerate(states)) / dt


def bdf_coefficients(steps, size: int | None = None) -> list[float]:
    """[a_0, ..., a_k] of the variable-step BDF-k whose steps, newest first, are ``steps`` = (dt,
    dt_previous, ...) (k = len(steps)), padded with zeros to ``size`` entries (module docstring)."""
    tau = [0.0]
    for h in steps:
        tau.append(tau[-1] - h)
    dt, k = steps[0], len(steps)
    coefficients = [dt * sum(1 / (tau[0] - tau[m]) for m in range(1, k + 1))]
    for j in range(1, k + 1):
        numerator = 1.0
        for m in range(1, k + 1):
            if m != j:
                numerator *= tau[0] - tau[m]
        denominator = 1.0
        for m in range(k + 1):
            if m != j:
                denominator *= tau[j] - tau[m]
        coefficients.append(dt * numerator / denominator)
    return coefficients + [0.0] * ((size or 0) - len(coefficients))


def bdf3_correction(steps) -> list[float]:
    """[e_0, e_1, e_2, e_3] with BDF3 = BDF2 + (e_0 u^{n+1} + e_1 u^n + e_2 u^{n-1} + e_3 u^{n-2}) / dt for
    the steps (dt, dt_previous, dt_before) (newest first): the difference of their coefficients, i.e. the
    third divided difference times dt (t^{n+1} - t^n)(t^{n+1} - t^{n-1}) (the Newton form of the
    interpolant's derivative). Written so, a BDF2 step keeps BDF2's arithmetic to the last bit."""
    third, second = bdf_coefficients(steps), bdf_coefficients(steps[:2], 4)
    return [a - b for a, b in zip(third, second)]


def bdf_order(dt: float, previous_steps, max_order: int) -> int:
    """The order of a variable-step BDF step of length ``dt`` after the accepted steps ``previous_steps``
    (newest first): the highest k <= ``max_order`` for which k - 1 previous steps are known and the step
    ratios dt_i / dt_(i+1) among the last k steps are below the stability bound of order k
    (:data:`BDF2_MAX_RATIO`, :data:`BDF3_MAX_RATIO`); 1 (backward Euler) otherwise."""
    steps = [dt, *previous_steps]
    bounds = {2: BDF2_MAX_RATIO, 3: BDF3_MAX_RATIO}
    for k in range(min(max_order, len(steps), 3), 1, -1):
        if all(steps[i] / steps[i + 1] < bounds[k] for i in range(k - 1)):
            return k
    return 1
