"""Model kind ``electrode``: the microstructure-resolved electrode under galvanostatic discharge or charge
(femiec.problems.electrode; keys in docs/electrode.md). Every key is typed here; the parameter sets are the
classes of :mod:`femiec.materials.electrochemistry`, given in full or by library name."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from femiec.sections import Checkpoint, PositiveFloat, Section
from femiec.errors import InputError
from femiec.materials.electrochemistry import (ACTIVE_MATERIALS, ELECTROLYTES, ActiveMaterial, DoubleLayer,
                                               Electrolyte, PorousSeparator)
from femiec.models.intercalation_particles import RegularSolution
from femiec.models.spec import ModelSection, ModelSpec

NonZeroFloat = Annotated[float, Field(allow_inf_nan=False)]


def _library(entries: dict):
    """Before-validator: a library name becomes that entry's table (other values pass unchanged)."""
    def resolve(value):
        if isinstance(value, str):
            if value not in entries:
                raise InputError("value", value, f"a table of keys or a library name: {', '.join(entries)}")
            return entries[value].parameters.model_dump()
        return value
    return BeforeValidator(resolve)


def _turned_off(value):
    """None for ``false`` or 0 (an option turned off; TOML has no null); ``true`` is refused."""
    if value is True:
        raise ValueError("a positive number, or false (off)")
    return None if value is False or (type(value) in (int, float) and value == 0) else value


#: Before-validator of an option a case turns off with ``false`` or 0
_off = BeforeValidator(_turned_off)


class Discharge(Section):
    """Galvanostatic run: exactly one of ``c_rate`` [1/h] or ``current`` [A] (positive: discharge,
    negative: charge); cut-offs ``voltage_min`` / ``voltage_max`` [V] landed on within
    ``cutoff_tolerance`` [V]; end time ``t_end`` [s] (default 1.2 h / |C-rate| after the start); first
    step ``dt``, bounds ``dt_min``, ``dt_max`` [s] (defaults from the duration); ``outputs`` field
    snapshots; ``scheme`` "bdf2" (default), "bdf3" or "bdf1" (backward Euler); ``error_tolerance`` [V]: steps
    controlled by the local error estimate of the voltage (default 5e-4 V; ``false`` or 0: by Newton
    iteration counts); ``dense_output``: a fraction of the 1C capacity at which interpolated points are
    added to the curve (default 0.01; ``false`` or 0: none). docs/electrode.md, "Time stepping"."""

    c_rate: NonZeroFloat | None = None
    current: NonZeroFloat | None = None
    voltage_min: PositiveFloat = 3.0
    voltage_max: PositiveFloat = 4.3
    cutoff_tolerance: PositiveFloat = 0.005
    t_end: PositiveFloat | None = None
    dt: PositiveFloat | None = None
    dt_min: PositiveFloat | None = None
    dt_max: PositiveFloat | None = None
    outputs: Annotated[int, Field(ge=1)] = 10
    scheme: Literal["bdf1", "bdf2", "bdf3"] = "bdf2"
    error_tolerance: Annotated[PositiveFloat | None, _off] = 5e-4  # V, local error per step (None: off)
    dense_output: Annotated[Annotated[float, Field(gt=0, le=1)] | None, _off] = 0.01  # of the 1C capacity

    @field_validator("c_rate", "current")
    @classmethod
    def _non_zero(cls, value):
        if value == 0:
            raise ValueError("a non-zero value (positive: discharge, negative: charge)")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if (self.c_rate is None) == (self.current is None):
            raise InputError("value.c_rate", {"c_rate": self.c_rate, "current": self.current},
                             "exactly one of c_rate [1/h] or current [A]")
        if not self.voltage_min < self.voltage_max:
            raise InputError("value.voltage_min", self.voltage_min, f"a cut-off below voltage_max = {self.voltage_max} V")
        if self.dt_min is not None and self.dt_max is not None and self.dt_min > self.dt_max:
            raise InputError("value.dt_min", self.dt_min, f"a step no longer than dt_max = {self.dt_max} s")
        return self

    def run_arguments(self) -> dict:
        """The keyword arguments of :meth:`femiec.problems.electrode.ElectrodeProblem.run`."""
        return self.model_dump(exclude={"outputs"}, exclude_none=True)


class CounterElectrode(Section):
    """The lithium metal counter electrode of the half cell, facing the separator face (same area): its
    Butler–Volmer ``exchange_current_density`` [A/m^2] and ``double_layer_capacitance`` [F/m^2]. Used by the
    impedance study for the three-electrode split: working electrode against the reference at the
    separator face (the model), counter electrode against it, and the full cell (their sum)."""

    exchange_current_density: PositiveFloat
    double_layer_capacitance: PositiveFloat = 0.2

    def impedance(self, frequency, temperature: float, area: float):
        """Z [Ohm] of the counter electrode, 1/(i omega C_dl + 1/R_ct) / area, R_ct = R T/(F i0)."""
        import numpy as np

        from femiec.analytic.impedance import charge_transfer_resistance, interface_impedance

        omega = 2 * np.pi * np.asarray(frequency, dtype=float)
        r_ct = charge_transfer_resistance(self.exchange_current_density, temperature)
        return interface_impedance(omega, self.double_layer_capacitance, r_ct) / area


class ElectrodeModel(ModelSection):
    """Microstructure-resolved electrode (docs/electrode.md): cell regions of each phase, the separator
    facets where the current enters and the collector (facets or cell regions held at phi_s = 0), the
    parameter sets, the run and its checkpoints."""

    kind: Literal["electrode"]
    electrolyte_regions: Annotated[list[str], Field(min_length=1)] = ["pore"]
    active_regions: Annotated[list[str], Field(min_length=1)] = ["nmc"]
    conductor_regions: list[str] = []
    separator: Annotated[list[str], Field(min_length=1)] = ["xmin"]
    collector: Annotated[list[str], Field(min_length=1)] = ["xmax"]
    electrolyte: Annotated[Electrolyte, _library(ELECTROLYTES)] = Field(default_factory=Electrolyte)
    active_material: Annotated[ActiveMaterial, _library(ACTIVE_MATERIALS)] = Field(default_factory=ActiveMaterial)
    particle_model: Literal["fickian", "cahn_hilliard"] = "fickian"  # femiec.problems.electrode_phases.PARTICLE_MODELS
    cahn_hilliard: RegularSolution | None = None  # the regular solution of particle_model = "cahn_hilliard"
    conductor_conductivity: PositiveFloat = 10.0  # S/m
    temperature: PositiveFloat = 298.15  # K
    porous_separator: PorousSeparator | None = None
    double_layer: DoubleLayer | None = None
    double_layer_capacitance: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0  # F/m^2, on Gamma
    # femiec.problems.electrode_geometry.REACTIVE_AREAS; None: "smooth" on a voxel mesh, else "voxel"
    reactive_area: Literal["voxel", "smooth"] | None = None
    counter_electrode: CounterElectrode | None = None  # Li metal, for the impedance study's full cell
    discharge: Discharge = Field(default_factory=lambda: Discharge(c_rate=1.0))
    checkpoint: Checkpoint = Field(default_factory=Checkpoint)

    def referenced_cell_tags(self) -> list[tuple[str, str]]:
        keys = ("electrolyte_regions", "active_regions", "conductor_regions")
        tags = [(f"model.{key}", name) for key in keys for name in getattr(self, key)]
        if self.porous_separator is not None:
            tags += [("model.porous_separator.regions", name) for name in self.porous_separator.regions]
        return tags

    def referenced_facet_tags(self) -> list[tuple[str, str]]:
        return [("model.separator", name) for name in self.separator]

    def continues_outputs(self) -> bool:
        return self.checkpoint.restart is not None

    @model_validator(mode="after")
    def _particle_model_keys(self):
        """``[model.cahn_hilliard]`` is required by particle_model = "cahn_hilliard" and refused otherwise; the
        Cahn–Hilliard particles take their kinetics and equilibrium voltage from it, so the active material's
        Fickian-only keys (ocv, exchange_current_density, transfer_coefficient, kinetics,
        reorganization_energy) are refused with it."""
        if self.particle_model == "cahn_hilliard":
            if self.cahn_hilliard is None:
                raise InputError("value.cahn_hilliard", None, "a [model.cahn_hilliard] table (interaction_energy, "
                                 "gradient_coefficient, standard_potential, rate_constant, ...) with "
                                 "particle_model = 'cahn_hilliard'")
            self.cahn_hilliard.check_kinetics("value.cahn_hilliard")
            fickian = sorted({"ocv", "exchange_current_density", "transfer_coefficient", "kinetics",
                              "reorganization_energy"} & self.active_material.model_fields_set)
            if fickian:
                raise InputError(f"value.active_material.{fickian[0]}", getattr(self.active_material, fickian[0]),
                                 "no such key with particle_model = 'cahn_hilliard' (the kinetics and the "
                                 "equilibrium voltage are those of [model.cahn_hilliard])")
        elif self.cahn_hilliard is not None:
            raise InputError("value.cahn_hilliard", "<table>", "no [model.cahn_hilliard] table with particle_model "
                             f"= '{self.particle_model}' (set particle_model = 'cahn_hilliard' to use it)")
        return self

    @model_validator(mode="after")
    def _one_double_layer(self):
        if self.double_layer is not None and self.double_layer_capacitance > 0:
            raise InputError("value.double_layer_capacitance", self.double_layer_capacitance,
                             "0 with model.double_layer (its Poisson electrolyte and Stern layer resolve the "
                             "double layer)")
        return self

    def check_case(self, case) -> None:
        if case.solver.preset != "direct" and self.double_layer is not None:
            # FGMRES + BoomerAMG per block did not converge on the planar double-layer cell of the tests
            raise InputError("solver.preset", case.solver.preset, "'direct' with model.double_layer (the Krylov "
                             "presets do not converge on the Poisson system)")
        if case.study is not None and self.checkpoint.restart is not None:
            raise InputError("model.checkpoint.restart", self.checkpoint.restart,
                             "no restart with [study] kind = \"impedance\" (the study starts from open circuit at "
                             "model.active_material.initial_stoichiometry; a state after a run is not steady)")


def build(case, meshdata, comm):
    """The :class:`ElectrodeProblem` of the case (after :func:`check`), restarted from its checkpoint when
    one is named, with the run's arguments checked against it (femiec.problems.electrode_case); a warning
    when its unknowns are estimated not to fit in the available memory."""
    from femiec.plausibility import ELECTRODE_BYTES_PER_UNKNOWN, warn_memory
    from femiec.problems.electrode_case import problem_from_section

    _warn_unresolved_double_layer(case.model, meshdata)
    solver = case.solver
    blocks = {key: value for key in ("electrolyte_preconditioner", "pair_preconditioner")
              if (value := getattr(solver, key)) is not None}
    problem = problem_from_section(case.model, meshdata, solver.preset, solver.petsc_options, **blocks)
    unknowns = sum(V.dofmap.index_map.size_global for V in problem.spaces)
    warn_memory("mesh", unknowns, "electrode unknowns", ELECTRODE_BYTES_PER_UNKNOWN)
    return problem


def check(case, meshdata, comm) -> None:
    """What needs the mesh but not the problem (``femiec validate`` without ``--build``): the collector and
    separator against the mesh, the cut-off against the initial open-circuit voltage
    (femiec.problems.electrode_case.check_section), and a warning when the double layer's Debye length is
    not resolved by the mesh."""
    from femiec.problems.electrode_case import check_section

    check_section(case.model, meshdata)
    _warn_unresolved_double_layer(case.model, meshdata)


def _warn_unresolved_double_layer(model, meshdata) -> None:
    """A warning when the full Poisson electrolyte's Debye length is smaller than the mesh size."""
    if model.double_layer is not None:  # a full Poisson electrolyte: its double layer needs h < lambda_D
        from femiec.analytic.electrochemistry import debye_length
        from femiec.constants import VACUUM_PERMITTIVITY
        from femiec.plausibility import warn_unresolved_debye_length

        c = model.electrolyte.concentration
        permittivity = model.double_layer.relative_permittivity * VACUUM_PERMITTIVITY
        warn_unresolved_debye_length("model.double_layer", debye_length(permittivity, model.temperature, [c, c],
                                                                        [1, -1]), h=meshdata.smallest_cell_size())


def run(case, problem, out_dir, progress) -> dict:
    from femiec.problems.electrode_case import run_case

    return run_case(case, problem, out_dir, progress)


def port(case, problem, study):
    """The working electrode's port about open circuit at the case's initial stoichiometry (the initial
    equilibrium is steady); with ``model.counter_electrode`` the counter electrode's and the full cell's
    spectra come with it (the three-electrode split)."""
    port = problem.impedance_port()
    counter = case.model.counter_electrode
    if counter is not None:
        def companions(frequency, impedance):
            z_counter = counter.impedance(frequency, case.model.temperature, port.area)
            return {"counter": z_counter, "cell": impedance + z_counter}

        port.companions = companions
    port.details = {"bias": "open circuit", "mean_stoichiometry": problem.mean_stoichiometry(),
                    "open_circuit_voltage_V": problem.voltage(),
                    "double_layer_capacitance_F_m2": case.model.double_layer_capacitance}
    return port


def image_halo(mesh_section) -> int:
    """Halo planes of an image mesh read by planes (femiec.problems.electrode_planes.electrode_halo)."""
    from femiec.problems.electrode_planes import electrode_halo

    return electrode_halo(mesh_section.voxel_size)


MODEL = ModelSpec("electrode", ElectrodeModel, build, run, check=check, check_outline=True, port=port,
                  image_halo=image_halo,
                  preview=lambda problem: problem.output_fields()["stoichiometry"][0],
                  summary="microstructure-resolved electrode, galvanostatic discharge/charge")
