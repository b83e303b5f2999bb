"""Conforming tetrahedral mesh of a segmented image with smooth phase interfaces (marching cubes + gmsh).

Scope (checked, InputError otherwise): one *matrix* phase fills the box and touches all its faces; every
other phase forms closed *inclusions* inside it that touch neither the box faces nor inclusions of
another phase. This covers particles in an electrolyte or pores in a solid, and the sphere-in-a-box
verification; percolating multi-phase microstructures (such as the full NMC electrode, whose phases all
cross the box) need the voxel mesh (``femiec.meshing.voxel``). Images up to about 128^3.

Method (rank 0; the mesh is then distributed):
1. per inclusion phase p, the indicator (image == p) is smoothed with a Gaussian of ``smoothing`` voxels
   and its 0.5 level set extracted by marching cubes (scikit-image), voxel (i, j, k) centred at
   ((i + 1/2) dx, ...) as in the voxel mesh;
2. each closed surface is reclassified and remeshed by gmsh at ``mesh_size``;
3. the box [0, n dx] x ... is bounded by plane surfaces; the matrix volume is the box minus the
   inclusions; gmsh meshes all volumes with tetrahedra.

Tags as in the voxel mesh: cell tag = image value, ``cell_names["phase<value>"]`` (or ``phase_names``),
box faces ``BOX_FACETS``, interfaces ``interface_tag(matrix, p)`` named ``"<name_a>|<name_b>"``.
"""
from __future__ import annotations

import numpy as np
from mpi4py import MPI

from femiec.errors import InputError
from femiec.meshing.base import BOX_FACETS, MeshData
from femiec.meshing.gmsh_builders import build_and_load
from femiec.meshing.voxel import interface_tag, selected_voxels, voxel_spacing


def conforming_mesh(
    image: np.ndarray,
    voxel_size=1.0,
    mesh_size: float | None = None,
    smoothing: float = 1.0,
    matrix_phase: int | None = None,
    phase_names: dict[int, str] | None = None,
    comm=MPI.COMM_WORLD,
) -> MeshData:
    """Tetrahedral mesh of ``image`` with interfaces following the smoothed phase boundaries.

    Args:
        image: integer array [ix, iy, iz] (0..255), the same on every rank.
        voxel_size: voxel edge(s) in metres.
        mesh_size: element size in metres (default: 1.5 voxels).
        smoothing: Gaussian smoothing of each phase indicator, in voxels (0: none; staircase interfaces).
        matrix_phase: the phase filling the box (default: the value on the box faces).
        phase_names: value -> name (default ``phase<value>``).
    """
    image = np.asarray(image)
    selected_voxels(image, None)  # validates dimension, dtype and value range
    spacing = voxel_spacing(voxel_size)
    matrix = _matrix_phase(image, matrix_phase)
    inclusions = [int(v) for v in np.unique(image) if v != matrix]
    if not inclusions:
        raise InputError("image", f"only phase {matrix}", "at least one inclusion phase besides the matrix")
    _check_inclusions(image, matrix)
    mesh_size = 1.5 * float(spacing.min()) if mesh_size is None else float(mesh_size)
    lengths = np.array(image.shape) * spacing
    scale = float(lengths.max())
    names = {v: (phase_names or {}).get(v, f"phase{v}") for v in [matrix, *inclusions]}
    # gmsh cannot use physical tag 0: regions are tagged value + 1 in gmsh and shifted back after loading.
    region_tags = {names[v]: v + 1 for v in names}

    def build(model):
        surfaces = {p: _inclusion_surfaces(image, p, spacing / scale, smoothing) for p in inclusions}
        _mesh_model(model, surfaces, matrix, names, lengths / scale, mesh_size / scale)

    info = {"source": "conforming image mesh", "geometry": "conforming_image", "image_shape": list(image.shape),
            "voxel_size_m": spacing.tolist(), "mesh_size_m": mesh_size, "smoothing_voxels": smoothing,
            "matrix_phase": matrix}
    data = build_and_load(comm, build, region_tags, scale, info)
    return _shift_cell_tags(data, names)


def _matrix_phase(image: np.ndarray, matrix_phase: int | None) -> int:
    faces = np.concatenate([np.take(image, side, axis=a).ravel() for a in range(3) for side in (0, -1)])
    values = np.unique(faces)
    if matrix_phase is None:
        if len(values) != 1:
            raise InputError("image", f"phases {values.tolist()} on the box faces", "one matrix phase on all faces")
        return int(values[0])
    if values.tolist() != [matrix_phase]:
        raise InputError("matrix_phase", matrix_phase, f"the only phase on the box faces (found {values.tolist()})")
    return int(matrix_phase)


def _check_inclusions(image, matrix: int) -> None:
    """Inclusions of different phases must be separated by the matrix (6-neighbours)."""
    for axis in range(3):
        lo = np.take(image, range(image.shape[axis] - 1), axis=axis)
        up = np.take(image, range(1, image.shape[axis]), axis=axis)
        touching = (lo != up) & (lo != matrix) & (up != matrix)
        if touching.any():
            a, b = sorted((int(lo[touching][0]), int(up[touching][0])))
            raise InputError("image", f"phases {a} and {b} in contact",
                             f"inclusions surrounded by the matrix phase {matrix} (use voxel_mesh)")


def _inclusion_surfaces(image, phase: int, spacing, smoothing: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Closed marching-cubes surfaces (vertices, triangles) of ``phase``, one per connected component."""
    from scipy.ndimage import gaussian_filter
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from skimage.measure import marching_cubes

    indicator = np.pad((image == phase).astype(float), 2)
    if smoothing > 0:
        indicator = gaussian_filter(indicator, smoothing, mode="constant")
    verts, faces, _, _ = marching_cubes(indicator, level=0.5, spacing=tuple(spacing))
    verts += (0.5 - 2) * np.asarray(spacing)  # voxel centres at (i + 1/2) dx; remove the padding
    n = len(verts)
    edges = coo_matrix((np.ones(3 * len(faces)), (faces.ravel(), np.roll(faces, 1, axis=1).ravel())), (n, n))
    count, label = connected_components(edges, directed=False)
    surfaces = []
    for c in range(count):
        tri = faces[label[faces[:, 0]] == c]
        used, local = np.unique(tri, return_inverse=True)
        surfaces.append((verts[used], local.reshape(-1, 3)))
    return surfaces


def _mesh_model(model, surfaces, matrix: int, names: dict[int, str], lengths, mesh_size: float) -> None:
    """Discrete inclusion surfaces -> remeshed surfaces -> box and volumes -> physical groups -> 3D mesh."""
    import gmsh
    from scipy.spatial import cKDTree

    component_points = []
    for phase, components in surfaces.items():
        for verts, tris in components:
            tag = model.addDiscreteEntity(2)
            node_tags = 1 + np.arange(len(verts)) + sum(len(v) for _, v, _ in component_points)
            model.mesh.addNodes(2, tag, node_tags, verts.ravel())
            model.mesh.addElementsByType(tag, 2, [], node_tags[tris].ravel())
            component_points.append((phase, verts, tris))
    model.mesh.classifySurfaces(np.pi, True, True, np.pi)
    model.mesh.createGeometry()
    # Group the new surface patches by the closed component they come from (nearest original vertex).
    all_points = np.vstack([v for _, v, _ in component_points])
    owner = np.concatenate([np.full(len(v), i) for i, (_, v, _) in enumerate(component_points)])
    tree = cKDTree(all_points)
    patches: dict[int, list[int]] = {}
    for _, surface in model.getEntities(2):
        _, coords, _ = model.mesh.getNodes(2, surface, includeBoundary=True)
        _, nearest = tree.query(coords.reshape(-1, 3)[:1])
        patches.setdefault(int(owner[nearest[0]]), []).append(surface)

    geo = model.geo
    box_surfaces = _add_box(geo, lengths)
    loops = {i: geo.addSurfaceLoop(s) for i, s in patches.items()}
    inclusion_volumes = {i: geo.addVolume([loop]) for i, loop in loops.items()}
    matrix_volume = geo.addVolume([geo.addSurfaceLoop(list(box_surfaces.values())), *loops.values()])
    geo.synchronize()

    model.addPhysicalGroup(3, [matrix_volume], matrix + 1, name=names[matrix])
    for phase in surfaces:
        members = [i for i, (p, _, _) in enumerate(component_points) if p == phase]
        model.addPhysicalGroup(3, [inclusion_volumes[i] for i in members], phase + 1, name=names[phase])
        model.addPhysicalGroup(2, [s for i in members for s in patches[i]], interface_tag(matrix, phase),
                               name="|".join(names[v] for v in sorted((matrix, phase))))
    for name, surface in box_surfaces.items():
        model.addPhysicalGroup(2, [surface], BOX_FACETS[name], name=name)
    gmsh.option.setNumber("Mesh.MeshSizeMax", mesh_size)
    gmsh.option.setNumber("Mesh.MeshSizeMin", mesh_size / 4)
    model.mesh.generate(3)


def _add_box(geo, lengths) -> dict[str, int]:
    """Plane surfaces of the box [0, L] in the built-in kernel, keyed by BOX_FACETS names."""
    corner = {}
    for i in (0, 1):
        for j in (0, 1):
            for k in (0, 1):
                corner[i, j, k] = geo.addPoint(i * lengths[0], j * lengths[1], k * lengths[2])
    lines = {}

    def line(a, b):
        key = (a, b) if a < b else (b, a)
        if key not in lines:
            lines[key] = geo.addLine(corner[key[0]], corner[key[1]])
        return lines[key] if key == (a, b) else -lines[key]

    faces = {}
    for axis in range(3):
        u, v = [a for a in range(3) if a != axis]
        for side in (0, 1):
            def point(pu, pv):
                idx = [0, 0, 0]
                idx[axis], idx[u], idx[v] = side, pu, pv
                return tuple(idx)

            ring = [point(0, 0), point(1, 0), point(1, 1), point(0, 1)]
            loop = geo.addCurveLoop([line(ring[n], ring[(n + 1) % 4]) for n in range(4)])
            faces["xyz"[axis] + ("min", "max")[side]] = geo.addPlaneSurface([loop])
    return faces


def _shift_cell_tags(data: MeshData, names: dict[int, str]) -> MeshData:
    """Replace the gmsh cell tags (value + 1) by the image values."""
    import dolfinx.mesh

    tags = data.cell_tags
    data.cell_tags = dolfinx.mesh.meshtags(data.mesh, tags.dim, tags.indices, tags.values - 1)
    data.cell_names = {names[v]: v for v in names}
    return data
