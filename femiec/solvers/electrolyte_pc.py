"""Block preconditioner of the electroneutral concentrated electrolyte's (c, phi_e) pair in the resolved
electrode's Newton system (``electrolyte_preconditioner = "schur"`` of
:class:`femiec.problems.electrode.ElectrodeProblem`, the ``electrolyte`` split of its fieldsplit).

Unknowns per node: x = c / c_ref and psi = phi_e / V_T (V_T = R T / F). The residuals of
femiec.problems.electrode_phases.ConcentratedElectrolyte (``storage`` + ``steady``), each row scaled by
a number:

    salt:    int eps dc/dt q + (D eps^b grad c + (1 - t+) i_e / F) . grad q dx
    charge:  -int i_e . grad q dx - int i q dS(Gamma) - int j q ds(separator)
    i_e = -kappa eps^b V_T (grad psi - 2 (1 - t+) f grad ln x)   (f the thermodynamic factor, 1)

The current depends on the unknowns only through the combination

    eta = psi - g ln x,   g = 2 (1 - t+) f,

the electrochemical potential of the ions that carry the current (the potential of a Li reference
electrode less its concentration overpotential), i_e = -kappa eps^b V_T grad eta. In the variables
(eta, x), i.e. dpsi = deta + G dx with G = diag(g / x_k) over the nodes k (the change of variables T),
the Jacobian J T has the blocks

    [ A   E ]   A = J_psipsi:          -div(kappa eps^b V_T grad .) + the Butler-Volmer di/dphi_e on Gamma
    [ B   S ]   E = J_psix + J_psipsi G:  only the kinetics' di/dc and di/dphi_e g / x on Gamma, plus
                                        the interpolation error of G (grad(dx / x) against grad I_h(dx / x))
                B = J_xpsi:            the migration (1 - t+) i_e / F, -div((1 - t+) kappa eps^b V_T / F grad .)
                S = J_xx + J_xpsi G:   eps / dt + Fick's -div(D eps^b grad .) (the migration of the
                                        diffusion potential cancels)

(rows: charge then salt). In the original variables the charge row's x column is a Laplacian as large
as its psi column (the diffusion potential, g ~ 1), which the multiplicative fieldsplit of c and phi_e
leaves to the outer Krylov iteration. After the change of variables the bulk of the charge row does not
depend on x, so the block factorisation

    J T = [[A, 0], [B, S~]] [[I, A^-1 E], [0, I]],   S~ = S - B A^-1 E ~ S - B D^-1 E,

is nearly block triangular (E a surface term): D = max(diag A, row sums of A) per row as in
femiec.solvers.quasi_fermi_pc. The preconditioner P^-1 = T (that factorisation)^-1:

    y_eta = A^-1 r_psi,   y_x = S~^-1 (r_x - B y_eta),   y_eta = A^-1 (r_psi - E y_x),   y_psi = y_eta + G y_x,

with A and S~ one BoomerAMG V-cycle each (options prefixes ``<split prefix>electrolyte_potential_`` and
``<split prefix>electrolyte_concentration_``). The blocks are submatrices of the assembled Jacobian: the
two fields live on the same P1 space of the pore submesh, so their index sets list the same nodes in
the same order and G is a diagonal scaling of columns.
"""
from __future__ import annotations

import numpy as np
from petsc4py import PETSc

from femiec.solvers.presets import amg_v_cycle

#: the options prefixes (under the split's own) of the two V-cycles: A (the potential) and S~ (the salt)
ELECTROLYTE_SOLVES = ("electrolyte_potential", "electrolyte_concentration")


class ElectrolytePairPC:
    """petsc4py ``python`` PC of the (c, phi_e) split (module docstring).

    Args:
        potential_set, concentration_set: the index sets of psi and x in the split's numbering (the same
            nodes in the same order).
        concentration: the Function of x = c / c_ref (its owned values in the order of the index sets).
        diffusion_potential: g = 2 (1 - t+) f [-].
        prefix: the split's options prefix.
    """

    def __init__(self, potential_set, concentration_set, concentration, diffusion_potential: float, prefix: str):
        self.is_psi, self.is_x = potential_set, concentration_set
        self.concentration, self.g = concentration, float(diffusion_potential)
        self.prefix = prefix
        self.n = concentration_set.getLocalSize()
        self.blocks: dict[str, PETSc.Mat] = {}
        self.ksp_A = self.ksp_S = None

    def setUp(self, pc) -> None:
        J, _ = pc.getOperators()
        for matrix in self.blocks.values():
            matrix.destroy()
        A = J.createSubMatrix(self.is_psi, self.is_psi)
        B = J.createSubMatrix(self.is_x, self.is_psi)
        E = J.createSubMatrix(self.is_psi, self.is_x)
        S = J.createSubMatrix(self.is_x, self.is_x)
        self.G = B.createVecRight()
        self.G.getArray()[:] = self.g / self.concentration.x.array[:self.n]
        # the x columns of J T: J_.x + J_.psi G
        for target, column in ((E, A), (S, B)):
            scaled = column.copy()
            scaled.diagonalScale(R=self.G)
            target.axpy(1.0, scaled, structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
            scaled.destroy()
        # S~ = S - B D^-1 E, D = max(diag A, row sums of A)
        inverse = A.getDiagonal()
        sums = A.getRowSum()
        inverse.pointwiseMax(inverse, sums)
        inverse.reciprocal()
        scaled = B.copy()
        scaled.diagonalScale(R=inverse)
        product = scaled.matMult(E)
        S.axpy(-1.0, product, structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
        for obj in (sums, inverse, scaled, product):
            obj.destroy()
        self.blocks = {"A": A, "B": B, "E": E, "S": S}
        if self.ksp_A is None:
            self.ksp_A, self.ksp_S = (amg_v_cycle(J.getComm(), f"{self.prefix}{solve}_") for solve in ELECTROLYTE_SOLVES)
        for ksp, matrix in ((self.ksp_A, A), (self.ksp_S, S)):
            ksp.setOperators(matrix)
            ksp.setFromOptions()
            ksp.setUp()
        self.r_psi, self.r_x = A.createVecLeft(), S.createVecLeft()

    def apply(self, pc, x, y) -> None:
        A, B, E = self.blocks["A"], self.blocks["B"], self.blocks["E"]
        x_psi, x_x = x.getSubVector(self.is_psi), x.getSubVector(self.is_x)
        y_psi, y_x = y.getSubVector(self.is_psi), y.getSubVector(self.is_x)
        self.ksp_A.solve(x_psi, y_psi)                     # y_eta = A^-1 r_psi
        B.mult(y_psi, self.r_x)
        self.r_x.aypx(-1.0, x_x)                           # r_x - B y_eta
        self.ksp_S.solve(self.r_x, y_x)                    # y_x = S~^-1 (...)
        E.mult(y_x, self.r_psi)
        self.r_psi.aypx(-1.0, x_psi)                       # r_psi - E y_x
        self.ksp_A.solve(self.r_psi, y_psi)                # y_eta = A^-1 (...)
        self.r_psi.pointwiseMult(self.G, y_x)
        y_psi.axpy(1.0, self.r_psi)                        # y_psi = y_eta + G y_x
        x.restoreSubVector(self.is_psi, x_psi)
        x.restoreSubVector(self.is_x, x_x)
        y.restoreSubVector(self.is_psi, y_psi)
        y.restoreSubVector(self.is_x, y_x)

    def destroy(self, pc=None) -> None:
        for obj in (*self.blocks.values(), self.ksp_A, self.ksp_S):
            if obj is not None:
                obj.destroy()
        self.blocks, self.ksp_A, self.ksp_S = {}, None, None
