"""``[model] kind = "porous_mixed_conductor"`` through the command line (femiec.models.porous_mixed_conductor,
femiec.problems.miec_electrode_case): the resolved porous MIEC electrode of test_miec_electrode from a case
file.

Image: straight columns, 4 x 2 x 40 voxels of h = 0.1 um (.npy; MIEC in the two middle x-planes, pores at
x = 0 and 3h), the constant-K acceptor-doped oxide of test_miec_electrode, T = 1000 K.

(a) The case-file run is the Python API run: summary.json's asr_ohm_m2 and the polarisation current
    densities equal those of PorousMIECElectrode built with the same inputs to 1e-10 (the same
    computation: they differ only by rounding), its ALS entries equal femiec.studies.miec_als.als_reference
    of the same image to 1e-10; polarisation.csv holds the curve.
(b) With [model.gas] pore_diameter = "chord" and the Butler–Volmer exchange: the case's pore diameter is
    femiec.meshing.tomography.mean_chord_length of the pores, 6h for this image: chords 2h along x (the
    two half pores at the mirror faces x = 0 and 4h: 2 pore voxels and 2 pore faces per line, l = 2 N h / F),
    none along y and z (no pore faces: infinite chords, null in summary.json), so the mean over the three
    axes is 3h / (h / 2h); the ASR (central difference of the coupled solves) equals the API's with that
    GasTransport to 1e-10.
(c) [study] kind = "impedance" about equilibrium: at the lowest frequency (omega t_chem ~ 2e-4) Re(Z A_proj)
    equals the equilibrium ASR of (a) to 1e-3.
(d) Refused inputs: one InputError naming the case key, before any solve.
(e) [study] kind = "impedance" with [model.gas] (D_12 = 1e-7 m^2/s, no Knudsen term: a gas arc): the case
    writes impedance.csv, and its spectrum is that of PorousMIECElectrode(gas=GasTransport(...)).impedance
    with the same inputs to 1e-10 (the same computation); at the lowest frequency, 1 Hz, Re(Z A_proj)
    equals the ASR of the coupled steady solves (central difference, 1 mV) to 1e-4.
Tests marked mpi record the same numbers on 1 and 2 ranks.
"""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from femiec.materials.defects import DefectChemistry

MATERIAL = DefectChemistry(acceptor=4000.0, reduction_prefactor=2e-7, reduction_enthalpy=0.0,
                           intrinsic_prefactor=1e-8, intrinsic_enthalpy=0.0, vacancy_mobility=2.6e-9,
                           electron_mobility=1e-2, hole_mobility=1e-2, name="electronic MIEC, constant K")
T, PRESSURE, VOXEL, R_S = 1000.0, 1e-21, 1e-7, 1e-5
ETAS = [0.01, 0.02, -0.01]

CASE = """
[case]
name = "columns"

[model]
kind = "porous_mixed_conductor"
image = "columns.npy"
voxel_size = 1.0e-7
solid = 1
pore = 0
temperature = 1000.0
pressure = {pressure}
{exchange}
{extra}
{material}
{tables}
"""

MATERIAL_TABLE = """
[model.material]
acceptor = 4000.0
reduction_prefactor = 2.0e-7
intrinsic_prefactor = 1.0e-8
vacancy_mobility = 2.6e-9
electron_mobility = 1.0e-2
hole_mobility = 1.0e-2
"""


def _columns() -> np.ndarray:
    image = np.zeros((4, 2, 40), dtype=np.uint8)
    image[1:3] = 1
    return image


def _write(directory, comm, pressure=PRESSURE, exchange=f"resistance = {R_S}", extra="", tables="",
           material=MATERIAL_TABLE):
    path = directory / "case.toml"
    if comm.rank == 0:
        np.save(directory / "columns.npy", _columns())
        path.write_text(textwrap.dedent(CASE.format(pressure=pressure, exchange=exchange, extra=extra,
                                                    tables=tables, material=material)))
    comm.barrier()
    return path


def _run(path, out):
    from femiec.cli import main

    assert main(["-q", "run", str(path), "--out", str(out)]) == 0
    return json.loads((out / "summary.json").read_text())


def _tmp(tmp_path_factory, comm, name):
    return comm.bcast(tmp_path_factory.mktemp(name) if comm.rank == 0 else None)


@pytest.mark.mpi
def test_case_matches_api(tmp_path_factory, comm, numbers):
    """(a) of the module docstring."""
    from femiec.problems.miec_electrode import PorousMIECElectrode
    from femiec.studies.miec_als import als_reference, image_descriptors

    directory = _tmp(tmp_path_factory, comm, "porous_miec")
    summary = _run(_write(directory, comm, extra=f"overpotentials = {ETAS}"), directory / "out")
    derived = summary["derived"]["porous_electrode"]
    electrode = PorousMIECElectrode(_columns(), VOXEL, MATERIAL, temperature=T, oxygen_pressure=PRESSURE,
                                    surface_resistance=R_S, comm=comm)
    asr = electrode.area_specific_resistance()
    currents = electrode.polarisation_curve(ETAS)
    assert abs(derived["asr_ohm_m2"] / asr - 1) < 1e-10, (derived["asr_ohm_m2"], asr)
    np.testing.assert_allclose(derived["polarisation"]["current_density_A_m2"], currents, rtol=1e-10)
    _, als_asr = als_reference(image_descriptors(_columns(), VOXEL, comm), MATERIAL, temperature=T,
                               oxygen_pressure=PRESSURE, surface_resistance=R_S, transfer_resistance=1e-9)
    assert abs(derived["als"]["asr_ohm_m2"] / als_asr - 1) < 1e-10
    table = np.loadtxt(directory / "out" / "polarisation.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(table[:, 0], sorted(ETAS))
    assert (directory / "out" / "utilisation.bp").exists()
    assert derived["final_state"]["overpotential_V"] == ETAS[-1]
    numbers.record("asr", derived["asr_ohm_m2"])
    numbers.record("asr_als", derived["als"]["asr_ohm_m2"])
    numbers.record("current_density", currents)


@pytest.mark.mpi
def test_gas_chord_case(tmp_path_factory, comm, numbers):
    """(b) of the module docstring."""
    from femiec.forms.miec import exchange_resistance
    from femiec.meshing.tomography import mean_chord_length
    from femiec.problems.miec_electrode import PorousMIECElectrode
    from femiec.problems.pore_gas import GasTransport

    rate = exchange_resistance(R_S, T)
    directory = _tmp(tmp_path_factory, comm, "porous_miec_gas")
    summary = _run(_write(directory, comm, pressure=0.21e5, exchange=f"exchange_rate = {rate!r}",
                          tables='[model.gas]\npore_diameter = "chord"\n'), directory / "out")
    derived = summary["derived"]["porous_electrode"]
    chord = 6 * VOXEL
    assert abs(mean_chord_length(_columns() == 0, True, VOXEL) / chord - 1) < 1e-14
    assert abs(derived["gas"]["pore_diameter_m"] / chord - 1) < 1e-14
    assert derived["image"]["pore_chord_length_m"][0] == pytest.approx(2 * VOXEL, rel=1e-14)
    assert derived["image"]["pore_chord_length_m"][1:] == [None, None]
    electrode = PorousMIECElectrode(_columns(), VOXEL, MATERIAL, temperature=T, oxygen_pressure=0.21e5,
                                    exchange_rate=rate, comm=comm, gas=GasTransport(pore_diameter=chord))
    asr = electrode.area_specific_resistance()
    assert abs(derived["asr_ohm_m2"] / asr - 1) < 1e-10, (derived["asr_ohm_m2"], asr)
    numbers.record("asr", derived["asr_ohm_m2"])


@pytest.mark.mpi
def test_impedance_study(tmp_path_factory, comm, numbers):
    """(c) of the module docstring."""
    directory = _tmp(tmp_path_factory, comm, "porous_miec_impedance")
    study = ('[study]\nkind = "impedance"\nmin_frequency = 1.0\nmax_frequency = 1.0e4\nper_decade = 1\n'
             'drt = false\nkramers_kronig = false\n')
    summary = _run(_write(directory, comm, tables=study), directory / "out")
    table = np.loadtxt(directory / "out" / "impedance.csv", delimiter=",", skiprows=1)
    steady = _run(_write(directory, comm), directory / "steady")["derived"]["porous_electrode"]["asr_ohm_m2"]
    low = table[np.argmin(table[:, 0])]
    area = summary["impedance"]["projected_area_m2"]
    assert abs(low[1] * area / steady - 1) < 1e-3, (low, steady)
    numbers.record("re_z_low", low[1] * area)


@pytest.mark.mpi
def test_gas_impedance_study(tmp_path_factory, comm, numbers):
    """(e) of the module docstring."""
    from femiec.problems.miec_electrode import PorousMIECElectrode
    from femiec.problems.pore_gas import GasTransport

    directory = _tmp(tmp_path_factory, comm, "porous_miec_gas_impedance")
    study = ('[study]\nkind = "impedance"\nmin_frequency = 1.0\nmax_frequency = 1.0e4\nper_decade = 1\n'
             'drt = false\nkramers_kronig = false\n')
    tables = study + "[model.gas]\nbinary_diffusivity = 1.0e-7\n"
    summary = _run(_write(directory, comm, pressure=0.21e5, tables=tables), directory / "out")
    table = np.loadtxt(directory / "out" / "impedance.csv", delimiter=",", skiprows=1)
    electrode = PorousMIECElectrode(_columns(), VOXEL, MATERIAL, temperature=T, oxygen_pressure=0.21e5,
                                    surface_resistance=R_S, comm=comm, gas=GasTransport(binary_diffusivity=1e-7))
    electrode.solve(0.0)
    spectrum = electrode.impedance(table[:, 0])
    np.testing.assert_allclose(table[:, 1] + 1j * table[:, 2], spectrum.impedance, rtol=1e-10)
    area = summary["impedance"]["projected_area_m2"]
    assert summary["impedance"]["gas"]["passes"] >= 1
    low = table[np.argmin(table[:, 0])]
    asr = electrode.area_specific_resistance()
    assert abs(low[1] * area / asr - 1) < 1e-4, (low, asr)
    numbers.record("z_ohm_m2", area * np.concatenate([table[:, 1], table[:, 2]]))


@pytest.mark.parametrize("change, key", [
    ("solid = 7", "model.solid"),
    ("pore = 1", "model.pore"),
    ("pore = 2", "model.pore"),
    ('reactive_area = "round"', "model.reactive_area"),
    ("exchange_rate = 1.0", "model.resistance"),
    ("transfer_resistance = -1.0", "model.transfer_resistance"),
    ("overpotentials = [0.1, \"x\"]", "model.overpotentials[1]"),
    ("crop = [[0, 4], [0, 2], [0, 41]]", "model.crop[2]"),
    ("tortuosity = 2.0", "model.tortuosity"),
    ("degree = 3", "model.degree"),
    ('material = "unobtainium"', "model.material"),
    ('image = "missing.npy"', "model.image"),
    ("voxel_size = 0.0", "model.voxel_size"),
    ("[model.gas]\npore_diameter = \"mean\"", "model.gas.pore_diameter"),
    ("[model.gas]\npressure = 1.0e-22", "model.pressure"),
    ('[model.gas]\nflux_law = "graham"', "model.gas.flux_law"),
    ("[time]\nt_end = 1.0\ndt = 0.1", "time"),
    ('[mesh]\nkind = "box"\nlengths = [1.0]\ncells = [2]', "mesh"),
    ('[output]\nfields = ["temperature"]', "output.fields"),
])
def test_input_errors(tmp_path, change, key):
    """(d) Refused inputs name their case key (the problem is built, nothing is solved)."""
    from mpi4py import MPI

    from femiec.config import load_case
    from femiec.errors import InputError
    from femiec.runner import build_problem

    comm = MPI.COMM_SELF
    table = change.startswith("[")
    name = change.split(" =")[0]
    path = _write(tmp_path, comm, tables=change if table else "",
                  material="" if name == "material" else MATERIAL_TABLE)
    if not table:  # the line of that key replaced, or the key added to [model]
        lines = path.read_text().splitlines()
        given = [i for i, line in enumerate(lines) if line.startswith(name + " =")]
        if given:
            lines[given[0]] = change
        else:
            lines.insert(lines.index("[model]") + 1, change)
        path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as error:
        build_problem(load_case(path), comm)
    assert error.value.key == key, error.value


def test_non_spanning_solid_and_other_values(tmp_path):
    """(d) A solid that does not connect the electrolyte to the collector, and an image value that is
    neither solid nor pore."""
    from mpi4py import MPI

    from femiec.config import load_case
    from femiec.errors import InputError
    from femiec.runner import validate

    comm = MPI.COMM_SELF
    path = _write(tmp_path, comm)
    for image, key in ((np.pad(_columns()[:, :, :20], ((0, 0), (0, 0), (0, 20))), "model.solid"),
                       (_columns() + 2 * (np.arange(40) == 0), "model.image")):
        np.save(tmp_path / "columns.npy", image.astype(np.uint8))
        with pytest.raises(InputError) as error:
            validate(load_case(path), comm)
        assert error.value.key == key, error.value
