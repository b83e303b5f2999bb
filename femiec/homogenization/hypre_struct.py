"""The ``fv`` voxel operator on hypre's structured grid, solved by CG preconditioned with PFMG.

The whole image box is the grid (one unknown per voxel, inactive voxels included): the voxels that do
not conduct or belong to no spanning cluster get identity rows decoupled from their neighbours
(diagonal 1, zero couplings both ways, zero right-hand side, so their value stays 0), the others the
same 7-point rows as :class:`femiec.homogenization.fv.VoxelSystem` (harmonic-mean face conductances,
contact resistances, Dirichlet half-voxel conductances on the two faces of the axis). The matrix is
stored symmetric (centre and the three lower neighbours, 32 bytes per voxel). CG (hypre's StructPCG,
stopped at ||b - A x||_2 / ||b||_2 <= rtol like the KSP of :mod:`femiec.homogenization.ksp`) is
preconditioned by one V-cycle of PFMG (semicoarsening geometric multigrid with Galerkin coarse
operators).

hypre's index order is (z, y, x) with the first index fastest, so a C-ordered numpy block
``[x, y, z]`` is a hypre box as it stands. Parallel layout: slabs of whole x layers, about the same
number per rank (the work of a structured solve is per voxel, not per unknown).

Options (``petsc_options`` with ``pc_type = "pfmg"``, PETSc's PCPFMG names): ``ksp_rtol``,
``ksp_max_it``, ``pc_pfmg_relax_type`` (0 Jacobi, 1 weighted Jacobi, 2 symmetric red/black
Gauss-Seidel (default), 3 red/black Gauss-Seidel), ``pc_pfmg_rap_type`` (0 Galerkin (default),
1 non-Galerkin), ``pc_pfmg_num_pre_relax`` and ``pc_pfmg_num_post_relax`` (default 1 each),
``pc_pfmg_skip_relax`` (default 1).
"""
from __future__ import annotations

import ctypes
from collections.abc import Mapping

import numpy as np

from femiec.errors import SolverError
from femiec.homogenization.hypre_ij import _libraries, _pointer

#: hypre (z, y, x) offsets of the stored stencil entries: centre, then the lower neighbours along z, y, x
_STENCIL = ((0, 0, 0), (-1, 0, 0), (0, -1, 0), (0, 0, -1), (1, 0, 0), (0, 1, 0), (0, 0, 1))
import os
_SYM = os.environ.get("PFMG_SYM", "1") == "1"
if _SYM:
    _STENCIL = _STENCIL[:4]
#: voxels per chunk of x layers when the rows are set (bounds the temporaries, ~60 bytes per voxel)
_CHUNK_VOXELS = 1 << 21
PFMG_DEFAULTS: dict[str, object] = {"ksp_rtol": 1e-6, "ksp_max_it": 500, "pc_pfmg_relax_type": 2,
                                    "pc_pfmg_rap_type": 0, "pc_pfmg_num_pre_relax": 1,
                                    "pc_pfmg_num_post_relax": 1, "pc_pfmg_skip_relax": 1}


def _box(lower, upper):
    """hypre (z, y, x) corner arrays of the numpy block [x0:x1, y0:y1, z0:z1] given as (x0, y0, z0),
    (x1, y1, z1) (exclusive upper)."""
    lo = np.array(lower[::-1], dtype=np.int32)
    hi = np.array([u - 1 for u in upper[::-1]], dtype=np.int32)
    return lo, hi


class StructVoxelSystem:
    """The voxel operator on the image box (module docstring); :meth:`solve` solves one axis."""

    def __init__(self, image: np.ndarray, lut: np.ndarray, resistance: np.ndarray | None, active: np.ndarray,
                 spacing: np.ndarray, comm):
        from mpi4py import MPI

        self.lib = _libraries()
        self.comm = comm
        self.shape = active.shape
        self.h = np.asarray(spacing, dtype=float)
        self.face_area = float(np.prod(self.h)) / self.h
        self.face_weight = self.face_area / self.h  # A_d / h_d
        self.lut, self.resistance, self.active = lut, resistance, active
        n0 = self.shape[0]
        cuts = (np.arange(comm.size + 1) * n0) // comm.size
        self.l0, self.l1 = int(cuts[comm.rank]), int(cuts[comm.rank + 1])
        handle_type = ctypes.c_int if MPI._sizeof(MPI.Comm) == ctypes.sizeof(ctypes.c_int) else ctypes.c_void_p
        self.handle = handle_type(MPI._handleof(comm))
        hypre = self.lib.hypre
        call = self.lib.call
        self.grid, self.stencil = ctypes.c_void_p(), ctypes.c_void_p()
        call(hypre, "HYPRE_StructGridCreate", self.handle, 3, ctypes.byref(self.grid))
        if self.l1 > self.l0:
            lo, hi = _box((self.l0, 0, 0), (self.l1,) + self.shape[1:])
            call(hypre, "HYPRE_StructGridSetExtents", self.grid, _pointer(lo), _pointer(hi))
        call(hypre, "HYPRE_StructGridAssemble", self.grid)
        call(hypre, "HYPRE_StructStencilCreate", 3, len(_STENCIL), ctypes.byref(self.stencil))
        for k, offset in enumerate(_STENCIL):
            call(hypre, "HYPRE_StructStencilSetElement", self.stencil, k, _pointer(np.array(offset, np.int32)))
        self.matrix = ctypes.c_void_p()
        call(hypre, "HYPRE_StructMatrixCreate", self.handle, self.grid, self.stencil, ctypes.byref(self.matrix))
        call(hypre, "HYPRE_StructMatrixSetSymmetric", self.matrix, int(_SYM))
        call(hypre, "HYPRE_StructMatrixInitialize", self.matrix)
        self.rhs, self.phi = self._vector(), self._vector()
        step = max(1, _CHUNK_VOXELS // (self.shape[1] * self.shape[2]))
        for a in range(self.l0, self.l1, step):
            self._set_rows(image, a, min(a + step, self.l1))
        call(hypre, "HYPRE_StructMatrixAssemble", self.matrix)
        self.boundary = [self._faces(image, axis) for axis in range(3)]
        self.axis = None

    def _vector(self) -> ctypes.c_void_p:
        vector = ctypes.c_void_p()
        self.lib.call(self.lib.hypre, "HYPRE_StructVectorCreate", self.handle, self.grid, ctypes.byref(vector))
        self.lib.call(self.lib.hypre, "HYPRE_StructVectorInitialize", vector)
        self.lib.call(self.lib.hypre, "HYPRE_StructVectorSetConstantValues", vector, ctypes.c_double(0.0))
        return vector

    def _pair_conductance(self, sigma, phases, d: int) -> np.ndarray:
        """Conductance between every voxel of the block ``sigma`` (conductivities, 0 = inactive; voxel
        values ``phases``) and its lower neighbour along d (0 on the first layer of the block and where
        either voxel is inactive): harmonic mean of the half-voxel conductances, contact resistance in
        series."""
        here = [slice(None)] * 3
        here[d] = slice(1, None)
        there = [slice(None)] * 3
        there[d] = slice(None, -1)
        here, there = tuple(here), tuple(there)
        s, t = sigma[here], sigma[there]
        both = (s > 0) & (t > 0)
        g = np.zeros(sigma.shape)
        pairs = np.zeros(s.shape)
        pairs[both] = 2.0 * s[both] * t[both] / (s[both] + t[both]) * self.face_weight[d]
        if self.resistance is not None:
            r = self.resistance[phases[here][both], phases[there][both]]
            pairs[both] /= 1.0 + pairs[both] * r / self.face_area[d]
        g[here] = pairs
        return g

    def _set_rows(self, image: np.ndarray, a: int, b: int) -> None:
        """Set the stencil entries of layers [a, b): the lower-neighbour conductances (negated) and the
        diagonal (sum of the six conductances, 1 on inactive voxels)."""
        e0, e1 = max(a - 1, 0), min(b + 1, self.shape[0])  # one ghost layer on each side
        phases = image[e0:e1]
        sigma = np.where(self.active[e0:e1], self.lut[phases], 0.0)
        inner = slice(a - e0, b - e0)
        diagonal = np.zeros((b - a,) + self.shape[1:])
        lo, hi = _box((a, 0, 0), (b,) + self.shape[1:])
        for d, entry in ((2, 1), (1, 2), (0, 3)):  # hypre entries of -z, -y, -x
            g = self._pair_conductance(sigma, phases, d)
            lower = np.ascontiguousarray(g[inner])
            diagonal += lower
            upper = [slice(None)] * 3
            upper[d] = slice(1, None)
            shifted = [slice(None)] * 3
            shifted[d] = slice(None, -1)
            above = np.zeros_like(g)
            above[tuple(shifted)] = g[tuple(upper)]  # conductance to the upper neighbour
            diagonal += above[inner]
            if not _SYM:
                up = np.ascontiguousarray(-above[inner])
                self.lib.call(self.lib.hypre, "HYPRE_StructMatrixSetBoxValues", self.matrix, _pointer(lo), _pointer(hi),
                              1, _pointer(np.array([entry + 3], np.int32)), _pointer(up))
            del g, above
            lower *= -1.0
            self.lib.call(self.lib.hypre, "HYPRE_StructMatrixSetBoxValues", self.matrix, _pointer(lo), _pointer(hi),
                          1, _pointer(np.array([entry], np.int32)), _pointer(lower))
        diagonal[sigma[inner] == 0] = 1.0
        self.lib.call(self.lib.hypre, "HYPRE_StructMatrixSetBoxValues", self.matrix, _pointer(lo), _pointer(hi),
                      1, _pointer(np.array([0], np.int32)), _pointer(diagonal))

    def _faces(self, image: np.ndarray, axis: int) -> list:
        """For the low and high face normal to ``axis``: (numpy index of the face plane within this rank's
        slab or None, its Dirichlet conductances 2 sigma A_a / h_a as a 2D array)."""
        faces = []
        for layer in (0, self.shape[axis] - 1):
            if axis == 0 and not self.l0 <= layer < self.l1:
                faces.append(None)
                continue
            index = [slice(self.l0, self.l1), slice(0, self.shape[1]), slice(0, self.shape[2])]
            index[axis] = slice(layer, layer + 1)
            sigma = np.where(self.active[tuple(index)], self.lut[image[tuple(index)]], 0.0)
            faces.append((tuple(index), 2.0 * self.face_weight[axis] * sigma))
        return faces

    def _plane(self, index) -> tuple[np.ndarray, np.ndarray]:
        lower = tuple(s.start for s in index)
        upper = tuple(s.stop for s in index)
        return _box(lower, upper)

    def _add_faces(self, axis: int, sign: float) -> None:
        for face in self.boundary[axis]:
            if face is None or face[1].size == 0:
                continue
            lo, hi = self._plane(face[0])
            values = np.ascontiguousarray(sign * face[1])
            self.lib.call(self.lib.hypre, "HYPRE_StructMatrixAddToBoxValues", self.matrix, _pointer(lo),
                          _pointer(hi), 1, _pointer(np.array([0], np.int32)), _pointer(values))

    def set_axis(self, axis: int) -> None:
        """Diagonal N + B_axis, right-hand side 1 V on the inlet face, initial guess 1 - x_axis / L on the
        active voxels (0 elsewhere)."""
        call, hypre = self.lib.call, self.lib.hypre
        if self.axis is not None:
            self._add_faces(self.axis, -1.0)
        self._add_faces(axis, 1.0)
        call(hypre, "HYPRE_StructMatrixAssemble", self.matrix)
        self.axis = axis
        call(hypre, "HYPRE_StructVectorSetConstantValues", self.rhs, ctypes.c_double(0.0))
        inlet = self.boundary[axis][0]
        if inlet is not None and inlet[1].size:
            lo, hi = self._plane(inlet[0])
            call(hypre, "HYPRE_StructVectorSetBoxValues", self.rhs, _pointer(lo), _pointer(hi),
                 _pointer(np.ascontiguousarray(inlet[1])))
        call(hypre, "HYPRE_StructVectorAssemble", self.rhs)
        n = self.shape[axis]
        profile = 1.0 - (np.arange(n) + 0.5) / n
        step = max(1, _CHUNK_VOXELS // (self.shape[1] * self.shape[2]))
        for a in range(self.l0, self.l1, step):
            b = min(a + step, self.l1)
            shape = [1, 1, 1]
            shape[axis] = n if axis else b - a
            line = profile.reshape(shape) if axis else profile[a:b].reshape(shape)
            guess = np.where(self.active[a:b], line, 0.0)
            lo, hi = _box((a, 0, 0), (b,) + self.shape[1:])
            call(hypre, "HYPRE_StructVectorSetBoxValues", self.phi, _pointer(lo), _pointer(hi), _pointer(guess))
        call(hypre, "HYPRE_StructVectorAssemble", self.phi)

    def solve(self, options: Mapping[str, object]) -> int:
        """CG + PFMG on the system of the last :meth:`set_axis`; returns the iterations."""
        call, hypre = self.lib.call, self.lib.hypre
        solver, pfmg = ctypes.c_void_p(), ctypes.c_void_p()
        call(hypre, "HYPRE_StructPCGCreate", self.handle, ctypes.byref(solver))
        call(hypre, "HYPRE_StructPCGSetTol", solver, ctypes.c_double(float(options["ksp_rtol"])))
        call(hypre, "HYPRE_StructPCGSetAbsoluteTol", solver, ctypes.c_double(0.0))
        call(hypre, "HYPRE_StructPCGSetMaxIter", solver, int(options["ksp_max_it"]))
        call(hypre, "HYPRE_StructPCGSetTwoNorm", solver, 1)
        call(hypre, "HYPRE_StructPCGSetLogging", solver, 1)
        if options.get("pc_type") == "smg":
            call(hypre, "HYPRE_StructSMGCreate", self.handle, ctypes.byref(pfmg))
            call(hypre, "HYPRE_StructSMGSetMemoryUse", pfmg, 0)
            call(hypre, "HYPRE_StructSMGSetMaxIter", pfmg, 1)
            call(hypre, "HYPRE_StructSMGSetTol", pfmg, ctypes.c_double(0.0))
            call(hypre, "HYPRE_StructSMGSetZeroGuess", pfmg)
            call(hypre, "HYPRE_StructSMGSetNumPreRelax", pfmg, int(options["pc_pfmg_num_pre_relax"]))
            call(hypre, "HYPRE_StructSMGSetNumPostRelax", pfmg, int(options["pc_pfmg_num_post_relax"]))
            call(hypre, "HYPRE_StructPCGSetPrecond", solver, ctypes.cast(hypre.HYPRE_StructSMGSolve, ctypes.c_void_p),
                 ctypes.cast(hypre.HYPRE_StructSMGSetup, ctypes.c_void_p), pfmg)
            destroy = "HYPRE_StructSMGDestroy"
        else:
          destroy = "HYPRE_StructPFMGDestroy"
          call(hypre, "HYPRE_StructPFMGCreate", self.handle, ctypes.byref(pfmg))
          call(hypre, "HYPRE_StructPFMGSetMaxIter", pfmg, 1)
          call(hypre, "HYPRE_StructPFMGSetTol", pfmg, ctypes.c_double(0.0))
          call(hypre, "HYPRE_StructPFMGSetZeroGuess", pfmg)
          call(hypre, "HYPRE_StructPFMGSetRelaxType", pfmg, int(options["pc_pfmg_relax_type"]))
          call(hypre, "HYPRE_StructPFMGSetRAPType", pfmg, int(options["pc_pfmg_rap_type"]))
          call(hypre, "HYPRE_StructPFMGSetNumPreRelax", pfmg, int(options["pc_pfmg_num_pre_relax"]))
          call(hypre, "HYPRE_StructPFMGSetNumPostRelax", pfmg, int(options["pc_pfmg_num_post_relax"]))
          call(hypre, "HYPRE_StructPFMGSetSkipRelax", pfmg, int(options["pc_pfmg_skip_relax"]))
          address = ctypes.cast
          call(hypre, "HYPRE_StructPCGSetPrecond", solver, address(hypre.HYPRE_StructPFMGSolve, ctypes.c_void_p),
               address(hypre.HYPRE_StructPFMGSetup, ctypes.c_void_p), pfmg)
        try:
            call(hypre, "HYPRE_StructPCGSetup", solver, self.matrix, self.rhs, self.phi)
            error = hypre.HYPRE_StructPCGSolve(solver, self.matrix, self.rhs, self.phi)
            hypre.HYPRE_ClearAllErrors()  # the flag is global; 256 = not converged, judged below
            if error & ~256:
                raise SolverError(f"HYPRE_StructPCGSolve failed with error code {error}")
            iterations, residual = ctypes.c_int(), ctypes.c_double()
            call(hypre, "HYPRE_StructPCGGetNumIterations", solver, ctypes.byref(iterations))
            call(hypre, "HYPRE_StructPCGGetFinalRelativeResidualNorm", solver, ctypes.byref(residual))
        finally:
            call(hypre, "HYPRE_StructPCGDestroy", solver)
            call(hypre, destroy, pfmg)
        if not residual.value <= float(options["ksp_rtol"]):
            raise SolverError(f"homogenization solve did not converge (PCG + PFMG, {iterations.value} "
                              f"iterations, relative residual {residual.value:.3e})")
        return iterations.value

    def fluxes(self, axis: int) -> tuple[float, float, np.ndarray]:
        """Inlet and outlet currents (A per applied volt) and the volume-averaged current density
        normalized by dPhi / L (as :meth:`femiec.homogenization.fv.VoxelSystem.fluxes`)."""
        local = np.zeros(4)
        transverse = [d for d in range(3) if d != axis]
        for k, face in enumerate(self.boundary[axis]):
            if face is None or face[1].size == 0:
                continue
            index, g = face
            lo, hi = self._plane(index)
            phi = np.empty(g.shape)
            self.lib.call(self.lib.hypre, "HYPRE_StructVectorGetBoxValues", self.phi, _pointer(lo), _pointer(hi),
                          _pointer(phi))
            current = g * (1.0 - phi) if k == 0 else g * phi
            local[k] = current.sum()
            sign = -1.0 if k == 0 else 1.0
            for j, d in enumerate(transverse):
                start = index[d].start
                n = g.shape[d]
                shape = [1, 1, 1]
                shape[d] = n
                centred = ((np.arange(n) + start) + 0.5 - 0.5 * self.shape[d]) * self.h[d]
                local[2 + j] += sign * np.sum(current * centred.reshape(shape))
        total = self.comm.allreduce(local)
        flux_in, flux_out = total[0], total[1]
        lengths = np.array(self.shape) * self.h
        integral = np.zeros(3)
        integral[axis] = 0.5 * (flux_in + flux_out) * lengths[axis]
        integral[transverse] = total[2:]
        return float(flux_in), float(flux_out), integral / np.prod(lengths) * lengths[axis]

    def destroy(self) -> None:
        call, hypre = self.lib.call, self.lib.hypre
        for name, obj in (("HYPRE_StructVectorDestroy", self.rhs), ("HYPRE_StructVectorDestroy", self.phi),
                          ("HYPRE_StructMatrixDestroy", self.matrix), ("HYPRE_StructStencilDestroy", self.stencil),
                          ("HYPRE_StructGridDestroy", self.grid)):
            if obj:
                call(hypre, name, obj)
        self.rhs = self.phi = self.matrix = self.stencil = self.grid = None
