"""Named solver settings: the linear-solver presets, Newton's defaults and option sets for given systems.

All keys are PETSc options without the options prefix (each problem has its own, see
:class:`femiec.solvers.NonlinearSolver`).

Linear-solver presets (``PRESETS``, ``preset=`` of NonlinearSolver):
- ``direct``: LU with MUMPS (robust; small and medium problems).
- ``iterative``: GMRES + hypre BoomerAMG on the whole system (large scalar-like problems).
- ``fieldsplit``: FGMRES + PETSc fieldsplit (multiplicative), each field block one BoomerAMG V-cycle
  (:func:`fieldsplit_blocks`). For coupled transport in 3D.

Option sets: :func:`block_amg_newton_krylov` (inexact Newton–Krylov with block BoomerAMG for 3D
hexahedral meshes, the electrode's fieldsplit settings).
"""
from __future__ import annotations

PRESETS: dict[str, dict[str, object]] = {
    "direct": {
        "ksp_type": "preonly",
        "pc_type": "lu",
        "pc_factor_mat_solver_type": "mumps",
        # MUMPS: more working memory for the pivots of badly scaled coupled systems
        "mat_mumps_icntl_14": 200,
    },
    "iterative": {
        "ksp_type": "gmres",
        "ksp_rtol": 1e-10,
        "ksp_gmres_restart": 100,
        "pc_type": "hypre",
        "pc_hypre_type": "boomeramg",
    },
    "fieldsplit": {
        "ksp_type": "fgmres",
        "ksp_rtol": 1e-10,
        "ksp_gmres_restart": 100,
        "pc_type": "fieldsplit",
        "pc_fieldsplit_type": "multiplicative",
    },
}

NEWTON_DEFAULTS: dict[str, object] = {
    "snes_type": "newtonls",
    "snes_linesearch_type": "bt",
    "snes_rtol": 1e-10,
    "snes_atol": 1e-12,
    "snes_stol": 0.0,
    "snes_max_it": 50,
}


def fieldsplit_blocks(blocks, prefix: str = "") -> dict[str, object]:
    """One BoomerAMG V-cycle (``preonly`` + hypre) for each fieldsplit block named in ``blocks`` (of the
    fieldsplit PC under the options prefix ``prefix``, "" for the solver's own)."""
    options: dict[str, object] = {}
    for name in blocks:
        options.update({f"{prefix}fieldsplit_{name}_ksp_type": "preonly",
                        f"{prefix}fieldsplit_{name}_pc_type": "hypre",
                        f"{prefix}fieldsplit_{name}_pc_hypre_type": "boomeramg"})
    return options


def schur_pair_split(name: str, eliminated: str, kept: str) -> dict[str, object]:
    """Options of the fieldsplit split ``name`` made of two fields whose ``eliminated`` block is a mass
    matrix (Cahn–Hilliard's chemical potential): a nested Schur-complement fieldsplit, full factorisation,

        [[M, B], [C, A]] = [[I, 0], [C M^-1, I]] [[M, 0], [0, S]] [[I, M^-1 B], [0, I]],   S = A - C M^-1 B,

    with M and the assembled approximation Sp = A - C diag_lumped(M)^-1 B of S (``selfp`` with the lumped
    row sums of M, exact for the lumped mass) each one BoomerAMG V-cycle. Sp holds the fourth-order operator
    of the pair, which neither block has alone."""
    split = f"fieldsplit_{name}_"
    options: dict[str, object] = {f"{split}ksp_type": "preonly", f"{split}pc_type": "fieldsplit",
                                  f"{split}pc_fieldsplit_type": "schur",
                                  f"{split}pc_fieldsplit_schur_fact_type": "full",
                                  f"{split}pc_fieldsplit_schur_precondition": "selfp",
                                  f"{split}fieldsplit_{kept}_mat_schur_complement_ainv_type": "lump"}
    options.update(fieldsplit_blocks((eliminated, kept), prefix=split))
    return options


#: BoomerAMG for 3D 27-point (hexahedral Q1) blocks: HMIS coarsening, ext+i interpolation with at most 4
#: entries per row, one level of aggressive coarsening. On the 32^3 electrode crop this took 0.47 of the
#: time per step and 0.50 of the solver memory of the hypre defaults (more, cheaper Krylov iterations: 97
#: against 64 in two steps), with the same voltage to 1e-15 V.
BOOMERAMG_3D_HEX: dict[str, object] = {"strong_threshold": 0.5, "coarsen_type": "HMIS", "interp_type": "ext+i",
                                       "P_max": 4, "agg_nl": 1}


#: the mass-matrix solves of the block preconditioner inside the electrode (M of
#: femiec.solvers.cahn_hilliard_pc): six CG iterations with Jacobi, whose condition number (<= 27 for Q1
#: hexahedra, Wathen 1987) does not depend on the voxel size. One BoomerAMG V-cycle on M doubled the Krylov
#: iterations on 2 ranks (8^3 cell: 102 per step against 48 with CG-Jacobi; 51 and 37 serial).
MASS_SOLVE: dict[str, object] = {"ksp_type": "cg", "ksp_max_it": 6, "ksp_norm_type": "none", "pc_type": "jacobi"}


def block_amg_newton_krylov(blocks, pairs: dict | None = None, python_pairs: dict | None = None) -> dict[str, object]:
    """Options of the ``fieldsplit`` preset for an inexact Newton–Krylov solve of a 3D hexahedral system
    with the fieldsplit blocks ``blocks`` (names), each preconditioned by BoomerAMG (BOOMERAMG_3D_HEX);
    ``pairs`` (split name -> (eliminated, kept) block names) are nested Schur splits
    (:func:`schur_pair_split`, NonlinearSolver's ``pairs``), whose two BoomerAMG V-cycles get the same
    settings; a pair named in ``python_pairs`` has a python PC instead (NonlinearSolver's
    ``pair_preconditioners``): ``python_pairs`` maps it to the options prefixes of its inner solves under
    the split's, (BoomerAMG V-cycles, mass solves), e.g. (("block_P1", "block_P2"), ("block_M",)) of
    :class:`femiec.solvers.cahn_hilliard_pc.CahnHilliardBlockPC`; the V-cycles get BOOMERAMG_3D_HEX, the
    mass solves :data:`MASS_SOLVE`.

    Krylov: FGMRES to ||J dx + F||_2 <= 1e-4 ||F||_2 (at most 500 iterations), restart 30; the
    preconditioner is rebuilt every third Newton iteration. Newton's own convergence test (on the update,
    :class:`femiec.solvers.UpdateConvergence`) sets the accuracy of the solution.
    """
    # Newton's own test (update below the tolerance) sets the accuracy; each Krylov solve only has to give
    # a good direction. Rebuilding the four BoomerAMG hierarchies every third iteration and stopping at
    # rtol 1e-4 took 0.57 of the time per step of rtol 1e-10 and a rebuild every iteration on a 24^3
    # electrode crop, with the same Newton count and voltage (to 1e-12 V). A Krylov solve that stalls
    # fails after 500 iterations, so a time step is retried at half the length.
    options: dict[str, object] = {"ksp_rtol": 1e-4, "ksp_max_it": 500, "snes_lag_preconditioner": 3}
    # FGMRES keeps two vectors per iteration up to its restart: 30 (not the preset's 100) caps them at 60
    # vectors, 1.3 GB per rank on the 128^3 crop with 2 ranks; the solves take 8-15 iterations
    options["ksp_gmres_restart"] = 30
    python_pairs = dict(python_pairs or {})
    owner = {name: pair for pair, names in (pairs or {}).items() for name in names}
    prefixes = [f"fieldsplit_{name}_" if name not in owner else f"fieldsplit_{owner[name]}_fieldsplit_{name}_"
                for name in blocks if owner.get(name) not in python_pairs]
    prefixes += [f"fieldsplit_{pair}_{solve}_" for pair in sorted(python_pairs) for solve in python_pairs[pair][0]]
    for prefix in prefixes:
        options.update({f"{prefix}pc_hypre_boomeramg_{key}": value for key, value in BOOMERAMG_3D_HEX.items()})
    for pair in sorted(python_pairs):
        for solve in python_pairs[pair][1]:
            options.update({f"fieldsplit_{pair}_{solve}_{key}": value for key, value in MASS_SOLVE.items()})
    return options


def amg_v_cycle(comm, prefix: str):
    """A KSP that applies one BoomerAMG V-cycle (``preonly`` + hypre), changeable under the options prefix
    ``prefix`` (the caller sets its operators and calls ``setFromOptions``): the inner solves of the
    python block preconditioners (femiec.solvers.cahn_hilliard_pc, femiec.solvers.quasi_fermi_pc,
    femiec.solvers.electrolyte_pc)."""
    from petsc4py import PETSc

    ksp = PETSc.KSP().create(comm)
    ksp.setOptionsPrefix(prefix)
    ksp.setType("preonly")
    ksp.getPC().setType("hypre")
    ksp.getPC().setHYPREType("boomeramg")
    return ksp
