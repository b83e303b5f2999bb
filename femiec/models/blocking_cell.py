"""Model kind ``blocking_cell``: the impedance of a blocking symmetric cell on an image phase (pores with a
double layer on their walls; femiec.problems.blocking_cell; docs/blocking_cell.md)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from femiec.models.spec import ModelSection, ModelSpec
from femiec.sections import PositiveFloat


class BlockingCellModel(ModelSection):
    """Pore phase (cell regions ``pore_regions``) with ionic conductivity ``conductivity`` [S/m], walls
    (facets between pore and other cells) with double-layer ``capacitance`` [F/m^2] and optional
    ``charge_transfer_resistance`` [Ohm m^2] in parallel, the solid an ideal conductor at 0 V, the
    potential applied on the facet tag ``separator``. Its study is the impedance spectrum about rest
    (``[study] kind = "impedance"``, required)."""

    kind: Literal["blocking_cell"]
    pore_regions: Annotated[list[str], Field(min_length=1)]
    separator: str
    conductivity: PositiveFloat
    capacitance: PositiveFloat
    charge_transfer_resistance: PositiveFloat | None = None
    degree: Literal[1, 2] = 1

    def referenced_cell_tags(self) -> list[tuple[str, str]]:
        return [(f"model.pore_regions[{i}]", name) for i, name in enumerate(self.pore_regions)]

    def referenced_facet_tags(self) -> list[tuple[str, str]]:
        return [("model.separator", self.separator)]


def build(case, meshdata, comm):
    from femiec.problems.blocking_cell import BlockingCellProblem

    m = case.model
    return BlockingCellProblem(meshdata, m.pore_regions, m.separator, m.conductivity, m.capacitance,
                               charge_transfer_resistance=m.charge_transfer_resistance, degree=m.degree)


def port(case, problem, study):
    """The cell at rest (phi = V = 0 is its steady state) and its voltage-driven port; with blocking walls
    (no charge-transfer resistance) the electrode tortuosity factor of the spectrum's transmission-line
    part goes into the summary."""
    from femiec.studies.electrode_tortuosity import electrode_tortuosity

    port = problem.impedance_port()
    if case.model.charge_transfer_resistance is None:
        port.derive = lambda spectrum: electrode_tortuosity(spectrum, case.model.conductivity, problem.porosity,
                                                            problem.thickness, problem.area).as_dict()
    port.details = {"area_m2": problem.area, "thickness_m": problem.thickness, "porosity": problem.porosity,
                     "wall_area_m2": problem.wall_area}
    return port


MODEL = ModelSpec("blocking_cell", BlockingCellModel, build, None, port=port,
                  summary="impedance of a blocking symmetric cell: pores with double-layer walls")
