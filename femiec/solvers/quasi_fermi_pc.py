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
E carries the storage -z c/dt, as large as A's; the block factorisation

    J T = [[I, 0], [B A^-1, I]] [[A, E], [0, S~]],   S~ = S - B A^-1 E ~ S - B D^-1 E,

keeps it: D = max(diag A, row sums of A) per row (the lumped c/dt mass where storage dominates, so that
S~ ~ -div(eps grad .) + sum z_i^2 (M_c - M_c L^-1 M_c) stays positive definite, M_c L^-1 M_c <= M_c for P1;
the diagonal where the stiffness dominates, so that S~ -> S for long steps). The preconditioner is
P^-1 = T (that factorisation)^-1, applied as

    y_eta = A^-1 r_w,   y_psi = S~^-1 (r_psi - B y_eta),   y_eta = A^-1 (r_w - E y_psi),
    y_w = y_eta - Z y_psi,

with A and S~ one BoomerAMG V-cycle each (options prefixes ``<solver prefix>qf_species_`` and
``<solver prefix>qf_potential_``; A is the species block, the species coupled only through the
homogeneous sources). A fixed-concentration (Dirichlet) dof of w is not transformed (its row of J is an
identity row, dw = r_w there): T and the column sums below skip those nodes.

A, B and S are taken from the assembled Jacobian: the index sets of each species and of psi list the
dofs of the same nodes in the same order (the collapse maps of the P1 sub-spaces), so the column of node
k is the same in J_psiw_i and J_psipsi, and S is the sum of submatrices.
"""
from __future__ import annotations

import numpy as np
from petsc4py import PETSc

from femiec.solvers.presets import amg_v_cycle

from femiec.errors import InputError


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
        prefix: the solver's options prefix (the two V-cycles add ``qf_species_`` and ``qf_potential_``).
    """

    def __init__(self, species_sets, potential_set, charges, fixed, prefix: str = ""):
        self.species_sets, self.potential_set = list(species_sets), potential_set
        self.charges = [float(z) for z in charges]
        self.free = [(~np.asarray(f, dtype=bool)).astype(float) for f in fixed]  # 0 at fixed dofs, else 1
        self.all_species = PETSc.IS().createGeneral(
            np.concatenate([s.getIndices() for s in self.species_sets]).astype(PETSc.IntType),
            comm=potential_set.getComm())
        self.prefix = prefix
        self._A = self._B = self._E = self._S = None
        self._ksp_A = self._ksp_S = None
        self._r_w = self._r_psi = None
        self._owned = potential_set.getLocalSize()

    def setUp(self, pc) -> None:
        _, P = pc.getOperators()
        comm = P.getComm()
        for matrix in (self._A, self._B, self._E, self._S):
            if matrix is not None:
                matrix.destroy()
        self._A = P.createSubMatrix(self.all_species, self.all_species)
        self._B = P.createSubMatrix(self.potential_set, self.all_species)
        self._E = P.createSubMatrix(self.all_species, self.potential_set)
        S = P.createSubMatrix(self.potential_set, self.potential_set)
        for z, index_set, free_nodes in zip(self.charges, self.species_sets, self.free):
            # the columns of psi: J_.psi - sum_i z_i J_.w_i, the free nodes of w_i only
            for target, rows in ((S, self.potential_set), (self._E, self.all_species)):
                coupling = P.createSubMatrix(rows, index_set)
                free = coupling.createVecRight()
                free.getArray()[:] = free_nodes
                coupling.diagonalScale(R=free)
                target.axpy(-z, coupling, structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
                coupling.destroy()
                free.destroy()
        # Schur complement S - B D^-1 E, D = max(diag A, row sums of A) (module docstring)
        inverse = self._A.getDiagonal()
        sums = self._A.getRowSum()
        inverse.pointwiseMax(inverse, sums)
        sums.destroy()
        inverse.reciprocal()
        scaled = self._B.copy()
        scaled.diagonalScale(R=inverse)
        S.axpy(-1.0, scaled.matMult(self._E), structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
        scaled.destroy()
        inverse.destroy()
        self._S = S
        if self._ksp_A is None:
            self._ksp_A = amg_v_cycle(comm, f"{self.prefix}qf_species_")
            self._ksp_S = amg_v_cycle(comm, f"{self.prefix}qf_potential_")
        self._ksp_A.setOperators(self._A)
        self._ksp_S.setOperators(self._S)
        self._ksp_A.setUp()
        self._ksp_S.setUp()
        if self._r_w is None:  # work vectors, the same layout at every set-up
            self._r_w, self._r_psi = self._A.createVecLeft(), self._S.createVecLeft()

    def apply(self, pc, x, y) -> None:
        x_w, x_psi = x.getSubVector(self.all_species), x.getSubVector(self.potential_set)
        y_w, y_psi = y.getSubVector(self.all_species), y.getSubVector(self.potential_set)
        self._ksp_A.solve(x_w, y_w)                            # y_eta = A^-1 r_w
        self._B.mult(y_w, self._r_psi)
        self._r_psi.aypx(-1.0, x_psi)                          # r_psi - B y_eta
        self._ksp_S.solve(self._r_psi, y_psi)                  # y_psi = S^-1 (...)
        self._E.mult(y_psi, self._r_w)
        self._r_w.aypx(-1.0, x_w)                              # r_w - E y_psi
        self._ksp_A.solve(self._r_w, y_w)                      # y_eta = A^-1 (r_w - E y_psi)
        eta, psi = y_w.getArray(), y_psi.getArray(readonly=True)
        n = self._owned
        for i, (z, free_nodes) in enumerate(zip(self.charges, self.free)):  # y_w = y_eta - Z y_psi (free nodes)
            eta[i * n:(i + 1) * n] -= z * free_nodes * psi
        for whole, index_set, part in ((x, self.all_species, x_w), (x, self.potential_set, x_psi),
                                       (y, self.all_species, y_w), (y, self.potential_set, y_psi)):
            whole.restoreSubVector(index_set, part)

    def destroy(self, pc=None) -> None:
        for obj in (self._A, self._B, self._E, self._S, self._ksp_A, self._ksp_S, self._r_w, self._r_psi):
            if obj is not None:
                obj.destroy()
        self._A = self._B = self._E = self._S = self._ksp_A = self._ksp_S = self._r_w = self._r_psi = None
