"""Model kind ``conduction``: steady (an)isotropic conduction or diffusion, optionally with Joule heating
(femiec.problems.conduction; keys in docs/case_files.md)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from femiec.sections import PositiveFloat, Section
from femiec.errors import InputError
from femiec.models.spec import ModelSection, ModelSpec


class BoundaryCondition(Section):
    """One boundary condition on a named facet tag.

    Exactly one of: ``value`` (Dirichlet: potential [V] or concentration [mol/m^3]) or ``flux``
    (outward normal flux density: current density [A/m^2] or molar flux [mol/(m^2 s)]). Facets without
    a condition are insulating (zero flux).
    """

    facet: str
    value: float | None = None
    flux: float | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.value is None) == (self.flux is None):
            raise ValueError("exactly one of 'value' (Dirichlet) or 'flux' (Neumann)")
        return self


class HeatBoundaryCondition(Section):
    """One thermal condition on a named facet: exactly one of ``temperature`` [K] (fixed), ``flux``
    (outward heat flux density [W/m^2]) or ``h`` [W/(m^2 K)] with ``T_inf`` [K] (convective)."""

    facet: str
    temperature: PositiveFloat | None = None
    flux: float | None = None
    h: PositiveFloat | None = None
    T_inf: PositiveFloat | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        given = [self.temperature is not None, self.flux is not None, self.h is not None]
        if sum(given) != 1:
            raise ValueError("exactly one of 'temperature' (fixed), 'flux' (heat flux) or 'h' with 'T_inf' "
                             "(convective)")
        if (self.h is None) != (self.T_inf is None):
            raise InputError("value.T_inf", self.T_inf, "'h' and 'T_inf' given together (convective facet)")
        return self


class HeatSection(Section):
    """Steady heat equation -div(k grad T) = sigma |grad phi|^2 (Joule heat of the conduction solution),
    coupled both ways when sigma depends on T, solved by staggered iteration. k is each material's
    ``thermal_conductivity`` [W/(m K)]; facets without a condition are adiabatic. With a [time] table:
    transient, rho c_p dT/dt added with each material's ``heat_capacity`` [J/(m^3 K)]."""

    boundary: Annotated[list[HeatBoundaryCondition], Field(min_length=1)]
    initial: PositiveFloat = 298.15  # K, initial guess of T


class ConductionModel(ModelSection):
    """Steady conduction/diffusion: -div(K grad u) = 0 with K the chosen material property.

    property = "conductivity": u is the potential [V], flux = current density [A/m^2].
    property = "diffusivity": u is the concentration [mol/m^3], flux = molar flux [mol/(m^2 s)].
    """

    kind: Literal["conduction"]
    property: Literal["conductivity", "diffusivity"] = "conductivity"
    degree: Literal[1, 2] = 1
    boundary: Annotated[list[BoundaryCondition], Field(min_length=1)]
    heat: HeatSection | None = None  # Joule heating: also solve for the temperature
    temperature: PositiveFloat | None = None  # K, where temperature laws are evaluated without [model.heat]

    def referenced_facet_tags(self) -> list[tuple[str, str]]:
        tags = [(f"model.boundary[{i}].facet", bc.facet) for i, bc in enumerate(self.boundary)]
        if self.heat is not None:
            tags += [(f"model.heat.boundary[{i}].facet", bc.facet) for i, bc in enumerate(self.heat.boundary)]
        return tags

    def check_case(self, case) -> None:
        """Every used material has the property (and, with [model.heat], a thermal conductivity)."""
        needed = self.property
        if case.grains is not None and getattr(case.materials[case.grains.material], needed) is None:
            raise InputError(f"materials.{case.grains.material}.{needed}", "<missing>",
                             f"a {needed} for the grains (model.property = '{needed}')")
        if self.heat is not None:
            if needed != "conductivity":
                raise InputError("model.heat", "[model.heat]", "model.property = 'conductivity' (Joule heating)")
            for name in set(case.regions.values()) or set(case.materials):
                if case.materials[name].thermal_conductivity is None:
                    raise InputError(f"materials.{name}.thermal_conductivity", "<missing>",
                                     "a thermal conductivity in W/(m K) (model.heat is given)")
        for region, material in case.regions.items():
            if getattr(case.materials[material], needed) is None:
                raise InputError(f"materials.{material}.{needed}", "<missing>",
                                 f"a {needed} for region '{region}' (model.property = '{needed}')")


def build(case, meshdata, comm):
    from femiec.problems.conduction import problem_from_case

    return problem_from_case(case, meshdata)


def check(case, meshdata, comm) -> None:
    """Temperature-law and transient inputs (``femiec validate`` without building the problem)."""
    from femiec.problems.conduction import check_case

    check_case(case)


def run(case, problem, out_dir, progress) -> dict:
    from femiec.problems.conduction import run_case

    return run_case(case, problem, out_dir, progress)


MODEL = ModelSpec("conduction", ConductionModel, build, run, check=check, check_outline=True, preview=lambda built: built.problem.u,
                  summary="steady (an)isotropic conduction or diffusion, optional Joule heating")
