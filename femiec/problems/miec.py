"""Electroneutral mixed ionic-electronic conductor (MIEC): steady, transient and small-signal solves
(docs/mixed_conductors.md; forms in :mod:`femiec.forms.miec`, conditions in
:mod:`femiec.problems.miec_conditions`).

Unknowns: u = ln(n / n_ref) and psi_el [V], each on its own Lagrange space of the whole mesh (a blocked
system: rows [F_ion, F_tot], the ionic and the total-charge balance). The material is any object with the
methods of femiec.materials.defects.DefectChemistry (vacancies, holes, log_oxygen_pressure,
ionic_conductivity, electronic_conductivity of (n, T) in UFL, electrons_at(pO2, T) in NumPy). The
temperature T [K] is uniform. The initial state is uniform equilibrium with ``oxygen_pressure`` [Pa] at
psi_el = the first contact's voltage (0 without contacts).

Not :class:`femiec.problems.mixed_conduction.MixedConductionProblem`: that is the linear two-rail line
with constant coefficients and an interface exchange; here the rails are coupled by the oxygen
stoichiometry, the coefficients depend on it and the chemical capacitance C_chem replaces C_dl (the
linearisation about uniform equilibrium is that line with z_f = 1/(i omega C_chem), Jamnik & Maier).
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import ufl
from mpi4py import MPI

from femiec.constants import FARADAY
from femiec.errors import InputError, SolverError
from femiec.forms import miec as forms
from femiec.forms.time import bdf2
from femiec.problems.base import StagedProblem, global_integral, start_transient
from femiec.problems.miec_checkpoint import MiecCheckpoint
from femiec.problems.miec_conditions import (IONIC_CONDITIONS, ElectrolyteContact, ElectronicContact,
                                             OxygenPressure, PorousElectrode, SurfaceExchange)

#: block names of the unknowns (fieldsplit fields)
BLOCKS = ("u", "psi_el")


class MixedConductorProblem(MiecCheckpoint, StagedProblem):
    """The electroneutral MIEC of the module docstring on a tagged mesh, built at the end of the constructor.

    Args:
        meshdata: :class:`femiec.meshing.base.MeshData` with facet tags naming the faces of ``conditions``.
        material: the defect chemistry (module docstring).
        temperature: T [K].
        oxygen_pressure: pO2 [Pa] of the initial uniform equilibrium.
        conditions: ElectronicContact, OxygenPressure, SurfaceExchange, ElectrolyteContact objects.
        porous: a :class:`PorousElectrode` (the mesh is a homogenised porous MIEC with a volumetric
            exchange with the gas in its pores), or None (dense).
        reference_concentration: n_ref [mol/m^3] (default: n of the initial state, so u = 0 there).
        degree: Lagrange degree (1 or 2).
        preset, petsc_options: the Newton solver's linear-solver preset (``direct``, ``iterative``,
            ``fieldsplit`` with the blocks u and psi_el) and extra PETSc options (prefix ``femiec_miec_``).
        newton_tolerance: tolerance of the Newton update (max norm of u [-] and psi_el [V]).
    """

    options_prefix = "femiec_miec_"

    def __init__(self, meshdata, material, *, temperature: float, oxygen_pressure: float, conditions=(),
                 reference_concentration: float | None = None, degree: int = 1, preset: str = "direct",
                 petsc_options: dict | None = None, newton_tolerance: float = 1e-10,
                 porous: PorousElectrode | None = None):
        self.meshdata, self.mesh, self.material = meshdata, meshdata.mesh, material
        for key, value in (("model.temperature", temperature), ("model.oxygen_pressure", oxygen_pressure)):
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
                raise InputError(key, value, "a positive number (SI units)")
        if degree not in (1, 2):
            raise InputError("model.degree", degree, "1 or 2")
        self.temperature, self.oxygen_pressure, self.degree = float(temperature), float(oxygen_pressure), degree
        self.conditions = list(conditions)
        self._validate_conditions()
        if porous is not None and not isinstance(porous, PorousElectrode):
            raise InputError("porous", porous, "a PorousElectrode or None")
        if porous is not None:
            porous.validate()
        self.porous = porous
        n0 = float(material.electrons_at(np.array([oxygen_pressure]), temperature)[0])
        self.reference_concentration = n0 if reference_concentration is None else float(reference_concentration)
        self.initial_electrons = n0
        self.preset, self.petsc_options, self.newton_tolerance = preset, petsc_options, newton_tolerance
        self.records: list[dict] = []
        # the transient's time [s], accepted steps, last step [s], the stepper's schedule and the error
        # controller's history after the last accepted step; ``resumed``: the checkpoint's state restarted
        # from, until run() uses it (femiec.problems.miec_checkpoint)
        self.time, self.step, self.dt_previous = 0.0, 0, None
        self.schedule: dict | None = None
        self.error_history: dict | None = None
        self.resumed: dict | None = None
        self.build()

    def _validate_conditions(self) -> None:
        ionic_faces, contact_faces = set(), set()
        for condition in self.conditions:
            if not isinstance(condition, (ElectronicContact, *IONIC_CONDITIONS)):
                raise InputError("conditions", condition, "ElectronicContact, OxygenPressure, SurfaceExchange or "
                                 "ElectrolyteContact objects")
            condition.validate()
            faces = contact_faces if isinstance(condition, ElectronicContact) else ionic_faces
            tag = self.meshdata.facet_id(condition.face, f"conditions.{condition.face}")
            if tag in faces:
                raise InputError(f"conditions.{condition.face}", type(condition).__name__,
                                 "at most one ionic condition and one electronic contact per face")
            faces.add(tag)

    # ------------------------------------------------------------------------------------------ stages
    def build_spaces(self) -> None:
        """Two Lagrange spaces (u, psi_el) on the mesh and the measures."""
        from dolfinx import fem

        self.spaces = [fem.functionspace(self.mesh, ("Lagrange", self.degree)) for _ in BLOCKS]
        self.dx = ufl.Measure("dx", domain=self.mesh)
        self.ds = ufl.Measure("ds", domain=self.mesh, subdomain_data=self.meshdata.facet_tags)

    def build_coefficients(self) -> None:
        """T, n_ref, the time-step constants and the state functions (u, psi_el and the two previous steps)."""
        from dolfinx import fem

        self.T = fem.Constant(self.mesh, self.temperature)
        self.n_ref = fem.Constant(self.mesh, self.reference_concentration)
        self.dt, self.step_ratio = fem.Constant(self.mesh, 1.0), fem.Constant(self.mesh, 0.0)
        self.transient = fem.Constant(self.mesh, 0.0)
        self.u = [fem.Function(V, name=name) for V, name in zip(self.spaces, BLOCKS)]
        self.u_n = fem.Function(self.spaces[0])
        self.u_nm1 = fem.Function(self.spaces[0])

    def local(self, u=None) -> dict:
        """The local quantities as UFL of the log unknown ``u`` (default: the present one): n, p, v
        [mol/m^3], lnp = ln(pO2/p_ref), sigma_ion, sigma_el [S/m]."""
        u = self.u[0] if u is None else u
        m, T = self.material, self.T
        n = forms.electron_concentration(u, self.n_ref)
        return {"n": n, "p": m.holes(n, T), "v": m.vacancies(n, T), "lnp": m.log_oxygen_pressure(n, T),
                "sigma_ion": m.ionic_conductivity(n, T), "sigma_el": m.electronic_conductivity(n, T)}

    def build_conditions(self) -> None:
        """Constants of every condition, the Dirichlet conditions (fixed pO2 on u, contacts on psi_el) and
        the initial uniform equilibrium."""
        from dolfinx import fem

        fdim = self.mesh.topology.dim - 1
        self.bcs, self.values = [], {}
        for c in self.conditions:
            tag = self.meshdata.facet_id(c.face)
            if isinstance(c, ElectronicContact):
                self.values[("voltage", tag)] = value = fem.Constant(self.mesh, float(c.voltage))
                block = 1
            elif isinstance(c, OxygenPressure):
                self.values[("log_electrons", tag)] = value = fem.Constant(self.mesh, self._log_electrons(c.pressure))
                block = 0
            elif isinstance(c, SurfaceExchange):
                self.values[("gas_lnp", tag)] = fem.Constant(self.mesh, float(np.log(c.pressure / 1e5)))
                continue
            else:
                self.values[("electrolyte", tag)] = fem.Constant(self.mesh, float(c.potential))
                continue
            dofs = fem.locate_dofs_topological(self.spaces[block], fdim, self.meshdata.facet_tags.find(tag))
            self.bcs.append(fem.dirichletbc(value, dofs, self.spaces[block]))
        if self.porous is not None:
            self.values[("gas_lnp", "porous")] = fem.Constant(self.mesh, float(np.log(self.porous.pressure / 1e5)))
        contacts = [c for c in self.conditions if isinstance(c, ElectronicContact)]
        self.u[0].x.array[:] = self._log_electrons(self.oxygen_pressure)
        self.u[1].x.array[:] = contacts[0].voltage if contacts else 0.0
        self.u_n.x.array[:] = self.u[0].x.array
        self.u_nm1.x.array[:] = self.u[0].x.array

    def _log_electrons(self, pressure: float) -> float:
        """u = ln(n(pO2) / n_ref) at pO2 = ``pressure`` [Pa] (the material's electrons_at)."""
        n = float(self.material.electrons_at(np.array([pressure]), self.temperature)[0])
        return float(np.log(n / self.reference_concentration))

    def boundary_fluxes(self, u=None, psi_el=None) -> tuple[dict, dict]:
        """({tag: g_ion}, {tag: g_tot}): outward ionic and total current densities [A/m^2] of the natural
        conditions (surface exchange, electrolyte transfer) at the state (u, psi_el)."""
        u, psi_el = (self.u[0] if u is None else u), (self.u[1] if psi_el is None else psi_el)
        lnp = self.local(u)["lnp"]
        ionic, total = {}, {}
        for c in self.conditions:
            tag = self.meshdata.facet_id(c.face)
            if isinstance(c, SurfaceExchange):
                delta = forms.oxygen_potential_difference(lnp, self.values[("gas_lnp", tag)], self.T)
                ionic[tag] = (forms.surface_exchange_current(delta, c.resistance) if c.resistance is not None else
                              forms.butler_volmer_exchange_current(delta, c.exchange_rate, c.transfer_coefficient,
                                                                   self.T))
            elif isinstance(c, ElectrolyteContact):
                psi_ion = forms.ionic_potential(psi_el, lnp, self.T)
                ionic[tag] = total[tag] = forms.electrolyte_transfer_current(
                    psi_ion, self.values[("electrolyte", tag)], c.resistance)
        return ionic, total

    def effective_conductivities(self, q: dict) -> tuple:
        """(sigma_ion, sigma_el) [S/m] of the local quantities ``q`` (:meth:`local`), times (1 - eps)/tau
        and (1 - eps)/tau_el in a porous MIEC."""
        if self.porous is None:
            return q["sigma_ion"], q["sigma_el"]
        return self.porous.ionic_factor * q["sigma_ion"], self.porous.electronic_factor * q["sigma_el"]

    def in_solid(self, density):
        """A per-solid-volume ``density`` (UFL) per electrode volume: (1 - eps) density in a porous MIEC,
        ``density`` itself when dense."""
        return density if self.porous is None else (1 - self.porous.porosity) * density

    def exchange_density(self, u=None):
        """The volumetric exchange q_x = a i_x [A/m^3] of a porous MIEC at ``u`` (default: the present
        state; i_x the linear or Butler-Volmer exchange of femiec.forms.miec with the pore gas), None when
        dense."""
        c = self.porous
        if c is None:
            return None
        delta = forms.oxygen_potential_difference(self.local(u)["lnp"], self.values[("gas_lnp", "porous")], self.T)
        i_x = (forms.surface_exchange_current(delta, c.resistance) if c.resistance is not None else
               forms.butler_volmer_exchange_current(delta, c.exchange_rate, c.transfer_coefficient, self.T))
        return c.specific_surface * i_x

    def residual_forms(self, vacancy_rate) -> list:
        """[F_ion, F_tot] (femiec.forms.miec.miec_residual) at the present state with dv/dt =
        ``vacancy_rate`` (UFL or None; times the solid fraction)."""
        q = self.local()
        psi_ion = forms.ionic_potential(self.u[1], q["lnp"], self.T)
        ionic, total = self.boundary_fluxes()
        rate = None if vacancy_rate is None else self.in_solid(vacancy_rate)
        return forms.miec_residual(*self.effective_conductivities(q), psi_ion, self.u[1], rate, *self.tests,
                                   self.dx, self.ds, ionic, total, exchange=self.exchange_density())

    def build_residual(self) -> None:
        """The residual with the BDF2 vacancy rate times ``transient`` (0: steady) and the steady one."""
        self.tests = [ufl.TestFunction(V) for V in self.spaces]
        v = [self.local(w)["v"] for w in (self.u[0], self.u_n, self.u_nm1)]
        self.residual = self.residual_forms(self.transient * bdf2(*v, self.dt, self.step_ratio))
        self.steady = self.residual_forms(None)

    def storage_residual(self, rates) -> list:
        """[2F (1 - eps) (dv/du) du/dt w1 dx, None]: the storage form for the rates ``rates`` =
        [du/dt, dpsi_el/dt] (eps = 0 when dense)."""
        x = ufl.variable(self.u[0])
        dv_du = ufl.diff(self.local(x)["v"], x)
        return [2 * FARADAY * self.in_solid(dv_du) * rates[0] * self.tests[0] * self.dx, None]

    def build_solver(self) -> None:
        """Newton (femiec.solvers.NonlinearSolver), converged on the update (UpdateConvergence)."""
        from femiec.solvers import NonlinearSolver, UpdateConvergence

        convergence = UpdateConvergence(self.newton_tolerance, error_estimate=True)
        options = {"snes_max_it": 50, **(self.petsc_options or {})}
        self.solver = NonlinearSolver(self.residual, self.u, self.bcs, preset=self.preset, petsc_options=options,
                                      prefix=self.options_prefix, fields=list(BLOCKS), convergence_test=convergence)

    # ------------------------------------------------------------------------------------ controls
    def set_voltage(self, face, voltage: float) -> None:
        """psi_el [V] of the electronic contact on ``face`` (applied by the next solve)."""
        self._value("voltage", face).value = float(voltage)

    def set_oxygen_pressure(self, face, pressure: float) -> None:
        """pO2 [Pa] of the fixed-pO2 or surface-exchange condition on ``face``."""
        if not (np.isfinite(pressure) and pressure > 0):
            raise InputError(f"conditions.{face}.pressure", pressure, "a positive pressure [Pa]")
        tag = self.meshdata.facet_id(face)
        if ("gas_lnp", tag) in self.values:
            self.values[("gas_lnp", tag)].value = float(np.log(pressure / 1e5))
        else:
            self._value("log_electrons", face).value = self._log_electrons(pressure)

    def _value(self, kind: str, face):
        key = (kind, self.meshdata.facet_id(face))
        if key not in self.values:
            raise InputError("face", face, f"a face with a condition that sets its {kind.replace('_', ' ')}")
        return self.values[key]

    # ------------------------------------------------------------------------------------- solving
    def solve_steady(self) -> dict:
        """The steady state at the present conditions (Newton from the present state); a SolverError names
        the reason. Without any ionic condition the oxygen content is fixed by the present state and the
        steady system is singular: then the steady state is reached by backward-Euler steps of 1e4
        chemical-diffusion times (which keep the oxygen content)."""
        closed = self.porous is None and not any(isinstance(c, IONIC_CONDITIONS) for c in self.conditions)
        self.transient.value, self.step_ratio.value = (1.0 if closed else 0.0), 0.0
        self.dt.value = 1e4 * self.diffusion_time()
        for _ in range(5 if closed else 1):
            self.u_n.x.array[:] = self.u[0].x.array
            stats = self.solver.solve(check=False)
            if not stats.converged:
                raise SolverError(f"MIEC steady solve did not converge: {stats.reason} after "
                                  f"{stats.newton_iterations} Newton iterations (residual {stats.residual_norm:.3e});"
                                  f" options prefix -{self.options_prefix}")
            if not closed or self._global_max(self.u[0].x.array - self.u_n.x.array) < self.newton_tolerance:
                break
        self.u_n.x.array[:] = self.u_nm1.x.array[:] = self.u[0].x.array
        self.records.append({"steady": True, **stats.as_dict()})
        return stats.as_dict()

    def diffusion_time(self) -> float:
        """tau = L^2 / D_chem [s] of the initial state, L the largest extent of the mesh, D_chem =
        sigma_amb / C_chem (the material's chemical_capacitance)."""
        m, n, T = self.material, self.initial_electrons, self.temperature
        s_i, s_e = m.ionic_conductivity(n, T), m.electronic_conductivity(n, T)
        diffusivity = s_i * s_e / (s_i + s_e) / m.chemical_capacitance(n, T)
        x, comm = self.mesh.geometry.x, self.mesh.comm
        extent = max(comm.allreduce(x[:, k].max(), op=MPI.MAX) - comm.allreduce(x[:, k].min(), op=MPI.MIN)
                     for k in range(3))
        return extent ** 2 / diffusivity

    def _global_max(self, values) -> float:
        return self.mesh.comm.allreduce(float(np.max(np.abs(values), initial=0.0)), op=MPI.MAX)

    def run(self, t_end: float, dt: float | None = None, scheme: str = "bdf2", on_step=None,
            error_tolerance: float | None = None, dt_min: float | None = None, dt_max: float | None = None,
            after_step=None, **stepper_options) -> list[dict]:
        """Transient solve from the present state to ``t_end`` [s] with adaptive steps [s] (first ``dt``;
        femiec.solvers.AdaptiveTimeStepper, bounds ``dt_min``, ``dt_max``): ``scheme`` "bdf1" (backward
        Euler) or "bdf2" (variable-step; the first step and a step more than 1 + sqrt(2) times its
        predecessor are backward Euler).
        Without ``error_tolerance`` (the default) a step grows after easy Newton solves; with it = tol [-]
        the steps follow the local error estimate of the mean log electron concentration
        <u> = int u dx / |Omega| (:meth:`mean_log_electrons`; tol is a relative change of n, e.g. 1e-3 =
        0.1%) against the predictor through the last accepted steps
        (femiec.solvers.error_control.LocalErrorControl, of the step's order): a step with err > tol is
        redone shorter, the next step is dt 0.9 (tol/err)^(1/(p+1)) (between 0.2 dt and 2 dt).
        The run starts at t = 0 (step 0), or after :meth:`restart` at the checkpoint's time, continuing its
        schedule: ``dt``, ``dt_min`` and ``dt_max`` default to the checkpoint's (the step the controller
        wanted next), the first BDF2 step uses the step before and the error controller its history, so
        the resumed run takes the steps of the uninterrupted one; step numbers continue.
        ``on_step(t, dt)`` is called after each accepted step with the step's storage still in the residual
        (fluxes of the step); ``after_step()`` then, once ``self.time``, ``self.step``, ``self.schedule`` and
        the previous states are updated (a checkpoint written there holds the step). Returns this run's
        step records (also appended to ``self.records``; ``step`` counts from t = 0)."""
        from femiec.forms.time import bdf2_step_ratio
        from femiec.solvers import AdaptiveTimeStepper
        from femiec.solvers.error_control import LocalErrorControl

        resumed, dt, dt_min, dt_max = start_transient(self, scheme, dt, dt_min, dt_max)
        control = None if error_tolerance is None else LocalErrorControl(
            error_tolerance, self.mean_log_electrons, order=lambda: 2 if self.step_ratio.value > 0 else 1)
        if control is not None and self.error_history is not None:  # the outputs of the steps before
            control.resume(self.error_history)
        stepper = AdaptiveTimeStepper(dt, t_end, t0=self.time, dt_min=dt_min, dt_max=dt_max, comm=self.mesh.comm,
                                      name="miec step", error_control=control, **stepper_options)
        self.transient.value = 1.0
        self.u_n.x.array[:] = self.u[0].x.array
        start = [u.x.array.copy() for u in self.u]
        first = len(self.records)

        def advance(t, step):
            self.dt.value = step
            self.step_ratio.value = bdf2_step_ratio(step, self.dt_previous) if scheme == "bdf2" else 0.0
            start[:] = [u.x.array.copy() for u in self.u]
            return self.solver.solve(check=False)

        def reject():
            for u, values in zip(self.u, start):
                u.x.array[:] = values

        def accept(t_new, step, stats):
            if on_step is not None:
                on_step(t_new, step)
            self.u_nm1.x.array[:] = self.u_n.x.array
            self.u_n.x.array[:] = self.u[0].x.array
            self.time, self.dt_previous, self.step = t_new, step, self.step + 1
            self.schedule = stepper.schedule()
            if control is not None:
                self.error_history = control.history()
            self.records.append({**vars(stepper.records[-1]), "step": self.step})
            if after_step is not None:
                after_step()

        stepper.run(advance, accept, reject)
        return self.records[first:]

    # -------------------------------------------------------------------------------- diagnostics
    def face_test_function(self, face, block: int = 0):
        """A Function of block ``block``'s space equal to 1 on the dofs of ``face`` and 0 elsewhere: the test
        function of a consistent (residual-based) boundary flux."""
        from dolfinx import fem

        tag = self.meshdata.facet_id(face)
        w = fem.Function(self.spaces[block])
        dofs = fem.locate_dofs_topological(self.spaces[block], self.mesh.topology.dim - 1,
                                           self.meshdata.facet_tags.find(tag))
        w.x.array[dofs] = 1.0
        return w

    def _dirichlet(self, kind: str, face) -> bool:
        return (kind, self.meshdata.facet_id(face)) in self.values

    def ionic_current(self, face) -> float:
        """int i_ion . n ds [A] through ``face`` (outward). On a fixed-pO2 face the consistent flux
        -F_ion(w_face) (the ionic residual tested with the face's indicator, with the storage of the present
        step), else the natural flux of its condition (0 when ion-blocking)."""
        if self._dirichlet("log_electrons", face):
            return -global_integral(ufl.replace(self.residual[0], {self.tests[0]: self.face_test_function(face, 0)}),
                                    self.mesh.comm)
        g = self.boundary_fluxes()[0].get(self.meshdata.facet_id(face))
        return 0.0 if g is None else global_integral(g * self.ds(self.meshdata.facet_id(face)), self.mesh.comm)

    def oxygen_flux(self, face) -> float:
        """O2 leaving the MIEC through ``face`` [mol/s]: j_O2 = -int i_ion . n ds / (4F)."""
        return -self.ionic_current(face) / (4 * FARADAY)

    def current_form(self, face):
        """The total current [A] into the MIEC through the electronic contact ``face``: the total-charge
        row (which has no storage term) tested with the face's indicator, F_tot(w_face) (a UFL form)."""
        self._value("voltage", face)
        return ufl.replace(self.steady[1], {self.tests[1]: self.face_test_function(face, 1)})

    def current(self, face) -> float:
        """Total current [A] into the MIEC through ``face``: an electronic contact's
        (:meth:`current_form`), else minus the outward natural flux (electrolyte transfer; 0 otherwise)."""
        tag = self.meshdata.facet_id(face)
        if self._dirichlet("voltage", face):
            return global_integral(self.current_form(face), self.mesh.comm)
        g = self.boundary_fluxes()[1].get(tag)
        return 0.0 if g is None else -global_integral(g * self.ds(tag), self.mesh.comm)

    def vacancy_amount(self) -> float:
        """int (1 - eps) v dx [mol] (eps = 0 when dense; the oxygen content is the lattice's minus this, in O
        atoms). Integrated as int v 1_h dx with 1_h = 1 in the test space, so with the quadrature of the storage term int v w1 dx:
        the content then changes by exactly the discrete boundary fluxes (the test functions sum to 1)."""
        from dolfinx import fem

        one = fem.Function(self.spaces[0])
        one.x.array[:] = 1.0
        return global_integral(self.in_solid(self.local()["v"]) * one * self.dx, self.mesh.comm)

    def mean_log_electrons(self) -> float:
        """<u> = int u dx / |Omega| [-], u = ln(n / n_ref): the output whose local error controls the steps
        of :meth:`run` with ``error_tolerance`` (a change d<u> is a mean relative change dn / n)."""
        u, volume = (global_integral(f, self.mesh.comm) for f in self._mean_u_forms)
        return u / volume

    @cached_property
    def _mean_u_forms(self):
        """The compiled int u dx and int 1 dx of :meth:`mean_log_electrons`."""
        from dolfinx import fem

        return fem.form(self.u[0] * self.dx), fem.form(fem.Constant(self.mesh, 1.0) * self.dx)

    def exchange_current(self) -> float:
        """int q_x dx [A]: the ionic current of the oxygen incorporated from the pores of a porous MIEC
        (O2 taken up: this / (4F) [mol/s]); 0 when dense."""
        q = self.exchange_density()
        return 0.0 if q is None else global_integral(q * self.dx, self.mesh.comm)

    def oxygen_content(self) -> float:
        """Oxygen in the MIEC relative to the filled lattice [mol O2]: -int v dx / 2."""
        return -self.vacancy_amount() / 2

    def face_area(self, face) -> float:
        from dolfinx import fem

        return global_integral(fem.Constant(self.mesh, 1.0) * self.ds(self.meshdata.facet_id(face)), self.mesh.comm)

    # ------------------------------------------------------------------------------------- outputs
    def output_fields(self) -> dict:
        """``{name: (Function, unit)}`` for femiec.io.fields.FieldWriter, filled with the present state:
        electrons, vacancies, holes [mol/m^3], log_oxygen_pressure ln(pO2/p_ref) [-], ionic_potential,
        electronic_potential [V] (nodal), ionic_current, electronic_current [A/m^2] (cellwise, DG of
        degree - 1; effective, superficial densities in a porous MIEC, which also gives exchange_current q_x
        [A/m^3], nodal)."""
        from dolfinx import fem

        from femiec._compat import interpolation_points

        q = self.local()
        psi_ion = forms.ionic_potential(self.u[1], q["lnp"], self.T)
        scalars = {"electrons": (q["n"], "mol/m^3"), "vacancies": (q["v"], "mol/m^3"), "holes": (q["p"], "mol/m^3"),
                   "log_oxygen_pressure": (q["lnp"], "1"), "ionic_potential": (psi_ion, "V"),
                   "electronic_potential": (self.u[1], "V")}
        if self.porous is not None:
            scalars["exchange_current"] = (self.exchange_density(), "A/m^3")
        sigma_ion, sigma_el = self.effective_conductivities(q)
        gdim = self.mesh.geometry.dim
        vector = fem.functionspace(self.mesh, ("Discontinuous Lagrange", self.degree - 1, (gdim,)))
        vectors = {"ionic_current": (forms.ionic_current(sigma_ion, psi_ion), "A/m^2"),
                   "electronic_current": (forms.electronic_current(sigma_el, self.u[1]), "A/m^2")}
        out = {}
        for group, space in ((scalars, self.spaces[0]), (vectors, vector)):
            for name, (expr, unit) in group.items():
                f = fem.Function(space, name=name)
                f.interpolate(fem.Expression(expr, interpolation_points(space)))
                out[name] = (f, unit)
        return out

    # ------------------------------------------------------------------------------------ impedance
    def impedance_port(self, contact):
        """The voltage-driven :class:`femiec.studies.impedance.ImpedancePort` about the present (steady)
        state: input psi_el [V] of the electronic contact ``contact``, output the total current [A] into
        the MIEC there (:meth:`current_form`, the consistent flux); Z = V / I [Ohm]."""
        from femiec.studies.impedance import ImpedancePort

        voltage = self._value("voltage", contact)

        def set_input(value: float) -> None:
            voltage.value = value

        def fields(functions):
            return {"electron_log_concentration": (functions[0], "1"), "electronic_potential": (functions[1], "V")}

        return ImpedancePort(
            residual=self.steady, unknowns=self.u, bcs=self.bcs, storage=self.storage_residual,
            set_input=set_input, input_value=float(voltage.value), input_step=1e-4, output=self.current_form(contact),
            drive="voltage", area=self.face_area(contact), fields=fields,
            description=f"MIEC: voltage on the electronic contact {contact}, total current into it")
