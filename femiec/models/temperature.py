"""Typed temperature entries of a ``[model]`` table (a section building block of model kinds, not a kind):
a number [K] or a table with ``kind`` = "constant", "expression", "file" or "solved" (docs/thermal.md).
femiec.problems.thermal_case turns them into a number, a PrescribedTemperature or a HeatProblem. No
DOLFINx here."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from femiec.models.conduction import HeatBoundaryCondition
from femiec.sections import (FiniteFloat, PositiveFloat, RegionalPropertySpec, RegionalScalarSpec, Section,
                             existing_file)

#: the ``kind`` values of a temperature table
TEMPERATURE_KINDS = ("constant", "expression", "file", "solved")


class ConstantTemperature(Section):
    """A uniform temperature ``value`` [K]."""

    kind: Literal["constant"]
    value: PositiveFloat


class ExpressionTemperature(Section):
    """T(x, t) [K] of an ``expression`` string in x, y, z [m] and t [s] (NumPy functions, see
    femiec.problems.thermal_case.EXPRESSION_NAMES; checked when the problem is built), interpolated into
    Lagrange functions of ``degree``."""

    kind: Literal["expression"]
    expression: str
    degree: Literal[1, 2] = 1


class FileTemperature(Section):
    """T [K] on a regular grid in a ``.npy`` ``file`` (relative paths beside the case file), grid point
    (0, 0, 0) at ``origin`` [m], ``spacing`` [m] between points (default: the grid spans the mesh bounding
    box); trilinear interpolation into Lagrange functions of ``degree``."""

    kind: Literal["file"]
    file: str
    origin: list[FiniteFloat] | None = None
    spacing: list[PositiveFloat] | None = None
    degree: Literal[1, 2] = 1

    _file = field_validator("file")(existing_file)


class SolvedTemperature(Section):
    """A solved temperature (HeatProblem): ``thermal_conductivity`` k [W/(m K)] (number, tensor spec, table
    cell region -> spec, or a law table ``{law = "arrhenius" | "vft", ...}``), ``heat_capacity`` rho c_p
    [J/(m^3 K)] (transient; number, table cell region -> number or law table), ``initial`` T [K],
    ``degree``, and ``boundary`` = list of {facet, temperature} | {facet, flux} | {facet, h, T_inf}
    (facets without a condition are adiabatic)."""

    kind: Literal["solved"]
    thermal_conductivity: RegionalPropertySpec
    heat_capacity: RegionalScalarSpec | None = None
    initial: PositiveFloat = 298.15
    degree: Literal[1, 2] = 1
    boundary: Annotated[list[HeatBoundaryCondition], Field(min_length=1)]

    def referenced_cell_tags(self, key: str) -> list[tuple[str, str]]:
        """(case key, name) of the cell regions of per-region coefficients (``key``: this table's key)."""
        return regions_of(f"{key}.thermal_conductivity", self.thermal_conductivity) + \
            regions_of(f"{key}.heat_capacity", self.heat_capacity)

    def referenced_facet_tags(self, key: str) -> list[tuple[str, str]]:
        return [(f"{key}.boundary[{i}].facet", bc.facet) for i, bc in enumerate(self.boundary)]


def regions_of(key: str, spec) -> list[tuple[str, str]]:
    """(``key.<region>``, region) of a coefficient given per cell region (a table without ``law`` and
    ``symmetry``); nothing for a coefficient given once."""
    if isinstance(spec, dict) and not {"law", "symmetry"} & set(spec):
        return [(f"{key}.{region}", region) for region in spec]
    return []
