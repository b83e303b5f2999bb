"""Homogenization from a case file (model.kind = "homogenization") through `femiec run`."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from femiec.cli import main

CASE = """
[model]
kind = "homogenization"
image = "channel.npy"
phases = [0]
axes = "{axes}"
method = "{method}"
voxel_size = 1.0e-6
"""


@pytest.mark.mpi
@pytest.mark.parametrize("method", ["fv", "fe"])
def test_straight_channel_case(tmp_path_factory, comm, numbers, method):
    """Oracle: a straight square channel of pore voxels along x through solid: D_eff/D0 = eps along x
    (tau = eps D0/D_eff = 1, MacMullin = 1/eps); along y and z the phase does not percolate: D_eff = 0 and
    tau is reported as null with a message (never infinity printed as a number)."""
    tmp = comm.bcast(tmp_path_factory.mktemp("hom") if comm.rank == 0 else None)
    if comm.rank == 0:
        image = np.ones((12, 8, 8), dtype=np.uint8)
        image[:, 2:6, 2:6] = 0
        np.save(tmp / "channel.npy", image)
        (tmp / "case.toml").write_text(textwrap.dedent(CASE.format(axes="all", method=method)))
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / method)]) == 0
    result = json.loads((tmp / method / "summary.json").read_text())["homogenization"]
    eps = 16 / 64
    x, y = result["axes"]["x"], result["axes"]["y"]
    assert x["volume_fraction"] == pytest.approx(eps, rel=1e-12)
    assert x["tau"] == pytest.approx(1.0, rel=1e-6)
    assert x["macmullin"] == pytest.approx(1 / eps, rel=1e-6)
    assert y["deff_ratio"] == 0.0 and y["tau"] is None and y["message"]
    numbers.record("tau_x", round(x["tau"], 6))


def test_case_refuses_absent_phase(tmp_path, capsys):
    """A phase value that does not occur in the image: one error line, exit 2, before any solve."""
    np.save(tmp_path / "channel.npy", np.zeros((4, 4, 4), dtype=np.uint8))
    (tmp_path / "case.toml").write_text(textwrap.dedent(CASE.format(axes="x", method="fv")).replace("[0]", "[7]"))
    assert main(["validate", str(tmp_path / "case.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: model.phases: 7 (expected a voxel value present")


@pytest.mark.mpi
def test_case_with_contact_resistance(tmp_path, capsys, comm, numbers):
    """Oracle: two layers (3 voxels of 1 S/m, 3 of 4 S/m, h = 1 um) with R_c = 2e-6 ohm m^2 between them:
    sigma_eff = 6 h / (3 h / 1 + 3 h / 4 + R_c) (resistances in series). A negative R_c: one error line,
    from `femiec validate` as from `femiec run`."""
    tmp = comm.bcast(tmp_path if comm.rank == 0 else None)
    case = CASE.format(axes="x", method="fv").replace("channel.npy", "layers.npy").replace(
        "phases = [0]", 'phases = {1 = 1.0, 2 = 4.0}\ncontact_resistance = {"1:2" = 2.0e-6}\nrtol = 1e-12')
    if comm.rank == 0:
        image = np.ones((6, 3, 3), dtype=np.uint8)
        image[3:] = 2
        np.save(tmp / "layers.npy", image)
        (tmp / "case.toml").write_text(textwrap.dedent(case))
        (tmp / "bad.toml").write_text(textwrap.dedent(case).replace("2.0e-6", "-2.0e-6"))
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    result = json.loads((tmp / "out" / "summary.json").read_text())["homogenization"]
    assert result["axes"]["x"]["deff_ratio"] == pytest.approx(6 / (3 + 0.75 + 2), rel=1e-9)
    numbers.record("deff_ratio", result["axes"]["x"]["deff_ratio"])
    for command in (["validate"], ["-q", "run", "--out", str(tmp / "bad")]):
        capsys.readouterr()
        assert main(command + [str(tmp / "bad.toml")]) == 2
        if comm.rank == 0:
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and err[0].startswith("error: model.contact_resistance.1:2: -2e-06 "), err
