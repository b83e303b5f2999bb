"""`femiec validate` of an electrode case (model.kind = "electrode") runs the checks `femiec run` runs:
the problem is built on the image crop (regions, faces, coefficients, tensors), not solved."""
from __future__ import annotations

from pathlib import Path

import pytest

from femiec.cli import main

DEMO = Path(__file__).resolve().parents[2] / "demos" / "nmc_electrode" / "case_12.toml"
IMAGE = DEMO.parents[2].parent / "shared" / "data" / "nmc_electrode_256.tiff"
pytestmark = pytest.mark.skipif(not IMAGE.is_file(), reason=f"{IMAGE} not found")


def _case(tmp_path, old="", new=""):
    """demos/nmc_electrode/case_12.toml on an 8^3 crop with the image path made absolute, ``old`` replaced by ``new``."""
    text = DEMO.read_text().replace("crop = [[0, 12], [0, 12], [0, 12]]", "crop = [[0, 8], [0, 8], [0, 8]]")
    text = text.replace('file = "../../../shared/data', f'file = "{DEMO.parents[2].parent}/shared/data')
    assert old in text
    path = tmp_path / "case.toml"
    path.write_text(text.replace(old, new))
    return path


def test_validate_accepts_the_demo_case(tmp_path, capsys):
    assert main(["validate", str(_case(tmp_path))]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


@pytest.mark.parametrize("old, new, key, value", [
    ("diffusivity = 3.0e-10 ", "diffusivity = -3.0e-10 ", "model.electrolyte.diffusivity", "-3e-10"),
    ("conductivity = 1.0 ", "conductivity = -1.0 ", "model.electrolyte.conductivity", "-1.0"),
    ("diffusivity = 1.0e-14 ", "diffusivity = [[1e-14, 0, 0], [0, -1e-14, 0], [0, 0, 1e-14]] ",
     "model.active_material.diffusivity", "positive-definite"),
    ('separator = ["xmin"]', 'separator = ["left"]', "model.separator", "'left'"),
    ('active_regions = ["nmc"]', 'active_regions = ["nmcc"]', "model.active_regions", "'nmcc'"),
    ("dt_max = 600.0 ", "dtmax = 600.0 ", "model.discharge.dtmax", "600.0"),
    ("porosity = 0.4", "porosity = 1.4", "model.porous_separator.porosity", "1.4"),
    ('regions = ["separator"]', 'regions = ["separatr"]', "model.porous_separator.regions", "'separatr'"),
    ("voxels = 4", "voxels = 0", "mesh.pad.voxels", "0"),
    ("value = 255 }", "value = 300 }", "mesh.pad.value", "300"),
    ('face = "xmin"', 'face = "front"', "mesh.pad.face", "'front'"),
    ("temperature = 298.15 ", "double_layer = { stern_capacitance = -1.0 }\ntemperature = 298.15 ",
     "model.double_layer.stern_capacitance", "-1.0"),
    ("temperature = 298.15 ", "double_layer = { debye_length = 1e-9 }\ntemperature = 298.15 ",
     "model.double_layer.debye_length", "1e-09"),
    ("temperature = 298.15 ", "double_layer_capacitance = -0.2\ntemperature = 298.15 ",
     "model.double_layer_capacitance", "-0.2"),
    ("temperature = 298.15 ", "double_layer = {}\ndouble_layer_capacitance = 0.2\ntemperature = 298.15 ",
     "model.double_layer_capacitance", "0.2"),
    # [model.discharge] and [model.checkpoint]: refused by `validate` too (before, only `run` refused them)
    ("dt_max = 600.0 ", "dt = -120.0\ndt_max = 600.0 ", "model.discharge.dt", "-120.0"),
    ("c_rate = 1.0 ", "c_rate = 0.0 ", "model.discharge.c_rate", "0.0"),
    ("c_rate = 1.0 ", "c_rate = 1.0\ncurrent = 1e-3 ", "model.discharge.c_rate", "current"),
    ("voltage_min = 3.4 ", "voltage_min = 4.4 ", "model.discharge.voltage_min", "4.4"),
    ("outputs = 5 ", "outputs = 0 ", "model.discharge.outputs", "0"),
    ("every = 10 ", "every = -1 ", "model.checkpoint.every", "-1"),
    ("every = 10 ", 'every = 10\nrestart = "no_such_checkpoint" ', "model.checkpoint.restart", "no_such_checkpoint"),
    ('transference_number = 0.38', 'transference_number = 1.38', "model.electrolyte.transference_number", "1.38"),
    ('[model.electrolyte]', '[model.electrolyte_]', "model.electrolyte_", "concentration"),
    # the block preconditioners of [solver]: fieldsplit only, the pair only with Cahn-Hilliard particles
    ('preset = "direct"', 'preset = "direct"\nelectrolyte_preconditioner = "electrochemical"',
     "solver.electrolyte_preconditioner", "electrochemical"),
    ('preset = "direct"', 'preset = "fieldsplit"\nelectrolyte_preconditioner = "schur"',
     "solver.electrolyte_preconditioner", "schur"),
    ('preset = "direct"', 'preset = "fieldsplit"\npair_preconditioner = "block"', "solver.pair_preconditioner",
     "block"),
])
def test_validate_refuses_what_run_refuses(tmp_path, capsys, old, new, key, value):
    """Each bad input exits 2 with one line `error: <key>: <value> (expected ...)`, before any solve."""
    assert main(["validate", str(_case(tmp_path, old, new))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"error: {key}: ") and value in err[0] and "(expected " in err[0], err[0]


def test_parameter_sets_by_library_name(tmp_path, capsys):
    """`electrolyte = "<name>"` and `active_material = "<name>"` take a cited library entry
    (femiec.materials.electrochemistry); an unknown name is one line listing the known ones."""
    from femiec.config import load_case
    from femiec.materials.electrochemistry import ACTIVE_MATERIALS, ELECTROLYTES

    text = _case(tmp_path).read_text()
    start, end = text.index("[model.electrolyte]"), text.index("[model.discharge]")
    named = text[:start] + text[end:]
    named = named.replace("temperature = 298.15 ", 'electrolyte = "LiPF6_EC_EMC_Nyman2008"\n'
                          'active_material = "NMC811_Chen2020"\ntemperature = 298.15 ')
    path = tmp_path / "named.toml"
    path.write_text(named)
    case = load_case(path)
    assert case.model.electrolyte == ELECTROLYTES["LiPF6_EC_EMC_Nyman2008"].parameters
    assert case.model.active_material == ACTIVE_MATERIALS["NMC811_Chen2020"].parameters
    assert main(["validate", str(path)]) == 0
    capsys.readouterr()
    path.write_text(named.replace("LiPF6_EC_EMC_Nyman2008", "LiPF6"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: model.electrolyte: 'LiPF6' (expected ") and \
        "LiPF6_EC_EMC_Nyman2008" in err[0], err


def test_default_demo_is_the_tested_case_on_the_64_cube_crop(capsys):
    """demos/nmc_electrode/case.toml (the default demo) is case_12.toml, which the tests run, on the 64^3
    crop with the fieldsplit solver: every other key is equal, so the tests cover the demo's physics. It
    validates on its crop (mesh, regions, faces, coefficients)."""
    import tomllib

    default = tomllib.loads((DEMO.parent / "case.toml").read_text())
    quick = tomllib.loads(DEMO.read_text())
    assert default["mesh"].pop("crop") == [[0, 64]] * 3 and quick["mesh"].pop("crop") == [[0, 12]] * 3
    assert default["solver"]["preset"] == "fieldsplit" and quick["solver"]["preset"] == "direct"
    for case in (default, quick):
        case.pop("case"), case.pop("solver")
    assert default == quick
    assert main(["validate", str(DEMO.parent / "case.toml")]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_block_preconditioners_from_the_case(tmp_path):
    """``[solver] electrolyte_preconditioner`` reaches the electrode problem (ElectrodeProblem's keyword of
    the same name, as ``pair_preconditioner`` does); without it the defaults ("split", "block") hold."""
    from mpi4py import MPI

    from femiec.config import load_case
    from femiec.runner import build_problem

    for solver, expected in (("", "split"), ('electrolyte_preconditioner = "electrochemical"', "electrochemical")):
        case = load_case(_case(tmp_path, 'preset = "direct"', f'preset = "fieldsplit"\n{solver}'))
        _, problem = build_problem(case, MPI.COMM_WORLD)
        assert (problem.electrolyte_preconditioner, problem.pair_preconditioner) == (expected, "block")
