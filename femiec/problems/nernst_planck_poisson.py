"""Coupled Nernst–Planck–Poisson problem: N mobile charged species, the potential, interface kinetics.

Model (SI units; see docs/nernst_planck_poisson.md):

    dc_i/dt + div J_i = s_i,    J_i = -D_i (grad c_i + z_i c_i F/(R T) grad phi + alpha_T,i c_i grad ln T)
    -div(eps grad phi) = F sum_i z_i c_i + rho_fixed                       (closure="poisson"), or
    sum_i z_i c_i + rho_fixed / F = 0 and div(sum_i z_i J_i) = 0            (closure="electroneutrality")

with fixed concentrations/potentials, prescribed fluxes, blocking facets and electrodes (Stern layer,
Butler–Volmer or Marcus–Hush–Chidsey reactions, potentiostatic or galvanostatic control).

Temperature T [K]: a number, a UFL expression, a :class:`~femiec.problems.thermal.PrescribedTemperature`
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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass
from dataclasses import fields as dataclass_fields

import numpy as np
import ufl

from femiec.constants import FARADAY, VACUUM_PERMITTIVITY
from femiec.errors import InputError, SolverError
from femiec.forms.heat import ionic_current_density, ionic_heating, joule_heating, reaction_heat
from femiec.forms.kinetics import butler_volmer_current, marcus_hush_chidsey_current
from femiec.forms.nernst_planck import nernst_planck_flux, nernst_planck_residual, outward_flux_term
from femiec.forms.poisson import (charge_density, electroneutrality_residual, poisson_residual,
                                  stern_layer_term)
from femiec.forms.soret import soret_driving_force
from femiec.forms.time import bdf2
from femiec.problems.npp_conditions import (Electrode, FixedConcentration, FixedPotential, HeatSources,
                                            SpeciesFlux)
from femiec.problems.scaling import Scaling
from femiec.problems.species import Species

CLOSURES = ("poisson", "electroneutrality")
#: Newton options of the coupled problem (override with ``petsc_options``). The relative residual test is
#: effectively off, because a change of a Dirichlet value on a graded mesh inflates the initial residual;
#: convergence is judged on the update of the dimensionless unknowns (``step_tolerance``). Full Newton
#: steps (no line search): a backtracking line search stalls at the round-off floor of thin-layer
#: problems, and globalization comes from continuation (steady) and step rejection (transient).
NEWTON_OPTIONS = {"snes_rtol": 1e-20, "snes_atol": 1e-14, "snes_max_it": 30, "snes_linesearch_type": "basic"}
VARIABLES = ("concentration", "log")
COUPLINGS = ("monolithic", "staggered")


@dataclass
class _Unknowns:
    """UFL views of one state (current or previous) in SI units."""

    concentrations: list
    potential: object


class NernstPlanckPoisson:
    """Coupled transport of charged species and the electric potential on a tagged mesh.

    Args:
        meshdata: ``femiec.meshing.base.MeshData`` (coordinates in m).
        species: list of :class:`~femiec.problems.species.Species`.
        conditions: FixedConcentration, FixedPotential and SpeciesFlux conditions.
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
        sources: species name -> volumetric source s_i [mol/(m^3 s)] (number or UFL).
        closure: "poisson" or "electroneutrality" (the last species is then fixed by electroneutrality).
        degree: 1 or 2 (Lagrange); variables: "concentration" or "log".
        scaling: reference scales (default: chosen from the mesh and the species).
        preset, petsc_options: linear-solver preset and PETSc options of the Newton solver
            (:class:`femiec.solvers.NonlinearSolver`, options prefix ``femiec_npp_``).
        initial_potential: initial potential [V] (number or callable x -> values).
        quadrature_degree: of every integral (default 2 degree + 2), also used for the amounts, so that
            the discrete amounts are conserved to round-off.
        step_tolerance: Newton stops when the error estimate of the dimensionless unknowns (c / c_ref or
            ln(c / c_ref), phi / V_T; max-norm of the update, Deuflhard, femiec.solvers.UpdateConvergence)
            is below this value.
    """

    #: PETSc options prefix of the Newton solver (command line: ``-femiec_npp_<option>``)
    options_prefix = "femiec_npp_"

    def __init__(self, meshdata, species: Sequence[Species], *, conditions=(), electrodes=(),
                 temperature=298.15, relative_permittivity=None, fixed_charge=None, sources=None,
                 closure: str = "poisson", degree: int = 1, variables: str = "concentration",
                 scaling: Scaling | None = None, preset: str = "direct", petsc_options: dict | None = None,
                 initial_potential=0.0, quadrature_degree: int | None = None, step_tolerance: float = 1e-10,
                 coupling: str = "monolithic", heat_sources: HeatSources | None = None,
                 coupling_tolerance: float = 1e-10):
        self.meshdata = meshdata
        self.mesh = meshdata.mesh
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
        self.quadrature_degree = quadrature_degree or 2 * degree + 2
        self.step_tolerance = step_tolerance
        self._validate()
        self._resolve_temperature()
        self.scaling = scaling or self._default_scaling()
        self.records: list[dict] = []
        self._build_spaces()
        self._build_coefficients()
        self._build_state()
        self._build_bcs()
        self._build_residual()
        self._build_solver(preset, petsc_options)

    # ------------------------------------------------------------------------------------ validation
    def _validate(self) -> None:
        if self.coupling not in COUPLINGS:
            raise InputError("model.temperature.coupling", self.coupling, f"one of {list(COUPLINGS)}")
        if self.heat_sources is not None and not isinstance(self.heat_sources, HeatSources):
            raise InputError("heat_sources", self.heat_sources, "a HeatSources object")
        if self.closure not in CLOSURES:
            raise InputError("model.closure", self.closure, f"one of {list(CLOSURES)}")
        if self.variables not in VARIABLES:
            raise InputError("model.variables", self.variables, f"one of {list(VARIABLES)}")
        if self.degree not in (1, 2):
            raise InputError("model.degree", self.degree, "1 or 2")
        if not self.species:
            raise InputError("model.species", self.species, "at least one species")
        names = [s.name for s in self.species]
        if len(set(names)) != len(names):
            raise InputError("model.species", names, "distinct species names")
        if self.closure == "poisson" and self.relative_permittivity is None:
            raise InputError("model.relative_permittivity", None, "a relative permittivity (Poisson closure)")
        known = set(names)
        for cond in self.conditions:
            if not isinstance(cond, (FixedConcentration, FixedPotential, SpeciesFlux)):
                raise InputError("model.conditions", cond, "FixedConcentration, FixedPotential or SpeciesFlux")
            name = getattr(cond, "species", None)
            if name is not None and name not in known:
                raise InputError(f"{cond.key}.species", name, f"one of {names}")
            if self.variables == "log" and isinstance(cond, FixedConcentration) and not callable(cond.value) \
                    and cond.value <= 0:
                raise InputError(f"{cond.key}.value", cond.value,
                                 "a positive concentration (log-concentration variables)")
            for facet in cond.facets:
                self._facet_tag(facet, f"{cond.key}.facets")
        for name in self.sources_spec:
            if name not in known:
                raise InputError("sources", name, f"one of {names}")
        for electrode in self.electrodes:
            for facet in electrode.facets:
                self._facet_tag(facet, f"{electrode.key}.facets")
            for reaction in electrode.reactions:
                for side in ("oxidized", "reduced"):
                    for name in getattr(reaction, side):
                        if name not in known:
                            raise InputError(f"{reaction.key}.{side}", name, f"one of the species {names}")
        if sum(e.galvanostatic for e in self.electrodes) > 1:
            raise InputError("model.electrodes", [e.name for e in self.electrodes if e.galvanostatic],
                             "at most one galvanostatic electrode")
        if self.closure == "electroneutrality":
            last = self.species[-1]
            if last.charge == 0:
                raise InputError(f"{last.key}.charge", 0, "a charged last species (electroneutrality)")
            for cond in self.conditions:
                if isinstance(cond, FixedConcentration) and cond.species == last.name:
                    raise InputError(f"{cond.key}.species", cond.species,
                                     "no fixed concentration for the last species (set by electroneutrality)")
        if self.variables == "log":
            for s in self.species:
                if not callable(s.initial) and s.initial <= 0:
                    raise InputError(f"{s.key}.initial", s.initial,
                                     "a positive concentration (log-concentration variables)")
        regional = [(f"{s.key}.diffusivity", s.diffusivity) for s in self.species]
        regional += [("model.relative_permittivity", self.relative_permittivity),
                     ("model.fixed_charge", self.fixed_charge_spec)]
        for key, spec in regional:
            if isinstance(spec, Mapping) and "symmetry" not in spec:  # cell region -> value
                for region in spec:
                    if isinstance(region, str) and region not in self.meshdata.cell_names:
                        raise InputError(f"{key}.{region}", region,
                                         f"a cell region of the mesh ({', '.join(sorted(self.meshdata.cell_names))})")

    def _default_scaling(self) -> Scaling:
        from mpi4py import MPI

        comm = self.mesh.comm
        x = self.mesh.geometry.x
        lo, hi = np.empty(3), np.empty(3)
        comm.Allreduce(x.min(axis=0) if len(x) else np.full(3, np.inf), lo, op=MPI.MIN)
        comm.Allreduce(x.max(axis=0) if len(x) else np.full(3, -np.inf), hi, op=MPI.MAX)
        length = float(np.max(hi - lo))
        values = [v for v in (s.reference_concentration() for s in self.species) if v]
        values += [c.value for c in self.conditions
                   if isinstance(c, FixedConcentration) and not callable(c.value) and c.value > 0]
        concentration = max(values) if values else 1.0
        T_ref = self._reference_temperature()
        def reference_diffusivity(s):
            if s.concentration_dependent:
                return s.diffusivity(T_ref, s.reference_concentration() or concentration)
            if callable(s.diffusivity) and not isinstance(s.diffusivity, ufl.core.expr.Expr):
                return s.diffusivity(T_ref)
            return s.diffusivity

        diffusivity = max(_reference_value(reference_diffusivity(s), f"{s.key}.diffusivity") for s in self.species)
        eps_r = 1.0 if self.relative_permittivity is None else \
            _reference_value(self.relative_permittivity, "model.relative_permittivity")
        return Scaling(length, concentration, T_ref, diffusivity,
                       eps_r * VACUUM_PERMITTIVITY, self.mesh.topology.dim)

    # ------------------------------------------------------------------------------------ temperature
    def _resolve_temperature(self) -> None:
        """``self.T``: the temperature used in every form (a number, or UFL); ``self.heat``: the solved
        temperature's HeatProblem (or None); ``self.monolithic``: T is an unknown of the mixed space."""
        from femiec.materials.temperature_dependence import check_temperature
        from femiec.problems.thermal import HeatProblem, PrescribedTemperature

        value = self.temperature
        self.heat = value if isinstance(value, HeatProblem) else None
        self.prescribed = value if isinstance(value, PrescribedTemperature) else None
        if self.heat is not None:
            if getattr(self.heat, "coupled_problem", None) is not None:
                raise InputError("temperature", "HeatProblem", "a HeatProblem not yet coupled to another problem")
            self.heat.coupled_problem = self
            if self.heat.quadrature_degree is None:  # UFL's estimate is high for exp/Arrhenius sources
                self.heat.set_quadrature_degree(self.quadrature_degree)
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

    def _thermal_conductivity_scale(self) -> float:
        """Volume mean of tr(k)/gdim of the heat problem at the initial T [W/(m K)] (heat-row scale)."""
        from dolfinx import fem

        k = self.heat.k
        value = ufl.tr(k) / ufl.shape(k)[0] if ufl.shape(k) else k
        dx = ufl.dx(domain=self.mesh)
        return abs(self._assemble(value, dx)) / self._assemble(fem.Constant(self.mesh, 1.0), dx)

    # --------------------------------------------------------------------------------------- stages
    def _build_spaces(self) -> None:
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

    def _build_coefficients(self) -> None:
        from dolfinx import fem

        sc = self.scaling
        self.species_scale = []
        for s in self.species:
            values = [s.reference_concentration() or 0.0]
            values += [c.value for c in self.conditions
                       if isinstance(c, FixedConcentration) and c.species == s.name and not callable(c.value)]
            self.species_scale.append(max(values) if max(values) > 0 else sc.concentration)
        # a concentration-dependent D(T, c) is built with the unknown c in flux()
        self.diffusivities = [None if s.concentration_dependent else self._coefficient(s.diffusivity, f"{s.key}.diffusivity")
                              for s in self.species]
        self.permittivity = None
        if self.relative_permittivity is not None:
            self.permittivity = VACUUM_PERMITTIVITY * self._coefficient(self.relative_permittivity,
                                                                        "model.relative_permittivity")
        self.fixed_charge = self._scalar_coefficient(self.fixed_charge_spec, "model.fixed_charge")
        self.sources = {name: self._scalar_coefficient(v, f"sources.{name}") for name, v in self.sources_spec.items()}
        self.dt = fem.Constant(self.mesh, 1.0)
        self.step_ratio = fem.Constant(self.mesh, 0.0)
        self.transient = fem.Constant(self.mesh, 0.0)
        self.heat_transient = fem.Constant(self.mesh, 0.0)  # 1 only during run(): steady solves keep T steady
        self.permittivity_factor = fem.Constant(self.mesh, 1.0)
        self.electrode_voltage = {e.name: fem.Constant(self.mesh, float(e.voltage or 0.0)) for e in self.electrodes}
        self.target_current = {e.name: float(e.current) for e in self.electrodes if e.galvanostatic}
        self.target_voltage = {e.name: float(e.voltage) for e in self.electrodes if not e.galvanostatic}
        # applied values at the last converged solve (continuation starts there); the initial state is
        # taken as the solution at zero applied potentials and currents
        self._solved_voltage = {name: 0.0 for name in self.target_voltage}
        self._solved_current = {name: 0.0 for name in self.target_current}
        self._applied_current = dict(self._solved_current)

    def _build_state(self) -> None:
        from dolfinx import fem

        self.u = fem.Function(self.W, name="state")
        self.u_n = fem.Function(self.W, name="state_n")
        self.u_nm1 = fem.Function(self.W, name="state_nm1")
        for i, s in enumerate(self.species):
            self.u.sub(i).interpolate(self._initial_values(s.initial, self.species_scale[i]))
        self.u.sub(len(self.species)).interpolate(_constant_or_callable(self.initial_potential,
                                                                         1 / self.scaling.potential))
        if self.monolithic:
            space, dofs = self.subspaces[len(self.species) + 1]
            initial = fem.Function(space)
            initial.interpolate(self.heat.T)
            self.u.x.array[dofs] = initial.x.array / self.scaling.temperature
        self.u.x.scatter_forward()
        for f in (self.u_n, self.u_nm1):
            f.x.array[:] = self.u.x.array

    def _initial_values(self, initial, scale) -> Callable:
        if self.variables == "log":
            values = _constant_or_callable(initial, 1 / scale)
            return lambda x: np.log(values(x))
        return _constant_or_callable(initial, 1 / scale)

    def _build_bcs(self) -> None:
        mesh = self.mesh
        mesh.topology.create_connectivity(mesh.topology.dim - 1, mesh.topology.dim)
        self.bcs = []
        self._fixed_potentials = []  # [holder (Constant or Function), target value, solved value] in V_T units
        n, vt = len(self.species), self.scaling.potential
        for cond in self.conditions:
            if isinstance(cond, FixedConcentration):
                i = self._species_index(cond.species)
                transform = self._concentration_transform(i, f"{cond.key}.value")
                self.bcs.append(self._dirichlet(i, cond.facets, cond.value, transform)[0])
            elif isinstance(cond, FixedPotential):
                bc, holder, base = self._dirichlet(n, cond.facets, cond.value, lambda v: v / vt)
                self.bcs.append(bc)
                self._fixed_potentials.append([holder, base, 0.0 * base])
        self._electrode_bc = {}
        for electrode in self.electrodes:
            if self.closure == "poisson" and electrode.stern_capacitance is None:
                bc, holder, _ = self._dirichlet(n, electrode.facets, float(electrode.voltage or 0.0),
                                                lambda v: v / vt)
                self._electrode_bc[electrode.name] = holder
                self.bcs.append(bc)
        if self.monolithic:
            T_ref = self.scaling.temperature
            for tag, value in self.heat.fixed_temperatures().items():
                self.bcs.append(self._dirichlet(n + 1, [tag], value, lambda v: v / T_ref)[0])

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
        entities = np.concatenate([self.meshdata.facet_tags.find(self._facet_tag(f)) for f in facets])
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
        """Integer tag of a facet-tag name or integer tag; InputError naming ``key`` for an unknown name."""
        names = self.meshdata.facet_names
        if self.meshdata.facet_tags is None:
            raise InputError(key, facet, "a mesh with facet tags")
        if isinstance(facet, str) and facet not in names:
            raise InputError(key, facet, f"one of the facet tags {sorted(names)}")
        return names[facet] if isinstance(facet, str) else int(facet)

    def _facet_measure(self, facets):
        return self.ds(tuple(self._facet_tag(f) for f in facets))

    def _build_residual(self) -> None:
        sc = self.scaling
        n = len(self.species)
        tests = ufl.TestFunctions(self.W)
        now = self.state(self.u)
        previous, before = self.state(self.u_n), self.state(self.u_nm1)
        self.fluxes = [self.flux(i, now) for i in range(n)]
        transport = []
        for i, s in enumerate(self.species):
            rate = self.transient * bdf2(now.concentrations[i], previous.concentrations[i],
                                         before.concentrations[i], self.dt, self.step_ratio)
            transport.append(lambda v, i=i, rate=rate: self._transport_residual(i, rate, v))
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
        if self.heat is not None:
            self._add_heat_sources(now)
        if self.monolithic:
            heat_scale = self._thermal_conductivity_scale() * sc.temperature * sc.length ** (sc.dim - 2)
            F += (1 / heat_scale) * self.heat.residual_form(tests[n + 1])
            F = ufl.replace(F, self._temperature_unknowns())
        self.residual = F

    def _add_heat_sources(self, state: _Unknowns) -> None:
        """Register the heat sources of this problem (UFL of its state and of heat.T) with the HeatProblem."""
        sources = self.heat_sources or HeatSources()
        if sources.electronic_conductivity is not None:
            sigma = self._coefficient(sources.electronic_conductivity, "heat_sources.electronic_conductivity")
            self.heat.add_source(joule_heating(sigma, state.potential))
        if sources.ionic:
            current = ionic_current_density(self.fluxes, [s.charge for s in self.species])
            self.heat.add_source(ionic_heating(current, state.potential))
        if not (sources.reaction_irreversible or sources.reaction_reversible):
            return
        for electrode in self.electrodes:
            for reaction in electrode.reactions:
                q_s = reaction_heat(self.reaction_current(electrode, reaction, state),
                                    self._overpotential(electrode, reaction, state), self.T,
                                    reaction.reaction_entropy, reaction.electrons,
                                    sources.reaction_irreversible, sources.reaction_reversible)
                for facet in electrode.facets:
                    self.heat.add_surface_source(facet, q_s)

    def _temperature_unknowns(self) -> dict:
        """Replacement map heat.T (and its history, step constants) -> the T component of the mixed space."""
        n, T_ref = len(self.species), self.scaling.temperature
        heat = self.heat
        return {heat.T: T_ref * ufl.split(self.u)[n + 1], heat.T_n: T_ref * ufl.split(self.u_n)[n + 1],
                heat.T_nm1: T_ref * ufl.split(self.u_nm1)[n + 1], heat.dt: self.dt,
                heat.step_ratio: self.step_ratio, heat.transient: self.heat_transient}

    def _transport_residual(self, i, rate, v):
        s = self.species[i]
        F = nernst_planck_residual(rate, self.fluxes[i], v, self.dx, self.sources.get(s.name))
        for cond in self.conditions:
            if isinstance(cond, SpeciesFlux) and cond.species == s.name:
                F += outward_flux_term(cond.value, v, self._facet_measure(cond.facets))
        for electrode in self.electrodes:
            produced = sum(r.production(s.name) * self.reaction_current(electrode, r) for r in electrode.reactions
                           if s.name in r.species())
            if produced != 0:
                F += outward_flux_term(-produced / FARADAY, v, self._facet_measure(electrode.facets))
        return F

    def _build_solver(self, preset, petsc_options) -> None:
        from femiec.solvers import NonlinearSolver, UpdateConvergence

        fields = self._field_index_sets() if preset == "fieldsplit" else None
        options = {**NEWTON_OPTIONS, **(petsc_options or {})}
        # On the dimensionless unknowns (c / c_ref or ln(c / c_ref), phi / V_T): the Deuflhard estimate of
        # the update, not the residual near its round-off floor, decides (the updates agree on every
        # partition, the last residuals do not); the stagnation rule ends Newton stalled at the round-off
        # floor of a badly conditioned system (thin layers on strongly graded meshes).
        convergence = UpdateConvergence(self.step_tolerance, error_estimate=True, relative_residual=True,
                                        stagnation=(1e-6, 1e-6))
        self.solver = NonlinearSolver(self.residual, self.u, self.bcs, preset=preset, petsc_options=options,
                                      prefix=self.options_prefix, fields=fields, convergence_test=convergence)

    def _field_index_sets(self) -> dict:
        from petsc4py import PETSc

        imap = self.W.dofmap.index_map
        owned = imap.size_local * self.W.dofmap.index_map_bs
        start = imap.local_range[0] * self.W.dofmap.index_map_bs
        n = len(self.species)
        c_dofs = np.concatenate([self.subspaces[i][1] for i in range(n)])
        splits = [("c", np.sort(c_dofs)), ("phi", np.sort(np.asarray(self.subspaces[n][1])))]
        if self.monolithic:
            splits.append(("T", np.sort(np.asarray(self.subspaces[n + 1][1]))))
        comm = self.mesh.comm
        return {name: PETSc.IS().createGeneral((d[d < owned] + start).astype(PETSc.IntType), comm=comm)
                for name, d in splits}

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

    # --------------------------------------------------------------------------------- coefficients
    def _coefficient(self, spec, key):
        """Scalar/tensor coefficient: Constant, DG0 tensor per cell region, or a UFL expression as given."""
        from dolfinx import fem

        from femiec.materials.tensors import plane_block, tensor_coefficient, tensor_from_spec

        if isinstance(spec, ufl.core.expr.Expr):
            return spec
        if callable(spec):
            value = spec(self.T)
            return value if isinstance(value, ufl.core.expr.Expr) else self._coefficient(float(value), key)
        if isinstance(spec, Mapping) and "symmetry" not in spec:
            return tensor_coefficient(self.meshdata, spec, name=key)
        if isinstance(spec, (int, float)) and not isinstance(spec, bool):
            return fem.Constant(self.mesh, float(tensor_from_spec(spec, key)[0, 0]))
        return fem.Constant(self.mesh, np.ascontiguousarray(plane_block(tensor_from_spec(spec, key), self.mesh.geometry.dim)))

    def _scalar_coefficient(self, spec, key):
        """Number, mapping cell region -> number (DG0), UFL expression, or None."""
        from dolfinx import fem

        if spec is None or isinstance(spec, ufl.core.expr.Expr):
            return spec
        if isinstance(spec, Mapping):
            V = fem.functionspace(self.mesh, ("DG", 0))
            f = fem.Function(V, name=key)
            for region, value in spec.items():
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise InputError(f"{key}.{region}", value, "a number")
                cells = self.meshdata.cell_tags.find(self.meshdata.cell_tag(region) if isinstance(region, str)
                                                     else int(region))
                f.x.array[V.dofmap.list[cells, 0]] = float(value)
            f.x.scatter_forward()
            return f
        if isinstance(spec, (int, float)) and not isinstance(spec, bool):
            return fem.Constant(self.mesh, float(spec))
        raise InputError(key, spec, "a number, a mapping cell region -> number, or a UFL expression")

    def _species_index(self, name: str) -> int:
        return [s.name for s in self.species].index(name)

    # ------------------------------------------------------------------------------------ solving
    def _apply_controls(self, fraction: float) -> None:
        """Set every applied potential and current to solved + fraction (target - solved)."""
        for holder, target, solved in self._fixed_potentials:
            value = solved + fraction * (target - solved)
            if isinstance(target, float):
                holder.value = value
            else:
                holder.x.array[:] = value
        for name, target in self.target_voltage.items():
            solved = self._solved_voltage[name]
            self._set_electrode_voltage(name, solved + fraction * (target - solved))
        for name, target in self.target_current.items():
            solved = self._solved_current[name]
            self._applied_current[name] = solved + fraction * (target - solved)

    def _controls_solved(self) -> None:
        """The targets are reached: the next continuation starts from them."""
        for entry in self._fixed_potentials:
            entry[2] = entry[1]
        self._solved_voltage.update(self.target_voltage)
        self._solved_current.update(self.target_current)

    def set_voltage(self, electrode: str, voltage: float) -> None:
        """Change the applied potential [V] of a potentiostatic electrode (applied by the next solve)."""
        if electrode not in self.target_voltage:
            raise InputError("electrode", electrode, f"a potentiostatic electrode: {sorted(self.target_voltage)}")
        self.target_voltage[electrode] = float(voltage)

    def set_current(self, electrode: str, current: float) -> None:
        """Change the applied total current [A] of a galvanostatic electrode (applied by the next solve)."""
        if electrode not in self.target_current:
            raise InputError("electrode", electrode, f"a galvanostatic electrode: {sorted(self.target_current)}")
        self.target_current[electrode] = float(current)

    def _newton(self) -> dict:
        """One coupled Newton solve (plus the secant on V for a galvanostatic electrode); no raise."""
        galvanostatic = [e for e in self.electrodes if e.galvanostatic]
        if not galvanostatic:
            return self._coupled_solve()
        return self._galvanostatic_solve(galvanostatic[0])

    def _coupled_solve(self) -> dict:
        """Newton on the mixed space; with a staggered temperature, alternated with heat solves."""
        if self.heat is None or self.monolithic:
            stats = self.solver.solve(check=False).as_dict()
            self._sync_temperature()
            return stats
        return self._staggered_solve()

    def _staggered_solve(self, max_iterations: int = 50) -> dict:
        """Transport Newton at fixed T, then the heat solve with the new sources, until the largest change
        of T is below ``coupling_tolerance`` times the largest T."""
        from femiec.problems.thermal import max_relative_change

        newton = krylov = 0
        start = self.heat.T.x.array.copy()
        for iteration in range(1, max_iterations + 1):
            stats = self.solver.solve(check=False).as_dict()
            newton += stats["newton_iterations"]
            krylov += stats["krylov_iterations"]
            if not stats["converged"]:
                self.heat.T.x.array[:] = start
                return {**stats, "newton_iterations": newton, "krylov_iterations": krylov}
            previous = self.heat.T.x.array.copy()
            try:
                self.heat.solve()
            except SolverError as err:
                self.heat.T.x.array[:] = start
                return {**stats, "converged": False, "reason": str(err)}
            if max_relative_change(self.heat.T, previous) < self.coupling_tolerance:
                return {**stats, "newton_iterations": newton, "krylov_iterations": krylov,
                        "staggered_iterations": iteration}
        self.heat.T.x.array[:] = start
        return {**stats, "converged": False, "reason": "staggered temperature coupling did not converge"}

    def _sync_temperature(self) -> None:
        """Copy the T component of the mixed unknown into heat.T (monolithic coupling), so that the heat
        balance, the output and every UFL expression of heat.T see the current temperature."""
        if not self.monolithic:
            return
        space, dofs = self.subspaces[len(self.species) + 1]
        if not hasattr(self, "_T_component"):
            from dolfinx import fem

            self._T_component = fem.Function(space)
        for state, target in ((self.u, self.heat.T), (self.u_n, self.heat.T_n), (self.u_nm1, self.heat.T_nm1)):
            self._T_component.x.array[:] = self.scaling.temperature * state.x.array[dofs]
            target.interpolate(self._T_component)
            target.x.scatter_forward()
        for mine, theirs in ((self.dt, self.heat.dt), (self.step_ratio, self.heat.step_ratio),
                             (self.heat_transient, self.heat.transient)):
            theirs.value = mine.value

    def _galvanostatic_solve(self, electrode: Electrode, rtol: float = 1e-10, max_iterations: int = 30) -> dict:
        """Secant iteration on the electrode potential V until the electrode current equals the target."""
        start = self.u.x.array.copy()
        target = self._applied_current[electrode.name]
        area = self._area(electrode.facets)
        tolerance = rtol * max(abs(target), 1e-3 * self.scaling.current_density * area)
        total = {"newton_iterations": 0, "krylov_iterations": 0}
        history = []
        V = float(self.electrode_voltage[electrode.name].value)
        step = 1e-3 * self.scaling.potential
        for _ in range(max_iterations):
            self._set_electrode_voltage(electrode.name, V)
            stats = self._coupled_solve()
            total["newton_iterations"] += stats["newton_iterations"]
            total["krylov_iterations"] += stats["krylov_iterations"]
            if not stats["converged"]:
                self._restore(start)
                return {**stats, **total, "converged": False}
            mismatch = self.electrode_current(electrode.name) - target
            history.append((V, mismatch))
            if abs(mismatch) <= tolerance:
                return {**stats, **total, "electrode_potential": V}
            if len(history) == 1:
                V = V + step * (-np.sign(mismatch) or 1.0)
            else:
                (V0, m0), (V1, m1) = history[-2], history[-1]
                slope = (m1 - m0) / (V1 - V0) if V1 != V0 else 0.0
                if slope <= 0 or not np.isfinite(slope):
                    self._restore(start)
                    return {**stats, **total, "converged": False, "reason": "galvanostatic secant failed"}
                V = V1 - float(np.clip(m1 / slope, -5 * self.scaling.potential, 5 * self.scaling.potential))
        self._restore(start)
        return {**stats, **total, "converged": False, "reason": "galvanostatic secant did not converge"}

    def _restore(self, values) -> None:
        """Put the mixed unknown back to ``values`` (and heat.T with it, monolithic coupling)."""
        self.u.x.array[:] = values
        self._sync_temperature()

    def _set_electrode_voltage(self, name: str, V: float) -> None:
        self.electrode_voltage[name].value = V
        if name in self._electrode_bc:
            self._electrode_bc[name].value = V / self.scaling.potential

    def _anchored(self) -> bool:
        """True when every species' amount is fixed by a boundary (else a steady state needs the amounts)."""
        fixed = {c.species for c in self.conditions if isinstance(c, FixedConcentration)}
        fixed |= {name for e in self.electrodes for r in e.reactions for name in r.species()}
        if self.closure == "electroneutrality":
            fixed.add(self.species[-1].name)
        return all(s.name in fixed for s in self.species)

    def solve_steady(self, continuation_steps: int = 1, debye_factor: float = 1.0, debye_steps: int = 4,
                     max_halvings: int = 8) -> list[dict]:
        """Steady state at the applied potentials and currents (continuation from the last solve).

        Every applied potential and current moves from its value at the last converged solve (zero
        initially) to its target (constructor or :meth:`set_voltage` / :meth:`set_current`) in
        increments of at most 1 / ``continuation_steps``; a failed increment is halved (at most
        ``max_halvings`` times in a row) and grows again by 1.5 after a success. With ``debye_factor`` > 1 the permittivity is eps debye_factor^2 (Debye length times
        ``debye_factor``) during that ramp and is then lowered geometrically to eps in ``debye_steps``
        solves. A closed system (a species whose amount no boundary fixes) is solved by backward-Euler
        steps of 10^4 diffusion times from the current state, which keep every amount and converge to
        its steady state. Returns the per-solve records (also appended to ``self.records``).
        """
        closed = not self._anchored()
        self.heat_transient.value = 0.0
        self.transient.value = 1.0 if closed else 0.0
        self.step_ratio.value = 0.0
        self.dt.value = 1e4 * self.scaling.time
        self.permittivity_factor.value = debye_factor ** 2
        records = self._ramp(continuation_steps, max_halvings, closed)
        self._controls_solved()
        if debye_factor != 1.0:
            for k in range(1, debye_steps + 1):
                factor = debye_factor ** (1 - k / debye_steps)
                self.permittivity_factor.value = factor ** 2
                stats = self._steady_newton(closed)
                if not stats["converged"]:
                    raise SolverError(f"steady solve failed at Debye-length factor {factor:.4g} "
                                      f"({stats['reason']}); use more debye_steps")
                records.append({"debye_factor": factor, **stats})
        self.records += records
        return records

    def _ramp(self, steps, max_halvings, closed) -> list[dict]:
        """Solve at increasing control fractions up to 1, halving the increment on failure."""
        records, value, increment, halvings = [], 0.0, 1.0 / steps, 0
        while True:
            goal = 1.0 if 1.0 - value <= increment * (1 + 1e-12) else value + increment
            self._apply_controls(goal)
            saved = self.u.x.array.copy()
            saved_voltage = {name: float(self.electrode_voltage[name].value) for name in self.target_current}
            stats = self._steady_newton(closed)
            if stats["converged"]:
                records.append({"control_fraction": goal, **stats})
                value, halvings = goal, 0
                if goal == 1.0:
                    return records
                increment = min(1.5 * increment, 1.0 / steps)
                continue
            self._restore(saved)
            for name, V in saved_voltage.items():
                self._set_electrode_voltage(name, V)
            halvings += 1
            increment /= 2
            if halvings > max_halvings:
                raise SolverError(f"steady solve failed at control fraction {goal:.4g} ({stats['reason']}); "
                                  "use more continuation_steps")

    def _steady_newton(self, closed: bool) -> dict:
        if not closed:
            return self._newton()
        total = None
        for _ in range(5):
            self.u_n.x.array[:] = self.u.x.array
            stats = self._newton()
            total = stats if total is None else {**stats, "newton_iterations": total["newton_iterations"]
                                                 + stats["newton_iterations"],
                                                 "krylov_iterations": total["krylov_iterations"]
                                                 + stats["krylov_iterations"]}
            if not stats["converged"]:
                return total
            change = self._global_max(np.abs(self.u.x.array - self.u_n.x.array))
            if change < 1e-10:
                break
        return total

    def run(self, t_end: float, dt: float, scheme: str = "bdf2", dt_min: float | None = None,
            dt_max: float | None = None, output_times=(), on_output: Callable | None = None,
            progress: Callable | None = None, events: Sequence = (), **stepper_options):
        """Transient solve from the current state to ``t_end`` [s] with adaptive steps [s].

        ``scheme`` is "bdf1" (backward Euler) or "bdf2" (variable-step BDF2, first step backward Euler).
        A step whose Newton solve fails is rejected and retried with half the step. ``on_output(t)`` is
        called at t = 0, at each of ``output_times`` and at ``t_end``. Returns the per-step records (time,
        dt, Newton and Krylov iterations, rejected attempts), also appended to ``self.records``.

        ``events``: :class:`femiec.solvers.Event` s of the stepper, evaluated on the state just solved
        (e.g. g = ``problem.electrode_current("anode")`` - I_max or ``problem.facet_mean_concentration(
        "cation", "xmin")`` - c_max); a terminal one ends the run after the step in which it occurs (landed
        on within its tolerance), and ``on_output`` is then called at that time too. ``self.stop_reason``:
        "t_end" or the name of that event; ``self.occurred_events``: the events that occurred (name, step,
        time, g).
        """
        from femiec.solvers import AdaptiveTimeStepper

        if scheme not in ("bdf1", "bdf2"):
            raise InputError("time.scheme", scheme, "'bdf1' or 'bdf2'")
        if self.heat is not None and not self.monolithic:
            raise InputError("model.temperature.coupling", "staggered",
                             "'monolithic' for a transient solve (staggered coupling is for steady solves)")
        if self.heat is not None and self.heat.rho_cp is not None:
            self.heat_transient.value = 1.0  # else the heat equation stays quasi-steady at every step
        stepper = AdaptiveTimeStepper(dt, t_end, dt_min=dt_min, dt_max=dt_max, **stepper_options)
        self.transient.value = 1.0
        self._apply_controls(1.0)
        self._controls_solved()
        self.u_n.x.array[:] = self.u.x.array
        history = {"dt_previous": None}
        outputs = set(float(t) for t in output_times) | {float(t_end)}
        if on_output is not None:
            on_output(0.0)

        def advance(t, dt_try):
            self.dt.value = dt_try
            previous = history["dt_previous"]
            ratio = dt_try / previous if (scheme == "bdf2" and previous) else 0.0
            # variable-step BDF2 is zero-stable for step ratios below 1 + sqrt(2) (Grigorieff 1983);
            # a larger jump (e.g. after a step shortened to land on an output time) takes a BE step
            self.step_ratio.value = ratio if ratio < 1 + np.sqrt(2) else 0.0
            if self.prescribed is not None:
                self.prescribed.update(t + dt_try)
            return _Stats(self._newton())

        def reject():
            self._restore(self.u_n.x.array)

        def accept(t_new, dt_step, stats):
            self.u_nm1.x.array[:] = self.u_n.x.array
            self.u_n.x.array[:] = self.u.x.array
            history["dt_previous"] = dt_step
            if on_output is not None and is_output(t_new):
                on_output(t_new)

        def is_output(t_new):
            return any(abs(t_new - t) <= 1e-12 * max(t_end, 1.0) for t in outputs)

        steps = stepper.run(advance, accept, reject, output_times=output_times, progress=progress, events=events)
        self.stop_reason, self.occurred_events = stepper.stop_reason, [vars(e) for e in stepper.occurred]
        if self.stop_reason != "t_end" and on_output is not None and steps and not is_output(steps[-1].time):
            on_output(steps[-1].time)
        records = [vars(r) for r in steps]
        self.records += records
        return records

    # ---------------------------------------------------------------------------- derived quantities
    def _assemble(self, expression, measure) -> float:
        from dolfinx import fem

        local = fem.assemble_scalar(fem.form(expression * measure))
        return float(self.mesh.comm.allreduce(local))

    def _global_max(self, values) -> float:
        from mpi4py import MPI

        return float(self.mesh.comm.allreduce(values.max() if len(values) else 0.0, op=MPI.MAX))

    def _area(self, facets) -> float:
        from dolfinx import fem

        return self._assemble(fem.Constant(self.mesh, 1.0), self._facet_measure(facets))

    def _cells(self, region):
        if region is None:
            return self.dx
        return self.dx(self.meshdata.cell_tag(region) if isinstance(region, str) else int(region))

    def amount(self, species: str, region=None) -> float:
        """Amount int c dx of ``species`` [mol in 3D; mol/m in 2D; mol/m^2 in 1D] (in a cell region)."""
        return self._assemble(self.state(self.u).concentrations[self._species_index(species)], self._cells(region))

    def total_charge(self, region=None) -> float:
        """int (F sum z_i c_i + rho_fixed) dx [C in 3D; C/m in 2D; C/m^2 in 1D] (in a cell region)."""
        state = self.state(self.u)
        rho = charge_density(state.concentrations, [s.charge for s in self.species], self.fixed_charge)
        return self._assemble(rho, self._cells(region))

    def electrode_current(self, name: str) -> float:
        """Total anodic (faradaic) current of electrode ``name`` [A in 3D; A/m in 2D; A/m^2 in 1D]."""
        electrode = next(e for e in self.electrodes if e.name == name)
        if not electrode.reactions:
            return 0.0
        density = sum(self.reaction_current(electrode, r) for r in electrode.reactions)
        return self._assemble(density, self._facet_measure(electrode.facets))

    def ionic_current(self, facets) -> float:
        """Ionic current F sum_i z_i int J_i . n ds out of the domain through ``facets`` [A in 3D],
        computed from the fields' gradients (use :meth:`electrode_current` at electrodes)."""
        n = ufl.FacetNormal(self.mesh)
        state = self.state(self.u)
        density = sum(FARADAY * s.charge * ufl.dot(self.flux(i, state), n) for i, s in enumerate(self.species))
        return self._assemble(density, self._facet_measure(facets if not isinstance(facets, (str, int))
                                                           else (facets,)))

    def electrode_current_density(self, name: str) -> float:
        """Mean anodic current density of electrode ``name`` [A/m^2]: :meth:`electrode_current` divided by
        the area of its facets (length in 2D, 1 in 1D); None for facets without boundary area."""
        area = self._area(next(e for e in self.electrodes if e.name == name).facets)
        return self.electrode_current(name) / area if area > 0 else None

    def ionic_current_density(self, facets) -> float | None:
        """Mean outward ionic current density through boundary facet tag(s) ``facets`` [A/m^2]:
        :meth:`ionic_current` divided by their area (None for facets without boundary area)."""
        facets = (facets,) if isinstance(facets, (str, int)) else tuple(facets)
        area = self._area(facets)
        return self.ionic_current(facets) / area if area > 0 else None

    def debye_length(self) -> float:
        """Debye length [m] of the species at their reference concentrations and the reference
        permittivity: sqrt(eps R T / (F^2 sum z_i^2 c_i)); None without charged species."""
        from femiec.analytic.electrochemistry import debye_length

        if all(s.charge == 0 for s in self.species):
            return None

        return debye_length(self.scaling.permittivity, self.scaling.temperature, self.species_scale,
                            [s.charge for s in self.species])

    def derived_quantities(self) -> dict:
        """Amounts [mol], area-mean concentrations [mol/m^3] and mean outward ionic current densities
        [A/m^2] on every named facet tag (None for facets without boundary area), total charge [C],
        electrode currents [A], mean current densities [A/m^2] and potentials [V], Debye length [m]
        (amounts, charge and currents per unit area in 1D and per unit length in 2D)."""
        facets = self.meshdata.facet_names or {}
        return {"amount_mol": {s.name: self.amount(s.name) for s in self.species},
                "facet_mean_concentration_mol_m3": {s.name: {f: self.facet_mean_concentration(s.name, f)
                                                             for f in facets} for s in self.species},
                "facet_ionic_current_density_A_m2": {f: self.ionic_current_density(f) for f in facets},
                "total_charge_C": self.total_charge(),
                "electrode_current_A": {e.name: self.electrode_current(e.name) for e in self.electrodes},
                "electrode_current_density_A_m2": {e.name: self.electrode_current_density(e.name)
                                                   for e in self.electrodes},
                "electrode_potential_V": {e.name: self.electrode_potential(e.name) for e in self.electrodes},
                "debye_length_m": self.debye_length()}

    def facet_mean_concentration(self, species: str, facets) -> float:
        """Area mean of c over facet tag(s) ``facets`` [mol/m^3] (None for facets without area)."""
        facets = (facets,) if isinstance(facets, (str, int)) else tuple(facets)
        c = self.state(self.u).concentrations[self._species_index(species)]
        area = self._area(facets)
        return self._assemble(c, self._facet_measure(facets)) / area if area > 0 else None

    def electrode_potential(self, name: str) -> float:
        """Potential V [V] of electrode ``name`` (the solved value for a galvanostatic electrode)."""
        return float(self.electrode_voltage[name].value)

    # ------------------------------------------------------------------------------------- output
    def output_fields(self) -> dict:
        """``{name: (Function, unit)}``: ``potential`` [V], ``concentration_<species>`` [mol/m^3] and, for
        a temperature field, ``temperature`` [K] (and ``heat_flux`` [W/m^2] when T is solved) (call
        :meth:`update_output` before writing)."""
        from dolfinx import fem

        if not hasattr(self, "_outputs"):
            n = len(self.species)
            self._outputs = {f"concentration_{s.name}": (fem.Function(self.subspaces[i][0]), "mol/m^3")
                             for i, s in enumerate(self.species)}
            self._outputs["potential"] = (fem.Function(self.subspaces[n][0]), "V")
            if hasattr(self.T, "function_space"):
                self._outputs["temperature"] = (self.T, "K")
            if self.heat is not None:
                self._outputs["heat_flux"] = (self.heat.heat_flux_function(), "W/m^2")
        self.update_output()
        return self._outputs

    def update_output(self) -> None:
        """Fill the output Functions with the SI values of the current state (nodal values)."""
        from dolfinx import fem

        from femiec._compat import interpolation_points

        n = len(self.species)
        values = self.nodal_values()
        for i, s in enumerate(self.species):
            f = self._outputs[f"concentration_{s.name}"][0]
            f.x.array[:] = values[i]
        self._outputs["potential"][0].x.array[:] = values[n]
        if self.heat is not None:
            q = self._outputs["heat_flux"][0]
            q.interpolate(fem.Expression(self.heat.heat_flux(), interpolation_points(q.function_space)))

    def nodal_values(self) -> list[np.ndarray]:
        """SI nodal values (local dofs, owned then ghosts) of c_1..c_N [mol/m^3] and phi [V], in the order
        of ``self.subspaces[i][0].tabulate_dof_coordinates()``."""
        n = len(self.species)
        raw = [self.u.x.array[self.subspaces[i][1]] for i in range(n + 1)]
        conc = [self.species_scale[i] * (np.exp(raw[i]) if self.variables == "log" else raw[i]) for i in range(n)]
        return conc + [self.scaling.potential * raw[n]]


@dataclass
class _Stats:
    """Adapter: the time stepper reads attributes of the stats returned by ``advance``."""

    values: dict

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def _constant_or_callable(value, factor) -> Callable:
    if callable(value):
        return lambda x: factor * np.asarray(value(x), dtype=float)
    return lambda x: np.full(x.shape[1], factor * float(value))


def _reference_value(spec, key: str) -> float:
    """Largest principal value of a coefficient spec (number, tensor, table, per-region mapping); an
    invalid spec raises InputError naming ``key`` (e.g. ``model.species[0].diffusivity``)."""
    from femiec.materials.tensors import tensor_from_spec

    if isinstance(spec, ufl.core.expr.Expr):
        raise InputError("scaling", "UFL coefficient", "an explicit Scaling when a coefficient is a UFL expression")
    if isinstance(spec, Mapping) and "symmetry" not in spec:
        return max(_reference_value(v, f"{key}.{region}") for region, v in spec.items())
    return float(np.max(np.linalg.eigvalsh(tensor_from_spec(spec, key))))


# ------------------------------------------------------------------------------------------ case runner
CASE_KEYS = {"species", "closure", "relative_permittivity", "fixed_charge", "temperature", "degree", "variables",
             "conditions", "electrodes", "solver", "steady", "time", "output"}


def problem_from_section(section: Mapping, meshdata) -> NernstPlanckPoisson:
    """Build the problem of a model section (plain dict, SI units; keys in docs/nernst_planck_poisson.md)."""
    from femiec.problems.npp_conditions import Reaction

    unknown = sorted(set(section) - CASE_KEYS - {"kind"})
    if unknown:
        raise InputError(f"model.{unknown[0]}", section[unknown[0]], f"one of the keys {sorted(CASE_KEYS)}")
    _only(section.get("steady", {}), STEADY_KEYS, "model.steady")
    species = [_species_from_section(s, f"model.species[{i}]")
               for i, s in enumerate(_list(section.get("species", []), "model.species"))]
    makers = {"concentration": FixedConcentration, "potential": FixedPotential, "flux": SpeciesFlux}
    conditions = []
    for i, cond in enumerate(_list(section.get("conditions", []), "model.conditions")):
        key = f"model.conditions[{i}]"
        cond = _table(cond, key)
        kind = cond.pop("type", None)
        if kind not in makers:
            raise InputError(f"{key}.type", kind, f"one of {sorted(makers)}")
        conditions.append(_declared(makers[kind], cond, key))
    electrodes = []
    for i, spec in enumerate(_list(section.get("electrodes", []), "model.electrodes")):
        key = f"model.electrodes[{i}]"
        spec = _table(spec, key)
        reactions = [_declared(Reaction, r, f"{key}.reactions[{k}]")
                     for k, r in enumerate(_list(spec.pop("reactions", []), f"{key}.reactions"))]
        electrodes.append(_declared(Electrode, spec, key, reactions=reactions))
    solver = section.get("solver", {})
    temperature, coupling = _temperature_from_section(section.get("temperature", 298.15), meshdata)
    if coupling.get("coupling") == "staggered" and "time" in section:
        raise InputError("model.temperature.coupling", "staggered",
                         "'monolithic' for a transient case (staggered coupling is for steady solves)")
    return NernstPlanckPoisson(
        meshdata, species, conditions=conditions, electrodes=electrodes, temperature=temperature,
        relative_permittivity=section.get("relative_permittivity"), fixed_charge=section.get("fixed_charge"),
        closure=section.get("closure", "poisson"), degree=section.get("degree", 1),
        variables=section.get("variables", "concentration"), preset=solver.get("preset", "direct"),
        petsc_options=solver.get("petsc_options"), **coupling)


SPECIES_KEYS = {"name", "charge", "diffusivity", "mobility", "initial", "alpha_T", "heat_of_transport"}
STEADY_KEYS = {"continuation_steps", "debye_factor", "debye_steps"}
HEAT_SOURCE_KEYS = {"electronic_conductivity", "ionic", "reaction_irreversible", "reaction_reversible"}
COUPLING_KEYS = {"coupling", "coupling_tolerance", "sources"}


def _species_from_section(spec: Mapping, key: str) -> Species:
    """A Species of a case-file table: ``diffusivity`` [m^2/s] or ``mobility`` [m^2/(V s)] (Nernst–Einstein
    D = u R T/(|z| F) at the local T), each a number, tensor spec or law table ``{law = ...}``, and the
    Soret term ``alpha_T`` [-] or ``heat_of_transport`` [J per particle]."""
    from femiec.materials.temperature_dependence import diffusivity_from_mobility, property_law

    spec = _only(spec, SPECIES_KEYS, key)
    if ("diffusivity" in spec) == ("mobility" in spec):
        raise InputError(f"{key}.diffusivity", spec.get("diffusivity"), "exactly one of 'diffusivity' or 'mobility'")
    name = "diffusivity" if "diffusivity" in spec else "mobility"
    value = spec.pop(name)
    if isinstance(value, Mapping) and "law" in value:
        value = property_law(value, f"{key}.{name}")
    if name == "mobility":
        charge, mobility = spec.get("charge", 0), value
        if isinstance(mobility, bool) or not (callable(mobility) or isinstance(mobility, (int, float))) or \
                (not callable(mobility) and not mobility > 0):
            raise InputError(f"{key}.mobility", mobility, "a positive number in m^2/(V s) or a law table")
        if charge == 0:
            raise InputError(f"{key}.mobility", mobility, "a charged species (Nernst–Einstein); give "
                                                           "'diffusivity' for a neutral one")
        value = (lambda T: diffusivity_from_mobility(mobility(T), charge, T)) if callable(mobility) else \
            (lambda T: diffusivity_from_mobility(float(mobility), charge, T))
    return _declared(Species, spec, key, diffusivity=value)


def _temperature_from_section(spec, meshdata) -> tuple:
    """(temperature, coupling keyword arguments) of ``model.temperature`` (docs/nernst_planck_poisson.md)."""
    from femiec.materials.temperature_dependence import property_law
    from femiec.problems.thermal import temperature_from_section

    coupling = {}
    if isinstance(spec, Mapping) and spec.get("kind") == "solved":
        key = "model.temperature"
        sources = _only(spec.get("sources", {}), HEAT_SOURCE_KEYS, f"{key}.sources")
        for name in HEAT_SOURCE_KEYS - {"electronic_conductivity"}:
            if name in sources and not isinstance(sources[name], bool):
                raise InputError(f"{key}.sources.{name}", sources[name], "true or false")
        tolerance = spec.get("coupling_tolerance", 1e-10)
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance < 1:
            raise InputError(f"{key}.coupling_tolerance", tolerance, "a number in (0, 1)")
        sigma = sources.get("electronic_conductivity")
        if isinstance(sigma, Mapping) and "law" in sigma:
            sources["electronic_conductivity"] = property_law(sigma, f"{key}.sources.electronic_conductivity")
        coupling = {"coupling": spec.get("coupling", "monolithic"), "coupling_tolerance": float(tolerance),
                    "heat_sources": HeatSources(**sources)}
        if coupling["coupling"] not in COUPLINGS:
            raise InputError(f"{key}.coupling", coupling["coupling"], f"one of {list(COUPLINGS)}")
        spec = {k: v for k, v in spec.items() if k not in COUPLING_KEYS}
    return temperature_from_section(spec, meshdata), coupling


def run_case(section: Mapping, meshdata, out_dir, progress: Callable | None = None, problem=None) -> dict:
    """Solve a Nernst–Planck–Poisson case and write its fields; returns the summary entries.

    ``section``: the model section as a plain dict in SI units (see docs/nernst_planck_poisson.md), with
    optional ``solver`` {preset, petsc_options}, ``steady`` {continuation_steps, debye_factor,
    debye_steps} or ``time`` {t_end, dt, dt_min, dt_max, scheme, outputs} (transient when present) and
    ``output`` {formats}. Fields ``potential`` and ``concentration_<species>`` go to ``out_dir``.
    ``problem``: the problem already built from ``section`` (e.g. by ``femiec.runner``), else built here.
    """
    from femiec.io.fields import FieldWriter

    problem = problem if problem is not None else problem_from_section(section, meshdata)
    formats = tuple(section.get("output", {}).get("formats", ("vtx",)))
    writer = FieldWriter(out_dir, problem.output_fields(), formats=formats)

    def write(t):
        problem.update_output()
        writer.write(t)

    with writer:
        time = section.get("time")
        if time is None:
            steady = section.get("steady", {})
            problem.solve_steady(**steady)
            write(0.0)
            if progress is not None:
                progress(1.0)
        else:
            time = dict(time)
            outputs = int(time.pop("outputs", 10))
            t_end = float(time["t_end"])
            problem.run(**_only(time, {"t_end", "dt", "dt_min", "dt_max", "scheme"}, "time"),
                        output_times=[t_end * k / outputs for k in range(1, outputs)], on_output=write,
                        progress=None if progress is None else (lambda t: progress(t / t_end)))
    derived = problem.derived_quantities()
    if problem.heat is not None:
        derived["heat_balance [W]"] = problem.heat.heat_balance()
    return {"model": "nernst_planck_poisson", "derived": derived,
            "scaling": {"length_m": problem.scaling.length, "concentration_mol_m3": problem.scaling.concentration,
                        "time_s": problem.scaling.time, "potential_V": problem.scaling.potential,
                        "debye_length_m": problem.scaling.debye_length},
            "solver": {"records": problem.records}, "fields": writer.describe()}


def _declared(cls, table: Mapping, key: str, **given):
    """``cls(**table, **given, key=key)`` for a declarative dataclass (Species, conditions, electrodes,
    reactions) from a case-file table; unknown and missing keys are named under ``key``."""
    table = _only(table, _fields(cls) - set(given), key)
    for f in dataclass_fields(cls):
        if f.name not in table and f.name not in given and f.default is MISSING and f.default_factory is MISSING:
            raise InputError(f"{key}.{f.name}", "<missing>", "this key to be given")
    return cls(**table, **given, key=key)


def _fields(cls) -> set:
    """The case-file keys of a declarative dataclass: its fields but ``key``."""
    return {f.name for f in dataclass_fields(cls)} - {"key"}


def _list(value, key: str) -> list:
    if not isinstance(value, list):
        raise InputError(key, value, "a list of tables")
    return value


def _table(value, key: str) -> dict:
    if not isinstance(value, Mapping):
        raise InputError(key, value, "a table")
    return dict(value)


def _only(table: Mapping, allowed: set, key: str) -> dict:
    table = _table(table, key)
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise InputError(f"{key}.{unknown[0]}", table[unknown[0]], f"one of the keys {sorted(allowed)}")
    return table
