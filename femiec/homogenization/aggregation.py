"""The coarse level of the voxel finite volumes' two-level preconditioner: aggregates of 2 x 2 x 2 voxels.

Each aggregate is the set of unknowns (voxels of the spanning clusters) in one block of 2 x 2 x 2 voxels;
the interpolation P (unknowns x aggregates) is piecewise constant, P_iI = 1 when voxel i lies in
aggregate I. The coarse operator is the Galerkin product A_c = P^T A P, summed face by face while the
voxel rows are computed (femiec.homogenization.kernels; no sparse matrix product): for A = N + B (N the
face couplings, B the diagonal Dirichlet face conductances of one axis)

    (A_c)_IJ = - sum of g_ij over the faces between a voxel i of I and a voxel j of J   (I != J),
    (A_c)_II = sum of g_ij over the faces from I to other aggregates + sum of B_ii over i in I,

a 7-point operator on the blocks with an eighth of the unknowns (faces inside an aggregate cancel).
Blocks start at each rank's first layer, so no aggregate spans two ranks and P has no entries outside
the rank's diagonal block; the aggregates of the halo layers come from their owners. A_c is written
straight into hypre's ParCSR arrays (femiec.homogenization.hypre_ij), where BoomerAMG runs on it.

Piecewise-constant interpolation alone is a weak coarse space for a Laplacian (a plain two-grid cycle
converges slowly); with one symmetric Gauss-Seidel sweep on the voxels before and after the coarse
correction and CG around the cycle it takes about as many iterations as BoomerAMG on the voxels
(benchmarks/README.md), for a seventh of its set-up (0.11 against 0.8 s on 128^3). Across conductivity
jumps, aggregates that mix phases are a poor coarse space (2-7x the iterations), so femiec uses the two
levels for a single conductivity only (femiec.homogenization.ksp.two_levels).
"""
from __future__ import annotations

import numpy as np
from petsc4py import PETSc

from femiec.homogenization import kernels
from femiec.homogenization.hypre_ij import HypreRows
from femiec.meshing.rank_planes import RankPlanes

#: voxels per aggregate along each axis
BLOCK = 2


class VoxelAggregates:
    """The aggregates of the unknowns ``active`` (a mask over the planes ``planes`` keeps, own and halo):
    ``ids`` holds the global aggregate number of every voxel kept (-1 outside the unknowns), ``local``
    the number of this rank's aggregates, ``offset`` that of the ranks before, ``size`` the total.
    Collective (the halo's numbers come from their owners)."""

    def __init__(self, planes: RankPlanes, active: np.ndarray, comm):
        l0, l1 = planes.own
        own = active[l0 - planes.start:l1 - planes.start]
        blocks = tuple(-(-n // BLOCK) for n in own.shape)
        padded = np.zeros([b * BLOCK for b in blocks], dtype=bool)
        padded[:own.shape[0], :own.shape[1], :own.shape[2]] = own
        occupied = padded.reshape(blocks[0], BLOCK, blocks[1], BLOCK, blocks[2], BLOCK).any(axis=(1, 3, 5))
        del padded
        self.local = int(np.count_nonzero(occupied))
        self.offset = comm.exscan(self.local) or 0
        self.size = comm.allreduce(self.local)
        kind = np.int32 if self.size < np.iinfo(np.int32).max else np.int64
        numbers = np.cumsum(occupied, dtype=kind).reshape(occupied.shape) + (self.offset - 1)
        del occupied
        self.ids = np.full(active.shape, -1, dtype=kind)
        for d in range(3):  # block numbers -> voxel numbers, one axis at a time
            numbers = np.repeat(numbers, BLOCK, axis=d)
        mine = self.ids[l0 - planes.start:l1 - planes.start]
        mine[own] = numbers[:own.shape[0], :own.shape[1], :own.shape[2]][own]
        del numbers
        planes.fill_halo(self.ids, comm)

    def interpolation(self, row_aggregates: np.ndarray, size: int, comm) -> PETSc.Mat:
        """P (``size`` unknowns x aggregates) for this rank's unknowns in the aggregates
        ``row_aggregates`` (this rank's numbers, from 0), applied without storing it (PiecewiseConstant)."""
        context = PiecewiseConstant(row_aggregates, self.local)
        P = PETSc.Mat().createPython(((len(row_aggregates), size), (self.local, self.size)), context, comm=comm)
        P.setUp()
        return P


class PiecewiseConstant:
    """y = P x and y = P^T x for P_iI = 1 when unknown i lies in aggregate I, both on this rank's rows
    (no aggregate spans two ranks): a gather and a sum by aggregate (compiled loops, femiec.homogenization
    .kernels); 4 bytes per unknown (the aggregate of each row, ``index``, local numbers, int32) where an
    AIJ matrix would need 24-36."""

    def __init__(self, index: np.ndarray, count: int):
        self.index, self.count = index, count

    def mult(self, mat, x: PETSc.Vec, y: PETSc.Vec) -> None:
        y.array[:] = x.array_r[self.index]

    def multAdd(self, mat, x: PETSc.Vec, y: PETSc.Vec, z: PETSc.Vec) -> None:
        """z = y + P x (femiec.homogenization.kernels; z may be y)."""
        out = z.array
        kernels.library().aggregate_gather_add(kernels.address(self.index, np.int32), _address(x.array_r),
                                               _address(y.array_r), len(self.index), _address(out))

    def multTranspose(self, mat, x: PETSc.Vec, y: PETSc.Vec) -> None:
        """y = P^T x, the sums by aggregate in row order (femiec.homogenization.kernels)."""
        out = y.array
        kernels.library().aggregate_sum(kernels.address(self.index, np.int32), _address(x.array_r),
                                        len(self.index), _address(out), self.count)


class CoarseRows:
    """The rows of A_c = P^T N P of this rank's aggregates (module docstring): :meth:`add` those of the
    chunks of voxel rows that hold whole aggregates, then :meth:`assemble`.
    ``diagonal``: (A_c)_II of N alone, by local aggregate."""

    def __init__(self, aggregates: VoxelAggregates):
        self.aggregates = aggregates
        self.diagonal = np.zeros(aggregates.local)
        self.pieces: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, first: int, columns: np.ndarray, values: np.ndarray) -> None:
        """The rows of the aggregates first, first + 1, ... of one chunk of whole blocks of layers, without
        their diagonal: ``columns`` (-1: none) and ``values`` (span x 7, slots by direction as for the
        voxel rows; femiec.homogenization.kernels sums the faces between two aggregates into them)."""
        a = self.aggregates
        diagonal = -values.sum(axis=1)
        self.diagonal[first - a.offset:first - a.offset + len(diagonal)] = diagonal
        columns[:, 3] = np.arange(first, first + len(diagonal))
        values[:, 3] = diagonal
        present = columns >= 0
        mine = present & (columns >= a.offset) & (columns < a.offset + a.local)
        self.pieces.append((first, np.count_nonzero(mine, axis=1).astype(np.int32),
                            np.count_nonzero(present & ~mine, axis=1).astype(np.int32),
                            columns[present], values[present]))

    def assemble(self, comm) -> HypreRows:
        """hypre's storage of the coarse rows (its ``assemble()`` gives the matrix)."""
        a = self.aggregates
        owned = np.zeros(a.local, dtype=np.int32)
        other = np.zeros(a.local, dtype=np.int32)
        for first, mine, others, _, _ in self.pieces:
            owned[first - a.offset:first - a.offset + mine.size] = mine
            other[first - a.offset:first - a.offset + mine.size] = others
        storage = HypreRows(comm, a.offset, a.size, owned, other)
        for first, mine, others, columns, values in self.pieces:
            indptr = np.concatenate([[0], np.cumsum(mine + others)])
            storage.set_rows(np.arange(first, first + mine.size), indptr, columns, values)
        self.pieces = []
        return storage


def _address(array: np.ndarray) -> int:
    """The data pointer of a vector's local array (float64, contiguous)."""
    return kernels.address(array, np.float64)
