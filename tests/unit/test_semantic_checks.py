"""Semantic checks before any solve: inputs that used to run to a silent wrong result (exit 0) are
refused with one line `error: <key>: <value> (expected ...)` and exit 2 (or exit 1 for a result that
fails its own check), and plausible-but-suspect inputs get one warning line while the run goes on."""
from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import numpy as np
import pytest

from case_texts import IMAGE_CONDUCTION_CASE

from femiec.cli import main

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT.parent / "shared" / "data" / "nmc_electrode_256.tiff"
ELECTRODE = ROOT / "demos" / "nmc_electrode" / "case_12.toml"

BOX = """
[mesh]
kind = "box"
lengths = [1.0e-3, 1.0e-3]
cells = [4, 4]
cell_type = "quadrilateral"

[materials.m]
conductivity = {conductivity}

[regions]
domain = "m"

[model]
kind = "conduction"
property = "conductivity"
boundary = [{{ facet = "xmin", value = {value} }}, {{ facet = "xmax", value = 0.0 }}]
"""


def _one_error(capsys, key: str, *fragments: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"error: {key}: "), err[0]
    for fragment in fragments:
        assert fragment in err[0], err[0]
    return err[0]


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "case.toml"
    path.write_text(textwrap.dedent(text))
    return path


# ------------------------------------------------------------------------------------- 1. nan and inf
@pytest.mark.parametrize("conductivity, value, key", [
    ("1.0", "nan", "model.boundary[0].value"),            # a typed float key (used to write NaN fields)
    ("1.0", "inf", "model.boundary[0].value"),
    ("1.0", "-inf", "model.boundary[0].value"),
    ("[[1.0, 0, 0], [0, nan, 0], [0, 0, 1.0]]", "1.0", "materials.m.conductivity[1][1]"),  # untyped tensor
    ('{ law = "arrhenius", prefactor = inf, activation_energy = 1e4 }', "1.0",
     "materials.m.conductivity.prefactor"),                                                   # a law table
])
def test_nan_and_inf_refused_everywhere(tmp_path, capsys, conductivity, value, key):
    assert main(["validate", str(_write(tmp_path, BOX.format(conductivity=conductivity, value=value)))]) == 2
    _one_error(capsys, key, "finite")


def test_nan_refused_by_sections_outside_a_case():
    """The Python API: every float of every Section refuses nan (Section config allow_inf_nan=False)."""
    from femiec.errors import InputError
    from femiec.materials.electrochemistry import Electrolyte

    with pytest.raises(InputError, match=r"^electrolyte\.thermodynamic_factor: nan"):
        Electrolyte.parse({"thermodynamic_factor": float("nan")}, "electrolyte")


# ---------------------------------------------------------------------------- 2. facet tags with no facets
@pytest.mark.mpi
def test_condition_on_a_face_the_phase_does_not_reach(tmp_path_factory, capsys, comm):
    """A phase that does not reach x = L (no percolating_axis): its image mesh has the tag xmax with no
    facets, so a condition there would act nowhere (it reported current 0): refused, on any rank count."""
    tmp = comm.bcast(tmp_path_factory.mktemp("facets") if comm.rank == 0 else None)
    if comm.rank == 0:
        image = np.zeros((6, 4, 4), dtype=np.uint8)
        image[:3] = 1                      # phase 1 touches xmin only
        image[4:, 0, 0] = 1                # and a cluster that touches xmax: first case only
        np.save(tmp / "reaching.npy", image)
        image[4:, 0, 0] = 0
        np.save(tmp / "short.npy", image)
    comm.barrier()
    path = tmp / f"case{comm.rank}.toml"
    path.write_text(textwrap.dedent(IMAGE_CONDUCTION_CASE.format(file=tmp / "short.npy", extra="")))
    assert main(["validate", str(path)]) == 2
    if comm.rank == 0:
        _one_error(capsys, "model.boundary[1].facet", "'xmax'", "has none")
    path.write_text(textwrap.dedent(IMAGE_CONDUCTION_CASE.format(file=tmp / "reaching.npy", extra="")))
    assert main(["-q", "validate", str(path)]) == 0


# ---------------------------------------------------------------------------------- 3. crops outside
HOMOGENIZATION = """
[model]
kind = "homogenization"
image = "img.npy"
phases = [1]
axes = "x"
method = "fv"
voxel_size = 1.0e-6
{extra}
"""


@pytest.mark.parametrize("crop, axis, value", [
    ("[[0, 40], [0, 8], [0, 8]]", 0, "[0, 40]"),   # used to be cut silently to 16
    ("[[0, 16], [4, 4], [0, 8]]", 1, "[4, 4]"),    # empty
    ("[[0, 16], [0, 8], [6, 2]]", 2, "[6, 2]"),    # reversed
    ("[[-2, 8], [0, 8], [0, 8]]", 0, "[-2, 8]"),   # negative start
])
def test_crop_outside_the_image(tmp_path, capsys, crop, axis, value):
    np.save(tmp_path / "img.npy", np.ones((16, 8, 8), dtype=np.uint8))
    assert main(["validate", str(_write(tmp_path, IMAGE_CONDUCTION_CASE.format(file="img.npy", extra=f"crop = {crop}")))]) == 2
    _one_error(capsys, f"mesh.crop[{axis}]", value, "(16, 8, 8)")
    extra = f"crop = {crop}"
    assert main(["validate", str(_write(tmp_path, HOMOGENIZATION.format(extra=extra)))]) == 2
    _one_error(capsys, f"model.crop[{axis}]", value, "(16, 8, 8)")


# ------------------------------------------------------------------ 4. cut-off on the wrong side of U(x0)
def _electrode_case(tmp_path, old: str, new: str) -> Path:
    text = ELECTRODE.read_text().replace("crop = [[0, 12], [0, 12], [0, 12]]", "crop = [[0, 8], [0, 8], [0, 8]]")
    text = text.replace('file = "../../../shared/data', f'file = "{IMAGE.parent}')
    assert old in text
    return _write(tmp_path, text.replace(old, new))


@pytest.mark.skipif(not IMAGE.is_file(), reason=f"{IMAGE} not found")
@pytest.mark.parametrize("old, new, key", [
    # U(x0 = 0.4) = 4.13 V on the default NMC-like curve: a discharge cut-off at 4.2 V is already passed
    ("voltage_min = 3.4 ", "voltage_min = 4.2\nvoltage_max = 4.4 ", "model.discharge.voltage_min"),
    # a charge (c_rate < 0) with its cut-off below U(x0)
    ("c_rate = 1.0 ", "c_rate = -1.0\nvoltage_max = 4.0 ", "model.discharge.voltage_max"),
])
def test_cutoff_on_the_wrong_side_of_the_open_circuit_voltage(tmp_path, capsys, old, new, key):
    assert main(["validate", str(_electrode_case(tmp_path, old, new))]) == 2
    _one_error(capsys, key, "U(x0) = 4.13")


def test_cutoff_side_check():
    from femiec.errors import InputError
    from femiec.models.electrode import Discharge
    from femiec.problems.electrode_case import check_cutoff_side

    check_cutoff_side(Discharge(c_rate=1.0, voltage_min=3.0), 3.9)
    check_cutoff_side(Discharge(current=-1e-3, voltage_max=4.3), 3.9)
    with pytest.raises(InputError, match="model.discharge.voltage_min"):
        check_cutoff_side(Discharge(current=1e-3, voltage_min=3.9), 3.9)
    with pytest.raises(InputError, match="model.discharge.voltage_max"):
        check_cutoff_side(Discharge(c_rate=-2.0, voltage_max=3.8), 3.9)


# ---------------------------------------------------------------------------------- 5. OCV monotone
def test_ocv_table_must_not_rise():
    """U falls as the host fills (x = c_s/c_max up); plateaus are allowed, a rise is refused at its point."""
    from femiec.errors import InputError
    from femiec.materials.electrochemistry import ActiveMaterial
    from femiec.materials.ocv import OpenCircuitVoltage

    OpenCircuitVoltage([0.1, 0.5, 0.6, 0.9], [4.2, 3.9, 3.9, 3.5])  # plateau: accepted
    with pytest.raises(InputError, match=r"^ocv\.voltage\[2\]: 4\.0 .*rises from 3\.9 V at x = 0\.5"):
        OpenCircuitVoltage([0.1, 0.5, 0.6, 0.9], [4.2, 3.9, 4.0, 3.5])
    with pytest.raises(InputError, match=r"^model\.active_material\.ocv\.voltage\[1\]: 4\.2"):
        ActiveMaterial.parse({"ocv": {"stoichiometry": [0.1, 0.9], "voltage": [3.5, 4.2]}},
                             "model.active_material")


# ----------------------------------------------------------------- 6. homogenization tolerances
@pytest.mark.skipif(not IMAGE.is_file(), reason=f"{IMAGE} not found")
def test_loose_fv_rtol_is_refused_before_the_solve(tmp_path, capsys):
    """For ``fv`` rtol is the relative error of D_eff allowed: above 1e-2 it is refused before any solve
    (InputError naming the key; exit 2 with one line from `femiec run` and `femiec validate`, naming the
    case key model.rtol, no summary.json). At 1e-2 tau lies
    within 1% of the tightly converged value (the estimate, not the initial guess: rtol 0.5 once gave tau
    0.98 instead of 2.09 after 0 CG iterations of the residual criterion)."""
    from femiec.errors import InputError
    from femiec.homogenization import homogenize
    from femiec.meshing.tomography import read_image

    image = read_image(IMAGE)[:32, :32, :32]
    with pytest.raises(InputError, match=r"^rtol: 0\.5 \(expected at most 0\.01 for method 'fv'"):
        homogenize(image, [0], axes="x", method="fv", rtol=0.5)
    loose = homogenize(image, [0], axes="x", method="fv", rtol=1e-2).axes["x"]
    tight = homogenize(image, [0], axes="x", method="fv", rtol=1e-12).axes["x"]
    assert 3 <= loose.iterations < tight.iterations
    assert loose.deff_error <= 0.5e-2
    assert tight.tau * (1 - 1e-2) <= loose.tau <= tight.tau  # D_eff from the power: an upper bound
    np.save(tmp_path / "img.npy", image)
    path = _write(tmp_path, HOMOGENIZATION.format(extra="rtol = 0.5").replace("[1]", "[0]"))
    for command in (["-q", "run", str(path), "--out", str(tmp_path / "out")], ["-q", "validate", str(path)]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: model.rtol: 0.5 (expected at most 0.01"), err
    assert not (tmp_path / "out" / "summary.json").exists()


def test_loose_rtol_of_the_finite_elements_is_warned(caplog):
    """fe and periodic stop on the residual, whose rtol bounds tau's error only loosely: above 1e-3 a
    warning."""
    from femiec.homogenization import homogenize

    image = np.ones((6, 4, 4), dtype=np.uint8)
    image[:, 1:3, 1:3] = 0
    with caplog.at_level(logging.WARNING):
        homogenize(image, [0], axes="x", method="fe", rtol=0.1)
    assert any("rtol = 0.1 is looser" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- 7. plausibility warnings
def test_temperature_in_celsius_is_warned(tmp_path, capsys, caplog):
    text = BOX.format(conductivity="1.0", value="1.0") + "temperature = 25.0\n"
    with caplog.at_level(logging.WARNING):
        assert main(["validate", str(_write(tmp_path, text))]) == 0
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert lines == ["model.temperature: 25 K is below 150 K: is it in Celsius? (temperatures are in kelvin, "
                     "25 degC = 298.15 K)"]


def test_every_temperature_key_is_looked_at(caplog):
    from femiec.plausibility import warn_low_temperatures

    case = {"model": {"temperature": {"kind": "solved", "initial": 20.0, "thermal_conductivity": 1.0,
                                      "boundary": [{"facet": "xmin", "temperature": 300.0},
                                                   {"facet": "xmax", "h": 10.0, "T_inf": 30.0}]},
                      "heat": {"boundary": [{"facet": "xmin", "temperature": 80.0}]},
                      "law": {"ideal_glass_temperature": 100.0}}}
    with caplog.at_level(logging.WARNING):
        warn_low_temperatures(case)
    keys = [r.getMessage().split(":")[0] for r in caplog.records]
    assert keys == ["model.temperature.initial", "model.temperature.boundary[1].T_inf",
                    "model.heat.boundary[0].temperature"]


def test_unresolved_debye_length_is_warned(caplog):
    from mpi4py import MPI

    from femiec.meshing.box import box_mesh
    from femiec.plausibility import warn_unresolved_debye_length

    mesh = box_mesh([1e-6, 1e-6], [10, 10], cell_type="quadrilateral", comm=MPI.COMM_WORLD).mesh
    with caplog.at_level(logging.WARNING):
        warn_unresolved_debye_length("model.closure", 1e-7, mesh)   # h = 0.141 um > 0.1 um
        warn_unresolved_debye_length("model.closure", 1e-6, mesh)   # resolved: nothing
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "lambda_D = 1e-07 m" in messages[0] and "h = 1.41e-07 m" in messages[0]


def test_mesh_too_large_for_the_memory_is_warned(tmp_path, capsys, caplog, monkeypatch):
    """Estimated from the cell count before the mesh is allocated (650 B per cell, measured), and for the
    electrode from its unknowns before the Newton system is (3.3 kB per unknown)."""
    import femiec.plausibility

    monkeypatch.setattr(femiec.plausibility, "available_memory", lambda: 1e4)
    with caplog.at_level(logging.WARNING):
        assert main(["validate", str(_write(tmp_path, BOX.format(conductivity="1.0", value="1.0")))]) == 0
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and messages[0].startswith("mesh.cells: 16 quadrilateral cells need about")
    caplog.clear()
    np.save(tmp_path / "img.npy", np.ones((16, 8, 8), dtype=np.uint8))
    with caplog.at_level(logging.WARNING):
        assert main(["validate", str(_write(tmp_path, IMAGE_CONDUCTION_CASE.format(
            file="img.npy", extra="crop = [[0, 16], [0, 8], [0, 8]]")))]) == 0
        assert main(["validate", str(_write(tmp_path, HOMOGENIZATION.format(extra="")))]) == 0
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("mesh.file: 1024 voxels to mesh need about")
    assert messages[1].startswith("model.image: 1024 voxels ('fv' homogenization) need about")
    if not IMAGE.is_file():
        return
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert main(["validate", "--build", str(_electrode_case(tmp_path, "outputs = 5 ", "outputs = 5 "))]) == 0
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert messages[0].startswith("mesh.file: ") and messages[1].startswith("mesh: ") and \
        "electrode unknowns need about" in messages[1]


# -------------------------------------------------------------------- numbers read from files: nan
def test_nan_in_a_temperature_grid_file(tmp_path, caplog):
    """A .npy temperature grid with nan is refused, naming the grid point; a grid or an expression in
    Celsius is warned about."""
    from mpi4py import MPI

    from femiec.errors import InputError
    from femiec.meshing.box import box_mesh
    from femiec.problems.prescribed_temperature import PrescribedTemperature

    square = box_mesh([1e-3, 1e-3], [2, 2], cell_type="quadrilateral", comm=MPI.COMM_SELF)
    grid = np.full((3, 3), 300.0)
    grid[1, 2] = np.nan
    np.save(tmp_path / "T.npy", grid)
    with pytest.raises(InputError, match=r"^temperature: .*grid point \(1, 2\) holds nan"):
        PrescribedTemperature(square, str(tmp_path / "T.npy"))
    np.save(tmp_path / "T.npy", np.full((3, 3), 25.0))
    with caplog.at_level(logging.WARNING):
        PrescribedTemperature(square, str(tmp_path / "T.npy"))
        PrescribedTemperature(square, lambda x, t: 20.0 + 0.0 * x[0])   # an expression in Celsius
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["temperature (lowest value of the field)"] * 2


def test_nan_in_a_grain_orientation_file(tmp_path):
    from femiec.errors import InputError
    from femiec.materials.orientation import read_orientation_csv

    (tmp_path / "grains.csv").write_text("grain_id,phi1,Phi,phi2\n1,0,0,0\nnan,10,20,30\n")
    with pytest.raises(InputError, match=r"grains\.csv:3: 'nan,10,20,30' \(expected .*4 finite numbers\)"):
        read_orientation_csv(tmp_path / "grains.csv")
    (tmp_path / "grains.csv").write_text("1,0,inf,0\n")
    with pytest.raises(InputError, match=r"grains\.csv:1"):
        read_orientation_csv(tmp_path / "grains.csv")


@pytest.mark.skipif(not IMAGE.is_file(), reason=f"{IMAGE} not found")
def test_electrode_double_layer_on_voxels_is_warned(tmp_path, caplog):
    """1 um voxels cannot resolve the 0.15 nm Debye length of a 1 M electrolyte (eps_r = 20): one warning,
    naming both lengths, and validate still passes."""
    path = _electrode_case(tmp_path, "temperature = 298.15 ", "double_layer = {}\ntemperature = 298.15 ")
    with caplog.at_level(logging.WARNING):
        assert main(["validate", str(path)]) == 0
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 1 and messages[0].startswith("model.double_layer: the Debye length lambda_D = 1.54e-10 m")
    assert "h = 1.73e-06 m" in messages[0]
