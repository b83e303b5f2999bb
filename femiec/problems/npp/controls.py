"""Applied controls of an electrochemical problem: fixed potentials, electrode voltages and currents.

Every applied value (a fixed potential on facets, the voltage V [V] of a potentiostatic electrode, the total
current I [A] of a galvanostatic one) is a :class:`ControlledValue`: continuation moves it from its value
at the last converged solve (zero initially) to its target, value = solved + fraction (target - solved)
(:func:`ramp`). A galvanostatic electrode's potential is the scalar unknown of the integral constraint
I(V) = I_target, found by :class:`GalvanostaticSecant` around a warm-started solve of the rest. The objects
know nothing of the problem's spaces: they act through the callables they are given.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from femiec.errors import InputError, SolverError


class ControlledValue:
    """One applied value moved by continuation.

    Args:
        target: the value to reach (a number, or an array of nodal values).
        apply: puts a value into the forms (sets a Constant, a Dirichlet Function, an applied current).
        solved: the value at the last converged solve (the continuation starts there).
    """

    def __init__(self, target, apply: Callable, solved=0.0):
        self.target = target
        self.apply = apply
        self.solved = solved

    def ramp(self, fraction: float) -> None:
        """Apply solved + fraction (target - solved)."""
        self.apply(self.solved + fraction * (self.target - self.solved))

    def reached(self) -> None:
        """The target is reached: the next continuation starts from it."""
        self.solved = self.target


class Controls:
    """The applied values of a problem, in the order they are applied: fixed potentials, electrode
    voltages [V] (potentiostatic), electrode currents [A] (galvanostatic). ``applied_current[name]`` is
    the current the galvanostatic secant aims at during a solve."""

    def __init__(self):
        self.potentials: list[ControlledValue] = []
        self.voltages: dict[str, ControlledValue] = {}
        self.currents: dict[str, ControlledValue] = {}
        self.applied_current: dict[str, float] = {}

    def add_potential(self, target, apply: Callable) -> None:
        """A fixed potential (number or nodal array, in the unknown's units), ramped from 0."""
        self.potentials.append(ControlledValue(target, apply, 0.0 * target))

    def add_voltage(self, name: str, voltage: float, apply: Callable[[float], None]) -> None:
        """The applied potential [V] of potentiostatic electrode ``name`` (``apply(V)`` sets it)."""
        self.voltages[name] = ControlledValue(float(voltage), apply)

    def add_current(self, name: str, current: float) -> None:
        """The applied total current [A] of galvanostatic electrode ``name``."""
        self.currents[name] = ControlledValue(float(current), lambda I, name=name: self._set_applied(name, I))
        self.applied_current[name] = 0.0

    def _set_applied(self, name: str, current: float) -> None:
        self.applied_current[name] = current

    def ramp(self, fraction: float) -> None:
        """Set every applied value to solved + fraction (target - solved)."""
        for value in (*self.potentials, *self.voltages.values(), *self.currents.values()):
            value.ramp(fraction)

    def reached(self) -> None:
        """The targets are reached: the next continuation starts from them."""
        for value in (*self.potentials, *self.voltages.values(), *self.currents.values()):
            value.reached()

    def set_voltage(self, electrode: str, voltage: float) -> None:
        """Change the target potential [V] of a potentiostatic electrode (applied by the next solve)."""
        if electrode not in self.voltages:
            raise InputError("electrode", electrode, f"a potentiostatic electrode: {sorted(self.voltages)}")
        self.voltages[electrode].target = float(voltage)

    def set_current(self, electrode: str, current: float) -> None:
        """Change the target total current [A] of a galvanostatic electrode (applied by the next solve)."""
        if electrode not in self.currents:
            raise InputError("electrode", electrode, f"a galvanostatic electrode: {sorted(self.currents)}")
        self.currents[electrode].target = float(current)


class GalvanostaticSecant:
    """The electrode potential V [V] at which the electrode current equals the applied current.

    The bordered system (state, V) with the constraint I(state, V) = I_target is solved by eliminating V:
    a secant iteration on V around a solve of the state at fixed V (warm-started from the previous
    iterate), i.e. the scalar Schur complement is approximated by the secant slope dI/dV (> 0 for an
    anodic current; a non-positive or non-finite slope stops the iteration).

    Args:
        set_voltage: ``set_voltage(V)`` puts V into the forms.
        solve: the solve at fixed V; returns statistics with ``converged``, ``newton_iterations``,
            ``krylov_iterations``.
        current: ``current()`` -> the electrode current [A] of the present state.
        potential_scale: the thermal voltage V_T [V]: first step 1e-3 V_T, steps clipped to 5 V_T.
        rtol, max_iterations: converged when |I - I_target| <= rtol max(|I_target|, current_floor).
    """

    def __init__(self, set_voltage: Callable[[float], None], solve: Callable[[], dict], current: Callable[[], float],
                 potential_scale: float, rtol: float = 1e-10, max_iterations: int = 30):
        self.set_voltage = set_voltage
        self.solve = solve
        self.current = current
        self.potential_scale = potential_scale
        self.rtol = rtol
        self.max_iterations = max_iterations

    def run(self, V: float, target: float, current_floor: float):
        """Secant from V [V] to the current ``target`` [A]. Returns the last solve's statistics
        (:class:`femiec.solvers.SolveStats`) with the summed iterations, ``secant_iterations`` (the
        solves), ``largest_solve_iterations`` (the Newton iterations of the hardest solve, which a time-step
        controller judges the step by) and ``electrode_potential`` [V]; ``converged`` False (the state is
        then the caller's to restore) when a solve or the secant failed."""
        tolerance = self.rtol * max(abs(target), current_floor)
        newton = krylov = largest = 0
        history = []
        step = 1e-3 * self.potential_scale
        for k in range(1, self.max_iterations + 1):
            self.set_voltage(V)
            stats = self.solve()
            newton, krylov = newton + stats.newton_iterations, krylov + stats.krylov_iterations
            largest = max(largest, stats.control_iterations)  # a solve of several problems: its hardest
            counts = {"secant_iterations": k, "largest_solve_iterations": largest}
            if not stats.converged:
                return stats.summed(newton, krylov, **counts)
            mismatch = self.current() - target
            history.append((V, mismatch))
            if abs(mismatch) <= tolerance:
                return stats.summed(newton, krylov, electrode_potential=V, **counts)
            if len(history) == 1:
                V = V + step * (-np.sign(mismatch) or 1.0)
            else:
                (V0, m0), (V1, m1) = history[-2], history[-1]
                slope = (m1 - m0) / (V1 - V0) if V1 != V0 else 0.0
                if slope <= 0 or not np.isfinite(slope):
                    return stats.summed(newton, krylov, converged=False, reason="galvanostatic secant failed",
                                        **counts)
                V = V1 - float(np.clip(m1 / slope, -5 * self.potential_scale, 5 * self.potential_scale))
        return stats.summed(newton, krylov, converged=False, reason="galvanostatic secant did not converge", **counts)


def ramp(controls: Controls, solve: Callable, save: Callable, restore: Callable, steps: int,
         max_halvings: int) -> list[dict]:
    """Continuation: solve at increasing control fractions up to 1 (increments of at most 1 / ``steps``),
    halving the increment after a failed solve (at most ``max_halvings`` times in a row; the state is put
    back with ``restore(save())``) and growing it by 1.5 after a success. Returns the per-solve records."""
    records, value, increment, halvings = [], 0.0, 1.0 / steps, 0
    while True:
        goal = 1.0 if 1.0 - value <= increment * (1 + 1e-12) else value + increment
        controls.ramp(goal)
        saved = save()
        stats = solve()
        if stats.converged:
            records.append({"control_fraction": goal, **stats.as_dict()})
            value, halvings = goal, 0
            if goal == 1.0:
                return records
            increment = min(1.5 * increment, 1.0 / steps)
            continue
        restore(saved)
        halvings += 1
        increment /= 2
        if halvings > max_halvings:
            raise SolverError(f"steady solve failed at control fraction {goal:.4g} ({stats.reason}); "
                              "use more continuation_steps")
