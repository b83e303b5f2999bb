"""Cell-centred finite volumes on voxels: the applied-potential method of TauFactor.

Steady conduction div(sigma grad phi) = 0 on the voxels of the conducting phase(s), discretized with one
unknown per voxel and a two-point flux between face-sharing voxels i, j:

    flux_ij = g_ij (phi_i - phi_j),   g_ij = 2 sigma_i sigma_j / (sigma_i + sigma_j) * A_d / h_d

(harmonic mean of the voxel conductivities, face area A_d over centre distance h_d, SI units).
The potential is 1 V on the inlet face (the low face normal to the flux axis) and 0 V on the outlet face,
both at half a voxel from the first/last voxel centres (conductance 2 sigma_i A_a / h_a); all other faces
are insulating. Only clusters that touch both faces are solved (the others carry no steady current).
The result is the effective conductivity along the axis relative to sigma = 1:

    D_eff / D0 = F L / (A dPhi)

with F the total current through a cross-section (mean of inlet and outlet), L the sample length along
the axis and A its cross-section. For a single phase of unit conductivity this is TauFactor's
``D_rel`` and tau = eps / (D_eff / D0).

Parallel layout: the image (every rank holds it) is cut into slabs of whole layers normal to the flux axis
with about the same number of unknowns per rank; unknowns are numbered layer by layer, so each rank
assembles its rows directly in PETSc's CSR format without communication.
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from petsc4py import PETSc

from femiec.homogenization import ksp as linear
from femiec.homogenization.voxels import conductivity_map, label_clusters, scalar_conductivities, spanning_mask

#: neighbour offsets in the order of increasing global index (layer-by-layer C-order numbering)
_NEIGHBOURS = ((-1, 0, 0), (0, -1, 0), (0, 0, -1), (0, 0, 1), (0, 1, 0), (1, 0, 0))


@dataclass
class FVAxisSolution:
    """Outcome of one applied-potential solve along ``axis``.

    Attributes:
        axis: flux axis (0, 1, 2 = x, y, z).
        deff_ratio: D_eff / D0 along the axis (0 when no cluster spans the sample).
        mean_flux: volume-averaged current density (x, y, z) divided by D0 dPhi / L (the column of the
            applied-potential tensor; its axis entry equals ``deff_ratio``).
        flux_in, flux_out: current through the inlet and outlet faces, A per V of applied potential.
        iterations: CG iterations.
        unknowns: number of voxels solved for (voxels of spanning clusters).
        spanning_fraction: fraction of the conducting voxels that belong to spanning clusters.
        wall_time_s: assembly + solve time of this axis, seconds.
    """

    axis: int
    deff_ratio: float
    mean_flux: np.ndarray
    flux_in: float
    flux_out: float
    iterations: int
    unknowns: int
    spanning_fraction: float
    wall_time_s: float
    system: _AxisSystem | None = None

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
        return self.system.values_at(voxels)


class VoxelFiniteVolume:
    """Face-connected finite-volume conduction problems on a voxel image.

    Args:
        conductivity: relative conductivity per voxel (array image[ix, iy, iz]); 0 marks insulating voxels.
        spacing: voxel edge lengths (hx, hy, hz) in metres.
        comm: MPI communicator (mpi4py); every rank passes the whole image.
    """

    def __init__(self, conductivity: np.ndarray, spacing: Sequence[float], comm):
        self.sigma = np.asarray(conductivity, dtype=float)
        self.spacing = np.asarray(spacing, dtype=float)
        self.comm = comm
        self.labels = label_clusters(self.sigma > 0)
        self.phase_voxels = int(np.count_nonzero(self.labels))

    def solve(self, axis: int, rtol: float | None = None, petsc_options: Mapping[str, object] | None = None,
              keep_field: bool = False, transverse: bool = True) -> FVAxisSolution:
        """Apply 1 V across ``axis`` and return the effective conductivity (see the module docstring).
        ``transverse=False`` skips the transverse components of ``mean_flux`` (left 0)."""
        start = time.perf_counter()
        active = spanning_mask(self.labels, axis)
        unknowns = int(np.count_nonzero(active))
        fraction = unknowns / self.phase_voxels if self.phase_voxels else 0.0
        if unknowns == 0:
            return FVAxisSolution(axis, 0.0, np.zeros(3), 0.0, 0.0, 0, 0, fraction,
                                  time.perf_counter() - start)
        system = _AxisSystem(self.sigma, active, axis, self.spacing, self.comm)
        solver = linear.create_solver(system.matrix, rtol, petsc_options)
        iterations = linear.solve(solver, system.rhs, system.solution)
        solver.destroy()
        flux_in, flux_out, mean_flux = system.fluxes(transverse)
        lengths = np.array(self.sigma.shape) * self.spacing
        area = np.prod(lengths) / lengths[axis]
        deff = 0.5 * (flux_in + flux_out) * lengths[axis] / area
        solution = FVAxisSolution(axis, float(deff), mean_flux, flux_in, flux_out, iterations, unknowns,
                                  fraction, 0.0, system if keep_field else None)
        if not keep_field:
            system.destroy()
        solution.wall_time_s = time.perf_counter() - start
        return solution


class _AxisSystem:
    """The distributed linear system of one flux axis (rows = voxels of spanning clusters)."""

    def __init__(self, sigma: np.ndarray, active: np.ndarray, axis: int, spacing: np.ndarray, comm):
        self.axis = axis
        self.comm = comm
        # work in the frame where the flux axis comes first: moved[l, i, j]
        self.order = [axis] + [d for d in range(3) if d != axis]
        self.active = np.moveaxis(active, axis, 0)
        self.shape = self.active.shape
        self.h = spacing[self.order]
        cell_volume = float(np.prod(self.h))
        self.face_weight = cell_volume / self.h**2  # A_d / h_d
        layer_counts = np.count_nonzero(self.active, axis=(1, 2))
        self.offsets = np.concatenate([[0], np.cumsum(layer_counts)])
        self.layers = _partition(self.offsets, comm.size)[comm.rank]
        self.sigma = np.moveaxis(sigma, axis, 0)
        values = sigma[active]
        self.uniform = float(values[0]) if values.size and values.min() == values.max() else None
        self._assemble(self.sigma)

    def _assemble(self, sigma: np.ndarray) -> None:
        l0 = self.layers[0]
        n0 = self.shape[0]
        index, sig = self._padded_slab(sigma)
        position = self._owned_positions(index)
        rows = index.ravel()[position]
        s_c = sig.ravel()[position] if sig is not None else None
        layer = position // (index.shape[1] * index.shape[2]) - 1 + l0
        # compressed rows: the diagonal sits between the lower (-x', -y', -z') and upper neighbours; two
        # passes over the neighbours (count, then fill) keep only one neighbour array alive at a time
        row_length = np.ones(rows.size, dtype=PETSc.IntType)
        for offset in _NEIGHBOURS:
            row_length += self._neighbour_index(index, position, offset) >= 0
        indptr = np.zeros(rows.size + 1, dtype=PETSc.IntType)
        np.cumsum(row_length, out=indptr[1:])
        del row_length
        indices = np.empty(indptr[-1], dtype=PETSc.IntType)
        data = np.empty(indptr[-1])
        slot = indptr[:-1].copy()
        diagonal = np.zeros(rows.size)
        for k, offset in enumerate(_NEIGHBOURS):
            if k == 3:
                diagonal_slot = slot.copy()
                slot += 1
            column, g = self._neighbour(index, sig, position, s_c, offset)
            present = column >= 0
            where = slot[present]
            indices[where] = column[present]
            data[where] = -g[present]
            diagonal += g
            slot += present
        del slot, index, sig, position
        self.inlet = layer == 0
        self.outlet = layer == n0 - 1
        g_face = 2.0 * self.face_weight[0] * (s_c if s_c is not None else self.uniform)
        self.inlet_g = np.broadcast_to(g_face, rows.shape)[self.inlet].copy()
        self.outlet_g = np.broadcast_to(g_face, rows.shape)[self.outlet].copy()
        diagonal[self.inlet] += self.inlet_g
        diagonal[self.outlet] += self.outlet_g
        indices[diagonal_slot] = rows
        data[diagonal_slot] = diagonal
        del diagonal, diagonal_slot, s_c
        self.rstart = int(self.offsets[l0])
        size = (rows.size, int(self.offsets[-1]))
        # serial: PETSc uses the arrays without a copy (and frees them when converted to hypre)
        self.matrix = PETSc.Mat().createAIJWithArrays((size, size), (indptr, indices, data), comm=self.comm)
        del indptr, indices, data
        self.rhs = self.matrix.createVecRight()
        self.rhs.array[:] = 0.0
        self.rhs.array[self.inlet] = self.inlet_g  # phi = 1 V on the inlet face
        self.solution = self.matrix.createVecRight()
        self.solution.array[:] = 1.0 - (layer + 0.5) / n0  # linear initial guess

    @staticmethod
    def _owned_positions(index: np.ndarray) -> np.ndarray:
        """Flat positions in the padded slab of the owned unknowns (ascending = ascending global index)."""
        plane = index.shape[1] * index.shape[2]
        return np.flatnonzero(index[1:-1].ravel() >= 0) + plane

    @staticmethod
    def _neighbour_index(index: np.ndarray, position: np.ndarray, offset) -> np.ndarray:
        """Global index (-1 if none) of the neighbour at ``offset`` of the unknowns at flat ``position``."""
        return index.ravel()[position + _flat_shift(index.shape, offset)]

    def _neighbour(self, index, sig, position, s_c, offset) -> tuple[np.ndarray, np.ndarray]:
        """Global index (-1 if none) and face conductance of the neighbour at ``offset`` of the unknowns at
        flat ``position`` of the padded slab."""
        neighbour = self._neighbour_index(index, position, offset)
        weight = self.face_weight[int(np.flatnonzero(offset)[0])]
        if sig is None:  # one conductivity: no harmonic means
            return neighbour, np.where(neighbour >= 0, self.uniform * weight, 0.0)
        s_n = sig.ravel()[position + _flat_shift(index.shape, offset)]
        return neighbour, 2.0 * s_c * s_n / (s_c + s_n) * weight

    def _padded_slab(self, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Global indices (-1 = not an unknown) and conductivities (None if uniform) of the owned layers with
        one ghost layer on each side and a -1/0 frame around."""
        l0, l1 = self.layers
        n0, n1, n2 = self.shape
        e0, e1 = max(l0 - 1, 0), min(l1 + 1, n0)
        active = np.ascontiguousarray(self.active[e0:e1])
        index = np.full((l1 - l0 + 2, n1 + 2, n2 + 2), -1, dtype=PETSc.IntType)
        inner = (slice(e0 - l0 + 1, e1 - l0 + 1), slice(1, -1), slice(1, -1))
        numbers = np.cumsum(active, dtype=PETSc.IntType).reshape(active.shape)
        numbers += self.offsets[e0] - 1
        numbers[~active] = -1
        index[inner] = numbers
        del numbers
        if self.uniform is not None:
            return index, None
        sig = np.zeros(index.shape)
        sig[inner] = np.where(active, sigma[e0:e1], 0.0)
        return index, sig

    def fluxes(self, transverse: bool = True) -> tuple[float, float, np.ndarray]:
        """Inlet and outlet currents (A per applied volt) and the volume-averaged current density
        normalized by dPhi / L, in the (x, y, z) frame (transverse components only if ``transverse``)."""
        phi = self.solution.array_r
        boundary = np.array([np.sum(self.inlet_g * (1.0 - phi[self.inlet])),
                             np.sum(self.outlet_g * phi[self.outlet])])
        flux_in, flux_out = self.comm.allreduce(boundary)
        length = self.shape[0] * self.h[0]
        # sum over faces of current x centre distance = volume integral of the current density
        integral = np.zeros(3)
        integral[0] = 0.5 * (flux_in + flux_out) * length
        if transverse:
            integral[1:] = self._transverse_integrals(phi)
        volume = float(np.prod(np.array(self.shape) * self.h))
        mean_flux = np.zeros(3)
        mean_flux[self.order] = integral / volume * length
        return float(flux_in), float(flux_out), mean_flux

    def _transverse_integrals(self, phi: np.ndarray) -> np.ndarray:
        """Volume integrals of the two transverse current densities (sum of face current x distance)."""
        integral = np.zeros(3)
        index, sig = self._padded_slab(self.sigma)
        position = self._owned_positions(index)
        s_c = sig.ravel()[position] if sig is not None else None
        for d, offset in ((1, (0, 1, 0)), (2, (0, 0, 1))):  # transverse faces lie inside the slab
            neighbour, g = self._neighbour(index, sig, position, s_c, offset)
            inside = neighbour >= 0
            integral[d] = np.sum(g[inside] * (phi[inside] - phi[neighbour[inside] - self.rstart])) * self.h[d]
        return self.comm.allreduce(integral[1:])

    def values_at(self, voxels: np.ndarray) -> np.ndarray:
        """Potential at arbitrary voxels (x, y, z indices), gathered from their owners with a PETSc scatter."""
        moved = np.asarray(voxels)[:, self.order]
        flat = np.ravel_multi_index(moved.T, self.shape)
        numbering = np.cumsum(self.active.ravel(), dtype=np.int64) - 1
        wanted = np.where(self.active.ravel()[flat], numbering[flat], -1)
        found = wanted >= 0
        source = PETSc.IS().createGeneral(wanted[found].astype(PETSc.IntType), comm=PETSc.COMM_SELF)
        target = PETSc.Vec().createSeq(int(np.count_nonzero(found)), comm=PETSc.COMM_SELF)
        scatter = PETSc.Scatter().create(self.solution, source, target, None)
        scatter.scatter(self.solution, target, PETSc.InsertMode.INSERT_VALUES, PETSc.ScatterMode.FORWARD)
        values = np.full(len(flat), np.nan)
        values[found] = target.array_r
        for obj in (scatter, target, source):
            obj.destroy()
        return values

    def destroy(self) -> None:
        for obj in (self.matrix, self.rhs, self.solution):
            obj.destroy()


def _flat_shift(shape, offset) -> int:
    """Offset of a neighbour in a flattened C-order array of ``shape``."""
    return (offset[0] * shape[1] + offset[1]) * shape[2] + offset[2]


def _partition(offsets: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Split the layers into ``size`` contiguous ranges of about equal numbers of unknowns."""
    layers = len(offsets) - 1
    targets = offsets[-1] * np.arange(size + 1) / size
    cuts = np.searchsorted(offsets, targets, side="left").clip(0, layers)
    cuts[0], cuts[-1] = 0, layers
    cuts = np.maximum.accumulate(cuts)
    return [(int(cuts[r]), int(cuts[r + 1])) for r in range(size)]


def solve_axes(image: np.ndarray, tensors: Mapping[int, np.ndarray], names: Sequence[str], spacing: np.ndarray,
               comm, out_dir=None, rtol: float | None = None,
               petsc_options: Mapping[str, object] | None = None) -> list[FVAxisSolution]:
    """Solve every axis in ``names`` (``"x"``, ``"y"``, ``"z"``); write the fields to ``out_dir`` if given.
    ``tensors``: voxel value -> conductivity tensor, which must be isotropic here."""
    sigma = conductivity_map(image, scalar_conductivities(tensors, "fv"))
    problem = VoxelFiniteVolume(sigma, spacing, comm)
    solutions = [problem.solve("xyz".index(name), rtol, petsc_options, keep_field=out_dir is not None,
                               transverse=len(names) == 3) for name in names]
    if out_dir is not None:
        from femiec.homogenization.output import write_voxel_fields

        write_voxel_fields(out_dir, image, sigma, list(tensors), spacing, comm, solutions)
        for solution in solutions:
            if solution.system is not None:
                solution.system.destroy()
                solution.system = None
    return solutions
