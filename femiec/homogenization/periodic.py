"""Periodic cell problems: the full symmetric effective tensor of a representative volume.

For each macroscopic direction e_j (j = x, y, z) find the periodic corrector chi_j with

    int K (e_j + grad chi_j) . grad v dx = 0   for all periodic v,

then sigma_eff e_j = (1/|Y|) int K (e_j + grad chi_j) dx, |Y| the volume of the whole cell (insulating
voxels or holes that are not meshed carry no current). Periodicity u(x) = u(x - L_i e_i) on the faces
x_i = max is imposed with dolfinx_mpc (geometrical constraints: the mesh need not match on opposite faces;
a point whose image on the opposite face is not in the mesh stays free, as on an insulating wall).
The three problems share one matrix, so BoomerAMG is set up once. Each periodically connected piece of
the conducting phase leaves the corrector's constant free: it is fixed by chi = 0 at one point of each
piece. The pieces that touch no face of the cell are finite inclusions that carry no current and are left
out.

Entry points: :func:`periodic_tensor` for any tagged mesh (e.g. a conforming tetrahedral mesh, P1) and
:func:`solve_axes` for voxel images (Q1 on the voxel mesh), used by ``homogenize(method="periodic")``,
which reads the image by planes: each rank its x-planes and two halo planes, the periodic pieces joined
over the ranks and across the periodic faces (:func:`periodic_pieces`), so no rank holds the whole image.
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from femiec.errors import SolverError
from femiec.homogenization import ksp as linear
from femiec.homogenization.fe import AxisColumn, box_bounds
from femiec.meshing.rank_planes import RankPlanes


@dataclass
class PeriodicTensor:
    """Effective tensor (symmetrized), the raw columns, CG iterations per direction, unknowns, correctors."""

    tensor: np.ndarray
    columns: np.ndarray
    iterations: list[int]
    unknowns: int
    correctors: list


def periodic_tensor(meshdata, conductivities: Mapping, rtol: float | None = None,
                    petsc_options: Mapping[str, object] | None = None, cell_components: np.ndarray | None = None,
                    bounds: tuple[Sequence[float], Sequence[float]] | None = None) -> PeriodicTensor:
    """Effective tensor of the periodic cell ``meshdata`` (an axis-aligned box, Lagrange degree 1).

    Args:
        meshdata: MeshData whose mesh fills (part of) the box spanned by its coordinates.
        conductivities: cell tag or region name -> conductivity spec (number, 3x3 matrix, symmetry table).
        rtol: CG tolerance (default of :mod:`femiec.homogenization.ksp`).
        petsc_options: extra PETSc options of the linear solver.
        cell_components: per local cell (owned + ghost), the id (>= 0) of its periodically connected piece;
            None = the mesh is one periodically connected piece.
        bounds: (low corner, high corner) of the periodic cell (default: the bounding box of the mesh,
            which is the cell only if the mesh reaches all six faces).

    Returns:
        PeriodicTensor; the tensor is in the units of the conductivities.
    """
    import dolfinx_mpc
    import ufl
    from dolfinx import fem
    from dolfinx.fem.petsc import set_bc
    from mpi4py import MPI
    from petsc4py import PETSc

    from femiec.materials.tensors import tensor_coefficient

    mesh = meshdata.mesh
    comm = mesh.comm
    low, high = (np.asarray(b, dtype=float) for b in (bounds if bounds is not None else box_bounds(mesh)))
    lengths = high - low
    volume = float(np.prod(lengths))
    V = fem.functionspace(mesh, ("Lagrange", 1))
    K = tensor_coefficient(meshdata, conductivities, name="conductivity")
    mpc = dolfinx_mpc.MultiPointConstraint(V)
    tolerance = 1e-8 * float(lengths.max())

    def on_high_face(points):
        return np.any([np.isclose(points[i], high[i], rtol=0, atol=tolerance) for i in range(3)], axis=0)

    def image_on_low_face(points):
        image = points.copy()
        for i in range(3):
            image[i] = np.where(np.isclose(points[i], high[i], rtol=0, atol=tolerance), points[i] - lengths[i],
                                points[i])
        return image

    def on_any_face(points):
        near = [np.isclose(points[i], bound[i], rtol=0, atol=tolerance) for i in range(3) for bound in (low, high)]
        return np.any(near, axis=0)

    pinned = _pinned_dofs(V, cell_components, on_any_face)
    mpc.create_periodic_constraint_geometrical(V, on_high_face, image_on_low_face, [pinned])
    mpc.finalize()
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    dx = ufl.Measure("dx", domain=mesh)
    A = dolfinx_mpc.assemble_matrix(fem.form(ufl.inner(K * ufl.grad(u), ufl.grad(v)) * dx), mpc, bcs=[pinned])
    A.assemble()
    solver = linear.create_solver(A, rtol, petsc_options)
    columns, iterations, correctors = np.zeros((3, 3)), [], []
    for j in range(3):
        e_j = ufl.as_vector([1.0 if i == j else 0.0 for i in range(3)])
        b = dolfinx_mpc.assemble_vector(fem.form(-ufl.inner(K * e_j, ufl.grad(v)) * dx), mpc)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        set_bc(b, [pinned])
        chi = fem.Function(mpc.function_space, name=f"chi_{'xyz'[j]}")
        iterations.append(linear.solve(solver, b, chi.x.petsc_vec))
        chi.x.scatter_forward()
        mpc.backsubstitution(chi)
        flux = K * (e_j + ufl.grad(chi))
        columns[:, j] = [comm.allreduce(fem.assemble_scalar(fem.form(flux[i] * dx)), op=MPI.SUM) / volume
                         for i in range(3)]
        correctors.append(chi)
        b.destroy()
    solver.destroy()
    A.destroy()
    unknowns = V.dofmap.index_map.size_global
    return PeriodicTensor(0.5 * (columns + columns.T), columns, iterations, unknowns, correctors)


def _pinned_dofs(V, cell_components, on_face):
    """chi = 0 at one dof of each periodically connected piece (its lowest global index off the faces of
    the cell: a pinned dof on a face would also pin, wrongly, the constrained dofs it is a master of), which
    removes the constant of the corrector on that piece. SolverError if a piece has no dof inside the cell."""
    from dolfinx import default_scalar_type, fem
    from mpi4py import MPI

    comm = V.mesh.comm
    index_map = V.dofmap.index_map
    owned = index_map.size_local
    dofs = V.dofmap.list
    if cell_components is None:
        cell_components = np.zeros(len(dofs), dtype=np.int64)
    count = comm.allreduce(int(cell_components.max(initial=-1)) + 1, op=MPI.MAX)
    free = ~on_face(V.tabulate_dof_coordinates()[:owned].T)
    global_index = index_map.local_to_global(np.arange(owned, dtype=np.int32))
    candidates = np.full(count, np.iinfo(np.int64).max)
    for k in range(count):
        local = np.unique(dofs[cell_components == k])
        local = local[local < owned]
        local = local[free[local]]
        if local.size:
            candidates[k] = global_index[local].min()
    chosen = np.min(comm.allgather(candidates), axis=0)
    if np.any(chosen == np.iinfo(np.int64).max):
        raise SolverError("periodic cell problem: a conducting piece has no mesh point inside the cell (only on "
                          "its faces); refine the mesh or crop the image differently")
    mine = np.flatnonzero(np.isin(global_index, chosen)).astype(np.int32)
    return fem.dirichletbc(default_scalar_type(0.0), mine, V)


def periodic_pieces(planes: RankPlanes, phases, comm) -> tuple[np.ndarray, int]:
    """The pieces of the voxels of ``phases`` connected through shared vertices (26-connectivity) across
    the cell and across its periodic faces: (piece 1, 2, ... of every voxel of this rank's owned planes, 0
    outside ``phases`` and on pieces that touch no face (finite inclusions); the number of pieces).

    The clusters are labelled on each rank's planes and joined over the ranks
    (femiec.meshing.slab_clusters.label_clusters); the face planes of the cell, in global labels (x: the
    first and last plane, y and z: each rank's rows, in rank order), are gathered on every rank, where
    :func:`_wrap_pairs` joins the clusters facing each other across the periodic faces. Memory per rank:
    its planes and the six face planes. Collective."""
    from femiec.meshing.slab_clusters import label_clusters

    i0, i1 = planes.own
    labels, clusters = label_clusters(planes.selection(phases, i0, i1), comm, "vertex")
    rows = comm.allgather(None if i0 == i1 else (labels[0], labels[-1], labels[:, 0], labels[:, -1],
                                                 labels[:, :, 0], labels[:, :, -1]))
    rows = [r for r in rows if r is not None]
    faces = [(rows[0][0], rows[-1][1])] + [tuple(np.concatenate([r[k] for r in rows]) for k in (2 * a, 2 * a + 1))
                                           for a in (1, 2)]
    component = clusters.component  # global label -> cluster
    pairs = np.concatenate([_wrap_pairs(first, last) for first, last in faces])
    graph = coo_matrix((np.ones(len(pairs)), (component[pairs[:, 0]], component[pairs[:, 1]])),
                       shape=(component.max() + 1,) * 2)
    _, piece = connected_components(graph, directed=False)  # cluster -> periodic piece
    on_face = np.any([clusters.touching(face) for face in range(6)], axis=0)  # per global label
    kept = np.unique(piece[component[on_face]])
    renumber = np.zeros(piece.max() + 1, dtype=np.int64)
    renumber[kept] = np.arange(1, kept.size + 1)
    lookup = np.where(on_face, renumber[piece[component]], 0)
    dtype = np.int32 if kept.size < np.iinfo(np.int32).max else np.int64
    return lookup.astype(dtype)[labels], int(kept.size)


def _wrap_pairs(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """(n, 2) pairs of labels (both > 0) facing each other across a periodic face: ``last[i, j]`` (the
    face plane at the high end of an axis) with ``first[i + di, j + dj]`` (the low end), |di|, |dj| <= 1,
    the indices wrapping round (the cell's other periodic faces)."""
    pairs = [np.zeros((0, 2), dtype=np.int64)]
    for shift in ((a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)):
        partner = np.roll(first, shift, axis=(0, 1))
        both = (last > 0) & (partner > 0)
        pairs.append(np.column_stack([last[both], partner[both]]).astype(np.int64))
    return np.concatenate(pairs)


def solve_axes(image: RankPlanes, tensors: Mapping[int, np.ndarray], names: Sequence[str], spacing: np.ndarray,
               comm, out_dir=None, rtol: float | None = None,
               petsc_options: Mapping[str, object] | None = None) -> list[AxisColumn]:
    """The three columns of the periodic tensor of a voxel image (Q1 on the voxel mesh, voxel units), from
    this rank's planes of it (``image``: its RankPlanes, halo >= 2): the pieces of :func:`periodic_pieces`,
    the voxels of the other pieces dropped on the planes (femiec.meshing.rank_planes.kept_planes), the
    voxel mesh of the planes left, each cell's piece looked up on the planes (RankPlanes.gathered)."""
    from dolfinx.mesh import compute_midpoints

    from femiec.meshing.rank_planes import kept_planes
    from femiec.meshing.voxel import voxel_mesh

    start = time.perf_counter()
    phases = list(tensors)
    pieces, count = periodic_pieces(image, phases, comm)
    if count == 0:
        return [AxisColumn(j, 0.0, np.zeros(3), 0, 0, 0.0, time.perf_counter() - start) for j in range(3)]
    cells = spacing / spacing.max()  # voxel units inside (see fe.py)
    kept = comm.allreduce(int(np.count_nonzero(pieces)))
    held = np.zeros(image.data.shape, dtype=pieces.dtype)  # the pieces on the planes kept, halo filled
    i0, i1 = image.own
    held[i0 - image.start:i1 - image.start] = pieces
    image.fill_halo(held, comm)
    meshdata = voxel_mesh(kept_planes(image, phases, pieces > 0, comm), phases, cells, comm)
    del pieces
    mesh = meshdata.mesh
    local = mesh.topology.index_map(3).size_local + mesh.topology.index_map(3).num_ghosts
    voxel = np.floor(compute_midpoints(mesh, 3, np.arange(local, dtype=np.int32)) / cells).astype(np.int64)
    lo, hi = (int(voxel[:, 0].min()), int(voxel[:, 0].max()) + 1) if local else (0, 0)
    block = replace(image, data=held).gathered(lo, hi, comm)
    components = block[voxel[:, 0] - lo, voxel[:, 1], voxel[:, 2]].astype(np.int64) - 1
    result = periodic_tensor(meshdata, dict(tensors), rtol, petsc_options, cell_components=components,
                             bounds=(np.zeros(3), np.array(image.shape) * cells))
    if out_dir is not None:
        _write_correctors(out_dir, mesh, result.correctors, float(spacing.max()))
    fraction = kept / float(image.histogram[phases].sum())
    elapsed = (time.perf_counter() - start) / 3
    return [AxisColumn(j, float(result.tensor[j, j]), result.columns[:, j], result.iterations[j],
                           result.unknowns, fraction, elapsed) for j in range(3)]


def _write_correctors(out_dir, mesh, correctors, unit: float) -> None:
    """chi_x, chi_y, chi_z (m: the corrector of a unit macroscopic gradient) with the mesh in metres."""
    from femiec.io.fields import FieldWriter

    x = mesh.geometry.x
    x *= unit
    try:
        for chi in correctors:
            chi.x.array[:] *= unit
        writer = FieldWriter(out_dir, {chi.name: (chi, "m") for chi in correctors})
        writer.write(0.0)
        writer.close()
    finally:
        x /= unit
        for chi in correctors:
            chi.x.array[:] /= unit
