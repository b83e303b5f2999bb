"""Model kind ``mixed_conductor``: an electroneutral mixed ionic–electronic conductor (oxygen vacancies and
electrons in local defect equilibrium) between gases, metal contacts and electrolytes, dense or as a
homogenised porous electrode (femiec.problems.miec; keys in docs/mixed_conductors.md and
docs/case_files.md). Steady without ``[time]``, transient with it; ``[study] kind = "impedance"`` perturbs
an electronic contact's voltage. ``electrostatics = "poisson"``: the full-Poisson MIEC instead
(femiec.problems.miec_poisson; steady, transient and impedance, contacts only)."""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field, field_validator, model_validator

from femiec.errors import InputError
from femiec.models.spec import ModelSection, ModelSpec
from femiec.sections import Checkpoint, FiniteFloat, PositiveFloat, Section, interval

NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
AtLeastOne = Annotated[float, Field(ge=1, allow_inf_nan=False)]


class DefectMaterial(Section):
    """The constants of femiec.materials.defects.DefectChemistry (SI): ``acceptor`` A [mol/m^3],
    ``reduction_prefactor`` K0_red [(mol/m^3)^3] and ``reduction_enthalpy`` [J/mol],
    ``intrinsic_prefactor`` K0_e [(mol/m^3)^2] and ``intrinsic_enthalpy`` [J/mol], mobilities
    ``vacancy_mobility``, ``electron_mobility``, ``hole_mobility`` [m^2/(V s)] (constants)."""

    acceptor: NonNegativeFloat
    reduction_prefactor: PositiveFloat
    reduction_enthalpy: NonNegativeFloat = 0.0
    intrinsic_prefactor: PositiveFloat
    intrinsic_enthalpy: NonNegativeFloat = 0.0
    vacancy_mobility: PositiveFloat
    electron_mobility: PositiveFloat
    hole_mobility: PositiveFloat


def material_name_or_table(value):
    """Field validator of ``material``: a library name of femiec.materials.defects, or a table checked as
    DefectMaterial (errors named model.material.<key>)."""
    from femiec.materials.defects import DEFECT_LIBRARY

    if isinstance(value, dict):
        return DefectMaterial.parse(value, "model.material")
    if not isinstance(value, str) or value not in DEFECT_LIBRARY:
        raise InputError("value", value, f"a table of constants or a library name: {', '.join(DEFECT_LIBRARY)}")
    return value


class ExchangeKeys(Section):
    """Surface exchange with a gas of ``pressure`` pO2 [Pa]: exactly one of ``resistance`` R_s [Ohm m^2]
    (linear), ``k_chem`` [m/s] (linear, R_s = 1/(k_chem C_chem) with C_chem in equilibrium with the gas)
    or ``exchange_rate`` r0 [mol/(m^2 s)] (Butler–Volmer in the oxygen potential difference, with
    ``transfer_coefficient``)."""

    pressure: PositiveFloat
    resistance: PositiveFloat | None = None
    k_chem: PositiveFloat | None = None
    exchange_rate: PositiveFloat | None = None
    transfer_coefficient: interval(0, 1) = 0.5

    @model_validator(mode="after")
    def _one_rate(self):
        given = {k: getattr(self, k) for k in ("resistance", "k_chem", "exchange_rate") if getattr(self, k) is not None}
        if len(given) != 1:
            raise InputError("value.resistance", given or None,
                             "exactly one of resistance [Ohm m^2], k_chem [m/s] or exchange_rate [mol/(m^2 s)]")
        return self

    def rates(self, material, temperature: float) -> dict:
        """{"resistance": R_s} or {"exchange_rate": r0, "transfer_coefficient": alpha} (k_chem converted)."""
        if self.exchange_rate is not None:
            return {"exchange_rate": self.exchange_rate, "transfer_coefficient": self.transfer_coefficient}
        if self.resistance is not None:
            return {"resistance": self.resistance}
        from femiec.forms.miec import exchange_resistance_from_rate_constant

        n = material.electrons_at(self.pressure, temperature)
        return {"resistance": exchange_resistance_from_rate_constant(
            self.k_chem, material.chemical_capacitance(n, temperature))}


class ElectronicContactSection(Section):
    """``type = "electronic_contact"``: an electron-reversible metal contact, psi_el = ``voltage`` [V]."""

    type: Literal["electronic_contact"]
    facet: str
    voltage: FiniteFloat = 0.0

    def to_condition(self, material, temperature):
        from femiec.problems.miec_conditions import ElectronicContact

        return ElectronicContact(self.facet, self.voltage)


class OxygenPressureSection(Section):
    """``type = "oxygen_pressure"``: infinitely fast exchange, the surface in equilibrium with ``pressure`` [Pa]."""

    type: Literal["oxygen_pressure"]
    facet: str
    pressure: PositiveFloat

    def to_condition(self, material, temperature):
        from femiec.problems.miec_conditions import OxygenPressure

        return OxygenPressure(self.facet, self.pressure)


class SurfaceExchangeSection(ExchangeKeys):
    """``type = "surface_exchange"``: exchange with a gas on ``facet`` (keys of the exchange above)."""

    type: Literal["surface_exchange"]
    facet: str

    def to_condition(self, material, temperature):
        from femiec.problems.miec_conditions import SurfaceExchange

        return SurfaceExchange(self.facet, self.pressure, **self.rates(material, temperature))


class ElectrolyteContactSection(Section):
    """``type = "electrolyte_contact"``: oxide-ion transfer into an electrolyte at the ionic potential
    ``potential`` [V] through ``resistance`` R_transfer [Ohm m^2] (electrons blocked)."""

    type: Literal["electrolyte_contact"]
    facet: str
    potential: FiniteFloat
    resistance: PositiveFloat

    def to_condition(self, material, temperature):
        from femiec.problems.miec_conditions import ElectrolyteContact

        return ElectrolyteContact(self.facet, self.potential, self.resistance)


class BlockingContactSection(Section):
    """``type = "blocking_contact"`` (``electrostatics = "poisson"`` only): every carrier blocked, the
    electrostatic potential phi = ``potential`` [V]."""

    type: Literal["blocking_contact"]
    facet: str
    potential: FiniteFloat = 0.0

    def to_condition(self, material, temperature):
        from femiec.problems.miec_conditions import BlockingContact

        return BlockingContact(self.facet, self.potential)


CONDITION_TYPES = ("electronic_contact", "oxygen_pressure", "surface_exchange", "electrolyte_contact",
                   "blocking_contact")
#: the condition types of ``electrostatics = "poisson"`` (oxygen_pressure only on an electronic contact's facet)
POISSON_CONDITION_TYPES = ("electronic_contact", "oxygen_pressure", "blocking_contact")
Condition = Annotated[Union[ElectronicContactSection, OxygenPressureSection, SurfaceExchangeSection,
                            ElectrolyteContactSection, BlockingContactSection], Field(discriminator="type")]


class PorousSection(ExchangeKeys):
    """``[model.porous]``: the mesh is a homogenised porous MIEC (Adler–Lane–Steele) whose pores hold a gas
    of ``pressure`` [Pa]: ``porosity`` eps, ``tortuosity`` tau (>= 1) of the solid, ``electronic_tortuosity``
    (default tau), ``specific_surface`` a [1/m] and the exchange keys."""

    porosity: interval(0, 1)
    tortuosity: AtLeastOne = 1.0
    electronic_tortuosity: AtLeastOne | None = None
    specific_surface: PositiveFloat

    def to_porous(self, material, temperature):
        from femiec.problems.miec_conditions import PorousElectrode

        return PorousElectrode(self.pressure, self.specific_surface, self.porosity, self.tortuosity,
                               electronic_tortuosity=self.electronic_tortuosity, **self.rates(material, temperature))


class MixedConductorModel(ModelSection):
    """Electroneutral MIEC (femiec.problems.miec): ``material`` a library name of
    femiec.materials.defects (e.g. "gdc10") or a ``[model.material]`` table of constants, ``temperature``
    T [K], ``oxygen_pressure`` [Pa] of the initial uniform equilibrium (default: the first pressure of the
    conditions or of ``[model.porous]``), ``degree``, ``conditions`` and ``porous``. The case's [solver]
    (prefix femiec_miec_), [time] and [output] apply.

    ``electrostatics``: "electroneutral" (default) or "poisson": the full-Poisson MIEC of
    femiec.problems.miec_poisson (vacancies, electrons and holes with Poisson's equation; steady, transient
    with [time] or a [study] kind = "impedance" of a contact, no porous part; conditions ``electronic_contact``, ``blocking_contact`` and
    ``oxygen_pressure`` on an electronic contact's facet; [solver] prefix femiec_npp_) with
    ``relative_permittivity`` eps_r (required) and the optional electron-hole ``recombination_rate`` k_r
    [m^3/(mol s)] (without it no generation/recombination).

    ``[model.checkpoint]`` (``every``, ``restart``): checkpoints and restart of the transient (with [time]
    only for the electroneutral model; femiec.problems.miec_checkpoint, femiec.problems.npp.checkpoint)."""

    union_tags: ClassVar[dict[str, set[str]]] = {"conditions": set(CONDITION_TYPES)}

    kind: Literal["mixed_conductor"]
    material: Union[str, DefectMaterial]
    temperature: PositiveFloat
    oxygen_pressure: PositiveFloat | None = None
    degree: Literal[1, 2] = 1
    conditions: Annotated[list[Condition], Field(min_length=1)]
    porous: PorousSection | None = None
    electrostatics: Literal["electroneutral", "poisson"] = "electroneutral"
    relative_permittivity: PositiveFloat | None = None
    recombination_rate: PositiveFloat | None = None
    checkpoint: Checkpoint = Field(default_factory=Checkpoint)

    _material = field_validator("material", mode="before")(material_name_or_table)

    @model_validator(mode="after")
    def _initial_pressure(self):
        if self.oxygen_pressure is None:
            pressures = [c.pressure for c in self.conditions if hasattr(c, "pressure")]
            pressures += [self.porous.pressure] if self.porous is not None else []
            if not pressures:
                raise InputError("value.oxygen_pressure", None, "the pO2 [Pa] of the initial equilibrium (no "
                                 "condition gives one)")
            self.oxygen_pressure = pressures[0]
        return self

    @model_validator(mode="after")
    def _electrostatics(self):
        """The keys and conditions each ``electrostatics`` takes (module docstring)."""
        if self.electrostatics == "electroneutral":
            for key in ("relative_permittivity", "recombination_rate"):
                if getattr(self, key) is not None:
                    raise InputError(f"value.{key}", getattr(self, key), 'no value unless electrostatics = "poisson"')
            for i, c in enumerate(self.conditions):
                if c.type == "blocking_contact":
                    raise InputError(f"value.conditions[{i}].type", c.type,
                                     f"one of {list(CONDITION_TYPES[:-1])} (electroneutral)")
            return self
        if self.relative_permittivity is None:
            raise InputError("value.relative_permittivity", None, 'a relative permittivity eps_r with '
                             'electrostatics = "poisson"')
        if self.porous is not None:
            raise InputError("value.porous", "[model.porous]", 'no porous part with electrostatics = "poisson"')
        contacts = set(self.contacts())
        for i, c in enumerate(self.conditions):
            if c.type not in POISSON_CONDITION_TYPES:
                raise InputError(f"value.conditions[{i}].type", c.type,
                                 f'one of {list(POISSON_CONDITION_TYPES)} with electrostatics = "poisson"')
            if c.type == "oxygen_pressure" and c.facet not in contacts:
                raise InputError(f"value.conditions[{i}].facet", c.facet, 'the facet of an electronic_contact '
                                 '(electrostatics = "poisson": the gas and the metal hold the surface together)')
        return self

    def contacts(self) -> list[str]:
        """The facets of the electronic contacts."""
        return [c.facet for c in self.conditions if c.type == "electronic_contact"]

    def referenced_facet_tags(self) -> list[tuple[str, str]]:
        return [(f"model.conditions[{i}].facet", c.facet) for i, c in enumerate(self.conditions)]

    def continues_outputs(self) -> bool:
        return self.checkpoint.restart is not None

    def check_case(self, case) -> None:
        if case.time is None and self.checkpoint.restart is not None:
            raise InputError("model.checkpoint.restart", self.checkpoint.restart,
                             "no restart without a [time] table (a steady solve has no state to continue; only a "
                             "transient run writes checkpoints)")
        if case.time is None and self.electrostatics == "electroneutral" and "checkpoint" in self.model_fields_set:
            raise InputError("model.checkpoint", "[model.checkpoint]", "no checkpoints without a [time] table (the "
                             "electroneutral steady solve writes none)")
        if case.study is None:
            return
        contacts = self.contacts()
        if case.time is not None:
            raise InputError("time", "[time]", "no [time] table with [study] kind = \"impedance\" (the study "
                             "linearises about the steady state)")
        if not contacts:
            raise InputError("study", "impedance", "an electronic_contact condition (its voltage is perturbed)")
        if case.study.electrode is None and len(contacts) != 1:
            raise InputError("study.electrode", None, f"the facet of the perturbed contact, one of {contacts}")
        if case.study.electrode is not None and case.study.electrode not in contacts:
            raise InputError("study.electrode", case.study.electrode, f"the facet of a contact, one of {contacts}")


def build(case, meshdata, comm):
    """The problem of the case, restarted from ``[model.checkpoint] restart`` when one is named (the
    checkpoint read on this mesh; the end time after the checkpoint's: femiec.problems.npp.case.restart)."""
    from femiec.problems.miec_case import problem_from_section

    problem = problem_from_section(case.model, meshdata, case.solver.preset, case.solver.petsc_options)
    if case.model.checkpoint.restart is not None:
        from femiec.problems.npp.case import restart

        restart(problem, case.model.checkpoint.restart, case.time)
    return problem


def check(case, meshdata, comm) -> None:
    """``femiec validate`` of a restart (nothing without one): the end time after the checkpoint's (its
    state.json), then the problem built on the case's mesh (an image mesh's outline is built into the
    mesh) and its unknowns read from the checkpoint, so a checkpoint of another mesh is refused."""
    from femiec.io.checkpoint import read_state
    from femiec.problems.npp.case import check_end_time

    if case.model.checkpoint.restart is None:
        return
    check_end_time(case.time, read_state(case.model.checkpoint.restart)["time"])
    if getattr(meshdata, "mesh", None) is None:
        from femiec.runner import build_mesh

        meshdata = build_mesh(case.mesh, comm)
    build(case, meshdata, comm)


def run(case, problem, out_dir, progress) -> dict:
    from femiec.problems.miec_case import run_case

    return run_case(case, problem, out_dir, progress)


def port(case, problem, study):
    """The steady state of the case and the voltage-driven port of the contact ``study.electrode`` (the
    only contact by default): Z = dV/dI [Ohm], per area [Ohm m^2]."""
    contact = study.electrode or case.model.contacts()[0]
    if case.model.electrostatics == "poisson":
        from femiec.problems.miec_poisson import contact_current, contact_port

        problem.solve_steady(continuation_steps=4)  # the applied potentials ramped, as a steady run does
        port, current = contact_port(problem, contact), contact_current(problem, contact)
    else:
        problem.solve_steady()
        port, current = problem.impedance_port(contact), problem.current(contact)
    port.details = {"contact": contact, "bias_voltage_V": float(port.input_value), "bias_current_A": current}
    return port

def preview(problem):
    """ln(pO2/p_ref) of the electroneutral MIEC, the potential of the full-Poisson one."""
    fields = problem.output_fields()
    return fields["log_oxygen_pressure" if "log_oxygen_pressure" in fields else "potential"][0]


MODEL = ModelSpec("mixed_conductor", MixedConductorModel, build, run, check=check, check_outline=True,
                  port=port, preview=preview,
                  summary="mixed ionic-electronic conductor: defect chemistry, gases, contacts, porous electrode")
