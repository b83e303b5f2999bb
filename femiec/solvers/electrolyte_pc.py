"""Block preconditioner of the electroneutral concentrated electrolyte's (c, phi_e) pair in the resolved
electrode's Newton system (``electrolyte_preconditioner = "electrochemical"`` of
:class:`femiec.problems.electrode.ElectrodeProblem`: the ``electrolyte`` split of its fieldsplit).

Unknowns per node: x = c / c_ref and psi = phi_e / V_T (V_T = R T / F). The residuals of
femiec.problems.electrode_phases.ConcentratedElectrolyte (``storage`` + ``steady``; each row multiplied
by its residual scale, which does not change what follows):

    salt:    int eps dc/dt q dx + int (D eps^b grad c + (1 - t+) i_e / F) . grad q dx
    charge:  -int i_e . grad q dx - int i q dS(Gamma) - int j q ds(separator)
    i_e = -kappa eps^b grad phi_e + kappa eps^b (2 R T / F)(1 - t+) f grad(c) / c
        = -kappa eps^b V_T grad(psi - g ln x),   g = 2 (1 - t+) f   (f the thermodynamic factor)

The current depends on the unknowns only through the electrochemical potential

    eta = psi - g ln x

(in units of R T / F: the potential of a Li reference electrode less its concentration overpotential),
i_e = -kappa eps^b V_T grad eta. In the variables (eta, x), i.e. dpsi = deta + G dx with G = diag(g / x_k)
over the nodes k (the change of variables T), the Jacobian J T has the blocks (rows: charge, salt)

    [ A   E ]   A = J_psipsi:           -div(kappa eps^b V_T grad .) + the kinetics' di/dphi_e on Gamma
    [ B   S ]   E = J_psix + J_psipsi G:  the kinetics' di/dc + di/dphi_e g / x on Gamma, and the
                                          interpolation error of G (grad(dx / x) against grad I_h(dx / x))
                B = J_xpsi:             the migration: -div((1 - t+) kappa eps^b V_T / F grad .)
                S = J_xx + J_xpsi G:     eps / dt - div(D eps^b grad .) (Fick; the migration of the
                                          diffusion potential cancels)

In the original variables the charge row's x column is a Laplacian as large as its psi column (g ~ 1:
the diffusion potential), which the multiplicative fieldsplit of c and phi_e leaves to the outer Krylov
iteration. After the change of variables the bulk of the charge row does not depend on x: E is a surface
term (kappa / h >> i0 / V_T h on a voxel), J T is nearly block lower triangular, and its Schur complement
S - B A^-1 E is S. The preconditioner is P^-1 = T [[A, 0], [B, S]]^-1, applied as

    y_eta = A^-1 r_psi,   y_x = S^-1 (r_x - B y_eta),   y_psi = y_eta + G y_x,

with A and S one BoomerAMG V-cycle each (options prefixes ``<split prefix>electrolyte_potential_`` and
``<split prefix>electrolyte_concentration_``): the cost of the two V-cycles of the split it replaces, plus
one product with B. The blocks are submatrices of the assembled Jacobian: the two fields live on the same
P1 space of the pore submesh, so their index sets list the same nodes in the same order and G scales
columns. Measured on NMC crops (benchmarks/README.md): keeping E (the back substitution
y_eta = A^-1 (r_psi - E y_x)) did not change the Krylov count, and the assembled Schur complement
S - B D^-1 E (D = max(diag A, row sums of A), as femiec.solvers.quasi_fermi_pc) gave 28.5 and 40 Krylov
iterations per step against 32.5 and 35.5 without it (16^3, 24^3) at a higher cost per step (its
product B D^-1 E has a 125-point stencil).
"""
from __future__ import annotations

from petsc4py import PETSc

from femiec.solvers.presets import amg_v_cycle

#: the options prefixes (under the split's own) of the two V-cycles: A (the potential) and S (the salt)
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
        self.n = concentration_set.getLocalSize()
        self.blocks: dict[str, PETSc.Mat] = {}
        self.S = self.G = None
        self.ksp_A = self.ksp_S = None
        self.prefix = prefix

    def setUp(self, pc) -> None:
        """Extract A, B and J_xx from the Jacobian, form S = J_xx + B G at the present iterate and set up
        the two BoomerAMG hierarchies."""
        J, _ = pc.getOperators()
        for name, (rows, cols) in {"A": (self.is_psi, self.is_psi), "B": (self.is_x, self.is_psi),
                                   "xx": (self.is_x, self.is_x)}.items():
            self.blocks[name] = J.createSubMatrix(rows, cols, submat=self.blocks.get(name))
        if self.G is None:
            self.G, self.r_x = self.blocks["B"].createVecs()
            self.r_psi = self.G.duplicate()
            self.ksp_A, self.ksp_S = (amg_v_cycle(J.getComm(), f"{self.prefix}{solve}_")
                                      for solve in ELECTROLYTE_SOLVES)
        self.G.getArray()[:] = self.g / self.concentration.x.array[:self.n]
        if self.S is not None:
            self.S.destroy()
        self.S = self.blocks["B"].copy()
        self.S.diagonalScale(R=self.G)
        self.S.axpy(1.0, self.blocks["xx"], structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
        for ksp, matrix in ((self.ksp_A, self.blocks["A"]), (self.ksp_S, self.S)):
            ksp.setOperators(matrix)
            ksp.setFromOptions()
            ksp.setUp()

    def apply(self, pc, x, y) -> None:
        """y = T [[A, 0], [B, S]]^-1 x (module docstring)."""
        x_psi, x_x = x.getSubVector(self.is_psi), x.getSubVector(self.is_x)
        y_psi, y_x = y.getSubVector(self.is_psi), y.getSubVector(self.is_x)
        self.ksp_A.solve(x_psi, y_psi)                     # y_eta = A^-1 r_psi
        self.blocks["B"].mult(y_psi, self.r_x)
        self.r_x.aypx(-1.0, x_x)                           # r_x - B y_eta
        self.ksp_S.solve(self.r_x, y_x)                    # y_x = S^-1 (r_x - B y_eta)
        self.r_psi.pointwiseMult(self.G, y_x)
        y_psi.axpy(1.0, self.r_psi)                        # y_psi = y_eta + G y_x
        x.restoreSubVector(self.is_psi, x_psi)
        x.restoreSubVector(self.is_x, x_x)
        y.restoreSubVector(self.is_psi, y_psi)
        y.restoreSubVector(self.is_x, y_x)

    def destroy(self, pc=None) -> None:
        for obj in (*self.blocks.values(), self.S, self.G, self.ksp_A, self.ksp_S):
            if obj is not None:
                obj.destroy()
        self.blocks, self.S, self.G, self.ksp_A, self.ksp_S = {}, None, None, None, None
