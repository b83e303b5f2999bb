"""Small-signal pieces of a Nernst–Planck–Poisson problem (a mixin of the problem class).

A linearization about a steady state u0, for an impedance Z(omega) = output / input, needs

    J = dF/du (u0)        from :attr:`steady_residual` F(u; v) (no time derivative),
    M                     the derivative of :meth:`storage_form` (storage_rates(w)) with respect to w,
    input                 :meth:`control_input`: the applied potential of an electrode (a Constant),
    output                :meth:`current_form`: the electrode's current as a UFL functional of u,

and solves (J + i omega M) du = -dF/dV dV. The time-stepping residual is ``storage_form()`` +
``steady_residual`` (BDF2 rates). :meth:`~NppSmallSignal.impedance_port` assembles these pieces, with the
rate of the electrode charge :meth:`~NppSmallSignal.charge_form`, into the port of an impedance study
(femiec.studies.impedance).
"""
from __future__ import annotations

import numpy as np
import ufl

from femiec.constants import FARADAY
from femiec.errors import InputError
from femiec.forms.nernst_planck import apply_tensor
from femiec.forms.poisson import charge_density, poisson_residual


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

    def _electrode(self, name: str):
        """The :class:`~femiec.problems.npp_conditions.Electrode` called ``name`` (InputError otherwise)."""
        e = next((e for e in self.electrodes if e.name == name), None)
        if e is None:
            raise InputError("electrode", name, f"one of the electrodes {sorted(self.electrode_voltage)}")
        return e

    def current_form(self, electrode: str):
        """The output functional: the total anodic (faradaic) current of ``electrode`` [A in 3D; A/m in 2D;
        A/m^2 in 1D] as a UFL form of the state, int sum_r i_r ds over its facets, or int F J_n . n ds of a
        thermionic contact (None without either)."""
        e = self._electrode(electrode)
        contact = self.thermionic_contact(electrode)
        if not e.reactions and contact is None:
            return None
        density = sum(self.reaction_current(e, r) for r in e.reactions)
        if contact is not None:
            density = density + FARADAY * self.thermionic_flux(contact, self._now)
        return density * self._facet_measure(e.facets)

    def impedance_port(self, electrode: str, counter: str | None = None, input_step: float | None = None,
                       current: str = "faradaic"):
        """The voltage-driven :class:`~femiec.studies.impedance.ImpedancePort` of ``electrode`` about the
        present state, which must be steady at the bias (e.g. ``set_voltage(electrode, V0)`` and
        :meth:`solve_steady` first).

        Input: the applied potential V [V] of ``electrode`` (:meth:`set_electrode_voltage`: the forms and
        its Dirichlet condition), every other applied potential held at its steady value; with
        ``counter`` (another electrode) the cell voltage V - V_counter, the electrode moving by +dV/2 and
        the counter by -dV/2. Output: the current I through the electrode [A in 3D, A/m in 2D, A/m^2 in 1D],
        the total (external) current

            I = I_faradaic + dQ/dt,   I_faradaic = int sum_r i_r ds,
            Q = int eps grad(phi) . grad(psi) dx - int rho psi dx   (Poisson closure),

        psi the Lagrange function that is 1 at the electrode's potential dofs and 0 at every other dof: Q is
        the electrode's charge int eps dphi/dn ds as the discrete flux of the Poisson residual, exact to
        quadrature (a Dirichlet potential), and equal to int C_S (V - phi) ds (Stern layer), because the
        Poisson rows are steady. With ``counter``, I = (I_electrode - I_counter) / 2. The electroneutral
        closure has no charge (I = I_faradaic; a blocking electrode is refused).

        Units and sign: Z = 1 / H, H = dI/dV [A/V]: Ohm in 3D, Ohm m in 2D (per unit depth), Ohm m^2 in 1D
        (per unit area). ``area`` is the electrode's facet measure (m^2 in 3D, m in 2D, 1 in 1D: the 1D
        problem is per unit area), so ``Spectrum.area_specific`` is in Ohm m^2 in every dimension. The
        anodic current and the electrode charge both grow with V, so sign = +1 gives Re Z > 0. The residual
        rows are dimensionless and the unknowns are c / c_ref and phi / V_T, but F, I and Q are assembled
        with SI inputs and outputs, so H needs no further scale (input_scale = output_scale = 1).

        ``input_step``: the central-difference step of dF/dV [V] (default 1e-4 V_T; F is affine in V except
        through the kinetics).

        ``current = "terminal"`` (Poisson closure): the output is the whole current through the electrode,
        conduction plus displacement (Maxwell's total current, divergence-free),

            I = -int F sum_i z_i J_i . grad(psi) dx + d/dt int eps grad(phi) . grad(psi) dx,

        (:meth:`conduction_form` and :meth:`displacement_charge_form`), which also counts carriers that
        cross the electrode through a fixed concentration (an ohmic contact, femiec.problems.miec_poisson)
        rather than a reaction. Testing the species and Poisson residuals with psi shows that it equals
        I_faradaic + dQ/dt where both are defined.
        """
        from femiec.studies.impedance import ImpedancePort

        if self.heat is not None and not self.monolithic:
            raise InputError("model.temperature.coupling", "staggered",
                             "'monolithic' for a small-signal study (T must be an unknown of the linearization)")
        if counter == electrode:
            raise InputError("counter", counter, f"an electrode other than {electrode!r}")
        if current not in ("faradaic", "terminal"):
            raise InputError("current", current, '"faradaic" or "terminal"')
        if current == "terminal" and self.closure != "poisson":
            raise InputError("current", current, '"faradaic" under the electroneutral closure (no displacement '
                                                 'current)')
        names = [electrode] if counter is None else [electrode, counter]
        faradaic, charges = [], []
        for name in names:
            if current == "terminal":
                faradaic.append(self.conduction_form(name))
                charges.append(self.displacement_charge_form(name))
                continue
            faradaic.append(self.current_form(name))
            charges.append(self.charge_form(name) if self.closure == "poisson" else None)
            if faradaic[-1] is None and charges[-1] is None:
                raise InputError("electrode", name, "an electrode with reactions (a blocking electrode carries "
                                                    "no current under the electroneutral closure)")
        steady = {name: float(self.electrode_voltage[name].value) for name in names}
        if counter is None:
            def set_input(value):
                self.set_electrode_voltage(electrode, value)
            input_value, output, rate = steady[electrode], faradaic[0], charges[0]
        else:
            def set_input(value):
                shift = 0.5 * (value - input_value)
                self.set_electrode_voltage(electrode, steady[electrode] + shift)
                self.set_electrode_voltage(counter, steady[counter] - shift)
            input_value = steady[electrode] - steady[counter]
            output, rate = _half_difference(*faradaic), _half_difference(*charges)
        against = "the fixed potentials" if counter is None else f"electrode {counter!r}"
        return ImpedancePort(
            residual=self.steady_residual, unknowns=self.u, bcs=self.bcs, storage=lambda w: self.storage_form(
                self.storage_rates(w)), set_input=set_input, input_value=input_value,
            input_step=input_step or 1e-4 * self.scaling.potential, output=output, output_rate=rate,
            drive="voltage", sign=1.0, area=self._area(self._electrode(electrode).facets),
            fields=self.response_fields,
            description=f"NPP electrode {electrode!r} against {against}: Z = dV/dI (voltage-driven)")

    def response_fields(self, functions) -> dict:
        """``{name: (Function, unit)}``: the SI response per volt of input, dc_i [mol/m^3 per V] and dphi
        [V per V], of a small-signal solution part du (``functions``: [w] on the mixed space, the real or
        the imaginary part) about the present (steady) state: dc_i = c_ref,i dw_i, or c_i0 dw_i for
        log-concentration variables (c = c_ref exp(w)); dphi = V_T dw_phi."""
        from dolfinx import fem

        w = functions[0] if isinstance(functions, (list, tuple)) else functions
        n, out = len(self.species), {}
        for i, s in enumerate(self.species):
            dofs = self.subspaces[i][1]
            f = fem.Function(self.subspaces[i][0])
            slope = np.exp(self.u.x.array[dofs]) if self.variables == "log" else 1.0
            f.x.array[:] = self.species_scale[i] * slope * w.x.array[dofs]
            out[f"concentration_{s.name}"] = (f, "mol/m^3/V")
        phi = fem.Function(self.subspaces[n][0])
        phi.x.array[:] = self.scaling.potential * w.x.array[self.subspaces[n][1]]
        out["potential"] = (phi, "V/V")
        return out

    def charge_form(self, electrode: str):
        """The charge Q [C in 3D, C/m in 2D, C/m^2 in 1D] of ``electrode`` (Poisson closure) as a UFL form of
        the state: the discrete flux of the Poisson residual, int eps grad(phi) . grad(psi) dx - int rho psi
        dx, psi = 1 at the electrode's potential dofs and 0 elsewhere (= int eps dphi/dn ds; with a Stern
        layer = int C_S (V - phi) ds in a steady or linearized state)."""
        e = self._electrode(electrode)
        if self.closure != "poisson":
            raise InputError("electrode", electrode, "an electrode of a Poisson-closure problem (the electroneutral "
                                                     "closure has no electrode charge)")
        eps = self.permittivity_factor * self.permittivity
        rho = charge_density(self._now.concentrations, [s.charge for s in self.species], self.fixed_charge)
        return poisson_residual(self._now.potential, self.contact_indicator(e.name), eps, rho, self.dx)

    def displacement_charge_form(self, electrode: str):
        """int eps grad(phi) . grad(psi) dx [C in 3D, C/m in 2D, C/m^2 in 1D] (psi of :meth:`contact_indicator`,
        Poisson closure): the electrode charge plus the space charge the psi-weighted cells hold,
        Q + int rho psi dx, whose rate is the displacement current of :meth:`impedance_port`'s terminal
        current."""
        if self.closure != "poisson":
            raise InputError("electrode", electrode, "an electrode of a Poisson-closure problem")
        eps = self.permittivity_factor * self.permittivity
        return ufl.inner(apply_tensor(eps, ufl.grad(self._now.potential)),
                         ufl.grad(self.contact_indicator(electrode))) * self.dx

    def conduction_form(self, electrode: str):
        """The conduction current [A in 3D, A/m in 2D, A/m^2 in 1D] into the domain through ``electrode`` as a
        UFL form of the state: the discrete flux -int F sum_i z_i J_i . grad(psi) dx with psi of
        :meth:`contact_indicator` (the charge-weighted species residuals, in which the sources of a
        charge-neutral homogeneous reaction cancel). In a steady state it is the electrode's terminal
        current, and the currents of all electrodes sum to zero to the solver tolerance."""
        conduction = FARADAY * sum(float(s.charge) * flux for s, flux in zip(self.species, self.fluxes))
        return -ufl.inner(conduction, ufl.grad(self.contact_indicator(electrode))) * self.dx

    def contact_indicator(self, electrode: str):
        """psi: the Lagrange function (potential space) that is 1 at the dofs of ``electrode``'s facets and
        0 at every other dof; int X . grad(psi) dx of a divergence-free flux X is its discrete flux into the
        domain through the electrode (with a minus sign)."""
        from dolfinx import fem

        space = self.subspaces[len(self.species)][0]
        psi = fem.Function(space)
        psi.x.array[fem.locate_dofs_topological(space, self.mesh.topology.dim - 1,
                                                self._facet_entities(self._electrode(electrode).facets))] = 1.0
        return psi


def _half_difference(a, b):
    """(a - b) / 2 of two forms, either of which may be None (None if both are)."""
    if b is None:
        return None if a is None else 0.5 * a
    return -0.5 * b if a is None else 0.5 * (a - b)
