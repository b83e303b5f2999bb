"""Clean-up of the interface surfaces of a labelled tetrahedral mesh by edge collapses.

Used on the snap-and-smooth mesh (femiec.meshing.conforming) before gmsh remeshes the volumes
(femiec.meshing.conforming_gmsh): snapping leaves pairs of nearby vertices on an interface (needle
and cap triangles), which would bound every volume mesh built on these surfaces.

An edge (a, b) is collapsed by moving b onto a and deleting the tetrahedra that contain both; the
phase labels of the remaining tetrahedra are unchanged, so the interfaces (faces between unlike labels)
and the box faces stay conforming, watertight and free of self-intersections by construction.
Candidates, shortest first: edges shorter than ``ratio * h`` and the shortest edge of every surface
triangle of quality < ``BAD_TRIANGLE``.
A collapse is done only if
- b lies on no interface and no box plane that a does not lie on (b's phases and box planes are a
  subset of a's): interfaces, triple lines, box edges and corners keep their shape up to the move;
- the link condition holds (Lk(a) ∩ Lk(b) = Lk(ab), with a virtual vertex closing the box boundary):
  the mesh stays a manifold, no phase gets pinched;
- every modified tetrahedron keeps a volume >= ``min_volume`` (no inversion, box still filled);
- the worst interface/box triangle around a does not get worse.
"""
from __future__ import annotations

import numpy as np

from femiec.meshing.conforming import _volumes

#: Index of the virtual vertex that closes the boundary (box faces) in link computations.
_OUTSIDE = -1
#: Surface triangles below this quality also get their shortest edge collapsed (if that helps).
BAD_TRIANGLE = 0.2
_FACES = ((1, 2, 3), (0, 3, 2), (0, 1, 3), (0, 2, 1))


def collapse_short_edges(x, cells, labels, lengths, h: float, min_volume: float, ratio: float = 0.4,
                         passes: int = 3):
    """Collapse short edges and the shortest edges of poor surface triangles (module doc).

    Returns (x, cells, labels).

    ``x`` (vertices), ``cells`` (positively oriented tetrahedra), ``labels`` (phase index per cell),
    ``lengths`` (box [0, L]); unused vertices are kept in ``x`` (cells refer to the original indices).
    """
    mesh = _CollapsibleMesh(x, cells, labels, lengths, min_volume)
    for _ in range(passes):
        if mesh.collapse_pass(ratio * h) == 0:
            break
    return mesh.result()


def surface_triangles(cells, labels, planes) -> np.ndarray:
    """Faces between unlike labels and faces on a box plane (vertex indices)."""
    faces = np.concatenate([cells[:, list(f)] for f in _FACES])
    owner_label = np.tile(labels, 4)
    key = np.sort(faces, axis=1)
    order = np.lexsort(key.T[::-1])
    same = np.all(key[order][1:] == key[order][:-1], axis=1)
    paired = np.flatnonzero(same)
    unlike = owner_label[order[paired]] != owner_label[order[paired + 1]]
    single = np.ones(len(faces), dtype=bool)
    single[order[paired]] = single[order[paired + 1]] = False
    return np.concatenate([faces[order[paired[unlike]]], faces[single]])


def _strata(x, cells, labels, lengths) -> tuple[np.ndarray, np.ndarray]:
    """Per vertex: the phases around it (boolean rows) and the box planes it lies on (xmin, ymin, zmin,
    xmax, ymax, zmax)."""
    tol = 1e-9 * float(np.max(lengths))
    phases = np.zeros((len(x), int(labels.max()) + 1), dtype=bool)
    phases[cells.ravel(), np.repeat(labels, 4)] = True
    return phases, np.concatenate([x < tol, x > np.asarray(lengths) - tol], axis=1)


def _shortest_edges(x, simplices, sides) -> np.ndarray:
    """The shortest edge (vertex pair) of each simplex."""
    pairs = np.stack([simplices[:, list(side)] for side in sides], axis=1)
    lengths = np.linalg.norm(x[pairs[:, :, 0]] - x[pairs[:, :, 1]], axis=2)
    return pairs[np.arange(len(simplices)), lengths.argmin(axis=1)].reshape(-1, 2)


def triangle_quality(x, triangles) -> np.ndarray:
    """4 sqrt(3) area / (sum of squared edges): 1 for an equilateral triangle, 0 for a flat one."""
    p = x[triangles]
    e = np.stack([p[:, 1] - p[:, 0], p[:, 2] - p[:, 1], p[:, 0] - p[:, 2]], axis=1)
    area = 0.5 * np.linalg.norm(np.cross(e[:, 0], e[:, 1]), axis=1)
    return 4 * np.sqrt(3) * area / np.maximum((e**2).sum(axis=(1, 2)), 1e-300)


class _CollapsibleMesh:
    def __init__(self, x, cells, labels, lengths, min_volume: float):
        self.x, self.cells, self.labels = x.copy(), cells.copy(), labels
        self.alive = np.ones(len(cells), dtype=bool)
        self.min_volume = min_volume
        self.phases, self.planes = _strata(x, cells, labels, lengths)
        self.surface = (self.phases.sum(axis=1) >= 2) | self.planes.any(axis=1)
        self._plane_bits = (self.planes @ (1 << np.arange(6))).tolist()
        order = np.argsort(cells.ravel(), kind="stable")
        self._offsets = np.searchsorted(cells.ravel()[order], np.arange(len(x) + 1))
        self._cells_of = order // 4
        self._stars: dict[int, set[int]] = {}

    def star(self, v: int) -> set[int]:
        if v not in self._stars:
            self._stars[v] = set(self._cells_of[self._offsets[v]:self._offsets[v + 1]].tolist())
        star = self._stars[v]
        star.difference_update([t for t in star if not self.alive[t]])
        return star

    def collapse_pass(self, max_length: float) -> int:
        """One sweep over the candidate edges, shortest first; returns the number of collapses.

        Candidates: edges shorter than ``max_length`` and the shortest edge of every surface triangle
        of quality < BAD_TRIANGLE.
        """
        cells = self.cells[self.alive]
        pairs = np.concatenate([cells[:, [i, j]] for i, j in ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))])
        length = np.linalg.norm(self.x[pairs[:, 0]] - self.x[pairs[:, 1]], axis=1)
        candidates = [pairs[length < max_length]]
        triangles = surface_triangles(cells, self.labels[self.alive], self.planes)
        bad = triangles[triangle_quality(self.x, triangles) < BAD_TRIANGLE]
        candidates.append(_shortest_edges(self.x, bad, ((0, 1), (1, 2), (2, 0))))
        edges = np.unique(np.sort(np.concatenate(candidates), axis=1), axis=0)
        length = np.linalg.norm(self.x[edges[:, 0]] - self.x[edges[:, 1]], axis=1)
        touched: set[int] = set()
        done = 0
        for a, b in edges[np.argsort(length)].tolist():
            if a in touched or b in touched:
                continue
            for keep, move in ((a, b), (b, a)):
                if self.surface[move] and self.try_collapse(keep, move):
                    touched.update(self._linked_vertices(keep))
                    touched.add(move)
                    done += 1
                    break
        return done

    def _linked_vertices(self, v: int) -> set[int]:
        return set(self.cells[list(self.star(v))].ravel().tolist())

    def try_collapse(self, a: int, b: int) -> bool:
        """Move b onto a if allowed (module doc); True if done."""
        if np.any(self.phases[b] & ~self.phases[a]) or np.any(self.planes[b] & ~self.planes[a]):
            return False
        star_a, star_b = self.star(a), self.star(b)
        shared = star_a & star_b
        if not shared or not self._link_condition(a, b, star_a, star_b, shared):
            return False
        moved = np.array(sorted(star_b - shared), dtype=np.int64)
        new = self.cells[moved].copy()
        new[new == b] = a
        if len(moved) and _volumes(self.x, new).min() < self.min_volume:
            return False
        after = np.array(sorted(star_a - shared), dtype=np.int64)
        around_after = np.concatenate([self.cells[after], new]) if len(moved) else self.cells[after]
        labels_after = np.concatenate([self.labels[after], self.labels[moved]]) if len(moved) else self.labels[after]
        before_cells = np.array(sorted(star_a | star_b), dtype=np.int64)
        q_before = self._surface_quality(self.cells[before_cells], self.labels[before_cells], (a, b))
        q_after = self._surface_quality(around_after, labels_after, (a,))
        if q_after < min(q_before, 1.0):
            return False
        self.cells[moved] = new
        self.alive[list(shared)] = False
        self._stars[a] = (star_a | star_b) - shared
        self._stars.pop(b, None)
        return True

    def _surface_quality(self, cells, labels, centres) -> float:
        """Smallest quality of the interface and box triangles that contain one of ``centres``."""
        seen: dict[tuple, int] = {}
        surface = []
        for cell, label in zip(cells.tolist(), labels.tolist()):
            for f in _FACES:
                face = (cell[f[0]], cell[f[1]], cell[f[2]])
                if not (face[0] in centres or face[1] in centres or face[2] in centres):
                    continue
                key = tuple(sorted(face))
                if key in seen:
                    if seen.pop(key) != label:
                        surface.append(face)
                elif self._boundary_face(face):
                    surface.append(face)
                else:
                    seen[key] = label
        if not surface:
            return 1.0
        return float(triangle_quality(self.x, np.array(surface)).min())

    def _link(self, v: int, star: set[int]) -> tuple[set, set, set]:
        """Vertices, edges and triangles of the link of v (the virtual vertex closes the box)."""
        verts, edges, tris = set(), set(), set()
        for t in star:
            other = tuple(sorted(w for w in self.cells[t].tolist() if w != v))
            tris.add(other)
            verts.update(other)
            edges.update({(other[0], other[1]), (other[0], other[2]), (other[1], other[2])})
            for face in ((other[0], other[1]), (other[0], other[2]), (other[1], other[2])):
                if self._boundary_face((v,) + face):
                    verts.add(_OUTSIDE)
                    tris.add((_OUTSIDE,) + face)
                    edges.update({(_OUTSIDE, face[0]), (_OUTSIDE, face[1])})
        return verts, edges, tris

    def _boundary_face(self, face) -> bool:
        """True if the three vertices lie on one box plane (then the face is on the box)."""
        bits = self._plane_bits
        return (bits[face[0]] & bits[face[1]] & bits[face[2]]) != 0

    def _link_condition(self, a: int, b: int, star_a, star_b, shared) -> bool:
        va, ea, ta = self._link(a, star_a)
        vb, eb, tb = self._link(b, star_b)
        v_ab, e_ab = set(), set()
        for t in shared:
            other = tuple(sorted(w for w in self.cells[t].tolist() if w not in (a, b)))
            v_ab.update(other)
            e_ab.add(other)
            for w in other:
                if self._boundary_face((a, b, w)):
                    v_ab.add(_OUTSIDE)
                    e_ab.add((_OUTSIDE, w))
        return (va & vb) == v_ab and (ea & eb) == e_ab and not (ta & tb)

    def result(self):
        return self.x, self.cells[self.alive], self.labels[self.alive]

