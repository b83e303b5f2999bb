"""Small-signal pieces of a Nernst–Planck–Poisson problem (a mixin of the problem class).

A linearization about a steady state u0, for an impedance Z(omega) = output / input, needs

    J = dF/du (u0)        from :attr:`steady_residual` F(u; v) (no time derivative),
    M                     the derivative of :meth:`storage_form` (storage_rates(w)) with respect to w,
    input                 :meth:`control_input`: the applied potential of an electrode (a Constant),
    output                :meth:`current_form`: the electrode's current as a UFL functional of u,

and solves (J + i omega M) du = -dF/dV dV. The time-stepping residual is ``storage_form()`` +
``steady_residual`` (BDF2 rates).
"""
from __future__ import annotations

import ufl

from femiec.errors import InputError


class NppSmallSignal:
    """The pieces of (J + i omega M) of :class:`~femiec.problems.npp.model.NernstPlanckPoisson`."""

    def storage_form(self, rates=None):
        """The M du/dt part of :attr:`residual`: with the rows' scales,

            sum_i int r_i v_i dx  (+ sum_i z_i int r_i v_phi dx, electroneutrality)  (+ int rho_cp r_T v_T dx)

        for rates ``rates`` = [dc_1/dt, ..., dc_N/dt (, dT/dt)] [mol/(m^3 s), K/s] (UFL). Default: the
        rates of time stepping (``transient`` times BDF2), so that :attr:`residual` = ``storage_form()`` +
        :attr:`steady_residual`. With ``rates = storage_rates(w)`` the form is linear in ``w`` and its
        derivative with respect to ``w`` is the mass matrix M of the linearization."""
        sc = self.scaling
        n = len(self.species)
        if rates is None:
            rates = self._time_rates()
            if self.monolithic:
                rates.append(self.heat._rate(self.thermal.symbols()))
        tests = self._tests
        eliminated = n - 1 if self.closure == "electroneutrality" else None
        F = 0
        for i in range(n):
            if i == eliminated:
                continue
            scale = sc.diffusivity * self.species_scale[i] * sc.length ** (sc.dim - 2)
            F += (1 / scale) * (rates[i] * tests[i] * self.dx)
        if self.closure == "electroneutrality":
            F += (1 / sc.transport_residual) * sum(float(s.charge) * (rates[i] * tests[n] * self.dx)
                                                   for i, s in enumerate(self.species))
        if self.monolithic and self.heat.rho_cp is not None:
            F += self.thermal.storage_rows(tests[n + 1], rates[n])
        return F

    def storage_rates(self, w) -> list:
        """[dc_1/dt, ..., dc_N/dt (, dT/dt)] (UFL, SI) when the mixed unknown changes at the rate ``w`` (a
        Function or TrialFunction on W): c_i = c_ref,i u_i (or c_ref,i exp(u_i) for log variables), T = T_ref
        u_T."""
        parts, rates = ufl.split(self.u), ufl.split(w)
        n = len(self.species)
        out = [self.species_scale[i] * (ufl.exp(parts[i]) * rates[i] if self.variables == "log" else rates[i])
               for i in range(n)]
        if self.monolithic:
            out.append(self.scaling.temperature * rates[n + 1])
        return out

    def control_input(self, electrode: str):
        """The applied potential V [V] of ``electrode`` as it enters the forms (kinetic overpotential,
        Stern layer): a ``dolfinx.fem.Constant`` the caller can set. An electrode imposed as a Dirichlet
        condition on phi (Poisson closure without Stern layer) also needs that condition moved: set both
        with ``set_electrode_voltage``."""
        if electrode not in self.electrode_voltage:
            raise InputError("electrode", electrode, f"one of the electrodes {sorted(self.electrode_voltage)}")
        return self.electrode_voltage[electrode]

    def set_electrode_voltage(self, electrode: str, voltage: float) -> None:
        """Put the potential V [V] of ``electrode`` into the forms and its Dirichlet condition (if any) now,
        bypassing the continuation of :meth:`set_voltage`."""
        self.control_input(electrode)
        self._set_electrode_voltage(electrode, voltage)

    def current_form(self, electrode: str):
        """The output functional: the total anodic (faradaic) current of ``electrode`` [A in 3D; A/m in 2D;
        A/m^2 in 1D] as a UFL form of the state, int sum_r i_r ds over its facets (None without reactions)."""
        e = next((e for e in self.electrodes if e.name == electrode), None)
        if e is None:
            raise InputError("electrode", electrode, f"one of the electrodes {sorted(self.electrode_voltage)}")
        if not e.reactions:
            return None
        density = sum(self.reaction_current(e, r) for r in e.reactions)
        return density * self._facet_measure(e.facets)
