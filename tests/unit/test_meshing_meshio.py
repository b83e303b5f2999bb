"""``[mesh] kind = "meshio"``: a tetrahedral box written by meshio (two regions, tagged inlet/outlet) read
back from .vtu (cell data + field_data names) and .inp (Abaqus element sets), on 1 and 2 ranks."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from femiec.cli import main

meshio = pytest.importorskip("meshio")


def _box(n=(4, 2, 2), lengths=(2.0e-6, 1.0e-6, 1.0e-6)):
    """Kuhn tetrahedra of an n[0] x n[1] x n[2] grid of the box: points, tetrahedra, the region of each
    tetrahedron (1: x < L/2, 2: x > L/2) and the boundary triangles on x = 0 (11) and x = L (12)."""
    axes = [np.linspace(0.0, length, m + 1) for length, m in zip(lengths, n)]
    points = np.array([[x, y, z] for x in axes[0] for y in axes[1] for z in axes[2]])

    def index(i, j, k):
        return (i * (n[1] + 1) + j) * (n[2] + 1) + k

    kuhn = [(0, 1, 3, 7), (0, 1, 5, 7), (0, 2, 3, 7), (0, 2, 6, 7), (0, 4, 5, 7), (0, 4, 6, 7)]
    tets = []
    for i in range(n[0]):
        for j in range(n[1]):
            for k in range(n[2]):
                corner = [index(i + (b >> 2), j + (b >> 1 & 1), k + (b & 1)) for b in range(8)]
                tets += [[corner[a] for a in t] for t in kuhn]
    tets = np.array(tets)
    region = np.where(points[tets, 0].mean(axis=1) < lengths[0] / 2, 1, 2)
    faces, tags = [], []
    for tet in tets:
        for drop in range(4):
            face = np.delete(tet, drop)
            for x, tag in ((0.0, 11), (lengths[0], 12)):
                if np.all(np.isclose(points[face, 0], x)):
                    faces.append(face)
                    tags.append(tag)
    return points, tets, region, np.array(faces), np.array(tags)


def _write(path):
    points, tets, region, faces, tags = _box()
    cells = [("tetra", tets), ("triangle", faces)]
    if path.suffix == ".inp":  # Abaqus: element sets
        sets = {"left": [np.flatnonzero(region == 1), np.array([], int)],
                "right": [np.flatnonzero(region == 2), np.array([], int)],
                "inlet": [np.array([], int), np.flatnonzero(tags == 11)],
                "outlet": [np.array([], int), np.flatnonzero(tags == 12)]}
        meshio.write(path, meshio.Mesh(points, cells, cell_sets=sets))
    else:  # VTK: ids in CellEntityIds (a .vtu keeps no field_data: names region<id>, boundary<id>)
        meshio.write(path, meshio.Mesh(points, cells, cell_data={"CellEntityIds": [region, tags]}))


CASE = """
[mesh]
kind = "meshio"
file = "{file}"

[materials.a]
conductivity = 2.0
[materials.b]
conductivity = 4.0

[regions]
{left} = "a"
{right} = "b"

[model]
kind = "conduction"
boundary = [{{ facet = "{inlet}", value = 0.0 }}, {{ facet = "{outlet}", value = 1.0 }}]
"""


@pytest.mark.mpi
@pytest.mark.parametrize("suffix", [".vtu", ".inp"])
def test_meshio_box_regions_and_series_current(tmp_path_factory, comm, numbers, suffix):
    """Two slabs of 1 µm x 1 µm x 1 µm in series, sigma 2 and 4 S/m, 1 V across x: the current is
    I = V / (L1 / (sigma1 A) + L2 / (sigma2 A)) = 1 / (1/(2e-6) + 1/(4e-6)) = 4/3 µA (P1 is exact for the
    piecewise linear potential: the interface x = 1 µm is a mesh plane); volumes 1e-18 m^3 per region."""
    tmp = comm.bcast(tmp_path_factory.mktemp("meshio") if comm.rank == 0 else None)
    names = ({"left": "left", "right": "right", "inlet": "inlet", "outlet": "outlet"} if suffix == ".inp" else
             {"left": "region1", "right": "region2", "inlet": "boundary11", "outlet": "boundary12"})
    if comm.rank == 0:
        _write(tmp / f"box{suffix}")
        (tmp / "case.toml").write_text(textwrap.dedent(CASE.format(file=f"box{suffix}", **names)))
    comm.barrier()
    assert main(["run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    summary = json.loads((tmp / "out" / "summary.json").read_text())
    stats = summary["mesh"]["statistics"]
    assert stats["num_cells"] == 96 and stats["facets_per_tag"][names["inlet"]] == 8
    for region in (names["left"], names["right"]):
        assert stats["volume_per_tag_m3"][region] == pytest.approx(1e-18, rel=1e-12)
    current = summary["derived"]["outward_current [A]"][names["outlet"]]
    assert current == pytest.approx(-4.0 / 3.0 * 1e-6, rel=1e-9)  # outward: it enters at the 1 V face
    numbers.record(f"outlet_current_A{suffix}", current)
    numbers.record(f"left_volume_m3{suffix}", stats["volume_per_tag_m3"][names["left"]])


def test_meshio_refusals_are_one_line(tmp_path, capsys):
    (tmp_path / "bad.vtu").write_text("<VTKFile> not really")
    points = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]])
    meshio.write(tmp_path / "tri.vtu", meshio.Mesh(points, [("vertex", np.array([[0], [1]]))]))
    for name, expected in (("bad.vtu", "(expected a mesh file meshio can read"),
                           ("tri.vtu", "(expected cells of a type")):
        (tmp_path / "case.toml").write_text(textwrap.dedent(CASE.format(file=name, left="l", right="r", inlet="i",
                                                                         outlet="o")))
        assert main(["validate", str(tmp_path / "case.toml")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: mesh.file: ") and expected in err[0], err
