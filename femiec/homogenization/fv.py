"""Cell-centred finite volumes on voxels: the applied-potential method of TauFactor.

Steady conduction div(sigma grad phi) = 0 on the voxels of the conducting phase(s), discretized with one
unknown per voxel and a two-point flux between face-sharing voxels i, j:

    flux_ij = g_ij (phi_i - phi_j),
    1 / g_ij = h_d / (2 sigma_i A_d) + R_c / A_d + h_d / (2 sigma_j A_d)

(the two half-voxel resistances in series: the harmonic mean of the voxel conductivities, face area A_d,
centre distance h_d, SI units; R_c [ohm m^2 for sigma in S/m] is an optional specific contact resistance
between two unlike phases, 0 by default). The potential is 1 V on the inlet face (the low face normal to
the flux axis) and 0 V on the outlet face, both at half a voxel from the first/last voxel centres
(conductance 2 sigma_i A_a / h_a, no contact resistance); all other faces are insulating. Only clusters
that touch both faces are solved (the others carry no steady current). The result is the effective
conductivity along the axis relative to sigma = 1:

    D_eff / D0 = G L / A,   G = P / dPhi^2

with G the conductance of the sample, L its length along the axis and A its cross-section. G comes from
the Joule power P dissipated in all faces at dPhi = 1 V, not from the current through one face: at the
solution both equal the current (P = I dPhi), but an approximate potential overestimates P by the
squared energy norm of its error and errs in the current only linearly, so the CG iterations stop on
the estimated error of P (femiec.homogenization.ksp.minimize_power; ``rtol`` is the relative error of
D_eff allowed). D_eff is therefore an upper bound of the discrete value, tau a lower bound. For a single
phase of unit conductivity this is TauFactor's ``D_rel`` and tau = eps / (D_eff / D0).

The operator of axis a is N + B_a: N couples the voxels (the same for every axis) and B_a is diagonal,
the Dirichlet half-voxel conductances of the two faces normal to a. So the matrix is assembled once for
the three axes (when the same clusters span the sample along all of them) and only its diagonal, the
right-hand side and the AMG hierarchy change per axis. (One AMG hierarchy cannot serve all axes: B_a
changes the near null space, see benchmarks/README.md.)

Transverse components of the mean current follow from the boundary currents alone: summing
flux_ij (x_j - x_i) over all faces (the volume integral of the current density along x) and using
conservation in every voxel gives  int j_d dV = sum over outlet voxels of x_d I_out - sum over inlet
voxels of x_d I_in  for d != a (x_d measured from the centre of the sample).

Parallel layout: each rank reads and keeps only its slab of whole x layers (about the same number of
voxels of the conducting phases per rank) and one layer on each side
(femiec.meshing.rank_planes: an image in memory or read slab by slab from a file); the clusters are
labelled on each slab and joined across the ranks (femiec.meshing.slab_clusters). Unknowns are numbered
layer by layer, so each rank assembles its rows without communication, chunk by chunk of layers, with the
exact row lengths: a compiled loop (femiec.homogenization.kernels, voxel_rows.c) writes them straight into
the CSR arrays that the PETSc AIJ matrix then uses without a copy (or into hypre's arrays). The solver
(femiec.homogenization.ksp.two_levels): for a single conductivity, CG with
the two-level preconditioner of femiec.homogenization.aggregation (2 x 2 x 2 voxel aggregates, BoomerAMG
on them) on a PETSc AIJ matrix; for several, CG with BoomerAMG on the voxels, the rows written straight
into hypre's arrays (femiec.homogenization.hypre_ij).
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from petsc4py import PETSc

from femiec.homogenization import kernels
from femiec.homogenization import ksp as linear
from femiec.homogenization.aggregation import BLOCK, CoarseRows, VoxelAggregates
from femiec.homogenization.hypre_ij import HypreRows
from femiec.homogenization.voxels import scalar_conductivities
from femiec.meshing.image_source import slab_planes
from femiec.meshing.rank_planes import RankPlanes, read_rank_planes
from femiec.meshing.slab_clusters import SlabClusters
from femiec.meshing.tomography import face_clusters

#: voxels per chunk of x layers in the assembly (bounds its temporaries, ~200 bytes per unknown; chunks
#: below 32 MB per array reuse the allocator's memory instead of faulting in fresh pages)
_CHUNK_VOXELS = 1 << 19


@dataclass
class FVAxisSolution:
    """Outcome of one applied-potential solve along ``axis``.

    Attributes:
        axis: flux axis (0, 1, 2 = x, y, z).
        deff_ratio: D_eff / D0 along the axis (0 when no cluster spans the sample).
        mean_flux: volume-averaged current density (x, y, z) divided by D0 dPhi / L (the column of the
            applied-potential tensor; its axis entry equals ``deff_ratio``).
        flux_in, flux_out: current through the inlet and outlet faces, A per V of applied potential.
        deff_error: estimated relative error of ``deff_ratio`` (an overestimate of the discrete value).
        iterations: CG iterations.
        unknowns: number of voxels solved for (voxels of spanning clusters).
        spanning_fraction: fraction of the conducting voxels that belong to spanning clusters.
        wall_time_s: time of this axis, seconds (the first axis of a system includes its assembly).
        system, phi: the linear system and the solution vector, kept only when fields are wanted.
    """

    axis: int
    deff_ratio: float
    mean_flux: np.ndarray
    flux_in: float
    flux_out: float
    deff_error: float
    iterations: int
    unknowns: int
    spanning_fraction: float
    wall_time_s: float
    system: VoxelSystem | None = None
    phi: PETSc.Vec | None = None

    @property
    def flux_mismatch(self) -> float:
        """|flux_in - flux_out| / mean flux (0 for an exact solve; a check of conservation)."""
        mean = 0.5 * (self.flux_in + self.flux_out)
        return abs(self.flux_in - self.flux_out) / mean if mean > 0 else 0.0

    def potential(self, voxels: np.ndarray) -> np.ndarray:
        """Potential (V) at the voxels ``voxels`` (integer array of shape (n, 3), any voxels on any rank);
        NaN outside the spanning clusters. Collective."""
        if self.system is None:
            return np.full(len(voxels), np.nan)
        return self.system.values_at(self.phi, voxels)


class VoxelFiniteVolume:
    """Face-connected finite-volume conduction problems on a voxel image.

    Args:
        image: segmented image [ix, iy, iz] (integer values 0..255): an array (the same on every rank), an
            ImageSource (read slab by slab) or this rank's RankPlanes of it (with at least one halo layer).
        conductivities: voxel value -> relative conductivity (> 0); other values are insulating.
        spacing: voxel edge lengths (hx, hy, hz) in metres.
        comm: MPI communicator (mpi4py).
        contact_resistance: {(a, b): R_c} specific contact resistance between the conducting phases a and
            b (ohm m^2 when the conductivities are in S/m), added in series across their shared faces.
    """

    def __init__(self, image: np.ndarray, conductivities: Mapping[int, float], spacing: Sequence[float], comm,
                 contact_resistance: Mapping[tuple[int, int], float] | None = None):
        self.lut = np.zeros(256)  # voxel value -> conductivity
        for value, sigma in conductivities.items():
            self.lut[value] = sigma
        self.spacing = np.asarray(spacing, dtype=float)
        self.comm = comm
        self.resistance = None
        if contact_resistance:
            self.resistance = np.zeros((256, 256))
            for (a, b), r in contact_resistance.items():
                self.resistance[a, b] = self.resistance[b, a] = r
        self.conducting = [int(v) for v in conductivities]
        self.uniform = single_conductivity(conductivities, contact_resistance)
        self.planes = image if isinstance(image, RankPlanes) else read_rank_planes(image, comm, self.conducting)
        self.shape = self.planes.shape

    def solve_axes(self, axes: Sequence[int], rtol: float | None = None,
                   petsc_options: Mapping[str, object] | None = None,
                   keep_fields: bool = False) -> list[FVAxisSolution]:
        """Apply 1 V across each axis in ``axes`` and return the effective conductivities (module docstring).

        The clusters are labelled once; axes spanned by the same clusters share one assembled matrix and
        one KSP (only the diagonal changes between them). When the currents matter beyond D_eff, for the
        fields (``keep_fields``) or a tensor (the three axes: its transverse entries come from the boundary
        currents), CG also meets the residual criterion (femiec.homogenization.ksp.minimize_power)."""
        start = time.perf_counter()
        currents = keep_fields or len(set(axes)) == 3
        clusters = self._clusters()
        phase_voxels = clusters.voxels
        groups: list[tuple[np.ndarray, list[int]]] = []  # (spanning labels, axes)
        for axis in axes:
            spanning = clusters.spanning(axis)
            for other, members in groups:
                if np.array_equal(spanning, other):
                    members.append(axis)
                    break
            else:
                groups.append((spanning, [axis]))
        solutions = {}
        for spanning, members in groups:
            mask = self._spanning_voxels(clusters, spanning)
            own = mask[self.planes.own[0] - self.planes.start:self.planes.own[1] - self.planes.start]
            unknowns = self.comm.allreduce(int(np.count_nonzero(own)))
            fraction = unknowns / phase_voxels if phase_voxels else 0.0
            if unknowns == 0:
                for axis in members:
                    solutions[axis] = FVAxisSolution(axis, 0.0, np.zeros(3), 0.0, 0.0, 0.0, 0, 0, fraction,
                                                     time.perf_counter() - start)
                    start = time.perf_counter()
                continue
            system = VoxelSystem(self.planes, self.lut, self.resistance, self.uniform, mask, self.spacing,
                                 self.comm, linear.two_levels(self.uniform is not None, petsc_options))
            solver = None
            for axis in members:
                phi = system.matrix.createVecRight()
                system.set_axis(axis, phi)
                solver = solver or linear.create_solver(system.matrix, rtol, petsc_options, system.levels())
                iterations, power, error = system.solve(solver, phi, currents)
                flux_in, flux_out = system.currents(phi)
                mean_flux = system.mean_current(axis, phi, power)
                deff = mean_flux[axis]
                solutions[axis] = FVAxisSolution(axis, float(deff), mean_flux, flux_in, flux_out, error,
                                                 iterations, unknowns, fraction, time.perf_counter() - start,
                                                 system if keep_fields else None, phi if keep_fields else None)
                if not keep_fields:
                    phi.destroy()
                start = time.perf_counter()
            solver.destroy()
            if not keep_fields:
                system.destroy()
        return [solutions[axis] for axis in axes]

    def _slabs(self) -> list[tuple[int, int]]:
        """This rank's own layers in slabs of about 4 M voxels (the unit of the cluster labelling)."""
        i0, i1 = self.planes.own
        step = slab_planes(self.shape)
        return [(a, min(a + step, i1)) for a in range(i0, i1, step)]

    def _clusters(self) -> SlabClusters:
        """The clusters of the conducting voxels, labelled slab by slab on each rank and joined over the
        ranks (collective; femiec.meshing.slab_clusters): no label array of the whole image is kept."""
        clusters = SlabClusters(self.comm)
        for a, b in self._slabs():
            clusters.add(*face_clusters(self.planes.selection(self.conducting, a, b)))
        clusters.join()
        return clusters

    def _spanning_voxels(self, clusters: SlabClusters, spanning: np.ndarray) -> np.ndarray:
        """Boolean mask over the planes kept of the voxels in clusters marked in ``spanning`` (by global
        label): each slab labelled again as in :meth:`_clusters`, the halo from the neighbouring ranks."""
        mask = np.zeros(self.planes.data.shape, dtype=bool)
        for (a, b), offset in zip(self._slabs(), clusters.offsets):
            labels, _ = face_clusters(self.planes.selection(self.conducting, a, b))
            np.add(labels, offset, out=labels, where=labels > 0)
            mask[a - self.planes.start:b - self.planes.start] = spanning[labels]
        return self.planes.fill_halo(mask, self.comm)

    def solve(self, axis: int, rtol: float | None = None, petsc_options: Mapping[str, object] | None = None,
              keep_field: bool = False) -> FVAxisSolution:
        """One axis (see :meth:`solve_axes`)."""
        return self.solve_axes([axis], rtol, petsc_options, keep_field)[0]


class VoxelSystem:
    """The distributed coupling operator N of the voxels in ``active`` (rows = voxels, numbered x layer by
    x layer; rank r has the rows of its own layers of ``planes``) and the Dirichlet face conductances of
    the three axes; :meth:`set_axis` turns it into the operator N + B_a of one axis. ``active``: the
    unknowns on the layers ``planes`` keeps (its own and the halo). With ``two_levels`` the matrix is AIJ
    and the aggregates' P and A_c are built with it (femiec.homogenization.aggregation; :meth:`levels`);
    without, the rows go straight into hypre's arrays for BoomerAMG (femiec.homogenization.hypre_ij)."""

    def __init__(self, planes: RankPlanes, lut: np.ndarray, resistance: np.ndarray | None, uniform: float | None,
                 active: np.ndarray, spacing: np.ndarray, comm, two_levels: bool = True):
        self.comm = comm
        self.planes, self.active = planes, active
        self.shape = planes.shape
        self.h = np.asarray(spacing, dtype=float)
        cell_volume = float(np.prod(self.h))
        self.face_area = cell_volume / self.h
        self.face_weight = self.face_area / self.h  # A_d / h_d
        self.lut, self.resistance, self.uniform = lut, resistance, uniform
        self.layers = planes.own
        own = active[self.layers[0] - planes.start:self.layers[1] - planes.start]
        layer_counts = np.concatenate(comm.allgather(np.count_nonzero(own, axis=(1, 2))))  # ranks in x order
        self.offsets = np.concatenate([[0], np.cumsum(layer_counts)])
        self.rstart = int(self.offsets[self.layers[0]])
        self.aggregates = VoxelAggregates(planes, active, comm) if two_levels else None
        self._assemble()
        if two_levels:
            del self.aggregates.ids  # 4 bytes per voxel kept, no longer needed

    def _assemble(self) -> None:
        """Fill the matrix chunk by chunk of x layers: a first pass counts the entries of every row
        (split into owned and other ranks' columns) for the exact allocation, a second one computes them
        (and the coarse rows of their aggregates, femiec.homogenization.aggregation) straight into the
        split CSR arrays that the PETSc AIJ matrix then uses without a copy, or chunk by chunk into
        hypre's arrays; the temporaries are bounded by one chunk (about ``_CHUNK_VOXELS`` voxels; whole
        blocks of layers, so every aggregate lies in one chunk)."""
        l0, l1 = self.layers
        step = max(1, _CHUNK_VOXELS // (self.shape[1] * self.shape[2]) // BLOCK) * BLOCK
        chunks = [(a, min(a + step, l1)) for a in range(l0, l1, step)]
        self.rend = int(self.offsets[l1])
        counts = [self._row_counts(a, b) for a, b in chunks]
        firsts = np.cumsum([0] + [len(owned) for owned, _ in counts])  # the first local row of each chunk
        rows = int(firsts[-1])
        size = int(self.offsets[-1])
        self.storage = self.coarse_storage = self.csr = None  # the arrays behind the voxel or coarse matrix
        owned, other = (np.concatenate([c[k] for c in counts]) if counts else np.zeros(0, np.int32) for k in (0, 1))
        if self.aggregates is not None:  # one rank has no other ranks' columns
            self.csr = (_split_csr(owned), _split_csr(other) if self.comm.size > 1 else (None, None, None))
            counts = [None] * len(chunks)  # the row starts hold them now
        else:
            self.storage = HypreRows(self.comm, self.rstart, size, owned, other)
        del owned, other
        diagonals, phases, aggregates = [], [], []
        coarse = CoarseRows(self.aggregates) if self.aggregates is not None else None
        for (a, b), first, chunk_counts in zip(chunks, firsts, counts):
            split = self.csr if self.storage is None else tuple(_split_csr(c) for c in chunk_counts)
            d, p, g = self._set_rows(a, b, first if self.storage is None else 0, split, coarse)
            if self.storage is not None:  # global rows and columns
                global_rows = np.arange(self.rstart + first, self.rstart + len(d) + first, dtype=np.int32)
                self.storage.set_rows(global_rows, split[0][0], split[0][1] + np.int32(self.rstart), split[0][2])
                self.storage.set_rows(global_rows, *split[1])
            diagonals.append(d)
            phases.append(p)
            aggregates.append(g)
        del counts
        if coarse is not None:
            self.coarse_storage = coarse.assemble(self.comm)
            self.coarse = self.coarse_storage.assemble()
            self.coarse_diagonal = coarse.diagonal  # P^T N P only, no faces
            del coarse
            self.row_aggregates = np.concatenate(aggregates) if chunks else np.zeros(0, dtype=np.int32)
            self.row_aggregates -= self.aggregates.offset  # local numbers
            self.interpolation = self.aggregates.interpolation(self.row_aggregates, size, self.comm)
        del aggregates
        coupling_diagonal = np.concatenate(diagonals) if chunks else np.zeros(0)  # N only, no faces
        del diagonals
        p_c = None if self.uniform is not None else (np.concatenate(phases) if chunks else np.zeros(0, np.uint8))
        del phases
        self.boundary = [self._faces(axis, p_c) for axis in range(3)]
        del p_c
        # N's diagonal is kept for the rows of the six faces only (those whose diagonal set_axis rewrites)
        self.face_rows = np.unique(np.concatenate([faces[k] for faces in self.boundary for k in (0, 2)]))
        self.face_coupling = coupling_diagonal[self.face_rows]
        del coupling_diagonal
        if self.storage is None:
            sizes = ((rows, size), (rows, size))
            csr = self.csr if self.comm.size > 1 else self.csr[0]
            self.matrix = PETSc.Mat().createAIJWithArrays(sizes, csr=csr, comm=self.comm)
        else:
            self.matrix = self.storage.assemble()
        self.rhs = self.matrix.createVecRight()
        self.axis = None  # the axis whose face conductances are on the diagonal

    def _row_counts(self, l0: int, l1: int) -> tuple[np.ndarray, np.ndarray]:
        """Entries of the rows of layers [l0, l1) in the columns owned by this rank and in the others: the
        diagonal and the neighbours that are unknowns, counted on the mask (femiec.homogenization.kernels);
        only a neighbour in the layer below this rank's first or above its last belongs to another rank."""
        active = self._padded(self.active, l0, l1, False).view(np.uint8)
        rows = int(np.count_nonzero(active[1:-1]))
        owned, other = np.empty(rows, dtype=np.int32), np.empty(rows, dtype=np.int32)
        kernels.library().voxel_row_counts(
            kernels.address(active, np.uint8), *active.shape, int(l0 == self.layers[0] and l0 > 0),
            int(l1 == self.layers[1] and l1 < self.shape[0]), kernels.address(owned, np.int32),
            kernels.address(other, np.int32))
        return owned, other

    def _set_rows(self, l0: int, l1: int, row0: int, split, coarse: CoarseRows | None):
        """Compute the rows of layers [l0, l1) (femiec.homogenization.kernels, voxel_rows.c) into the split
        CSR arrays ``split`` = ((start, columns, values) of this rank's columns, numbered from rstart;
        the same of the other ranks' columns), the chunk's first row at ``row0`` of the starts, and the
        rows of their aggregates into ``coarse`` (if any); returns the diagonal of N, the voxel values
        (None if uniform) and the aggregates of these rows (None without ``coarse``)."""
        index, phase = self._padded_slab(l0, l1)
        n = int(np.count_nonzero(index[1:-1] >= 0))
        diagonal = np.empty(n)
        row_phase = np.empty(n, dtype=np.uint8) if phase is not None else None
        aggregate = row_aggregates = coarse_columns = coarse_values = None
        first = 0
        if coarse is not None:
            aggregate = self._padded(self.aggregates.ids, l0, l1, -1)
            own = aggregate[1:-1][aggregate[1:-1] >= 0]
            first = int(own.min()) if own.size else 0  # the chunk's aggregates are numbered contiguously
            span = int(own.max()) + 1 - first if own.size else 0
            del own
            row_aggregates = np.empty(n, dtype=np.int32)
            coarse_columns = np.full((span, 7), -1, dtype=np.int32)
            coarse_values = np.zeros((span, 7))
        (start_d, columns_d, values_d), (start_o, columns_o, values_o) = split
        i32, f64 = np.int32, np.float64
        kernels.library().voxel_rows(
            kernels.address(index, i32), kernels.address(phase, np.uint8), *index.shape,
            kernels.address(self.lut, f64), kernels.address(self.resistance, f64), float(self.uniform or 0.0),
            kernels.address(self.face_weight, f64), kernels.address(self.face_area, f64),
            kernels.address(aggregate, i32), first, self.rstart, self.rend, row0,
            kernels.address(start_d, i32), kernels.address(columns_d, i32), kernels.address(values_d, f64),
            kernels.address(start_o, i32), kernels.address(columns_o, i32), kernels.address(values_o, f64),
            kernels.address(diagonal, f64), kernels.address(row_phase, np.uint8),
            kernels.address(row_aggregates, i32), kernels.address(coarse_columns, i32),
            kernels.address(coarse_values, f64))
        if coarse is not None and coarse_columns.size:
            coarse.add(first, coarse_columns, coarse_values)
        return diagonal, row_phase, row_aggregates

    def coordinate(self, axis: int) -> np.ndarray:
        """The voxel index along ``axis`` of each of this rank's unknowns, in the order of its rows
        (computed from the mask, not stored: int16 when it fits)."""
        l0, l1 = self.layers
        own = self.active[l0 - self.planes.start:l1 - self.planes.start]
        kind = np.int16 if max(self.shape) < np.iinfo(np.int16).max else np.int32
        shape = [1, 1, 1]
        shape[axis] = own.shape[axis]
        index = np.arange(own.shape[axis], dtype=kind).reshape(shape) + (l0 if axis == 0 else 0)
        return np.broadcast_to(index, own.shape)[own]

    def _faces(self, axis: int, p_c: np.ndarray | None):
        """(inlet rows, their face conductances, outlet rows, their conductances) for ``axis``: local row
        numbers of the voxels on the low/high face normal to ``axis`` and 2 sigma A_a / h_a."""
        c = self.coordinate(axis)
        faces = []
        for rows in (np.flatnonzero(c == 0), np.flatnonzero(c == self.shape[axis] - 1)):
            sigma = self.lut[p_c[rows]] if p_c is not None else np.full(rows.size, self.uniform)
            faces += [rows.astype(PETSc.IntType), 2.0 * self.face_weight[axis] * sigma]
        return tuple(faces)

    def _padded_slab(self, l0: int, l1: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Global indices (int32, -1 = not an unknown) and voxel values (None if uniform) of layers
        [l0, l1) with one ghost layer on each side and a frame around."""
        e0 = max(l0 - 1, 0)
        active = self.active[e0 - self.planes.start:min(l1 + 1, self.shape[0]) - self.planes.start]
        numbers = np.cumsum(active, dtype=np.int32).reshape(active.shape)
        numbers += self.offsets[e0] - 1
        numbers[~active] = -1
        index = self._padded(numbers, l0, l1, -1, start=e0)
        del numbers
        if self.uniform is not None:
            return index, None
        return index, self._padded(self.planes.data, l0, l1, 0)

    def _padded(self, values: np.ndarray, l0: int, l1: int, fill, start: int | None = None) -> np.ndarray:
        """Layers [l0, l1) of a per-voxel array with one ghost layer on each side (where the image has
        one) and a frame of ``fill`` around: shape (l1 - l0 + 2, n1 + 2, n2 + 2). ``values`` holds the
        planes from ``start`` on (default: those ``planes`` keeps)."""
        n0, n1, n2 = self.shape
        start = self.planes.start if start is None else start
        e0, e1 = max(l0 - 1, 0), min(l1 + 1, n0)
        padded = np.full((l1 - l0 + 2, n1 + 2, n2 + 2), fill, dtype=values.dtype)
        padded[e0 - l0 + 1:e1 - l0 + 1, 1:-1, 1:-1] = values[e0 - start:e1 - start]
        return padded

    def set_axis(self, axis: int, phi: PETSc.Vec) -> None:
        """Make the matrix N + B_axis, the right-hand side 1 V on the inlet face, and ``phi`` the linear
        initial guess 1 - x_axis / L. Only the diagonal entries of the face voxels of the previous and of
        this axis are rewritten."""
        inlet, g_in, outlet, g_out = self.boundary[axis]
        previous = [] if self.axis is None else list(self.boundary[self.axis][::2])
        changed = np.unique(np.concatenate([inlet, outlet] + previous))
        diagonal = self.face_coupling[np.searchsorted(self.face_rows, changed)]
        diagonal[np.searchsorted(changed, inlet)] += g_in  # an inlet row can also be an outlet row
        diagonal[np.searchsorted(changed, outlet)] += g_out
        rows = (changed + self.rstart).astype(PETSc.IntType)
        self.matrix.setValuesIJV(np.arange(rows.size + 1, dtype=PETSc.IntType), rows, diagonal,
                                 addv=PETSc.InsertMode.INSERT_VALUES, rowmap=rows)
        self.matrix.assemble()
        if self.aggregates is not None:
            self._set_coarse_diagonal(changed, inlet, g_in, outlet, g_out)
        self.axis = axis
        self.rhs.array[:] = 0.0
        self.rhs.array[inlet] = g_in
        phi.array[:] = 1.0 - (self.coordinate(axis) + 0.5) / self.shape[axis]

    def _set_coarse_diagonal(self, changed: np.ndarray, inlet, g_in, outlet, g_out) -> None:
        """(A_c)_II = (P^T N P)_II + the face conductances of the aggregate's voxels on the inlet and
        outlet faces, for the aggregates of the voxels ``changed``."""
        offset, local = self.aggregates.offset, self.aggregates.local
        diagonal = self.coarse_diagonal.copy()
        for rows, g in ((inlet, g_in), (outlet, g_out)):
            diagonal += np.bincount(self.row_aggregates[rows], weights=g, minlength=local)
        local_aggregates = np.unique(self.row_aggregates[changed])
        aggregates = (local_aggregates + offset).astype(PETSc.IntType)
        self.coarse.setValuesIJV(np.arange(aggregates.size + 1, dtype=PETSc.IntType), aggregates,
                                 diagonal[local_aggregates], addv=PETSc.InsertMode.INSERT_VALUES,
                                 rowmap=aggregates)
        self.coarse.assemble()

    def levels(self) -> tuple[PETSc.Mat, PETSc.Mat] | None:
        """(P, A_c) of the two-level preconditioner, None without."""
        return None if self.aggregates is None else (self.interpolation, self.coarse)

    def solve(self, solver: PETSc.KSP, phi: PETSc.Vec, check_residual: bool = False) -> tuple[int, float, float]:
        """Solve the system of the last :meth:`set_axis` into ``phi`` (holding the initial guess); returns
        the CG iterations, the dissipated power at 1 V and its estimated relative error
        (femiec.homogenization.ksp.minimize_power, with its ``check_residual``)."""
        solver.setOperators(self.matrix)
        return linear.minimize_power(solver, self.rhs, phi, self.currents, check_residual)

    def _face_currents(self, axis: int, phi_vec: PETSc.Vec) -> tuple[np.ndarray, np.ndarray]:
        """Currents (A per applied volt) into each inlet voxel and out of each outlet voxel of ``axis``
        (this rank's face rows, in the order of ``boundary[axis]``)."""
        phi = phi_vec.array_r
        inlet, g_in, outlet, g_out = self.boundary[axis]
        return g_in * (1.0 - phi[inlet]), g_out * phi[outlet]

    def currents(self, phi_vec: PETSc.Vec) -> tuple[float, float]:
        """Currents (A per applied volt) through the inlet and the outlet face of the last
        :meth:`set_axis` (collective)."""
        local = np.array([current.sum() for current in self._face_currents(self.axis, phi_vec)])
        return tuple(float(v) for v in self.comm.allreduce(local))

    def mean_current(self, axis: int, phi_vec: PETSc.Vec, power: float) -> np.ndarray:
        """The volume-averaged current density normalized by dPhi / L, in the (x, y, z) frame: along
        ``axis`` from the conductance ``power`` (A per V^2 at 1 V, :meth:`solve`), across it from the
        boundary currents (module docstring). Collective."""
        inlet, _, outlet, _ = self.boundary[axis]
        current_in, current_out = self._face_currents(axis, phi_vec)
        others = [d for d in range(3) if d != axis]
        local = np.zeros(2)
        for k, d in enumerate(others):
            c = self.coordinate(d)
            centred_out, centred_in = ((c[rows] + 0.5 - 0.5 * self.shape[d]) * self.h[d] for rows in (outlet, inlet))
            local[k] = np.dot(centred_out, current_out) - np.dot(centred_in, current_in)
        lengths = np.array(self.shape) * self.h
        integral = np.zeros(3)
        integral[axis] = power * lengths[axis]
        integral[others] = self.comm.allreduce(local)
        return integral / np.prod(lengths) * lengths[axis]

    def values_at(self, phi: PETSc.Vec, voxels: np.ndarray) -> np.ndarray:
        """Values of ``phi`` at arbitrary voxels (x, y, z indices): each voxel is asked of the rank owning
        its layer (collective); NaN outside the unknowns."""
        voxels = np.asarray(voxels, dtype=np.int64).reshape(-1, 3)
        owner = np.searchsorted(self.planes.bounds, voxels[:, 0], side="right") - 1
        asked = self.comm.alltoall([voxels[owner == r] for r in range(self.comm.size)])
        answers = self.comm.alltoall([self._own_values(phi, v) for v in asked])
        values = np.empty(len(voxels))
        for r, answer in enumerate(answers):
            values[owner == r] = answer
        return values

    def _own_values(self, phi: PETSc.Vec, voxels: np.ndarray) -> np.ndarray:
        """Values of ``phi`` at voxels of this rank's own layers (NaN outside the unknowns)."""
        l0, l1 = self.layers
        own = self.active[l0 - self.planes.start:l1 - self.planes.start]
        numbering = np.cumsum(own.ravel(), dtype=np.int64) - 1  # local row of each own voxel
        flat = np.ravel_multi_index((voxels[:, 0] - l0, voxels[:, 1], voxels[:, 2]), own.shape)
        values = np.full(len(voxels), np.nan)
        found = own.ravel()[flat]
        values[found] = phi.array_r[numbering[flat[found]]]
        return values

    def destroy(self) -> None:
        for obj in (self.matrix, self.rhs, *(self.levels() or ())):
            obj.destroy()
        for storage in (self.storage, self.coarse_storage):
            if storage is not None:
                storage.destroy()  # hypre's arrays, used by a matrix without a copy
        self.csr = None  # the AIJ matrix's arrays (used without a copy)


def _split_csr(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row starts, columns, values) of CSR rows with ``counts`` entries each (int32 starts and columns,
    float64 values, the last two to be filled)."""
    start = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=start[1:])
    return start, np.empty(int(start[-1]), dtype=np.int32), np.empty(int(start[-1]))


def single_conductivity(conductivities: Mapping[int, float],
                        contact_resistance: Mapping[tuple[int, int], float] | None) -> float | None:
    """The one conductivity of all conducting values when they share it and no contact resistance is set
    (the voxel rows need no harmonic means then); None otherwise."""
    values = set(conductivities.values())
    return values.pop() if len(values) == 1 and not contact_resistance else None


def solve_axes(image, tensors: Mapping[int, np.ndarray], names: Sequence[str], spacing: np.ndarray,
               comm, out_dir=None, rtol: float | None = None,
               petsc_options: Mapping[str, object] | None = None,
               contact_resistance: Mapping[tuple[int, int], float] | None = None) -> list[FVAxisSolution]:
    """Solve every axis in ``names`` (``"x"``, ``"y"``, ``"z"``); write the fields to ``out_dir`` if given.
    ``image``: an array, an ImageSource or this rank's RankPlanes (two halo planes with ``out_dir``);
    ``tensors``: voxel value -> conductivity tensor, which must be isotropic here."""
    conductivities = scalar_conductivities(tensors, "fv")
    if not isinstance(image, RankPlanes):
        image = read_rank_planes(image, comm, list(conductivities), halo=1 if out_dir is None else 2)
    problem = VoxelFiniteVolume(image, conductivities, spacing, comm, contact_resistance)
    solutions = problem.solve_axes(["xyz".index(name) for name in names], rtol, petsc_options,
                                   keep_fields=out_dir is not None)
    if out_dir is not None:
        from femiec.homogenization.output import write_voxel_fields

        write_voxel_fields(out_dir, problem.planes, problem.lut, list(tensors), spacing, comm, solutions,
                           problem.resistance)
        systems = {id(s.system): s.system for s in solutions if s.system is not None}
        for solution in solutions:
            if solution.phi is not None:
                solution.phi.destroy()
            solution.system = solution.phi = None
        for system in systems.values():
            system.destroy()
    return solutions
