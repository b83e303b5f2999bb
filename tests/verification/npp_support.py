"""Meshes and helpers shared by the Nernst–Planck–Poisson tests (not a test module)."""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq


def geometric_ratio(n: int, length: float, first: float) -> float:
    """Ratio r of a geometric sequence of n cells, first cell ``first``, summing to ``length``."""
    if abs(first * n - length) < 1e-14 * length:
        return 1.0
    return brentq(lambda r: first * (r ** n - 1) / (r - 1) - length, 1 + 1e-12, 10.0)


def graded_interval(comm, n: int, length: float, first: float, both: bool = False):
    """MeshData of [0, length] (or [-length, length] with ``both``) with n cells per graded half; the
    cells grow geometrically from ``first`` at the wall(s). Facet tags xmin=1, xmax=2; with ``both``
    cell tags left=1 (x < 0), right=2."""
    from dolfinx import mesh as dmesh

    from femiec.meshing.base import MeshData

    r = geometric_ratio(n, length, first)

    def wall_distance(s):  # s in [0, 1] -> distance from the wall
        return first * (r ** (n * s) - 1) / (r - 1) if r != 1.0 else length * s

    if not both:
        m = dmesh.create_interval(comm, n, [0.0, 1.0])
        m.geometry.x[:, 0] = wall_distance(m.geometry.x[:, 0].copy())
        return MeshData(m, facet_tags=_box_facet_tags(m, [(0.0, length)]), facet_names={"xmin": 1, "xmax": 2})
    m = dmesh.create_interval(comm, 2 * n, [-1.0, 1.0])
    x = m.geometry.x[:, 0].copy()
    m.geometry.x[:, 0] = np.sign(x) * (length - wall_distance(1 - np.abs(x)))
    cells = np.arange(m.topology.index_map(1).size_local + m.topology.index_map(1).num_ghosts, dtype=np.int32)
    from dolfinx.mesh import compute_midpoints

    halves = np.where(compute_midpoints(m, 1, cells)[:, 0] < 0, 1, 2).astype(np.int32)
    return MeshData(m, cell_tags=dmesh.meshtags(m, 1, cells, halves),
                    facet_tags=_box_facet_tags(m, [(-length, length)]), cell_names={"left": 1, "right": 2},
                    facet_names={"xmin": 1, "xmax": 2})


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
    return MeshData(m, facet_tags=_box_facet_tags(m, [(0.0, L) for L in lengths]), facet_names=names)


def _box_facet_tags(m, bounds):
    from dolfinx import mesh as dmesh

    fdim = m.topology.dim - 1
    indices, values = [], []
    for axis, (lo, hi) in enumerate(bounds):
        tol = 1e-9 * (hi - lo)
        for value, position in ((2 * axis + 1, lo), (2 * axis + 2, hi)):
            facets = dmesh.locate_entities_boundary(
                m, fdim, lambda x, a=axis, p=position, t=tol: np.abs(x[a] - p) < t)
            indices.append(facets)
            values.append(np.full(len(facets), value, dtype=np.int32))
    indices = np.concatenate(indices)
    order = np.argsort(indices)
    return dmesh.meshtags(m, fdim, indices[order].astype(np.int32), np.concatenate(values)[order])


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
