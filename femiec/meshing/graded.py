"""Intervals graded towards their walls (1D meshes for boundary layers: Debye layers, space charge,
depletion zones), with the box's facet tags."""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from femiec.errors import InputError


def geometric_ratio(n: int, length: float, first: float) -> float:
    """Ratio r of a geometric sequence of n cells, the first ``first`` [m], summing to ``length`` [m]:

        first (r^n - 1) / (r - 1) = length,

    r > 1 when the cells grow (n first < length), r < 1 when they shrink (first < length < n first).
    The root is bracketed without overflow: a growing sequence has its last cell first r^(n-1) < length,
    so r < (length / first)^(1 / (n - 1)); a shrinking one has 0 < r < 1."""
    if n < 1 or not (0 < first <= length):
        raise InputError("first_cell", first, f"a first cell in (0, {length:g}] m for {n} cells")
    if abs(first * n - length) < 1e-14 * length:
        return 1.0
    if n == 1:
        raise InputError("first_cell", first, f"the length {length:g} m for 1 cell")

    def excess(r):
        return first * np.expm1(n * np.log(r)) / (r - 1) - length

    if first * n < length:
        return brentq(excess, 1 + 1e-12, (length / first) ** (1 / (n - 1)) * (1 + 1e-12))
    return brentq(excess, 1e-300, 1 - 1e-12)


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
        return MeshData(m, facet_tags=box_facet_tags(m, [(0.0, length)]), facet_names={"xmin": 1, "xmax": 2})
    m = dmesh.create_interval(comm, 2 * n, [-1.0, 1.0])
    x = m.geometry.x[:, 0].copy()
    m.geometry.x[:, 0] = np.sign(x) * (length - wall_distance(1 - np.abs(x)))
    cells = np.arange(m.topology.index_map(1).size_local + m.topology.index_map(1).num_ghosts, dtype=np.int32)
    from dolfinx.mesh import compute_midpoints

    halves = np.where(compute_midpoints(m, 1, cells)[:, 0] < 0, 1, 2).astype(np.int32)
    return MeshData(m, cell_tags=dmesh.meshtags(m, 1, cells, halves),
                    facet_tags=box_facet_tags(m, [(-length, length)]), cell_names={"left": 1, "right": 2},
                    facet_names={"xmin": 1, "xmax": 2})


def box_facet_tags(m, bounds):
    """Facet tags 2 axis + 1 (low) and 2 axis + 2 (high) of the faces of the box ``bounds`` [(lo, hi) per axis]."""
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
