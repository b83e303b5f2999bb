"""Each MPI rank's share of a segmented image: a contiguous range of x-planes plus a halo.

:func:`read_rank_planes` reads an image (an in-memory array, or an
:class:`femiec.meshing.image_source.ImageSource` read slab by slab from a file) in two passes:

1. every rank scans an equal share of the slabs: the label check (0..255), the histogram of the values
   and the number of selected voxels on every x-plane, summed over the ranks;
2. the planes are cut into ranges holding about the same number of selected voxels
   (:func:`balanced_planes`, ranks in order along x) and each rank keeps its own range plus ``halo``
   planes on each side.

So the image memory per rank is its share of the planes (1/ranks of the image) plus the halo and one
slab of the scan, whatever the size of the whole image. With an array already in memory the planes kept
are a view of it (no copy). :meth:`RankPlanes.fill_halo` fills the halo planes of any per-voxel array
computed on the owned planes (e.g. a cluster mask) from the ranks that own them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femiec.errors import InputError
from femiec.meshing.image_source import ImageSource


def balanced_planes(counts: np.ndarray, parts: int) -> np.ndarray:
    """Plane bounds (parts + 1 values, from 0 to len(counts)) of ``parts`` contiguous ranges of planes
    holding about the same total of ``counts`` (per-plane counts): range r is [bounds[r], bounds[r+1]),
    the smallest cut with at least r/parts of the total before it."""
    offsets = np.concatenate([[0], np.cumsum(counts)])
    targets = offsets[-1] * np.arange(parts + 1) / parts
    cuts = np.searchsorted(offsets, targets, side="left").clip(0, len(counts))
    cuts[0], cuts[-1] = 0, len(counts)
    return np.maximum.accumulate(cuts).astype(np.int64)


@dataclass
class RankPlanes:
    """This rank's planes of an image of ``shape``: ``data`` holds planes [start, start + len(data)), of
    which the rank owns ``own`` = (i0, i1) (``bounds`` of every rank: rank r owns [bounds[r],
    bounds[r+1])); ``counts[i]`` selected voxels on plane i and ``histogram[v]`` voxels of value v, both of
    the whole image; ``halo`` planes kept on each side of the owned ones (fewer at the ends)."""

    data: np.ndarray
    start: int
    bounds: np.ndarray
    rank: int
    shape: tuple[int, int, int]
    counts: np.ndarray
    histogram: np.ndarray
    halo: int

    @property
    def own(self) -> tuple[int, int]:
        return int(self.bounds[self.rank]), int(self.bounds[self.rank + 1])

    def held(self, rank: int) -> tuple[int, int]:
        """Planes kept by ``rank``: its own range and its halo (also for a rank owning no plane: the last
        rank of a voxel mesh owns the last vertex plane and needs the voxels before it)."""
        i0, i1 = int(self.bounds[rank]), int(self.bounds[rank + 1])
        return max(i0 - self.halo, 0), min(i1 + self.halo, self.shape[0])

    def planes(self, i0: int, i1: int) -> np.ndarray:
        """Planes i0..i1-1 of the image (within the planes kept)."""
        if not self.start <= i0 <= i1 <= self.start + len(self.data):
            raise IndexError(f"planes {i0}..{i1} outside the planes kept {self.start}..{self.start + len(self.data)}")
        return self.data[i0 - self.start:i1 - self.start]

    def owned(self) -> np.ndarray:
        return self.planes(*self.own)

    def selection(self, phases, i0: int | None = None, i1: int | None = None) -> np.ndarray:
        """Boolean mask of the voxels of ``phases`` (None: all) on planes i0..i1-1 (default: all planes
        kept); a 256-entry lookup, one byte per voxel (np.isin would take about seven)."""
        data = self.data if i0 is None else self.planes(i0, i1)
        return np.ones(data.shape, dtype=bool) if phases is None else phase_table(phases)[data]

    def lookup(self, ijk: np.ndarray, outside):
        """Image values at the voxel indices ``ijk`` (n x 3; planes within those kept), ``outside`` where
        the index is outside the image."""
        valid = np.all((ijk >= 0) & (ijk < self.shape), axis=1)
        out = np.full(len(ijk), outside, dtype=np.int32 if self.data.dtype != bool else bool)
        i, j, k = ijk[valid].T
        if i.size and (i.min() < self.start or i.max() >= self.start + len(self.data)):
            raise IndexError(f"voxel planes {i.min()}..{i.max()} outside the planes kept "
                             f"{self.start}..{self.start + len(self.data) - 1}")
        out[valid] = self.data[i - self.start, j, k]
        return out

    def gathered(self, lo: int, hi: int, comm) -> np.ndarray:
        """Planes lo..hi-1 of the image, each rank its own range (clipped to the image): a view of the
        planes kept when every rank keeps its range, else a copy from the ranks owning them. Collective."""
        from mpi4py import MPI

        lo, hi = max(int(lo), 0), min(int(hi), self.shape[0])
        kept = hi <= lo or self.start <= lo <= hi <= self.start + len(self.data)
        if comm.allreduce(kept, op=MPI.LAND):
            return self.data[lo - self.start:hi - self.start] if hi > lo else self.data[:0]
        out = np.empty((max(hi - lo, 0), *self.shape[1:]), dtype=self.data.dtype)
        _exchange(comm, self.bounds, self.data, self.start, comm.allgather((lo, hi)), out, lo)
        return out

    def fill_halo(self, array: np.ndarray, comm) -> np.ndarray:
        """Fill the halo planes of a per-voxel ``array`` over the planes kept (shape of ``data``, given on
        the owned planes) from the ranks owning them, in place (collective); returns ``array``."""
        ranges = [self.held(r) for r in range(comm.size)]
        _exchange(comm, self.bounds, array, self.start, ranges, array, self.start)
        return array

    def repartitioned(self, data: np.ndarray, counts: np.ndarray, histogram: np.ndarray, comm, shift: int = 0,
                      fill=0) -> RankPlanes:
        """The planes of an image derived from this one plane by plane: plane i of ``data`` (a per-voxel
        array over the planes kept, given on the owned planes) is plane i + ``shift`` of an image of
        ``len(counts)`` planes whose other planes hold ``fill``; ``counts`` and ``histogram`` are those of
        the new image, cut anew by ``counts`` (:func:`balanced_planes`) with the same halo. Collective."""
        bounds = balanced_planes(counts, comm.size)
        shape = (len(counts), *data.shape[1:])
        out = RankPlanes(data[:0], 0, bounds, self.rank, shape, counts, histogram, self.halo)
        lo, hi = out.held(self.rank)
        out.data, out.start = np.full((hi - lo, *shape[1:]), fill, dtype=data.dtype), lo
        _exchange(comm, self.bounds + shift, data, self.start + shift, [out.held(r) for r in range(comm.size)],
                  out.data, lo)
        return out


def _exchange(comm, bounds, source: np.ndarray, source_start: int, ranges, target: np.ndarray,
              target_start: int) -> None:
    """Copy the planes every rank r owns (bounds[r]..bounds[r+1]-1; plane i is ``source[i - source_start]``)
    to every rank whose range of planes ``ranges[r]`` = (lo, hi) holds them (plane i to ``target[i -
    target_start]``), in place. Collective."""
    i0, i1 = int(bounds[comm.rank]), int(bounds[comm.rank + 1])
    requests = []
    for r, (lo, hi) in enumerate(ranges):
        a, b = max(lo, i0), min(hi, i1)
        if a >= b:
            continue
        planes = source[a - source_start:b - source_start]
        if r == comm.rank:
            target[a - target_start:b - target_start] = planes
        else:
            requests.append(comm.Isend(np.ascontiguousarray(planes), dest=r, tag=7))
    lo, hi = ranges[comm.rank]
    for r in range(comm.size):
        a, b = max(lo, int(bounds[r])), min(hi, int(bounds[r + 1]))
        if r != comm.rank and a < b:
            comm.Recv(target[a - target_start:b - target_start], source=r, tag=7)
    for request in requests:
        request.Wait()


def phase_table(phases) -> np.ndarray:
    """256 booleans, True at the image values ``phases`` (labels 0..255)."""
    table = np.zeros(256, dtype=bool)
    table[[int(p) for p in phases if 0 <= int(p) <= 255]] = True
    return table


def read_rank_planes(image, comm, phases, halo: int = 1, key: str = "image values",
                     remap_hint: str = "see remap_labels", require_phases: bool = True) -> RankPlanes:
    """This rank's planes of ``image`` (an array indexed [ix, iy, iz], the same on every rank, or an
    ImageSource), cut so that every rank owns about as many voxels of ``phases`` (None: all voxels) (module
    doc); ``halo`` planes kept on each side of the owned ones. InputError for an image that is not 3D or
    not of integer type (:func:`femiec.meshing.voxel.check_image_type`), a value outside 0..255 (named
    ``key``, suggesting ``remap_hint``), a phase absent from the image (:func:`check_phases_present`;
    unless not ``require_phases``: the caller checks the histogram). Collective."""
    from mpi4py import MPI

    from femiec.meshing.image_source import slab_planes
    from femiec.meshing.voxel import check_image_type, check_labels

    array = None if isinstance(image, ImageSource) else np.asarray(image)
    shape = tuple(int(n) for n in (image.shape if array is None else array.shape))
    dtype = np.dtype((image if array is None else array).dtype)
    check_image_type(shape, dtype)

    def read(i0, i1):
        return array[i0:i1] if array is not None else image.read(i0, i1)

    step = slab_planes(shape, 1 << 21)
    slabs = [(i0, min(i0 + step, shape[0])) for i0 in range(0, shape[0], step)]
    counts, histogram = np.zeros(shape[0], dtype=np.int64), np.zeros(256, dtype=np.int64)
    selected = None if phases is None else np.asarray(sorted(int(p) for p in phases), dtype=np.int64)
    table = None if phases is None else phase_table(selected)
    large = set()
    for i0, i1 in slabs[len(slabs) * comm.rank // comm.size:len(slabs) * (comm.rank + 1) // comm.size]:
        slab = read(i0, i1)
        if slab.size and (slab.min() < 0 or slab.max() > 255):
            large.update(np.unique(slab[(slab < 0) | (slab > 255)]).tolist())
            continue
        histogram += np.bincount(slab.ravel().astype(np.intp), minlength=256)
        counts[i0:i1] = slab[0].size if selected is None else table[slab].sum(axis=(1, 2))
    large = sorted(set().union(*comm.allgather(large)))
    if large:
        check_labels(np.array(large), key, remap_hint)
    comm.Allreduce(MPI.IN_PLACE, counts, op=MPI.SUM)
    comm.Allreduce(MPI.IN_PLACE, histogram, op=MPI.SUM)
    if require_phases and phases is not None:
        check_phases_present(phases, histogram)
    bounds = balanced_planes(counts, comm.size)
    planes = RankPlanes(np.zeros((0, *shape[1:]), dtype=dtype), 0, bounds, comm.rank, shape, counts, histogram,
                        halo)
    lo, hi = planes.held(comm.rank)
    planes.data, planes.start = read(lo, hi), lo
    return planes


def check_phases_present(phases, histogram: np.ndarray) -> None:
    """InputError ``phases`` unless every one of ``phases`` (at least one) is a value of the image whose
    ``histogram`` (256 voxel counts) is given."""
    if len(phases) == 0 or any(not (0 <= int(p) <= 255 and histogram[int(p)]) for p in phases):
        raise InputError("phases", list(phases), f"values present in the image {np.flatnonzero(histogram).tolist()}")


def percolating_planes(planes: RankPlanes, phases, axis, comm) -> RankPlanes:
    """The planes of the image where the voxels of ``phases`` outside the 6-connected clusters spanning
    ``axis`` ("x", "y" or "z") get :func:`femiec.meshing.tomography.unmeshed_value` (as
    :func:`femiec.meshing.tomography.keep_percolating` on the whole image): the clusters of the owned
    planes joined across the ranks (:func:`femiec.meshing.slab_clusters.label_clusters`), the planes cut
    anew by the voxels of ``phases`` left; the InputError of keep_percolating if no cluster spans.
    Collective."""
    from mpi4py import MPI

    from femiec.meshing.slab_clusters import label_clusters
    from femiec.meshing.tomography import no_percolation_error

    i0, i1 = planes.own
    labels, clusters = label_clusters(planes.selection(phases, i0, i1), comm)
    kept = clusters.spanning("xyz".index(axis))[labels]
    del labels
    if not comm.allreduce(bool(kept.any()), op=MPI.LOR):
        raise no_percolation_error(axis, int(planes.counts.sum()), list(phases))
    return kept_planes(planes, phases, kept, comm)


def kept_planes(planes: RankPlanes, phases, kept: np.ndarray, comm) -> RankPlanes:
    """The planes of the image where the voxels of ``phases`` of this rank's owned planes not marked in
    ``kept`` (a boolean array of the owned planes' shape) get :func:`femiec.meshing.tomography.unmeshed_value`,
    cut anew by the voxels of ``phases`` left (their halo planes from their owners). Collective."""
    from mpi4py import MPI

    from femiec.meshing.tomography import unmeshed_value

    i0, i1 = planes.own
    data = planes.data.copy()
    own = data[i0 - planes.start:i1 - planes.start]
    own[planes.selection(phases, i0, i1) & ~kept] = unmeshed_value(phases)
    counts = np.zeros_like(planes.counts)
    counts[i0:i1] = kept.sum(axis=(1, 2))
    histogram = np.bincount(own.ravel().astype(np.intp), minlength=256).astype(np.int64)
    comm.Allreduce(MPI.IN_PLACE, counts, op=MPI.SUM)
    comm.Allreduce(MPI.IN_PLACE, histogram, op=MPI.SUM)
    return planes.repartitioned(data, counts, histogram, comm)


def padded_planes(planes: RankPlanes, phases, face: str, voxels: int, value: int, comm,
                  key: str = "pad") -> RankPlanes:
    """The planes of the image with a layer of ``voxels`` voxels of ``value`` on box ``face`` (as
    :func:`femiec.meshing.tomography.pad_face` on the whole image; the InputErrors of check_pad and of a
    value outside 0..255), cut anew by the voxels of ``phases``. Collective."""
    from femiec.meshing.tomography import BOX_FACES, check_pad, pad_face
    from femiec.meshing.voxel import check_labels

    check_pad(face, voxels, value, planes.data.dtype, key)
    check_labels(np.array([value]))
    axis, index = BOX_FACES[face]
    selected = value in {int(p) for p in phases}
    histogram = planes.histogram.copy()
    if axis > 0:
        layer = int(voxels) * planes.shape[3 - axis]  # voxels of the layer on one x-plane
        histogram[value] += layer * planes.shape[0]
        return planes.repartitioned(pad_face(planes.data, face, voxels, value, key),
                                    planes.counts + (layer if selected else 0), histogram, comm)
    layer = np.full(int(voxels), planes.shape[1] * planes.shape[2] if selected else 0, dtype=np.int64)
    histogram[value] += int(voxels) * planes.shape[1] * planes.shape[2]
    counts = np.concatenate([planes.counts, layer] if index == -1 else [layer, planes.counts])
    return planes.repartitioned(planes.data, counts, histogram, comm, shift=0 if index == -1 else int(voxels),
                                fill=value)


def planes_phase_report(planes: RankPlanes, comm, voxel_size=1.0, names: dict[int, str] | None = None) -> dict:
    """:func:`femiec.meshing.tomography.phase_report` of the image whose planes the ranks hold (at least
    one halo plane): the same keys and numbers (integer counts summed over the ranks, the clusters joined
    across them: femiec.meshing.slab_clusters). Collective."""
    from femiec.meshing.slab_clusters import label_clusters
    from femiec.meshing.voxel import voxel_spacing

    d = voxel_spacing(voxel_size)
    face_area = np.array([d[1] * d[2], d[0] * d[2], d[0] * d[1]])
    size = int(np.prod(planes.shape))
    i0, i1 = planes.own
    own = planes.owned()
    after = planes.planes(i1, i1 + 1) if i1 < planes.start + len(planes.data) else own[:0]
    report = {}
    for value in np.flatnonzero(planes.histogram).tolist():
        labels, clusters = label_clusters(own == value, comm)
        spanning = [int(np.count_nonzero(clusters.spanning(axis)[labels])) for axis in range(3)]
        faces = []
        for axis in range(3):  # faces between a voxel of value and another value (x: also to the next plane)
            block = np.concatenate([own, after]) if axis == 0 else own
            n = block.shape[axis]
            lo, up = np.take(block, np.arange(n - 1), axis=axis), np.take(block, np.arange(1, n), axis=axis)
            faces.append(int(np.count_nonzero((lo != up) & ((lo == value) | (up == value)))))
        spanning, faces = comm.allreduce(np.array(spanning)), comm.allreduce(np.array(faces))
        voxels = int(planes.histogram[value])
        report[(names or {}).get(value, f"phase{value}")] = {
            "value": value,
            "volume_fraction": float(voxels / size),
            "specific_surface_area_per_m": float(faces @ face_area / (size * np.prod(d))),
            "percolating_fraction": {ax: float(spanning[a] / voxels) for a, ax in enumerate("xyz")},
        }
    return report
