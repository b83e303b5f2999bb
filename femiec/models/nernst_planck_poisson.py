"""Model kind ``nernst_planck_poisson``: coupled Nernst–Planck–Poisson transport with interface kinetics,
steady or transient (femiec.problems.nernst_planck_poisson; keys in docs/nernst_planck_poisson.md).

Every key is typed here; each table maps onto one declarative object the problem takes (``to_species``,
``to_condition``, ``to_electrode``, ``to_reaction``, ``to_heat_sources``; the temperature through
femiec.problems.thermal_case). Checks that need the mesh or the other species (facet tags, cell regions,
species named by conditions and reactions) are made when the problem is built and name the case key too.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field, StrictBool, StrictInt, ValidationError, field_validator, model_validator

from femiec.errors import InputError
from femiec.models.spec import ModelSection, ModelSpec
from femiec.models.temperature import (TEMPERATURE_KINDS, ConstantTemperature, ExpressionTemperature,
                                       FileTemperature, SolvedTemperature, regions_of)
from femiec.sections import (Checkpoint, FiniteFloat, LawSpec, PositiveFloat, RegionalPropertySpec, RegionalTensorSpec, Section,
                             interval)

NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
#: facet-tag names or integer tags: one, or a non-empty list
Facets = Union[str, StrictInt, Annotated[list[Union[str, StrictInt]], Field(min_length=1)]]
#: a Dirichlet value from a script may also be a callable x -> values, x of shape (3, n) [m]
FieldValue = Callable[..., object]


def _facet_names(key: str, facets) -> list[tuple[str, str]]:
    """(case key, name) of the facet-tag names among ``facets`` (integer tags are checked by the problem)."""
    if isinstance(facets, list):
        return [(f"{key}[{i}]", f) for i, f in enumerate(facets) if isinstance(f, str)]
    return [(key, facets)] if isinstance(facets, str) else []


def _law(spec, key: str):
    """A law table as the function T -> value (femiec.materials.temperature_dependence.property_law); any
    other spec unchanged."""
    if isinstance(spec, dict) and "law" in spec:
        from femiec.materials.temperature_dependence import property_law

        return property_law(spec, key)
    return spec


# -------------------------------------------------------------------------------------------- species
class SpeciesSection(Section):
    """A mobile species: ``name``, charge number ``charge``, exactly one of ``diffusivity`` D [m^2/s]
    (number, tensor spec, table cell region -> spec, or law table) or ``mobility`` u [m^2/(V s)] (number
    or law table; D = u R T/(|z| F) at the local T, charged species only), ``initial`` concentration
    [mol/m^3], and at most one Soret input: ``alpha_T`` [-] or ``heat_of_transport`` Q* [J per particle]."""

    name: str
    charge: FiniteFloat
    diffusivity: RegionalPropertySpec | None = None
    mobility: PositiveFloat | LawSpec | None = None
    initial: NonNegativeFloat = 0.0
    alpha_T: FiniteFloat | None = None
    heat_of_transport: FiniteFloat | None = None

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError("an identifier (letters, digits, underscores)")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if (self.diffusivity is None) == (self.mobility is None):
            raise InputError("value.diffusivity", self.diffusivity, "exactly one of 'diffusivity' or 'mobility'")
        if self.mobility is not None and self.charge == 0:
            raise InputError("value.mobility", self.mobility, "a charged species (Nernst–Einstein); give "
                                                              "'diffusivity' for a neutral one")
        if self.alpha_T is not None and self.heat_of_transport is not None:
            raise InputError("value.heat_of_transport", self.heat_of_transport,
                             "either 'alpha_T' or 'heat_of_transport', not both")
        return self

    def to_species(self, key: str):
        """The :class:`femiec.problems.species.Species` of this table (errors named under ``key``)."""
        from femiec.materials.temperature_dependence import diffusivity_from_mobility
        from femiec.problems.species import Species

        if self.mobility is None:
            diffusivity = _law(self.diffusivity, f"{key}.diffusivity")
        else:
            mobility, charge = _law(self.mobility, f"{key}.mobility"), self.charge
            diffusivity = (lambda T: diffusivity_from_mobility(mobility(T), charge, T)) if callable(mobility) else \
                (lambda T: diffusivity_from_mobility(float(mobility), charge, T))
        return Species(self.name, self.charge, diffusivity, initial=self.initial, alpha_T=self.alpha_T,
                       heat_of_transport=self.heat_of_transport, key=key)


# ----------------------------------------------------------------------------------------- conditions
class ConcentrationCondition(Section):
    """``type = "concentration"``: c_species = ``value`` [mol/m^3] on ``facets`` (Dirichlet)."""

    type: Literal["concentration"]
    species: str
    facets: Facets
    value: NonNegativeFloat | FieldValue

    def to_condition(self, key: str):
        from femiec.problems.npp_conditions import FixedConcentration

        return FixedConcentration(self.species, self.facets, self.value, key=key)


class PotentialCondition(Section):
    """``type = "potential"``: phi = ``value`` [V] on ``facets`` (Dirichlet; an ideal contact)."""

    type: Literal["potential"]
    facets: Facets
    value: FiniteFloat | FieldValue

    def to_condition(self, key: str):
        from femiec.problems.npp_conditions import FixedPotential

        return FixedPotential(self.facets, self.value, key=key)


class FluxCondition(Section):
    """``type = "flux"``: outward normal flux J_species . n = ``value`` [mol/(m^2 s)] on ``facets``."""

    type: Literal["flux"]
    species: str
    facets: Facets
    value: FiniteFloat

    def to_condition(self, key: str):
        from femiec.problems.npp_conditions import SpeciesFlux

        return SpeciesFlux(self.species, self.facets, self.value, key=key)


CONDITION_TYPES = ("concentration", "potential", "flux")
Condition = Annotated[Union[ConcentrationCondition, PotentialCondition, FluxCondition], Field(discriminator="type")]


# ----------------------------------------------------------------------------------------- electrodes
class ReactionSection(Section):
    """An electron-transfer reaction (femiec.problems.npp_conditions.Reaction): ``exchange_current_density``
    i0 [A/m^2] at ``reference_concentration`` c_ref [mol/m^3], ``oxidized`` / ``reduced`` species ->
    stoichiometric coefficient, ``kinetics``, ``electrons`` n, transfer coefficients ``alpha_anodic`` and
    ``alpha_cathodic`` (default 1 - alpha_anodic), Marcus ``reorganization_energy`` [J/mol],
    ``equilibrium_potential`` E_eq [V] and ``reaction_entropy`` dS [J/(mol K)]."""

    exchange_current_density: PositiveFloat
    oxidized: dict[str, PositiveFloat] = {}
    reduced: dict[str, PositiveFloat] = {}
    kinetics: Literal["butler_volmer", "marcus_hush_chidsey"] = "butler_volmer"
    electrons: Annotated[int, Field(ge=1)] = 1
    alpha_anodic: interval(0, 1) = 0.5
    alpha_cathodic: interval(0, 1) | None = None
    reorganization_energy: PositiveFloat | None = None
    reference_concentration: PositiveFloat = 1.0
    equilibrium_potential: FiniteFloat = 0.0
    reaction_entropy: FiniteFloat = 0.0

    @model_validator(mode="after")
    def _marcus_energy(self):
        if self.kinetics == "marcus_hush_chidsey" and self.reorganization_energy is None:
            raise InputError("value.reorganization_energy", None,
                             "a positive energy in J/mol for Marcus-Hush-Chidsey kinetics")
        return self

    def to_reaction(self, key: str):
        from femiec.problems.npp_conditions import Reaction

        return Reaction(**self.model_dump(), key=key)


class ElectrodeSection(Section):
    """An electronically conducting contact on ``facets``: exactly one of ``voltage`` [V] (potentiostatic)
    or ``current`` [A] (galvanostatic, needs a reaction), an optional Stern layer ``stern_capacitance``
    [F/m^2], and its ``reactions`` (none: blocking)."""

    name: str
    facets: Facets
    voltage: FiniteFloat | None = None
    current: FiniteFloat | None = None
    stern_capacitance: PositiveFloat | None = None
    reactions: list[ReactionSection] = []

    @model_validator(mode="after")
    def _one_control(self):
        if (self.voltage is None) == (self.current is None):
            raise InputError("value", {"voltage": self.voltage, "current": self.current},
                             "exactly one of 'voltage' (V) or 'current' (A)")
        if self.current is not None and not self.reactions:
            raise InputError("value.current", self.current, "a reaction at a galvanostatic electrode")
        return self

    def to_electrode(self, key: str):
        from femiec.problems.npp_conditions import Electrode

        reactions = [r.to_reaction(f"{key}.reactions[{k}]") for k, r in enumerate(self.reactions)]
        return Electrode(self.name, self.facets, voltage=self.voltage, current=self.current,
                         stern_capacitance=self.stern_capacitance, reactions=reactions, key=key)


# ---------------------------------------------------------------------------------------- temperature
class HeatSourcesSection(Section):
    """Heat sources of a solved temperature (femiec.problems.npp_conditions.HeatSources):
    ``electronic_conductivity`` sigma [S/m] (Joule heat of electrons that are not a modelled species;
    number, tensor spec, table cell region -> spec or law table), ``ionic`` (i . E),
    ``reaction_irreversible`` (eta i) and ``reaction_reversible`` (Peltier heat -i T dS/(n F))."""

    electronic_conductivity: RegionalPropertySpec | None = None
    ionic: StrictBool = True
    reaction_irreversible: StrictBool = True
    reaction_reversible: StrictBool = True

    def to_heat_sources(self, key: str):
        from femiec.problems.npp_conditions import HeatSources

        return HeatSources(**{**self.model_dump(), "electronic_conductivity":
                              _law(self.electronic_conductivity, f"{key}.electronic_conductivity")})


class CoupledTemperature(SolvedTemperature):
    """A temperature solved with the transport: the HeatProblem keys (femiec.models.temperature) and
    ``coupling`` ("monolithic": one Newton solve; "staggered": alternate solves until the temperature
    moves less than ``coupling_tolerance`` relative, steady solves only) and ``sources``."""

    coupling: Literal["monolithic", "staggered"] = "monolithic"
    coupling_tolerance: interval(0, 1) = 1e-10
    sources: HeatSourcesSection = Field(default_factory=HeatSourcesSection)

    def coupling_arguments(self, key: str) -> dict:
        """The coupling keyword arguments of :class:`NernstPlanckPoisson` (errors named under ``key``)."""
        return {"coupling": self.coupling, "coupling_tolerance": self.coupling_tolerance,
                "heat_sources": self.sources.to_heat_sources(f"{key}.sources")}

    def referenced_cell_tags(self, key: str) -> list[tuple[str, str]]:
        return super().referenced_cell_tags(key) + \
            regions_of(f"{key}.sources.electronic_conductivity", self.sources.electronic_conductivity)


TemperatureTable = Annotated[Union[ConstantTemperature, ExpressionTemperature, FileTemperature, CoupledTemperature],
                             Field(discriminator="kind")]


class SteadySection(Section):
    """Steady solves: the applied potentials and currents ramped in ``continuation_steps`` increments;
    with ``debye_factor`` > 1 the Debye length is that factor larger during the ramp and brought back in
    ``debye_steps`` geometric steps."""

    continuation_steps: Annotated[int, Field(ge=1)] = 1
    debye_factor: Annotated[float, Field(ge=1, allow_inf_nan=False)] = 1.0
    debye_steps: Annotated[int, Field(ge=1)] = 4


# ------------------------------------------------------------------------------------------ the model
class NernstPlanckPoissonModel(ModelSection):
    """Coupled Nernst–Planck–Poisson transport (femiec.problems.nernst_planck_poisson; keys in
    docs/nernst_planck_poisson.md, SI units). [solver], [time] (transient when given, steady otherwise)
    and [output] of the case apply; ``checkpoint``: checkpoints and restart of a transient run."""

    union_tags: ClassVar[dict[str, set[str]]] = {"conditions": set(CONDITION_TYPES),
                                                 "temperature": set(TEMPERATURE_KINDS)}

    kind: Literal["nernst_planck_poisson"]
    species: Annotated[list[SpeciesSection], Field(min_length=1)]
    closure: Literal["poisson", "electroneutrality"] = "poisson"
    variables: Literal["concentration", "log"] = "concentration"
    degree: Literal[1, 2] = 1
    relative_permittivity: RegionalTensorSpec | None = None
    fixed_charge: FiniteFloat | dict[str, FiniteFloat] | None = None  # C/m^3
    temperature: Union[PositiveFloat, TemperatureTable] = 298.15  # K
    conditions: list[Condition] = []
    electrodes: list[ElectrodeSection] = []
    steady: SteadySection = Field(default_factory=SteadySection)
    checkpoint: Checkpoint = Field(default_factory=Checkpoint)

    @classmethod
    def from_table(cls, table: dict, base_dir: Path | str = ".") -> "NernstPlanckPoissonModel":
        """The typed section of a plain ``[model]`` table (``kind`` may be left out; relative paths beside
        ``base_dir``); a refused value raises InputError named ``model.<key>``."""
        from femiec.config.loader import input_error_from

        try:
            return cls.model_validate({"kind": "nernst_planck_poisson", **table},
                                      context={"base_dir": Path(base_dir)})
        except ValidationError as exc:
            raise input_error_from(exc, prefix="model") from None

    def referenced_facet_tags(self) -> list[tuple[str, str]]:
        tags = [tag for i, c in enumerate(self.conditions) for tag in _facet_names(f"model.conditions[{i}].facets",
                                                                                     c.facets)]
        tags += [tag for i, e in enumerate(self.electrodes) for tag in _facet_names(f"model.electrodes[{i}].facets",
                                                                                     e.facets)]
        if isinstance(self.temperature, SolvedTemperature):
            tags += self.temperature.referenced_facet_tags("model.temperature")
        return tags

    def referenced_cell_tags(self) -> list[tuple[str, str]]:
        tags = [tag for i, s in enumerate(self.species)
                for tag in regions_of(f"model.species[{i}].diffusivity", s.diffusivity)]
        tags += regions_of("model.relative_permittivity", self.relative_permittivity)
        tags += regions_of("model.fixed_charge", self.fixed_charge)
        if isinstance(self.temperature, SolvedTemperature):
            tags += self.temperature.referenced_cell_tags("model.temperature")
        return tags

    def continues_outputs(self) -> bool:
        return self.checkpoint.restart is not None

    def check_case(self, case) -> None:
        if case.solver.preset == "quasi_fermi":
            from femiec.solvers.quasi_fermi_pc import check_quasi_fermi

            check_quasi_fermi(self.variables, isinstance(self.temperature, CoupledTemperature)
                              and self.temperature.coupling == "monolithic")
        if case.time is None and self.checkpoint.restart is not None:
            raise InputError("model.checkpoint.restart", self.checkpoint.restart,
                             "no restart without a [time] table (a steady solve has no state to continue; only a "
                             "transient run writes checkpoints)")
        if case.study is not None:
            names = [e.name for e in self.electrodes]
            if case.time is not None:
                raise InputError("time", "[time]", "no [time] table with [study] kind = \"impedance\" (the study "
                                 "linearises about the steady state)")
            if case.study.electrode is None and len(names) != 1:
                raise InputError("study.electrode", None, f"the electrode whose potential is perturbed, one of {names}"
                                 if names else "a model with an electrode ([[model.electrodes]])")
            if case.study.electrode is not None and case.study.electrode not in names:
                raise InputError("study.electrode", case.study.electrode, f"one of the electrodes {names}")
        if case.time is not None and isinstance(self.temperature, CoupledTemperature) and \
                self.temperature.coupling == "staggered":
            raise InputError("model.temperature.coupling", "staggered",
                             "'monolithic' for a transient case (staggered coupling is for steady solves)")


def build(case, meshdata, comm, checks_only: bool = False):
    from femiec.plausibility import warn_unresolved_debye_length
    from femiec.problems.npp.case import problem_from_section, restart

    problem = problem_from_section(case.model, meshdata, case.solver.preset, case.solver.petsc_options,
                                   checks_only=checks_only)
    if case.model.checkpoint.restart is not None and not checks_only:
        restart(problem, case.model.checkpoint.restart, case.time)
    if case.model.closure == "poisson":  # the double layers are resolved only with h < lambda_D
        warn_unresolved_debye_length("model.closure", problem.scaling.debye_length, h=meshdata.smallest_cell_size())
    return problem


def run(case, problem, out_dir, progress) -> dict:
    from femiec.problems.npp.case import run_case

    return run_case(case.model, problem, out_dir, progress, time=case.time, formats=case.output.formats,
                    fields=case.output.fields)


def port(case, problem, study):
    """The steady state of the case (``[model.steady]`` continuation) and the impedance port of
    ``study.electrode`` (the model's only electrode by default)."""
    name = study.electrode or problem.electrodes[0].name
    problem.solve_steady(**case.model.steady.model_dump())
    port = problem.impedance_port(name)
    port.details = {"electrode": name, "bias_potential_V": float(problem.electrode_voltage[name].value),
                    "bias_current": problem.electrode_current(name)}
    return port


def check(case, meshdata, comm) -> None:
    """The problem's input checks and the Debye-length warning, without its spaces, forms or solver; an image
    mesh is not built (its outline gives the tag names, the box and the voxel size) unless a temperature
    field needs it; a restart's checkpoint and end time from its state.json alone."""
    from femiec.io.checkpoint import read_state
    from femiec.problems.npp.case import check_end_time

    if getattr(meshdata, "mesh", None) is None and not isinstance(case.model.temperature, (int, float,
                                                                                            ConstantTemperature)):
        from femiec.runner import build_mesh

        meshdata = build_mesh(case.mesh, comm)  # a temperature field (solved, read, x-dependent) needs the mesh
    build(case, meshdata, comm, checks_only=True)
    if case.model.checkpoint.restart is not None:
        check_end_time(case.time, read_state(case.model.checkpoint.restart)["time"])


MODEL = ModelSpec("nernst_planck_poisson", NernstPlanckPoissonModel, build, run, check=check, check_outline=True,
                  port=port,
                  preview=lambda problem: problem.output_fields()["potential"][0],
                  summary="Nernst–Planck–Poisson transport with interface kinetics, steady or transient")
