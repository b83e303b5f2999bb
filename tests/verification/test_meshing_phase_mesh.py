"""femiec.meshing.phase_mesh: the face-connected mesh of one phase of an all-phase voxel mesh, cell for
cell with the parent (1 and 2 ranks, slab and graph partitioners).

Oracles:
- its cells are the parent's cells of the phase: the same number, the same volume, identical node
  coordinates cell by cell, owned (ghost) where the parent's are owned (ghosts);
- it has the 6-connected clusters of the phase (scipy.ndimage.label's default structure) and as many
  vertices as ``voxel_mesh(image, [phase], connectivity="face")``, on hand-made edge/corner contacts, a
  checkerboard and a random image;
- a screened Poisson problem (-lap u + u = 1 + x/L, natural boundaries: well posed on every cluster)
  posed on the phase mesh gives the same matrix, vector and solution whether it is assembled on the phase
  mesh itself or on the parent with the entity map (round-off); an interface integral int f("+") dS of a
  field of the phase mesh over the parent's interface facets is exact.
"""
from __future__ import annotations

import numpy as np
import pytest
from mesh_support import mesh_components
from scipy import ndimage

pytest.importorskip("dolfinx")

SPACING = (1e-6, 2e-6, 1.5e-6)
CHECKER = (np.indices((2, 2, 3)).sum(axis=0) % 2 == 0).astype(np.uint8)


def _image(*voxels, shape=(2, 2, 2)):
    image = np.zeros(shape, dtype=np.uint8)
    for v in voxels:
        image[v] = 1
    return image


def _random():
    rng = np.random.default_rng(3)
    return np.minimum((rng.random((9, 7, 6)) < 0.45) + 2 * (rng.random((9, 7, 6)) < 0.2), 2).astype(np.uint8)


IMAGES = {
    "edge": _image((0, 0, 0), (1, 1, 0)),
    "corner": _image((0, 0, 0), (1, 1, 1)),
    "checkerboard": CHECKER,
    "L and a corner": _image((0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 1), shape=(2, 2, 3)),
    "random": _random(),
}


def _phase_mesh(image, partitioner, comm):
    """The all-phase voxel mesh of ``image``, its cells of value 1, and their face-connected phase mesh."""
    from femiec.meshing.phase_mesh import face_connected_phase_mesh
    from femiec.meshing.voxel import voxel_mesh

    parent = voxel_mesh(image, voxel_size=SPACING, comm=comm, partitioner=partitioner)
    imap = parent.mesh.topology.index_map(3)
    value = np.full(imap.size_local + imap.num_ghosts, -1)
    value[parent.cell_tags.indices] = parent.cell_tags.values
    selected = value == 1
    return parent, selected, face_connected_phase_mesh(parent.mesh, selected, SPACING, "phase")


@pytest.mark.mpi
@pytest.mark.parametrize("partitioner", ["slab", "graph"])
@pytest.mark.parametrize("name", list(IMAGES))
def test_cells_match_the_parent_and_clusters_are_six_connected(name, partitioner, comm, numbers):
    import ufl
    from dolfinx import fem

    from femiec.meshing.voxel import voxel_mesh

    image = IMAGES[name]
    parent, selected, phase = _phase_mesh(image, partitioner, comm)
    pmap, imap = phase.mesh.topology.index_map(3), parent.mesh.topology.index_map(3)
    cells = np.flatnonzero(selected)
    assert np.all(phase.cell_map[cells] >= 0) and np.all(phase.cell_map[~selected] == -1)
    assert pmap.size_local + pmap.num_ghosts == len(cells)  # one-to-one, ghosts included
    assert np.array_equal(phase.cell_map[cells] < pmap.size_local, cells < imap.size_local)
    x, px = parent.mesh.geometry, phase.mesh.geometry
    assert np.array_equal(x.x[x.dofmap[cells]], px.x[px.dofmap[phase.cell_map[cells]]])
    assert pmap.size_global == int(np.sum(image == 1))
    volume = comm.allreduce(fem.assemble_scalar(fem.form(fem.Constant(phase.mesh, 1.0) * ufl.dx)))
    assert volume == pytest.approx(np.sum(image == 1) * np.prod(SPACING), rel=1e-13)
    assert mesh_components(phase.mesh) == ndimage.label(image == 1)[1]
    alone = voxel_mesh(image, [1], voxel_size=SPACING, comm=comm, connectivity="face")
    assert phase.mesh.topology.index_map(0).size_global == alone.mesh.topology.index_map(0).size_global
    numbers.record("vertices", phase.mesh.topology.index_map(0).size_global)


def _screened_poisson(phase_mesh, dx, entity_maps):
    """(matrix, vector, solution array) of -lap u + u = 1 + x/L (natural boundaries) on ``phase_mesh``'s
    Q1 space, integrated with ``dx``; the matrix and vector as dense arrays gathered on every rank (global
    dof order of the phase mesh)."""
    import ufl
    from dolfinx import fem
    from dolfinx.fem import petsc
    from petsc4py import PETSc

    V = fem.functionspace(phase_mesh, ("Lagrange", 1))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    length, per_volume = 1e-5, 1 / np.prod(SPACING)  # O(1) entries (PETSc's LU pivots at 1e-12)
    x = ufl.SpatialCoordinate(dx.ufl_domain())
    a = fem.form(per_volume * (ufl.inner(ufl.grad(u), ufl.grad(v)) * length**2 + u * v) * dx,
                 entity_maps=entity_maps)
    L = fem.form(per_volume * (1 + x[0] / length) * v * dx, entity_maps=entity_maps)
    A = petsc.assemble_matrix(a)
    A.assemble()
    b = petsc.assemble_vector(L)
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    solver = PETSc.KSP().create(phase_mesh.comm)
    solver.setOperators(A)
    solver.setType("preonly")
    solver.getPC().setType("lu")
    uh = fem.Function(V)
    solver.solve(b, uh.x.petsc_vec)
    uh.x.scatter_forward()
    rows = A.getOwnershipRange()
    dense = np.zeros((rows[1] - rows[0], A.getSize()[1]))
    for i in range(*rows):
        cols, vals = A.getRow(i)
        dense[i - rows[0], cols] = vals
    gather = lambda array: np.concatenate(phase_mesh.comm.allgather(array))
    result = gather(dense), gather(b.array.copy()), gather(uh.x.array[: V.dofmap.index_map.size_local].copy())
    solver.destroy(), A.destroy(), b.destroy()
    return result


@pytest.mark.mpi
@pytest.mark.parametrize("partitioner", ["slab", "graph"])
def test_forms_on_the_parent_with_the_entity_map_equal_forms_on_the_phase_mesh(partitioner, comm, numbers):
    import ufl
    from dolfinx import fem
    from dolfinx import mesh as dmesh

    from femiec.meshing.submeshes import interface_integration_data, padded_entity_map

    image = _random()
    parent, selected, phase = _phase_mesh(image, partitioner, comm)
    num_cells = len(selected)
    tags = dmesh.meshtags(parent.mesh, 3, np.arange(num_cells, dtype=np.int32), selected.astype(np.int32))
    direct = _screened_poisson(phase.mesh, ufl.Measure("dx", domain=phase.mesh), None)
    mapped = _screened_poisson(phase.mesh, ufl.Measure("dx", domain=parent.mesh, subdomain_data=tags)(1),
                               {phase.mesh: phase.cell_map})
    scale = [np.abs(d).max() for d in direct]
    for d, m, s in zip(direct, mapped, scale):
        assert np.abs(d - m).max() <= 1e-12 * s
    numbers.record("solution norm", float(np.linalg.norm(direct[2])))

    # int x("+") dS over the interface of the phase (value 1) with value 0: the phase's cell on "+"
    tdim = parent.mesh.topology.dim
    value = np.full(num_cells, -1)
    value[parent.cell_tags.indices] = parent.cell_tags.values
    parent.mesh.topology.create_connectivity(tdim - 1, tdim)
    f2c = parent.mesh.topology.connectivity(tdim - 1, tdim)
    two = np.flatnonzero(np.diff(f2c.offsets) == 2)
    pair = np.sort(value[f2c.array[f2c.offsets[two][:, None] + np.arange(2)]], axis=1)
    rows = interface_integration_data(parent.mesh, two[(pair[:, 0] == 0) & (pair[:, 1] == 1)], selected)
    f = fem.Function(fem.functionspace(phase.mesh, ("Lagrange", 1)))
    f.interpolate(lambda x: x[0])
    dS = ufl.Measure("dS", domain=parent.mesh, subdomain_data=[(1, rows.ravel())])
    maps = {phase.mesh: padded_entity_map(phase, rows[:, 0], rows[:, 2])}
    integral = comm.allreduce(fem.assemble_scalar(fem.form(f("+") * dS(1), entity_maps=maps)))
    x = ufl.SpatialCoordinate(parent.mesh)
    exact = comm.allreduce(fem.assemble_scalar(fem.form(x[0] * dS(1))))
    numbers.record("interface integral", integral)
    assert integral == pytest.approx(exact, rel=1e-13) and exact > 0
