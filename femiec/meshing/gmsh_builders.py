"""Parametric geometries meshed with gmsh (OpenCASCADE kernel) and returned as tagged MeshData.

Every builder takes lengths in metres, builds the model on rank 0 only (in units of ``scale`` =
the largest box length, so that OpenCASCADE's absolute tolerances stay relative), meshes it with
tetrahedra and distributes it with DOLFINx's gmsh reader; coordinates are then multiplied back to metres.

Tags (docs/tags.md), from gmsh physical groups:
- cell regions 1, 2, ... in the order documented by each builder;
- box faces ``BOX_FACETS`` (xmin=1 ... zmax=6) on the outer box;
- the interface between regions with tags a < b: ``interface_tag(a, b) = 1000 + 256*a + b``, named
  ``"<region a>|<region b>"``.

Mesh size: ``mesh_size`` (m) is the largest element size; curved surfaces get at least
``points_per_circle`` elements per 2 pi radians of curvature (0: mesh_size only); ``refine`` grades the mesh toward chosen
interfaces (Debye layers): element size ``size_min`` within ``distance_min`` of those surfaces, growing
linearly to ``mesh_size`` at ``distance_max`` (gmsh Distance + Threshold fields).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from mpi4py import MPI

from femiec.errors import InputError
from femiec.meshing.base import BOX_FACETS, MeshData
from femiec.meshing.gmsh_file import model_to_meshdata
from femiec.meshing.voxel import interface_tag


@dataclass(frozen=True)
class Refinement:
    """Mesh grading toward the interfaces named in ``interfaces`` (e.g. ``["electrode|separator"]``).

    Element size ``size_min`` (m) up to ``distance_min`` (m) from them, then linear growth to the
    builder's ``mesh_size`` at ``distance_max`` (m).
    """

    interfaces: Sequence[str]
    size_min: float
    distance_min: float
    distance_max: float


def build_and_load(comm, build, region_tags: dict[str, int], scale: float, info: dict) -> MeshData:
    """Run ``build(model)`` on rank 0 (geometry, tags, mesh), then distribute the mesh to all ranks.

    A failure on rank 0 is raised on every rank (InputError stays an InputError), so no rank hangs.
    Coordinates are multiplied by ``scale`` (back to metres).
    """
    import gmsh

    error = None
    started = comm.rank == 0 and not gmsh.isInitialized()
    if comm.rank == 0:
        if started:
            gmsh.initialize(["-noenv"], readConfigFiles=False)
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add(info.get("geometry", "femiec"))
        try:
            build(gmsh.model)
        except InputError as exc:
            error = ("input", exc.key, exc.value, exc.expected)
        except Exception as exc:  # gmsh raises plain Exception
            error = ("gmsh", type(exc).__name__, str(exc), "")
    try:
        error = comm.bcast(error, root=0)
        if error is not None:
            kind, *args = error
            raise InputError(*args) if kind == "input" else RuntimeError(f"gmsh failed: {args[0]}: {args[1]}")
        data = model_to_meshdata(gmsh.model, comm, gdim=3, info=info)
    finally:
        if comm.rank == 0:
            gmsh.model.remove()
            if started:
                gmsh.finalize()
    data.mesh.geometry.x[:] *= scale
    data.cell_names = {name: tag for name, tag in region_tags.items() if name in data.cell_names}
    return data


def _positive(key: str, value) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if not np.all(np.isfinite(arr) & (arr > 0)):
        raise InputError(key, value, "positive lengths in metres")
    return arr


def _tag_and_mesh(model, volume_regions: dict[int, str], region_tags: dict[str, int], lengths, mesh_size,
                  refine: Refinement | None, points_per_circle: int = 0) -> None:
    """Physical groups for regions, box faces and interfaces, size fields, then a 3D mesh (rank 0).

    ``volume_regions`` maps gmsh volume tag -> region name; ``lengths`` are the scaled box lengths.
    """
    import gmsh

    for name, tag in region_tags.items():
        volumes = [v for v, region in volume_regions.items() if region == name]
        if volumes:
            model.addPhysicalGroup(3, volumes, tag, name=name)
    faces: dict[str, list[int]] = {}
    for _, surface in model.getEntities(2):
        adjacent = [volume_regions[v] for v in model.getAdjacencies(2, surface)[0]]
        if len(adjacent) == 2 and adjacent[0] != adjacent[1]:
            a, b = sorted(adjacent, key=region_tags.get)
            faces.setdefault(f"{a}|{b}", []).append(surface)
        elif len(adjacent) == 1:
            faces.setdefault(_box_face(model, surface, lengths), []).append(surface)
    for name, surfaces in faces.items():
        if name in BOX_FACETS:
            tag = BOX_FACETS[name]
        else:
            a, b = name.split("|")
            tag = interface_tag(region_tags[a], region_tags[b])
        model.addPhysicalGroup(2, surfaces, tag, name=name)

    gmsh.option.setNumber("Mesh.MeshSizeMax", mesh_size)
    gmsh.option.setNumber("Mesh.MeshSizeMin", mesh_size / 20 if refine is None else min(refine.size_min, mesh_size) / 2)
    if points_per_circle:
        gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", points_per_circle)
    if refine is not None:
        unknown = [n for n in refine.interfaces if n not in faces or n in BOX_FACETS]
        if unknown:
            known = sorted(n for n in faces if n not in BOX_FACETS)
            raise InputError("refine.interfaces", unknown, f"interfaces of this geometry {known}")
        _grade(model, [s for n in refine.interfaces for s in faces[n]], refine, mesh_size)
    model.mesh.generate(3)


def _box_face(model, surface: int, lengths) -> str:
    """Name of the box face a boundary surface lies on (scaled box [0, L])."""
    bbox = np.array(model.getBoundingBox(2, surface)).reshape(2, 3)
    for axis in range(3):
        for side, name in ((0.0, "min"), (lengths[axis], "max")):
            if np.allclose(bbox[:, axis], side, atol=1e-6 * max(lengths)):
                return "xyz"[axis] + name
    raise InputError("geometry", f"surface {surface}", "every outer surface on the box faces")


def _grade(model, surfaces: list[int], refine: Refinement, mesh_size: float) -> None:
    """Distance + Threshold size field toward ``surfaces`` (all quantities already scaled)."""
    import gmsh

    distance = model.mesh.field.add("Distance")
    model.mesh.field.setNumbers(distance, "SurfacesList", surfaces)
    model.mesh.field.setNumber(distance, "Sampling", 100)
    threshold = model.mesh.field.add("Threshold")
    model.mesh.field.setNumber(threshold, "InField", distance)
    model.mesh.field.setNumber(threshold, "SizeMin", refine.size_min)
    model.mesh.field.setNumber(threshold, "SizeMax", mesh_size)
    model.mesh.field.setNumber(threshold, "DistMin", refine.distance_min)
    model.mesh.field.setNumber(threshold, "DistMax", refine.distance_max)
    model.mesh.field.setAsBackgroundMesh(threshold)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)


def _scaled(refine: Refinement | None, scale: float) -> Refinement | None:
    if refine is None:
        return None
    _positive("refine", [refine.size_min, refine.distance_min, refine.distance_max])
    if refine.distance_max <= refine.distance_min:
        raise InputError("refine.distance_max", refine.distance_max, f"> distance_min = {refine.distance_min}")
    return Refinement(tuple(refine.interfaces), refine.size_min / scale, refine.distance_min / scale,
                      refine.distance_max / scale)


def _fragment_into_regions(model, pieces: list[tuple[int, str]]) -> dict[int, str]:
    """Fragment the OCC volumes so that they conform; later pieces win where volumes overlap.

    ``pieces`` is a list of (volume tag, region name) in increasing priority; returns the region of every
    resulting volume.
    """
    occ = model.occ
    _, children = occ.fragment([(3, v) for v, _ in pieces[:1]], [(3, v) for v, _ in pieces[1:]])
    occ.synchronize()
    regions: dict[int, str] = {}
    for (_, region), kids in zip(pieces, children):
        for _, volume in kids:
            regions[volume] = region
    return regions


# --- builders ------------------------------------------------------------------------------------


def sandwich_cell(
    layers: Sequence[tuple[str, float]] = (
        ("current_collector", 10e-6),
        ("electrode", 50e-6),
        ("separator", 20e-6),
        ("counter_electrode", 30e-6),
    ),
    width: tuple[float, float] = (20e-6, 20e-6),
    mesh_size: float = 5e-6,
    refine: Refinement | None = None,
    comm=MPI.COMM_WORLD,
) -> MeshData:
    """Planar cell: layers stacked along x, each ``(name, thickness in m)``, cross-section ``width`` (y, z).

    Cell regions: the layers, tags 1, 2, ... in stacking order. Facets: BOX_FACETS and the interfaces
    ``"<layer i>|<layer i+1>"`` (interface_tag of the two layer tags).
    """
    names = [name for name, _ in layers]
    if len(set(names)) != len(names) or not names:
        raise InputError("layers", names, "one or more distinct layer names")
    thickness = _positive("layers thickness", [t for _, t in layers])
    width = _positive("width", width)
    lengths = np.array([thickness.sum(), *width])
    scale = lengths.max()
    region_tags = {name: i + 1 for i, name in enumerate(names)}
    grading = _scaled(refine, scale)

    def build(model):
        x0 = np.concatenate([[0.0], np.cumsum(thickness)])[:-1] / scale
        pieces = [(model.occ.addBox(x, 0, 0, t / scale, *(width / scale)), name)
                  for x, t, name in zip(x0, thickness, names)]
        regions = _fragment_into_regions(model, pieces)
        _tag_and_mesh(model, regions, region_tags, lengths / scale, mesh_size / scale, grading)

    info = {"source": "gmsh", "geometry": "sandwich_cell", "layers": [list(layer) for layer in layers],
            "width_m": width.tolist(), "mesh_size_m": mesh_size}
    return build_and_load(comm, build, region_tags, scale, info)


def sphere_in_box(
    radius: float,
    lengths: Sequence[float],
    center: Sequence[float] | None = None,
    mesh_size: float | None = None,
    refine: Refinement | None = None,
    points_per_circle: int = 16,
    comm=MPI.COMM_WORLD,
) -> MeshData:
    """A sphere of ``radius`` (m) inside the box [0, L] (default: centred); regions "matrix" (1) and
    "sphere" (2), interface "matrix|sphere". The sphere must not touch the box faces."""
    return particle_packing(
        [(np.asarray(center if center is not None else np.asarray(lengths) / 2, dtype=float), (radius,) * 3, None)],
        lengths, mesh_size, refine, points_per_circle, comm, particle_names=["sphere"]
    )


def random_spheres(
    lengths: Sequence[float],
    radius: float | tuple[float, float],
    count: int,
    gap: float | None = None,
    seed: int = 0,
    max_attempts: int = 100000,
) -> np.ndarray:
    """Random sequential addition of ``count`` non-overlapping spheres fully inside the box.

    ``radius``: a radius or (mean, standard deviation) of a normal law clipped to [mean/2, 3 mean/2] (m);
    any two spheres and any sphere and box face are at least ``gap`` apart (default 5 % of the mean
    radius). Returns an array (count, 4) of centre x, y, z and radius. Same seed -> same packing.
    InputError when the spheres do not fit after ``max_attempts`` trials.
    """
    lengths = _positive("lengths", lengths)
    mean, std = (float(radius), 0.0) if np.isscalar(radius) else (float(radius[0]), float(radius[1]))
    _positive("radius", mean)
    gap = 0.05 * mean if gap is None else float(gap)
    rng = np.random.default_rng(seed)
    radii = np.sort(np.clip(rng.normal(mean, std, count), mean / 2, 1.5 * mean))[::-1]
    spheres = np.zeros((0, 4))
    attempts = 0
    for r in radii:
        while True:
            attempts += 1
            if attempts > max_attempts:
                phi = (4 / 3) * np.pi * np.sum(radii**3) / np.prod(lengths)
                raise InputError("count", count, f"fewer spheres (placed {len(spheres)}; volume fraction {phi:.2f} "
                                 "is too high for random sequential addition, keep it below about 0.3)")
            low, high = r + gap, lengths - r - gap
            if np.any(high < low):
                raise InputError("radius", float(r), f"a sphere fitting in the box {lengths.tolist()}")
            c = rng.uniform(low, high)
            if np.all(np.linalg.norm(spheres[:, :3] - c, axis=1) >= spheres[:, 3] + r + gap):
                spheres = np.vstack([spheres, [*c, r]])
                break
    return spheres


def sphere_packing(
    lengths: Sequence[float],
    radius: float | tuple[float, float],
    count: int,
    gap: float | None = None,
    seed: int = 0,
    mesh_size: float | None = None,
    refine: Refinement | None = None,
    points_per_circle: int = 16,
    comm=MPI.COMM_WORLD,
) -> MeshData:
    """Mesh of ``count`` random non-overlapping spheres (``random_spheres``) in a box with conforming
    interfaces. Regions: "matrix" (1) and "particle<i>" (i + 1, i = 1..count); interfaces
    "matrix|particle<i>". ``info["particles"]`` lists centres and radii (m)."""
    spheres = random_spheres(lengths, radius, count, gap, seed)
    data = particle_packing([(s[:3], (s[3],) * 3, None) for s in spheres], lengths, mesh_size, refine,
                            points_per_circle, comm)
    data.info["particles"] = spheres.tolist()
    return data


def ellipsoid_packing(
    lengths: Sequence[float],
    semi_axes: Sequence[float],
    count: int,
    gap: float | None = None,
    seed: int = 0,
    mesh_size: float | None = None,
    refine: Refinement | None = None,
    points_per_circle: int = 16,
    comm=MPI.COMM_WORLD,
) -> MeshData:
    """Mesh of ``count`` randomly oriented ellipsoids with ``semi_axes`` (a, b, c) (m) in a box.

    Non-overlap is guaranteed conservatively: the bounding spheres (radius max(a, b, c)) are packed
    with ``random_spheres``. Regions and interfaces as in ``sphere_packing``; ``info["particles"]``
    holds centre, semi-axes and rotation matrix of each ellipsoid.
    """
    semi_axes = _positive("semi_axes", semi_axes)
    spheres = random_spheres(lengths, float(semi_axes.max()), count, gap, seed)
    rotations = _random_rotations(len(spheres), np.random.default_rng(seed + 1))
    data = particle_packing([(s[:3], semi_axes, q) for s, q in zip(spheres, rotations)], lengths, mesh_size,
                            refine, points_per_circle, comm)
    data.info["particles"] = [
        {"center_m": s[:3].tolist(), "semi_axes_m": semi_axes.tolist(), "rotation": q.tolist()}
        for s, q in zip(spheres, rotations)
    ]
    return data


def _random_rotations(n: int, rng) -> np.ndarray:
    """Uniformly distributed rotation matrices (from normalized random quaternions)."""
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1)[:, None]
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
    ], axis=1)


def particle_packing(
    particles: Sequence[tuple[Sequence[float], Sequence[float], np.ndarray | None]],
    lengths: Sequence[float],
    mesh_size: float | None = None,
    refine: Refinement | None = None,
    points_per_circle: int = 16,
    comm=MPI.COMM_WORLD,
    particle_names: Sequence[str] | None = None,
) -> MeshData:
    """Mesh of given ellipsoidal particles ``(centre, semi_axes, rotation matrix or None)`` (m) inside
    the box [0, L]; the caller guarantees they do not overlap or touch the box. Regions "matrix" (1) and
    the particles (2, 3, ...; default names "particle<i>"); interfaces "matrix|<particle>".
    Default ``mesh_size``: a fifth of the smallest semi-axis.
    """
    lengths = _positive("lengths", lengths)
    if len(lengths) != 3 or not particles:
        raise InputError("particles", len(particles), "at least one particle in a 3D box")
    if len(particles) > 254:
        raise InputError("particles", len(particles), "at most 254 particles (one cell tag each)")
    names = list(particle_names or [f"particle{i + 1}" for i in range(len(particles))])
    region_tags = {"matrix": 1, **{name: i + 2 for i, name in enumerate(names)}}
    smallest = min(float(np.min(axes)) for _, axes, _ in particles)
    mesh_size = smallest / 5 if mesh_size is None else float(mesh_size)
    scale = lengths.max()
    grading = _scaled(refine, scale)

    def build(model):
        occ = model.occ
        pieces = [(occ.addBox(0, 0, 0, *(lengths / scale)), "matrix")]
        for (center, axes, rotation), name in zip(particles, names):
            axes = np.asarray(axes, dtype=float) / scale
            pieces.append((_add_ellipsoid(occ, np.asarray(center) / scale, axes, rotation), name))
        regions = _fragment_into_regions(model, pieces)
        _tag_and_mesh(model, regions, region_tags, lengths / scale, mesh_size / scale, grading, points_per_circle)

    info = {"source": "gmsh", "geometry": "particle_packing", "lengths_m": lengths.tolist(),
            "mesh_size_m": mesh_size, "num_particles": len(particles)}
    return build_and_load(comm, build, region_tags, scale, info)


def _add_ellipsoid(occ, center, axes, rotation) -> int:
    """OCC ellipsoid: unit sphere scaled by the semi-axes, rotated, then moved to ``center``."""
    volume = occ.addSphere(0, 0, 0, 1.0)
    if np.allclose(axes, axes[0]):
        occ.dilate([(3, volume)], 0, 0, 0, axes[0], axes[0], axes[0])
    else:
        occ.dilate([(3, volume)], 0, 0, 0, *axes)
        if rotation is not None:
            r = np.asarray(rotation, dtype=float)
            occ.affineTransform([(3, volume)], [*r[0], 0.0, *r[1], 0.0, *r[2], 0.0])
    occ.translate([(3, volume)], *center)
    return volume


def pillar_electrode(
    lengths: Sequence[float] = (60e-6, 20e-6, 20e-6),
    collector_thickness: float = 5e-6,
    pillar_radius: float = 3e-6,
    pillar_height: float = 40e-6,
    pillars: tuple[int, int] = (2, 2),
    mesh_size: float = 2.5e-6,
    refine: Refinement | None = None,
    points_per_circle: int = 16,
    comm=MPI.COMM_WORLD,
) -> MeshData:
    """Columnar electrode: a current-collector slab [0, t] along x carrying a square array of
    ``pillars`` (ny, nz) cylindrical pillars of ``pillar_radius`` and ``pillar_height`` along x, in an
    electrolyte filling the rest of the box [0, Lx] x [0, Ly] x [0, Lz] (m).

    Regions: "current_collector" (1), "electrode" (2, the pillars), "electrolyte" (3). Interfaces:
    "current_collector|electrode", "current_collector|electrolyte", "electrode|electrolyte".
    """
    lengths = _positive("lengths", lengths)
    t, r, h = _positive("pillar dimensions", [collector_thickness, pillar_radius, pillar_height])
    pitch = lengths[1:] / np.asarray(pillars, dtype=float)
    if np.any(2 * r >= pitch) or t + h >= lengths[0]:
        raise InputError("pillars", f"radius {r}, height {h}", f"2 radius < pitch {pitch.tolist()} and "
                         f"collector + height < {lengths[0]}")
    region_tags = {"current_collector": 1, "electrode": 2, "electrolyte": 3}
    scale = lengths.max()
    grading = _scaled(refine, scale)

    def build(model):
        occ = model.occ
        s = lengths / scale
        pieces = [(occ.addBox(0, 0, 0, *s), "electrolyte"),
                  (occ.addBox(0, 0, 0, t / scale, s[1], s[2]), "current_collector")]
        for j in range(pillars[0]):
            for k in range(pillars[1]):
                cy, cz = (j + 0.5) * pitch[0] / scale, (k + 0.5) * pitch[1] / scale
                pieces.append((occ.addCylinder(t / scale, cy, cz, h / scale, 0, 0, r / scale), "electrode"))
        regions = _fragment_into_regions(model, pieces)
        _tag_and_mesh(model, regions, region_tags, s, mesh_size / scale, grading, points_per_circle)

    info = {"source": "gmsh", "geometry": "pillar_electrode", "lengths_m": lengths.tolist(),
            "pillars": list(pillars), "pillar_radius_m": r, "pillar_height_m": h,
            "collector_thickness_m": t, "mesh_size_m": mesh_size}
    return build_and_load(comm, build, region_tags, scale, info)
