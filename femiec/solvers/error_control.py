"""Local truncation-error estimate and step-size controller of a time-stepped run (the predictor–corrector
"Milne device"), on a scalar (or vector) output y of the state, e.g. the cell voltage [V].

With the accepted outputs y_n, y_{n-1}, ... at times t_n, t_{n-1}, ... (after the run's start) and the
attempt's y_{n+1} at t_{n+1} = t_n + dt from a step of order p, the predictor P is the polynomial of
degree p through the last p + 1 accepted points, extrapolated to t_{n+1}. Both errors are multiples of the
same derivative y^(p+1):

    y(t_{n+1}) - P        =  E_p y^(p+1),   E_p = prod_{k=0..p} (t_{n+1} - t_{n-k}) / (p+1)!
    y(t_{n+1}) - y_{n+1}  = -E_c y^(p+1),   E_c = prod_{k=0..p-1} (t_{n+1} - t_{n-k})
                                                 / ((p+1)! sum_{k=0..p-1} 1 / (t_{n+1} - t_{n-k}))

(variable-step BDF-p: the error of the derivative of the interpolant through the p + 1 points, divided by
the coefficient of y_{n+1}; backward Euler: E_c = dt^2 / 2, BDF2: dt^3 (1+w)^2 / (6 w (1+2w)) with
w = dt / dt_prev)

so y_{n+1} - P = (E_p + E_c) y^(p+1) and the local error of the step is estimated as

    err = E_c / (E_p + E_c) |y_{n+1} - P|     [units of y]

(constant steps: 1/3 |y - P| for backward Euler, 2/11 |y - P| for BDF2, 3/25 |y - P| for BDF3). For a vector output err is the
largest component; for a field distributed over MPI ranks (each rank's output its owned nodal values,
``comm`` given) the largest over every rank. A step is accepted when err <= tol; in either case the next step is

    dt_new = dt * min(max_growth, max(min_shrink, safety * (tol / err)^(1 / (p + 1))))

(an accepted step that followed a rejection does not grow). Until p + 1 points after the start are
accepted the step cannot be estimated: it is accepted and the next step keeps its length. The history
starts after the run's start because an output such as the voltage jumps when the current is switched on
(y(t_0) is the open-circuit value, y(t_0+) is not).
"""
from __future__ import annotations

from collections.abc import Callable
from math import factorial, prod

import numpy as np

from femiec.errors import InputError


def corrector_constant(dt: float, times, t_new: float) -> float:
    """E_c [s^(p+1)] of a variable-step BDF-p step of length ``dt`` to ``t_new`` from the p accepted
    ``times`` before it (module docstring). Backward Euler and BDF2 keep their closed forms, dt^2/2 and
    dt^3 (1+w)^2/(6 w (1+2w)) with w = dt / dt_previous: the general product gives the same value but not
    the same last bit, and a step accepted or rejected on that bit changes a run's path."""
    if len(times) == 1:
        return dt * dt / 2
    if len(times) == 2:
        w = dt / (times[-1] - times[-2])
        return dt ** 3 * (1 + w) ** 2 / (6 * w * (1 + 2 * w))
    gaps = [t_new - t for t in times]
    return prod(gaps) / (factorial(len(gaps) + 1) * sum(1 / gap for gap in gaps))


def extrapolate(times, values, t: float) -> np.ndarray:
    """The polynomial through (times[k], values[k]) (degree len(times) - 1) at ``t`` (Lagrange form)."""
    total = np.zeros_like(np.asarray(values[0], dtype=float))
    for k, (tk, yk) in enumerate(zip(times, values)):
        weight = prod((t - tj) / (tk - tj) for j, tj in enumerate(times) if j != k)
        total = total + weight * np.asarray(yk, dtype=float)
    return total


class LocalErrorControl:
    """Step-size control on the local error of ``output()`` (see the module docstring).

    Args:
        tolerance: tol [units of the output, e.g. V]: the largest local error per step.
        output: the output of the state just solved (a float or an array, equal on every MPI rank; with
            ``comm``, this rank's part of a distributed array, e.g. the owned nodal values of a field).
        order: the order p of the step just solved (an int or a callable returning it: 1 to
            ``max_order``).
        max_order: the highest order of the run's steps (the history keeps max_order + 1 outputs).
        safety, max_growth, min_shrink: the controller's factors.
        comm: the communicator over which the output is distributed (None: the output is whole on
            every rank).
    """

    def __init__(self, tolerance: float, output: Callable, order: int | Callable[[], int] = 1,
                 safety: float = 0.9, max_growth: float = 2.0, min_shrink: float = 0.2, comm=None,
                 max_order: int = 2):
        if not (np.isfinite(tolerance) and tolerance > 0):
            raise InputError("time.error_tolerance", tolerance, "a positive local error per step")
        self.tolerance, self.output = float(tolerance), output
        self._order = order if callable(order) else (lambda: order)
        self.safety, self.max_growth, self.min_shrink = safety, max_growth, min_shrink
        self.comm, self.max_order = comm, max_order
        self.times: list[float] = []
        self.values: list[np.ndarray] = []
        self._attempt: tuple[float, np.ndarray, int] | None = None
        self.estimates: list[float | None] = []  # of the accepted steps

    def history(self) -> dict:
        """The outputs of the accepted steps so far, JSON-serialisable ({"times": [s], "values": lists}): what a
        checkpoint keeps so that a resumed run's estimates continue the uninterrupted run's
        (:meth:`resume`)."""
        return {"times": list(self.times), "values": [v.tolist() for v in self.values]}

    def resume(self, history: dict) -> None:
        """Continue from the :meth:`history` of the steps before a checkpoint."""
        self.times = list(history["times"])
        self.values = [np.asarray(v, dtype=float) for v in history["values"]]

    def estimate(self, t_new: float, dt: float) -> float | None:
        """err of the attempt just solved, ending at ``t_new`` [s] after a step ``dt`` [s]; None when the
        history is too short for its order."""
        p = self._order()
        y = np.atleast_1d(np.asarray(self.output(), dtype=float))
        self._attempt = (t_new, y, p)
        if len(self.times) < p + 1:
            return None
        times = self.times[-(p + 1):]
        predicted = extrapolate(times, self.values[-(p + 1):], t_new)
        e_p = prod(t_new - tk for tk in times) / factorial(p + 1)
        e_c = corrector_constant(dt, times[1:], t_new)
        largest = float(np.max(np.abs(y - predicted), initial=0.0))
        if self.comm is not None:
            from mpi4py import MPI

            largest = self.comm.allreduce(largest, op=MPI.MAX)
        return float(e_c / (e_p + e_c) * largest)

    def factor(self, error: float | None) -> float:
        """dt_new / dt for the estimate ``error`` (1 without an estimate; a zero error grows the most)."""
        if error is None:
            return 1.0
        p = self._attempt[2]
        if error == 0:
            return self.max_growth
        return min(self.max_growth, max(self.min_shrink, self.safety * (self.tolerance / error) ** (1 / (p + 1))))

    def accept(self, error: float | None) -> None:
        """The attempt just estimated is accepted: its output joins the history."""
        t, y, _ = self._attempt
        self.times.append(t)
        self.values.append(y)
        del self.times[:-(self.max_order + 1)], self.values[:-(self.max_order + 1)]
        self.estimates.append(error)
