"""Principal-direction glyph output of a DG0 tensor field: computed arrays and the VTX files read back."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.materials.tensors import grain_tensor_field
from femiec.meshing.base import MeshData

EULERS = np.array([[0.0, 0.0, 0.0], [0.0, 90.0, 0.0]])  # grain 0: c along z; grain 1: c along -y
PRINCIPAL = {"symmetry": "hexagonal", "values": [1.0, 10.0]}  # largest value along c


def _two_grains(comm):
    from dolfinx import mesh

    m = mesh.create_unit_cube(comm, 2, 2, 2, mesh.CellType.hexahedron)
    meshdata = MeshData(m)
    volume = np.array([0, 1], dtype=np.int32).reshape(2, 1, 1)  # grain 0 for x < 0.5
    return meshdata, grain_tensor_field(meshdata, volume, EULERS, PRINCIPAL, name="conductivity")


def _owned_midpoints_x(m):
    from dolfinx.mesh import compute_midpoints

    n = m.topology.index_map(3).size_local
    return compute_midpoints(m, 3, np.arange(n, dtype=np.int32))[:, 0]


@pytest.mark.mpi
def test_principal_axes_of_rotated_grains(comm):
    """Oracle: grain 0 has its largest value 10 along z, grain 1 along y (c axis rotated by 90 deg about x)."""
    from femiec.io.glyphs import principal_axes

    meshdata, K = _two_grains(comm)
    values, vectors = principal_axes(K)
    x = _owned_midpoints_x(meshdata.mesh)
    assert np.allclose(values, [10.0, 1.0, 1.0])
    assert np.allclose(vectors[x < 0.5, :, 0], [0.0, 0.0, 1.0], atol=1e-14)
    assert np.allclose(vectors[x > 0.5, :, 0], [0.0, 1.0, 0.0], atol=1e-14)


def test_glyph_files_read_back(tmp_path):
    """The written axis1/value1/anisotropy arrays, read back with ADIOS2, hold the expected cell data."""
    from mpi4py import MPI

    adios2 = pytest.importorskip("adios2")
    from femiec.io.glyphs import write_principal_directions

    _, K = _two_grains(MPI.COMM_SELF)
    manifest = write_principal_directions(tmp_path, K, name="conductivity", unit="S/m")
    assert manifest["conductivity_value1"]["unit"] == "S/m"
    assert manifest["conductivity_value1"]["files"] == ["conductivity_value1.bp"]
    assert manifest["conductivity_axis1"]["unit"] == "1"
    with adios2.FileReader(str(tmp_path / "conductivity_axis1.bp")) as reader:
        axes = np.asarray(reader.read("conductivity_axis1", step_selection=[0, 1])).reshape(-1, 3)
    with adios2.FileReader(str(tmp_path / "conductivity_anisotropy.bp")) as reader:
        ratio = np.asarray(reader.read("conductivity_anisotropy", step_selection=[0, 1]))
    assert axes.shape == (8, 3)
    directions = sorted(tuple(np.round(a, 12)) for a in axes)
    assert directions == [(0.0, 0.0, 1.0)] * 4 + [(0.0, 1.0, 0.0)] * 4
    assert np.allclose(ratio, 10.0)
