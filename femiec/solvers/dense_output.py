"""Dense output of a time-stepped run: outputs (e.g. voltage [V], capacity [A h]) at the times
t_k = origin + k * spacing that lie strictly inside an accepted step, interpolated between accepted steps
with the polynomial of the scheme's order p through the last p + 1 accepted points (linear for backward
Euler, quadratic for BDF2, cubic for BDF3; of lower degree while fewer points are known):

    y(t) ~ sum_k y_k prod_{j != k} (t - t_j) / (t_k - t_j),   t_{n-1} < t < t_n

(:func:`femiec.solvers.error_control.extrapolate`, the predictor of the local error estimate). The
interpolation error is of the order of the scheme's own error, so the points add resolution to a curve
without adding error. The history starts at the first accepted step (:meth:`DenseOutput.add`): no point
is interpolated inside the first step after a start, whose initial output may be a value before a switch
(the open-circuit voltage before the current is on).
"""
from __future__ import annotations

import math

import numpy as np

from femiec.errors import InputError
from femiec.solvers.error_control import extrapolate

#: accepted points kept: the four of BDF3's cubic
_KEPT = 4


class DenseOutput:
    """Interpolated points at a fixed time ``spacing`` [s] counted from ``origin`` [s]."""

    def __init__(self, spacing: float, origin: float = 0.0):
        if not (np.isfinite(spacing) and spacing > 0):
            raise InputError("dense_output", spacing, "a positive spacing")
        self.spacing, self.origin = float(spacing), float(origin)
        self.times: list[float] = []
        self.values: list[np.ndarray] = []

    def add(self, t: float, values, order: int = 1) -> list[tuple[float, np.ndarray]]:
        """Accept the step ending at ``t`` [s] with outputs ``values`` taken by a scheme of ``order``;
        returns the interpolated (time, values) strictly inside the step (none for the first step)."""
        self.times.append(float(t))
        self.values.append(np.asarray(values, dtype=float))
        del self.times[:-_KEPT], self.values[:-_KEPT]
        if len(self.times) < 2:
            return []
        points = min(order, len(self.times) - 1) + 1
        times, values = self.times[-points:], self.values[-points:]
        start, end = times[-2], times[-1]
        tol = 1e-9 * self.spacing
        k = math.floor((start - self.origin) / self.spacing + 1e-9) + 1
        out = []
        while (t_k := self.origin + k * self.spacing) < end - tol:
            if t_k > start + tol:
                out.append((t_k, extrapolate(times, values, t_k)))
            k += 1
        return out
