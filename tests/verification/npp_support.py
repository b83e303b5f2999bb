"""Meshes and helpers shared by the Nernst–Planck–Poisson tests (not a test module)."""
from __future__ import annotations

import numpy as np

from femiec.meshing.graded import box_facet_tags, graded_interval

__all__ = ["assert_l2_h1_orders", "box_mesh", "global_max", "graded_interval"]


def box_mesh(comm, cells, lengths, cell_type=None):
    """MeshData of an axis-aligned box [0, L]^d (interval, rectangle or box) with BOX_FACETS tags."""
    from dolfinx import mesh as dmesh

    from femiec.meshing.base import BOX_FACETS, MeshData

    d = len(cells)
    if d == 1:
        m = dmesh.create_interval(comm, cells[0], [0.0, lengths[0]])
    elif d == 2:
        m = dmesh.create_rectangle(comm, [[0.0, 0.0], list(lengths)], list(cells),
                                   cell_type or dmesh.CellType.triangle)
    else:
        m = dmesh.create_box(comm, [[0.0, 0.0, 0.0], list(lengths)], list(cells),
                             cell_type or dmesh.CellType.tetrahedron)
    names = {k: v for k, v in BOX_FACETS.items() if v <= 2 * d}
    return MeshData(m, facet_tags=box_facet_tags(m, [(0.0, L) for L in lengths]), facet_names=names)


def global_max(comm, values) -> float:
    from mpi4py import MPI

    return comm.allreduce(float(np.max(values)) if len(values) else -np.inf, op=MPI.MAX)


def assert_l2_h1_orders(numbers, sizes, results, l2_order: float, h1_order: float) -> None:
    """Orders of the (L2, H1) error arrays ``results[k] = (l2, h1)`` (one entry per field) on the two finest
    meshes ``sizes`` (cells per side); records errors and orders and asserts every field reaches them."""
    l2 = [r[0] for r in results]
    h1 = [r[1] for r in results]
    ratio = np.log(sizes[-1] / sizes[-2])
    orders = np.log(np.asarray(l2[-2]) / np.asarray(l2[-1])) / ratio
    h1_orders = np.log(np.asarray(h1[-2]) / np.asarray(h1[-1])) / ratio
    numbers.record("errors_finest", l2[-1])
    numbers.record("orders", orders)
    numbers.record("h1_errors_finest", h1[-1])
    numbers.record("h1_orders", h1_orders)
    assert np.all(orders >= l2_order), (l2, orders)
    assert np.all(h1_orders >= h1_order), (h1, h1_orders)
