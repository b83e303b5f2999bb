"""``[mesh] kind = "stl"``: an ASCII STL cube written by the test meshed into tetrahedra by gmsh (volume,
surface area, tags, on 1 and 2 ranks); an open surface is one line."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from femiec.cli import main

#: the 12 outward-oriented triangles of the unit cube [0, 1]^3 (vertex bits: x = 4, y = 2, z = 1)
_CUBE = [(0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1), (2, 3, 7), (2, 7, 6),
         (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3)]


def _write_stl(path, triangles=_CUBE, side=2.0):
    """ASCII STL of the cube of edge ``side`` (file units) with the given triangles."""
    corner = side * np.array([[b >> 2, b >> 1 & 1, b & 1] for b in range(8)], dtype=float)
    lines = ["solid cube"]
    for tri in triangles:
        a, b, c = corner[list(tri)]
        n = np.cross(b - a, c - a)
        lines += [f"facet normal {n[0]:g} {n[1]:g} {n[2]:g}", "outer loop",
                  *(f"vertex {p[0]:.6e} {p[1]:.6e} {p[2]:.6e}" for p in (a, b, c)), "endloop", "endfacet"]
    path.write_text("\n".join(lines + ["endsolid cube", ""]))


CASE = """
[mesh]
kind = "stl"
file = "cube.stl"
h = 0.5e-6
scale = 1.0e-6

[materials.m]
conductivity = 1.0

[regions]
domain = "m"

[model]
kind = "conduction"
boundary = [{{ facet = "surface", value = 0.0 }}]
"""


@pytest.mark.mpi
def test_stl_cube_volume_and_area(tmp_path_factory, comm, numbers):
    """A 2 µm cube (file in µm, scale 1e-6): volume 8e-18 m^3 and surface 24e-12 m^2 to 1e-10 (planar faces
    are kept exactly by the remeshing); elements no larger than h = 0.5 µm on the surface."""
    from femiec.config import load_case
    from femiec.meshing.quality import mesh_statistics
    from femiec.runner import build_mesh

    tmp = comm.bcast(tmp_path_factory.mktemp("stl") if comm.rank == 0 else None)
    if comm.rank == 0:
        _write_stl(tmp / "cube.stl")
        (tmp / "case.toml").write_text(textwrap.dedent(CASE.format()))
    comm.barrier()
    data = build_mesh(load_case(tmp / "case.toml").mesh, comm)
    stats = mesh_statistics(data, quality=True)
    assert set(data.cell_names) == {"domain"} and set(data.facet_names) == {"surface"}
    assert stats["volume_per_tag_m3"]["domain"] == pytest.approx(8e-18, rel=1e-10)
    assert stats["area_per_facet_tag_m2"]["surface"] == pytest.approx(24e-12, rel=1e-10)
    assert stats["max_edge_length_m"] < 0.5e-6 * 1.5
    numbers.record("cube_volume_m3", stats["volume_per_tag_m3"]["domain"])
    numbers.record("cube_cells", stats["num_cells"])


def test_open_stl_is_one_line(tmp_path, capsys):
    _write_stl(tmp_path / "cube.stl", _CUBE[:-1])  # one triangle missing: three open edges
    (tmp_path / "case.toml").write_text(textwrap.dedent(CASE.format()))
    assert main(["validate", str(tmp_path / "case.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: mesh.file: ") and \
        "(expected a closed surface: every edge in exactly two triangles (3 edges in one triangle, 0 in more " \
        "than two))" in err[0], err
