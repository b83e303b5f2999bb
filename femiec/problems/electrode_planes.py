"""The resolved electrode's image data on an image read by planes (femiec.meshing.rank_planes): each rank
keeps only its x-planes and a halo of :func:`electrode_halo` planes on each side.

- Reactive-area weights (femiec.meshing.interface_area): the weight of a face depends on the phase
  indicator within ``filter_reach`` voxels of its two voxels (the Gaussian's radius round(4 sigma) + 2); a
  rank's faces of Gamma lie on its owned planes or on the one plane of ghost cells on each side, so a halo
  of 1 + filter_reach planes (7 with the default sigma = 1 voxel on cubic voxels) gives every face the
  weight it has on the whole image.
- Cut-off clusters and particles (:func:`planes_phase_labels`): the rules of
  :func:`femiec.problems.electrode_case.image_phase_labels`, with the 6-connected clusters labelled on
  each rank's owned planes and joined across the ranks (femiec.meshing.slab_clusters): solid clusters
  not touching the collector face and electrolyte clusters not touching the separator face, or touching
  no kept active voxel, are inert; each kept active cluster is a particle, labelled 1, 2, ... in the
  order of its first voxel in C order of the whole image (scipy.ndimage.label's numbering), the same on
  every rank. The per-voxel results are completed on the halo planes from the ranks owning them, so that
  every local cell (owned or ghost) reads them at the voxel holding its centre.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from femiec.errors import InputError
from femiec.meshing.rank_planes import RankPlanes, phase_table
from femiec.meshing.slab_clusters import label_clusters
from femiec.meshing.tomography import BOX_FACES


def electrode_halo(voxel_size) -> int:
    """Halo planes the electrode needs on each side of a rank's planes: 1 + the reach of the smoothed
    indicator along x (module doc), and at least the voxel mesh's 2."""
    from femiec.meshing.interface_area import filter_reach

    return max(2, 1 + int(filter_reach(voxel_size)[0]))


def check_halo(planes: RankPlanes, voxel_size) -> None:
    """InputError unless ``planes`` keep the halo :func:`electrode_halo` asks for (or the whole image)."""
    needed = electrode_halo(voxel_size)
    if planes.halo < needed and planes.held(planes.rank) != (0, planes.shape[0]):
        raise InputError("image", f"planes with a halo of {planes.halo}",
                         f"a halo of at least {needed} planes for the electrode (femiec.problems.electrode_planes)")


def planes_phase_labels(planes: RankPlanes, comm, electrolyte: list[int], active: list[int],
                        conductor: list[int], separator: str = "xmin", collector: str = "xmax"
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(inert, particles) over the planes kept (halo filled): inert voxels and the particle label of each
    kept active voxel (1, 2, ...; 0 elsewhere); the rules and numbering of the module doc. Collective."""
    for key, face in (("model.separator", separator), ("model.collector", collector)):
        if face not in BOX_FACES:
            raise InputError(key, face, f"a box face {sorted(BOX_FACES)} on an image mesh")
    own = planes.owned()
    pore, act = phase_table(electrolyte)[own], phase_table(active)[own]
    solid = act | phase_table(conductor)[own]
    solid_ids, solid_clusters = label_clusters(solid, comm)
    kept_solid = solid & solid_clusters.touching(_face(collector))[solid_ids]
    kept_active = act & kept_solid
    del solid_ids, act, solid_clusters
    pore_ids, pore_clusters = label_clusters(pore, comm)
    fed = pore & pore_clusters.touching(_face(separator))[pore_ids]
    near = _next_to(planes, kept_active, comm)
    components = pore_clusters.component
    reacting = np.unique(components[pore_ids[fed & near]])
    reacting = np.unique(np.concatenate(comm.allgather(reacting)))
    kept_pore = fed & np.isin(components, reacting)[pore_ids]
    del pore_ids, near
    inert = (pore & ~kept_pore) | (solid & ~kept_solid)
    particle_ids, particle_clusters = label_clusters(kept_active, comm)
    particles = particle_clusters.component[particle_ids]  # the background is component 0
    return _with_halo(planes, inert, comm), _with_halo(planes, particles, comm)


def cell_plane_values(meshdata, planes: RankPlanes, array: np.ndarray) -> np.ndarray:
    """``array`` (over the planes kept) at the voxel holding each local cell's centre (owned and ghost)."""
    mesh = meshdata.mesh
    imap = mesh.topology.index_map(mesh.topology.dim)
    nodes = mesh.geometry.dofmap[: imap.size_local + imap.num_ghosts]
    centre = mesh.geometry.x[nodes].mean(axis=1)
    ijk = np.floor(centre / np.asarray(meshdata.info["voxel_size_m"], dtype=float)).astype(np.int64)
    return dataclasses.replace(planes, data=array).lookup(ijk, 0)


def _face(name: str) -> int:
    """Index of a box face in femiec.meshing.slab_clusters (xmin, xmax, ymin, ymax, zmin, zmax)."""
    axis, index = BOX_FACES[name]
    return 2 * axis + (1 if index == -1 else 0)


def _next_to(planes: RankPlanes, mask: np.ndarray, comm) -> np.ndarray:
    """Owned voxels that are, or share a face with, a voxel of ``mask`` (given on the owned planes; the
    planes next to them from their ranks): scipy.ndimage.binary_dilation's default cross."""
    i0, i1 = planes.own
    held = np.zeros(planes.data.shape, dtype=bool)
    held[i0 - planes.start:i1 - planes.start] = mask
    planes.fill_halo(held, comm)
    lo, hi = max(i0 - 1, planes.start) - planes.start, min(i1 + 1, planes.start + len(held)) - planes.start
    block = held[lo:hi]
    near = block.copy()
    for axis in range(3):
        n = block.shape[axis]
        lower = [slice(None)] * 3
        upper = [slice(None)] * 3
        lower[axis], upper[axis] = slice(0, n - 1), slice(1, n)
        near[tuple(lower)] |= block[tuple(upper)]
        near[tuple(upper)] |= block[tuple(lower)]
    first = i0 - planes.start - lo
    return near[first:first + i1 - i0]


def _with_halo(planes: RankPlanes, owned: np.ndarray, comm) -> np.ndarray:
    """A per-voxel array given on the owned planes, over all the planes kept (halo from the owners)."""
    i0, _ = planes.own
    held = np.zeros(planes.data.shape, dtype=owned.dtype)
    held[i0 - planes.start:i0 - planes.start + len(owned)] = owned
    return planes.fill_halo(held, comm)
