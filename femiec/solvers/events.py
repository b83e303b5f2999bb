"""Events of a time-stepped run as data: where a scalar function g of the present state crosses 0 (a
cut-off voltage, g = V - V_min; a stoichiometry limit, g = x - x_max; ...). The stepper
(:mod:`femiec.solvers.timestepping`) evaluates them after each converged attempt.

Direction d: +1 for g rising through 0, -1 for g falling through 0, 0 for either (then d is taken, in
each step, as the side g heads for: d = -sign(g_0)). An event *occurs* in a step from g_0 (the last
accepted state) to g_1 (the state just solved) when d g_0 < 0 <= d g_1. A terminal event ends the run
after the step in which it occurs; a directed terminal event with d g_0 >= 0 at the start of a run has
already happened, and the run ends before its first step.

Landing (``tolerance`` tol > 0, in the units of g): a step in which the event occurs and that ends with
d g_1 > tol is redone with the secant estimate of the step that ends half the tolerance beyond 0:

    dt_redo = dt * max((g_0 - g*) / (g_0 - g_1), 0.01),   g* = d tol / 2

and again from g_0 and the redone attempt's g_1 until a step ends with 0 <= d g_1 <= tol (for g linear
in t the first redo ends at g*). A non-terminal event with a tolerance is landed on the same way and the
run goes on. Without a tolerance the step that crosses is kept (a terminal event stops the run after it).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from femiec.errors import InputError

#: the smallest fraction of a step that a landing redo takes (a nearly vertical secant)
MIN_LANDING_FRACTION = 0.01


@dataclass(frozen=True)
class Event:
    """Where ``function(t)`` [units of g] crosses 0; ``t`` [s] is the time of the present state, which
    the function reads from the problem (it must return the same value on every MPI rank).

    Args:
        name: reported as the run's stop reason when the event ends it (e.g. "voltage_min").
        function: g(t) of the present state.
        direction: +1 (g rising through 0), -1 (falling), 0 (either).
        terminal: the run ends after the step in which the event occurs; else the event is only recorded.
        tolerance: landing tolerance in the units of g (None: no landing, the crossing step is kept).
    """

    name: str
    function: Callable[[float], float]
    direction: int = 0
    terminal: bool = True
    tolerance: float | None = None

    def __post_init__(self):
        if self.direction not in (-1, 0, 1):
            raise InputError(f"events.{self.name}.direction", self.direction, "-1, 0 or +1")
        if self.tolerance is not None and not self.tolerance > 0:
            raise InputError(f"events.{self.name}.tolerance", self.tolerance, "a positive number or None")

    def sense(self, g0: float) -> int:
        """d of a step that starts at g0: the event's direction, or the side g heads for (0 when g0 = 0
        and the event has no direction: no crossing)."""
        if self.direction:
            return self.direction
        return -1 if g0 > 0 else 1 if g0 < 0 else 0

    def happened(self, g0: float) -> bool:
        """A directed event already lies behind the state g0 (d g0 >= 0)."""
        return self.direction != 0 and self.direction * g0 >= 0

    def occurs(self, g0: float, g1: float) -> bool:
        """The event occurs in the step from g0 to g1 (d g0 < 0 <= d g1)."""
        d = self.sense(g0)
        return d != 0 and d * g0 < 0 <= d * g1

    def landing_fraction(self, g0: float, g1: float) -> float | None:
        """The fraction of the step to redo it with (secant aimed at d tol / 2, at least 0.01), or None
        when the step is kept (the event does not occur, lies within the tolerance, or has none)."""
        if self.tolerance is None or not self.occurs(g0, g1):
            return None
        d = self.sense(g0)
        if d * g1 <= self.tolerance:
            return None
        target = d * self.tolerance / 2
        return max((g0 - target) / (g0 - g1), MIN_LANDING_FRACTION)


@dataclass
class EventRecord:
    """An event that occurred: its name, the step (``StepRecord.step``) and time [s] at whose end it
    occurred, and g there."""

    name: str
    step: int
    time: float
    value: float
