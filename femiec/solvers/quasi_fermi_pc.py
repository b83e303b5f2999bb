"""Block preconditioner of the Nernst–Planck–Poisson Newton system in electrochemical-potential variables
(the quasi-Fermi levels of semiconductor device simulation), ``preset = "quasi_fermi"`` of
:class:`femiec.problems.nernst_planck_poisson.NernstPlanckPoisson` (log-concentration unknowns).

Unknowns per node: w_i = ln(c_i / c_ref,i) of each species and psi = phi / V_T (dimensionless). The flux
J_i = -D_i c_i (grad w_i + z_i grad psi) [mol/(m^2 s) per scale] depends on them through the
electrochemical potential eta_i = w_i + z_i psi (in units of R T). In the variables (eta, psi), i.e.
dw = deta - Z dpsi (T the change of variables, Z = diag(z_i)), the Jacobian J T has the blocks

    [ A    E ]      A = J_ww:  -div(D c grad .) + storage c/dt + the drift -div(D c . grad eta)
    [ B    S ]      E = J_wpsi - J_ww Z:  the drift div(D c z . grad eta) and the storage -z c/dt only
                    B = J_psiw:  -z_i c_i (the mobile charge, a mass matrix)
                    S = J_psipsi - sum_i z_i J_psiw_i:  -div(eps grad .) + sum_i z_i^2 c_i (screened Poisson)

The steady coupling E vanishes at equilibrium (grad eta = 0) and is small in a current-carrying state
(the drift of the current density), while S holds the screening sum_i z_i^2 c_i exactly (where
lambda_D << h the system is electroneutral and S is a mass matrix; where lambda_D >> h a Laplacian),
which the (c, phi) fieldsplit misses: its Krylov count grows as lambda_D / L falls. In a short time step
E carries the storage -z c/dt, as large as A's, which the Schur complement keeps:

    J T ~ [[A, 0], [B, S~]],   S~ = S - B A^-1 E ~ S - sum_i diag(b_i / d_i) E_i,

with E_i the rows of species i in E, b_i the row sums of B_i = J_psiw_i (the mobile charge's mass matrix,
lumped) and d_i = max(diag A_ii, row sums of A's rows of species i) (the lumped c/dt mass where storage
dominates, so that S~ -> -div(eps grad .) for short steps, the screening cancelled as the ions cannot
move; the diagonal where the stiffness dominates, so that S~ -> S for long steps). With B lumped, S~ keeps
the P1 stencil of S (B D^-1 E with the consistent mass has the two-ring stencil: 121 instead of ~30
entries per row on the benchmark's tetrahedra, and an AMG set-up and V-cycle to match). The
preconditioner is the block lower-triangular P^-1 = T [[A, 0], [B, S~]]^-1 (for reacting species the
full factorization, below), applied as

    y_eta_i = A_ii^-1 r_w_i (each species),   y_psi = S~^-1 (r_psi - sum_i B_i y_eta_i),
    y_w = y_eta - Z y_psi,

with each A_ii and S~ one BoomerAMG V-cycle (options prefixes ``<solver prefix>qf_species_`` and
``<solver prefix>qf_potential_``). The species are coupled in A only through homogeneous sources: without
them (J_w_i w_j = 0 for i != j, checked at every set-up) one V-cycle per species (the V-cycle of the whole
A with its structurally zero species couplings needed four times the Krylov iterations on the benchmark
at lambda_D / L = 1e-1). Reacting species (a recombination k (c0^2 - c+ c-) couples the sum of their
electrochemical potentials with the rate k c+ c-, but not their difference, which carries the current)
share one V-cycle on the whole species block, and the back-substitution y_eta = A^-1 (r_w - E y_psi)
applies it a second time: 32^3 cells, Damkoehler number 100, 2 ranks: 14.0 Krylov iterations per Newton
iteration in 1.28 s, against 62 in 2.37 s without the back-substitution, 11.0 in 3.29 s with the
preconditioner before the per-species V-cycles, and ~29 per Newton with one V-cycle per species
(16^3). For species that do not react the back-substitution (a second V-cycle per species and E y_psi)
is not done: on 1e6 unknowns (steady, hypre's default V-cycles) it saved 1.7 Krylov iterations per
Newton iteration and cost 15% more time; in short steps, where E carries the storage, dropping it costs
iterations but not time (32^3, dt = 1e-6 L^2/D: 38.5 Krylov per Newton in 1.07 s against 21.7 in 1.20 s
with the back-substitution and the consistent B; benchmarks/README.md, bench_npp.py). A
fixed-concentration (Dirichlet) dof of w is not transformed (its row of J is an identity row, dw = r_w
there): T and the column sums below skip those nodes.

A_ii, B_i, E_i and S are taken from the assembled Jacobian: the index sets of each species and of psi list
the dofs of the same nodes in the same order (the collapse maps of the P1 sub-spaces), so row and column k
of every such submatrix belong to node k and S~ is a sum of row-scaled submatrices of one stencil.
"""
from __future__ import annotations

import numpy as np
from petsc4py import PETSc

from femiec.solvers.presets import BOOMERAMG_3D_HEX, amg_v_cycle

from femiec.errors import InputError


#: Options of the preconditioner's V-cycles under the solver's prefix: BoomerAMG with the 3D settings of
#: the electrode (HMIS coarsening, ext+i interpolation, one level of aggressive coarsening). On the
#: benchmark's tetrahedra (2 ranks) they take more, cheaper Krylov iterations than hypre's defaults and
#: keep them flat: 12.7-18.0 per Newton iteration over lambda_D / L = 1e-1 .. 1e-4 and 16^3 .. 68^3 cells
#: (defaults: 3.7-14.3), and the Newton step at 1e6 unknowns costs 3.0-3.5 Poisson solves (defaults: 4.7).
V_CYCLE_OPTIONS: dict[str, object] = {f"qf_{block}_pc_hypre_boomeramg_{key}": value
                                      for block in ("species", "potential")
                                      for key, value in BOOMERAMG_3D_HEX.items()}


def check_quasi_fermi(variables: str, monolithic_temperature: bool) -> None:
    """The preconditioner needs log-concentration unknowns (eta = w + z psi is then linear in the
    unknowns) and no temperature among them: an InputError naming the key otherwise."""
    if variables != "log":
        raise InputError("model.variables", variables, "'log' with solver.preset = 'quasi_fermi' (the "
                         "electrochemical potentials are linear in the log-concentrations)")
    if monolithic_temperature:
        raise InputError("model.temperature.coupling", "monolithic", "'staggered' with solver.preset = "
                         "'quasi_fermi' (the temperature is not one of its blocks)")


def node_index_sets(space, subspaces, species: int, comm) -> tuple[list[PETSc.IS], PETSc.IS]:
    """Global index sets (owned dofs of the mixed ``space``) of each species' w and of psi (the subspace
    after the species), each in the node order of its collapsed P1 space (module docstring)."""
    start = space.dofmap.index_map.local_range[0] * space.dofmap.index_map_bs

    def index_set(k):
        collapsed, dofs = subspaces[k]
        owned = collapsed.dofmap.index_map.size_local
        return PETSc.IS().createGeneral((np.asarray(dofs[:owned]) + start).astype(PETSc.IntType), comm=comm)

    return [index_set(i) for i in range(species)], index_set(species)


class QuasiFermiPC:
    """petsc4py ``python`` PC of the NPP Newton system (module docstring).

    Args:
        species_sets: the index sets of the species' w (node order), from :func:`node_index_sets`.
        potential_set: the index set of psi (node order).
        charges: z_i of the species.
        fixed: per species, a boolean array over its owned nodes: True at a fixed-concentration dof.
        prefix: the solver's options prefix (the V-cycles add ``qf_species_`` and ``qf_potential_``).
    """

    def __init__(self, species_sets, potential_set, charges, fixed, prefix: str = ""):
        self.species_sets, self.potential_set = list(species_sets), potential_set
        self.charges = [float(z) for z in charges]
        self.free = [(~np.asarray(f, dtype=bool)).astype(float) for f in fixed]  # 0 at fixed dofs, else 1
        self.prefix = prefix
        self._all_species = PETSc.IS().createGeneral(
            np.concatenate([s.getIndices() for s in self.species_sets]).astype(PETSc.IntType),
            comm=potential_set.getComm())
        self._sets: list = []  # the index sets of the species V-cycles: each species, or all (reacting)
        self._A: list = []  # their blocks of J: A_ii, or the whole species block A
        self._B: list = []  # J_psiw of the same columns
        self._E = None      # reacting species only: E (module docstring)
        self._r_w = None    # and the work vector of its back-substitution
        self._S = None      # S~
        self._ksp_A: list = []
        self._ksp_S = None
        self._work = None   # (r_psi, B_i y_i)

    def _free_columns(self, matrix: PETSc.Mat, species: int) -> PETSc.Mat:
        """``matrix`` (columns: the nodes of species ``species``) with its fixed-concentration columns zeroed."""
        free = matrix.createVecRight()
        free.getArray()[:] = self.free[species]
        matrix.diagonalScale(R=free)
        free.destroy()
        return matrix

    def _potential_coupling(self, P: PETSc.Mat, rows: PETSc.IS) -> tuple[PETSc.Mat, PETSc.Vec, list]:
        """E of the species rows ``rows`` (one species, or all): J_rows psi - sum_j z_j J_rows w_j (free
        columns of w_j only); the row sums of J_rows w (all species' columns); and the Frobenius norm of
        each J_rows w_j."""
        E = P.createSubMatrix(rows, self.potential_set)
        row_sums = E.createVecLeft()
        row_sums.set(0.0)
        norms = []
        for j, (z, columns) in enumerate(zip(self.charges, self.species_sets)):
            coupling = P.createSubMatrix(rows, columns)
            norms.append(coupling.norm())
            sums = coupling.getRowSum()
            row_sums.axpy(1.0, sums)
            sums.destroy()
            E.axpy(-z, self._free_columns(coupling, j), structure=PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN)
            coupling.destroy()
        return E, row_sums, norms

    def _schur(self, P: PETSc.Mat, diagonal: list, charge: list) -> tuple[PETSc.Mat, bool]:
        """S~ = J_psipsi - sum_j z_j J_psiw_j - sum_i diag(b_i / d_i) E_i (module docstring; free columns of
        w_j only), from the species' diagonal blocks A_ii (``diagonal``) and B_i (``charge``); and whether
        any two species are coupled (a nonzero J_w_i w_j, i != j: a homogeneous reaction)."""
        same = PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN  # one P1 stencil (module docstring)
        S = P.createSubMatrix(self.potential_set, self.potential_set)
        for j, (z, B) in enumerate(zip(self.charges, charge)):
            coupling = self._free_columns(B.copy(), j)
            S.axpy(-z, coupling, structure=same)
            coupling.destroy()
        coupled = False
        for i, (rows, A, B) in enumerate(zip(self.species_sets, diagonal, charge)):
            E, row_sums, norms = self._potential_coupling(P, rows)
            coupled = coupled or any(norm > 0.0 for j, norm in enumerate(norms) if j != i)
            weight = A.getDiagonal()
            weight.pointwiseMax(weight, row_sums)   # d_i
            lumped = B.getRowSum()                 # b_i
            weight.pointwiseDivide(lumped, weight)
            E.diagonalScale(L=weight)
            S.axpy(-1.0, E, structure=same)
            for obj in (E, row_sums, weight, lumped):
                obj.destroy()
        return S, coupled

    def setUp(self, pc) -> None:
        _, P = pc.getOperators()
        self._release_matrices()
        species, psi = self.species_sets, self.potential_set
        diagonal = [P.createSubMatrix(s, s) for s in species]
        charge = [P.createSubMatrix(psi, s) for s in species]
        self._S, coupled = self._schur(P, diagonal, charge)
        if coupled:  # reacting species: one V-cycle on the whole species block, and the back-substitution
            for matrix in diagonal + charge:
                matrix.destroy()
            self._sets = [self._all_species]
            self._A = [P.createSubMatrix(self._all_species, self._all_species)]
            self._B = [P.createSubMatrix(psi, self._all_species)]
            self._E, row_sums, _ = self._potential_coupling(P, self._all_species)
            row_sums.destroy()
            self._r_w = self._E.createVecLeft()
        else:
            self._sets, self._A, self._B = list(species), diagonal, charge
        if len(self._ksp_A) != len(self._A):
            comm = P.getComm()
            for ksp in self._ksp_A:
                ksp.destroy()
            self._ksp_A = [amg_v_cycle(comm, f"{self.prefix}qf_species_") for _ in self._A]
            for ksp in self._ksp_A:
                ksp.setFromOptions()
        if self._ksp_S is None:
            self._ksp_S = amg_v_cycle(P.getComm(), f"{self.prefix}qf_potential_")
            self._ksp_S.setFromOptions()
        for ksp, A in zip(self._ksp_A + [self._ksp_S], self._A + [self._S]):
            ksp.setOperators(A)
            ksp.setUp()
        if self._work is None:  # the same layout at every set-up
            self._work = (self._S.createVecLeft(), self._S.createVecLeft())

    def apply(self, pc, x, y) -> None:
        r_psi, charge = self._work
        x_psi = x.getSubVector(self.potential_set)
        x_psi.copy(r_psi)
        x.restoreSubVector(self.potential_set, x_psi)
        for s, ksp, B in zip(self._sets, self._ksp_A, self._B):
            x_w, y_w = x.getSubVector(s), y.getSubVector(s)
            ksp.solve(x_w, y_w)                                 # y_eta = A^-1 r_w (per species, or all)
            B.mult(y_w, charge)
            r_psi.axpy(-1.0, charge)                            # r_psi - B y_eta
            x.restoreSubVector(s, x_w)
            y.restoreSubVector(s, y_w)
        y_psi = y.getSubVector(self.potential_set)
        self._ksp_S.solve(r_psi, y_psi)                         # y_psi = S~^-1 (...)
        if self._E is not None:  # reacting species: y_eta = A^-1 (r_w - E y_psi)
            s, (ksp,) = self._all_species, self._ksp_A
            x_w, y_w = x.getSubVector(s), y.getSubVector(s)
            self._E.mult(y_psi, self._r_w)
            self._r_w.aypx(-1.0, x_w)
            ksp.solve(self._r_w, y_w)
            x.restoreSubVector(s, x_w)
            y.restoreSubVector(s, y_w)
        psi = y_psi.getArray(readonly=True)
        for z, free_nodes, s in zip(self.charges, self.free, self.species_sets):
            y_i = y.getSubVector(s)
            y_i.getArray()[:] -= z * free_nodes * psi           # y_w = y_eta - Z y_psi (free nodes)
            y.restoreSubVector(s, y_i)
        y.restoreSubVector(self.potential_set, y_psi)

    def _release_matrices(self) -> None:
        for obj in self._A + self._B + [self._S, self._E, self._r_w]:
            if obj is not None:
                obj.destroy()
        self._A, self._B, self._S, self._E, self._r_w = [], [], None, None, None

    def destroy(self, pc=None) -> None:
        self._release_matrices()
        for obj in self._ksp_A + [self._ksp_S] + list(self._work or ()):
            if obj is not None:
                obj.destroy()
        self._ksp_A, self._ksp_S, self._work = [], None, None
