"""6- or 26-connected clusters of an image held in slabs of x-planes, joined across slabs and MPI ranks.

Each rank labels its slabs one at a time (``scipy.ndimage.label`` with face connectivity,
:func:`femiec.meshing.tomography.face_clusters`, or with the full 3x3x3 structure for ``connectivity =
"vertex"``: voxels sharing a face, an edge or a corner, as the Q1 voxel mesh joins them,
:func:`vertex_clusters`) and hands the labels to :meth:`SlabClusters.add`, in increasing x. A cluster
crossing the plane between two consecutive slabs has a label on either side; the pairs of labels facing
each other across those planes (between the slabs of one rank, and between the last slab of a rank and
the first of the next one) join the labels into the clusters of the whole image: the connected
components of that graph (:meth:`SlabClusters.join`, one collective). "Facing": the voxel (y, z) of the
last plane of a slab and the voxel (y, z) of the first plane of the next ("face"), or any voxel (y + dy,
z + dz) of it, |dy|, |dz| <= 1 ("vertex": across the plane through a face, an edge or a corner). Each label also
remembers the box faces it touches, so a cluster spans axis a when it touches both faces normal to a.

Global label of a voxel: its label in its slab + the slab's offset (:attr:`SlabClusters.offsets`, set by
``add`` on the rank and shifted by the labels of the ranks before it at ``join``); 0 is the background.
Memory: one slab's labels at a time, plus its two end planes and the labels on the box faces.
"""
from __future__ import annotations

import numpy as np


class SlabClusters:
    """The clusters of an image whose slabs of x-planes are labelled one by one on each rank (module doc).

    Args:
        comm: mpi4py communicator; rank r holds x-planes before those of rank r + 1.
        connectivity: ``"face"`` (6-connected clusters) or ``"vertex"`` (26-connected); the slabs added
            must be labelled with the same connectivity (:func:`slab_labels`).
    """

    def __init__(self, comm, connectivity: str = "face"):
        from femiec.errors import InputError
        from femiec.meshing.voxel import CONNECTIVITIES

        if connectivity not in CONNECTIVITIES:
            raise InputError("connectivity", connectivity, f"one of {list(CONNECTIVITIES)}")
        self.comm = comm
        self.connectivity = connectivity
        self.offsets: list[int] = []  # global label offset of each slab added on this rank (after join)
        self.voxels = 0  # labelled voxels on this rank
        self._total = 0  # labels on this rank
        self._edges: list[np.ndarray] = []
        self._faces: list[list[np.ndarray]] = [[] for _ in range(6)]  # labels on xmin, xmax, ymin, ... zmax
        self._first = self._last = None
        self.component: np.ndarray | None = None

    def add(self, labels: np.ndarray, count: int) -> None:
        """The labels (1..count, 0 outside the clusters) of this rank's next slab; they are shifted in place
        to this rank's numbering (add the rank's shift, :attr:`offsets` after :meth:`join`, for global)."""
        self.voxels += int(np.count_nonzero(labels))
        if self._total:
            np.add(labels, self._total, out=labels, where=labels > 0)
        self.offsets.append(self._total)
        self._total += int(count)
        if self._first is None:
            self._first = labels[0].copy()
        else:
            self._edges.append(_facing(self._last, labels[0], self.connectivity))
        self._last = labels[-1].copy()
        for axis in (1, 2):
            self._faces[2 * axis].append(_present(np.take(labels, 0, axis=axis)))
            self._faces[2 * axis + 1].append(_present(np.take(labels, -1, axis=axis)))

    def join(self) -> None:
        """Join the labels of every rank into clusters (collective): :attr:`component` maps each global
        label to its cluster (the background, label 0, is a cluster of its own), the same on every rank."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        comm = self.comm
        shift = (comm.exscan(self._total) or 0) if comm.size > 1 else 0
        self.offsets = [o + shift for o in self.offsets]
        ends = None if self._first is None else tuple(_shifted(p, shift) for p in (self._first, self._last))
        faces = [[f + shift for f in face] for face in self._faces]
        parts = comm.allgather((self._total, ends, [e + shift for e in self._edges], faces))
        n_labels = sum(part[0] for part in parts) + 1
        edges = [e for part in parts for e in part[2]]
        held = [part[1] for part in parts if part[1] is not None]
        edges += [_facing(lower[1], upper[0], self.connectivity) for lower, upper in zip(held[:-1], held[1:])]
        pairs = np.concatenate(edges, axis=1) if edges else np.zeros((2, 0), dtype=np.int64)
        graph = coo_matrix((np.ones(pairs.shape[1]), (pairs[0], pairs[1])), shape=(n_labels, n_labels))
        _, self.component = connected_components(graph, directed=False)  # label 0 alone in its own
        on_face = [np.concatenate([np.zeros(0, np.int64)] + [f for part in parts for f in part[3][face]])
                   for face in range(6)]
        if held:  # the x faces: the first plane of the first rank holding planes, the last of the last
            on_face[0], on_face[1] = _present(held[0][0]), _present(held[-1][1])
        self._face_components = [np.unique(self.component[labels]) for labels in on_face]
        self.voxels = comm.allreduce(self.voxels)

    def spanning(self, axis: int) -> np.ndarray:
        """``spanning[g]``: the cluster of global label g touches both faces normal to ``axis`` (0, 1, 2);
        False for the background. After :meth:`join`."""
        return self._of_components(np.intersect1d(self._face_components[2 * axis],
                                                  self._face_components[2 * axis + 1]))

    def touching(self, face: int) -> np.ndarray:
        """``touching[g]``: the cluster of global label g touches box face ``face`` (0..5: xmin, xmax, ymin,
        ymax, zmin, zmax); False for the background. After :meth:`join`."""
        return self._of_components(self._face_components[face])

    def _of_components(self, components: np.ndarray) -> np.ndarray:
        selected = np.isin(self.component, components)
        selected[0] = False
        return selected


def vertex_clusters(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """The 26-connected clusters of a boolean mask (voxels sharing a face, an edge or a corner): (labels
    1..n, 0 outside; n)."""
    from scipy.ndimage import label

    return label(mask, structure=np.ones((3, 3, 3), dtype=bool))


def slab_labels(mask: np.ndarray, connectivity: str = "face") -> tuple[np.ndarray, int]:
    """(labels, count) of the clusters of ``connectivity`` ("face": 6-, "vertex": 26-connected) of one
    slab's mask, as :meth:`SlabClusters.add` takes them."""
    from femiec.meshing.tomography import face_clusters

    return face_clusters(mask) if connectivity == "face" else vertex_clusters(mask)


def label_clusters(mask: np.ndarray, comm, connectivity: str = "face") -> tuple[np.ndarray, SlabClusters]:
    """(global labels, joined :class:`SlabClusters` of ``connectivity``) of ``mask``, this rank's planes
    (one slab; rank r's before rank r + 1's, possibly none); the labels are 4-byte integers while the
    global count fits. Collective."""
    clusters = SlabClusters(comm, connectivity)
    labels, count = slab_labels(mask, connectivity) if len(mask) else (np.zeros(mask.shape, dtype=np.int32), 0)
    if len(mask):
        clusters.add(labels, count)
    clusters.join()
    if len(clusters.component) >= np.iinfo(labels.dtype).max:
        labels = labels.astype(np.int64)
    if len(mask):
        np.add(labels, clusters.offsets[0], out=labels, where=labels > 0, casting="unsafe")
    return labels, clusters


def _present(plane: np.ndarray) -> np.ndarray:
    """The distinct labels (not the background 0) of a plane."""
    labels = np.unique(plane)
    return labels[labels > 0].astype(np.int64)


def _shifted(plane: np.ndarray, shift: int) -> np.ndarray:
    return np.where(plane > 0, plane.astype(np.int64) + shift, 0)


def _facing(lower: np.ndarray, upper: np.ndarray, connectivity: str = "face") -> np.ndarray:
    """(2, n) distinct pairs of labels facing each other across a plane (both nonzero): lower[y, z] with
    upper[y, z] ("face"), or with upper[y + dy, z + dz] for |dy|, |dz| <= 1 ("vertex")."""
    ny, nz = lower.shape
    shifts = [(0, 0)] if connectivity == "face" else [(dy, dz) for dy in (-1, 0, 1) for dz in (-1, 0, 1)]
    pairs = []
    for dy, dz in shifts:  # lower[y, z] against upper[y + dy, z + dz], both inside the plane
        a = lower[max(-dy, 0):ny - max(dy, 0), max(-dz, 0):nz - max(dz, 0)]
        b = upper[max(dy, 0):ny - max(-dy, 0), max(dz, 0):nz - max(-dz, 0)]
        both = (a > 0) & (b > 0)
        pairs.append(np.stack([a[both], b[both]]).astype(np.int64))
    return np.unique(np.concatenate(pairs, axis=1), axis=1)
