"""The stepper's schedule (resume a run exactly), its signal check and its growth criterion on the
backward-Euler decay u' = -u, u(0) = 1 (adaptive steps from 0.1 s, grow 1.5, outputs at 1 and 2 s)."""
from __future__ import annotations

import signal
from types import SimpleNamespace

import pytest

from femiec import interrupt
from femiec.errors import Interrupted
from femiec.solvers.timestepping import AdaptiveTimeStepper


class Decay:
    """Backward Euler for u' = -u; ``iterations`` is the statistics' Newton count (and ``control`` the
    hardest solve's, when given)."""

    def __init__(self, u=1.0, iterations=1, control=None):
        self.u = self.u_n = u
        self.stats = dict(converged=True, reason="converged", newton_iterations=iterations, krylov_iterations=1)
        if control is not None:
            self.stats["control_iterations"] = control

    def advance(self, t, dt):
        self.u = self.u_n / (1 + dt)
        return SimpleNamespace(**self.stats)

    def accept(self, t, dt, stats):
        self.u_n = self.u


def test_a_run_stopped_and_resumed_from_its_schedule_takes_the_same_steps():
    """Stopped by SIGINT (requested as the handler does) after 3 steps, then resumed from the state and
    ``schedule()`` (the next step, not the last one taken; the output times still ahead): the step times
    and values equal the uninterrupted run's exactly, output times included."""
    whole = Decay()
    reference = AdaptiveTimeStepper(0.1, 3.0, dt_max=0.7)
    reference.run(whole.advance, whole.accept, output_times=[1.0, 2.0])

    first = Decay()
    stopped = AdaptiveTimeStepper(0.1, 3.0, dt_max=0.7)

    def accept(t, dt, stats):
        first.accept(t, dt, stats)
        if len(stopped.records) == 3:
            interrupt.request(signal.SIGINT)

    with pytest.raises(Interrupted) as raised:
        stopped.run(first.advance, accept, output_times=[1.0, 2.0])
    schedule = stopped.schedule()
    t = stopped.records[-1].time
    assert raised.value.time == t and schedule["dt"] == pytest.approx(0.1 * 1.5 ** 3)
    assert schedule["dt"] != stopped.records[-1].dt and schedule["output_times"] == [1.0, 2.0]
    second = Decay(first.u_n)
    resumed = AdaptiveTimeStepper(schedule["dt"], schedule["t_end"], t0=t, dt_min=schedule["dt_min"],
                                  dt_max=schedule["dt_max"])
    resumed.run(second.advance, second.accept, output_times=schedule["output_times"])
    times = [r.time for r in stopped.records + resumed.records]
    assert times == [r.time for r in reference.records] and 1.0 in times and 2.0 in times
    assert second.u_n == whole.u_n


def test_the_step_grows_by_the_hardest_solve_not_the_summed_iterations():
    """Statistics of a loop of solves (a galvanostatic secant: 9 Newton iterations summed, the hardest
    solve 2) let the step grow; the same sum without ``control_iterations`` keeps it."""
    loop, summed = Decay(iterations=9, control=2), Decay(iterations=9)
    grown = AdaptiveTimeStepper(0.1, 1.0, dt_max=1.0)
    grown.run(loop.advance, loop.accept)
    fixed = AdaptiveTimeStepper(0.1, 1.0, dt_max=1.0)
    fixed.run(summed.advance, summed.accept)
    assert [r.dt for r in grown.records[:3]] == pytest.approx([0.1, 0.15, 0.225])
    assert len(fixed.records) == 10 and all(r.dt == pytest.approx(0.1) for r in fixed.records)
