"""Mesh checks shared by the voxel-mesh tests."""
from __future__ import annotations

import numpy as np


def mesh_components(mesh) -> int:
    """Number of connected components of the graph of a hexahedral mesh's cells joined through shared mesh
    vertices (global vertex and cell numbers, gathered on every rank)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    topology = mesh.topology
    topology.create_connectivity(3, 0)
    owned = topology.index_map(3).size_local
    c2v = topology.connectivity(3, 0).array.reshape(-1, 8)[:owned]
    vertices = topology.index_map(0).local_to_global(c2v.ravel().astype(np.int32))
    cells = topology.index_map(3).local_range[0] + np.repeat(np.arange(owned), 8)
    pairs = np.concatenate(mesh.comm.allgather(np.stack([cells, vertices], axis=1)))
    shape = (topology.index_map(3).size_global, topology.index_map(0).size_global)
    incidence = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=shape)
    return connected_components((incidence @ incidence.T).tocsr(), directed=False)[0]
