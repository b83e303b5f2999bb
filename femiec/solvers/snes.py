"""PETSc SNES driver for residuals built from femiec.forms.

Solves F(u; v) = 0 for all test functions v with Newton's method (SNES ``newtonls`` with a line search by
default). Every option can be overridden from a case file or the PETSc command line through the solver's
options prefix; each problem has its own (``femiec_npp_``, ``femiec_heat_``, ``femiec_electrode_``,
``femiec_conduction_``; a bare NonlinearSolver ``femiec_``), so that e.g. ``-femiec_npp_snes_max_it 40``
or, in a case file, ``[solver.petsc_options] snes_max_it = 40`` changes that problem's Newton loop only.

Linear-solver presets (``preset=``, see :mod:`femiec.solvers.presets`): ``direct`` (MUMPS LU),
``iterative`` (GMRES + BoomerAMG), ``fieldsplit`` (FGMRES + fieldsplit; the caller passes the index sets
of the fields, ``fields={"c": is_c, "phi": is_phi}``, and each split gets BoomerAMG; two fields named in
``pairs`` form one split with a nested Schur-complement fieldsplit, :func:`~femiec.solvers.presets.schur_pair_split`,
or with a python PC of the caller's, ``pair_preconditioners``).

A problem-specific Newton convergence test (:mod:`femiec.solvers.convergence`) is given as
``convergence_test=``; without one SNES's default test (snes_rtol, snes_atol, snes_stol) applies.

Blocked systems: ``u`` may be a list of Functions on different spaces (e.g. on submeshes of one mesh) and
``residual`` the list of their residual forms; the Jacobian is then the matrix of blocks dF_i/du_j
(``None`` where F_i does not depend on u_j), assembled into one PETSc matrix, and the fieldsplit preset
takes the blocks as its fields (``fields`` = their names).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from petsc4py import PETSc

from femiec.errors import InputError, SolverError
from femiec.solvers.block_assembly import (assemble_block_matrix, assemble_block_residual, create_block_matrix,
                                          dirichlet_values_held)
from femiec.solvers.presets import NEWTON_DEFAULTS, PRESETS, fieldsplit_blocks, schur_pair_split


#: a kept (chord) Jacobian is re-assembled when an update shrinks by less than this factor (NonlinearSolver's
#: ``jacobian_reuse``)
CHORD_CONTRACTION = 0.25


@dataclass
class SolveStats:
    """Outcome of one nonlinear solve (one time step or one steady solve), or of a loop of solves (a
    staggered coupling, a galvanostatic secant): then the iterations are summed over the loop, the other
    entries are the last solve's, and ``staggered_iterations`` (passes of a staggered coupling) and
    ``electrode_potential`` [V] (the potential a galvanostatic secant found) are set; a secant also sets
    ``secant_iterations`` (its solves) and ``largest_solve_iterations`` (Newton iterations of the hardest
    one)."""

    converged: bool
    reason: str
    newton_iterations: int
    krylov_iterations: int
    residual_norm: float
    history: list[float] = field(default_factory=list)
    staggered_iterations: int | None = None
    electrode_potential: float | None = None
    secant_iterations: int | None = None
    largest_solve_iterations: int | None = None

    @property
    def control_iterations(self) -> int:
        """The Newton iterations a time-step controller judges the step by: those of the hardest single
        solve of a loop (``largest_solve_iterations``, set by the galvanostatic secant), else all of them.
        The sum over a secant grows with the number of secant iterations (>= 3 solves per step), not with
        how nonlinear the step is."""
        return self.newton_iterations if self.largest_solve_iterations is None else self.largest_solve_iterations

    def as_dict(self) -> dict:
        """The entries of summary.json's solver records (the optional ones when set)."""
        out = {
            "converged": self.converged,
            "reason": self.reason,
            "newton_iterations": self.newton_iterations,
            "krylov_iterations": self.krylov_iterations,
            "residual_norm": self.residual_norm,
        }
        for key in ("staggered_iterations", "electrode_potential", "secant_iterations", "largest_solve_iterations"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def summed(self, newton_iterations: int, krylov_iterations: int, **changes) -> "SolveStats":
        """A copy with the given iteration totals (and other ``changes``)."""
        from dataclasses import replace

        return replace(self, newton_iterations=newton_iterations, krylov_iterations=krylov_iterations, **changes)


def _reason_name(reason: int) -> str:
    names = {v: k for k, v in PETSc.SNES.ConvergedReason.__dict__.items() if isinstance(v, int)}
    return names.get(reason, str(reason))


def _ksp_reason_name(reason: int) -> str:
    names = {v: k for k, v in PETSc.KSP.ConvergedReason.__dict__.items() if isinstance(v, int)}
    return names.get(reason, str(reason))


class NonlinearSolver:
    """Newton (PETSc SNES) solver of F(u; v) = 0 for one DOLFINx Function ``u``.

    Args:
        residual: UFL form F(u; v) (linear in the test function v).
        u: the unknown ``dolfinx.fem.Function`` (may live on a mixed space); it holds the initial guess
            and, after a converged solve, the solution.
        bcs: Dirichlet boundary conditions (``dolfinx.fem.DirichletBC``) on u's space.
        jacobian: UFL form of dF/du; derived with ``ufl.derivative`` when omitted.
        preset: one of PRESETS (``direct``, ``iterative``, ``fieldsplit``).
        petsc_options: extra options (without prefix) that override the preset and the Newton defaults.
        prefix: PETSc options prefix (fixed, default ``femiec_``; each problem passes its own). Options
            already in the PETSc database under this prefix (e.g. from the command line) take precedence
            over the preset; the options this solver adds are removed again after set-up so they never
            leak into the next solver.
        fields: for ``fieldsplit``: name -> PETSc.IS of the field's global dof indices; for a blocked
            system the names of the blocks, in the order of ``u``.
        entity_maps: for forms whose Functions live on submeshes of the integration mesh
            (``dolfinx.fem.form``'s ``entity_maps``).
        pairs: for ``fieldsplit``: split name -> (eliminated, kept) names of two fields that form one split
            (in the place of the earlier of them) preconditioned by a nested Schur-complement fieldsplit
            that eliminates the first (its block a mass matrix; :func:`femiec.solvers.presets.schur_pair_split`).
        pair_preconditioners: for pairs named here instead: split name -> ``factory(index_sets, prefix)``
            returning a petsc4py python-PC context for the pair's split (``index_sets``: field name -> IS
            of the field's owned dofs in the numbering of the pair's submatrix; ``prefix``: the split's
            options prefix), e.g. :class:`femiec.solvers.cahn_hilliard_pc.CahnHilliardBlockPC`.
        convergence_test: callable ``(snes, iteration, norms) -> ConvergedReason`` installed as the SNES
            convergence test (e.g. :class:`femiec.solvers.UpdateConvergence`); default: SNES's own.
        preconditioner: a petsc4py python-PC context for the whole system (e.g.
            :class:`femiec.solvers.quasi_fermi_pc.QuasiFermiPC`), installed after the preset's options and
            again whenever the linear solver is replaced (:meth:`release`).
    """

    def __init__(self, residual, u, bcs=(), jacobian=None, preset: str = "direct",
                 petsc_options: dict | None = None, prefix: str = "femiec_", fields=None, entity_maps=None,
                 convergence_test=None, pairs=None, pair_preconditioners=None, preconditioner=None):
        from dolfinx import fem
        from dolfinx.fem import petsc as fem_petsc

        if preset not in PRESETS:
            raise InputError("solver.preset", preset, f"one of {sorted(PRESETS)}")
        self._blocked = isinstance(u, (list, tuple))
        self.u = list(u) if self._blocked else u
        self.bcs = list(bcs)
        if jacobian is None:
            jacobian = _block_jacobian(residual, self.u) if self._blocked else _jacobian(residual, u)
        self._F = fem.form(residual, entity_maps=entity_maps)
        self._J = fem.form(jacobian, entity_maps=entity_maps)
        self._fem_petsc = fem_petsc
        if self._blocked:
            self._b = fem_petsc.create_vector_block(self._F)
            self._A = create_block_matrix(self._J)
            self._x = self._b.duplicate()
            self._comm = self.u[0].function_space.mesh.comm
            if preset == "fieldsplit" and fields:
                fields = self._block_index_sets(list(fields))
        else:
            self._b = fem_petsc.create_vector(self._F)
            self._A = fem_petsc.create_matrix(self._J)
            self._x = u.x.petsc_vec.duplicate()
            self._comm = u.function_space.mesh.comm
        self.prefix = prefix
        block_defaults, self._pairs, self._pair_contexts = {}, {}, {}
        if preset == "fieldsplit":
            if not fields:
                raise InputError("solver.preset", preset, "the fields of the system (fields={name: IS})")
            fields = self._pair_fields(fields, pairs or {})
            block_defaults = fieldsplit_blocks(name for name in fields if name not in self._pairs)
            self._pair_contexts = {name: factory(dict(self._pairs[name]), f"{prefix}fieldsplit_{name}_")
                                   for name, factory in (pair_preconditioners or {}).items()}
            for name, members in (pairs or {}).items():
                block_defaults.update({f"fieldsplit_{name}_ksp_type": "preonly"} if name in self._pair_contexts
                                      else schur_pair_split(name, *members))
        self.options = {**NEWTON_DEFAULTS, **PRESETS[preset], **block_defaults, **(petsc_options or {})}
        self._added: list[str] = []

        self.snes = PETSc.SNES().create(self._comm)
        self.snes.setOptionsPrefix(self.prefix)
        self._set_options(self.options)
        self.snes.setFunction(self._assemble_residual, self._b)
        self.snes.setJacobian(self._newton_jacobian, self._A)
        self.jacobian_reuse: float | None = None  # see _newton_jacobian
        self.jacobian_assemblies = 0  # by Newton, over the solver's life
        self._update_norm: float | None = None
        self._fields = fields if preset == "fieldsplit" else None
        self._define_splits()
        self.snes.setFromOptions()
        self.snes.getKSP().setFromOptions()
        self._preconditioner = preconditioner
        self._install_preconditioner()
        self._clear_options()
        self.convergence_test = convergence_test
        if convergence_test is not None:
            self.snes.setConvergenceTest(convergence_test)

    def _owned_sizes(self) -> list[int]:
        return [f.function_space.dofmap.index_map.size_local * f.function_space.dofmap.index_map_bs
                for f in self.u]

    def _block_index_sets(self, names: list[str]) -> dict:
        """Global index sets of the owned dofs of each block (blocks are contiguous on each rank)."""
        if len(names) != len(self.u):
            raise InputError("solver.fields", names, f"{len(self.u)} block names")
        start, sets = self._b.getOwnershipRange()[0], {}
        for name, size in zip(names, self._owned_sizes()):
            sets[name] = PETSc.IS().createStride(size, first=start, step=1, comm=self._comm)
            start += size
        return sets

    def _pair_fields(self, fields: dict, pairs: dict) -> dict:
        """The splits of the outer fieldsplit: ``fields`` with each pair's two fields replaced by their
        union (at the place of the earlier one); keeps in ``self._pairs`` the index sets of the two fields
        (eliminated first) in the numbering of the pair's submatrix, whose rows follow the union's sorted
        global indices."""
        import numpy as np

        for name, members in pairs.items():
            if len(members) != 2 or any(member not in fields for member in members):
                raise InputError("solver.pairs", f"{name}: {members}", f"two of the fields {list(fields)}")
        splits = {}
        for field_name, index_set in fields.items():
            pair = next((name for name, members in pairs.items() if field_name in members), None)
            if pair is None:
                splits[field_name] = index_set
            elif pair not in splits:
                local = [fields[member].getIndices() for member in pairs[pair]]
                union = np.sort(np.concatenate(local))
                start = self._comm.exscan(len(union)) or 0
                positions = [(start + np.searchsorted(union, indices)).astype(union.dtype) for indices in local]
                self._pairs[pair] = [(member, PETSc.IS().createGeneral(rows, comm=self._comm))
                                     for member, rows in zip(pairs[pair], positions)]
                splits[pair] = PETSc.IS().createGeneral(union, comm=self._comm)
        return splits

    def _gather_x(self, x) -> None:
        """Copy the owned values of u into the PETSc vector x."""
        if not self._blocked:
            self.u.x.petsc_vec.copy(x)
            return
        array, offset = x.getArray(readonly=False), 0
        for f, size in zip(self.u, self._owned_sizes()):
            array[offset:offset + size] = f.x.array[:size]
            offset += size

    def _scatter_x(self, x) -> None:
        """Copy x into u (owned values) and update u's ghosts."""
        if not self._blocked:
            x.copy(self.u.x.petsc_vec)
            self.u.x.scatter_forward()
            return
        array, offset = x.getArray(readonly=True), 0
        for f, size in zip(self.u, self._owned_sizes()):
            f.x.array[:size] = array[offset:offset + size]
            f.x.scatter_forward()
            offset += size

    def release(self) -> None:
        """Free the linear solver's factorization or preconditioner and its Krylov vectors (for memory
        between solves, e.g. during an impedance sweep): the next solve sets them up again, as it does at
        its first Newton iteration anyway."""
        self._new_ksp()

    def _new_ksp(self) -> None:
        """Replace the SNES's linear solver by a new one configured from this solver's options."""
        ksp = PETSc.KSP().create(self.snes.getComm())
        ksp.setOptionsPrefix(self.prefix)
        self.snes.getKSP().destroy()
        self.snes.setKSP(ksp)
        self._define_splits()
        self._set_options(self.options)
        try:
            ksp.setFromOptions()
        finally:
            self._clear_options()
        self._install_preconditioner()

    def _install_preconditioner(self) -> None:
        """Make the caller's python-PC context (``preconditioner``) the present KSP's PC, if there is one."""
        if self._preconditioner is not None:
            pc = self.snes.getKSP().getPC()
            pc.setType("python")
            pc.setPythonContext(self._preconditioner)

    def _define_splits(self) -> None:
        """Give the fieldsplit preconditioner of the present KSP its fields."""
        if self._fields:
            pc = self.snes.getKSP().getPC()
            pc.setType("fieldsplit")
            pc.setFieldSplitIS(*self._fields.items())
            if self._pairs:  # the sub-solvers exist once their fields are set: give the pairs theirs
                names = list(self._fields)
                sub_ksps = pc.getFieldSplitSubKSP()
                for name, members in self._pairs.items():
                    sub_pc = sub_ksps[names.index(name)].getPC()
                    if name in self._pair_contexts:
                        sub_pc.setType("python")
                        sub_pc.setPythonContext(self._pair_contexts[name])
                    else:
                        sub_pc.setType("fieldsplit")
                        sub_pc.setFieldSplitIS(*members)

    def _set_options(self, options: dict) -> None:
        """Put ``options`` in the PETSc database under the prefix, never over options the user put there."""
        db = PETSc.Options()
        for key, value in options.items():
            full = f"{self.prefix}{key}"
            if db.hasName(full) and full not in self._added:
                continue
            db.setValue(full, value)
            if full not in self._added:
                self._added.append(full)

    def _clear_options(self) -> None:
        """Remove the options this solver put in the PETSc database (never the user's own)."""
        db = PETSc.Options()
        for full in self._added:
            db.delValue(full)
        self._added = []

    def _assemble_residual(self, snes, x, b):
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        self._scatter_x(x)
        with b.localForm() as b_local:
            b_local.set(0.0)
        if self._blocked:  # lifting, ghost accumulation and b = x - g on the Dirichlet dofs
            assemble_block_residual(b, self._F, self._J, bcs=self.bcs, x0=x, alpha=-1.0)
            return
        self._fem_petsc.assemble_vector(b, self._F)
        if not dirichlet_values_held(self.bcs, self.u.x.array, self._comm):
            self._fem_petsc.apply_lifting(b, [self._J], bcs=[self.bcs], x0=[x], alpha=-1.0)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        self._fem_petsc.set_bc(b, self.bcs, x, -1.0)

    def _newton_jacobian(self, snes, x, A, P):
        """Newton's Jacobian at iteration k: assembled at J(u_k), or with ``jacobian_reuse`` = delta (None:
        always assembled) the last one kept, a chord step, while the update is small and the iteration
        contracts: from k = 1 on when |dx_k| <= delta (max-norm of the unknowns' update) and, from k = 2 on,
        also |dx_k| <= CHORD_CONTRACTION |dx_(k-1)|. A change of the unknowns by dx changes the Jacobian by
        O(dx) relative, so a chord step near the solution contracts almost as Newton does; the convergence
        test (on the update) decides as before. Saves the assembly (of the order of a third of an
        electrode's Newton iteration) where the step's nonlinearity is mild."""
        k = snes.getIterationNumber()
        if k > 0 and self.jacobian_reuse is not None:
            update = snes.getSolutionUpdate().norm(PETSc.NormType.NORM_INFINITY)
            previous, self._update_norm = self._update_norm, update
            if update <= self.jacobian_reuse and (previous is None or update <= CHORD_CONTRACTION * previous):
                return
        else:
            self._update_norm = None
        self._assemble_jacobian(snes, x, A, P)
        self.jacobian_assemblies += 1

    def _assemble_jacobian(self, snes, x, A, P):
        A.zeroEntries()
        if self._blocked:
            assemble_block_matrix(A, self._J, bcs=self.bcs)
        else:
            self._fem_petsc.assemble_matrix(A, self._J, bcs=self.bcs)
        A.assemble()

    def solve(self, check: bool = True) -> SolveStats:
        """Run Newton from the current ``u``. On success ``u`` holds the solution.

        On failure ``u`` is left at the last iterate; with ``check=True`` a SolverError is raised, with
        ``check=False`` the caller (e.g. the adaptive time stepper) inspects ``stats.converged``.
        """
        self.snes.setConvergenceHistory(reset=True)
        self._gather_x(self._x)
        # Sub-solvers (fieldsplit blocks) are created and read their options during the first PC set-up,
        # inside the solve: the options are in the database for the duration of each solve only, so two
        # solvers alive in one process never see each other's presets.
        self._set_options(self.options)
        try:
            self.snes.solve(None, self._x)
            reason = self.snes.getConvergedReason()
            reason_name = _reason_name(reason)
        except PETSc.Error:  # e.g. -ksp_error_if_not_converged: report, never raise a raw PETSc trace
            reason = -1
            ksp_reason = self.snes.getKSP().getConvergedReason()
            reason_name = f"linear solve failed ({_ksp_reason_name(ksp_reason)})"
        finally:
            self._clear_options()
        self._scatter_x(self._x)
        history = [float(r) for r in self.snes.getConvergenceHistory()[0]]
        stats = SolveStats(
            converged=reason > 0,
            reason=reason_name,
            newton_iterations=self.snes.getIterationNumber(),
            krylov_iterations=self.snes.getLinearSolveIterations(),
            residual_norm=float(self.snes.getFunctionNorm()),
            history=history,
        )
        if reason == PETSc.SNES.ConvergedReason.DIVERGED_LINEAR_SOLVE:
            # A failed factorization stays flagged in the PC, and a reset KSP kept enough of the failed
            # solve (lagged fieldsplit/AMG set-up) to fail every retry: the next solve gets a new KSP.
            self._new_ksp()
        if check and not stats.converged:
            raise SolverError(
                f"Newton solve did not converge: {stats.reason} after {stats.newton_iterations} "
                f"iterations (residual {stats.residual_norm:.3e}); options prefix -{self.prefix}")
        return stats

    def time_linear_solve(self) -> tuple[float, int]:
        """One linear solve J(u) dx = F(u) at the present ``u`` with this solver's KSP and options
        (factorization or preconditioner set-up included; ``u`` is not changed). Returns the wall time [s,
        slowest rank] and the Krylov iterations: the benchmarks' cost unit of a Newton iteration."""
        import time

        self._set_options(self.options)
        try:
            x = self._x
            self._gather_x(x)
            self._assemble_residual(self.snes, x, self._b)
            self._assemble_jacobian(self.snes, x, self._A, self._A)
            ksp = self.snes.getKSP()
            ksp.setOperators(self._A)
            dx = self._b.duplicate()
            comm = self._comm
            comm.barrier()
            start = time.perf_counter()
            ksp.solve(self._b, dx)
            comm.barrier()
            elapsed = time.perf_counter() - start
            dx.destroy()
            return elapsed, ksp.getIterationNumber()
        finally:
            self._clear_options()

    def time_assembly(self) -> tuple[float, float]:
        """Wall times [s, slowest rank] of one residual and one Jacobian assembly at the present ``u`` (the
        Newton iteration's two assemblies, Dirichlet rows included; ``u`` is not changed): the benchmarks'
        split of a Newton step."""
        import time

        x, comm, times = self._x, self._comm, []
        self._gather_x(x)
        for assemble, args in ((self._assemble_residual, (self.snes, x, self._b)),
                               (self._assemble_jacobian, (self.snes, x, self._A, self._A))):
            comm.barrier()
            start = time.perf_counter()
            assemble(*args)
            comm.barrier()
            times.append(time.perf_counter() - start)
        return times[0], times[1]

    def destroy(self) -> None:
        """Free the PETSc objects."""
        for obj in (self.snes, self._A, self._b, self._x):
            if obj is not None:
                obj.destroy()


def _jacobian(residual, u):
    import ufl

    return ufl.derivative(residual, u, ufl.TrialFunction(u.function_space))


def _block_jacobian(residuals, functions) -> list[list]:
    """Blocks dF_i/du_j; None where F_i does not depend on u_j."""
    from ufl.algorithms import expand_derivatives

    blocks = []
    for F in residuals:
        row = []
        for u in functions:
            block = expand_derivatives(_jacobian(F, u))
            row.append(None if block.empty() else block)
        blocks.append(row)
    return blocks
