"""Adaptive time stepping with step rejection.

The stepper is independent of the physics: it calls ``advance(t, dt) -> SolveStats`` which must try one
step from t to t + dt and leave the state unchanged (or restorable by ``reject()``) when Newton fails.

Step-size control:
- a failed Newton solve rejects the step: dt <- dt * shrink (default 0.5) and the step is retried, down
  to ``dt_min``; below ``dt_min`` a SolverError is raised (no result is written for a failed run);
- ``advance`` may also reject a converged step by returning ``Retry(dt, reason)``: the step is retried
  with that shorter dt (e.g. to land on a voltage cut-off instead of overshooting it);
- after a converged step dt grows by ``grow`` (default 1.5) when Newton needed at most ``easy_iterations``
  iterations, stays otherwise, and is capped by ``dt_max`` and by the next output time / the end time.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from femiec.errors import InputError, SolverError

log = logging.getLogger(__name__)


@dataclass
class Retry:
    """Returned by ``advance`` for a converged step that must be redone with the shorter step ``dt`` [s]
    (e.g. one that overshot a voltage cut-off); the attempt counts as rejected."""

    dt: float
    reason: str


@dataclass
class StepRecord:
    """One accepted time step (as written to summary.json)."""

    step: int
    time: float
    dt: float
    newton_iterations: int
    krylov_iterations: int
    rejected_attempts: int


class AdaptiveTimeStepper:
    """Advance from ``t0`` to ``t_end`` [s] with adaptive steps [s].

    Args:
        dt: first step [s]; dt_min, dt_max: bounds [s]; grow, shrink: factors; easy_iterations: Newton
        iterations at or below which the step grows.
    """

    def __init__(self, dt: float, t_end: float, t0: float = 0.0, dt_min: float | None = None,
                 dt_max: float | None = None, grow: float = 1.5, shrink: float = 0.5,
                 easy_iterations: int = 4, max_steps: int = 100000):
        if not dt > 0:
            raise InputError("time.dt", dt, "a positive step in seconds")
        if not t_end > t0:
            raise InputError("time.t_end", t_end, f"an end time greater than the start {t0}")
        if not (0 < shrink < 1):
            raise InputError("time.shrink", shrink, "a factor between 0 and 1")
        if not grow >= 1:
            raise InputError("time.grow", grow, "a factor >= 1")
        self.dt = dt
        self.t0, self.t_end = t0, t_end
        self.dt_min = dt_min if dt_min is not None else dt * 1e-6
        self.dt_max = dt_max if dt_max is not None else (t_end - t0)
        self.grow, self.shrink = grow, shrink
        self.easy_iterations = easy_iterations
        self.max_steps = max_steps
        self.records: list[StepRecord] = []

    def run(self, advance: Callable, accept: Callable, reject: Callable | None = None,
            output_times=(), progress: Callable[[float], None] | None = None) -> list[StepRecord]:
        """Step until t_end.

        Args:
            advance: ``advance(t, dt) -> SolveStats | Retry``: attempt the step t -> t + dt.
            accept: ``accept(t_new, dt, stats)``: called after a converged step (update history, write
                output at ``t_new``); the step's record is already the last of ``records``.
            reject: ``reject()``: restore the state at t after a failed attempt.
            output_times: times [s] that steps must land on exactly.
            progress: called with the new time after each accepted step.
        """
        t, dt = self.t0, self.dt  # dt: the step size the controller wants; step: the one taken
        pending = sorted(x for x in output_times if self.t0 < x < self.t_end) + [self.t_end]
        tol = 1e-12 * max(abs(self.t_end), abs(self.t0))
        while t < self.t_end - tol:
            if len(self.records) >= self.max_steps:
                raise SolverError(f"time stepping stopped at t = {t:.6g} s after {self.max_steps} steps")
            while pending and pending[0] <= t + tol:
                pending.pop(0)
            step = min(dt, self.dt_max, pending[0] - t)
            rejected = 0
            while True:
                stats = advance(t, step)
                if isinstance(stats, Retry):
                    retry, reason = min(stats.dt, step), stats.reason
                elif stats.converged:
                    break
                else:
                    retry, reason = step * self.shrink, stats.reason
                rejected += 1
                if reject is not None:
                    reject()
                log.info("step at t=%.6g s with dt=%.3g s rejected (%s); retrying with dt=%.3g s",
                         t, step, reason, retry)
                step = dt = retry
                if step < self.dt_min:
                    raise SolverError(
                        f"time step fell below dt_min = {self.dt_min:.3g} s at t = {t:.6g} s ({reason})")
            t = t + step
            if abs(t - pending[0]) <= tol:
                t = pending[0]
            self.records.append(StepRecord(len(self.records) + 1, t, step, stats.newton_iterations,
                                           stats.krylov_iterations, rejected))
            accept(t, step, stats)
            if progress is not None:
                progress(t)
            if rejected == 0 and stats.newton_iterations <= self.easy_iterations:
                dt = min(dt * self.grow, self.dt_max)
        return self.records
