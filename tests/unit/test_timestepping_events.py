"""Events of the adaptive time stepper (femiec.solvers.events, femiec.solvers.timestepping) on the
backward-Euler decay u' = -u, u(0) = 1: with fixed steps of 0.25 s (grow = 1) u_n = 1.25^-n = 0.8,
0.64, 0.512, 0.4096, ...; the event u = 0.5 falls in the fourth step."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from femiec.errors import InputError
from femiec.solvers.events import Event
from femiec.solvers.timestepping import AdaptiveTimeStepper


class Decay:
    """Backward Euler for u' = -u: ``advance`` writes the trial value u_n / (1 + dt); ``reject`` undoes it."""

    def __init__(self):
        self.u = self.u_n = 1.0
        self.attempts: list[float] = []

    def advance(self, t, dt):
        self.attempts.append(dt)
        self.u = self.u_n / (1 + dt)
        return SimpleNamespace(converged=True, reason="converged", newton_iterations=1, krylov_iterations=1)

    def accept(self, t, dt, stats):
        self.u_n = self.u

    def reject(self):
        self.u = self.u_n


def _run(decay, events, t_end=5.0):
    """(stepper, records) of fixed 0.25 s steps (grow = 1) with ``events``."""
    stepper = AdaptiveTimeStepper(0.25, t_end, grow=1.0)
    return stepper, stepper.run(decay.advance, decay.accept, decay.reject, events=events)


def test_terminal_event_is_landed_on_within_its_tolerance():
    """g = u - 0.5, falling, tolerance 1e-3. The fourth step (0.25 s) ends at g = -0.0904: redone with
    0.25 (g_0 - g*) / (g_0 - g_1), g* = -0.0005, g_0 = 0.012 (= 0.25 * 0.0125 / 0.1024); that ends at
    g = -0.00316, still beyond the tolerance, so it is redone once more from the secant through g_0 and
    the new value; that attempt ends within [-1e-3, 0] and the run stops there. Both redone attempts count
    as rejected, the state is that of one backward-Euler step of the accepted length from u = 0.512 (the
    redone attempts leave no trace), and the event is recorded at the last step."""
    decay = Decay()
    stepper, records = _run(decay, [Event("half", lambda t: decay.u - 0.5, direction=-1, tolerance=1e-3)])
    assert stepper.stop_reason == "half"
    assert decay.attempts[:3] == [0.25] * 3
    g0 = 1.25 ** -3 - 0.5
    assert decay.attempts[4] == pytest.approx(0.25 * (g0 + 0.0005) / (g0 - (1.25 ** -4 - 0.5)), rel=1e-14)
    assert len(decay.attempts) == 6
    assert [r.rejected_attempts for r in records] == [0, 0, 0, 2]
    assert 0.5 - 1e-3 <= decay.u_n <= 0.5
    assert decay.u_n == pytest.approx(1.25 ** -3 / (1 + records[-1].dt), rel=1e-14)
    assert records[-1].time == pytest.approx(0.75 + decay.attempts[-1], rel=1e-14)
    assert [(e.name, e.step, e.value) for e in stepper.occurred] == [("half", 4, decay.u_n - 0.5)]


def test_event_without_tolerance_stops_after_the_crossing_step():
    """No tolerance: the fourth step that crosses u = 0.5 is kept (u = 0.4096) and the run stops; of two
    terminal events occurring in that step the first listed ends the run."""
    decay = Decay()
    stepper, records = _run(decay, [Event("half", lambda t: decay.u - 0.5, direction=-1),
                                    Event("below_0.45", lambda t: decay.u - 0.45, direction=-1)])
    assert stepper.stop_reason == "half"
    assert decay.attempts == [0.25] * 4
    assert [r.rejected_attempts for r in records] == [0, 0, 0, 0]
    assert decay.u_n == pytest.approx(1.25 ** -4, rel=1e-15)
    assert [e.name for e in stepper.occurred] == ["half", "below_0.45"]


def test_non_terminal_events_are_recorded_and_the_run_goes_on():
    """Non-terminal events: u = 0.7 falling (step 2), u = 0.6 in either direction (step 3), u = 0.6 rising
    (never) and t = 0.6 s rising (step 3). They are recorded, the run goes on to t_end = 1 s (4 steps)."""
    decay = Decay()
    stepper, records = _run(decay, [Event("u_0.7", lambda t: decay.u - 0.7, direction=-1, terminal=False),
                                    Event("u_0.6", lambda t: decay.u - 0.6, terminal=False),
                                    Event("u_0.6_rising", lambda t: decay.u - 0.6, direction=1, terminal=False),
                                    Event("t_0.6", lambda t: t - 0.6, direction=1, terminal=False)], t_end=1.0)
    assert stepper.stop_reason == "t_end"
    assert [r.time for r in records] == [0.25, 0.5, 0.75, 1.0]
    assert [(e.name, e.step, e.time) for e in stepper.occurred] == [("u_0.7", 2, 0.5), ("u_0.6", 3, 0.75),
                                                                    ("t_0.6", 3, 0.75)]
    assert stepper.occurred[1].value == pytest.approx(0.512 - 0.6, rel=1e-14)


def test_terminal_event_already_behind_the_start_takes_no_step():
    """A directed terminal event whose g is already on its far side at the start ends the run at once."""
    decay = Decay()
    stepper, records = _run(decay, [Event("below_2", lambda t: decay.u - 2.0, direction=-1)])
    assert stepper.stop_reason == "below_2" and records == [] and decay.attempts == []


def test_event_input_errors():
    with pytest.raises(InputError, match="direction"):
        Event("x", lambda t: t, direction=2)
    with pytest.raises(InputError, match="tolerance"):
        Event("x", lambda t: t, tolerance=0.0)


def test_non_terminal_event_with_a_tolerance_is_landed_on_and_the_run_goes_on():
    """The same landing as the terminal event u = 0.5 (the fourth step redone twice, ending within 1e-3),
    but non-terminal: the run goes on to t_end = 1 s, the event is recorded once."""
    decay = Decay()
    stepper, records = _run(decay, [Event("half", lambda t: decay.u - 0.5, direction=-1, terminal=False,
                                           tolerance=1e-3)], t_end=1.0)
    assert stepper.stop_reason == "t_end" and records[-1].time == pytest.approx(1.0, rel=1e-15)
    assert [r.rejected_attempts for r in records[:4]] == [0, 0, 0, 2]
    assert all(r.rejected_attempts == 0 for r in records[4:])
    assert [(e.name, e.step) for e in stepper.occurred] == [("half", 4)]
    assert -1e-3 <= stepper.occurred[0].value <= 0
