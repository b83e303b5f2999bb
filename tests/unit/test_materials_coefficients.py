"""DG0 tensor coefficients per cell tag and per grain, and conduction-problem input errors."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.errors import InputError
from femiec.materials.orientation import rotate_tensor, rotation_from_euler
from femiec.materials.tensors import grain_tensor_field, tensor_coefficient
from femiec.meshing.base import MeshData


def _halves(comm, dim=3) -> MeshData:
    """Unit square/cube of 4^dim cells; cell tag 1 for x < 0.5, 2 above; facet tag 1 on x = 0."""
    from dolfinx import mesh

    if dim == 3:
        m = mesh.create_unit_cube(comm, 4, 4, 4, mesh.CellType.hexahedron)
    else:
        m = mesh.create_unit_square(comm, 4, 4, mesh.CellType.quadrilateral)
    tdim = m.topology.dim
    imap = m.topology.index_map(tdim)
    cells = np.arange(imap.size_local + imap.num_ghosts, dtype=np.int32)
    midpoints = mesh.compute_midpoints(m, tdim, cells)
    cell_tags = mesh.meshtags(m, tdim, cells, np.where(midpoints[:, 0] < 0.5, 1, 2).astype(np.int32))
    left = mesh.locate_entities_boundary(m, tdim - 1, lambda x: np.isclose(x[0], 0.0))
    facet_tags = mesh.meshtags(m, tdim - 1, left, np.full(left.size, 1, dtype=np.int32))
    return MeshData(m, cell_tags, facet_tags, {"left": 1, "right": 2}, {"xmin": 1})


def _cell_values(f) -> np.ndarray:
    """Owned cells' tensors of a DG0 tensor Function, shape (num_owned, gdim, gdim)."""
    V = f.function_space
    mesh = V.mesh
    n = mesh.topology.index_map(mesh.topology.dim).size_local
    gdim = mesh.geometry.dim
    return f.x.array.reshape(-1, gdim * gdim)[V.dofmap.list[:n, 0]].reshape(n, gdim, gdim)


def _owned_tags(meshdata) -> np.ndarray:
    n = meshdata.mesh.topology.index_map(meshdata.dim).size_local
    labels = np.zeros(n, dtype=np.int32)
    owned = meshdata.cell_tags.indices < n
    labels[meshdata.cell_tags.indices[owned]] = meshdata.cell_tags.values[owned]
    return labels


@pytest.mark.mpi
def test_tensor_coefficient_per_tag_and_name(comm):
    meshdata = _halves(comm)
    K = {"symmetry": "orthorhombic", "values": [1.0, 2.0, 3.0], "orientation": {"euler": [30.0, 20.0, 10.0]}}
    f = tensor_coefficient(meshdata, {"left": 5.0, 2: K}, name="conductivity")
    values, tags = _cell_values(f), _owned_tags(meshdata)
    R = rotation_from_euler([30.0, 20.0, 10.0])
    assert np.allclose(values[tags == 1], 5.0 * np.eye(3))
    assert np.allclose(values[tags == 2], rotate_tensor(np.diag([1.0, 2.0, 3.0]), R), atol=1e-14)
    assert f.name == "conductivity"


@pytest.mark.mpi  # the refusals are collective: every rank raises, none hangs
def test_tensor_coefficient_refusals(comm):
    meshdata = _halves(comm)
    with pytest.raises(InputError, match=r"sigma: 'cell tags \[2\]' \(expected a tensor for every cell tag"):
        tensor_coefficient(meshdata, {1: 1.0}, name="sigma")
    with pytest.raises(InputError, match=r"sigma: \[7\] \(expected cell tags present in the mesh"):
        tensor_coefficient(meshdata, {1: 1.0, 2: 1.0, 7: 1.0}, name="sigma")
    with pytest.raises(InputError, match=r"sigma\[2\]: -1\.0"):
        tensor_coefficient(meshdata, {1: 1.0, 2: -1.0}, name="sigma")
    with pytest.raises(InputError, match=r"cell tag: 'middle'"):
        tensor_coefficient(meshdata, {"middle": 1.0}, name="sigma")


@pytest.mark.mpi
def test_tensor_coefficient_2d_takes_plane_block(comm):
    meshdata = _halves(comm, dim=2)
    K = [[3.0, 1.0, 0.5], [1.0, 2.0, 0.2], [0.5, 0.2, 1.0]]
    f = tensor_coefficient(meshdata, {1: K, 2: K})
    assert np.allclose(_cell_values(f), [[3.0, 1.0], [1.0, 2.0]])


@pytest.mark.mpi
def test_tensor_coefficient_without_cell_tags(comm):
    meshdata = _halves(comm)
    untagged = MeshData(meshdata.mesh)
    assert np.allclose(_cell_values(tensor_coefficient(untagged, {0: 2.0})), 2.0 * np.eye(3))
    with pytest.raises(InputError, match="a single value"):
        tensor_coefficient(untagged, {0: 2.0, 1: 3.0})


@pytest.mark.mpi
def test_grain_field_from_tags_array_and_volume(comm):
    """The same two grains given as cell MeshTags, as a per-cell array and as a 2x1x1 labelled volume."""
    meshdata = _halves(comm)
    eulers = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 90.0, 0.0]])  # grain ids 1 and 2 used
    principal = {"symmetry": "hexagonal", "values": [4.0, 1.0]}
    tags = _owned_tags(meshdata)
    expected = {1: np.diag([4.0, 4.0, 1.0]), 2: np.diag([4.0, 1.0, 4.0])}
    volume = np.array([1, 2], dtype=np.int32).reshape(2, 1, 1)
    for grains in (meshdata.cell_tags, tags, volume):
        values = _cell_values(grain_tensor_field(meshdata, grains, eulers, principal))
        for gid, T in expected.items():
            assert np.allclose(values[tags == gid], T, atol=1e-14)
    with pytest.raises(InputError, match=r"tensor: 'grain ids \[2\]' \(expected a tensor for every grain id"):
        grain_tensor_field(meshdata, tags, {1: np.eye(3)}, principal)
    with pytest.raises(InputError, match="grains: 'array of dtype float64'"):
        grain_tensor_field(meshdata, tags.astype(float), eulers, principal)
    with pytest.raises(InputError, match="grains: 'array of shape"):
        grain_tensor_field(meshdata, np.zeros((2, 2), dtype=np.int32), eulers, principal)


@pytest.mark.mpi  # the refusals are collective: every rank raises, none hangs
def test_conduction_problem_input_errors(comm):
    from femiec.problems.conduction import ConductionProblem

    meshdata = _halves(comm)
    with pytest.raises(InputError, match=r"degree: 3 \(expected 1 or 2\)"):
        ConductionProblem(meshdata, 1.0, degree=3)
    problem = ConductionProblem(meshdata, 1.0)
    with pytest.raises(InputError, match=r"facet tag: 'top'"):
        problem.set_value("top", 0.0)
    with pytest.raises(InputError, match=r"facet: 9 \(expected one of the facet tags \[1\]\)"):
        problem.set_flux(9, 1.0)
    problem.set_flux("xmin", 1.0)
    with pytest.raises(InputError, match=r"boundary: \[1\] \(expected at least one facet with a prescribed value"):
        problem.solve()
    problem.set_value("xmin", 0.0)
    with pytest.raises(InputError, match=r"solver\.preset: 'fieldsplit'"):
        problem.solve("fieldsplit")
