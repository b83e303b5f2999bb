"""Polycrystal from a case file: grain-id volume + orientation table (EBSD-like) -> conduction run."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from femiec.cli import main
from femiec.materials.orientation import rotate_tensor, rotation_from_euler
from femiec.materials.tensors import symmetric_tensor

CASE = """
[mesh]
kind = "box"
lengths = [8.0e-6, 8.0e-6, 8.0e-6]
cells = [8, 8, 8]
cell_type = "hexahedron"

[materials.layered]
conductivity = {{ symmetry = "hexagonal", values = [1.0, 0.1] }}

[grains]
material = "layered"
labels = "grains.npy"
orientations = "orientations.csv"
voxel_size = 1.0e-6

[model]
kind = "conduction"
boundary = [{{ facet = "xmin", value = 0.0 }}, {{ facet = "xmax", value = 1.0 }}]

[solver]
preset = "{preset}"
"""


def _run(tmp, orientations, preset="direct"):
    grains = np.zeros((8, 8, 8), dtype=np.int32)
    grains[4:, :4] = 1
    grains[:4, 4:] = 2
    grains[4:, 4:, 4:] = 3
    np.save(tmp / "grains.npy", grains)
    rows = "\n".join(f"{g}, {a}, {b}, {c}" for g, (a, b, c) in enumerate(orientations))
    (tmp / "orientations.csv").write_text("grain, phi1, Phi, phi2\n" + rows + "\n")
    (tmp / "case.toml").write_text(textwrap.dedent(CASE.format(preset=preset)))


@pytest.mark.mpi
def test_polycrystal_case_single_orientation_and_bounds(tmp_path_factory, comm, numbers):
    """Oracles: (1) all four grains with the same orientation R: the body is one crystal and the current
    through x is I = K_xx V A / L with K = R diag(1, 1, 0.1) R^T; R is a rotation about x, so K_xy = K_xz = 0
    and the linear potential is the exact solution. (2) random orientations:
    the effective K_xx lies between the xx entries of the Reuss and Voigt tensors (Wiener bounds) of the
    grains weighted by volume: (<K^-1>^-1)_xx <= K_eff,xx <= <K>_xx."""
    tmp = comm.bcast(tmp_path_factory.mktemp("poly") if comm.rank == 0 else None)
    K = symmetric_tensor("hexagonal", [1.0, 0.1])
    area, length, volt = 8e-6 * 8e-6, 8e-6, 1.0

    same = [(0.0, 35.0, 0.0)] * 4  # rotation about x only: K_xx = 1 stays, K_xy = K_xz = 0
    if comm.rank == 0:
        _run(tmp, same)
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "same")]) == 0
    single = json.loads((tmp / "same" / "summary.json").read_text())["derived"]["outward_current [A]"]["xmin"]
    R = rotation_from_euler(same[0])
    expected = rotate_tensor(K, R)[0, 0] * volt * area / length
    assert single == pytest.approx(expected, rel=1e-10)
    # glyph fields for ParaView: the principal values of every grain are those of the crystal (1, 1, 0.1)
    fields = json.loads((tmp / "same" / "summary.json").read_text())["fields"]
    assert {"conductivity_axis1", "conductivity_value3", "conductivity_anisotropy"} <= set(fields)
    assert fields["conductivity_anisotropy"]["range_last_output"] == pytest.approx([10.0, 10.0], rel=1e-12)
    assert fields["conductivity_value3"]["range_last_output"] == pytest.approx([0.1, 0.1], rel=1e-12)
    assert (tmp / "same" / "conductivity_axis1.bp").is_dir()

    rng = np.random.default_rng(7)
    random = [tuple(rng.uniform(0, 180, 3)) for _ in range(4)]
    if comm.rank == 0:
        _run(tmp, random, preset="iterative")
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "random")]) == 0
    current = json.loads((tmp / "random" / "summary.json").read_text())["derived"]["outward_current [A]"]["xmin"]
    k_eff = current * length / (volt * area)
    tensors = np.array([rotate_tensor(K, rotation_from_euler(o)) for o in random])
    weights = np.array([0.25, 0.25, 0.375, 0.125])  # grain volumes of the label volume above
    voigt = np.einsum("g,gij->ij", weights, tensors)[0, 0]
    reuss = np.linalg.inv(np.einsum("g,gij->ij", weights, np.linalg.inv(tensors)))[0, 0]
    assert reuss * (1 - 1e-8) <= k_eff <= voigt * (1 + 1e-8), (reuss, k_eff, voigt)
    numbers.record("single_crystal_current", single)
    numbers.record("k_eff_xx", k_eff)
