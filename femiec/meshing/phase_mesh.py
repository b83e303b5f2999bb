"""Face-connected mesh of one phase of a voxel mesh, cell for cell with the parent and on the same ranks.

A field that lives on a phase of an all-phase voxel mesh (femiec.meshing.voxel) through a DOLFINx submesh
(``create_submesh``) shares the parent's vertices, so two voxels of the phase that touch only along an edge
or at a corner are joined through those nodes (Q1 fields see 26-connected clusters). The parent cannot split
them: both voxels across such an edge are meshed too (femiec.meshing.voxel, connectivity). The mesh built
here holds the selected cells only, with the vertices duplicated as ``voxel_mesh(connectivity="face")``
does: every grid vertex gets one copy per group of its incident selected voxels that are face-connected
among themselves, so the mesh has exactly the 6-connected clusters of the selection.

Matching the parent, so that forms integrated on the parent (its ``dx`` of the phase, its ``dS`` of an
interface) can use functions on this mesh through ``dolfinx.fem.form(entity_maps={mesh: cell_map})``, as
with a submesh:

- its cells are one-to-one with the parent's selected cells, with the nodes in the same order (the same
  corner of the voxel at each local node, hence the same reference cell, the same local facet numbers and
  identical coordinates);
- each cell lives on the same ranks as the parent's: owned where the parent's cell is owned, a ghost where
  the parent's is a ghost (the parent's ``index_to_dest_ranks``);
- ``cell_map[c]`` is this mesh's local cell of the parent's local cell ``c`` (-1 outside the selection).

The vertex copies are numbered in a distributed way: each owned selected cell sends its 8 (grid vertex,
position in the vertex's 2x2x2 neighbourhood) pairs to the rank that numbers that grid vertex (a block of
the global grid-vertex numbers per rank); that rank forms the occupancy pattern of every grid vertex it
numbers, gives it its copies and sends back the copy of each pair. No rank holds a global array.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femiec.meshing.voxel import vertex_copies, voxel_spacing


@dataclass
class PhaseMesh:
    """A face-connected phase mesh and the map from the parent's local cells to its own (-1: not in it)."""

    mesh: object
    cell_map: np.ndarray


def face_connected_phase_mesh(mesh, selected: np.ndarray, voxel_size, name: str) -> PhaseMesh:
    """The face-connected mesh (named ``name``) of the parent's cells where ``selected`` is True.

    Args:
        mesh: the parent, a hexahedral voxel mesh (femiec.meshing.voxel: one cell per voxel, voxel (i, j, k)
            occupying [i dx, (i+1) dx] x [j dy, (j+1) dy] x [k dz, (k+1) dz]) with a ghost layer.
        selected: bool per local cell of the parent (owned and ghost), the same on every rank holding a cell.
        voxel_size: the voxel's edge length(s) in metres, a float or (dx, dy, dz).
        name: the mesh's name.

    Returns:
        The mesh and the parent-to-phase cell map (module doc). Collective.
    """
    import basix.ufl
    import dolfinx.graph
    import dolfinx.mesh
    import ufl

    comm = mesh.comm
    spacing = voxel_spacing(voxel_size)
    tdim = mesh.topology.dim
    imap = mesh.topology.index_map(tdim)
    num_owned, num_cells = imap.size_local, imap.size_local + imap.num_ghosts
    selected = np.asarray(selected, dtype=bool)[:num_cells]
    cells = np.flatnonzero(selected[:num_owned]).astype(np.int32)
    nodes = mesh.geometry.x[mesh.geometry.dofmap[cells]]  # (cell, node, xyz), the parent's node order
    voxel = np.floor(nodes.mean(axis=1) / spacing).astype(np.int64)
    corner = np.rint(nodes / spacing).astype(np.int64) - voxel[:, None, :]  # offset (0/1) of each node
    vertex = voxel[:, None, :] + corner  # the grid vertex at each node
    lo, hi = _global_extent(comm, vertex.reshape(-1, 3))
    shape = hi - lo + 1
    grid = np.ravel_multi_index(tuple((vertex - lo).reshape(-1, 3).T), shape).reshape(vertex.shape[:2])
    # bit p = di + 2 dj + 4 dk of the voxel at offset (di, dj, dk) - 1 from the vertex (femiec.meshing.voxel)
    position = ((1 - corner) * np.array([1, 2, 4])).sum(axis=2)

    cell_vertices, x = _numbered_copies(comm, grid.ravel(), position.ravel(), shape, lo, spacing)
    cell_vertices = cell_vertices.reshape(grid.shape)
    destinations = _destinations(imap, cells, comm.rank)

    def partitioner(comm_, nparts, cell_types, cell_vertices_):
        return dolfinx.graph.adjacencylist(*destinations)

    domain = ufl.Mesh(basix.ufl.element("Lagrange", "hexahedron", 1, shape=(3,)))
    phase = dolfinx.mesh.create_mesh(comm, cell_vertices, x, domain,
                                     partitioner=partitioner if comm.size > 1 else None)
    phase.name = name
    return PhaseMesh(phase, _cell_map(mesh, phase, cells, num_cells))


def phase_facets(mesh, phase: PhaseMesh, facets: np.ndarray) -> np.ndarray:
    """The phase mesh's local facets of the parent's local ``facets`` that bound a cell of the phase (the
    others are dropped): the same local facet of the matching cell (the cells share their node order, as
    create_submesh's cells do too). Any cell type."""
    tdim = mesh.topology.dim
    for topology in (mesh.topology, phase.mesh.topology):
        topology.create_connectivity(tdim - 1, tdim)
        topology.create_connectivity(tdim, tdim - 1)
    f2c, c2f = mesh.topology.connectivity(tdim - 1, tdim), mesh.topology.connectivity(tdim, tdim - 1)
    c2f_phase = phase.mesh.topology.connectivity(tdim, tdim - 1)
    facets = np.asarray(facets, dtype=np.int32)
    start, count = f2c.offsets[facets], np.diff(f2c.offsets)[facets]
    first = f2c.array[start]
    second = np.where(count == 2, f2c.array[np.minimum(start + 1, len(f2c.array) - 1)], first)
    cell = np.where(phase.cell_map[first] >= 0, first, second)
    keep = phase.cell_map[cell] >= 0
    facets, cell = facets[keep], cell[keep]
    from dolfinx.cpp.mesh import cell_num_entities

    faces = cell_num_entities(mesh.topology.cell_type, tdim - 1)  # facets per cell (hexahedra, tetrahedra)
    local = np.argmax(c2f.array.reshape(-1, faces)[cell] == facets[:, None], axis=1)
    return np.unique(c2f_phase.array.reshape(-1, faces)[phase.cell_map[cell], local]).astype(np.int32)


def _global_extent(comm, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(smallest, largest) of the rows of ``values`` (n x 3 integers) over all ranks."""
    from mpi4py import MPI

    big = np.iinfo(np.int64).max
    local = np.concatenate([values.min(axis=0), -values.max(axis=0)]) if len(values) else np.full(6, big)
    extent = np.empty(6, dtype=np.int64)
    comm.Allreduce(local.astype(np.int64), extent, op=MPI.MIN)
    return extent[:3], -extent[3:]


def _numbered_copies(comm, grid: np.ndarray, position: np.ndarray, shape, lo, spacing):
    """(global vertex of every (grid vertex, position) pair, coordinates of this rank's vertices).

    Grid vertex g is numbered by rank ``g * size // num_grid`` (blocks of the grid-vertex numbers): that
    rank receives the pairs of g, ORs their positions into the occupancy pattern, gives g its copies
    (femiec.meshing.voxel's "face" tables) numbered after those of the previous ranks, in the order of g,
    and returns the copy of each pair."""
    copies_of, copy_of = vertex_copies("face")
    num_grid = int(np.prod(shape))
    home = (grid * comm.size // num_grid).astype(np.int32) if num_grid else grid.astype(np.int32)
    order = np.argsort(home, kind="stable")
    send_counts = np.bincount(home, minlength=comm.size)
    received, recv_counts = _alltoallv(comm, (grid[order] * 8 + position[order]), send_counts)
    g, p = received // 8, received % 8
    numbered, where = np.unique(g, return_inverse=True)
    pattern = np.zeros(len(numbered), dtype=np.int64)
    np.bitwise_or.at(pattern, where, 1 << p)
    copies = copies_of[pattern]
    total = int(copies.sum())
    offset = (comm.exscan(total) or 0) if comm.size > 1 else 0
    first = offset + np.cumsum(copies) - copies
    reply, _ = _alltoallv(comm, first[where] + copy_of[pattern[where], p], recv_counts)
    vertices = np.empty_like(reply)
    vertices[order] = reply
    ijk = np.stack(np.unravel_index(np.repeat(numbered, copies), shape), axis=1) + lo
    return vertices, ijk.astype(np.float64) * spacing


def _alltoallv(comm, data: np.ndarray, send_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``data`` (int64, grouped by destination rank, ``send_counts`` per rank) exchanged: (the data received
    grouped by source rank, the counts received)."""
    from mpi4py import MPI

    data = np.ascontiguousarray(data, dtype=np.int64)
    send_counts = np.asarray(send_counts, dtype=np.int64)
    recv_counts = np.empty_like(send_counts)
    comm.Alltoall(send_counts, recv_counts)
    received = np.empty(int(recv_counts.sum()), dtype=np.int64)
    displ = lambda counts: np.concatenate([[0], np.cumsum(counts)[:-1]])
    comm.Alltoallv([data, send_counts, displ(send_counts), MPI.INT64_T],
                   [received, recv_counts, displ(recv_counts), MPI.INT64_T])
    return received, recv_counts


def _destinations(imap, cells: np.ndarray, rank: int):
    """(data, offsets) of the ranks of each of ``cells`` (owned): this rank, then the ranks that hold the
    parent's cell as a ghost."""
    dest = imap.index_to_dest_ranks()  # collective
    ghosts = np.diff(dest.offsets)[cells]
    offsets = np.concatenate([[0], np.cumsum(1 + ghosts)]).astype(np.int32)
    data = np.full(offsets[-1], rank, dtype=np.int32)
    # after each cell's own rank, its ghost ranks: position k of cell c's ranks is dest.array[start_c + k - 1]
    within = np.arange(offsets[-1]) - np.repeat(offsets[:-1], 1 + ghosts)
    ghost = within > 0
    data[ghost] = dest.array[np.repeat(dest.offsets[cells], 1 + ghosts)[ghost] + within[ghost] - 1]
    return data, offsets


def _cell_map(mesh, phase, cells: np.ndarray, num_cells: int) -> np.ndarray:
    """Phase cell of every local parent cell (-1 outside the selection). The phase mesh's input index of each
    owned selected parent cell (its row in this rank's input, after the previous ranks' rows) is sent to the
    ranks that ghost it, and looked up in the phase mesh's ``original_cell_index``."""
    from dolfinx import la

    tdim = mesh.topology.dim
    imap = mesh.topology.index_map(tdim)
    offset = (mesh.comm.exscan(len(cells)) or 0) if mesh.comm.size > 1 else 0
    carrier = la.vector(imap, 1, dtype=np.int64)
    carrier.array[:] = -1
    carrier.array[cells] = offset + np.arange(len(cells))
    carrier.scatter_forward()
    input_index = carrier.array[:num_cells]
    pmap = phase.topology.index_map(tdim)
    original = np.asarray(phase.topology.original_cell_index, dtype=np.int64)[: pmap.size_local + pmap.num_ghosts]
    order = np.argsort(original)
    wanted = np.flatnonzero(input_index >= 0)
    at = np.searchsorted(original[order], input_index[wanted])
    at = np.minimum(at, len(order) - 1)
    if len(wanted) and not np.array_equal(original[order][at], input_index[wanted]):
        raise RuntimeError("a selected cell of the parent is missing on the phase mesh's rank")
    cell_map = np.full(num_cells, -1, dtype=np.int32)
    cell_map[wanted] = order[at]
    return cell_map
