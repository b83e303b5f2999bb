"""A whole impedance sweep from one small projected system: rational Krylov with real shifts.

The responses du(omega) of the linearization (femiec.studies.small_signal)

    (J + i omega M) du = b(omega),      b(omega) = b_J + i omega b_M   (b_J = -f_J, b_M = -f_M)

at all the sweep's frequencies lie close to a space V of small dimension k: a cell's spectrum is a sum
of relaxations. On V (real columns) the Galerkin projection

    (V^T J V + i omega V^T M V) z = V^T b(omega),      du ~ V z

is a k x k complex system, solved at every frequency in microseconds. V is spanned by solutions at real
shifts s (rational Krylov; Ruhe 1984, Grimme 1997; for diffusion and RC spectra real shifts converge
geometrically, Druskin, Knizhnerman & Zaslavsky 2009):

    (J + s M) x_0 = b_J  (and b_M),   and the moments (J + s M) x_m = M x_(m-1),  m = 1..4,

each a real system: the Jacobian of one implicit Euler step with dt = 1/s, factorised once (or set up
once for an iterative solver, which is then what the transient run does at every Newton step) and solved
for five (or ten) right-hand sides. An iterative solve starts from the Galerkin solution of the same
system on the space built so far, which already holds most of it (12^3 crop, `fieldsplit`: 659 -> 447
Krylov iterations at tol 1e-4, 1094 -> 503 at 1e-6). On the NMC electrode's 12^3 crop (8 decades, 49 frequencies), 9
shifts and 45 solves give Z to 6e-8 of the per-frequency complex solves at ``tol`` = 1e-4, 15 shifts to
3e-9 at 1e-6 (the estimate below is pessimistic). Per frequency of the sweep, the cost is then a k x k solve instead of
a complex solve of the full size.

The shifts are placed adaptively in log(omega): one per two decades of the sweep to start with, then every
interval between neighbouring shifts is bisected (a shift at its geometric midpoint) until adding the
midpoint changes the transfer function at the sweep's frequencies in that interval by less than ``tol``
(relative) — the standard a-posteriori estimate of the coarser space's error. Finally the result is
checked against the exact complex (PRESB) solve at the frequency whose last change was largest (started
from the space's solution there and solved to 1e-4 tol, or the study's rtol if tighter; an iterative inner
solver of it stops at 1e-2, as the outer FGMRES stops on the true residual); that check, and its error,
are reported. If it misses ``tol``, its Re du and Im du join the space (the
projection then interpolates there) and the check moves to the next frequency (at most three checks).

Lengths are measured in the diagonal scaling D = |diag J| + omega_ref |diag M| (omega_ref the sweep's
geometric-mean frequency), since the unknowns of a coupled problem differ by orders of magnitude
(mol/m^3, V): the space is orthonormal in <a, b> = sum D a b, which keeps the projected matrices well
conditioned (the Galerkin system itself does not depend on the choice).
"""
from __future__ import annotations

import logging
import time

import numpy as np
from petsc4py import PETSc

from femiec.errors import InputError
from femiec.studies.small_signal import FrequencySolver, FrequencyStats, Linearization

log = logging.getLogger(__name__)

#: a new vector whose part D-orthogonal to the space is below this fraction of its length adds nothing
_DEPENDENT = 1e-13
#: intervals narrower than this [decades] are not bisected further
_NARROWEST = 1.0 / 32
#: exact checks at most
_CHECKS = 3
#: relative tolerance of the check's iterative inner solves (FGMRES outside stops on the true residual)
_CHECK_INNER_RTOL = 1e-2
#: columns of the basis per storage block
_BLOCK = 16


class ReducedSweep:
    """The responses at many angular frequencies from one projected system (see the module docstring).

    Args:
        linearization: :class:`~femiec.studies.small_signal.Linearization`.
        solver: a :class:`~femiec.studies.small_signal.FrequencySolver` (method presb, no reuse) that does
            the shift solves and the checking complex solve; its inner solver and tolerances are used.
        tol: relative change of the transfer function below which an interval of shifts is converged, and
            the accepted relative error of the exact check [-].
        moments: moments per shift and right-hand side (each one more solve with the same matrix).
        per_decade: initial shifts per decade of the sweep.
    """

    def __init__(self, linearization: Linearization, solver: FrequencySolver, tol: float = 1e-4,
                 moments: int = 4, per_decade: float = 0.5):
        if not (np.isfinite(tol) and 0 < tol < 1):
            raise InputError("study.rtol", tol, "a relative tolerance in (0, 1)")
        self.lin, self.solver, self.tol = linearization, solver, float(tol)
        self.moments, self.per_decade = moments, per_decade
        self._mpi = linearization.jacobian.getComm().tompi4py()
        self.b_J = -linearization.forcing.getArray(readonly=True).copy()
        self.b_M = -linearization.mass_forcing.getArray(readonly=True).copy()
        self._has_mass_forcing = self._mpi.allreduce(np.count_nonzero(self.b_M)) > 0
        self._c = linearization.output.getArray(readonly=True).copy()
        self._rate = None if linearization.output_rate is None else linearization.output_rate.getArray(readonly=True).copy()
        self._lift = linearization.lift.getArray(readonly=True).copy()
        self.space = _Space(self.b_J.size)
        self.D = None
        self.shifts: list[float] = []
        self.solves = 0              # solves with J + s M
        self.iterations = 0          # their Krylov iterations (1 per LU back-solve) and the checks' outer ones
        self.checks: list[dict] = []  # {frequency_Hz, relative_error}
        self.estimate = None         # the largest last change of the transfer function [-]

    # ------------------------------------------------------------------------------------ algebra
    def _scaling(self, omega_ref: float) -> np.ndarray:
        """D = |diag J| + omega_ref |diag M| (owned rows; a row without a diagonal gets the mean)."""
        diagonal = self.lin.jacobian.getDiagonal()
        scale = np.abs(diagonal.getArray(readonly=True))
        self.lin.mass.getDiagonal(diagonal)
        scale = scale + omega_ref * np.abs(diagonal.getArray(readonly=True))
        diagonal.destroy()
        total = self._mpi.allreduce(np.array([scale.sum(), scale.size], dtype=float))
        mean = total[0] / max(total[1], 1.0)
        return np.where(scale > 1e-12 * mean, scale, mean)

    def _norm(self, a: np.ndarray) -> float:
        """||a||_D = sqrt(sum D a^2)."""
        return float(np.sqrt(self._mpi.allreduce(np.sum(self.D * a * a))))

    def _add(self, w: np.ndarray) -> bool:
        """D-orthonormalise ``w`` against the space (Gram–Schmidt twice) and add it with the new row and
        column of the projected matrices (from J w, M w, J^T w, M^T w); False if dependent."""
        size = self._norm(w)
        if size == 0:
            return False
        w = w / size
        for _ in range(2):
            if self.space.size:
                w = w - self.space.combine(self._mpi.allreduce(self.space.project(self.D * w)))
        norm = self._norm(w)
        if norm < _DEPENDENT:
            return False
        w = w / norm
        vec, out = self.lin.jacobian.createVecRight(), self.lin.jacobian.createVecLeft()
        vec.getArray(readonly=False)[:] = w
        products = []
        for matrix in (self.lin.jacobian, self.lin.mass):
            matrix.mult(vec, out)
            products.append(out.getArray(readonly=True).copy())
        for matrix in (self.lin.jacobian, self.lin.mass):
            matrix.multTranspose(vec, out)
            products.append(out.getArray(readonly=True).copy())
        vec.destroy()
        out.destroy()
        self.space.append(w, *products, self._mpi, (self.b_J, self.b_M))
        return True

    def _shift(self, shift: float) -> None:
        """Add x_0 = (J + shift M)^-1 b for b = b_J, b_M and the moments x_m = (J + shift M)^-1 M x_(m-1)."""
        rhs, x = (self.lin.jacobian.createVecLeft() for _ in range(2))
        try:
            for b in (self.b_J, self.b_M) if self._has_mass_forcing else (self.b_J,):
                rhs.getArray(readonly=False)[:] = b
                for _ in range(1 + self.moments):
                    guess = self._projected_solution(shift, rhs, x)
                    self.iterations += self.solver.shift_solve(shift, rhs, x, guess=guess)
                    self.solves += 1
                    self._add(x.getArray(readonly=True).copy())
                    self.lin.mass.mult(x, rhs)
        finally:
            for vec in (rhs, x):
                vec.destroy()
        self.shifts.append(shift)
        log.info("reduced sweep: shift %d at s = %.3g 1/s; space %d, %d solves, %d Krylov iterations so far",
                 len(self.shifts), shift, self.space.size, self.solves, self.iterations)

    def _projected_solution(self, shift: float, rhs: PETSc.Vec, out: PETSc.Vec) -> bool:
        """Put into ``out`` the Galerkin solution of (J + shift M) x = rhs on the present space, the start of
        an iterative solve (the space already resolves most of it); False when there is no space yet."""
        if not self.space.size:
            return False
        z = np.linalg.solve(self.space.Jr + shift * self.space.Mr,
                            self._mpi.allreduce(self.space.project(rhs.getArray(readonly=True))))
        out.getArray(readonly=False)[:] = self.space.combine(z)
        return True

    def _coordinates(self, omegas: np.ndarray) -> np.ndarray:
        """z (k x n_omega) of the projected systems."""
        Jr, Mr, (bJ, bM) = self.space.Jr, self.space.Mr, self.space.projected_rhs
        return np.column_stack([np.linalg.solve(Jr + 1j * w * Mr, bJ + 1j * w * bM) for w in omegas])

    def _transfers(self, omegas: np.ndarray, z: np.ndarray) -> np.ndarray:
        """d output / d input at each omega from coordinates z (the lift and the direct part included)."""
        project = self.space.project
        value = self._mpi.allreduce(project(self._c) @ z) + self._mpi.allreduce(self._c @ self._lift) \
            + self.lin.output_direct
        if self._rate is not None:
            value = value + 1j * omegas * (self._mpi.allreduce(project(self._rate) @ z)
                                           + self._mpi.allreduce(self._rate @ self._lift))
        return value

    # -------------------------------------------------------------------------------------- sweep
    def run(self, omegas) -> np.ndarray:
        """Build the space for the angular frequencies ``omegas`` [rad/s] (>= 0; omega = 0 adds the static
        shift); returns z (k x n_omega): du(omega_j) = V z[:, j]."""
        omegas = np.asarray(omegas, dtype=float)
        if not np.all(np.isfinite(omegas) & (omegas >= 0)):
            raise InputError("frequency", float(omegas.min()) / (2 * np.pi), "non-negative finite frequencies [Hz]")
        positive = omegas[omegas > 0]
        low, high = (np.log10(positive.min()), np.log10(positive.max())) if positive.size else (0.0, 0.0)
        self.D = self._scaling(10 ** ((low + high) / 2))
        if positive.size < omegas.size:
            self._shift(0.0)  # omega = 0: the static response J^-1 b_J and its moments
        log_w = np.log10(np.where(omegas > 0, omegas, 10 ** low))
        points = list(np.linspace(low, high, max(int(np.ceil((high - low) * self.per_decade)), 1) + 1)) \
            if positive.size else []
        for point in points:
            self._shift(10 ** point)
        H = self._transfers(omegas, self._coordinates(omegas))
        change = np.zeros(len(omegas))
        open_intervals = list(zip(points[:-1], points[1:]))
        while open_intervals:
            for a, b in open_intervals:
                self._shift(10 ** ((a + b) / 2))
            H_new = self._transfers(omegas, self._coordinates(omegas))
            change = np.abs(H_new - H) / np.maximum(np.abs(H_new), np.finfo(float).tiny)
            H = H_new
            refined = []
            for a, b in open_intervals:
                inside = (log_w >= a - 1e-12) & (log_w <= b + 1e-12)
                if b - a > 2 * _NARROWEST and inside.any() and change[inside].max() > self.tol:
                    refined += [(a, (a + b) / 2), ((a + b) / 2, b)]
            open_intervals = refined
        self.estimate = float(change.max())
        return self._check(omegas, change)

    def _check(self, omegas: np.ndarray, change: np.ndarray) -> np.ndarray:
        """Compare with the exact complex solve where the last change was largest (see the module
        docstring); returns the final coordinates."""
        z = self._coordinates(omegas)
        order = list(np.argsort(-change, kind="stable"))
        for j in order[:_CHECKS]:
            # started from the space's solution, to 1e-4 of the tolerance checked (not to the study's rtol)
            guess = (self.space.combine(z[:, j].real), self.space.combine(z[:, j].imag))
            exact, x, y = self.solver.solve(float(omegas[j]), guess=guess, rtol=max(self.solver.rtol, 1e-4 * self.tol),
                                            inner_rtol=max(self.solver.inner_rtol, _CHECK_INNER_RTOL))
            self.iterations += self.solver.stats[-1].iterations
            error = abs(self._transfers(omegas[j:j + 1], z[:, j:j + 1])[0] / exact - 1)
            self.checks.append({"frequency_Hz": float(omegas[j] / (2 * np.pi)), "relative_error": float(error)})
            log.info("reduced sweep: exact check at %.4g Hz: relative error %.2g (tolerance %.2g)",
                     omegas[j] / (2 * np.pi), error, self.tol)
            x.axpy(-1.0, self.lin.lift)
            for vec in (x, y):
                self._add(vec.getArray(readonly=True).copy())
                vec.destroy()
            z = self._coordinates(omegas)
            if error <= self.tol:
                break
        return z

    def responses(self, omegas):
        """Yield (transfer, x, y, stats) for each omega of ``omegas`` [rad/s]: the space is built first
        (:meth:`run`), its cost spread evenly over the frequencies in the stats."""
        start = time.perf_counter()
        omegas = np.asarray(omegas, dtype=float)
        z = self.run(omegas)
        transfers = self._transfers(omegas, z)
        share = (time.perf_counter() - start) / len(omegas)
        for j, omega in enumerate(omegas):
            x, y = self.response(z[:, j])
            yield complex(transfers[j]), x, y, FrequencyStats(omega / (2 * np.pi), self.space.size, share, False)

    def response(self, z: np.ndarray) -> tuple[PETSc.Vec, PETSc.Vec]:
        """du = x + i y (PETSc vectors, the Dirichlet lift included in x) of coordinates z."""
        x, y = self.lin.jacobian.createVecLeft(), self.lin.jacobian.createVecLeft()
        x.getArray(readonly=False)[:] = self.space.combine(z.real) + self._lift
        y.getArray(readonly=False)[:] = self.space.combine(z.imag)
        return x, y

    def summary(self) -> dict:
        """The sweep's cost and accuracy for summary.json."""
        return {"method": "reduced", "space_dimension": self.space.size, "shifts": len(self.shifts),
                "shift_solves": self.solves, "krylov_iterations": self.iterations,
                "estimated_relative_error": self.estimate, "checks": self.checks}


class _Space:
    """The basis V (n x k, the local rows) and the projected V^T J V, V^T M V and V^T b (k x k, k), kept up
    to date as columns are added, so that a Galerkin solve costs O(n k) and not O(n k^2). Only V is stored,
    in blocks of _BLOCK columns (each held as a row-major _BLOCK x n array): a new column costs its
    products J w, M w, J^T w, M^T w (the new column and row of the projected matrices) instead of keeping
    J V and M V, and the storage grows by one block without copying the others (n (k + _BLOCK) doubles
    at most, against 3 n k to 9 n k with J V, M V and a doubled array)."""

    def __init__(self, n: int):
        self.n, self.size = n, 0
        self._blocks: list[np.ndarray] = []
        self.Jr, self.Mr = np.empty((0, 0)), np.empty((0, 0))
        self.projected_rhs = (np.empty(0), np.empty(0))

    def _filled(self):
        """(block, first column, columns used) of each block."""
        for b, block in enumerate(self._blocks):
            first = b * _BLOCK
            yield block, first, min(_BLOCK, self.size - first)

    def project(self, a: np.ndarray) -> np.ndarray:
        """V^T a (local part; a: n, or n x m)."""
        if not self.size:
            return np.zeros((0,) + np.shape(a)[1:])
        return np.concatenate([block[:used] @ a for block, _, used in self._filled()])

    def combine(self, z: np.ndarray) -> np.ndarray:
        """V z (z: k, or k x m)."""
        out = np.zeros((self.n,) + np.shape(z)[1:], dtype=np.result_type(z, float))
        for block, first, used in self._filled():
            out += block[:used].T @ z[first:first + used]
        return out

    def append(self, w: np.ndarray, Jw: np.ndarray, Mw: np.ndarray, JTw: np.ndarray, MTw: np.ndarray, comm,
               rhs: tuple) -> None:
        """Add column w (with J w, M w, J^T w, M^T w) and the new row and column of the projected matrices
        (the row from (J^T w)^T V = w^T J V) and the new entries of the projected right-hand sides ``rhs``
        (summed over ``comm``)."""
        k = self.size
        if k == len(self._blocks) * _BLOCK:
            self._blocks.append(np.empty((_BLOCK, self.n)))
        self._blocks[-1][k % _BLOCK] = w
        self.size = k + 1
        local = np.concatenate([self.project(Jw), self.project(Mw), self.project(JTw)[:k], self.project(MTw)[:k],
                                [w @ b for b in rhs]])
        total = comm.allreduce(local)
        n = k + 1
        column_J, column_M, row_J, row_M = total[:n], total[n:2 * n], total[2 * n:2 * n + k], total[2 * n + k:2 * n + 2 * k]
        self.Jr, self.Mr = (self._grown(old, row, column) for old, row, column in
                            ((self.Jr, row_J, column_J), (self.Mr, row_M, column_M)))
        self.projected_rhs = tuple(np.append(p, value) for p, value in zip(self.projected_rhs, total[2 * n + 2 * k:]))

    @staticmethod
    def _grown(old: np.ndarray, row: np.ndarray, column: np.ndarray) -> np.ndarray:
        """[[old, column[:-1]], [row, column[-1]]]: the projected matrix with its new row and column."""
        k = old.shape[0]
        new = np.empty((k + 1, k + 1))
        new[:k, :k], new[k, :k], new[:, k] = old, row, column
        return new
