"""Small-signal (linear) response of a problem about a steady state, in the frequency domain.

A problem with unknowns u (a list of blocks), steady residual F(u; p), storage form M du/dt and a scalar
control input p (a voltage, a current density) has, about a steady state u0 (F(u0; p0) = 0), for a
perturbation dp exp(i omega t) the response du exp(i omega t) with

    (J + i omega M) du = -(dF/dp) dp,        J = dF/du (u0),  M = d(storage)/d(du/dt),

and du = dp * lift on the Dirichlet dofs that follow the input (an electrode potential imposed as a
Dirichlet condition). The output (a current, a voltage) is a functional G(u; p) and, optionally, the rate
of a charge functional Q(u) (the displacement current of a blocking electrode):

    d output = dG/du du + dG/dp dp + i omega dQ/du du.

The transfer function H(omega) = d output / d input is complex; an impedance is H or 1/H with the sign of
the cell's convention (femiec.studies.impedance).

Solve in real arithmetic (the PETSc build is real): with du = x + i y,

    [ J   -omega M ] [x]   [ -f_J          ]
    [ omega M   J  ] [y] = [ -omega f_M    ]

(f_J = dF/dp + J lift, f_M = M lift). Two solvers:
- ``presb`` (default): GMRES on the 2x2 block system preconditioned by PRESB (Axelsson, Neytcheva &
  Ahmad, Numer. Algorithms 66 (2014) 811; Axelsson & Salkuyeh 2019): P = [[J, -omega M], [omega M,
  J + 2 omega M]], whose inverse needs two solves with B = J + omega M of the size of the real problem:
  h = B^-1 (f + g), y = B^-1 (g - omega M h), x = h - y. For symmetric positive semi-definite J and M the
  eigenvalues of P^-1 A lie in [1/2, 1] for every omega, so GMRES needs a few iterations at every frequency.
  B is factorised (MUMPS LU) or preconditioned by BoomerAMG at an anchor frequency and kept for the
  frequencies near it; the solves with it are then GMRES (``inner="amg"``, any B), CG (``inner="cg"``, B
  symmetric positive definite, e.g. a Laplacian with a Dirichlet face plus a capacitive wall mass) or
  GMRES with one BoomerAMG V-cycle per block (``inner="fieldsplit"``, coupled fields). An iterative inner
  solve stopped at ``inner_rtol`` makes the preconditioner vary slightly from one application to the next,
  so the outer Krylov method is then flexible GMRES (right-preconditioned, it stays exact for a varying
  preconditioner); with LU it is GMRES.
- ``direct``: the 2N x 2N real matrix assembled from the blocks and factorised by MUMPS (a check on presb).

J and M are assembled once per bias point; each frequency only forms B = J + omega M (same sparsity).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import ufl
from petsc4py import PETSc

from femiec.errors import InputError, SolverError
from femiec.solvers.block_assembly import assemble_block_matrix, create_block_matrix

METHODS = ("presb", "direct", "reduced")
INNER = ("lu", "amg", "cg", "fieldsplit")


@dataclass
class FrequencyStats:
    """What one frequency cost: outer (GMRES) iterations, wall time [s], whether it factorised (the
    reduced sweep: the dimension of its space and its time per frequency)."""

    frequency: float
    iterations: int
    seconds: float
    factorized: bool = True


@dataclass
class Linearization:
    """J, M, the forcing and the output vectors of a linearization (PETSc objects, block layout).

    The rows and columns of J at Dirichlet dofs are the identity, those of M zero; the forcings are zero
    there; ``lift`` holds d u / d input on the Dirichlet dofs that follow the input (zero elsewhere).
    ``blocks``: owned sizes of the blocks; ``static``: per block, True when it has no storage (M's block row
    is zero), so that its rows of B = J + omega M do not depend on omega."""

    jacobian: PETSc.Mat
    mass: PETSc.Mat
    forcing: PETSc.Vec
    mass_forcing: PETSc.Vec
    lift: PETSc.Vec
    output: PETSc.Vec
    output_rate: PETSc.Vec | None
    output_direct: float
    blocks: list = field(default_factory=list)
    static: list = field(default_factory=list)

    @property
    def size(self) -> int:
        """Global number of unknowns N of the real problem (the 2x2 system has 2N)."""
        return self.jacobian.getSize()[0]

    def destroy(self) -> None:
        for obj in (self.jacobian, self.mass, self.forcing, self.mass_forcing, self.lift, self.output,
                    self.output_rate):
            if obj is not None:
                obj.destroy()


class _BlockLayout:
    """Owned dofs of each block, contiguous per rank in block order (the layout of DOLFINx's blocked
    PETSc matrices): scatter per-block arrays into one PETSc vector."""

    def __init__(self, unknowns):
        self.functions = list(unknowns)
        self.spaces = [u.function_space for u in self.functions]
        self.owned = [V.dofmap.index_map.size_local * V.dofmap.index_map_bs for V in self.spaces]
        self.comm = self.spaces[0].mesh.comm

    def vector(self, arrays=None) -> PETSc.Vec:
        """A PETSc vector of the blocked layout, filled with the owned part of per-block ``arrays``."""
        vec = PETSc.Vec().createMPI((sum(self.owned), PETSc.DETERMINE), comm=self.comm)
        vec.set(0.0)
        if arrays is not None:
            values, offset = vec.getArray(readonly=False), 0
            for array, size in zip(arrays, self.owned):
                if array is not None:
                    values[offset:offset + size] = array[:size]
                offset += size
        return vec


def _assemble_blocks(forms, layout, entity_maps) -> list:
    """Per-block arrays (owned + ghosts, ghost contributions added) of linear forms (UFL or compiled; None ->
    None)."""
    from dolfinx import fem, la

    arrays = []
    for form in forms:
        if form is None:
            arrays.append(None)
            continue
        vec = fem.assemble_vector(fem.form(form, entity_maps=entity_maps))
        vec.scatter_reverse(la.InsertMode.add)
        arrays.append(vec.array.copy())
    return arrays


def _derivative_forms(functional, unknowns) -> list:
    """d functional / d u_j as linear forms (None where it does not depend on u_j)."""
    from ufl.algorithms import expand_derivatives

    out = []
    for u in unknowns:
        form = expand_derivatives(ufl.derivative(functional, u, ufl.TestFunction(u.function_space)))
        out.append(None if form.empty() else form)
    return out


def _block_matrix(rows, unknowns, trial_of) -> list[list]:
    """Blocks d rows_i / d trial_of(j) (None where empty)."""
    from ufl.algorithms import expand_derivatives

    blocks = []
    for F in rows:
        row = []
        for j, u in enumerate(unknowns):
            if F is None:
                row.append(None)
                continue
            block = expand_derivatives(ufl.derivative(F, trial_of(j), ufl.TrialFunction(u.function_space)))
            row.append(None if block.empty() else block)
        blocks.append(row)
    return blocks


def _with_pattern(blocks, pattern, mesh) -> list[list]:
    """``blocks`` plus 0 * ``pattern`` where pattern has a block: the matrix of ``blocks`` then has the
    sparsity of ``pattern`` (or more), so J + omega M is formed with the same nonzero pattern."""
    from dolfinx import fem

    zero = fem.Constant(mesh, 0.0)
    out = []
    for row, prow in zip(blocks, pattern):
        out.append([b if p is None else (zero * p if b is None else b + zero * p) for b, p in zip(row, prow)])
    return out


def _with_diagonal(blocks, unknowns, mesh) -> list[list]:
    """``blocks`` with 0 * (u_j, v_j) dx on each empty diagonal block: every block row and column then has a
    form (which fixes its space) at the cost of a mass kernel, instead of 0 * J's blocks
    (:func:`_with_pattern`), whose kernels cost as much as J's assembly and whose pattern doubled M's
    nonzeros (MIEC electrode, whose psi_el rows have no storage: 2.68e6 -> 1.34e6 per rank at 32^3)."""
    from dolfinx import fem

    zero = fem.Constant(mesh, 0.0)
    out = [list(row) for row in blocks]
    for j, u in enumerate(unknowns):
        if out[j][j] is None:
            V = u.function_space
            out[j][j] = zero * ufl.inner(ufl.TrialFunction(V), ufl.TestFunction(V)) * ufl.dx(domain=V.mesh)
    return out


def linearize(residual, unknowns, bcs, storage, *, set_input, input_value: float, input_step: float,
              output, output_rate=None, entity_maps=None) -> Linearization:
    """Assemble the linearization of a problem about its present state (which must be steady).

    Args:
        residual: the steady residual F(u) (a form, or a list of forms, one per block of ``unknowns``).
        unknowns: the Function (or list of Functions) u.
        bcs: the problem's Dirichlet conditions (their values are the steady ones).
        storage: callable ``storage(w) -> form or list of forms``: the storage (mass) term with the time
            derivative of the unknowns replaced by ``w`` (Functions like ``unknowns``; linear in w).
        set_input: callable ``set_input(value)`` that puts the control input into the forms and into the
            Dirichlet values that follow it; restored to ``input_value`` on return.
        input_value, input_step: the steady input p0 and the step of the central difference of F, G and
            the Dirichlet values with respect to p (F is smooth in p; a step of ~1e-4 of the input's scale
            gives a truncation error below 1e-8; exact where F is affine in p).
        output: the output functional G(u; p) (a UFL form of rank 0), or None (G = 0).
        output_rate: optional charge functional Q(u): its rate i omega dQ/du du is added to the output.
        entity_maps: for forms on the parent mesh of submesh unknowns.
    """
    from dolfinx import fem

    blocked = isinstance(unknowns, (list, tuple))
    unknowns = list(unknowns) if blocked else [unknowns]
    rows = list(residual) if blocked else [residual]
    if not np.isfinite(input_step) or input_step <= 0:
        raise InputError("input_step", input_step, "a positive step of the control input")
    layout = _BlockLayout(unknowns)
    mesh = unknowns[0].function_space.mesh
    jac_forms = _block_matrix(rows, unknowns, lambda j: unknowns[j])
    rates = [fem.Function(u.function_space) for u in unknowns]
    stored = storage(rates if blocked else rates[0])
    stored = list(stored) if blocked else [stored]
    # J gets the union of the two patterns (B = J + omega M then keeps J's pattern even where the storage
    # lives on facets that J's forms do not integrate: the capacitive walls of a blocking cell); M keeps its
    # own (its blocks, and a zero mass on the diagonal blocks without storage, within J's cell coupling), a
    # subset of J's: B = J + omega M is formed in J's pattern (axpy with SUBSET_NONZERO_PATTERN)
    mass_forms = _block_matrix(stored, unknowns, lambda j: rates[j])
    J_form = fem.form(_with_pattern(jac_forms, mass_forms, mesh), entity_maps=entity_maps)
    M_form = fem.form(_with_diagonal(mass_forms, unknowns, mesh), entity_maps=entity_maps)
    residual_forms = [None if F is None else fem.form(F, entity_maps=entity_maps) for F in rows]
    output_form = None if output is None else fem.form(output, entity_maps=entity_maps)

    # forcing and lift by central differences in the input (F at the steady u; Dirichlet values)
    def at_input(value):
        set_input(value)
        F = _assemble_blocks(residual_forms, layout, entity_maps)
        lift = [np.zeros_like(u.x.array) for u in unknowns]
        for bc in bcs:
            for j, u in enumerate(unknowns):
                if u.function_space._cpp_object.contains(bc.function_space):
                    bc.set(lift[j])
        G = 0.0 if output_form is None else fem.assemble_scalar(output_form)
        return F, lift, layout.comm.allreduce(G)

    try:
        F_plus, lift_plus, G_plus = at_input(input_value + input_step)
        F_minus, lift_minus, G_minus = at_input(input_value - input_step)
    finally:
        set_input(input_value)
    h2 = 2 * input_step
    dF = [None if a is None else (a - b) / h2 for a, b in zip(F_plus, F_minus)]
    lift = layout.vector([(a - b) / h2 for a, b in zip(lift_plus, lift_minus)])

    # J and M are assembled once without the conditions (their products with the lift are the forcings),
    # then the Dirichlet rows and columns are replaced by the identity (J) or zero (M): the matrices that
    # assembly with the conditions gives, at half the cost
    jacobian = assemble_block_matrix(create_block_matrix(J_form), J_form)
    jacobian.assemble()
    mass = assemble_block_matrix(create_block_matrix(M_form), M_form)
    mass.assemble()
    forcing = layout.vector(dF)
    forcing.axpy(1.0, _times(jacobian, lift))
    mass_forcing = _times(mass, lift)
    constrained = _constrained_rows(bcs, unknowns, layout)
    rows = (jacobian.getOwnershipRange()[0] + constrained).astype(PETSc.IntType)
    jacobian.zeroRowsColumns(rows, diag=1.0)
    mass.zeroRowsColumns(rows, diag=0.0)
    for vec in (forcing, mass_forcing):
        vec.array[constrained] = 0.0

    output_vec = layout.vector(None if output is None else
                               _assemble_blocks(_derivative_forms(output, unknowns), layout, entity_maps))
    rate_vec = None
    if output_rate is not None:
        rate_vec = layout.vector(_assemble_blocks(_derivative_forms(output_rate, unknowns), layout, entity_maps))
    return Linearization(jacobian, mass, forcing, mass_forcing, lift, output_vec, rate_vec,
                         (G_plus - G_minus) / h2, blocks=layout.owned,
                         static=[all(block is None for block in row) for row in mass_forms])


def _times(A: PETSc.Mat, x: PETSc.Vec) -> PETSc.Vec:
    y = A.createVecLeft()
    A.mult(x, y)
    return y


def _constrained_rows(bcs, unknowns, layout) -> np.ndarray:
    """Local positions (in the blocked owned layout) of the Dirichlet dofs."""
    rows, offset = [], 0
    for u, size in zip(unknowns, layout.owned):
        marker = np.zeros(len(u.x.array), dtype=bool)
        for bc in bcs:
            if u.function_space._cpp_object.contains(bc.function_space):
                dofs, _ = bc.dof_indices()
                marker[dofs] = True
        rows.append(offset + np.flatnonzero(marker[:size]))
        offset += size
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, dtype=np.int64)


class FrequencySolver:
    """Solves the linearization at one angular frequency after another (``reduced``: the whole sweep at once,
    femiec.studies.reduced_sweep, which uses this solver's shift and complex solves).

    Args:
        linearization: :class:`Linearization`.
        method: ``presb`` (GMRES + PRESB, two solves with J + omega M per iteration), ``direct`` (MUMPS
            on the 2N x 2N real system) or ``reduced`` (one projected system for the whole sweep,
            femiec.studies.reduced_sweep; ``solve`` then does the complex solves it asks for with presb).
        inner: the solves with J + omega M inside presb: ``lu`` (MUMPS), ``amg`` (GMRES + BoomerAMG),
            ``cg`` (CG + BoomerAMG; only for symmetric positive definite J + omega M) or ``fieldsplit``
            (GMRES + one BoomerAMG V-cycle per block, for coupled fields such as the electrode's: correct
            but slow today, see docs/impedance.md).
        rtol: relative tolerance of the outer GMRES (presb) [-].
        inner_rtol: relative tolerance of the iterative inner solves (``amg``, ``cg``) [-]; the outer
            method is then FGMRES. A loose inner tolerance (1e-6) costs a few more outer iterations.
        reuse_decades: presb keeps the factorization of B = J + omega_a M for every frequency within this
            many decades of omega_a (0: a new one at every frequency): fewer factorizations, a few more
            GMRES iterations, each of which costs only two triangular solves.
    """

    def __init__(self, linearization: Linearization, method: str = "presb", inner: str = "lu",
                 rtol: float = 1e-12, max_it: int = 200, reuse_decades: float = 0.0, inner_rtol: float = 1e-12):
        if method not in METHODS:
            raise InputError("study.method", method, f"one of {list(METHODS)}")
        if inner not in INNER:
            raise InputError("study.inner", inner, f"one of {list(INNER)}")
        if not (np.isfinite(reuse_decades) and reuse_decades >= 0):
            raise InputError("study.reuse_decades", reuse_decades, "a non-negative number of decades")
        if not (np.isfinite(inner_rtol) and 0 < inner_rtol < 1):
            raise InputError("study.inner_rtol", inner_rtol, "a relative tolerance in (0, 1)")
        self.inner_rtol = float(inner_rtol)
        self.lin, self.method, self.inner, self.rtol, self.max_it = linearization, method, inner, rtol, max_it
        self.reuse_decades = float(reuse_decades)
        self.comm = linearization.jacobian.getComm()
        n_local = linearization.jacobian.getLocalSize()[0]
        self.n_local = n_local
        self.stats: list[FrequencyStats] = []
        self._previous = None  # warm start: the solution at the previous frequency
        self._anchor = None  # (omega_a, B = J + omega_a M, its solver) of presb
        self._work = None
        self.factorized = False  # whether the last solve factorised (or set up) a new B
        self.factorizations = 0  # how many times B was factorised (or its preconditioner set up)

    # --------------------------------------------------------------------------------- one frequency
    def solve(self, omega: float, guess: tuple[np.ndarray, np.ndarray] | None = None, rtol: float | None = None,
              inner_rtol: float | None = None):
        """The complex response at angular frequency omega [rad/s]: returns (transfer d output/d input,
        x, y) with du = x + i y (PETSc vectors of the blocked layout, Dirichlet lift included in x).
        ``guess``: (real, imaginary) local arrays of du without the lift, the start of an iterative (presb)
        solve instead of the previous frequency's solution, which then stops at a residual ``rtol`` times
        that of a zero start (the right-hand side's norm), so a close guess saves iterations; ``rtol``: its
        relative tolerance instead of the solver's; ``inner_rtol``: that of the iterative inner solves
        (``amg``, ``cg``, ``fieldsplit``) for this solve only (the outer FGMRES still stops on the true
        residual, so a loose one costs outer iterations, not accuracy)."""
        if not np.isfinite(omega) or omega < 0:
            raise InputError("frequency", omega / (2 * np.pi), "a non-negative finite frequency [Hz]")
        start = time.perf_counter()
        lin = self.lin
        rhs = self._vector2()
        r_re, r_im = self._halves(rhs)
        r_re[:] = -lin.forcing.getArray(readonly=True)
        r_im[:] = -omega * lin.mass_forcing.getArray(readonly=True)
        solution = self._vector2()
        if omega == 0:
            iterations = self._solve_static(rhs, solution)
        elif self.method == "direct":
            iterations = self._solve_direct(omega, rhs, solution)
        else:
            rtol = self.rtol if rtol is None else rtol
            if guess is not None:
                self._previous = self._vector2()
                self._previous.setArray(np.concatenate(guess))
            iterations = self._solve_presb(omega, rhs, solution, rtol, rtol * rhs.norm() if guess is not None else 0.0,
                                           inner_rtol)
        x, y = lin.jacobian.createVecLeft(), lin.jacobian.createVecLeft()
        s_re, s_im = self._halves(solution)
        x.getArray(readonly=False)[:] = s_re
        y.getArray(readonly=False)[:] = s_im
        x.axpy(1.0, lin.lift)
        self._previous = solution
        transfer = complex(lin.output.dot(x), lin.output.dot(y)) + lin.output_direct
        if lin.output_rate is not None:
            transfer += 1j * omega * complex(lin.output_rate.dot(x), lin.output_rate.dot(y))
        self.stats.append(FrequencyStats(omega / (2 * np.pi), iterations, time.perf_counter() - start,
                                         self.factorized or self.method == "direct"))
        return transfer, x, y

    def shift_solve(self, shift: float, rhs: PETSc.Vec, out: PETSc.Vec, guess: bool = False) -> int:
        """out = (J + shift M)^-1 rhs for a real shift [1/s] with the inner solver of B at that shift (made or
        refilled, or kept within ``reuse_decades``, as for presb); ``guess``: an iterative inner solve starts
        from the present ``out``. Returns the Krylov iterations (1 for LU)."""
        self.factorized = self._anchor_at(shift)
        ksp = self._anchor[2]
        ksp.setInitialGuessNonzero(guess and self.inner != "lu")
        ksp.solve(rhs, out)
        ksp.setInitialGuessNonzero(False)
        _check(ksp, shift)
        return max(ksp.getIterationNumber(), 1)

    def _vector2(self) -> PETSc.Vec:
        vec = PETSc.Vec().createMPI((2 * self.n_local, PETSc.DETERMINE), comm=self.comm)
        vec.set(0.0)
        return vec

    def _halves(self, vec: PETSc.Vec):
        values = vec.getArray(readonly=False)
        return values[:self.n_local], values[self.n_local:]


    # ----------------------------------------------------------------------------------- omega = 0
    def _solve_static(self, rhs, solution) -> int:
        ksp = _ksp(self.comm, self.lin.jacobian, "lu")
        b, x = self.lin.jacobian.createVecLeft(), self.lin.jacobian.createVecLeft()
        r_re, _ = self._halves(rhs)
        b.getArray(readonly=False)[:] = r_re
        ksp.solve(b, x)
        _check(ksp, 0.0)
        s_re, _ = self._halves(solution)
        s_re[:] = x.getArray(readonly=True)
        for obj in (ksp, b, x):
            obj.destroy()
        return 1

    # -------------------------------------------------------------------------------------- direct
    def _solve_direct(self, omega, rhs, solution) -> int:
        J, M = self.lin.jacobian, self.lin.mass
        minus, plus = M.copy(), M.copy()
        minus.scale(-omega)
        plus.scale(omega)
        nest = PETSc.Mat().createNest([[J, minus], [plus, J]], comm=self.comm)
        A = nest.convert("aij")
        ksp = _ksp(self.comm, A, "lu")
        ksp.solve(rhs, solution)
        _check(ksp, omega)
        for obj in (ksp, A, nest, minus, plus):
            obj.destroy()
        return 1

    # --------------------------------------------------------------------------------------- presb
    def _anchor_at(self, omega: float) -> bool:
        """Factorise (or precondition) B = J + omega_a M at omega_a = omega unless the present anchor is
        within ``reuse_decades`` of omega; True when a new one was made. B and its solver are made once and
        refilled in place (same nonzero pattern): MUMPS then repeats only the numerical factorization, not
        the analysis (ordering, symbolic factorization)."""
        if self._anchor is not None:
            omega_a = self._anchor[0]
            if omega == omega_a or (omega > 0 and omega_a > 0
                                    and abs(np.log10(omega / omega_a)) <= self.reuse_decades):
                return False
        J, M = self.lin.jacobian, self.lin.mass
        if self._anchor is None:
            B = J.copy()
            B.axpy(omega, M, structure=PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN)
            ksp = _ksp(self.comm, B, self.inner, self.inner_rtol, self.lin.blocks)
            if self.inner == "fieldsplit":
                # a block without storage has the same diagonal block of B at every omega: its V-cycle
                # (BoomerAMG hierarchy) is set up once and kept when B is refilled (the same arithmetic)
                for sub, static in zip(ksp.getPC().getFieldSplitSubKSP(), self.lin.static):
                    sub.getPC().setReusePreconditioner(static)
        else:
            _, B, ksp = self._anchor
            J.copy(B, structure=PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
            B.axpy(omega, M, structure=PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN)
            ksp.setOperators(B)
            ksp.setUp()
        self._anchor = (omega, B, ksp)
        self.factorizations += 1
        return True

    def _free_anchor(self) -> None:
        if self._anchor is not None:
            self._anchor[2].destroy()
            self._anchor[1].destroy()
            self._anchor = None

    def _solve_presb(self, omega, rhs, solution, rtol: float, atol: float = 0.0,
                     inner_rtol: float | None = None) -> int:
        J, M = self.lin.jacobian, self.lin.mass
        self.factorized = self._anchor_at(omega)
        omega_a, _, inner = self._anchor
        if inner_rtol is not None and self.inner != "lu":
            inner.setTolerances(rtol=inner_rtol)
        if self._work is None:
            self._work = [J.createVecLeft() for _ in range(6)]
        a, b, c, d, h, t = self._work
        solver = self

        def load(source, first, second):
            """Copy the two halves of a 2N vector into N vectors."""
            values = source.getArray(readonly=True)
            first.getArray(readonly=False)[:] = values[:solver.n_local]
            second.getArray(readonly=False)[:] = values[solver.n_local:]

        def store(first, second, target):
            values = target.getArray(readonly=False)
            values[:solver.n_local] = first.getArray(readonly=True)
            values[solver.n_local:] = second.getArray(readonly=True)

        class Operator:
            """[J, -omega M; omega M, J] [u_re; u_im]."""

            def mult(self, mat, u, v):
                load(u, a, b)
                J.mult(a, c)
                M.mult(b, t)
                c.axpy(-omega, t)
                J.mult(b, d)
                M.mult(a, t)
                d.axpy(omega, t)
                store(c, d, v)

        class Presb:
            """z = P^-1 r, P = [J, -w M; w M, J + 2 w M] at the anchor w = omega_a (two solves with
            B = J + w M): exact PRESB at the anchor, a close preconditioner within reuse_decades of it."""

            def apply(self, pc, r, z):
                load(r, a, b)                          # a = f, b = g
                a.axpy(1.0, b)
                inner.solve(a, h)                      # h = B^-1 (f + g)
                M.mult(h, t)
                b.axpy(-omega_a, t)
                inner.solve(b, d)                      # y = B^-1 (g - w M h)
                h.axpy(-1.0, d)                        # x = h - y
                store(h, d, z)

        n = (2 * self.n_local, PETSc.DETERMINE)
        A = PETSc.Mat().createPython((n, n), Operator(), comm=self.comm)
        A.setUp()
        ksp = PETSc.KSP().create(self.comm)
        ksp.setOperators(A)
        # an iterative inner solve makes the preconditioner vary from one application to the next
        ksp.setType("gmres" if self.inner == "lu" else "fgmres")
        ksp.setGMRESRestart(100)
        ksp.getPC().setType("python")
        ksp.getPC().setPythonContext(Presb())
        ksp.setTolerances(rtol=rtol, atol=atol, max_it=self.max_it)
        if self._previous is not None:
            self._previous.copy(solution)
            ksp.setInitialGuessNonzero(True)
        try:
            ksp.solve(rhs, solution)
        finally:
            if inner_rtol is not None and self.inner != "lu":
                inner.setTolerances(rtol=self.inner_rtol)
        _check(ksp, omega)
        iterations = ksp.getIterationNumber()
        ksp.destroy()
        A.destroy()
        return iterations

    def close(self) -> None:
        """Free the factorization and work vectors."""
        self._free_anchor()
        for vec in self._work or ():
            vec.destroy()
        self._work = None


#: options prefix of the inner solver (command line: -femiec_small_signal_inner_<option>)
INNER_PREFIX = "femiec_small_signal_inner_"


def _ksp(comm, A: PETSc.Mat, kind: str, rtol: float = 1e-12, blocks=()) -> PETSc.KSP:
    """The solver of B = J + omega M: MUMPS LU (``lu``), GMRES or CG + BoomerAMG (``amg``, ``cg``), or
    GMRES + a multiplicative fieldsplit with one BoomerAMG V-cycle per block of ``blocks`` (owned sizes per
    block, ``fieldsplit``: the electrode's Newton preconditioner, femiec.solvers.presets); the iterative
    ones stop at ``rtol``. Options under INNER_PREFIX given by the user win over these defaults."""
    from femiec.solvers.presets import BOOMERAMG_3D_HEX

    ksp = PETSc.KSP().create(comm)
    ksp.setOperators(A)
    ksp.setOptionsPrefix(INNER_PREFIX)
    if kind == "lu":
        ksp.setType("preonly")
        ksp.getPC().setType("lu")
        ksp.getPC().setFactorSolverType("mumps")
        ksp.setUp()
        return ksp
    ksp.setType("cg" if kind == "cg" else "gmres")
    ksp.setTolerances(rtol=rtol, atol=0.0, max_it=500)
    pc = ksp.getPC()
    if kind in ("amg", "cg"):
        pc.setType("hypre")
        pc.setHYPREType("boomeramg")
        # hypre's advice for 3D 27-point (Q1 voxel) stencils, as in the electrode's fieldsplit preset: HMIS
        # coarsening, ext+i interpolation, one level of aggressive coarsening (on a blocking cell of 0.15 M
        # unknowns, HMIS/ext+i/agg_nl 1: AMG set-up 3.0 s -> 0.6 s, CG at 1e-6 0.64 s -> 0.48 s)
        options = {f"pc_hypre_boomeramg_{k}": v for k, v in BOOMERAMG_3D_HEX.items()}
    else:
        pc.setType("fieldsplit")
        pc.setFieldSplitType(PETSc.PC.CompositeType.MULTIPLICATIVE)
        start = A.getOwnershipRange()[0]
        for i, size in enumerate(blocks):
            pc.setFieldSplitIS((f"b{i}", PETSc.IS().createStride(size, first=start, step=1, comm=comm)))
            start += size
        options = {}
        for i in range(len(blocks)):
            options.update({f"fieldsplit_b{i}_ksp_type": "preonly", f"fieldsplit_b{i}_pc_type": "hypre",
                            f"fieldsplit_b{i}_pc_hypre_type": "boomeramg"})
            options.update({f"fieldsplit_b{i}_pc_hypre_boomeramg_{k}": v for k, v in BOOMERAMG_3D_HEX.items()})
    _set_up_with(ksp, options)
    return ksp


def _set_up_with(ksp: PETSc.KSP, defaults: dict) -> None:
    """Set ``ksp`` up with ``defaults`` put in the options database under its prefix (never over options the
    user put there), and take them out again afterwards (none is left to leak into another solver)."""
    prefix, db, added = ksp.getOptionsPrefix(), PETSc.Options(), []
    for key, value in defaults.items():
        if not db.hasName(prefix + key):
            db.setValue(prefix + key, value)
            added.append(prefix + key)
    try:
        ksp.setFromOptions()
        ksp.setUp()
    finally:
        for name in added:
            db.delValue(name)


def _check(ksp: PETSc.KSP, omega: float) -> None:
    if ksp.getConvergedReason() < 0:
        raise SolverError(f"small-signal solve at f = {omega / (2 * np.pi):.6g} Hz did not converge "
                          f"(KSP reason {ksp.getConvergedReason()}, {ksp.getIterationNumber()} iterations)")
