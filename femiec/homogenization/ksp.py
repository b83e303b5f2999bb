"""Linear solver of the homogenization problems: CG preconditioned by hypre BoomerAMG.

The matrices are symmetric positive definite M-matrices (7-point finite volumes, Q1/P1 stiffness with
Dirichlet faces). Defaults, tuned on 128^3 and 256^3 voxel images (see benchmarks/README.md):
PMIS coarsening with one level of aggressive coarsening, strong threshold 0.5, ext+i interpolation with
at most 4 entries per row. Convergence criterion: unpreconditioned relative residual
||b - A x||_2 / ||b||_2 <= rtol (default 1e-6).

The voxel finite volumes (``fv``) of a single conductivity default to a two-level preconditioner instead
(``VOXEL_OPTIONS``, :func:`two_levels`): the voxels grouped into aggregates of 2 x 2 x 2
(femiec.homogenization.aggregation), one symmetric Gauss-Seidel sweep on the voxels before and after the
coarse correction, and one BoomerAMG V-cycle (the options above) on the Galerkin operator of the
aggregates, P^T A P, an eighth of the size. Its set-up is a small part of BoomerAMG's on the voxels, and
it converges in about as many CG iterations.

The voxel finite volumes (all of them) are solved by :func:`minimize_power`: femiec's own CG loop with
the preconditioner above, which stops on the estimated error of the dissipated power, from which
D_eff follows with an error quadratic in that of the potential; for them ``ksp_rtol`` is the relative
error of D_eff allowed (default 1e-6, at most ``POWER_RTOL_MAX``) and ``ksp_max_it`` the iteration limit;
the other KSP options (ksp_type, ksp_norm_type) do not apply.

Every option can be overridden through ``petsc_options`` (keys without the prefix) or on the PETSc
command line with the prefix ``femiec_homog_``, e.g. ``-femiec_homog_pc_type gamg``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from petsc4py import PETSc

from femiec.errors import SolverError

PREFIX = "femiec_homog_"

#: the estimated error of the dissipated power must be below rtol / POWER_ERROR_SAFETY: the estimate was
#: 0.6-1.6 times the true error on the images of benchmarks/README.md (one and three conductivities)
POWER_ERROR_SAFETY = 2.0
#: loosest relative error of D_eff accepted (the estimate needs three CG steps; 1% is three of them)
POWER_RTOL_MAX = 1e-2

DEFAULT_OPTIONS: dict[str, object] = {
    "ksp_type": "cg",
    "ksp_norm_type": "unpreconditioned",
    "ksp_rtol": 1e-6,
    "ksp_atol": 0.0,
    "ksp_max_it": 500,
    "pc_type": "hypre",
    "pc_hypre_type": "boomeramg",
    "pc_hypre_boomeramg_coarsen_type": "PMIS",
    "pc_hypre_boomeramg_agg_nl": 1,
    "pc_hypre_boomeramg_strong_threshold": 0.5,
    "pc_hypre_boomeramg_interp_type": "ext+i",
    "pc_hypre_boomeramg_P_max": 4,
    "pc_hypre_boomeramg_no_CF": None,
}


#: the fv default: two levels, voxels and their 2 x 2 x 2 aggregates (module docstring)
VOXEL_OPTIONS: dict[str, object] = {
    **DEFAULT_OPTIONS,  # BoomerAMG's options stay for ``pc_type hypre`` on the voxels
    "pc_type": "mg",
    "mg_levels_ksp_type": "richardson",
    "mg_levels_ksp_max_it": 1,
    "mg_levels_pc_type": "sor",
    "mg_levels_pc_sor_local_symmetric": None,
    "mg_coarse_ksp_type": "preonly",
    **{"mg_coarse_" + key: value for key, value in DEFAULT_OPTIONS.items() if key.startswith("pc_")},
}


def two_levels(single_conductivity: bool, petsc_options: Mapping[str, object] | None) -> bool:
    """Whether the voxel finite volumes use the two-level preconditioner: ``pc_type`` from the command line
    (``-femiec_homog_pc_type``), else from ``petsc_options``, else the default: two levels for a single
    conductivity (tortuosity), BoomerAMG on the voxels for several (piecewise-constant aggregates across
    conductivity jumps of 1e2-1e9 took 2-7x BoomerAMG's iterations; benchmarks/README.md)."""
    chosen = PETSc.Options().getString(PREFIX + "pc_type", "") or (petsc_options or {}).get("pc_type")
    return chosen == "mg" if chosen else single_conductivity


def create_solver(matrix: PETSc.Mat, rtol: float | None = None,
                  petsc_options: Mapping[str, object] | None = None,
                  levels: tuple[PETSc.Mat, PETSc.Mat] | None = None) -> PETSc.KSP:
    """KSP for ``matrix`` with the defaults above, ``rtol`` and ``petsc_options`` applied on top.

    With ``levels`` = (P, A_c), the aggregates' interpolation and coarse operator
    (femiec.homogenization.aggregation), the defaults are ``VOXEL_OPTIONS``: PCMG's two levels."""
    options = dict(DEFAULT_OPTIONS if levels is None else VOXEL_OPTIONS)
    if rtol is not None:
        options["ksp_rtol"] = rtol
    options.update(petsc_options or {})
    database = PETSc.Options()
    ours = [key for key in options if not database.hasName(PREFIX + key)]  # the command line wins
    for key in ours:
        database[PREFIX + key] = options[key]
    ksp = PETSc.KSP().create(matrix.getComm())
    ksp.setOptionsPrefix(PREFIX)
    hypre = database.getString(PREFIX + "pc_type", "") == "hypre"
    if hypre != (matrix.getType() == "hypre"):
        # in place: BoomerAMG needs no second copy of the matrix, the other preconditioners want AIJ
        matrix.convert("hypre" if hypre else "aij")
    ksp.setOperators(matrix)
    ksp.setInitialGuessNonzero(True)
    if levels is not None and database.getString(PREFIX + "pc_type", "") == "mg":
        pc = ksp.getPC()
        pc.setType("mg")
        pc.setMGLevels(2)
        pc.setMGInterpolation(1, levels[0])
        pc.getMGCoarseSolve().setOperators(levels[1])
    ksp.setFromOptions()
    if ksp.getPC().getType() == "mg":  # the levels read their options now, before ours leave the database
        for level in range(ksp.getPC().getMGLevels()):
            ksp.getPC().getMGSmoother(level).setFromOptions()
    for key in ours:
        database.delValue(PREFIX + key)
    return ksp


def solve(ksp: PETSc.KSP, rhs: PETSc.Vec, solution: PETSc.Vec) -> int:
    """Solve in place (``solution`` holds the initial guess); SolverError when CG does not converge.

    Returns the number of iterations.
    """
    ksp.solve(rhs, solution)
    reason = ksp.getConvergedReason()
    if reason < 0:
        raise SolverError(f"homogenization solve did not converge (KSP reason {reason}, "
                          f"{ksp.getIterationNumber()} iterations, residual {ksp.getResidualNorm():.3e})")
    return ksp.getIterationNumber()


def minimize_power(ksp: PETSc.KSP, rhs: PETSc.Vec, solution: PETSc.Vec,
                   currents: Callable[[PETSc.Vec], tuple[float, float]],
                   check_residual: bool = False) -> tuple[int, float, float]:
    """Preconditioned CG on A x = b (``ksp``'s operator and preconditioner; ``solution`` holds the initial
    guess) of a conduction problem with 1 V on its inlet face, stopped on the error of the dissipated power.

    The Joule power of a potential x (sum of g (phi_i - phi_j)^2 over all faces, the Dirichlet half-faces
    included; W at 1 V applied, i.e. a conductance in S for conductances in S)

        P(x) = c - 2 b^T x + x^T A x,   c = sum of the inlet face conductances = sum(b),

    equals the current through the sample at the solution x* (P(x*) = c - b^T x* = I_in), and for any
    x = x* + e  P(x) = P(x*) + e^T A e: it overestimates the conductance by the squared energy norm of
    the error, where the current through a face errs linearly. CG minimizes e^T A e over its Krylov space:
    P decreases at every step k by d_k = alpha_k r_k^T z_k (r the residual, z the preconditioned one), and
    the error left is the sum of the decreases still to come (Hestenes and Stiefel; Strakos and Tichy,
    ETNA 13, 2002). With geometric convergence it is estimated as

        E = d_k q / (1 - q),   q = max(d_k / d_(k-1), d_(k-1) / d_(k-2)),

    and CG stops when POWER_ERROR_SAFETY E <= rtol P and the relative inlet/outlet current mismatch m
    (``currents(x)`` = (I_in, I_out)) satisfies m^2 <= rtol (the currents, hence the fields, to about
    sqrt(rtol)), or when d_k is below the resolution of P in double precision. With ``check_residual`` the
    unpreconditioned relative residual ||b - A x||_2 / ||b||_2 <= rtol must hold as well: the currents
    through every face, and the transverse entries of a tensor computed from them, then err by about
    rtol too. rtol and max_it are ``ksp``'s; ``ksp.monitor`` is called with sqrt(r^T z).

    Returns (iterations, P(x) of the final x, the estimated relative error E / P). SolverError when
    max_it is reached or the preconditioned operator is not positive definite.
    """
    rtol, _, _, max_it = ksp.getTolerances()
    ksp.setType(PETSc.KSP.Type.PREONLY)  # this loop iterates: no Krylov work vectors (4 per unknown)
    matrix = ksp.getOperators()[0]
    preconditioner = ksp.getPC()
    ksp.setUp()
    residual = rhs.duplicate()
    matrix.mult(solution, residual)
    residual.aypx(-1.0, rhs)  # r = b - A x
    power = rhs.sum() - rhs.dot(solution) - solution.dot(residual)  # c - 2 b^T x + x^T A x
    preconditioned = residual.duplicate()
    preconditioner.apply(residual, preconditioned)
    direction = preconditioned.copy()
    product = residual.duplicate()
    rho = residual.dot(preconditioned)
    decreases: list[float] = []
    error, iterations = np.inf, 0
    residual_bound = rtol * rhs.norm() if check_residual else np.inf
    ksp.monitor(0, np.sqrt(abs(rho)))
    try:
        while rho != 0.0:
            if iterations == max_it:
                ksp.setConvergedReason(PETSc.KSP.ConvergedReason.DIVERGED_MAX_IT)
                raise SolverError(f"homogenization solve did not converge in {max_it} CG iterations (estimated "
                                  f"relative error of D_eff {error:.3e}, asked {rtol:g})")
            matrix.mult(direction, product)
            curvature = direction.dot(product)
            if rho < 0.0 or curvature <= 0.0:
                ksp.setConvergedReason(PETSc.KSP.ConvergedReason.DIVERGED_INDEFINITE_PC)
                raise SolverError(f"homogenization solve: the preconditioned operator is not positive definite "
                                  f"(r^T z = {rho:.3e}, p^T A p = {curvature:.3e} at CG iteration {iterations})")
            alpha = rho / curvature
            solution.axpy(alpha, direction)
            residual.axpy(-alpha, product)
            decreases.append(alpha * rho)
            power -= alpha * rho
            iterations += 1
            error = _power_error(decreases) / power
            if decreases[-1] <= np.finfo(float).eps * power:  # P resolved to round-off: nothing left to gain
                error = min(error, decreases[-1] / power)
            inlet, outlet = currents(solution)
            mismatch = (inlet - outlet) / (0.5 * (inlet + outlet))
            if (mismatch**2 <= rtol and POWER_ERROR_SAFETY * error <= rtol
                    and (not check_residual or residual.norm() <= residual_bound)):
                break
            preconditioner.apply(residual, preconditioned)
            rho, previous = residual.dot(preconditioned), rho
            direction.aypx(rho / previous, preconditioned)
            ksp.monitor(iterations, np.sqrt(abs(rho)))
        ksp.setIterationNumber(iterations)
        ksp.setConvergedReason(PETSc.KSP.ConvergedReason.CONVERGED_RTOL)
        return iterations, power, error if decreases else 0.0
    finally:
        for vector in (residual, preconditioned, direction, product):
            vector.destroy()


def _power_error(decreases: list[float]) -> float:
    """Estimated power error left after the last CG step (:func:`minimize_power`): the geometric tail of
    the decreases d_k; infinite before three steps or while they do not contract."""
    if len(decreases) < 3:
        return np.inf
    ratio = max(decreases[-1] / decreases[-2], decreases[-2] / decreases[-3])
    return decreases[-1] * ratio / (1.0 - ratio) if ratio < 1.0 else np.inf
