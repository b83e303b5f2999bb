"""The electrode on the same image crop meshed by voxels and by the conforming (smooth-interface) mesher,
from the same case file with only ``[mesh] mesher`` changed (issue 20: capacity to cut-off within 2 % at
C/10)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from femiec.cli import main

DEMO = Path(__file__).resolve().parents[2] / "demos" / "nmc_electrode" / "case_12.toml"
IMAGE = DEMO.parents[2].parent / "shared" / "data" / "nmc_electrode_256.tiff"
pytestmark = pytest.mark.skipif(not IMAGE.is_file(), reason=f"{IMAGE} not found")


def c10_case(mesher: str) -> str:
    """demos/nmc_electrode/case_12.toml (12^3 NMC crop + 4-voxel separator layer) at C/10 to the 3.4 V
    cut-off with ``mesher``, steps of 1800 s then up to 3600 s, no field output or checkpoints."""
    text = DEMO.read_text().replace('file = "../../../shared/data', f'file = "{DEMO.parents[2].parent}/shared/data')
    crop = "crop = [[0, 12], [0, 12], [0, 12]]"
    text = text.replace(crop, f'{crop}\nmesher = "{mesher}"')
    text = text.replace("c_rate = 1.0 ", "c_rate = 0.1 ").replace("dt = 120.0", "dt = 1800.0")
    text = text.replace("dt_max = 600.0", "dt_max = 3600.0").replace("every = 10 ", "every = 0 ")
    return text + "\n[output]\nfields = []\n"


def run(tmp: Path, name: str, text: str, comm) -> tuple[dict, np.ndarray, np.ndarray]:
    """(summary, capacity [Ah], voltage [V]) of the case ``text`` run in ``tmp/name``."""
    if comm.rank == 0:
        (tmp / f"{name}.toml").write_text(text)
    comm.barrier()
    assert main(["-q", "run", str(tmp / f"{name}.toml"), "--out", str(tmp / name)]) == 0
    summary = json.loads((tmp / name / "summary.json").read_text())
    rows = list(csv.DictReader((tmp / name / "voltage.csv").open()))
    return (summary, np.array([float(r["capacity_Ah"]) for r in rows]),
            np.array([float(r["voltage_V"]) for r in rows]))


def compare(a, b) -> tuple[float, float]:
    """(capacity of b / capacity of a - 1, rms of V_b - V_a [V] at 200 equal capacities up to the smaller)."""
    (_, qa, va), (_, qb, vb) = a, b
    q = np.linspace(0.0, min(qa[-1], qb[-1]), 200)
    return float(qb[-1] / qa[-1] - 1), float(np.sqrt(np.mean((np.interp(q, qb, vb) - np.interp(q, qa, va)) ** 2)))


@pytest.mark.mpi
def test_voxel_and_conforming_mesh_capacity_at_c10(tmp_path_factory, comm, numbers):
    """12^3 NMC crop at C/10 to the 3.4 V cut-off, voxel mesh (Q1 hexahedra, staircase interfaces) vs the
    conforming mesh (P1 tetrahedra on a 1-voxel grid, interfaces smoothed over 1 voxel, phase volumes kept).
    Oracle (issue 20): capacity to cut-off within 2 %. Both runs end at the cut-off; the active volume (so the
    C/10 current) agrees to 0.1 % (volume preservation); the conforming mesh's reactive area is below the
    voxel staircase's (smooth surface, about 2/3 of it). The conforming mesh has its own clusters
    (femiec.problems.electrode_clusters): one particle here, as on voxels. Measured (docs/electrode.md):
    capacity -1.9 %, voltage rms 18 mV; the same run on the conforming mesher with smoothing = 0 (staircase
    tetrahedra: the voxel geometry) differs by +0.15 % and 0.8 mV, so the difference is the smoothed
    geometry, not the element (benchmarks/bench_electrode_conforming.py)."""
    tmp = comm.bcast(tmp_path_factory.mktemp("conforming") if comm.rank == 0 else None)
    voxel = run(tmp, "voxel", c10_case("voxel"), comm)
    smooth = run(tmp, "conforming", c10_case("conforming"), comm)
    for summary, *_ in (voxel, smooth):
        assert summary["stop_reason"] == "voltage_min" and summary["description"]["particles"] == 1
    volume = [s["description"]["volume_m3"]["active"] for s, *_ in (voxel, smooth)]
    assert volume[1] == pytest.approx(volume[0], rel=1e-3)
    area = [s["description"]["interface_area_m2"] for s, *_ in (voxel, smooth)]
    assert 0.5 < area[1] / area[0] < 0.8
    capacity, rms = compare(voxel, smooth)
    assert abs(capacity) < 0.02, capacity
    numbers.record("capacity_Ah", [float(voxel[1][-1]), float(smooth[1][-1])])
    numbers.record("capacity_difference", capacity)
    numbers.record("voltage_rms_V", rms)
    numbers.record("interface_area_m2", area)
