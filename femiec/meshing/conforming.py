"""Conforming tetrahedral mesh of a segmented image with smooth phase interfaces ("snap and smooth").

Any number of phases in any arrangement: phases may touch each other, meet along triple lines and
cross the box faces (percolating electrodes such as the NMC cathode), as well as inclusions in a
matrix. Mesher "grid" builds the mesh distributed: each rank builds its slab of the grid along x (one
ghost plane of vertices on each side, refreshed from their owners after every step), so the mesh is the
same on any number of ranks; mesher "gmsh" builds on rank 0 (images up to about 128^3).

The image is read by planes (femiec.meshing.rank_planes.RankPlanes): each rank keeps its x-planes and a
halo of :func:`conforming_halo` planes, and takes the planes its phase field needs (step 1) from them, or
from the ranks owning them where its halo falls short; phases and their voxel counts come from the image's
histogram (summed over the ranks). An array is cut into planes as views of it (the same code path).
Mesher "gmsh" (and ``distributed=False``) gathers the whole image on rank 0.

Method:
1. smoothed phase indicators: phi_p = G_sigma * (image == p), a Gaussian of ``smoothing`` voxels with
   mirror images across the box faces (so interfaces meet the box at right angles); voxel (i, j, k) is
   centred at ((i + 1/2) dx, ...) as in the voxel mesh; phi_p between voxel centres is trilinear. Each
   rank computes phi_p only on the voxel planes its slab of the grid can reach (its vertices, moved by
   at most ``ROUNDS + 2`` grid spacings, and one voxel for the interpolation), from the image's planes
   plus the Gaussian's radius round(4 sigma) and one plane for the gradient (:func:`field_planes`): the
   same values as the filter of the whole image, bit for bit (scipy's filter works plane by plane along
   x with the same taps; the box ends are inside a slab that reaches them);
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
from femiec.meshing.rank_planes import RankPlanes, read_rank_planes
from femiec.meshing.voxel import interface_tag, voxel_spacing

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
    image: np.ndarray | RankPlanes,
    voxel_size=1.0,
    mesh_size: float | None = None,
    smoothing: float = 1.0,
    preserve_volume: bool = True,
    phase_names: dict[int, str] | None = None,
    comm=MPI.COMM_WORLD,
    mesher: str = "grid",
    max_size: float | None = None,
    distributed: bool = True,
) -> MeshData:
    """Tetrahedral mesh of ``image`` with interfaces on the smoothed phase boundaries phi_a = phi_b.

    Args:
        image: this rank's planes of the image (RankPlanes, e.g. femiec.meshing.rank_planes.read_rank_planes
            with a halo of :func:`conforming_halo`; any halo works, the planes missing are sent by their
            owners), or an integer array [ix, iy, iz] (0..255), the same on every rank (cut into planes as
            views of it).
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
        distributed: mesher "grid": every rank builds its own slab of the grid (the same mesh on any number
            of ranks, module doc); False: the whole grid is built on rank 0 and distributed by gmsh's reader
            (the reference the distributed build is tested against). Mesher "gmsh" always builds on rank 0.
    """
    spacing = voxel_spacing(voxel_size)
    if not (np.isfinite(smoothing) and smoothing >= 0):
        raise InputError("smoothing", smoothing, "a Gaussian width >= 0 in voxels")
    mesh_size = float(spacing.min()) if mesh_size is None else mesh_size
    if not (np.isfinite(mesh_size) and mesh_size > 0):
        raise InputError("mesh_size", mesh_size, "a positive length in metres")
    if not isinstance(image, RankPlanes):
        image = read_rank_planes(image, comm, None, halo=conforming_halo(spacing, mesh_size, smoothing))
    lengths = np.array(image.shape) * spacing
    if mesher not in ("grid", "gmsh"):
        raise InputError("mesher", mesher, "'grid' or 'gmsh'")
    max_size = mesh_size if max_size is None else max_size
    if not (np.isfinite(max_size) and max_size > 0):
        raise InputError("max_size", max_size, "a positive length in metres")
    cubes = np.maximum(1, np.rint(lengths / mesh_size)).astype(int)
    phases = [int(v) for v in np.flatnonzero(image.histogram)]
    names = {v: (phase_names or {}).get(v, f"phase{v}") for v in phases}
    scale = float(lengths.max())
    # gmsh cannot use physical tag 0: regions are tagged value + 1 in gmsh and shifted back after loading.
    region_tags = {names[v]: v + 1 for v in phases}

    info = {"source": "conforming image mesh", "geometry": "conforming_image", "image_shape": list(image.shape),
            "voxel_size_m": spacing.tolist(), "mesh_size_m": float(mesh_size), "grid_cubes": cubes.tolist(),
            "smoothing_voxels": float(smoothing), "preserve_volume": bool(preserve_volume), "mesher": mesher,
            "max_size_m": float(max_size)}
    if mesher == "grid" and distributed:
        slab = _Slab(comm, cubes)
        field = _PhaseField(image, phases, spacing / scale, smoothing, slab, lengths / scale)
        x, cells, labels = _phase_mesh(field, slab, lengths / scale, preserve_volume)
        return _create_meshdata(slab, x, cells, labels, phases, names, scale, info)

    whole = comm.gather(image.owned(), root=0)  # the rank-0 build reads the whole image

    def build(model):
        slab = _Slab(MPI.COMM_SELF, cubes)
        planes = read_rank_planes(np.concatenate(whole), MPI.COMM_SELF, None)
        field = _PhaseField(planes, phases, spacing / scale, smoothing, slab, lengths / scale)
        x, cells, labels = _phase_mesh(field, slab, lengths / scale, preserve_volume)
        if mesher == "gmsh":
            from femiec.meshing.conforming_gmsh import remesh_volumes

            h = lengths / scale / cubes
            remesh_volumes(model, x, cells, labels, lengths / scale, float(h.min()),
                           MIN_VOLUME_FRACTION * np.prod(h) / 6, phases, names, max_size / scale)
            return
        facets = _tagged_facets(x, cells, labels, slab, phases)
        _to_gmsh(model, x, cells, labels, facets, phases, names)

    data = build_and_load(comm, build, region_tags, scale, info)
    return _shift_cell_tags(data, names)


def check_conforming_phases(present, names: dict[int, str]) -> None:
    """InputError (``mesh.phases``) unless every image value ``present`` is listed: the conforming mesher
    fills the whole box, so every voxel belongs to a named phase."""
    missing = sorted(set(int(v) for v in present) - set(names))
    if missing:
        raise InputError("mesh.phases", sorted(names.values()), f"a name for every image value with mesher = "
                         f"'conforming' (it fills the box; not listed: {missing})")


def _phase_mesh(field: _PhaseField, slab: _Slab, lengths, preserve_volume: bool):
    """Vertices, tetrahedra and phase indices of this rank's slab: labelled grid, snapped and smoothed
    (module doc). Collective on ``slab.comm``.

    With ``preserve_volume`` the offsets c_p first match the estimated phase fractions to the image's,
    then up to ``VOLUME_PASSES`` corrections use the fractions of the finished mesh (``slab.ordered_sums``:
    the same round-off on any number of ranks).
    """
    grid, cells = _grid(slab, lengths)
    centroids = grid[cells].mean(axis=1)
    if field.smoothing == 0:
        return grid, cells, field.label(centroids)
    target = field.counts / np.prod(field.shape)
    slopes = field.match_fractions(target) if preserve_volume else None
    for attempt in range(VOLUME_PASSES + 1 if preserve_volume else 1):
        labels = field.label(centroids)
        x = _snap_and_smooth(grid, cells, labels, field, slab, lengths)
        fractions = slab.ordered_sums(labels, _volumes(x, cells), len(target)) / np.prod(lengths)
        if not preserve_volume or np.abs(target - fractions).max() < VOLUME_TOLERANCE * target.max():
            break
        # clipped: a phase meeting several others along a plane (a pad layer) has a tiny estimated slope
        step = 0.5 * (target - fractions) / slopes
        field.offsets += np.clip(step, -MAX_OFFSET_STEP, MAX_OFFSET_STEP)
    return x, cells, labels


class _PhaseField:
    """Smoothed indicators phi_p and their gradients, trilinear between voxel centres (scaled units), on the
    voxel planes the grid ``slab`` can reach (:func:`field_planes`; the whole image on one rank), from the
    image's ``planes`` on the ranks of ``slab`` (RankPlanes.gathered: the planes needed beyond its halo
    from their owners)."""

    def __init__(self, planes: RankPlanes, phases, spacing, smoothing: float, slab: _Slab, lengths):
        from scipy.ndimage import gaussian_filter

        self.phases, self.spacing, self.smoothing, self.comm = phases, spacing, smoothing, slab.comm
        self.shape = tuple(int(n) for n in planes.shape)
        self.counts = planes.histogram[phases]
        a, b = field_planes(slab, lengths, spacing, self.shape[0])
        self.start, self.stop = a, b  # phi_p on voxel planes a..b-1
        self.owned = _owned_voxel_planes(slab, lengths, spacing, self.shape[0])
        reach = gaussian_radius(smoothing) + 1 if smoothing > 0 else 0  # + 1: the gradient's plane
        lo, hi = max(a - reach, 0), min(b + reach, self.shape[0])
        block = planes.gathered(lo, hi, slab.comm)
        self.image = block[a - lo:b - lo]
        self.phi, self.grad = [], []
        self.offsets = np.zeros(len(phases))  # c_p, added to phi_p (volume preservation)
        g0, g1 = max(a - 1, 0) - lo, min(b + 1, self.shape[0]) - lo  # phi_p kept for the gradient
        for p in phases if smoothing > 0 else []:
            phi = gaussian_filter((block == p).astype(np.float32), smoothing, mode="reflect")[g0:g1]
            keep = slice(a - lo - g0, a - lo - g0 + b - a)
            self.phi.append(np.ascontiguousarray(phi[keep]))
            self.grad.append([np.ascontiguousarray((g / h)[keep]) for g, h in zip(np.gradient(phi), spacing)])

    def _plane_sums(self, values: np.ndarray) -> np.ndarray:
        """Sum over the voxels of every plane of the image of ``values`` (given on the owned planes), each
        plane summed alone in float64 and the planes in order: the same round-off on any number of ranks
        (every plane summed by its one owner)."""
        sums = [plane.sum(dtype=np.float64) for plane in values]
        if self.comm.size > 1:
            sums = [s for part in self.comm.allgather(sums) for s in part]
        return np.array(sums, dtype=np.float64)

    def estimated_fractions(self) -> tuple[np.ndarray, np.ndarray]:
        """Volume fraction of the region where phi_p + c_p is the largest, and its derivative in c_p.

        Sub-voxel estimate: the mean over voxel centres of clip(1/2 + d_p / h, 0, 1), with
        d_p = g_p / |grad g_p| the distance estimate of g_p = (phi_p + c_p) - max_q≠p (phi_q + c_q) and
        h the mean voxel size; the sums over the voxels of the whole image, by planes (:meth:`_plane_sums`).
        Collective.
        """
        nphases = len(self.phases)
        fractions, slopes = np.ones(nphases), np.zeros(nphases)
        h = float(np.prod(self.spacing)) ** (1 / 3)
        size = float(np.prod(self.shape))
        i0, i1 = self.owned
        own = slice(i0 - self.start, i1 - self.start)
        for p in range(nphases if nphases > 1 else 0):
            others = [q for q in range(nphases) if q != p]
            shifted = np.stack([self.phi[q][own] + np.float32(self.offsets[q]) for q in others])
            nearest = shifted.argmax(axis=0)
            g = self.phi[p][own] + np.float32(self.offsets[p]) - np.take_along_axis(shifted, nearest[None], axis=0)[0]
            del shifted
            grad_sq = np.zeros_like(g)
            for axis in range(3):
                grad_sq += (self.grad[p][axis][own] - np.choose(nearest, [self.grad[q][axis][own] for q in others])) ** 2
            inverse_width = 1.0 / (h * np.maximum(np.sqrt(grad_sq), 1e-6 / h))
            ramp = 0.5 + g * inverse_width
            fractions[p] = self._plane_sums(np.clip(ramp, 0.0, 1.0)).sum() / size
            slopes[p] = self._plane_sums(np.where((ramp > 0) & (ramp < 1), inverse_width, 0.0)).sum() / size
        return fractions, np.maximum(slopes, 1e-6)

    def match_fractions(self, target, tolerance: float = 1e-4, iterations: int = 20) -> np.ndarray:
        """Damped Newton iteration (diagonal) on the offsets c_p until estimated_fractions() = target.

        The slope of the ramp estimate jumps between iterates where many voxels share one value of
        phi (a symmetric image: a straight channel), so undamped steps can cycle between two offsets;
        each time the largest mismatch does not fall, the steps are halved from then on."""
        damping, previous = 1.0, np.inf
        for _ in range(iterations):
            fractions, slopes = self.estimated_fractions()
            mismatch = np.abs(target - fractions).max()
            if mismatch < tolerance:
                break
            if mismatch >= previous:
                damping *= 0.5
            previous = mismatch
            self.offsets += damping * 0.5 * (target - fractions) / slopes  # each interface moves by both offsets
        return slopes

    def _coords(self, x):
        """Voxel coordinates of the points x in the planes held (the x coordinate less ``start``: exact, an
        integer subtracted from a larger float); RuntimeError for a point the planes held do not reach."""
        u = (x / self.spacing - 0.5).T
        if len(x) and ((self.start > 0 and u[0].min() < self.start)
                       or (self.stop < self.shape[0] and u[0].max() >= self.stop - 1)):
            raise RuntimeError(f"conforming mesh: a vertex at voxel plane {u[0].min():.3g}..{u[0].max():.3g} outside "
                               f"the planes {self.start}..{self.stop - 1} of its rank's phase field")
        u[0] -= self.start
        return u

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
            ijk = np.minimum(np.floor(x / self.spacing).astype(int), np.array(self.shape) - 1)
            ijk[:, 0] -= self.start
            return np.searchsorted(self.phases, self.image[tuple(ijk.T)])
        best = np.zeros(len(x), dtype=np.int64)
        for start in range(0, len(x), 1 << 20):  # chunks keep memory flat
            chunk = slice(start, start + (1 << 20))
            best[chunk] = self.values(x[chunk]).argmax(axis=1)
        return best


def gaussian_radius(smoothing: float, truncate: float = 4.0) -> int:
    """Voxels on each side of the Gaussian kernel of ``smoothing`` voxels that scipy.ndimage.gaussian_filter
    uses: int(truncate sigma + 0.5)."""
    return int(truncate * float(smoothing) + 0.5)


def conforming_halo(voxel_size, mesh_size: float, smoothing: float) -> int:
    """Halo planes (x) with which a rank's planes of the image hold the planes its phase field needs
    (:func:`field_planes` plus the Gaussian's radius and the gradient's plane), for a grid of spacing
    ``mesh_size`` (metres) along x and the ranks' planes cut about where their grid slabs are: the ghost
    cube and up to one cube and one voxel of misalignment, ROUNDS + 2 spacings of vertex moves, 1.5 voxels
    of interpolation and rounding, then round(4 sigma) + 1 planes of the filter. Only a bound for
    efficiency: a rank takes what its halo lacks from the ranks owning it (RankPlanes.gathered)."""
    h = float(mesh_size) / float(voxel_spacing(voxel_size)[0])
    reach = gaussian_radius(smoothing) + 1 if smoothing > 0 else 0
    return int(np.ceil((ROUNDS + 4) * h + 3.5)) + reach


def field_planes(slab: _Slab, lengths, spacing, planes: int) -> tuple[int, int]:
    """Voxel planes (a, b) on which a rank needs phi_p: those whose trilinear interpolation a vertex of its
    grid slab can use, the vertices moved by at most ROUNDS + 2 grid spacings (snap: within one spacing
    of the grid vertex; smoothing: one more spacing per round), clipped to the image's ``planes``;
    (0, planes) on a one-rank communicator. Scaled units, as the grid."""
    if slab.comm.size == 1:
        return 0, planes
    h = np.asarray(lengths) / slab.cubes
    margin = (ROUNDS + 2) * float(h.max())
    lo, hi = (slab.lo, slab.hi) if slab.lo <= slab.hi else (slab.first, slab.first)
    a = int(np.floor((lo * h[0] - margin) / spacing[0] - 0.5))
    b = int(np.floor((hi * h[0] + margin) / spacing[0] - 0.5)) + 2
    return max(a, 0), min(max(b, a + 1), planes)


def _owned_voxel_planes(slab: _Slab, lengths, spacing, planes: int) -> tuple[int, int]:
    """Voxel planes (i0, i1) whose centres lie in the cubes the rank owns (the last rank with cubes: up to
    the end): every plane has one owner, which sums it in the volume estimates."""
    n = int(slab.cubes[0])

    def first_plane(cube):
        return planes if cube >= n else int(np.ceil(cube * (lengths[0] / n) / spacing[0] - 0.5))

    return min(first_plane(slab.first), planes), min(first_plane(slab.stop), planes)


def _grid(slab: _Slab, lengths) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (scaled units) and Kuhn tetrahedra (local vertex indices) of the slab's background grid:
    vertex planes ``slab.lo`` .. ``slab.hi`` and the cubes between them, in the order of the whole grid."""
    cubes = slab.cubes
    axes = [np.linspace(0, length, n + 1) for n, length in zip(cubes, lengths)]
    axes[0] = axes[0][slab.lo: slab.hi + 1]
    x = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in slab.local_cubes], indexing="ij"), axis=-1).reshape(-1, 3)
    strides = np.array([(cubes[1] + 1) * (cubes[2] + 1), cubes[2] + 1, 1])
    corner_vertices = ijk @ strides  # vertex index of corner 000 of every cube
    corner_offsets = _CORNERS @ strides
    cells = corner_vertices[:, None, None] + corner_offsets[_kuhn_tets()][None, :, :]
    return x, cells.reshape(-1, 4)


def _volumes(x, cells) -> np.ndarray:
    a = x[cells[:, 0]]
    return np.einsum("ij,ij->i", x[cells[:, 1]] - a, np.cross(x[cells[:, 2]] - a, x[cells[:, 3]] - a)) / 6


def _accept(x, target, cells, min_volume, slab: _Slab) -> np.ndarray:
    """Move vertices toward ``target`` as far as every tetrahedron keeps a volume >= ``min_volume``.

    The displacement of the vertices of a tetrahedron that gets too small is halved (four times), then
    dropped; ``x`` is valid, so the loop always ends with a valid mesh. On a slab, the halvings of the
    ghost vertex planes come from their owners after every attempt, and all ranks stop together.
    """
    step = target - x
    alpha = np.ones(len(x))
    moving = np.flatnonzero(np.any(step != 0, axis=1))
    watched = np.flatnonzero(np.isin(cells, moving).any(axis=1))
    for attempt in range(64):
        trial = x + alpha[:, None] * step
        bad = watched[_volumes(trial, cells[watched]) < min_volume]
        if not slab.any(len(bad) > 0):
            return trial
        vertices = np.unique(cells[bad])
        alpha[vertices] = 0.5 * alpha[vertices] if attempt < 4 else 0.0
        alpha = slab.exchange(alpha)
    return x  # pragma: no cover - unreachable: dropping all moves restores x


def _snap_and_smooth(x, cells, labels, field: _PhaseField, slab: _Slab, lengths) -> np.ndarray:
    """Interface vertices onto phi_a = phi_b (= phi_c ...), the others toward their neighbours' mean.

    Every vertex array of the slab is completed on its ghost planes by their owners (``slab.exchange``),
    so each rank holds the positions of the whole grid's build on its planes."""
    nphases = len(field.phases)
    member = np.zeros((len(x), nphases), dtype=bool)
    member[cells.ravel(), np.repeat(labels, 4)] = True
    member = slab.exchange(member)
    interface = np.flatnonzero(member.sum(axis=1) >= 2)
    free = _free_directions(x, lengths)
    h = lengths / slab.cubes
    min_volume = MIN_VOLUME_FRACTION * np.prod(h) / 6
    x0 = x.copy()
    code = member @ (1 << np.arange(nphases))  # the set of phases around each vertex, as bits
    code[member.sum(axis=1) == 1] = 0  # vertices inside a phase average over all their neighbours
    for _ in range(ROUNDS):
        target = _neighbour_mean(x, slab.vertex_shape, code, free)
        if len(interface):
            target[interface] = _snap(target[interface], x0[interface], member[interface], free[interface], field,
                                      h.min())
        x = _accept(x, slab.exchange(target), cells, min_volume, slab)
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


def _neighbour_mean(x, shape, code, free) -> np.ndarray:
    """Mean of the grid neighbours (the 14 Kuhn edges +-{0,1}^3) of every vertex, in its free directions;
    ``shape``: the numbers of vertex planes along x, y, z.

    A vertex with ``code`` != 0 (an interface, triple line ...) averages only its neighbours with the
    same code (tangential smoothing along the interface); code 0 averages all neighbours."""
    shape = tuple(shape)
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


def _tagged_facets(x, cells, labels, slab: _Slab, phases) -> dict[int, np.ndarray]:
    """facet tag value -> triangles (local vertex indices) of the slab's own facets: box faces of its owned
    cells and interfaces between unlike phases not inside its left ghost layer of cubes."""
    faces = np.concatenate([cells[:, [1, 2, 3]], cells[:, [0, 3, 2]], cells[:, [0, 1, 3]], cells[:, [0, 2, 1]]])
    owner = np.tile(np.arange(len(cells)), 4)
    cubes = slab.cubes
    shape = slab.vertex_shape
    ijk = np.stack(np.unravel_index(np.arange(np.prod(shape)), tuple(shape)), axis=1)
    ijk[:, 0] += slab.lo
    own = slab.owned_cells(len(cells))
    facets: dict[int, np.ndarray] = {}
    for axis in range(3):
        for side, name in ((0, "xyz"[axis] + "min"), (cubes[axis], "xyz"[axis] + "max")):
            on_plane = np.all(ijk[faces, axis] == side, axis=1) & own[owner]
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
    unlike = (a != b) & (ijk[faces[first], 0].min(axis=1) >= slab.first)
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


class _Slab:
    """This rank's slab of the background grid along x (``cubes`` cubes in all), for the distributed build.

    Rank r owns the cubes ``first`` .. ``stop - 1`` (an equal share) and the vertex planes x_i with the same
    indices (the last rank with cubes also the plane x_n). It holds the planes ``lo`` = max(first - 1, 0)
    .. ``hi`` = stop and the cubes between them: one ghost plane and ghost cube on the left, one ghost plane
    on the right. The build of a vertex (its phases, neighbour mean, snap, halvings in ``_accept``) reads
    only its own and the adjacent planes, so after each step is redone on every rank's planes and the
    ghost planes are refreshed from their owners (``exchange``), every rank holds on its planes exactly the
    values of the build of the whole grid. A one-rank communicator holds the whole grid.
    """

    def __init__(self, comm, cubes):
        self.comm, self.cubes = comm, np.asarray(cubes)
        n, size = int(cubes[0]), comm.size
        starts = [r * n // size for r in range(size + 1)]
        last = max(r for r in range(size) if starts[r] < starts[r + 1])

        def owned_planes(r):
            return starts[r], starts[r + 1] + (r == last)

        def held_planes(r):  # an empty slab holds nothing (lo > hi)
            return (max(starts[r] - 1, 0), starts[r + 1]) if starts[r] < starts[r + 1] else (0, -1)

        self.plane_size = int((cubes[1] + 1) * (cubes[2] + 1))
        self.first, self.stop = starts[comm.rank], starts[comm.rank + 1]
        self.lo, self.hi = held_planes(comm.rank)
        self.owned_vertices = slice(*((np.array(owned_planes(comm.rank)) - self.lo) * self.plane_size))
        self.local_cubes = np.array([max(self.hi - self.lo, 0), cubes[1], cubes[2]])
        self.vertex_shape = np.array([self.hi - self.lo + 1, cubes[1] + 1, cubes[2] + 1])
        owner = np.empty(n + 1, dtype=int)
        for r in range(size):
            owner[slice(*owned_planes(r))] = r
        self.sends, self.receives = [], []  # (rank, global plane index)
        for r in range(size):
            for plane in range(held_planes(r)[0], held_planes(r)[1] + 1):
                if owner[plane] != r and comm.rank in (r, owner[plane]):
                    (self.receives if r == comm.rank else self.sends).append(
                        (owner[plane] if r == comm.rank else r, plane))

    def exchange(self, values: np.ndarray) -> np.ndarray:
        """``values`` (one row per held vertex) with the ghost planes replaced by their owners' rows."""
        if not (self.sends or self.receives):
            return values
        values = np.ascontiguousarray(values)
        planes = values.reshape(-1, self.plane_size, *values.shape[1:])
        requests = [self.comm.Isend(planes[plane - self.lo], dest=rank, tag=plane) for rank, plane in self.sends]
        requests += [self.comm.Irecv(planes[plane - self.lo], source=rank, tag=plane)
                     for rank, plane in self.receives]
        MPI.Request.Waitall(requests)
        return values

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is True on one."""
        return bool(flag) if self.comm.size == 1 else self.comm.allreduce(bool(flag), op=MPI.LOR)

    def owned_cells(self, count: int) -> np.ndarray:
        """Mask of the owned cells among ``count`` held cells (6 per cube, cubes in grid order)."""
        layer = self.lo + np.arange(count) // (6 * int(self.cubes[1] * self.cubes[2]))
        return layer >= self.first

    def ordered_sums(self, labels, weights, nphases: int) -> np.ndarray:
        """sum over the owned cells of all ranks of ``weights`` per phase (``labels``), added one cell after
        the other in the order of the whole grid, as ``np.bincount`` does on one rank: each rank continues
        the running sums of the rank before it, so the round-off does not depend on the number of ranks."""
        own = self.owned_cells(len(labels))
        if self.comm.size == 1:
            return np.bincount(labels[own], weights=weights[own], minlength=nphases)
        sums = self.comm.recv(source=self.comm.rank - 1, tag=7) if self.comm.rank > 0 else np.zeros(nphases)
        np.add.at(sums, labels[own], weights[own])
        if self.comm.rank < self.comm.size - 1:
            self.comm.send(sums, dest=self.comm.rank + 1, tag=7)
        return self.comm.bcast(sums, root=self.comm.size - 1)


def _create_meshdata(slab: _Slab, x, cells, labels, phases, names, scale: float, info: dict) -> MeshData:
    """DOLFINx mesh (shared-facet ghosts) from every rank's owned cells and vertex planes, with the cell
    and facet tags and names of the rank-0 gmsh path (``_to_gmsh`` + ``build_and_load``). Collective.

    Input vertex numbers are the grid numbers (i, j, k) -> (i (n_y + 1) + j) (n_z + 1) + k: each rank
    contributes the rows of its owned planes, in rank order."""
    import basix.ufl
    import dolfinx.graph
    import ufl
    from dolfinx.io import distribute_entity_data
    from dolfinx.mesh import GhostMode, create_cell_partitioner, create_mesh, meshtags_from_entities

    comm = slab.comm
    own = slab.owned_cells(len(cells))
    offset = slab.lo * slab.plane_size
    owned_cells = (cells[own] + offset).astype(np.int64)
    facets = _tagged_facets(x, cells, labels, slab, phases)
    domain = ufl.Mesh(basix.ufl.element("Lagrange", "tetrahedron", 1, shape=(3,)))
    mesh = create_mesh(comm, owned_cells, x[slab.owned_vertices], domain,
                       create_cell_partitioner(GhostMode.shared_facet))
    mesh.geometry.x[:] *= scale
    tdim = mesh.topology.dim
    # cell tags value + 1, as from gmsh (physical tag 0 is not allowed there), shifted by _shift_cell_tags
    entities, values = distribute_entity_data(mesh, tdim, owned_cells,
                                              np.asarray(phases, dtype=np.int32)[labels[own]] + 1)
    mesh.topology.create_connectivity(tdim, 0)
    cell_tags = meshtags_from_entities(mesh, tdim, dolfinx.graph.adjacencylist(entities), values.astype(np.int32))
    cell_tags.name = "Cell tags"
    tags = sorted(set().union(*comm.allgather(set(facets))))  # an interface may lie in a few slabs only
    facets = {t: facets.get(t, np.empty((0, 3), dtype=cells.dtype)) for t in tags}
    triangles = np.concatenate([facets[t] for t in tags]).astype(np.int64) + offset
    entities, values = distribute_entity_data(mesh, tdim - 1, triangles,
                                              np.repeat(np.array(tags, dtype=np.int32), [len(facets[t]) for t in tags]))
    mesh.topology.create_connectivity(tdim - 1, tdim)
    facet_tags = meshtags_from_entities(mesh, tdim - 1, dolfinx.graph.adjacencylist(entities),
                                        values.astype(np.int32))
    facet_tags.name = "Facet tags"
    cells_per_phase = comm.allreduce(np.bincount(labels[own], minlength=len(phases)), op=MPI.SUM)
    facets_per_tag = comm.allreduce(np.array([len(facets[t]) for t in tags]), op=MPI.SUM)
    by_tag = {v: k for k, v in BOX_FACETS.items()}
    facet_names = {}
    for tag, count in zip(tags, facets_per_tag):
        a, b = divmod(tag - interface_tag(0, 0), 256)
        if count:
            facet_names[by_tag[tag] if tag in by_tag else f"{names[a]}|{names[b]}"] = tag
    cell_names = {names[p]: p + 1 for p, count in zip(phases, cells_per_phase) if count}
    data = MeshData(mesh, cell_tags, facet_tags, cell_names, facet_names, info)
    return _shift_cell_tags(data, names)


def _shift_cell_tags(data: MeshData, names: dict[int, str]) -> MeshData:
    """Replace the gmsh cell tags (value + 1) by the image values."""
    import dolfinx.mesh

    tags = data.cell_tags
    data.cell_tags = dolfinx.mesh.meshtags(data.mesh, tags.dim, tags.indices, tags.values - 1)
    data.cell_names = {names[v]: v for v in names if v + 1 in set(data.cell_names.values())}
    return data
