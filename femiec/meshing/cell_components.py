"""Connected components of a set of cells of a distributed mesh (cells joined through shared facets).

``cell_components(mesh, mask)`` gives every local cell (owned and ghost) of ``mask`` the id of its
component, the same id on every rank: the smallest global cell index in the component (-1 outside
``mask``). Each rank labels the components of its local cells (owned + ghosts, scipy csgraph) with the
minimum of their ids, the owners' ids are sent to the ghosts, and this repeats until no id changes; the
number of rounds is one more than the number of rank boundaries a component's shortest paths cross
(one round in serial). Needs the facet-sharing ghost layer of femiec's meshes, so that both cells of every
facet on a rank boundary are present on both ranks.
"""
from __future__ import annotations

import numpy as np


def cell_components(mesh, mask: np.ndarray) -> np.ndarray:
    """Component id (smallest global cell index of the component, int64) of every local cell of ``mask``
    (bool per local cell, owned and ghost, the same on every rank holding the cell), -1 elsewhere.
    Collective."""
    from dolfinx import fem
    from mpi4py import MPI
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim - 1, tdim)
    f2c = mesh.topology.connectivity(tdim - 1, tdim)
    imap = mesh.topology.index_map(tdim)
    num_cells = imap.size_local + imap.num_ghosts
    mask = np.asarray(mask, dtype=bool)
    interior = np.flatnonzero(np.diff(f2c.offsets) == 2)
    a, b = f2c.array[f2c.offsets[interior]], f2c.array[f2c.offsets[interior] + 1]
    joined = mask[a] & mask[b]
    graph = coo_matrix((np.ones(int(joined.sum())), (a[joined], b[joined])), shape=(num_cells, num_cells))
    _, local = connected_components(graph, directed=False)
    cells = np.flatnonzero(mask)
    ids = np.full(num_cells, -1, dtype=np.int64)
    ids[cells] = imap.local_to_global(cells.astype(np.int32))
    carrier = fem.Function(fem.functionspace(mesh, ("DG", 0)))  # float64: exact for ids < 2^53
    dofs = carrier.function_space.dofmap.list[:num_cells, 0]
    while True:
        smallest = np.full(local.max() + 1 if num_cells else 0, np.iinfo(np.int64).max)
        np.minimum.at(smallest, local[cells], ids[cells])
        updated = ids.copy()
        updated[cells] = smallest[local[cells]]
        carrier.x.array[dofs] = updated
        carrier.x.scatter_forward()
        updated = carrier.x.array[dofs].astype(np.int64)
        if not mesh.comm.allreduce(bool(np.any(updated != ids)), op=MPI.LOR):
            return ids
        ids = updated


def global_ids(comm, values: np.ndarray) -> np.ndarray:
    """The sorted distinct ``values`` over all ranks. Collective."""
    return np.unique(np.concatenate(comm.allgather(np.unique(np.asarray(values, dtype=np.int64)))))
