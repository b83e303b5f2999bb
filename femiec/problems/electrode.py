"""Microstructure-resolved electrode: electrolyte, active particles and electronic conductor coupled by
interface kinetics, under galvanostatic discharge or charge (see docs/electrode.md; forms in
:mod:`femiec.forms.electrode`).

Unknowns (dimensionless, Lagrange P1, each on the submesh of its own phase): c/c_ref and phi_e/V_T on the
electrolyte submesh, c_s/c_max on the active-material submesh, phi_s/V_T on the solid (active material +
conductor) submesh. The submeshes are DOLFINx submeshes of the one tagged mesh (``create_submesh``), or on
a voxel mesh with ``connectivity = "face"`` face-connected meshes of each phase matched to it cell for cell
(femiec.meshing.phase_mesh: nodes split at edge and corner contacts of the phase's voxels), so every
field has unknowns only where it belongs and a node on Gamma carries its own c and c_s. All forms are
integrated on the parent mesh with entity maps (parent cell -> submesh cell); the interface terms are
integrals over the interior facets between electrolyte and active cells, ordered so that the "+" side is
the electrolyte cell and the "-" side the active cell. The Newton system is assembled block by block into
one PETSc matrix.

With ``double_layer`` the electrolyte is the full Poisson one (c+, c- and the electrostatic potential on
the electrolyte submesh, a Stern layer on Gamma; femiec.forms.electrode): five unknowns. The Cahn–Hilliard
particle model (``particle_model = "cahn_hilliard"``, femiec.problems.electrode_ch_particle) adds the
chemical potential mu/(R T) on the active submesh as the last block.

Cell geometry: a half-cell against a lithium counter electrode. The separator is a boundary of the
electrolyte (facets ``separator``) through which the applied current I enters uniformly; the current
collector holds phi_s = 0 (facets or a cell region ``collector``). The cell voltage is
V = phi_s(collector) - <phi_e>_separator (area average), i.e. measured against an ideal Li reference at
the separator face. Discharge (I > 0) lithiates the particles.

Code: the phases are phase models (femiec.problems.electrode_phases: each declares its fields and writes its
storage and steady residuals); this module composes them into one blocked Newton system and runs it;
femiec.problems.electrode_geometry (markers, submeshes, collector), electrode_diagnostics (integrals,
capacity, description) and electrode_output (records, checkpoints, fields) hold the rest of the class.

Time: backward Euler or variable-step BDF2 / BDF3 (``scheme``) with adaptive steps (a failed Newton step
is retried with half the step; with ``error_tolerance`` the steps follow a local error estimate of the
voltage, femiec.solvers.error_control; ``dense_output`` adds interpolated points to the curve); the run
stops at a voltage cut-off (landed on within a tolerance) or a state-of-charge limit, both terminal
events of the stepper (femiec.solvers.events), at t_end, or when the cell can no longer carry the current
(the step falls below dt_min after the voltage has left the table of the open-circuit curve).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import ufl

from femiec.constants import thermal_voltage
from femiec.errors import InputError, SolverError
from femiec.forms.time import bdf, bdf2, bdf3_correction, bdf_order
from femiec.materials.electrochemistry import (DoubleLayer, PorousSeparator, active_material,
                                               electrolyte as electrolyte_parameters)
from femiec.materials.ocv import OpenCircuitVoltage
from femiec.problems.base import StagedProblem
from femiec.problems.electrode_diagnostics import SECONDS_PER_HOUR, Diagnostics
from femiec.problems.electrode_geometry import (ACTIVE, CONDUCTOR, ELECTROLYTE, REACTION, SEPARATOR,
                                                PhaseGeometry, check_reactive_area)
from femiec.problems.electrode_output import ElectrodeRecord, FieldOutput
from femiec.problems.electrode_phases import (PARTICLE_MODELS, ConcentratedElectrolyte, DoubleLayerElectrolyte,
                                              SolidConductor)

log = logging.getLogger(__name__)

#: in a run with ``error_tolerance`` (a local voltage error per step, tol [V]) Newton stops at an error
#: estimate of the dimensionless unknowns of NEWTON_ERROR_SHARE * tol / V_T (or ``step_tolerance`` if
#: looser): a Newton error e of phi/V_T moves the voltage by about V_T e, here 5% of tol per step (CVODE's
#: nonlinear tolerance is 10% of its local one), and the first iteration's error is estimated from the
#: contraction Newton had in the steps before (UpdateConvergence's ``remember_contraction``), so a step
#: whose predictor lands close takes one Newton iteration. On the 32^3 crop's 1C discharge (tol 0.5 mV,
#: 37 steps) at the 1e-3 share of before and without the memory: 86 Newton and 727 Krylov iterations, every
#: step at least two; now 54 and 389, 36.1 -> 29.9 s, the voltage curve 0.705 mV from a reference at tol
#: 0.05 mV (0.693 mV before; benchmarks/README.md)
NEWTON_ERROR_SHARE = 0.05
#: in a run with ``error_tolerance`` Newton keeps the Jacobian of a step's first iteration while its updates
#: are at most this (max-norm of the dimensionless unknowns) and contract (NonlinearSolver.jacobian_reuse),
#: a chord step. 32^3 crop, 1C: at 0.1, 66 assemblies and 29.9 s; at 0.5, 49 and 26.0 s (0.3 and 1.0 gave
#: 25.6 and 25.7 s), the voltage curve 0.706 mV from the reference (the late steps' first updates of phi_e
#: are 0.1-0.4)
JACOBIAN_REUSE = 0.5
#: terms of the BDF rate in the residual: u, u_n, u_nm1, u_nm2 (BDF3 at most)
RATE_TERMS = 4
#: the highest order of each ``scheme``
SCHEME_ORDERS = {"bdf1": 1, "bdf2": 2, "bdf3": 3}


class ElectrodeProblem(StagedProblem, PhaseGeometry, Diagnostics, FieldOutput):
    """Galvanostatic electrode on a tagged mesh (SI units).

    Args:
        meshdata: :class:`femiec.meshing.base.MeshData`.
        electrolyte_regions, active_regions, conductor_regions: cell-region names of the pore phase, the
            active material and the electronically conducting additive (carbon-binder; may be empty).
        separator: facet names/tags where the current enters the electrolyte.
        collector: facet names (phi_s = 0 there) or cell-region names (phi_s = 0 on the whole region, an
            ideal embedded conductor).
        electrolyte, active: :class:`Electrolyte` and :class:`ActiveMaterial` (or dicts of their fields).
        conductor_conductivity: sigma of the conductor regions [S/m].
        temperature: T [K].
        porous_separator: :class:`PorousSeparator` (or a dict of its fields): cell regions of a porous
            separator layer in front of the electrode (part of the electrolyte phase, effective properties).
        double_layer: None (electroneutral electrolyte) or :class:`DoubleLayer` (or a dict of its fields):
            full Poisson electrolyte with a Stern layer on the interface (resolve the Debye length with
            the mesh to resolve the diffuse layer).
        reactive_area: "voxel" (Gamma's facets as meshed: the staircase on a voxel mesh) or "smooth" (on a
            voxel mesh, each facet weighted so that the area of Gamma is that of the smooth surface the image
            samples: femiec.problems.electrode_geometry, femiec.meshing.interface_area).
        double_layer_capacitance: C_dl [F/m^2] of the active/electrolyte interface (0: none): the interface
            current becomes i + C_dl d(phi_s - phi_e)/dt on both sides of Gamma (femiec.forms.electrode);
            not with ``double_layer``, whose Poisson electrolyte and Stern layer resolve their own.
        inert_cells: local cell indices (owned and ghost) that take part in nothing (e.g. pore clusters cut
            off from the separator, solid clusters cut off from the collector).
        particle_labels: label per local cell (>= 1 on active cells) for the per-particle state of charge;
            default: the active cell-region tag.
        particle_model: name of the active material's particle model in
            ``femiec.problems.electrode_phases.PARTICLE_MODELS`` ("fickian" or "cahn_hilliard").
        cahn_hilliard: the regular solution and kinetics of the "cahn_hilliard" particle model
            (:class:`femiec.models.intercalation_particles.RegularSolution` or a dict of its keys).
        preset, petsc_options: linear solver of the Newton iteration (femiec.solvers.NonlinearSolver,
            options prefix ``femiec_electrode_``).
        pair_preconditioner: with ``preset = "fieldsplit"``, the preconditioner of a particle model's pair
            split (Cahn–Hilliard's c_s and mu): "block" (default; the Bosch–Kay–Stoll–Wathen factorisation
            of femiec.solvers.cahn_hilliard_pc, Krylov iterations flat in the voxel size) or "schur" (the
            nested Schur fieldsplit of femiec.solvers.presets.schur_pair_split, iterations growing ~1.6x
            per halving of the voxel; docs/cahn_hilliard.md).
        electrolyte_preconditioner: with ``preset = "fieldsplit"``, the preconditioner of the electrolyte's
            c and phi_e: "split" (default; one BoomerAMG V-cycle per field in the outer multiplicative
            fieldsplit) or "electrochemical" (one split, block-triangular in the electrochemical potential
            phi_e / V_T - 2 (1 - t+) ln c and c, femiec.solvers.electrolyte_pc; docs/electrode.md).
        step_tolerance: Newton stops when the error estimate of the dimensionless unknowns (c/c_ref,
            c_s/c_max, phi/V_T; max-norm of the update, Deuflhard, femiec.solvers.UpdateConvergence) is
            below it.
    """

    #: PETSc options prefix of the Newton solver (command line: ``-femiec_electrode_<option>``)
    options_prefix = "femiec_electrode_"

    def __init__(self, meshdata, *, electrolyte_regions: Sequence[str], active_regions: Sequence[str],
                 conductor_regions: Sequence[str] = (), separator: Sequence = ("xmin",),
                 collector: Sequence = ("xmax",), electrolyte=None, active=None, conductor_conductivity: float = 10.0,
                 temperature: float = 298.15, porous_separator=None, double_layer=None,
                 double_layer_capacitance: float = 0.0, reactive_area: str = "voxel", inert_cells=None,
                 particle_labels=None, particle_model: str = "fickian", cahn_hilliard=None,
                 preset: str = "direct", petsc_options: dict | None = None, step_tolerance: float = 1e-9,
                 quadrature_degree: int = 3, pair_preconditioner: str = "block",
                 electrolyte_preconditioner: str = "split"):
        self.meshdata = meshdata
        self.mesh = meshdata.mesh
        self.electrolyte = electrolyte_parameters(electrolyte, "model.electrolyte")
        self.active = active_material(active, "model.active_material")
        self.porous_separator = PorousSeparator.parse(porous_separator, "model.porous_separator")
        self.double_layer = None if double_layer is None else DoubleLayer.parse(double_layer, "model.double_layer")
        self.conductor_conductivity = float(conductor_conductivity)
        self.double_layer_capacitance = float(double_layer_capacitance)
        self.reactive_area = reactive_area
        self.temperature = float(temperature)
        self.step_tolerance = step_tolerance
        self.quadrature_degree = quadrature_degree
        self.regions = {ELECTROLYTE: list(electrolyte_regions), ACTIVE: list(active_regions),
                        CONDUCTOR: list(conductor_regions)}
        self.separator, self.collector = list(separator), list(collector)
        self._validate()
        if self.double_layer is not None and preset != "direct":
            # FGMRES + BoomerAMG per block did not converge on the planar double-layer cell of the tests
            raise InputError("solver.preset", preset, "'direct' with model.double_layer (the Krylov presets do "
                             "not converge on the Poisson system)")
        self.vt = thermal_voltage(self.temperature)
        self.cahn_hilliard = cahn_hilliard
        self._build_phase_models(particle_model)
        self.records: list[ElectrodeRecord] = []
        self.dense_records: list[ElectrodeRecord] = []  # interpolated points of the curve (``dense_output``)
        self.time = 0.0
        self.charge_passed = 0.0  # C, discharge positive
        self.schedule: dict | None = None  # the stepper's schedule after the last accepted step
        self.resumed: dict | None = None  # the schedule of the checkpoint restarted from, until run() uses it
        # Newton's predictor in run(): the current it extrapolates at, the last accepted step, steps so far
        self.predictor: dict | None = None
        self.inert_cells, self.particle_labels_given = inert_cells, particle_labels
        self.preset, self.petsc_options = preset, petsc_options
        if pair_preconditioner not in ("block", "schur"):
            raise InputError("solver.pair_preconditioner", pair_preconditioner, "'block' or 'schur'")
        self.pair_preconditioner = pair_preconditioner
        if electrolyte_preconditioner not in ("split", "electrochemical"):
            raise InputError("solver.electrolyte_preconditioner", electrolyte_preconditioner,
                             "'split' or 'electrochemical'")
        self.electrolyte_preconditioner = electrolyte_preconditioner
        self.build()

    # ------------------------------------------------------------------------------------ validation
    def _validate(self) -> None:
        check_reactive_area(self.reactive_area, self.meshdata)
        for marker, key in ((ELECTROLYTE, "electrolyte_regions"), (ACTIVE, "active_regions"),
                            (CONDUCTOR, "conductor_regions")):
            for name in self.regions[marker]:
                self.meshdata.cell_tag(name)
            if marker != CONDUCTOR and not self.regions[marker]:
                raise InputError(f"model.{key}", [], "at least one cell region")
        for name in self.porous_separator.regions:
            self.meshdata.cell_tag(name)
            if any(name in names for names in self.regions.values()):
                raise InputError("model.porous_separator.regions", name,
                                 "a region that is not also an electrolyte, active or conductor region")
        if self.double_layer is not None:
            if not 0 < self.electrolyte.transference_number < 1:
                raise InputError("model.electrolyte.transference_number", self.electrolyte.transference_number,
                                 "a number in (0, 1) with the double layer (ion diffusivities D/(2(1-t+)), D/(2t+))")
            if self.electrolyte.thermodynamic_factor != 1:
                raise InputError("model.electrolyte.thermodynamic_factor", self.electrolyte.thermodynamic_factor,
                                 "1 with the double layer (dilute-solution Nernst–Planck ions)")
        for name in self.separator:
            self.meshdata.facet_id(name)
        for name in self.collector:
            if not (isinstance(name, str) and name in self.meshdata.cell_names):
                self.meshdata.facet_id(name)
        if not (np.isfinite(self.double_layer_capacitance) and self.double_layer_capacitance >= 0):
            raise InputError("model.double_layer_capacitance", self.double_layer_capacitance,
                             "a non-negative capacitance in F/m^2")
        if self.double_layer is not None and self.double_layer_capacitance > 0:
            raise InputError("model.double_layer_capacitance", self.double_layer_capacitance,
                             "0 with model.double_layer (its Poisson electrolyte and Stern layer resolve the "
                             "double layer)")
        for key, value in (("model.conductor_conductivity", self.conductor_conductivity),
                           ("model.temperature", self.temperature)):
            if not (np.isfinite(value) and value > 0):
                raise InputError(key, value, "a positive number (SI units)")

    # --------------------------------------------------------------------------------------- stages
    def _build_phase_models(self, particle_model: str) -> None:
        """The electrolyte, particle and conductor models (femiec.problems.electrode_phases) and their fields
        in Newton-block order; the electrolyte starts in equilibrium with the particles (phi_e = -U(x0))."""
        if particle_model not in PARTICLE_MODELS:
            raise InputError("model.particle_model", particle_model, f"one of {sorted(PARTICLE_MODELS)}")
        if particle_model != "cahn_hilliard" and self.cahn_hilliard is not None:
            raise InputError("model.cahn_hilliard", "<table>", "no [model.cahn_hilliard] table with "
                             f"particle_model = '{particle_model}' (it sets the 'cahn_hilliard' particle model)")
        self.electrolyte_model = (ConcentratedElectrolyte if self.double_layer is None else DoubleLayerElectrolyte)(self)
        self.particle_model = PARTICLE_MODELS[particle_model](self)
        self.conductor_model = SolidConductor(self)
        self.phase_models = (self.electrolyte_model, self.particle_model, self.conductor_model)
        self.ocv: OpenCircuitVoltage = self.particle_model.ocv
        specs = [*self.electrolyte_model.field_specs(-self.particle_model.equilibrium_potential()),
                 *self.particle_model.field_specs(), *self.conductor_model.field_specs()]
        self.field_specs = sorted(specs, key=lambda spec: spec.block)
        self.field_names = tuple(spec.name for spec in self.field_specs)

    def index(self, name: str) -> int:
        """Block position of field ``name`` in ``u``, ``spaces`` and the Newton system."""
        return self.field_names.index(name)

    def build_spaces(self) -> None:
        """Phase markers and the problem's facet tags, one submesh per phase, a P1 space per field on its
        phase's submesh, the measures, the particle labels."""
        from dolfinx import fem

        self._mark_phases(self.inert_cells)
        self._reactive_area_weights()
        self._build_submeshes()
        self.spaces = [fem.functionspace(self.submeshes[spec.submesh], ("Lagrange", 1)) for spec in self.field_specs]
        metadata = {"quadrature_degree": self.quadrature_degree}
        self.dx = ufl.Measure("dx", domain=self.mesh, subdomain_data=self.cell_tags, metadata=metadata)
        self.ds = ufl.Measure("ds", domain=self.mesh, subdomain_data=self.facet_tags, metadata=metadata)
        self.dS = ufl.Measure("dS", domain=self.mesh, subdomain_data=[(REACTION, self.interface.ravel())],
                              metadata={"quadrature_degree": self.quadrature_degree + 1})
        self.dx_electrolyte = self.dx(ELECTROLYTE)
        self.dx_active = self.dx(ACTIVE)
        self.dx_solid = self.dx((ACTIVE, CONDUCTOR))
        self.gamma = self.dS(REACTION)
        self.ds_separator = self.ds(SEPARATOR)
        self.lumped_dx_electrolyte = ufl.Measure("dx", domain=self.mesh, subdomain_data=self.cell_tags, metadata={
            "quadrature_rule": "vertex", "quadrature_degree": 1})(ELECTROLYTE)
        self.length = self._length()
        self.scales = tuple(spec.scale for spec in self.field_specs)
        self.V0 = fem.functionspace(self.mesh, ("DG", 0))
        self._label_particles(self.particle_labels_given)

    def build_coefficients(self) -> None:
        """Per cell (DG0): the electrolyte volume fraction eps and transport factor eps^b (1 in the resolved
        pores, the porous separator's values in its layer) and the solid's electronic conductivity."""
        from dolfinx import fem

        V0 = self.V0
        cells = V0.dofmap.list[:, 0]
        layer = self.porous_separator
        self.porosity, self.transport_factor = fem.Function(V0, name="porosity"), fem.Function(V0)
        self.porosity.x.array[cells] = np.where(self.in_separator_layer, layer.porosity, 1.0)
        self.transport_factor.x.array[cells] = np.where(self.in_separator_layer,
                                                        layer.porosity ** layer.bruggeman_exponent, 1.0)
        # electronic conductivity of the solid per cell, and its largest value (the residual scale)
        self.solid_conductivity = fem.Function(V0)
        self.solid_conductivity.x.array[cells] = np.where(self.phase == CONDUCTOR, self.conductor_conductivity,
                                                          self.active.conductivity)
        self.solid_conductivity_ref = max(self.active.conductivity, self.conductor_conductivity)

    def build_conditions(self) -> None:
        """phi_s = 0 at the collector; the initial state (equilibrium at x0: c = c_ref, phi_s = 0,
        phi_e = -U(x0)); the time step and the applied current density (the control input)."""
        from dolfinx import fem

        self.bcs = self._collector_condition()
        self.u = [fem.Function(V, name=name) for V, name in zip(self.spaces, self.field_names)]
        self.u_n = [fem.Function(V) for V in self.spaces]
        self.u_nm1 = [fem.Function(V) for V in self.spaces]  # the state before u_n (BDF2, BDF3)
        self.u_nm2 = [fem.Function(V) for V in self.spaces]  # the state before u_nm1 (BDF3)
        for u, spec in zip(self.u, self.field_specs):
            u.x.array[:] = spec.initial
        self._copy(self.u, self.u_n)
        self._copy(self.u, self.u_nm1)
        self._copy(self.u, self.u_nm2)
        self.dt = fem.Constant(self.mesh, 1.0)
        self.step_ratio = fem.Constant(self.mesh, 0.0)  # w = dt / dt_previous of a BDF2 step; 0: backward Euler
        # e_0..e_3 of BDF3's correction to BDF2 (femiec.forms.time.bdf3_correction); zero below order 3
        self.bdf3_correction = fem.Constant(self.mesh, np.zeros(RATE_TERMS))
        self.current_density = fem.Constant(self.mesh, 0.0)  # applied current / separator area [A/m^2]

    @staticmethod
    def _copy(source, target) -> None:
        for a, b in zip(source, target):
            b.x.array[:] = a.x.array

    def fields(self, functions=None):
        """SI UFL views of the unknowns in block order (default: the present state): (c, c_s, phi_e, phi_s),
        or with the double layer (c+, c_s, phi, phi_s, c-); the Cahn–Hilliard particle model appends mu."""
        functions = self.u if functions is None else functions
        return tuple(scale * f for scale, f in zip(self.scales, functions))

    def field_map(self, functions=None) -> dict:
        """``{field name: SI UFL view}`` of the unknowns (default: the present state)."""
        return dict(zip(self.field_names, self.fields(functions)))

    def reaction_current(self, functions=None):
        """Anodic interface current density i [A/m^2] on Gamma (UFL, already restricted: electrolyte
        fields "+", solid fields "-"); integrate it as ``self.area_weight * i * self.gamma`` with forms
        from :meth:`form`. The kinetics (the particle model) see the electrolyte's concentration and Li reference potential at
        the reaction plane."""
        fields = self.field_map(functions)
        c, phi_e = self.electrolyte_model.reaction_plane(fields)
        return self.particle_model.reaction_current(c("+"), phi_e("+"), fields[SolidConductor.potential]("-"),
                                                    fields)

    def ionic_current(self, functions=None):
        """Electrolyte current density i_e [A/m^2] (UFL; superficial in the porous separator layer, where
        the conductivity is kappa eps^b)."""
        return self.electrolyte_model.ionic_current(self.field_map(functions))

    def ion_fluxes(self, functions=None):
        """Nernst–Planck fluxes (N+, N-) [mol/(m^2 s)] of the double-layer electrolyte (UFL; superficial in
        the porous separator layer, where the ion diffusivities are D+- eps^b)."""
        return self.electrolyte_model.ion_fluxes(self.field_map(functions))

    def form(self, ufl_form):
        """Compile a UFL form (or nested lists of forms) of this problem's fields on the parent mesh."""
        from dolfinx import fem

        return fem.form(ufl_form, entity_maps=self.entity_maps)

    def constant(self, spec, key: str):
        """A number or tensor spec (SI) as a dolfinx Constant (gdim x gdim for a tensor)."""
        from dolfinx import fem

        from femiec.materials.tensors import plane_block, tensor_from_spec

        if isinstance(spec, (int, float)) and not isinstance(spec, bool):
            return fem.Constant(self.mesh, float(spec))
        return fem.Constant(self.mesh, plane_block(tensor_from_spec(spec, key), self.mesh.geometry.dim))

    def build_residual(self) -> None:
        """One residual per field, ``scale * (storage + steady)`` of its phase model, with the variable-step
        BDF rate in the storage form: BDF2 [(1+2w)/(1+w) u - (1+w) u_n + w^2/(1+w) u_nm1] / dt
        (femiec.forms.time.bdf2, w = ``step_ratio``; w = 0: backward Euler) plus BDF3's correction
        (e_0 u + e_1 u_n + e_2 u_nm1 + e_3 u_nm2) / dt (e = ``bdf3_correction``, zero below order 3)
        (:meth:`storage_residual`, :meth:`steady_residual`)."""
        fields, previous, before, earlier = (self.field_map(u) for u in (self.u, self.u_n, self.u_nm1, self.u_nm2))
        rates = {name: bdf2(fields[name], previous[name], before[name], self.dt, self.step_ratio)
                 + bdf([fields[name], previous[name], before[name], earlier[name]], self.bdf3_correction, self.dt)
                 for name in self.field_names}
        self.residual = [storage + steady if storage is not None else steady
                         for storage, steady in zip(self.storage_residual(rates), self.steady_residual())]
        self._forms = {}

    def _tests(self) -> dict:
        return {name: ufl.TestFunction(V) for name, V in zip(self.field_names, self.spaces)}

    def _residual_scales(self) -> dict:
        d = self.mesh.topology.dim
        return {name: value for model in self.phase_models for name, value in model.residual_scale(self.length,
                                                                                                   d).items()}

    def storage_residual(self, rates: dict) -> list:
        """The storage (mass) forms M du/dt of each field in block order, scaled as the residual (None for a
        field without storage: phi_e and phi_s, unless a double-layer capacitance makes their storage the
        charging current on Gamma): ``rates[name]`` is the SI UFL time derivative of field
        ``name`` (backward Euler in a time step; i omega du in a small-signal analysis)."""
        tests, scales = self._tests(), self._residual_scales()
        storage = {}
        for model in self.phase_models:
            storage.update(model.storage(rates, tests))
        return [scales[name] * storage[name] if name in storage else None for name in self.field_names]

    def steady_residual(self) -> list:
        """The steady residual F(u) of each field in block order (everything but the storage term), scaled;
        the control input is ``self.current_density`` (applied current / separator area [A/m^2], set by
        :meth:`set_current`), the output functional :meth:`voltage_form`."""
        tests, scales = self._tests(), self._residual_scales()
        fields, i = self.field_map(), self.reaction_current()
        steady = {}
        for model in self.phase_models:
            steady.update(model.steady(fields, tests, i))
        return [scales[name] * steady[name] for name in self.field_names]

    def build_solver(self) -> None:
        """Newton (femiec.solvers.NonlinearSolver) on the blocked system with ``self.preset`` and
        ``self.petsc_options`` (the fieldsplit preset gets the block-AMG Newton–Krylov settings)."""
        from femiec.solvers import NonlinearSolver, UpdateConvergence, block_amg_newton_krylov

        preset, petsc_options = self.preset, self.petsc_options
        options = {"snes_rtol": 1e-20, "snes_atol": 1e-13, "snes_max_it": 25, "snes_linesearch_type": "basic"}
        # a particle model's pair of fields with a fourth-order coupling (Cahn–Hilliard's c_s and mu) is one
        # split with its own block preconditioner (``pair_preconditioner``: "block", the particle model's
        # python PC, or "schur", a Schur-complement fieldsplit); the electrolyte's (c, phi_e) is one split
        # with its python PC with ``electrolyte_preconditioner = "electrochemical"``
        pairs, python_pairs = {}, {}
        if preset == "fieldsplit":
            pairs.update(getattr(self.particle_model, "fieldsplit_pairs", {}))
            if pairs and self.pair_preconditioner == "block":
                python_pairs.update({name: self.particle_model for name in pairs})
            if self.electrolyte_preconditioner == "electrochemical":
                pairs.update(self.electrolyte_model.fieldsplit_pairs)
                python_pairs.update({name: self.electrolyte_model for name in self.electrolyte_model.fieldsplit_pairs})
            options.update(block_amg_newton_krylov(self.field_names, pairs, python_pairs={
                name: model.block_solves for name, model in python_pairs.items()}))
            # the preconditioner rebuilt every third Newton iteration counted over the time steps, not
            # from each step's first iteration: most steps of an error-controlled discharge take one
            # (32^3 crop, 1C: 26.0 -> 24.1 s, 389 -> 424 Krylov iterations; benchmarks/README.md)
            options["snes_lag_preconditioner_persists"] = True
        pair_pcs = {name: model.block_preconditioner for name, model in python_pairs.items()} or None
        options.update(petsc_options or {})
        # Newton ends when the Deuflhard estimate of the error of the dimensionless unknowns (max-norm) is
        # below step_tolerance: in the quadratic phase this saves the last iteration, whose update would
        # only confirm a converged state (the residual floor of a large system lies above snes_atol, so
        # that test alone cannot end the iteration)
        # a particle model with bounded unknowns (Cahn–Hilliard: 0 < x < 1) shortens Newton's directions;
        # the update test then counts only after a whole step
        safeguard = getattr(self.particle_model, "install_safeguard", None)
        convergence = UpdateConvergence(self.step_tolerance, error_estimate=True, full_step=None if safeguard is None
                                        else lambda: self.particle_model.full_step)
        self.solver = NonlinearSolver(self.residual, self.u, self.bcs, preset=preset, petsc_options=options,
                                      prefix=self.options_prefix, fields=self.field_names if preset == "fieldsplit"
                                      else None, entity_maps=self.entity_maps, convergence_test=convergence,
                                      pairs=pairs or None, pair_preconditioners=pair_pcs)
        if safeguard is not None:
            safeguard(self.solver)

    # ------------------------------------------------------------------------------------- solving
    def _prepare(self) -> None:
        if not hasattr(self, "_active_volume"):
            self._active_volume = self.volume(ACTIVE)
            self._separator_area = self.separator_area()

    def set_current(self, current: float) -> None:
        """Applied current I [A] (discharge positive), spread uniformly over the separator facets."""
        self._prepare()
        self.applied_current = float(current)
        self.current_density.value = self.applied_current / self._separator_area

    def step(self, dt: float, previous_steps=(), order: int = 1):
        """One step of length dt [s] at the applied current: variable-step BDF of ``order`` (1: backward
        Euler, 2, 3) after the accepted steps ``previous_steps`` [s] (newest first; at least order - 1);
        the state is restored on failure. Returns the solver statistics."""
        self.dt.value = dt
        self.step_ratio.value = dt / previous_steps[0] if order >= 2 else 0.0
        self.bdf3_correction.value[:] = bdf3_correction([dt, *previous_steps[:2]]) if order == 3 else 0.0
        stats = self.solver.solve(check=False)
        if not stats.converged:
            self._copy(self.u_n, self.u)
        return stats

    def predict(self, ratio: float) -> None:
        """Newton's initial guess for the next step: the linear extrapolation u_n + ratio (u_n - u_(n-1)) of
        the last two accepted states (``ratio`` = dt / dt_previous), kept at u_n wherever it would leave a
        concentration's range (c > 0; 0 < c_s < c_max)."""
        for spec, u, now, before in zip(self.field_specs, self.u, self.u_n, self.u_nm1):
            guess = now.x.array + ratio * (now.x.array - before.x.array)
            if spec.unit == "mol/m^3":
                upper = 1.0 if spec.name == self.particle_model.concentration else np.inf
                guess = np.where((guess > 0) & (guess < upper), guess, now.x.array)
            u.x.array[:] = guess

    def _accept(self, dt: float) -> None:
        self._copy(self.u_nm1, self.u_nm2)
        self._copy(self.u_n, self.u_nm1)
        self._copy(self.u, self.u_n)
        self.time += dt
        self.charge_passed += self.applied_current * dt

    def record(self, stats=None, rejected: int = 0) -> ElectrodeRecord:
        """Append the present state to ``records`` (with Cahn–Hilliard particles its phase boundaries:
        :meth:`phase_boundaries`)."""
        rec = ElectrodeRecord(self.time, self.applied_current, self.voltage(),
                              self.charge_passed / SECONDS_PER_HOUR, self.mean_stoichiometry(),
                              stats.newton_iterations if stats else 0, stats.krylov_iterations if stats else 0,
                              rejected, **self.phase_boundaries())
        self.records.append(rec)
        return rec

    def run(self, *, c_rate: float | None = None, current: float | None = None, t_end: float | None = None,
            dt: float | None = None, dt_min: float | None = None, dt_max: float | None = None,
            voltage_min: float = 3.0, voltage_max: float = 4.3, cutoff_tolerance: float = 0.005,
            output_times: Sequence[float] = (), on_output: Callable | None = None,
            on_step: Callable | None = None, scheme: str = "bdf1", error_tolerance: float | None = None,
            dense_output: float | None = None, predictor: bool = True, **stepper_options) -> str:
        """Galvanostatic run at ``current`` [A] or ``c_rate`` (1/h; positive: discharge, negative: charge)
        from the present state until a stop condition; returns the reason ("voltage_min", "voltage_max",
        "stoichiometry_window", "t_end" or "current_not_sustained").

        ``t_end`` is the absolute end time [s] (default: the present time + 1.2 h / |C-rate|); defaults of
        the steps: first dt = duration / 200, dt_min = dt / 1e4, dt_max = duration / 20; after
        :meth:`restart` the defaults are the checkpoint's schedule (the step the controller wanted next and
        the run's bounds), so the resumed run takes the steps of the uninterrupted one.
        ``on_output(t)`` at the start, at ``output_times`` and at the end; ``on_step(record)`` after each
        accepted step.

        Accuracy in time (docs/electrode.md, "Time stepping"): ``scheme`` "bdf1" (backward Euler, first
        order), "bdf2" (variable-step BDF2, second order; the first step of a run and a step more than
        1 + sqrt(2) times its predecessor are backward Euler) or "bdf3" (variable-step BDF3, third order,
        from the third step of a run; a lower order where the step ratios exceed the bounds of
        femiec.forms.time.bdf_order). ``error_tolerance`` [V]: the steps follow the
        local error estimate of the cell voltage (femiec.solvers.error_control.LocalErrorControl: a step
        whose estimate exceeds it is redone shorter; the next step is dt safety (tol/err)^(1/(p+1))), and
        the default first step is duration / 1000; without it (the default) steps grow by ``grow`` after
        easy Newton solves. With it Newton stops at max(step_tolerance, NEWTON_ERROR_SHARE error_tolerance /
        V_T) (its share of the voltage, ~V_T times that, is 5% of the local error per step), estimates the
        error of a step's first iteration from the contraction of the steps before (one iteration where
        the predictor lands close) and keeps a step's first Jacobian while the updates stay below
        JACOBIAN_REUSE and contract (chord steps); not
        with phase-separating particles. ``dense_output``: a fraction f of the 1C capacity; the voltage, capacity and
        stoichiometry at every f Q_1C of charge (time spacing f * 3600 s * I_1C / |I|) inside accepted steps
        are interpolated (femiec.solvers.dense_output, of the scheme's order) into ``dense_records``.
        ``predictor``: from the third step at the run's current on, Newton starts from :meth:`predict`, the
        extrapolation of the last two states, instead of the last state (the same solution to the Newton
        tolerance in fewer iterations); :attr:`predictor` keeps its history, which a checkpoint saves. Not
        with phase-separating (Cahn–Hilliard) particles, whose solutions branch where they nucleate.

        The stop conditions are terminal events of the stepper (:meth:`stop_events`): the voltage cut-off
        (landed on within ``cutoff_tolerance`` [V]: a step that ends more than the tolerance beyond it is
        redone with the step from the secant through the voltages at its start and end, aimed at half the
        tolerance beyond, so the capacity at the cut-off is not that of a whole step later) and the end of the
        stoichiometry window (not landed on). A step that collapses below dt_min after the first step
        ends the run as "current_not_sustained".
        """
        from femiec.solvers import AdaptiveTimeStepper
        from femiec.solvers.dense_output import DenseOutput
        from femiec.solvers.error_control import LocalErrorControl

        self._prepare()
        if (c_rate is None) == (current is None):
            raise InputError("model.discharge", {"c_rate": c_rate, "current": current}, "exactly one of c_rate, current")
        current = c_rate * self.one_c_current() if current is None else float(current)
        if current == 0:
            raise InputError("model.discharge.current", current, "a non-zero current (discharge > 0, charge < 0)")
        self.set_current(current)
        hours = 1.2 * self.one_c_current() / abs(current)
        t_end = float(t_end) if t_end is not None else self.time + hours * SECONDS_PER_HOUR
        if not t_end > self.time:
            raise InputError("model.discharge.t_end", t_end, f"an end time after the present time {self.time} s")
        if not cutoff_tolerance > 0:
            raise InputError("model.discharge.cutoff_tolerance", cutoff_tolerance, "a positive voltage in V")
        if scheme not in SCHEME_ORDERS:
            raise InputError("model.discharge.scheme", scheme, "'bdf1' (backward Euler), 'bdf2' or 'bdf3'")
        if scheme == "bdf3" and hasattr(self.particle_model, "phase_compositions"):
            raise InputError("model.discharge.scheme", scheme, "'bdf1' or 'bdf2' with particle_model = "
                             "'cahn_hilliard' (its block preconditioner takes the BDF2 rate)")
        resumed, self.resumed = self.resumed or {}, None
        dt = dt or resumed.get("dt") or (t_end - self.time) / (200 if error_tolerance is None else 10000)
        control = None if error_tolerance is None else LocalErrorControl(
            error_tolerance, self.voltage, order=lambda: history["order"], max_order=SCHEME_ORDERS[scheme])
        stepper = AdaptiveTimeStepper(dt, t_end, t0=self.time, dt_min=dt_min or resumed.get("dt_min") or dt * 1e-4,
                                      dt_max=dt_max or resumed.get("dt_max") or (t_end - self.time) / 20,
                                      comm=self.mesh.comm, log_steps=False, error_control=control,
                                      **stepper_options)
        if not self.records:
            self.record()
        dense = None if dense_output is None else DenseOutput(
            dense_output * SECONDS_PER_HOUR * self.one_c_current() / abs(current), self.records[0].time)
        # the accepted steps of this run, newest first, and the order of the attempt (BDF)
        history = {"steps": [], "order": 1}
        # not with phase-separating particles: their Newton solutions branch (nucleation), so where Newton
        # starts can decide which one it finds, on one partition and not on another
        branching = hasattr(self.particle_model, "phase_compositions")
        predictor = predictor and not branching
        newton = self.solver.convergence_test
        if not predictor or (self.predictor or {}).get("current") != current:
            self.predictor = {"current": current, "dt": None, "accepted": 0} if predictor else None
            newton.first_step = None  # Newton's first contraction, measured anew at this current

        def advance(t, dt_try):
            history["order"] = bdf_order(dt_try, history["steps"], SCHEME_ORDERS[scheme])
            if self.predictor and self.predictor["accepted"] >= 2:
                self.predict(dt_try / self.predictor["dt"])
            return self.step(dt_try, history["steps"], history["order"])
        if on_output is not None:
            on_output(self.time)
        outputs = {float(t) for t in output_times}

        def accept(t_new, dt_step, stats):
            order = history["order"]
            self._accept(dt_step)
            history["steps"] = [dt_step, *history["steps"]][:SCHEME_ORDERS["bdf3"] - 1]
            if self.predictor:
                self.predictor.update(dt=dt_step, accepted=self.predictor["accepted"] + 1)
            rec = self.record(stats, stepper.records[-1].rejected_attempts)
            if dense is not None:
                self.dense_records += [ElectrodeRecord(time, rec.current, *map(float, values), solver_step=False)
                                       for time, values
                                       in dense.add(t_new, [rec.voltage, rec.capacity_Ah, rec.stoichiometry], order)]
            self.schedule = stepper.schedule()
            log.info("step %d: t = %.6g s, V = %.6f V, x = %.4f, %d Newton, %d Krylov, %d rejected",
                     len(self.records) - 1, rec.time, rec.voltage, rec.stoichiometry, rec.newton_iterations,
                     rec.krylov_iterations, rec.rejected_attempts)
            if on_step is not None:
                on_step(rec)
            if on_output is not None and any(abs(t_new - t) <= 1e-9 * t_end for t in outputs | {t_end}):
                on_output(t_new)

        events = self.stop_events(current, voltage_min, voltage_max, cutoff_tolerance)
        if error_tolerance is not None and not branching:
            newton.update_tolerance = max(self.step_tolerance, NEWTON_ERROR_SHARE * error_tolerance / self.vt)
            newton.remember_contraction = True
            self.solver.jacobian_reuse = JACOBIAN_REUSE
        try:
            stepper.run(advance, accept, lambda: self._copy(self.u_n, self.u),
                        output_times=sorted(outputs), events=events)
            reason = stepper.stop_reason
        except SolverError:
            # the step collapsed: the particles' surfaces are saturated (or emptied), so the cell cannot
            # carry the current any more; that ends a galvanostatic run as a cut-off does
            if len(self.records) < 2:
                raise
            reason = "current_not_sustained"
        finally:
            newton.update_tolerance = self.step_tolerance
            newton.remember_contraction = False
            self.solver.jacobian_reuse = None
        if reason != "t_end" and on_output is not None:
            on_output(self.time)
        self.stop_reason = reason
        return reason

    def stop_events(self, current: float, voltage_min: float, voltage_max: float, cutoff_tolerance: float) -> list:
        """The terminal events of a run at ``current`` [A]: discharge (I > 0) the voltage falling to
        ``voltage_min`` [V] (g = V - V_min, landed on within ``cutoff_tolerance`` [V]) and the mean
        stoichiometry rising to the top of the window (g = x - x_max, not landed on); charge (I < 0) the
        voltage rising to ``voltage_max`` and the stoichiometry falling to the bottom of the window."""
        from femiec.solvers import Event

        lo, hi = self.active.stoichiometry_window
        if current > 0:
            return [Event("voltage_min", lambda t: self.voltage() - voltage_min, -1, tolerance=cutoff_tolerance),
                    Event("stoichiometry_window", lambda t: self.mean_stoichiometry() - hi, +1)]
        return [Event("voltage_max", lambda t: self.voltage() - voltage_max, +1, tolerance=cutoff_tolerance),
                Event("stoichiometry_window", lambda t: self.mean_stoichiometry() - lo, -1)]

    # ------------------------------------------------------------------------------------ impedance
    def impedance_port(self):
        """The small-signal port of the working electrode (femiec.studies.impedance.ImpedancePort) about
        the present state, which must be steady at open circuit: the initial equilibrium state (any state
        of charge ``initial_stoichiometry``, zero current) is; a state after a run is only once its
        concentrations have relaxed. A DC current bias has no steady state in a finite electrode (the
        current keeps changing its state of charge), so the applied current must be zero.

        Current-driven: input the applied current density j = I / A_separator [A/m^2] (``current_density``;
        ``input_scale`` = A_separator, so Z is in Ohm), output the voltage V = -<phi_e>_separator against a
        Li reference at the separator face (:meth:`voltage_form`). A discharge current (I > 0) lowers V, so
        Z = -dV/dI (Re Z > 0). ``area`` = A_separator (area-specific Z in Ohm m^2). The storage includes the
        double-layer capacitance on Gamma when ``double_layer_capacitance`` > 0 (without it the interface
        has no capacitance and Z has no charge-transfer arc)."""
        from femiec.studies.impedance import ImpedancePort

        self._prepare()
        if self.current_density.value != 0:
            raise InputError("impedance.bias", f"{self.applied_current} A",
                             "open circuit (zero applied current: a DC current would keep discharging the "
                             "electrode, whose state is then not steady)")
        scales = dict(zip(self.field_names, self.scales))

        def storage(rates):
            return self.storage_residual({name: scales[name] * w for name, w in zip(self.field_names, rates)})

        def set_input(value):
            self.current_density.value = value

        one_c = self.one_c_current() / self._separator_area
        return ImpedancePort(
            residual=self.steady_residual(), unknowns=self.u, bcs=self.bcs, storage=storage,
            set_input=set_input, input_value=0.0, input_step=1e-3 * one_c, output=self.voltage_form(),
            drive="current", sign=-1.0, entity_maps=self.entity_maps, input_scale=self._separator_area,
            area=self._separator_area,
            fields=self.response_fields,
            description=f"working electrode against a Li reference at the separator (open circuit at "
                        f"x = {self.mean_stoichiometry():.4g})")

    def response_fields(self, functions) -> dict:
        """``{name: (Function, unit)}``: the SI response per ampere of applied current of each unknown
        (e.g. ``phi_e`` in V/A) from a small-signal solution part du (``functions``, shaped like ``u``: the
        real or the imaginary part)."""
        from dolfinx import fem

        out = {}
        for spec, w in zip(self.field_specs, functions):
            f = fem.Function(w.function_space)
            f.x.array[:] = spec.scale * w.x.array / self._separator_area
            out[spec.name] = (f, f"{spec.unit}/A")
        return out

    # ------------------------------------------------------------------------------------- output