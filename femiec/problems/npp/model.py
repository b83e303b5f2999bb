"""Coupled Nernst–Planck–Poisson problem: N mobile charged species, the potential, interface kinetics.

Model (SI units; see docs/nernst_planck_poisson.md):

    dc_i/dt + div J_i = s_i,    J_i = -D_i (grad c_i + z_i c_i F/(R T) grad phi + alpha_T,i c_i grad ln T)
    -div(eps grad phi) = F sum_i z_i c_i + rho_fixed                       (closure="poisson"), or
    sum_i z_i c_i + rho_fixed / F = 0 and div(sum_i z_i J_i) = 0            (closure="electroneutrality")

with fixed concentrations/potentials, prescribed fluxes, blocking facets and electrodes (Stern layer,
Butler–Volmer or Marcus–Hush–Chidsey reactions, potentiostatic or galvanostatic control), and
thermionic-emission (Schottky) contacts of electrons (:class:`~femiec.problems.npp_conditions.ThermionicContact`).

Temperature T [K]: a number, a UFL expression, a :class:`~femiec.problems.prescribed_temperature.PrescribedTemperature`
(constant, expression of (x, t), field from file) or a solved
:class:`~femiec.problems.thermal.HeatProblem` whose heat sources (Joule, i . E, electrode reaction heat;
:class:`~femiec.problems.npp_conditions.HeatSources`) come from this problem. A solved T is coupled
monolithically (T is one more unknown of the mixed space, one Newton for everything) or staggered
(Newton on the transport unknowns and a heat solve alternate until T changes by less than
``coupling_tolerance``). The thermal voltage R T/F in the fluxes and the kinetics is the local T; the
dimensionless potential phi / V_T and the Debye length use the reference temperature of the scaling (the
volume mean of a non-uniform T), which changes only the row and unknown scales, not the equations.

Discretization: one mixed Lagrange P1 or P2 space for (c_1..c_N, phi) with dimensionless unknowns
(:mod:`femiec.problems.scaling`). ``variables="log"`` uses w_i = ln(c_i / c_i,ref) as unknowns, which
keeps every concentration positive at any potential drop. Time: backward Euler or variable-step BDF2 with
adaptive steps; steady solves with continuation in the applied voltage and the Debye length.

Galvanostatic control: the electrode potential V is a scalar unknown fixed by the integral constraint
sum int i ds = I. It is eliminated by a secant iteration on V around the coupled Newton solve (each inner
solve is warm-started), i.e. the scalar Schur complement of the bordered system is approximated by the
secant slope. One galvanostatic electrode per problem.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import ufl

from femiec.constants import FARADAY, VACUUM_PERMITTIVITY
from femiec.errors import InputError
from femiec.forms.contacts import (interface_equilibrium_concentration, schottky_surface_potential,
                                   thermionic_emission_flux, thermionic_velocity)
from femiec.forms.kinetics import butler_volmer_current, marcus_hush_chidsey_current
from femiec.forms.nernst_planck import nernst_planck_flux, nernst_planck_residual, outward_flux_term
from femiec.forms.poisson import (charge_density, electroneutrality_residual, poisson_residual,
                                  stern_layer_term)
from femiec.forms.soret import soret_driving_force
from femiec.forms.time import bdf2
from femiec.problems.base import StagedProblem
from femiec.problems.npp.checkpoint import NppCheckpoint
from femiec.problems.npp.coefficients import coefficient, scalar_coefficient
from femiec.problems.npp.controls import Controls
from femiec.problems.npp.diagnostics import NppDiagnostics
from femiec.problems.npp.smallsignal import NppSmallSignal
from femiec.problems.npp.solving import NEWTON_OPTIONS, NppSolving
from femiec.problems.npp.validation import CLOSURES, COUPLINGS, VARIABLES, default_scaling, validate
from femiec.problems.npp_conditions import (Electrode, FixedConcentration, FixedPotential, HeatSources,
                                            SpeciesFlux, ThermionicContact)
from femiec.problems.scaling import Scaling
from femiec.problems.species import Species

__all__ = ["CLOSURES", "COUPLINGS", "NEWTON_OPTIONS", "VARIABLES", "NernstPlanckPoisson", "default_quadrature_degree"]


@dataclass
class _Unknowns:
    """UFL views of one state (current or previous) in SI units."""

    concentrations: list
    potential: object


class NernstPlanckPoisson(StagedProblem, NppSolving, NppDiagnostics, NppSmallSignal, NppCheckpoint):
    """Coupled transport of charged species and the electric potential on a tagged mesh.

    Args:
        meshdata: ``femiec.meshing.base.MeshData`` (coordinates in m).
        species: list of :class:`~femiec.problems.species.Species`.
        conditions: FixedConcentration, FixedPotential, SpeciesFlux and ThermionicContact conditions.
        electrodes: :class:`~femiec.problems.npp_conditions.Electrode` objects.
        temperature: T [K]: a number, a UFL expression, a PrescribedTemperature or a HeatProblem (solved;
            the problem adds its heat sources to it, so one HeatProblem serves one problem, and gives it
            this problem's quadrature degree unless it has its own).
        coupling: "monolithic" or "staggered" (solved temperature only).
        heat_sources: :class:`~femiec.problems.npp_conditions.HeatSources` (solved temperature; default:
            ionic and reaction heat, no electronic Joule term).
        coupling_tolerance: staggered coupling stops when max |T_new - T_old| / max T is below this value.
        relative_permittivity: eps_r (number, 3x3 matrix, mapping cell region -> value, or UFL);
            required for the Poisson closure.
        fixed_charge: rho_fixed [C/m^3] (number, mapping cell region -> number, or UFL).
        sources: species name -> volumetric source s_i [mol/(m^3 s)]: a number, UFL, or a callable
            (c, T) -> UFL of the state, c the mapping species name -> concentration [mol/m^3] (UFL) and
            T [K], for a homogeneous reaction (e.g. electron-hole generation and recombination).
        closure: "poisson" or "electroneutrality" (the last species is then fixed by electroneutrality).
        degree: 1 or 2 (Lagrange); variables: "concentration" or "log".
        scaling: reference scales (default: chosen from the mesh and the species).
        preset, petsc_options: linear-solver preset and PETSc options of the Newton solver
            (:class:`femiec.solvers.NonlinearSolver`, options prefix ``femiec_npp_``).
        initial_potential: initial potential [V] (number or callable x -> values).
        quadrature_degree: of every volume and facet integral (default 2 degree, :func:`default_quadrature_degree`),
            also used for the amounts, so that the discrete amounts are conserved to round-off.
        step_tolerance: Newton stops when the error estimate of the dimensionless unknowns (c / c_ref or
            ln(c / c_ref), phi / V_T; max-norm of the update, Deuflhard, femiec.solvers.UpdateConvergence)
            is below this value.

    Small-signal pieces (for a linearization J + i omega M about a steady state): :attr:`steady_residual`
    F(u; v) (no time derivative), :meth:`storage_form` (the M du/dt part), :meth:`control_input` (the
    applied potential of an electrode, a Constant) and :meth:`current_form` (an electrode's current as a
    UFL functional); :attr:`residual` (time stepping) = ``storage_form()`` + ``steady_residual``.

    Checkpoints of a transient run: :meth:`checkpoint` and :meth:`restart` (femiec.problems.npp.checkpoint);
    a :meth:`run` after :meth:`restart` continues the checkpoint's run.
    """

    #: PETSc options prefix of the Newton solver (command line: ``-femiec_npp_<option>``)
    options_prefix = "femiec_npp_"

    def __init__(self, meshdata, species: Sequence[Species], *, conditions=(), electrodes=(),
                 temperature=298.15, relative_permittivity=None, fixed_charge=None, sources=None,
                 closure: str = "poisson", degree: int = 1, variables: str = "concentration",
                 scaling: Scaling | None = None, preset: str = "direct", petsc_options: dict | None = None,
                 initial_potential=0.0, quadrature_degree: int | None = None, step_tolerance: float = 1e-10,
                 coupling: str = "monolithic", heat_sources: HeatSources | None = None,
                 coupling_tolerance: float = 1e-10, checks_only: bool = False):
        self.meshdata = meshdata
        # with checks_only ``meshdata`` may be the outline of an image mesh (tag names and counts, box,
        # smallest cell; femiec.meshing.image_outline): no DOLFINx mesh
        self.mesh = getattr(meshdata, "mesh", None)
        self.species = list(species)
        self.conditions = list(conditions)
        self.electrodes = list(electrodes)
        self.temperature = temperature
        self.coupling = coupling
        self.heat_sources = heat_sources
        self.coupling_tolerance = coupling_tolerance
        self.relative_permittivity = relative_permittivity
        self.fixed_charge_spec = fixed_charge
        self.sources_spec = dict(sources or {})
        self.closure = closure
        self.degree = degree
        self.variables = variables
        self.initial_potential = initial_potential
        self.quadrature_degree = quadrature_degree
        self.step_tolerance = step_tolerance
        validate(self)
        if self.quadrature_degree is None:
            self.quadrature_degree = default_quadrature_degree(degree)
        self._resolve_temperature()
        self.scaling = scaling or default_scaling(self)
        self.records: list[dict] = []
        # the transient run's progress (femiec.problems.npp.solving.NppSolving.run), what a checkpoint holds
        # (femiec.problems.npp.checkpoint): time [s], accepted steps, the last step [s], the stepper's
        # schedule, the error controller's history; ``resumed``: the state restarted from, until run() uses it
        self.time, self.step, self.dt_previous = 0.0, 0, None
        self.schedule: dict | None = None
        self.error_history: dict | None = None
        self.error_dofs = None  # local indices into u of a distributed error output (npp.checkpoint)
        self.resumed: dict | None = None
        self.preset, self.petsc_options = preset, petsc_options
        if not checks_only:  # checks_only: the input checks and reference scales, no spaces (femiec validate)
            self.build()

    # ------------------------------------------------------------------------------------ temperature
    def _resolve_temperature(self) -> None:
        """``self.T``: the temperature used in every form (a number, or UFL; for a monolithic coupling the
        T component of the mixed unknown once the spaces exist); ``self.heat``: the solved temperature's
        HeatProblem (or None), coupled through ``self.thermal``
        (:class:`~femiec.problems.npp.thermal.NppHeatCoupling`); ``self.monolithic``: T is an unknown of
        the mixed space."""
        from femiec.materials.temperature_dependence import check_temperature
        from femiec.problems.npp.thermal import NppHeatCoupling
        from femiec.problems.prescribed_temperature import PrescribedTemperature
        from femiec.problems.thermal import HeatProblem

        value = self.temperature
        self.heat = value if isinstance(value, HeatProblem) else None
        self.prescribed = value if isinstance(value, PrescribedTemperature) else None
        self.thermal = None
        if self.heat is not None:
            self.thermal = NppHeatCoupling(self, self.heat, monolithic=self.coupling == "monolithic",
                                           sources=self.heat_sources, tolerance=self.coupling_tolerance)
            self.T = self.heat.T
        elif self.prescribed is not None:
            self.T = self.prescribed.T
        elif isinstance(value, ufl.core.expr.Expr):
            self.T = value
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            check_temperature(float(value), "model.temperature")
            self.T = value
        else:
            raise InputError("model.temperature", value, "a temperature in K, a UFL expression, a "
                                                         "PrescribedTemperature or a HeatProblem")
        if self.heat_sources is not None and self.heat is None:
            raise InputError("heat_sources", self.heat_sources, "a solved temperature (a HeatProblem)")
        self.monolithic = self.heat is not None and self.coupling == "monolithic"

    def _reference_temperature(self) -> float:
        """The given number, else the volume mean of T [K] (scales the potential and the Debye length)."""
        if not isinstance(self.T, ufl.core.expr.Expr):
            return float(self.T)
        from dolfinx import fem

        dx = ufl.dx(domain=self.mesh)
        return self._assemble(self.T, dx) / self._assemble(fem.Constant(self.mesh, 1.0), dx)

    # --------------------------------------------------------------------------------------- stages
    def build_spaces(self) -> None:
        """The mixed space W of (c_1..c_N, phi (, T)), its collapsed components, the measures and the
        state Functions u (now), u_n, u_nm1 (previous steps); a monolithic T becomes the T component."""
        import basix.ufl
        from dolfinx import fem

        element = basix.ufl.element("Lagrange", self.mesh.basix_cell(), self.degree)
        components = len(self.species) + 1 + int(self.monolithic)  # c_1..c_N, phi (, T)
        self.W = fem.functionspace(self.mesh, basix.ufl.mixed_element([element] * components))
        self.subspaces = [self.W.sub(i).collapse() for i in range(components)]
        self.dx = ufl.Measure("dx", domain=self.mesh, subdomain_data=self.meshdata.cell_tags,
                              metadata={"quadrature_degree": self.quadrature_degree})
        self.ds = ufl.Measure("ds", domain=self.mesh, subdomain_data=self.meshdata.facet_tags,
                              metadata={"quadrature_degree": self.quadrature_degree})
        self.u = fem.Function(self.W, name="state")
        self.u_n = fem.Function(self.W, name="state_n")
        self.u_nm1 = fem.Function(self.W, name="state_nm1")
        if self.monolithic:
            self.T = self.thermal.temperature(self.u)

    def build_coefficients(self) -> None:
        from dolfinx import fem

        sc = self.scaling
        self.species_scale = []
        for s in self.species:
            values = [s.reference_concentration() or 0.0]
            values += [c.value for c in self.conditions
                       if isinstance(c, FixedConcentration) and c.species == s.name and not callable(c.value)]
            self.species_scale.append(max(values) if max(values) > 0 else sc.concentration)
        # a concentration-dependent D(T, c) is built with the unknown c in flux()
        self.diffusivities = [None if s.concentration_dependent else
                              coefficient(self, s.diffusivity, f"{s.key}.diffusivity") for s in self.species]
        self.permittivity = None
        if self.relative_permittivity is not None:
            self.permittivity = VACUUM_PERMITTIVITY * coefficient(self, self.relative_permittivity,
                                                                  "model.relative_permittivity")
        self.fixed_charge = scalar_coefficient(self, self.fixed_charge_spec, "model.fixed_charge")
        now = dict(zip((s.name for s in self.species), self.state(self.u).concentrations))
        state_dependent = {name for name, v in self.sources_spec.items()
                           if callable(v) and not isinstance(v, ufl.core.expr.Expr)}  # UFL is callable too
        self.sources = {name: scalar_coefficient(self, v(now, self.T) if name in state_dependent else v,
                                                 f"sources.{name}") for name, v in self.sources_spec.items()}
        self.dt = fem.Constant(self.mesh, 1.0)
        self.step_ratio = fem.Constant(self.mesh, 0.0)
        self.transient = fem.Constant(self.mesh, 0.0)
        self.heat_transient = fem.Constant(self.mesh, 0.0)  # 1 only during run(): steady solves keep T steady
        self.permittivity_factor = fem.Constant(self.mesh, 1.0)
        self.electrode_voltage = {e.name: fem.Constant(self.mesh, float(e.voltage or 0.0)) for e in self.electrodes}
        # applied values, ramped from their values at the last converged solve; the initial state is taken
        # as the solution at zero applied potentials and currents (fixed potentials: added in _boundary_conditions)
        self.controls = Controls()
        for e in self.electrodes:
            if e.galvanostatic:
                self.controls.add_current(e.name, e.current)
            else:
                self.controls.add_voltage(e.name, e.voltage,
                                          lambda V, name=e.name: self._set_electrode_voltage(name, V))

    def build_conditions(self) -> None:
        """The initial state, then the Dirichlet conditions (fixed concentrations, potentials, electrode
        potentials)."""
        self._initial_state()
        self._boundary_conditions()

    def _initial_state(self) -> None:
        for i, s in enumerate(self.species):
            self.u.sub(i).interpolate(self._initial_values(s.initial, self.species_scale[i]))
        self.u.sub(len(self.species)).interpolate(_constant_or_callable(self.initial_potential,
                                                                         1 / self.scaling.potential))
        if self.monolithic:
            self.thermal.initial_state()
        self.u.x.scatter_forward()
        for f in (self.u_n, self.u_nm1):
            f.x.array[:] = self.u.x.array

    def _initial_values(self, initial, scale) -> Callable:
        if self.variables == "log":
            values = _constant_or_callable(initial, 1 / scale)
            return lambda x: np.log(values(x))
        return _constant_or_callable(initial, 1 / scale)

    def _boundary_conditions(self) -> None:
        mesh = self.mesh
        mesh.topology.create_connectivity(mesh.topology.dim - 1, mesh.topology.dim)
        self.bcs = []
        n, vt = len(self.species), self.scaling.potential
        for cond in self.conditions:
            if isinstance(cond, FixedConcentration):
                i = self._species_index(cond.species)
                transform = self._concentration_transform(i, f"{cond.key}.value")
                self.bcs.append(self._dirichlet(i, cond.facets, cond.value, transform)[0])
            elif isinstance(cond, FixedPotential):
                bc, holder, base = self._dirichlet(n, cond.facets, cond.value, lambda v: v / vt)
                self.bcs.append(bc)
                self.controls.add_potential(base, lambda value, holder=holder: _set_holder(holder, value))
        self._electrode_bc = {}
        for electrode in self.electrodes:
            if self.closure == "poisson" and electrode.stern_capacitance is None:
                surface = self._surface_potential(electrode.name, float(electrode.voltage or 0.0))
                bc, holder, _ = self._dirichlet(n, electrode.facets, surface, lambda v: v / vt)
                self._electrode_bc[electrode.name] = holder
                self.bcs.append(bc)
        if self.monolithic:
            self.bcs += self.thermal.dirichlet_conditions()

    def _concentration_transform(self, i, key: str) -> Callable:
        """SI concentration -> unknown of species i, rejecting non-positive values (InputError naming
        ``key``) for log variables."""
        scale, comm = self.species_scale[i], self.mesh.comm

        def transform(values):
            if self.variables != "log":
                return values / scale
            bad = comm.allreduce(int(np.any(np.asarray(values) <= 0)))
            if bad:
                raise InputError(key, "values <= 0", "positive concentrations (log-concentration variables)")
            return np.log(values / scale)

        return transform

    def _dirichlet(self, index, facets, value, transform):
        """Dirichlet condition on component ``index``: (bc, holder, base) where holder is the Constant or
        Function carrying transform(value) and base a copy of its value (for continuation)."""
        from dolfinx import fem

        fdim = self.mesh.topology.dim - 1
        entities = self._facet_entities(facets)
        if callable(value):
            space = self.subspaces[index][0]
            holder = fem.Function(space)
            holder.interpolate(lambda x: transform(np.asarray(value(x), dtype=float)))
            dofs = fem.locate_dofs_topological((self.W.sub(index), space), fdim, entities)
            return fem.dirichletbc(holder, dofs, self.W.sub(index)), holder, holder.x.array.copy()
        holder = fem.Constant(self.mesh, float(transform(np.float64(value))))
        dofs = fem.locate_dofs_topological(self.W.sub(index), fdim, entities)
        return fem.dirichletbc(holder, dofs, self.W.sub(index)), holder, float(holder.value)

    def _facet_tag(self, facet, key: str = "facets") -> int:
        """Integer tag of a facet-tag name or integer tag; InputError naming ``key`` for an unknown one."""
        return self.meshdata.facet_id(facet, key)

    def _facet_entities(self, facets):
        """Local indices of the facets tagged with any of ``facets`` (names or integer tags)."""
        return np.concatenate([self.meshdata.facet_tags.find(self._facet_tag(f)) for f in facets])

    def _facet_measure(self, facets):
        return self.ds(tuple(self._facet_tag(f) for f in facets))

    def build_residual(self) -> None:
        """``self.residual`` (time stepping: BDF2 rates of the stored quantities, 0 unless ``transient``)
        and ``self.steady_residual`` (no time derivative); the heat sources go to a solved T's problem."""
        n = len(self.species)
        self._tests = ufl.TestFunctions(self.W)
        self._now = self.state(self.u)
        self.fluxes = [self.flux(i, self._now) for i in range(n)]
        if self.heat is not None:
            self.thermal.add_sources(self._now)
        self.residual = self._residual_form(self._time_rates())
        self.steady_residual = self._residual_form(None)

    def _time_rates(self) -> list:
        """transient * BDF2 dc_i/dt [mol/(m^3 s)] of every species (the rates of time stepping)."""
        now, previous, before = self._now, self.state(self.u_n), self.state(self.u_nm1)
        return [self.transient * bdf2(now.concentrations[i], previous.concentrations[i], before.concentrations[i],
                                      self.dt, self.step_ratio) for i in range(len(self.species))]

    def _residual_form(self, rates):
        """The scaled residual with the species rates ``rates`` (None: steady, also for a monolithic T)."""
        sc = self.scaling
        n = len(self.species)
        tests, now = self._tests, self._now
        transport = [lambda v, i=i: self._transport_residual(i, None if rates is None else rates[i], v)
                     for i in range(n)]
        F = 0
        eliminated = n - 1 if self.closure == "electroneutrality" else None
        for i in range(n):
            if i == eliminated:
                continue
            F += (1 / (sc.diffusivity * self.species_scale[i] * sc.length ** (sc.dim - 2))) * transport[i](tests[i])
        if self.closure == "poisson":
            eps = self.permittivity_factor * self.permittivity
            rho = charge_density(now.concentrations, [s.charge for s in self.species], self.fixed_charge)
            F_phi = poisson_residual(now.potential, tests[n], eps, rho, self.dx)
            for electrode in self.electrodes:
                if electrode.stern_capacitance is not None:
                    F_phi += stern_layer_term(electrode.stern_capacitance, self.electrode_voltage[electrode.name],
                                              now.potential, tests[n], self._facet_measure(electrode.facets))
            F += (1 / sc.charge_residual) * F_phi
        else:
            charges = [s.charge for s in self.species]
            F += (1 / sc.transport_residual) * sum(float(z) * transport[i](tests[n]) for i, z in enumerate(charges))
            F += (1 / (sc.concentration * sc.length ** sc.dim)) * electroneutrality_residual(
                now.concentrations, charges, tests[eliminated], self.dx, self.fixed_charge)
        if self.monolithic:
            F += self.thermal.heat_rows(tests[n + 1], steady=rates is None)
        return F

    def _transport_residual(self, i, rate, v):
        s = self.species[i]
        F = nernst_planck_residual(rate, self.fluxes[i], v, self.dx, self.sources.get(s.name))
        for cond in self.conditions:
            if isinstance(cond, SpeciesFlux) and cond.species == s.name:
                F += outward_flux_term(cond.value, v, self._facet_measure(cond.facets))
            if isinstance(cond, ThermionicContact) and cond.species == s.name:
                F += outward_flux_term(self.thermionic_flux(cond, self._now), v,
                                       self._facet_measure(self._electrode(cond.electrode).facets))
        for electrode in self.electrodes:
            produced = sum(r.production(s.name) * self.reaction_current(electrode, r) for r in electrode.reactions
                           if s.name in r.species())
            if produced != 0:
                F += outward_flux_term(-produced / FARADAY, v, self._facet_measure(electrode.facets))
        return F

    # ------------------------------------------------------------------------------ UFL expressions
    def state(self, function) -> _Unknowns:
        """SI concentrations and potential of ``function`` (a Function on the mixed space) as UFL."""
        parts = ufl.split(function)
        n = len(self.species)
        if self.variables == "log":
            conc = [self.species_scale[i] * ufl.exp(parts[i]) for i in range(n)]
        else:
            conc = [self.species_scale[i] * parts[i] for i in range(n)]
        return _Unknowns(conc, self.scaling.potential * parts[n])

    def flux(self, i: int, state: _Unknowns | None = None):
        """Molar flux J_i [mol/(m^2 s)] of species i (UFL)."""
        state = state or self.state(self.u)
        s = self.species[i]
        c = state.concentrations[i]
        extra = []
        if s.thermodiffusive and isinstance(self.T, ufl.core.expr.Expr):
            extra.append(soret_driving_force(s.thermal_diffusion_ratio(self.T), c, self.T))
        D = s.diffusivity(self.T, c) if s.concentration_dependent else self.diffusivities[i]
        return nernst_planck_flux(c, D, s.charge, state.potential, self.T, extra_driving_forces=extra)

    def reaction_current(self, electrode: Electrode, reaction, state: _Unknowns | None = None):
        """Anodic current density i [A/m^2] of ``reaction`` at ``electrode`` (UFL, on its facets)."""
        state = state or self.state(self.u)
        index = {s.name: i for i, s in enumerate(self.species)}

        def activity(orders):
            a = 1.0
            for name, nu in orders.items():
                a = a * (state.concentrations[index[name]] / reaction.reference_concentration) ** nu
            return a

        eta = self._overpotential(electrode, reaction, state)
        common = dict(electrons=reaction.electrons, reduced_activity=activity(reaction.reduced),
                      oxidized_activity=activity(reaction.oxidized))
        if reaction.kinetics == "marcus_hush_chidsey":
            return marcus_hush_chidsey_current(reaction.exchange_current_density, eta, self.T,
                                               reaction.reorganization_energy, **common)
        return butler_volmer_current(reaction.exchange_current_density, eta, self.T,
                                     reaction.alpha_anodic, reaction.alpha_cathodic, **common)

    def _overpotential(self, electrode: Electrode, reaction, state: _Unknowns):
        """eta = V - phi_surface - E_eq [V] (UFL)."""
        return self.electrode_voltage[electrode.name] - state.potential - reaction.equilibrium_potential

    def _species_index(self, name: str) -> int:
        return [s.name for s in self.species].index(name)

    def _set_electrode_voltage(self, name: str, V: float) -> None:
        self.electrode_voltage[name].value = V
        if name in self._electrode_bc:
            self._electrode_bc[name].value = self._surface_potential(name, V) / self.scaling.potential

    def thermionic_contact(self, electrode: str) -> ThermionicContact | None:
        """The thermionic-emission contact at ``electrode`` (None if it has none)."""
        return next((c for c in self.conditions if isinstance(c, ThermionicContact) and c.electrode == electrode),
                    None)

    def _surface_potential(self, electrode: str, V: float) -> float:
        """phi [V] at the surface of ``electrode`` at the applied potential V [V]: V, or the Schottky
        interface potential V - phi_B + V_T ln(N_c / (N_A n_ref)) of a thermionic contact."""
        contact = self.thermionic_contact(electrode)
        if contact is None:
            return V
        return schottky_surface_potential(V, contact.barrier_height, self.T, contact.effective_density_of_states,
                                          contact.reference_concentration)

    def thermionic_flux(self, contact: ThermionicContact, state: _Unknowns | None = None):
        """Outward electron flux into the metal J_n . n = v_n (n - n_0) [mol/(m^2 s)] at ``contact`` (UFL)."""
        state = state or self.state(self.u)
        n = state.concentrations[self._species_index(contact.species)]
        n0 = interface_equilibrium_concentration(contact.barrier_height, self.T, contact.effective_density_of_states)
        velocity = thermionic_velocity(contact.richardson_constant, self.T, contact.effective_density_of_states)
        return thermionic_emission_flux(n, n0, velocity)


def default_quadrature_degree(degree: int) -> int:
    """Quadrature degree 2 p of the integrals of a P_p problem (p = 1, 2).

    It integrates exactly every term of the residual in concentration unknowns with constant coefficients
    and no sources: the storage and charge terms c v (degree 2 p), the drift c grad phi . grad v (degree
    3 p - 2 <= 2 p) and the diffusion grad c . grad v (2 p - 2); UFL's estimate is 2 p there too. Log
    unknowns (c = c_ref exp(w)), the kinetics' exponentials and non-polynomial coefficients and sources
    are integrated approximately, with an error of the order of the discretisation's that falls with h
    (docs/nernst_planck_poisson.md, "Discretization and solvers"). UFL counts exp(w) as degree p + 2, so it
    estimates 4 for the P1 log residual and 5 for its Jacobian; 2 p + 2, the default before, made the
    Jacobian assembly of the 3D P1 log benchmark about twice as expensive as 2 p.
    """
    return 2 * degree


def _constant_or_callable(value, factor) -> Callable:
    if callable(value):
        return lambda x: factor * np.asarray(value(x), dtype=float)
    return lambda x: np.full(x.shape[1], factor * float(value))


def _set_holder(holder, value) -> None:
    """Put a Dirichlet value (number or nodal array) into its Constant or Function."""
    if isinstance(value, float):
        holder.value = value
    else:
        holder.x.array[:] = value
