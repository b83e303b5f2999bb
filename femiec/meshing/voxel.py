"""Direct hexahedral mesh of a segmented 3D image (one hexahedron per voxel), built distributed.

Voxel ``(i, j, k)`` of ``image[ix, iy, iz]`` occupies ``[i*dx, (i+1)*dx] x [j*dy, (j+1)*dy] x [k*dz, (k+1)*dz]``
(metres). Rank ``r`` creates only the vertices and cells of one slab of voxel planes along x (slabs
balanced by cell count), with vectorized NumPy (no loop over voxels), and DOLFINx distributes them. No
gmsh, no global array on rank 0. Tags are then computed on each rank for its local cells and facets by
looking up the voxels at their centres. The image is an array every rank holds, or is read by planes
(an ImageSource, or a rank's RankPlanes with two halo planes: femiec.meshing.rank_planes), so that each
rank holds only its slab and two planes on each side (the cells of the neighbouring slabs it ghosts and
their facets).

Tags (see docs/tags.md):
- cell tag = the voxel's image value; ``cell_names[phase_name] = value`` (default name ``phase<value>``).
- facet tags on the outer box of the image: ``BOX_FACETS`` (xmin=1 ... zmax=6), only facets of meshed voxels.
- facet tag of a face between voxels of values ``a < b`` where at least one of the two voxels is meshed:
  ``interface_tag(a, b) = 1000 + 256*a + b``, named ``"<name_a>|<name_b>"``. When only some phases are
  meshed, the faces between a meshed and an unmeshed phase are the mesh's inner boundary (e.g. the pore
  walls when only the pore is meshed) and carry that interface tag.

Connectivity (``connectivity``): with ``"vertex"`` (default) the cells of all meshed voxels that touch share
their vertices, so two voxels that meet only along an edge or at a corner are joined through those nodes
(Q1 fields see 26-connected clusters). With ``"face"`` every grid vertex is duplicated once per group of
its (up to 8) incident meshed voxels that are face-connected among themselves: the graph whose nodes are
those voxels and whose edges are the faces two of them share (both incident to the vertex); each connected
component gets its own copy of the vertex. Faces shared by two meshed voxels keep their four vertices
(both voxels are in one component at each of them), whatever the phases of the two voxels, so interfaces
between meshed phases stay conforming; a mesh of one phase then has exactly the 6-connected clusters of
that phase (scipy.ndimage.label's default structure). In a mesh of several touching phases a vertex stays
shared wherever its incident voxels are face-connected through any meshed phase: two voxels of a phase
meeting only along an edge stay joined there when the two voxels across that edge are meshed too (no
conforming mesh can split them: both of those voxels share a face with each of the first two).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from mpi4py import MPI

from femiec.errors import InputError
from femiec.meshing.base import BOX_FACETS, MeshData
from femiec.meshing.image_source import ImageSource
from femiec.meshing.rank_planes import RankPlanes

#: values of ``connectivity``: voxels joined through shared faces only, or through any shared vertex
CONNECTIVITIES = ("vertex", "face")

#: First facet tag value of phase interfaces: tag(a, b) = INTERFACE_BASE + 256*a + b for a < b.
INTERFACE_BASE = 1000

# Corner offsets (di, dj, dk) of a hexahedron in DOLFINx/basix vertex order (lexicographic, x fastest).
_HEX_CORNERS = np.array([[i, j, k] for k in (0, 1) for j in (0, 1) for i in (0, 1)], dtype=np.int64)


def interface_tag(a: int, b: int) -> int:
    """Facet tag of the interface between image values ``a`` and ``b`` (order-free): 1000 + 256*min + max."""
    a, b = sorted((int(a), int(b)))
    return INTERFACE_BASE + 256 * a + b


def voxel_spacing(voxel_size) -> np.ndarray:
    """(dx, dy, dz) in metres from a float or a 3-sequence; InputError unless all are positive."""
    spacing = np.broadcast_to(np.asarray(voxel_size, dtype=float), (3,)).copy()
    if not np.all(np.isfinite(spacing) & (spacing > 0)):
        raise InputError("voxel_size", voxel_size, "a positive length in metres or three of them")
    return spacing


def check_labels(image: np.ndarray, key: str = "image values", remap: str = "see remap_labels") -> None:
    """InputError named ``key`` unless every value of the integer ``image`` is a label in 0..255; the
    message suggests ``remap`` (how the caller maps larger values, e.g. ``mesh.remap = {300 = 1}``)."""
    if image.size and (image.min() < 0 or image.max() > 255):
        large = np.unique(image[(image < 0) | (image > 255)]).tolist()
        shown = large if len(large) <= 5 else f"{len(large)} values {large[0]}..{large[-1]}"
        raise InputError(key, shown, f"labels in 0..255 ({remap})")


def check_image_type(shape, dtype) -> None:
    """InputError ``image`` unless an image of ``shape`` and ``dtype`` is 3D (indexed [ix, iy, iz]) and of
    integer type (segmented)."""
    if len(shape) != 3:
        raise InputError("image", f"array of shape {tuple(shape)}", "a 3D array indexed [ix, iy, iz]")
    if not np.issubdtype(dtype, np.integer):
        raise InputError("image", f"dtype {np.dtype(dtype)}", "an integer (segmented) image")


def voxel_mesh(
    image,
    phases: Sequence[int] | None = None,
    voxel_size=1.0,
    comm=MPI.COMM_WORLD,
    phase_names: dict[int, str] | None = None,
    partitioner: str = "slab",
    connectivity: str = "vertex",
) -> MeshData:
    """Hexahedral mesh of the voxels of ``image`` whose value is in ``phases`` (None: all voxels).

    Args:
        image: integer array indexed [ix, iy, iz] with values 0..255, the same on every rank of ``comm``;
            or an ImageSource or this rank's RankPlanes of it (halo >= 2), read by planes (module doc).
        phases: image values to mesh (None: all).
        voxel_size: edge length(s) of a voxel in metres, a float or (dx, dy, dz).
        comm: MPI communicator of the mesh.
        phase_names: image value -> phase name (default ``phase<value>``).
        partitioner: ``"slab"`` keeps each rank's slab of x-planes (no graph partitioning, low memory);
            ``"graph"`` re-partitions with DOLFINx's default graph partitioner (better balanced surfaces).
        connectivity: ``"vertex"`` shares the vertices of all touching cells; ``"face"`` duplicates each
            vertex per face-connected group of its incident cells, so voxels meeting only along an edge or
            at a corner are not connected (module doc).

    Returns:
        MeshData with cell tags = image values and facet tags on box faces and phase interfaces (module
        doc); ``MeshData.image`` is ``image`` (a reference, not a copy) when it is an array, None when the
        mesh was built from planes: ``MeshData.planes`` is then this rank's RankPlanes.
    """
    from femiec.meshing.rank_planes import read_rank_planes

    spacing = voxel_spacing(voxel_size)
    if partitioner not in ("slab", "graph"):
        raise InputError("partitioner", partitioner, "'slab' or 'graph'")
    if connectivity not in CONNECTIVITIES:
        raise InputError("connectivity", connectivity, "'vertex' or 'face'")
    array = not isinstance(image, (ImageSource, RankPlanes))
    if not array and partitioner != "slab":
        raise InputError("partitioner", partitioner, "'slab' for an image read by planes (the graph partitioner "
                         "moves cells away from the planes a rank holds)")
    if isinstance(image, RankPlanes):
        planes = image
        if planes.halo < 2 and comm.size > 1:
            raise InputError("image", f"planes with a halo of {planes.halo}", "a halo of at least 2 planes")
    else:
        image = np.asarray(image) if array else image
        planes = read_rank_planes(image, comm, phases, halo=image.shape[0] if array else 2)
    held = planes.selection(phases)
    if not planes.counts.any():
        raise InputError("image", f"array of shape {planes.shape}", "at least one voxel to mesh")
    present = np.flatnonzero(planes.histogram)
    all_names = {int(v): (phase_names or {}).get(int(v), f"phase{int(v)}") for v in present}
    meshed = present.tolist() if phases is None else sorted(set(present.tolist()) & {int(p) for p in phases})

    bounds = planes.bounds
    i0, i1 = planes.own
    owned_planes = i1 - i0 + (1 if comm.rank == comm.size - 1 else 0)
    inside = _padded_slab(held, planes.start, i0, i1)
    first_copy, pattern, x = _slab_vertices(inside, i0, owned_planes, spacing, comm, connectivity)
    cell_ijk = np.argwhere(inside[1:-1, 1:-1, 1:-1])
    corners = tuple(cell_ijk[:, None, a] + _HEX_CORNERS[None, :, a] for a in range(3))
    # corner c of a cell is the voxel at position 7 - c of that vertex's 2x2x2 neighbourhood
    cells = first_copy[corners] + _COPY[connectivity][pattern[corners], 7 - np.arange(8)[None, :]]
    del corners, first_copy, pattern
    destinations = _slab_destinations(cell_ijk, inside, bounds, comm.rank) if partitioner == "slab" else None
    del cell_ijk, inside

    mesh = _create_hex_mesh(comm, cells, x, destinations)
    del cells, x
    cell_tags = _cell_tags(mesh, planes, spacing)
    facet_tags = _facet_tags(mesh, planes, held, spacing)

    present = set().union(*comm.allgather(set(np.unique(facet_tags.values).tolist())))
    facet_names = dict(BOX_FACETS)
    for a in sorted(all_names):
        for b in sorted(all_names):
            if a < b and interface_tag(a, b) in present:
                facet_names[f"{all_names[a]}|{all_names[b]}"] = interface_tag(a, b)
    info = {
        "source": "voxel image",
        "image_shape": list(planes.shape),
        "voxel_size_m": spacing.tolist(),
        "phases": meshed,
        "partitioner": partitioner,
        "connectivity": connectivity,
    }
    return MeshData(mesh, cell_tags, facet_tags, {all_names[v]: v for v in meshed}, facet_names, info,
                    image if array else None, None if array else planes)


def _padded_slab(held, start: int, i0: int, i1: int) -> np.ndarray:
    """Selection of voxel planes i0-1..i1 in a one-voxel frame of False (``held``: the selection of the
    planes kept, the first of them plane ``start``): index (p, q, r) is voxel (i0 - 1 + p, q - 1, r - 1)."""
    _, ny, nz = held.shape
    inside = np.zeros((i1 - i0 + 2, ny + 2, nz + 2), dtype=bool)
    lo, hi = max(i0 - 1, start), min(i1 + 1, start + len(held))
    inside[lo - i0 + 1 : hi - i0 + 1, 1:-1, 1:-1] = held[lo - start:hi - start]
    return inside


def _neighbourhood_copies(connectivity: str) -> tuple[np.ndarray, np.ndarray]:
    """(copies, copy) tables over the 256 occupancy patterns of a vertex's 2x2x2 voxel neighbourhood (bit
    p = di + 2 dj + 4 dk set when the voxel at offset (di, dj, dk) - 1 from the vertex is selected):
    ``copies[pattern]`` vertices replace the grid vertex and ``copy[pattern, p]`` is the one voxel p uses
    (-1 when not selected). "vertex": one copy shared by all; "face": one per connected component of the
    graph of the selected voxels joined by their shared faces (positions differing in one bit)."""
    copies = np.zeros(256, dtype=np.int64)
    copy = np.full((256, 8), -1, dtype=np.int64)
    for pattern in range(1, 256):
        for start in range(8):
            if not pattern >> start & 1 or copy[pattern, start] >= 0:
                continue
            stack = [start]  # a new component: every selected position reached across faces
            copy[pattern, start] = copies[pattern] if connectivity == "face" else 0
            while stack:
                p = stack.pop()
                for q in (p ^ 1, p ^ 2, p ^ 4):
                    if pattern >> q & 1 and copy[pattern, q] < 0:
                        copy[pattern, q] = copy[pattern, start]
                        stack.append(q)
            copies[pattern] = copy[pattern].max() + 1
    return copies, copy


_COPIES, _COPY = {}, {}
for _name in CONNECTIVITIES:
    _COPIES[_name], _COPY[_name] = _neighbourhood_copies(_name)


def vertex_copies(connectivity: str) -> tuple[np.ndarray, np.ndarray]:
    """The (copies, copy) tables of ``connectivity`` over the 256 occupancy patterns of a vertex's 2x2x2
    voxel neighbourhood (bit p = di + 2 dj + 4 dk: the voxel at offset (di, dj, dk) - 1 from the vertex)."""
    return _COPIES[connectivity], _COPY[connectivity]


def _slab_vertices(inside, i0: int, owned_planes: int, spacing, comm,
                   connectivity: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Global index of the first copy of each grid vertex on planes i0..i1, the occupancy pattern of its
    voxel neighbourhood (:func:`_neighbourhood_copies`; 0: unused) and the coordinates of the owned copies.

    A grid vertex is used when one of its 8 voxels is selected and has ``copies[pattern]`` mesh vertices
    (1 for "vertex"). This rank owns vertex planes i0..i0+owned_planes-1 and numbers their copies in C order
    of the grid vertices from its offset; the plane i1, owned by the next rank, gets the same numbers there
    because the numbering just continues (both ranks see the same neighbourhoods: the slab is padded).
    """
    nplanes, ny, nz = inside.shape[0] - 1, inside.shape[1] - 1, inside.shape[2] - 1
    pattern = np.zeros((nplanes, ny, nz), dtype=np.uint8)
    for bit, (di, dj, dk) in enumerate(_HEX_CORNERS):
        pattern |= inside[di : di + nplanes, dj : dj + ny, dk : dk + nz].astype(np.uint8) << bit
    copies = _COPIES[connectivity][pattern]
    num_owned = int(copies[:owned_planes].sum())
    offset = (comm.exscan(num_owned) or 0) if comm.size > 1 else 0
    first_copy = np.cumsum(copies, axis=None).reshape(copies.shape)
    first_copy -= copies
    first_copy += offset
    ijk = np.argwhere(pattern[:owned_planes]).astype(np.float64)
    ijk[:, 0] += i0
    ijk = np.repeat(ijk, copies[:owned_planes][pattern[:owned_planes] > 0], axis=0)
    return first_copy, pattern, ijk * spacing


def _cell_tags(mesh, planes, spacing):
    """Cell tags of the local (owned and ghost) cells: the image value of the voxel holding the centre."""
    import dolfinx.mesh

    num_cells = mesh.topology.index_map(3).size_local + mesh.topology.index_map(3).num_ghosts
    nodes = mesh.geometry.dofmap[:num_cells]
    centre = sum(mesh.geometry.x[nodes[:, c]] for c in range(8)) / 8.0
    values = planes.lookup(np.floor(centre / spacing).astype(np.int64), -1)
    return dolfinx.mesh.meshtags(mesh, 3, np.arange(num_cells, dtype=np.int32), values)


def facet_voxels(mesh, facets: np.ndarray, spacing) -> tuple[np.ndarray, np.ndarray]:
    """(axis, lower) of the local ``facets`` of a voxel mesh: the axis normal to each facet and the voxel
    index (i, j, k) below it, so the facet lies between voxels ``lower`` and ``lower + e_axis`` (either
    may be outside the image on the outer box)."""
    import dolfinx.mesh

    r = dolfinx.mesh.compute_midpoints(mesh, 2, np.asarray(facets, dtype=np.int32)) / spacing
    axis = np.argmin(np.abs(r - np.round(r)), axis=1)
    lower = np.floor(r).astype(np.int64)
    rows = np.arange(len(r))
    lower[rows, axis] = np.round(r[rows, axis]).astype(np.int64) - 1
    return axis, lower


def _facet_tags(mesh, planes, held, spacing, chunk: int = 1 << 21):
    """Facet tags of the local facets, classified from the two voxels on either side of the facet centre.

    A face between voxel values ``lo`` and ``up`` (-1 outside the image) is a box face when one side is
    outside (the other side is meshed), and an interface when both are inside, differ, and at least one
    is meshed (``held``: the selection on the planes kept). Facets are processed in chunks to bound memory.
    """
    import dolfinx.mesh

    selection = dataclasses.replace(planes, data=held)  # the same planes, holding the selection

    mesh.topology.create_entities(2)
    mesh.topology.create_connectivity(2, 3)
    num_facets = mesh.topology.index_map(2).size_local + mesh.topology.index_map(2).num_ghosts
    indices, tags = [np.zeros(0, dtype=np.int32)], [np.zeros(0, dtype=np.int32)]
    for start in range(0, num_facets, chunk):
        facets = np.arange(start, min(start + chunk, num_facets), dtype=np.int32)
        axis, lower = facet_voxels(mesh, facets, spacing)
        upper = lower.copy()
        upper[np.arange(len(facets)), axis] += 1
        v_lo, v_up = planes.lookup(lower, -1), planes.lookup(upper, -1)
        s_lo, s_up = selection.lookup(lower, False), selection.lookup(upper, False)
        tag = np.zeros(len(facets), dtype=np.int32)
        box_min, box_max = (v_lo < 0) & s_up, (v_up < 0) & s_lo
        tag[box_min] = 2 * axis[box_min] + 1
        tag[box_max] = 2 * axis[box_max] + 2
        between = (v_lo >= 0) & (v_up >= 0) & (v_lo != v_up) & (s_lo | s_up)
        tag[between] = INTERFACE_BASE + 256 * np.minimum(v_lo, v_up)[between] + np.maximum(v_lo, v_up)[between]
        indices.append(facets[tag > 0])
        tags.append(tag[tag > 0])
    return dolfinx.mesh.meshtags(mesh, 2, np.concatenate(indices), np.concatenate(tags))


def _slab_destinations(cell_ijk, inside, bounds, rank: int):
    """Destination ranks of this slab's cells: this rank (owner), then the rank that must hold the cell as a
    ghost because the cell shares an x-face with a selected voxel of a neighbouring slab (shared-facet
    ghosting, so that interior-facet integrals work on interfaces between ranks)."""
    nslab = inside.shape[0] - 2
    i0 = int(bounds[rank])
    ghost_to = np.full(len(cell_ijk), -1, dtype=np.int32)
    for local_plane, halo_plane, neighbour_plane in ((0, 0, i0 - 1), (nslab - 1, nslab + 1, i0 + nslab)):
        if 0 <= neighbour_plane < bounds[-1]:
            on_plane = cell_ijk[:, 0] == local_plane
            touching = inside[halo_plane, cell_ijk[on_plane, 1] + 1, cell_ijk[on_plane, 2] + 1]
            ghost_to[np.flatnonzero(on_plane)[touching]] = np.searchsorted(bounds, neighbour_plane, "right") - 1
    has_ghost = ghost_to >= 0
    offsets = np.concatenate([[0], np.cumsum(1 + has_ghost)]).astype(np.int32)
    data = np.empty(offsets[-1], dtype=np.int32)
    data[offsets[:-1]] = rank
    data[offsets[:-1][has_ghost] + 1] = ghost_to[has_ghost]
    return data, offsets


def _create_hex_mesh(comm, cells: np.ndarray, x: np.ndarray, destinations):
    """DOLFINx hexahedral mesh (shared-facet ghosts) from this rank's cells (global vertex indices) and
    owned vertex coordinates; ``destinations`` (data, offsets) fixes the ranks of each cell, None lets
    DOLFINx's graph partitioner decide."""
    import basix.ufl
    import dolfinx.graph
    import dolfinx.mesh
    import ufl

    domain = ufl.Mesh(basix.ufl.element("Lagrange", "hexahedron", 1, shape=(3,)))
    if comm.size == 1:
        return dolfinx.mesh.create_mesh(comm, cells, x, domain)
    if destinations is None:
        partitioner = dolfinx.mesh.create_cell_partitioner(dolfinx.mesh.GhostMode.shared_facet)
        return dolfinx.mesh.create_mesh(comm, cells, x, domain, partitioner=partitioner)

    def slab_partitioner(comm_, nparts, cell_types, cell_vertices):
        return dolfinx.graph.adjacencylist(*destinations)

    return dolfinx.mesh.create_mesh(comm, cells, x, domain, partitioner=slab_partitioner)
