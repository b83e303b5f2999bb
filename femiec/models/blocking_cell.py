"""Model kind ``blocking_cell``: the impedance of a blocking symmetric cell on an image phase (pores with a
double layer on their walls; femiec.problems.blocking_cell; docs/blocking_cell.md)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from femiec.errors import InputError
from femiec.models.spec import ModelSection, ModelSpec
from femiec.sections import PositiveFloat, Section


class SpectrumKeys(Section):
    """The frequencies of the spectrum: log-spaced from max_frequency down to min_frequency [Hz],
    per_decade of them per decade (femiec.studies.impedance.frequencies)."""

    min_frequency: PositiveFloat
    max_frequency: PositiveFloat
    per_decade: Annotated[int, Field(ge=1)] = 10

    @model_validator(mode="after")
    def _ordered(self):
        if self.max_frequency <= self.min_frequency:
            raise InputError("value.max_frequency", self.max_frequency,
                             f"a frequency above min_frequency = {self.min_frequency:g} Hz")
        return self


class BlockingCellModel(ModelSection):
    """Pore phase (cell regions ``pore_regions``) with ionic conductivity ``conductivity`` [S/m], walls
    (facets between pore and other cells) with double-layer ``capacitance`` [F/m^2] and optional
    ``charge_transfer_resistance`` [Ohm m^2] in parallel, the solid an ideal conductor at 0 V, the
    potential applied on the facet tag ``separator``; the spectrum of ``[model.spectrum]``."""

    kind: Literal["blocking_cell"]
    pore_regions: Annotated[list[str], Field(min_length=1)]
    separator: str
    conductivity: PositiveFloat
    capacitance: PositiveFloat
    charge_transfer_resistance: PositiveFloat | None = None
    degree: Literal[1, 2] = 1
    spectrum: SpectrumKeys

    def referenced_cell_tags(self) -> list[tuple[str, str]]:
        return [(f"model.pore_regions[{i}]", name) for i, name in enumerate(self.pore_regions)]

    def referenced_facet_tags(self) -> list[tuple[str, str]]:
        return [("model.separator", self.separator)]


def build(case, meshdata, comm):
    from femiec.problems.blocking_cell import BlockingCellProblem

    m = case.model
    return BlockingCellProblem(meshdata, m.pore_regions, m.separator, m.conductivity, m.capacitance,
                               charge_transfer_resistance=m.charge_transfer_resistance, degree=m.degree)


def run(case, problem, out_dir, progress) -> dict:
    """The spectrum about phi = V = 0 into impedance.csv; the electrode tortuosity of its blocking
    transmission-line part (blocking walls only) in the summary."""
    from femiec.studies.electrode_tortuosity import electrode_tortuosity
    from femiec.studies.impedance import frequencies, impedance_spectrum

    keys = case.model.spectrum
    frequency = frequencies(keys.min_frequency, keys.max_frequency, keys.per_decade)
    spectrum = impedance_spectrum(problem.impedance_port(), frequency,
                                  progress=lambda k, f, Z, stats: progress((k + 1) / len(frequency)))
    path = write_impedance_csv(out_dir / "impedance.csv", spectrum, problem.mesh.comm)
    derived = {"area [m^2]": problem.area, "thickness [m]": problem.thickness, "porosity": problem.porosity,
               "wall_area [m^2]": problem.wall_area}
    if case.model.charge_transfer_resistance is None:
        derived.update(electrode_tortuosity(spectrum, case.model.conductivity, problem.porosity,
                                            problem.thickness, problem.area).as_dict())
    return {"derived": derived, "files": {"impedance": path.name},
            "solver": {"unknowns": spectrum.unknowns, "iterations": [s.iterations for s in spectrum.stats]}}


def write_impedance_csv(path, spectrum, comm):
    """impedance.csv (rank 0): frequency_Hz, Re_Z_Ohm, Im_Z_Ohm, abs_Z_Ohm, phase_deg and, with an area,
    Re_Z_Ohm_m2, Im_Z_Ohm_m2 (area-specific)."""
    import csv

    import numpy as np

    Z, specific = spectrum.impedance, spectrum.area_specific
    header = ["frequency_Hz", "Re_Z_Ohm", "Im_Z_Ohm", "abs_Z_Ohm", "phase_deg"]
    columns = [spectrum.frequency, Z.real, Z.imag, np.abs(Z), np.angle(Z, deg=True)]
    if specific is not None:
        header += ["Re_Z_Ohm_m2", "Im_Z_Ohm_m2"]
        columns += [specific.real, specific.imag]
    if comm.rank == 0:
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows([[repr(float(x)) for x in row] for row in zip(*columns)])
    comm.barrier()
    return path


MODEL = ModelSpec("blocking_cell", BlockingCellModel, build, run,
                  summary="impedance of a blocking symmetric cell: pores with double-layer walls")
