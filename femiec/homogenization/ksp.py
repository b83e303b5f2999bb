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

Every option can be overridden through ``petsc_options`` (keys without the prefix) or on the PETSc
command line with the prefix ``femiec_homog_``, e.g. ``-femiec_homog_pc_type gamg``.
"""
from __future__ import annotations

from collections.abc import Mapping

from petsc4py import PETSc

from femiec.errors import SolverError

PREFIX = "femiec_homog_"

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
