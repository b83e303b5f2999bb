"""Adaptive time stepping with step rejection and events.

The stepper is independent of the physics: it calls ``advance(t, dt) -> SolveStats`` which must try one
step from t to t + dt and leave the state unchanged (or restorable by ``reject()``) when Newton fails.

Step-size control:
- a failed Newton solve rejects the step: dt <- dt * shrink (default 0.5) and the step is retried, down
  to ``dt_min``; below ``dt_min`` a SolverError is raised (no result is written for a failed run);
- after a converged step dt grows by ``grow`` (default 1.5) when Newton needed at most ``easy_iterations``
  iterations, stays otherwise, and is capped by ``dt_max`` and by the next output time / the end time. A
  step made of several solves (a galvanostatic secant) is judged by its hardest single solve
  (``SolveStats.control_iterations``), not by the iterations summed over the loop;
- with ``error_control`` (:class:`femiec.solvers.error_control.LocalErrorControl`) the local error of
  each converged attempt is estimated instead: an attempt whose error exceeds the tolerance is rejected
  and retried with the controller's shorter step, and the next step is the controller's
  dt * safety * (tol/err)^(1/(p+1)) (bounded), capped by ``dt_max`` and the next output time.

The step the controller wants next (``dt_next``) and the output times still ahead (``pending``) are set
before ``accept`` is called, so a checkpoint written there holds the schedule (:meth:`schedule`) and a run
resumed from it (``dt`` = that step, ``t0`` = the checkpoint's time) takes the same steps. After each
accepted step the stepper checks for SIGINT/SIGTERM (:func:`femiec.interrupt.check`, on every rank of
``comm``) and raises :class:`femiec.errors.Interrupted` there, never inside a solve. Each accepted step is
logged at INFO (``-v``) unless ``log_steps`` is False (a problem that logs its own line per step).

Events (:class:`femiec.solvers.events.Event`: where g(state) crosses 0, e.g. g = V - V_min) are
evaluated after each converged attempt. A step in which an event with a landing tolerance occurs and that
ends more than the tolerance beyond 0 is rejected (restored by ``reject()``, counted as a rejected attempt)
and redone with the secant estimate of the step that ends half the tolerance beyond; the redone step
obeys ``dt_min`` as a halved one does. Every event that occurs in an accepted step is recorded in
``occurred``; a terminal one ends the run after that step (``stop_reason`` = its name, else "t_end").
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from femiec.errors import InputError, SolverError
from femiec.solvers.events import Event, EventRecord

log = logging.getLogger(__name__)


@dataclass
class StepRecord:
    """The solver's account of one accepted time step: its number (from 1), end time [s], length [s],
    Newton and Krylov iterations and the attempts rejected before it (failed Newton solves and landing
    redos). Problems write these to summary.json (the electrode keeps its own record of the cell's
    state, :class:`femiec.problems.electrode.ElectrodeRecord`)."""

    step: int
    time: float
    dt: float
    newton_iterations: int
    krylov_iterations: int
    rejected_attempts: int
    error_estimate: float | None = None


class AdaptiveTimeStepper:
    """Advance from ``t0`` to ``t_end`` [s] with adaptive steps [s].

    Args:
        dt: first step [s]; dt_min, dt_max: bounds [s]; grow, shrink: factors; easy_iterations: Newton
        iterations at or below which the step grows; comm: the communicator the signal check is reduced
        over (None: this process only); log_steps: log each accepted step at INFO; name: the model named
        in that line; error_control: a :class:`femiec.solvers.error_control.LocalErrorControl` (None:
        steps grow on Newton iteration counts).
    """

    def __init__(self, dt: float, t_end: float, t0: float = 0.0, dt_min: float | None = None,
                 dt_max: float | None = None, grow: float = 1.5, shrink: float = 0.5,
                 easy_iterations: int = 4, max_steps: int = 100000, comm=None, log_steps: bool = True,
                 name: str = "step", error_control=None):
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
        self.occurred: list[EventRecord] = []
        self.stop_reason = "t_end"
        self.comm, self.log_steps, self.name = comm, log_steps, name
        self.error_control = error_control
        self.dt_next = dt
        self.pending: list[float] = []

    def schedule(self) -> dict:
        """What a resumed run needs to take the same steps: the next step the controller wants, the step
        bounds, the end time and the output times still ahead [s]."""
        return {"dt": self.dt_next, "dt_min": self.dt_min, "dt_max": self.dt_max, "t_end": self.t_end,
                "output_times": list(self.pending)}

    def run(self, advance: Callable, accept: Callable, reject: Callable | None = None,
            output_times=(), progress: Callable[[float], None] | None = None,
            events: Sequence[Event] = ()) -> list[StepRecord]:
        """Step until t_end or until a terminal event occurs; ``stop_reason`` tells which.

        Args:
            advance: ``advance(t, dt) -> SolveStats``: attempt the step t -> t + dt.
            accept: ``accept(t_new, dt, stats)``: called after a converged step (update history, write
                output at ``t_new``); the step's record is already the last of ``records``.
            reject: ``reject()``: restore the state at t after a failed or redone attempt.
            output_times: times [s] that steps must land on exactly.
            progress: called with the new time after each accepted step.
            events: :class:`Event` s, evaluated after each converged attempt (with the attempt's state);
                when several terminal ones occur in one step, the first in this order ends the run.
        """
        from femiec import interrupt

        t, dt = self.t0, self.dt  # dt: the step size the controller wants; step: the one taken
        pending = sorted(x for x in output_times if self.t0 < x < self.t_end) + [self.t_end]
        with interrupt.step_boundaries():
            return self._steps(t, dt, pending, advance, accept, reject, progress, events)

    def _steps(self, t, dt, pending, advance, accept, reject, progress, events) -> list[StepRecord]:
        from femiec import interrupt

        tol = 1e-12 * max(abs(self.t_end), abs(self.t0))
        g_old = [event.function(t) for event in events]
        self.stop_reason = next((e.name for e, g in zip(events, g_old) if e.terminal and e.happened(g)), "t_end")
        if self.stop_reason != "t_end":
            log.info("event %s already happened at t=%.6g s: no step taken", self.stop_reason, t)
            return self.records
        while t < self.t_end - tol:
            if len(self.records) >= self.max_steps:
                raise SolverError(f"time stepping stopped at t = {t:.6g} s after {self.max_steps} steps")
            while pending and pending[0] <= t + tol:
                pending.pop(0)
            step = min(dt, self.dt_max, pending[0] - t)
            rejected = 0
            control = self.error_control
            while True:
                stats = advance(t, step)
                if stats.converged:
                    error = control.estimate(t + step, step) if control is not None else None
                    if error is not None and error > control.tolerance:
                        retry = step * control.factor(error)
                        reason = f"local error {error:.3g} above the tolerance {control.tolerance:.3g}"
                    else:
                        g_new = [event.function(t + step) for event in events]
                        redo = _landing(events, g_old, g_new)
                        if redo is None:
                            break
                        retry, reason = step * redo[0], redo[1]
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
                                           stats.krylov_iterations, rejected, error))
            if control is not None:
                control.accept(error)
                factor = control.factor(error)
                dt = min(step * (min(factor, 1.0) if rejected else factor), self.dt_max)
            elif rejected == 0 and _control_iterations(stats) <= self.easy_iterations:
                dt = min(dt * self.grow, self.dt_max)
            self.dt_next = dt
            self.pending = [x for x in pending[:-1] if x > t + tol]
            if self.log_steps:
                log.info("%s %d: t = %.6g s, dt = %.3g s, %d Newton, %d Krylov, %d rejected", self.name,
                         len(self.records), t, step, stats.newton_iterations, stats.krylov_iterations, rejected)
            accept(t, step, stats)
            if progress is not None:
                progress(t)
            occurred = [(e, g) for e, g0, g in zip(events, g_old, g_new) if e.occurs(g0, g)]
            self.occurred += [EventRecord(e.name, len(self.records), t, g) for e, g in occurred]
            terminal = next((e.name for e, _ in occurred if e.terminal), None)
            if terminal is not None:
                self.stop_reason = terminal
                log.info("event %s at t=%.6g s ends the run", terminal, t)
                break
            g_old = g_new
            interrupt.check(self.comm, t)
        return self.records


def _control_iterations(stats) -> int:
    """The Newton iterations the step controller judges a step by: ``stats.control_iterations`` (the
    hardest single solve of a loop of solves, :class:`femiec.solvers.SolveStats`) when the statistics
    have it, else ``stats.newton_iterations``."""
    return getattr(stats, "control_iterations", stats.newton_iterations)


def _landing(events: Sequence[Event], g_old: list[float], g_new: list[float]) -> tuple[float, str] | None:
    """(fraction of the step, reason) of the shortest landing redo the events ask for, or None."""
    redos = [(fraction, f"event {e.name}: g = {g1:.6g} lies beyond its tolerance {e.tolerance:.3g}")
             for e, g0, g1 in zip(events, g_old, g_new)
             if (fraction := e.landing_fraction(g0, g1)) is not None]
    return min(redos, default=None, key=lambda redo: redo[0])
