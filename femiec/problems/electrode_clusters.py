"""Cut-off clusters and particles of the electrode on a mesh's own cells (conforming image meshes).

The same rules as :func:`femiec.problems.electrode_case.image_phase_labels` on voxels, with cells joined
through shared facets (femiec.meshing.cell_components) instead of 6-connected voxels: solid (active +
conductor) clusters that touch no collector facet (nor a collector region) and electrolyte clusters
that touch no separator facet or no kept active cell are inert; every kept cluster of active cells is one
particle (labels 1, 2, ... in the order of their smallest global cell index, the same on every rank).
A conforming mesh has its own clusters: smoothing may join voxel clusters that touch along an edge or
split thin necks, so its labels are taken from the mesh, not from the image.
"""
from __future__ import annotations

import numpy as np

from femiec.meshing.cell_components import cell_components, global_ids


def mesh_phase_labels(meshdata, electrolyte: list[int], active: list[int], conductor: list[int],
                      separator: list, collector: list) -> tuple[np.ndarray, np.ndarray]:
    """(inert, particles) per local cell (owned and ghost): a bool array and the particle label (0 off
    the kept active cells). ``electrolyte``, ``active``, ``conductor``: cell-tag values; ``separator``:
    facet names; ``collector``: facet names or cell-region names. Collective."""
    mesh, comm = meshdata.mesh, meshdata.comm
    tdim = mesh.topology.dim
    imap = mesh.topology.index_map(tdim)
    value = np.full(imap.size_local + imap.num_ghosts, -1, dtype=np.int64)
    value[meshdata.cell_tags.indices] = meshdata.cell_tags.values
    pore, act = np.isin(value, electrolyte), np.isin(value, active)
    solid = act | np.isin(value, conductor)
    mesh.topology.create_connectivity(tdim - 1, tdim)
    f2c = mesh.topology.connectivity(tdim - 1, tdim)
    regions = [meshdata.cell_tag(n) for n in collector if isinstance(n, str) and n in meshdata.cell_names]
    at_collector = _cells_of_facets(meshdata, f2c, [n for n in collector if n not in meshdata.cell_names])
    at_collector |= np.isin(value, regions)
    at_separator = _cells_of_facets(meshdata, f2c, separator)

    solid_ids = cell_components(mesh, solid)
    kept_solid = solid & np.isin(solid_ids, global_ids(comm, solid_ids[solid & at_collector]))
    kept_active = act & kept_solid
    pore_ids = cell_components(mesh, pore)
    fed = pore & np.isin(pore_ids, global_ids(comm, pore_ids[pore & at_separator]))  # reach the separator
    interior = np.flatnonzero(np.diff(f2c.offsets) == 2)
    a, b = f2c.array[f2c.offsets[interior]], f2c.array[f2c.offsets[interior] + 1]
    touching = np.concatenate([a[fed[a] & kept_active[b]], b[fed[b] & kept_active[a]]])
    kept_pore = fed & np.isin(pore_ids, global_ids(comm, pore_ids[touching]))
    inert = (pore & ~kept_pore) | (solid & ~kept_solid)
    particle_ids = cell_components(mesh, kept_active)
    ids = global_ids(comm, particle_ids[kept_active])
    particles = np.where(kept_active, np.searchsorted(ids, particle_ids) + 1, 0)
    return inert, particles


def _cells_of_facets(meshdata, f2c, names: list) -> np.ndarray:
    """True on the local cells next to a facet tagged one of ``names``."""
    imap = meshdata.mesh.topology.index_map(meshdata.dim)
    marked = np.zeros(imap.size_local + imap.num_ghosts, dtype=bool)
    tags = meshdata.facet_tags
    facets = tags.indices[np.isin(tags.values, [meshdata.facet_id(n) for n in names])]
    starts = f2c.offsets[facets]
    marked[f2c.array[starts]] = True
    return marked
