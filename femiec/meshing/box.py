"""Structured mesh of an axis-aligned box [0, Lx] x [0, Ly] x [0, Lz] (metres) with tagged faces."""
from __future__ import annotations

import numpy as np
from mpi4py import MPI

from femiec.errors import InputError
from femiec.meshing.base import BOX_FACETS, MeshData, check_mesh_memory
from femiec.plausibility import MESH_BYTES_PER_CELL, warn_memory


def box_mesh(lengths, cells, cell_type: str = "tetrahedron", comm=MPI.COMM_WORLD) -> MeshData:
    """Box of size ``lengths`` (m) with ``cells`` divisions per axis: 1D (interval), 2D (rectangle) or 3D.

    Facet tags: ``BOX_FACETS`` (xmin=1, xmax=2, ymin=3, ymax=4, zmin=5, zmax=6); one cell region
    ``"domain"`` with tag 1. ``cell_type``: "tetrahedron"/"hexahedron" in 3D, "triangle"/"quadrilateral"
    in 2D, "interval" in 1D. Shared-facet ghosting, so interior-facet integrals work in parallel.
    """
    import dolfinx.mesh

    lengths = np.asarray(lengths, dtype=float)
    cells = [int(n) for n in np.atleast_1d(cells)]
    dim = len(lengths)
    if dim not in (1, 2, 3) or len(cells) != dim or np.any(lengths <= 0) or min(cells) < 1:
        raise InputError("box", f"lengths={lengths.tolist()}, cells={cells}",
                         "1, 2 or 3 positive lengths and cell counts")
    allowed = {1: ("interval",), 2: ("triangle", "quadrilateral"), 3: ("tetrahedron", "hexahedron")}[dim]
    if cell_type not in allowed:
        raise InputError("cell_type", cell_type, f"one of {allowed}")
    per_box = {"tetrahedron": 6, "triangle": 2}.get(cell_type, 1)  # simplices per box division
    num_cells = int(np.prod(cells, dtype=object)) * per_box
    check_mesh_memory(num_cells, cell_type, "mesh.cells")  # refused: not even the mesh fits
    warn_memory("mesh.cells", num_cells, f"{cell_type} cells", MESH_BYTES_PER_CELL)  # a run probably does not
    ghost = dolfinx.mesh.GhostMode.shared_facet
    kind = getattr(dolfinx.mesh.CellType, cell_type)
    corners = [np.zeros(dim), lengths]
    if dim == 3:
        mesh = dolfinx.mesh.create_box(comm, corners, cells, kind, ghost_mode=ghost)
    elif dim == 1:
        mesh = dolfinx.mesh.create_interval(comm, cells[0], [0.0, lengths[0]], ghost_mode=ghost)
    else:
        mesh = dolfinx.mesh.create_rectangle(comm, corners, cells, kind, ghost_mode=ghost)

    tdim = mesh.topology.dim
    facet_ids, facet_values = [], []
    names = list(BOX_FACETS)[: 2 * dim]
    for name in names:
        axis, side = divmod(BOX_FACETS[name] - 1, 2)
        target = lengths[axis] * side
        found = dolfinx.mesh.locate_entities_boundary(
            mesh, tdim - 1, lambda x, a=axis, t=target: np.isclose(x[a], t, rtol=0, atol=1e-12 * lengths.max())
        )
        facet_ids.append(found)
        facet_values.append(np.full(len(found), BOX_FACETS[name], dtype=np.int32))
    facet_ids = np.concatenate(facet_ids)
    order = np.argsort(facet_ids, kind="stable")
    facet_tags = dolfinx.mesh.meshtags(mesh, tdim - 1, facet_ids[order], np.concatenate(facet_values)[order])
    num_cells = mesh.topology.index_map(tdim).size_local + mesh.topology.index_map(tdim).num_ghosts
    cell_tags = dolfinx.mesh.meshtags(
        mesh, tdim, np.arange(num_cells, dtype=np.int32), np.ones(num_cells, dtype=np.int32)
    )
    info = {"source": "box", "lengths_m": lengths.tolist(), "cells": cells, "cell_type": cell_type}
    return MeshData(mesh, cell_tags, facet_tags, {"domain": 1}, {n: BOX_FACETS[n] for n in names}, info)
