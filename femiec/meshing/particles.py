"""Meshes of single particles for particle-population models (femiec.models.intercalation_particles): an
ellipsoid meshed with gmsh, and the particles of one phase of a segmented image, each on its own voxel mesh.

Every mesh has one cell region ``"particle"`` (tag 1) and its whole boundary tagged ``"surface"``
(:data:`SURFACE_TAG`), the face that reacts with the electrolyte. Lengths in metres.

Image particles are the 6-connected (face-connected) clusters of the phase (scipy.ndimage.label with the
face structure, as everywhere in femiec), or, with ``split = "watershed"``, touching particles separated
along the necks of the phase's distance map (:func:`watershed_particles`; electrode images are usually one
percolating cluster of touching particles). Each is meshed with one hexahedron per voxel on the bounding box
of its voxels, then moved to its place in the image (``info["offset_m"]``), so the fields of all particles
open together in ParaView. A particle cut by the image border has artificial faces there; by default such
particles are left out (``keep_border = False``). The voxel surface is a staircase: its area is about 3/2
of the smooth surface the image samples (docs/cahn_hilliard.md), and the reaction sees that area.
:func:`label_mesh` meshes one cluster, so a rank can mesh only the particles it is given
(:func:`assign_particles`: a population over the MPI ranks).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mpi4py import MPI

from femiec.errors import InputError
from femiec.meshing.base import MeshData
from femiec.meshing.tomography import face_clusters
from femiec.meshing.voxel import interface_tag

#: cell tag of the particle region and facet tag of its boundary (the voxel mesher's tag of the interface
#: between image values 0 = outside and 1 = particle, used for gmsh particles too)
PARTICLE_TAG, SURFACE_TAG = 1, interface_tag(0, 1)
SURFACE = "surface"
#: how touching particles of one phase are told apart (:func:`particle_labels`)
SPLITS = ("none", "watershed")


def ellipsoid_particle(semi_axes: Sequence[float], mesh_size: float | None = None,
                       points_per_circle: int = 16, comm=MPI.COMM_WORLD) -> MeshData:
    """Tetrahedral mesh of the ellipsoid x^2/a^2 + y^2/b^2 + z^2/c^2 <= 1 centred at the origin.

    Args:
        semi_axes: (a, b, c) [m] along x, y, z (a sphere: three equal values; a platelet: one small).
        mesh_size: largest element size [m] (default a fifth of the smallest semi-axis).
        points_per_circle: elements per 2 pi radians of surface curvature (0: mesh_size only).
    """
    from femiec.meshing.gmsh_builders import _add_ellipsoid, _positive, build_and_load

    axes = _positive("semi_axes", semi_axes)
    if axes.size != 3:
        raise InputError("semi_axes", list(semi_axes), "three semi-axes (a, b, c) in metres")
    mesh_size = float(axes.min() / 5 if mesh_size is None else _positive("mesh_size", mesh_size)[0])
    scale = float(axes.max())

    def build(model):
        import gmsh

        volume = _add_ellipsoid(model.occ, np.zeros(3), axes / scale, None)
        model.occ.synchronize()
        model.addPhysicalGroup(3, [volume], PARTICLE_TAG, name="particle")
        model.addPhysicalGroup(2, [s for _, s in model.getBoundary([(3, volume)], oriented=False)], SURFACE_TAG,
                               name=SURFACE)
        gmsh.option.setNumber("Mesh.MeshSizeMax", mesh_size / scale)
        gmsh.option.setNumber("Mesh.MeshSizeMin", mesh_size / scale / 20)
        if points_per_circle:
            gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", points_per_circle)
        model.mesh.generate(3)

    info = {"source": "gmsh", "geometry": "ellipsoid_particle", "semi_axes_m": axes.tolist(),
            "mesh_size_m": mesh_size}
    return build_and_load(comm, build, {"particle": PARTICLE_TAG}, scale, info)


def watershed_particles(mask: np.ndarray, min_radius: float = 2.0) -> tuple[np.ndarray, int]:
    """Touching particles of the boolean ``mask`` [ix, iy, iz] separated along the necks of its distance map:
    (labels 1..n, 0 outside the mask; n).

    d(x) = Euclidean distance [voxels] from voxel x to the nearest voxel outside the mask. Each particle grows
    from a marker, a connected plateau (26-connected) of voxels where d is the largest within a ball of radius
    ``min_radius`` voxels and d >= min_radius (a particle thinner than that is not seeded on its own); the
    markers flood the mask in order of decreasing d (scikit-image's watershed of -d, face neighbours), so
    two particles meet where d has a saddle: the neck between them. A particle is then made
    6-connected: a piece of a watershed region cut off from its marker by other regions joins the
    labels as a particle of its own. Deterministic (same labels on every rank).
    """
    from scipy import ndimage
    from skimage.segmentation import watershed

    mask = np.asarray(mask, dtype=bool)
    distance = ndimage.distance_transform_edt(mask)
    r = int(np.ceil(min_radius))
    grid = np.mgrid[-r:r + 1, -r:r + 1, -r:r + 1]
    ball = (grid**2).sum(axis=0) <= min_radius**2
    peaks = mask & (distance >= min_radius) & (distance == ndimage.maximum_filter(distance, footprint=ball))
    markers, count = ndimage.label(peaks, structure=np.ones((3, 3, 3), dtype=bool))
    if count == 0:
        return face_clusters(mask)
    regions = watershed(-distance, markers, mask=mask)  # face neighbours (connectivity 1)
    labels = np.zeros(mask.shape, dtype=np.int64)
    total = 0
    for region, box in enumerate(ndimage.find_objects(regions), start=1):
        if box is None:
            continue
        pieces, n = face_clusters(regions[box] == region)
        inside = pieces > 0
        labels[box][inside] = pieces[inside] + total
        total += n
    return labels, total


def particle_labels(image: np.ndarray, phase: int, count: int | None = None, keep_border: bool = False,
                    min_voxels: int = 1, key: str = "particles", split: str = "none",
                    min_radius: float = 2.0) -> tuple[np.ndarray, list[int]]:
    """The ``count`` largest particles of value ``phase`` (None: all): (label array, their labels largest
    first); InputError (``<key>.phase``, ``<key>.count``) if there are none or fewer.

    Particles are the 6-connected clusters (``split = "none"``) or the watershed particles of
    :func:`watershed_particles` with ``min_radius`` [voxels] (``split = "watershed"``). Particles touching the
    image border are left out unless ``keep_border``; so are particles of fewer than ``min_voxels`` voxels.
    Ties in size are ordered by label (scan order), so every rank gets the same list.
    """
    if split not in SPLITS:
        raise InputError(f"{key}.split", split, f"one of {list(SPLITS)}")
    mask = np.asarray(image) == phase
    if split == "watershed":
        labels, clusters = watershed_particles(mask, min_radius)
    else:
        labels, clusters = face_clusters(mask)
    sizes = np.bincount(labels.ravel(), minlength=clusters + 1)
    keep = np.arange(clusters + 1) > 0
    keep &= sizes >= min_voxels
    if not keep_border:
        for axis in range(3):
            for side in (0, -1):
                keep[np.unique(np.take(labels, side, axis=axis))] = False
    chosen = np.flatnonzero(keep)
    chosen = chosen[np.argsort(-sizes[chosen], kind="stable")].tolist()
    if not chosen:
        border = "" if keep_border else " not touching the image border (or keep_border = true)"
        raise InputError(f"{key}.phase", phase, f"an image value with at least one particle of >= {min_voxels} "
                         f"voxels{border}")
    if count is not None and count > len(chosen):
        raise InputError(f"{key}.count", count, f"at most {len(chosen)} (the particles of phase {phase} in the "
                         "image)")
    return labels, chosen[:count]


def image_particles(image: np.ndarray, phase: int, voxel_size, count: int | None = None,
                    keep_border: bool = False, min_voxels: int = 1, comm=MPI.COMM_WORLD,
                    key: str = "particles", split: str = "none", min_radius: float = 2.0) -> list[MeshData]:
    """Voxel meshes of the ``count`` largest particles of ``phase`` in ``image`` (module docstring).

    Args:
        image: integer array [ix, iy, iz], the same on every rank.
        phase: the image value of the particles.
        voxel_size: voxel edge [m], one value or (dx, dy, dz).
        count: how many particles, largest first (None: all).
        keep_border: keep particles cut by the image border.
        min_voxels: leave out clusters of fewer voxels.
        key: the case key named in errors.
        split, min_radius: "none" (6-connected clusters) or "watershed" with its marker radius [voxels]
            (:func:`particle_labels`).
    """
    image = np.asarray(image)
    if image.ndim != 3:
        raise InputError(f"{key}.image", f"array of shape {image.shape}", "a 3D image")
    from scipy import ndimage

    labels, chosen = particle_labels(image, phase, count, keep_border, min_voxels, key, split, min_radius)
    regions = ndimage.find_objects(labels)
    return [label_mesh(labels, particle, voxel_size, comm, regions[particle - 1]) for particle in chosen]


def label_mesh(labels: np.ndarray, particle: int, voxel_size, comm=MPI.COMM_WORLD, region=None) -> MeshData:
    """The voxel mesh of the cluster ``particle`` of a label array (:func:`particle_labels`) over ``comm``
    (one hexahedron per voxel on the bounding box of its voxels, moved to its place in the image).
    ``region``: the slices of the cluster's bounding box (``scipy.ndimage.find_objects(labels)[particle -
    1]``), so that a population is meshed with one scan of the label array instead of one per particle."""
    from femiec.meshing.voxel import voxel_mesh, voxel_spacing

    spacing = voxel_spacing(voxel_size)
    window, origin = (labels, 0) if region is None else (labels[region], np.array([s.start for s in region]))
    voxels = np.argwhere(window == particle) + origin
    start, stop = voxels.min(axis=0), voxels.max(axis=0) + 1
    box = np.zeros(tuple(stop - start + 2), dtype=np.uint8)  # one voxel of "outside" all round
    box[tuple(voxels.T - start[:, None] + 1)] = 1
    data = voxel_mesh(box, phases=[1], voxel_size=spacing, comm=comm, phase_names={0: "outside", 1: "particle"})
    offset = (start - 1) * spacing
    data.mesh.geometry.x[:, :3] += offset
    data.cell_names = {"particle": PARTICLE_TAG}
    data.facet_names = {SURFACE: SURFACE_TAG}
    data.image = None  # the box no longer matches the moved coordinates
    data.info.update({"geometry": "image_particle", "label": int(particle), "voxels": int(len(voxels)),
                      "offset_m": offset.tolist()})
    return data


def assign_particles(weights: Sequence[float], ranks: int) -> tuple[list[int], list[int]]:
    """Particles of a population over ``ranks`` MPI ranks in groups: (the group of each particle, the
    group of each rank). Every particle lives on the ranks of one group; every group holds at least one
    particle; ``weights`` (positive, e.g. cell counts) measure each particle's cost.

    - at least as many particles as ranks: one rank per group; the particles, heaviest first (ties in
      order), each go to the least loaded rank (ties to the lowest) -- the greedy longest-processing-time
      balance, within 4/3 of the best largest load;
    - fewer particles than ranks: one particle per group, the ranks shared out in proportion to the
      weights (at least one each: each spare rank goes to the group of the largest weight per rank),
      consecutive ranks forming a group.
    """
    weights = [float(w) for w in weights]
    if not weights or not all(np.isfinite(w) and w > 0 for w in weights):
        raise InputError("particle weights", weights, "one positive weight per particle")
    if ranks < 1:
        raise InputError("ranks", ranks, "at least one MPI rank")
    count = len(weights)
    if count >= ranks:
        load, group = [0.0] * ranks, [0] * count
        for k in sorted(range(count), key=lambda k: -weights[k]):
            group[k] = min(range(ranks), key=lambda g: (load[g], g))
            load[group[k]] += weights[k]
        return group, list(range(ranks))
    share = [1] * count
    for _ in range(ranks - count):
        share[max(range(count), key=lambda k: (weights[k] / share[k], -k))] += 1
    return list(range(count)), [k for k in range(count) for _ in range(share[k])]
