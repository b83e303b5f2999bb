"""Terminal (external-circuit) current of an electrode during a transient Nernst–Planck–Poisson run.

The total current density, conduction plus displacement, is divergence-free (charge conservation with
Gauss's law):

    i_tot = F sum_i z_i J_i - eps d(grad phi)/dt          [A/m^2],    div i_tot = 0.

The current into the domain through an electrode (A in 3D, A/m in 2D, A/m^2 in 1D) is its discrete flux

    I = -int i_tot . grad(psi) dx = d/dt int eps grad(phi) . grad(psi) dx - int F sum_i z_i J_i . grad(psi) dx

with psi = 1 at the electrode's dofs and 0 at every other dof
(:meth:`~femiec.problems.npp.smallsignal.NppSmallSignal.contact_indicator`). The time derivative is the
one of the step just taken (backward Euler or variable-step BDF2 with the problem's step and ratio), so
where the discrete equations hold, I equals the electrode's conduction current plus the rate of its charge
(I = I_faradaic + dQ/dt, :meth:`~femiec.problems.npp.smallsignal.NppSmallSignal.charge_form`), and the
currents of two electrodes of a closed circuit are equal and opposite, to the solver tolerance.
"""
from __future__ import annotations

import numpy as np
import ufl

from femiec.forms.time import bdf2


class TerminalCurrent:
    """I(t) [A; A/m^2 in 1D] into the domain through ``electrode`` (module docstring), recorded at each
    accepted step: pass :meth:`record` as (or call it from) the run's ``on_step``.

    Attributes: ``times`` [s], ``voltages`` (the electrode's applied potential) [V], ``currents`` [A]
    (None at the start of the run, where no step gives a rate), ``charges`` int eps grad(phi) . grad(psi)
    dx [C].
    """

    def __init__(self, problem, electrode: str):
        from dolfinx import fem

        psi = problem.contact_indicator(electrode)
        eps = problem.permittivity_factor * problem.permittivity
        self._displacement = fem.form(ufl.inner(eps * ufl.grad(problem._now.potential), ufl.grad(psi)) * problem.dx)
        self._conduction = fem.form(problem.conduction_form(electrode))
        self.problem, self.electrode = problem, electrode
        self.times, self.voltages, self.currents, self.charges = [], [], [], []

    def record(self, t: float) -> None:
        """Append the state at time ``t`` [s] (call after each accepted step, and at the start)."""
        p = self.problem
        charge = p._integrate(self._displacement)
        current = None
        if self.charges:  # the rate of the step just taken: its dt and step ratio are still in the forms
            before = self.charges[-2] if len(self.charges) > 1 else 0.0
            rate = bdf2(charge, self.charges[-1], before, float(p.dt.value), float(p.step_ratio.value))
            current = p._integrate(self._conduction) + rate
        self.times.append(float(t))
        self.voltages.append(p.electrode_potential(self.electrode))
        self.currents.append(current)
        self.charges.append(charge)

    def history(self) -> dict:
        """The recorded lists (JSON-serialisable), what a checkpoint keeps so a restarted run's recorder
        (:meth:`continue_from`) continues them: the next rate needs the last two charges."""
        return {"times": self.times, "voltages": self.voltages, "currents": self.currents, "charges": self.charges}

    def continue_from(self, history: dict) -> None:
        """Take the lists of :meth:`history` (of the run before a restart) as this recorder's own."""
        self.times, self.voltages, self.currents, self.charges = (list(history[k]) for k in
                                                                  ("times", "voltages", "currents", "charges"))


def lobe_area(voltages, currents, points: int = 401) -> float:
    """Area int |I_rise(V) - I_fall(V)| dV [A V; W/m^2 in 1D] of one lobe of a pinched hysteresis loop:
    ``voltages`` [V] and ``currents`` [A] over a half cycle, V going from 0 to its extreme and back to 0
    monotonically on each branch; the branches (split at the extreme) are interpolated linearly on
    ``points`` common voltages. A self-crossing lobe counts both parts positive."""
    V, current = np.asarray(voltages, dtype=float), np.asarray(currents, dtype=float)
    k = int(np.argmax(np.abs(V)))
    grid = np.linspace(0.0, abs(V[k]), points)
    rise = np.interp(grid, np.abs(V[:k + 1]), current[:k + 1])
    fall = np.interp(grid, np.abs(V[k:])[::-1], current[k:][::-1])
    return float(np.trapezoid(np.abs(rise - fall), grid))
