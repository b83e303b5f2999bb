"""Conforming tetrahedral mesh of a segmented image with smooth phase interfaces ("snap and smooth").

Any number of phases in any arrangement: phases may touch each other, meet along triple lines and
cross the box faces (percolating electrodes such as the NMC cathode), as well as inclusions in a
matrix. Images up to about 128^3 (the mesh is built on rank 0, then distributed).

Method (rank 0):
1. smoothed phase indicators: phi_p = G_sigma * (image == p), a Gaussian of ``smoothing`` voxels with
   mirror images across the box faces (so interfaces meet the box at right angles); voxel (i, j, k) is
   centred at ((i + 1/2) dx, ...) as in the voxel mesh; phi_p between voxel centres is trilinear;
2. a background grid of spacing ~``mesh_size`` cut into 6 tetrahedra per cube (Kuhn triangulation,
   conforming by construction); each tetrahedron takes the phase p with the largest phi_p at its
   centroid (``smoothing=0``: the voxel holding the centroid, i.e. staircase interfaces);
3. snap: every vertex shared by tetrahedra of phases p0, p1, ... moves (Gauss-Newton, minimum-norm step)
   onto phi_p0 = phi_p1 = ... (an interface, a triple line or a quadruple point), box-face vertices only
   within their face, box-edge vertices only along the edge, corners never;
4. smooth: the other vertices move toward the mean of their grid neighbours (Laplacian), again within
   the box faces; steps 3-4 are repeated a few times.
Every move is accepted only if no tetrahedron gets a volume below ``MIN_VOLUME_FRACTION`` of its grid
volume (displacements are halved, then dropped, for the vertices of offending tetrahedra), so no cell
is ever inverted, the box is filled exactly (total volume = box volume) and the tags are conforming by
construction. A vertex whose snap is refused stays where it is: the interface is then locally
staircase-like (rare at mesh_size <= 1 voxel, see docs/meshing.md).

``mesher="gmsh"`` keeps only the interfaces and box faces of this mesh (marching tetrahedra) and lets
gmsh mesh the volumes between them (femiec.meshing.conforming_gmsh).

Tags as in the voxel mesh: cell tag = image value, ``cell_names["phase<value>"]`` (or ``phase_names``),
box faces ``BOX_FACETS``, interfaces ``interface_tag(a, b)`` named ``"<name_a>|<name_b>"`` (a < b).
"""
from __future__ import annotations

import numpy as np
from mpi4py import MPI

from femiec.errors import InputError
from femiec.meshing.base import BOX_FACETS, MeshData
from femiec.meshing.gmsh_builders import build_and_load
from femiec.meshing.voxel import interface_tag, selected_voxels, voxel_spacing

#: Smallest accepted cell volume during snapping/smoothing, as a fraction of the grid cell volume.
MIN_VOLUME_FRACTION = 0.02
#: Snap + smooth rounds.
ROUNDS = 4
#: Volume preservation: mesh passes (label, snap, measure, correct) and the accepted fraction error.
VOLUME_PASSES = 3
VOLUME_TOLERANCE = 2e-3
#: Largest change of an offset c_p in one volume pass (phi_p lies in [0, 1]).
MAX_OFFSET_STEP = 0.05

# Kuhn triangulation of the unit cube: tetrahedron = path 000 -> e_a -> e_a + e_b -> 111 over the
# permutations (a, b, c) of the axes; odd permutations get two vertices swapped (positive orientation).
_CORNERS = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])


def _kuhn_tets() -> np.ndarray:
    tets = []
    for a, b, c in [(0, 1, 2), (1, 2, 0), (2, 0, 1), (0, 2, 1), (2, 1, 0), (1, 0, 2)]:
        path = [np.zeros(3, int)]
        for axis in (a, b, c):
            path.append(path[-1] + np.eye(3, dtype=int)[axis])
        corner = [int(4 * p[0] + 2 * p[1] + p[2]) for p in path]
        p = np.array([path[1] - path[0], path[2] - path[0], path[3] - path[0]])
        if np.linalg.det(p) < 0:
            corner[1], corner[2] = corner[2], corner[1]
        tets.append(corner)
    return np.array(tets)


def conforming_mesh(
    image: np.ndarray,
    voxel_size=1.0,
    mesh_size: float | None = None,
    smoothing: float = 1.0,
    preserve_volume: bool = True,
    phase_names: dict[int, str] | None = None,
    comm=MPI.COMM_WORLD,
    mesher: str = "grid",
    max_size: float | None = None,
) -> MeshData:
    """Tetrahedral mesh of ``image`` with interfaces on the smoothed phase boundaries phi_a = phi_b.

    Args:
        image: integer array [ix, iy, iz] (0..255), the same on every rank.
        voxel_size: voxel edge(s) in metres.
        mesh_size: background grid spacing in metres (default: one voxel); the grid has
            round(L / mesh_size) cubes along each box edge L, 6 tetrahedra each.
        smoothing: Gaussian smoothing of the phase indicators, in voxels (0: none; staircase interfaces,
            every tetrahedron takes the value of the voxel holding its centroid).
        preserve_volume: shift the smoothed indicators (phi_p + c_p) so that each phase keeps its voxel
            volume (smoothing alone shrinks thin and convex features; False: the plain phi_a = phi_b).
        phase_names: value -> name (default ``phase<value>``).
        mesher: "grid": the snapped and smoothed grid itself (module doc); "gmsh": its interface and box
            surfaces (marching tetrahedra) bound gmsh volumes meshed and optimized by gmsh
            (femiec.meshing.conforming_gmsh; fewer poor cells and cells in all, graded with ``max_size``,
            slower; the worst cell is not always better, docs/meshing.md).
        max_size: largest element size in metres inside the phases, mesher "gmsh" only (default:
            ``mesh_size``, no grading); elements grow by half the distance to the nearest surface.
    """
    image = np.asarray(image)
    selected_voxels(image, None)  # validates dimension, dtype and value range
    spacing = voxel_spacing(voxel_size)
    if not (np.isfinite(smoothing) and smoothing >= 0):
        raise InputError("smoothing", smoothing, "a Gaussian width >= 0 in voxels")
    lengths = np.array(image.shape) * spacing
    mesh_size = float(spacing.min()) if mesh_size is None else mesh_size
    if not (np.isfinite(mesh_size) and mesh_size > 0):
        raise InputError("mesh_size", mesh_size, "a positive length in metres")
    if mesher not in ("grid", "gmsh"):
        raise InputError("mesher", mesher, "'grid' or 'gmsh'")
    max_size = mesh_size if max_size is None else max_size
    if not (np.isfinite(max_size) and max_size > 0):
        raise InputError("max_size", max_size, "a positive length in metres")
    cubes = np.maximum(1, np.rint(lengths / mesh_size)).astype(int)
    phases = [int(v) for v in np.unique(image)]
    names = {v: (phase_names or {}).get(v, f"phase{v}") for v in phases}
    scale = float(lengths.max())
    # gmsh cannot use physical tag 0: regions are tagged value + 1 in gmsh and shifted back after loading.
    region_tags = {names[v]: v + 1 for v in phases}

    def build(model):
        field = _PhaseField(image, phases, spacing / scale, smoothing)
        x, cells, labels = _phase_mesh(field, cubes, lengths / scale, preserve_volume)
        if mesher == "gmsh":
            from femiec.meshing.conforming_gmsh import remesh_volumes

            h = lengths / scale / cubes
            remesh_volumes(model, x, cells, labels, lengths / scale, float(h.min()),
                           MIN_VOLUME_FRACTION * np.prod(h) / 6, phases, names, max_size / scale)
            return
        facets = _tagged_facets(x, cells, labels, cubes, phases)
        _to_gmsh(model, x, cells, labels, facets, phases, names)

    info = {"source": "conforming image mesh", "geometry": "conforming_image", "image_shape": list(image.shape),
            "voxel_size_m": spacing.tolist(), "mesh_size_m": float(mesh_size), "grid_cubes": cubes.tolist(),
            "smoothing_voxels": float(smoothing), "preserve_volume": bool(preserve_volume), "mesher": mesher,
            "max_size_m": float(max_size)}
    data = build_and_load(comm, build, region_tags, scale, info)
    return _shift_cell_tags(data, names)


def check_conforming_phases(present, names: dict[int, str]) -> None:
    """InputError (``mesh.phases``) unless every image value ``present`` is listed: the conforming mesher
    fills the whole box, so every voxel belongs to a named phase."""
    missing = sorted(set(int(v) for v in present) - set(names))
    if missing:
        raise InputError("mesh.phases", sorted(names.values()), f"a name for every image value with mesher = "
                         f"'conforming' (it fills the box; not listed: {missing})")


def _phase_mesh(field: _PhaseField, cubes, lengths, preserve_volume: bool):
    """Vertices, tetrahedra and phase indices: labelled grid, snapped and smoothed (module doc).

    With ``preserve_volume`` the offsets c_p first match the estimated phase fractions to the image's,
    then up to ``VOLUME_PASSES`` corrections use the fractions of the finished mesh.
    """
    grid, cells = _grid(cubes, lengths)
    centroids = grid[cells].mean(axis=1)
    if field.smoothing == 0:
        return grid, cells, field.label(centroids)
    image = field.image
    target = np.array([np.count_nonzero(image == p) for p in field.phases]) / image.size
    slopes = field.match_fractions(target) if preserve_volume else None
    for attempt in range(VOLUME_PASSES + 1 if preserve_volume else 1):
        labels = field.label(centroids)
        x = _snap_and_smooth(grid, cells, labels, field, cubes, lengths)
        fractions = np.bincount(labels, weights=_volumes(x, cells), minlength=len(target)) / np.prod(lengths)
        if not preserve_volume or np.abs(target - fractions).max() < VOLUME_TOLERANCE * target.max():
            break
        # clipped: a phase meeting several others along a plane (a pad layer) has a tiny estimated slope
        step = 0.5 * (target - fractions) / slopes
        field.offsets += np.clip(step, -MAX_OFFSET_STEP, MAX_OFFSET_STEP)
    return x, cells, labels


class _PhaseField:
    """Smoothed indicators phi_p and their gradients, trilinear between voxel centres (scaled units)."""

    def __init__(self, image, phases, spacing, smoothing: float):
        from scipy.ndimage import gaussian_filter

        self.image, self.phases, self.spacing, self.smoothing = image, phases, spacing, smoothing
        self.phi, self.grad = [], []
        self.offsets = np.zeros(len(phases))  # c_p, added to phi_p (volume preservation)
        for p in phases if smoothing > 0 else []:
            phi = gaussian_filter((image == p).astype(np.float32), smoothing, mode="reflect")
            self.phi.append(phi)
            self.grad.append([g / h for g, h in zip(np.gradient(phi), spacing)])

    def estimated_fractions(self) -> tuple[np.ndarray, np.ndarray]:
        """Volume fraction of the region where phi_p + c_p is the largest, and its derivative in c_p.

        Sub-voxel estimate: the mean over voxel centres of clip(1/2 + d_p / h, 0, 1), with
        d_p = g_p / |grad g_p| the distance estimate of g_p = (phi_p + c_p) - max_q≠p (phi_q + c_q) and
        h the mean voxel size.
        """
        nphases = len(self.phases)
        fractions, slopes = np.ones(nphases), np.zeros(nphases)
        h = float(np.prod(self.spacing)) ** (1 / 3)
        for p in range(nphases if nphases > 1 else 0):
            others = [q for q in range(nphases) if q != p]
            shifted = np.stack([self.phi[q] + np.float32(self.offsets[q]) for q in others])
            nearest = shifted.argmax(axis=0)
            g = self.phi[p] + np.float32(self.offsets[p]) - np.take_along_axis(shifted, nearest[None], axis=0)[0]
            del shifted
            grad_sq = np.zeros_like(g)
            for axis in range(3):
                grad_sq += (self.grad[p][axis] - np.choose(nearest, [self.grad[q][axis] for q in others])) ** 2
            inverse_width = 1.0 / (h * np.maximum(np.sqrt(grad_sq), 1e-6 / h))
            ramp = 0.5 + g * inverse_width
            fractions[p] = np.clip(ramp, 0.0, 1.0).mean()
            slopes[p] = np.where((ramp > 0) & (ramp < 1), inverse_width, 0.0).mean()
        return fractions, np.maximum(slopes, 1e-6)

    def match_fractions(self, target, tolerance: float = 1e-4, iterations: int = 20) -> np.ndarray:
        """Newton iteration (diagonal) on the offsets c_p until estimated_fractions() = target."""
        for _ in range(iterations):
            fractions, slopes = self.estimated_fractions()
            if np.abs(target - fractions).max() < tolerance:
                break
            self.offsets += 0.5 * (target - fractions) / slopes  # each interface moves by both offsets
        return slopes

    def _coords(self, x):
        return (x / self.spacing - 0.5).T

    def values(self, x) -> np.ndarray:
        """phi_p(x) for every phase, shape (len(x), P)."""
        from scipy.ndimage import map_coordinates

        u = self._coords(x)
        return np.stack([map_coordinates(phi, u, order=1, mode="nearest") for phi in self.phi], axis=1) + self.offsets

    def gradients(self, x) -> np.ndarray:
        """grad phi_p(x) (central differences, interpolated), shape (len(x), P, 3)."""
        from scipy.ndimage import map_coordinates

        u = self._coords(x)
        return np.stack([np.stack([map_coordinates(g, u, order=1, mode="nearest") for g in grads], axis=1)
                         for grads in self.grad], axis=1)

    def label(self, x) -> np.ndarray:
        """Index (into ``phases``) of the phase at points x: largest phi_p, or the voxel holding x."""
        if self.smoothing == 0:
            ijk = np.minimum(np.floor(x / self.spacing).astype(int), np.array(self.image.shape) - 1)
            return np.searchsorted(self.phases, self.image[tuple(ijk.T)])
        best = np.zeros(len(x), dtype=np.int64)
        for start in range(0, len(x), 1 << 20):  # chunks keep memory flat
            chunk = slice(start, start + (1 << 20))
            best[chunk] = self.values(x[chunk]).argmax(axis=1)
        return best


def _grid(cubes, lengths) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (scaled units) and Kuhn tetrahedra (vertex indices) of the background grid."""
    axes = [np.linspace(0, length, n + 1) for n, length in zip(cubes, lengths)]
    x = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in cubes], indexing="ij"), axis=-1).reshape(-1, 3)
    strides = np.array([(cubes[1] + 1) * (cubes[2] + 1), cubes[2] + 1, 1])
    corner_vertices = ijk @ strides  # vertex index of corner 000 of every cube
    corner_offsets = _CORNERS @ strides
    cells = corner_vertices[:, None, None] + corner_offsets[_kuhn_tets()][None, :, :]
    return x, cells.reshape(-1, 4)


def _volumes(x, cells) -> np.ndarray:
    a = x[cells[:, 0]]
    return np.einsum("ij,ij->i", x[cells[:, 1]] - a, np.cross(x[cells[:, 2]] - a, x[cells[:, 3]] - a)) / 6


def _accept(x, target, cells, min_volume) -> np.ndarray:
    """Move vertices toward ``target`` as far as every tetrahedron keeps a volume >= ``min_volume``.

    The displacement of the vertices of a tetrahedron that gets too small is halved (four times), then
    dropped; ``x`` is valid, so the loop always ends with a valid mesh.
    """
    step = target - x
    alpha = np.ones(len(x))
    moving = np.flatnonzero(np.any(step != 0, axis=1))
    watched = np.flatnonzero(np.isin(cells, moving).any(axis=1))
    for attempt in range(64):
        trial = x + alpha[:, None] * step
        bad = watched[_volumes(trial, cells[watched]) < min_volume]
        if len(bad) == 0:
            return trial
        vertices = np.unique(cells[bad])
        alpha[vertices] = 0.5 * alpha[vertices] if attempt < 4 else 0.0
    return x  # pragma: no cover - unreachable: dropping all moves restores x


def _snap_and_smooth(x, cells, labels, field: _PhaseField, cubes, lengths) -> np.ndarray:
    """Interface vertices onto phi_a = phi_b (= phi_c ...), the others toward their neighbours' mean."""
    nphases = len(field.phases)
    member = np.zeros((len(x), nphases), dtype=bool)
    member[cells.ravel(), np.repeat(labels, 4)] = True
    interface = np.flatnonzero(member.sum(axis=1) >= 2)
    free = _free_directions(x, lengths)
    h = lengths / cubes
    min_volume = MIN_VOLUME_FRACTION * np.prod(h) / 6
    x0 = x.copy()
    code = member @ (1 << np.arange(nphases))  # the set of phases around each vertex, as bits
    code[member.sum(axis=1) == 1] = 0  # vertices inside a phase average over all their neighbours
    for _ in range(ROUNDS):
        target = _neighbour_mean(x, cubes, code, free)
        target[interface] = _snap(target[interface], x0[interface], member[interface], free[interface], field,
                                  h.min())
        x = _accept(x, target, cells, min_volume)
    return x


def _free_directions(x, lengths) -> np.ndarray:
    """1 where a vertex may move along an axis, 0 on the box faces normal to that axis."""
    tol = 1e-9 * lengths.max()
    return ((x > tol) & (x < lengths - tol)).astype(float)


def _snap(x, x_grid, member, free, field: _PhaseField, h: float, iterations: int = 4) -> np.ndarray:
    """Gauss-Newton onto phi_p0(x) - phi_pi(x) = 0 for the phases p0 < p1 < ... around each vertex.

    Minimum-norm steps in the free directions (pseudo-inverse); the snapped point stays within one grid
    spacing of the grid vertex.
    """
    first = member.argmax(axis=1)
    rows = member.copy()
    rows[np.arange(len(x)), first] = False  # constraints phi_first - phi_i for the other phases i
    for _ in range(iterations):
        values, grads = field.values(x), field.gradients(x)
        take = np.arange(len(x))
        f = (values[take, first][:, None] - values) * rows  # (n, P), zero rows for absent phases
        jac = (grads[take, first][:, None, :] - grads) * rows[:, :, None] * free[:, None, :]
        step = -np.einsum("nij,nj->ni", np.linalg.pinv(jac, rcond=1e-8), f)
        length = np.linalg.norm(step, axis=1)
        step *= np.minimum(1.0, 0.5 * h / np.maximum(length, 1e-300))[:, None]
        x = x + step
        shift = x - x_grid
        too_far = np.linalg.norm(shift, axis=1) > h
        x[too_far] = x_grid[too_far] + shift[too_far] * (h / np.linalg.norm(shift[too_far], axis=1))[:, None]
    return x


def _neighbour_mean(x, cubes, code, free) -> np.ndarray:
    """Mean of the grid neighbours (the 14 Kuhn edges +-{0,1}^3) of every vertex, in its free directions.

    A vertex with ``code`` != 0 (an interface, triple line ...) averages only its neighbours with the
    same code (tangential smoothing along the interface); code 0 averages all neighbours."""
    shape = tuple(cubes + 1)
    grid = x.reshape(*shape, 3)
    code = code.reshape(shape)
    total = np.zeros_like(grid)
    count = np.zeros(shape)
    for offset in _CORNERS[1:]:
        for sign in (1, -1):
            d = sign * offset
            dst = tuple(slice(max(0, -s), n - max(0, s)) for s, n in zip(d, shape))
            src = tuple(slice(max(0, s), n - max(0, -s)) for s, n in zip(d, shape))
            use = (code[dst] == 0) | (code[dst] == code[src])
            total[dst] += grid[src] * use[..., None]
            count[dst] += use
    mean = (total / np.maximum(count, 1)[..., None]).reshape(-1, 3)
    mean[count.ravel() == 0] = x[count.ravel() == 0]
    return x + (mean - x) * free


def _tagged_facets(x, cells, labels, cubes, phases) -> dict[int, np.ndarray]:
    """facet tag value -> triangles (vertex indices): box faces and interfaces between unlike phases."""
    faces = np.concatenate([cells[:, [1, 2, 3]], cells[:, [0, 3, 2]], cells[:, [0, 1, 3]], cells[:, [0, 2, 1]]])
    owner = np.tile(np.arange(len(cells)), 4)
    shape = cubes + 1
    ijk = np.stack(np.unravel_index(np.arange(np.prod(shape)), tuple(shape)), axis=1)
    facets: dict[int, np.ndarray] = {}
    for axis in range(3):
        for side, name in ((0, "xyz"[axis] + "min"), (cubes[axis], "xyz"[axis] + "max")):
            on_plane = np.all(ijk[faces, axis] == side, axis=1)
            facets[BOX_FACETS[name]] = faces[on_plane]
    # Interface candidates: faces whose three vertices touch two or more phases.
    nphases = len(phases)
    member = np.zeros((len(x), nphases), dtype=bool)
    member[cells.ravel(), np.repeat(labels, 4)] = True
    on_interface = member.sum(axis=1) >= 2
    candidate = np.flatnonzero(on_interface[faces].all(axis=1))
    key = np.sort(faces[candidate], axis=1).astype(np.int64)
    key = (key[:, 0] * len(x) + key[:, 1]) * len(x) + key[:, 2]
    order = np.argsort(key, kind="stable")
    pair = np.flatnonzero(key[order][1:] == key[order][:-1])
    first, second = candidate[order[pair]], candidate[order[pair + 1]]
    a, b = labels[owner[first]], labels[owner[second]]
    unlike = a != b
    tags = np.array([interface_tag(phases[i], phases[j]) for i, j in zip(a[unlike], b[unlike])], dtype=np.int64)
    triangles = faces[first[unlike]]
    for tag in np.unique(tags):
        facets[int(tag)] = triangles[tags == tag]
    return facets


def _to_gmsh(model, x, cells, labels, facets, phases, names) -> None:
    """Store the mesh in the gmsh model as discrete entities with physical groups (for the reader)."""
    nodes = np.arange(1, len(x) + 1)
    entity = model.addDiscreteEntity(3)
    model.mesh.addNodes(3, entity, nodes, x.ravel())
    for index, phase in enumerate(phases):
        tets = cells[labels == index]
        if len(tets) == 0:
            continue
        volume = entity if index == 0 else model.addDiscreteEntity(3)
        model.mesh.addElementsByType(volume, 4, [], (tets + 1).ravel())
        model.addPhysicalGroup(3, [volume], phase + 1, name=names[phase])
    by_tag = {v: k for k, v in BOX_FACETS.items()}
    for tag, triangles in facets.items():
        if len(triangles) == 0:
            continue
        if tag in by_tag:
            name = by_tag[tag]
        else:
            a, b = divmod(tag - interface_tag(0, 0), 256)
            name = f"{names[a]}|{names[b]}"
        surface = model.addDiscreteEntity(2)
        model.mesh.addElementsByType(surface, 2, [], (triangles + 1).ravel())
        model.addPhysicalGroup(2, [surface], tag, name=name)


def _shift_cell_tags(data: MeshData, names: dict[int, str]) -> MeshData:
    """Replace the gmsh cell tags (value + 1) by the image values."""
    import dolfinx.mesh

    tags = data.cell_tags
    data.cell_tags = dolfinx.mesh.meshtags(data.mesh, tags.dim, tags.indices, tags.values - 1)
    data.cell_names = {names[v]: v for v in names if v + 1 in set(data.cell_names.values())}
    return data
