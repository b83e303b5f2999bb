"""What the voxel mesh of an image section would be, found by scanning the image slab by slab without
building the mesh (``femiec validate`` without ``--build``); memory of the order of one slab.

The scan reads the (cropped, remapped) image of an ``[mesh] kind = "image"`` section through
:func:`femiec.meshing.image_source.open_image_crop` and gives, with the same InputErrors as building the
mesh (:func:`femiec.runner.build_mesh`, :func:`femiec.meshing.voxel.voxel_mesh`):

- the label check (every value 0..255) and the integer type;
- with ``percolating_axis``: the clusters of the meshed phases spanning that axis. Each slab is labelled
  on its own (6-connected, ``scipy.ndimage.label``); a cluster crossing from one slab into the next has a
  label on both sides of the plane between them, and the pairs of labels facing each other across those
  planes join the labels into clusters of the whole image (connected components of that graph:
  femiec.meshing.slab_clusters). Voxels of clusters that do not span the axis get the value the built
  mesh gives them (:func:`femiec.meshing.tomography.unmeshed_value`), in a second pass, slab by slab;
- ``pad``: the constant layer, as slabs of its own (x faces) or added to every slab (y and z faces);
- per image value its voxel count; per box face the number of faces of meshed voxels on it; per pair of
  values (a < b, one of them meshed) the number of voxel faces between them: the facet tags the mesh would
  have (xmin..zmax always, interfaces ``"<name_a>|<name_b>"`` when they have facets) and how many facets
  each holds.

On several ranks each rank scans a contiguous range of slabs; counts are summed and the planes at the
ends of each range are exchanged, so every rank gets the same outline.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from femiec.meshing.base import BOX_FACETS, TagNames
from femiec.meshing.image_source import ImageSource, open_image_crop, slab_planes
from femiec.meshing.slab_clusters import SlabClusters
from femiec.meshing.tomography import (BOX_FACES, check_pad, face_clusters, no_percolation_error, pad_face,
                                       unmeshed_value)
from femiec.meshing.rank_planes import check_phases_present
from femiec.meshing.voxel import INTERFACE_BASE, check_image_type, check_labels, voxel_spacing


@dataclass
class ImageScan:
    """Counts of a scanned (final) image: ``counts[v]`` voxels of value v (0..255), ``box[tag]`` faces of
    meshed voxels on box face ``tag`` (1..6), ``pairs[256 a + b]`` faces between values a < b with a meshed
    voxel on one side; ``shape`` of the image after padding."""

    counts: np.ndarray
    box: np.ndarray
    pairs: np.ndarray
    shape: tuple[int, int, int]


@dataclass
class ImageMeshOutline(TagNames):
    """The tags of the voxel mesh an image section would give, without the mesh: the names of
    :class:`femiec.meshing.base.MeshData` (``cell_names``, ``facet_names``; the same lookups), the number
    of facets of every facet tag and the voxel size; ``from_image`` is True."""

    cell_names: dict[str, int]
    facet_names: dict[str, int]
    facet_counts: dict[str, int]
    info: dict = field(default_factory=dict)
    from_image = True
    has_facet_tags = True

    def facet_count(self, name: str) -> int:
        """Number of facets the mesh would tag ``name``."""
        return self.facet_counts.get(name, 0)

    #: dimension of the mesh (voxel meshes are 3D)
    dim = 3

    def smallest_cell_size(self) -> float:
        """Diameter of a voxel cell [m]: its space diagonal (every cell of a voxel mesh has it)."""
        return float(np.linalg.norm(self.info["voxel_size_m"]))

    def bounding_box(self):
        """(lower, upper) corners [m] of the voxel mesh: the origin and the image shape times the voxel size
        (a mesh of some phases only may be smaller; the box of the image bounds it)."""
        return np.zeros(3), np.asarray(self.info["image_shape"], dtype=float) * self.info["voxel_size_m"]


def outline_image_mesh(section, comm, planes: int | None = None) -> ImageMeshOutline:
    """The :class:`ImageMeshOutline` of an ``[mesh] kind = "image"`` section, scanning ``planes`` x-planes
    per slab (default about 8 M voxels), after a memory warning for the meshed voxels (as build_mesh)."""
    from femiec.plausibility import MESH_BYTES_PER_CELL, warn_memory
    from femiec.sections import remap_table

    image = open_image_crop(section.file, section.shape, section.dtype, section.crop, key="mesh.crop",
                            dataset=section.dataset, remap=remap_table(section.remap), prefix="mesh.")
    phases = sorted(section.phases.values())
    scan = scan_image(image, comm, phases, "mesh.file", "map them with mesh.remap = { <value> = <label> }",
                      section.percolating_axis, section.pad, planes)
    warn_memory("mesh.file", int(scan.counts[phases].sum()), "voxels to mesh", MESH_BYTES_PER_CELL)
    check_phases_present(phases, scan.counts)  # as voxel_mesh's read_rank_planes
    present = np.flatnonzero(scan.counts).tolist()
    names = {value: name for name, value in section.phases.items()}
    if section.mesher == "conforming":
        from femiec.meshing.conforming import check_conforming_phases

        check_conforming_phases(present, names)
    all_names = {v: names.get(v, f"phase{v}") for v in present}
    facet_names, facet_counts = dict(BOX_FACETS), {name: int(scan.box[tag]) for name, tag in BOX_FACETS.items()}
    for code in np.flatnonzero(scan.pairs).tolist():
        a, b = divmod(code, 256)
        facet_names[f"{all_names[a]}|{all_names[b]}"] = INTERFACE_BASE + code
        facet_counts[f"{all_names[a]}|{all_names[b]}"] = int(scan.pairs[code])
    info = {"source": "voxel image (scanned, not meshed)", "image_shape": list(scan.shape),
            "voxel_size_m": voxel_spacing(section.voxel_size).tolist(), "phases": phases,
            "mesher": section.mesher}
    outline = ImageMeshOutline({names[v]: v for v in phases}, facet_names, facet_counts, info)
    outline.from_image = section.mesher == "voxel"  # a conforming mesh is not a voxel mesh
    return outline


def scan_image(image: ImageSource, comm, phases, key: str, remap_hint: str, percolating_axis: str | None = None,
               pad=None, planes: int | None = None) -> ImageScan:
    """Counts of ``image`` (labels checked, InputError named ``key`` suggesting ``remap_hint``) after
    keeping only the clusters of ``phases`` spanning ``percolating_axis`` and adding ``pad`` (a section
    with face, voxels, value), scanned slab by slab; the meshed voxels are those of ``phases``.
    Collective."""
    from mpi4py import MPI

    slabs = image.slabs(planes or slab_planes(image.shape))
    mine = slabs[len(slabs) * comm.rank // comm.size: len(slabs) * (comm.rank + 1) // comm.size]
    meshed = np.zeros(256, dtype=bool)
    meshed[phases] = True
    # labels 0..255 and an integer type (one read of the slabs), then the spanning clusters (one more)
    large = set()
    for i0, i1 in mine:
        slab = image.read(i0, i1)
        if slab.size and (slab.min() < 0 or slab.max() > 255):
            large.update(np.unique(slab[(slab < 0) | (slab > 255)]).tolist())
    large = sorted(set().union(*comm.allgather(large)))
    if large:
        check_labels(np.array(large), key, remap_hint)
    check_image_type(image.shape, image.dtype)
    spanning = None if percolating_axis is None else _spanning_clusters(image, mine, meshed, percolating_axis,
                                                                        phases, comm)
    if pad is not None:
        check_pad(pad.face, pad.voxels, pad.value, image.dtype, key="mesh.pad")
        check_labels(np.array([pad.value]))
    # the final image, slab by slab (one more read)
    counts, box, pairs = np.zeros(256, np.int64), np.zeros(7, np.int64), np.zeros(65536, np.int64)
    ends = [None, None]  # first and last x-plane of this rank's part of the final image
    for slab in _final_slabs(image, mine, meshed, spanning, pad, comm):
        slab = slab.astype(np.uint8, copy=False)  # labels 0..255 (checked)
        counts += np.bincount(slab.ravel(), minlength=256)
        selected = meshed[slab]
        for axis in (1, 2):
            box[2 * axis + 1] += int(np.take(selected, 0, axis=axis).sum())
            box[2 * axis + 2] += int(np.take(selected, -1, axis=axis).sum())
            _count_pairs(pairs, np.take(slab, range(slab.shape[axis] - 1), axis=axis),
                         np.take(slab, range(1, slab.shape[axis]), axis=axis), meshed)
        if ends[1] is not None:
            _count_pairs(pairs, ends[1][None], slab[:1], meshed)
        _count_pairs(pairs, slab[:-1], slab[1:], meshed)
        ends = [slab[0].copy() if ends[0] is None else ends[0], slab[-1].copy()]
    comm.Allreduce(MPI.IN_PLACE, counts, op=MPI.SUM)
    comm.Allreduce(MPI.IN_PLACE, box, op=MPI.SUM)
    comm.Allreduce(MPI.IN_PLACE, pairs, op=MPI.SUM)
    ends = [e for e in comm.allgather(ends) if e[0] is not None]
    for (_, last), (first, _) in zip(ends[:-1], ends[1:]):  # faces between the ranks' parts
        _count_pairs(pairs, last[None], first[None], meshed)
    box[1], box[2] = int(meshed[ends[0][0]].sum()), int(meshed[ends[-1][1]].sum())
    nx = int(sum(counts)) // (ends[0][0].size)
    return ImageScan(counts, box, pairs, (nx, *ends[0][0].shape))


def _count_pairs(pairs: np.ndarray, lower: np.ndarray, upper: np.ndarray, meshed: np.ndarray) -> None:
    """Add to ``pairs[256 a + b]`` the faces between the voxels ``lower`` and ``upper`` (same shape) of
    values a < b with at least one of the two meshed."""
    if lower.size == 0:
        return
    between = (lower != upper) & (meshed[lower] | meshed[upper])
    a, b = lower[between].astype(np.uint16), upper[between].astype(np.uint16)
    pairs += np.bincount(256 * np.minimum(a, b) + np.maximum(a, b), minlength=65536)


def _spanning_clusters(image, mine, meshed, axis: str, phases, comm) -> tuple[np.ndarray, list[int]]:
    """(spanning, offsets): ``spanning[g]`` is True for the global label g (offset of its slab + its label
    in the slab) of a cluster of meshed voxels spanning ``axis``; ``offsets`` of this rank's slabs
    (femiec.meshing.slab_clusters). InputError (as keep_percolating) when none does. Collective."""
    clusters = SlabClusters(comm)
    for i0, i1 in mine:
        clusters.add(*face_clusters(meshed[image.read(i0, i1).astype(np.uint8, copy=False)]))
    clusters.join()
    spanning = clusters.spanning("xyz".index(axis))
    if not spanning.any():
        raise no_percolation_error(axis, clusters.voxels, list(phases))
    return spanning, clusters.offsets


def _final_slabs(image, mine, meshed, spanning, pad, comm):
    """This rank's slabs of the image the mesh is built from: non-spanning clusters set to the unmeshed
    value, the pad added (its x-layers as slabs of their own on the first or the last rank)."""
    phases = np.flatnonzero(meshed).tolist()
    spanning, offsets = spanning if spanning is not None else (None, None)
    axis_face = None if pad is None else BOX_FACES[pad.face][0]
    ny_nz = image.shape[1:]
    if pad is not None and axis_face == 0:
        layer = (pad.voxels, *ny_nz)
        if pad.face == "xmin" and comm.rank == 0:
            yield np.full(layer, pad.value, dtype=image.dtype)
    for n, (i0, i1) in enumerate(mine):
        slab = image.read(i0, i1)
        if spanning is not None:
            selected = meshed[slab.astype(np.uint8, copy=False)]
            labels, _ = face_clusters(selected)
            labels[labels > 0] += offsets[n]
            slab[selected & ~spanning[labels]] = unmeshed_value(phases)
        if pad is not None and axis_face > 0:
            slab = pad_face(slab, pad.face, pad.voxels, pad.value, key="mesh.pad")
        yield slab
    if pad is not None and axis_face == 0 and pad.face == "xmax" and comm.rank == comm.size - 1:
        yield np.full(layer, pad.value, dtype=image.dtype)
