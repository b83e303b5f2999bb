"""Model kind ``porous_mixed_conductor``: the resolved porous MIEC electrode on a segmented image (MIEC solid
+ gas pores on a dense electrolyte at z = 0, current collector at z = L; femiec.problems.miec_electrode),
its steady polarisation curve, ASR and the Adler–Lane–Steele reference of the same image; optional O2
diffusion in the pores (``[model.gas]``, femiec.problems.pore_gas) and ``[study] kind = "impedance"``
about equilibrium. No [mesh] table: the voxel mesh of the solid is built from ``model.image``. Keys in
docs/mixed_conductors.md and docs/case_files.md.

Why a kind of its own and not a table of ``mixed_conductor``: that kind solves on a [mesh] with conditions
on named facets; this one builds its mesh from an image and fixes its conditions (electrolyte, collector,
pore walls), so it shares the material and exchange keys (:class:`ExchangeKeys`) but not the rest."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, field_validator, model_validator

from femiec.errors import InputError
from femiec.models.mixed_conductor import DefectMaterial, ExchangeKeys, material_name_or_table
from femiec.models.spec import ModelSection, ModelSpec
from femiec.sections import FiniteFloat, ImageKeys, PositiveFloat, Section, existing_image

ImageValue = Annotated[int, Field(ge=0)]
ImageValues = Union[ImageValue, Annotated[list[ImageValue], Field(min_length=1)]]


class PoreGasSection(Section):
    """``[model.gas]``: O2 diffusion in the pores (femiec.problems.pore_gas.GasTransport), supplied at z = L
    with the pO2 ``model.pressure``. ``pore_diameter`` d_pore [m] of the Knudsen term, or "chord" (the mean
    chord length of the image's pores, femiec.meshing.tomography.mean_chord_length), or absent (no Knudsen
    term); ``pressure`` total p [Pa]; ``binary_diffusivity`` D_O2,N2 [m^2/s] at (T, p) (absent: Fuller);
    ``flux_law`` "fick" or "dusty_gas"; ``tolerance`` (max change of the wall O2 mole fraction between the
    staggered passes) and ``max_passes``."""

    pore_diameter: Union[PositiveFloat, Literal["chord"]] | None = None
    pressure: PositiveFloat = 1e5
    binary_diffusivity: PositiveFloat | None = None
    flux_law: Literal["fick", "dusty_gas"] = "fick"  # femiec.forms.gas_diffusion.FLUX_LAWS
    tolerance: Annotated[float, Field(gt=0, lt=1)] = 1e-12
    max_passes: Annotated[int, Field(ge=1)] = 200


class PorousMixedConductorModel(ModelSection, ImageKeys, ExchangeKeys):
    """The resolved porous MIEC electrode (module docstring).

    ``image`` (with the reading keys of :class:`femiec.sections.ImageKeys`: voxel_size [m], crop, dataset,
    remap, shape, dtype), thickness along z; ``solid`` and ``pore``: the image value(s) of the MIEC and of the
    pores (every other value is refused); ``material`` a defect-chemistry library name or a
    ``[model.material]`` table; ``temperature`` T [K]; the gas: ``pressure`` pO2 [Pa] and exactly one of
    ``resistance`` R_s [Ohm m^2], ``k_chem`` [m/s] (linear) or ``exchange_rate`` r0 [mol/(m^2 s)] with
    ``transfer_coefficient`` (Butler–Volmer), per true wall area; ``transfer_resistance`` R_t [Ohm m^2] of
    the oxide-ion transfer into the electrolyte; ``reactive_area`` "smooth" or "voxel";
    ``overpotentials`` eta [V] of the steady polarisation curve (solved in the given order, each from the
    previous state); ``degree``; ``[model.gas]``."""

    kind: Literal["porous_mixed_conductor"]
    image: str  # a file or a folder of 2D TIFF slices
    solid: ImageValues = 1
    pore: ImageValues = 0
    material: Union[str, DefectMaterial]
    temperature: PositiveFloat
    transfer_resistance: PositiveFloat = 1e-9
    reactive_area: Literal["smooth", "voxel"] = "smooth"  # femiec.problems.miec_electrode.REACTIVE_AREAS
    overpotentials: list[FiniteFloat] = Field(default_factory=list)
    degree: Literal[1, 2] = 1
    gas: PoreGasSection | None = None

    _image = field_validator("image")(existing_image)
    _material = field_validator("material", mode="before")(material_name_or_table)

    def solid_values(self) -> list[int]:
        return [self.solid] if isinstance(self.solid, int) else list(self.solid)

    def pore_values(self) -> list[int]:
        return [self.pore] if isinstance(self.pore, int) else list(self.pore)

    @model_validator(mode="after")
    def _consistent(self):
        both = sorted(set(self.solid_values()) & set(self.pore_values()))
        if both:
            raise InputError("value.pore", self.pore, f"image values other than the solid's (both: {both})")
        if self.gas is not None and not self.pressure < self.gas.pressure:
            raise InputError("value.pressure", self.pressure,
                             f"a pO2 below model.gas.pressure = {self.gas.pressure:g} Pa (the gas's total pressure)")
        return self

    def check_case(self, case) -> None:
        if case.mesh is not None:
            raise InputError("mesh", case.mesh.kind, "no [mesh] table for model.kind = 'porous_mixed_conductor' "
                             "(the voxel mesh of the solid is built from model.image)")
        if case.time is not None:
            raise InputError("time", "[time]", "no [time] table for model.kind = 'porous_mixed_conductor' "
                             "(steady polarisation; transients: [study] kind = \"impedance\")")
        if case.study is None:
            return
        if self.overpotentials:
            raise InputError("model.overpotentials", self.overpotentials, "no overpotentials with [study] "
                             "kind = \"impedance\" (the spectrum is taken about equilibrium, eta = 0)")


def build(case, meshdata, comm):
    from femiec.problems.miec_electrode_case import problem_from_section

    return problem_from_section(case, comm)


def check(case, meshdata, comm) -> None:
    """The image checks of :func:`build` (values, the solid spanning z, pores, the chord length of
    ``pore_diameter = "chord"``) without the mesh (``femiec validate``)."""
    from femiec.problems.miec_electrode_case import checked_image

    checked_image(case.model)


def run(case, built, out_dir, progress) -> dict:
    from femiec.problems.miec_electrode_case import run_case

    return run_case(case, built, out_dir, progress)


def port(case, built, study):
    """The collector's voltage-driven port about equilibrium (eta = 0): Z A_proj [Ohm m^2] per projected
    area; with ``[model.gas]`` the solid and the pore gas linearised together (the gas-diffusion arc)."""
    electrode = built.electrode
    electrode.solve(0.0)
    port = electrode.impedance_port()
    port.details = {"bias": "equilibrium", "overpotential_V": 0.0,
                    "equilibrium_voltage_V": float(electrode.equilibrium_voltage),
                    "projected_area_m2": electrode.projected_area, "thickness_m": electrode.thickness}
    if electrode.gas is not None:
        port.details["gas"] = {"pore_diameter_m": electrode.gas.spec.pore_diameter, "passes": electrode.gas.passes}
    return port


MODEL = ModelSpec("porous_mixed_conductor", PorousMixedConductorModel, build, run, needs_mesh=False, check=check,
                  port=port, preview=lambda built: built.electrode.output_fields()["oxygen_potential"][0],
                  summary="resolved porous MIEC electrode on an image: polarisation, ASR, ALS reference")
