"""gmsh volume meshing of the phase regions of a segmented image, bounded by conforming interfaces.

Called by ``conforming.conforming_mesh(..., mesher="gmsh")`` on rank 0 with the snap-and-smooth
tetrahedral mesh (vertices, tetrahedra, phase index per tetrahedron; scaled units):

1. surface extraction by marching tetrahedra: the interfaces are the faces between tetrahedra of
   unlike phases of the Kuhn grid whose vertices were snapped onto the smoothed level sets, the box
   surfaces its boundary faces. This is the unambiguous member of the marching-cubes family (a
   tetrahedron has no ambiguous configuration), and every interface triangle is shared by the two
   regions it separates, so the surfaces of all phases are watertight and conforming to each other,
   including along triple lines and on the box faces;
2. needle triangles are removed by edge collapses in the tetrahedral mesh (femiec.meshing.surface_collapse),
   which keeps the surfaces conforming and free of self-intersections;
3. every connected region of one phase becomes a gmsh volume bounded by discrete surfaces, one per
   (region, neighbouring region) pair and per (region, box face); the surface triangles are kept as they
   are, gmsh fills the volumes (Delaunay) with elements of size ``mesh_size`` at the surfaces, growing
   (``max_size`` > mesh_size) away from the interfaces, then optimizes them (gmsh and Netgen optimizers).

Physical groups: region tag value + 1 per phase (shifted back by the caller), box faces ``BOX_FACETS``,
interfaces ``interface_tag(a, b)`` named ``"<name_a>|<name_b>"``.
"""
from __future__ import annotations

import numpy as np

from femiec.meshing.base import BOX_FACETS
from femiec.meshing.surface_cleanup import collapse_short_edges
from femiec.meshing.voxel import interface_tag

#: Edges shorter than this fraction of the grid spacing are collapsed before volume meshing.
COLLAPSE_RATIO = 0.4
#: Element size growth away from the interfaces: size = mesh_size + GROWTH * distance (up to max_size).
GROWTH = 0.5
_BOX_NAMES = ["xmin", "xmax", "ymin", "ymax", "zmin", "zmax"]


def remesh_volumes(model, x, cells, labels, lengths, h: float, min_volume: float, phases, names,
                   max_size: float) -> None:
    """Fill the gmsh ``model`` (rank 0) with the volume mesh of the phase regions (module doc).

    ``x``, ``cells``, ``labels``: snap-and-smooth mesh; ``lengths``: box; ``h``: grid spacing (= the
    element size at the surfaces); ``max_size``: largest element size inside the regions; all lengths in
    the model's (scaled) units.
    """
    import gmsh

    x, cells, labels = collapse_short_edges(x, cells, labels, lengths, h, min_volume, COLLAPSE_RATIO)
    region_phase, surfaces = region_surfaces(x, cells, labels, lengths)
    entity = {key: model.addDiscreteEntity(2) for key in surfaces}
    added = np.zeros(len(x), dtype=bool)
    bounding: dict[int, list[int]] = {}
    for key, triangles in surfaces.items():
        nodes = np.unique(triangles)
        nodes = nodes[~added[nodes]]  # each node classified on the first surface that uses it
        added[nodes] = True
        model.mesh.addNodes(2, entity[key], nodes + 1, x[nodes].ravel())
        model.mesh.addElementsByType(entity[key], 2, [], (triangles + 1).ravel())
        for region in key:
            if region >= 0:
                bounding.setdefault(region, []).append(entity[key])
    volumes = {region: model.geo.addVolume([model.geo.addSurfaceLoop(s)]) for region, s in bounding.items()}
    model.geo.synchronize()
    _physical_groups(model, volumes, entity, region_phase, phases, names)
    _set_sizes(model, x[added], h, max_size)
    gmsh.option.setNumber("Mesh.Optimize", 1)
    model.mesh.generate(3)


def region_surfaces(x, cells, labels, lengths) -> tuple[np.ndarray, dict[tuple[int, int], np.ndarray]]:
    """Connected regions of each phase and the triangles bounding them (marching tetrahedra).

    Returns ``region_phase`` (phase index of each region) and {(r, s): triangles} for the interface
    between regions r < s, oriented outward from r, and {(r, -1 - k): triangles} for the part of box
    face k (xmin, xmax, ymin, ... order) bounding region r, oriented outward.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    faces = np.concatenate([cells[:, [1, 2, 3]], cells[:, [0, 3, 2]], cells[:, [0, 1, 3]], cells[:, [0, 2, 1]]])
    owner = np.tile(np.arange(len(cells)), 4)
    key = np.sort(faces, axis=1).astype(np.int64)
    key = (key[:, 0] * len(x) + key[:, 1]) * len(x) + key[:, 2]
    order = np.argsort(key, kind="stable")
    paired = np.flatnonzero(key[order][1:] == key[order][:-1])
    first, second = order[paired], order[paired + 1]
    like = labels[owner[first]] == labels[owner[second]]
    graph = coo_matrix((np.ones(like.sum()), (owner[first[like]], owner[second[like]])), shape=(len(cells),) * 2)
    _, region = connected_components(graph, directed=False)
    region_phase = np.zeros(region.max() + 1, dtype=int)
    region_phase[region] = labels
    surfaces = {}
    r, s = region[owner[first[~like]]], region[owner[second[~like]]]
    triangles = faces[first[~like]]
    triangles[r > s] = triangles[r > s][:, ::-1]
    pair = np.minimum(r, s) * len(region_phase) + np.maximum(r, s)
    for value in np.unique(pair):
        surfaces[divmod(int(value), len(region_phase))] = triangles[pair == value]
    single = np.ones(len(faces), dtype=bool)
    single[first] = single[second] = False
    boundary = np.flatnonzero(single)
    side = _box_side(x[faces[boundary]].mean(axis=1), lengths)
    r = region[owner[boundary]]
    for value in np.unique(r * 6 + side):
        surfaces[(int(value) // 6, -1 - int(value) % 6)] = faces[boundary[r * 6 + side == value]]
    return region_phase, surfaces


def _box_side(points, lengths) -> np.ndarray:
    """Index (xmin, xmax, ymin, ...) of the box face each boundary point lies on."""
    distance = np.concatenate([points, np.asarray(lengths) - points], axis=1)[:, [0, 3, 1, 4, 2, 5]]
    return np.abs(distance).argmin(axis=1)


def _physical_groups(model, volumes, entity, region_phase, phases, names) -> None:
    for index, phase in enumerate(phases):
        tags = [v for region, v in volumes.items() if region_phase[region] == index]
        if tags:
            model.addPhysicalGroup(3, tags, phase + 1, name=names[phase])
    groups: dict[tuple[int, str], list[int]] = {}
    for (r, s), surface in entity.items():
        if s < 0:
            name = _BOX_NAMES[-1 - s]
            tag = BOX_FACETS[name]
        else:
            a, b = sorted((phases[region_phase[r]], phases[region_phase[s]]))
            tag, name = interface_tag(a, b), f"{names[a]}|{names[b]}"
        groups.setdefault((tag, name), []).append(surface)
    for (tag, name), surfaces in groups.items():
        model.addPhysicalGroup(2, surfaces, tag, name=name)


def _set_sizes(model, surface_points, h: float, max_size: float) -> None:
    """Element size h at the surfaces, h + GROWTH * distance inside, at most ``max_size``."""
    import gmsh

    gmsh.option.setNumber("Mesh.MeshSizeMin", h / 10)
    gmsh.option.setNumber("Mesh.MeshSizeMax", max(h, max_size))
    if max_size <= h:
        return
    from scipy.spatial import cKDTree

    tree = cKDTree(surface_points)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    model.mesh.setSizeCallback(
        lambda dim, tag, x, y, z, lc: float(min(max_size, h + GROWTH * tree.query((x, y, z))[0])))
