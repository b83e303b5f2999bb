"""Block preconditioner of the c–w Newton system of Cahn–Hilliard (``solver="block"`` of
:class:`femiec.problems.cahn_hilliard.CahnHilliardProblem`) whose Krylov iterations do not grow with the mesh
size or the time step (after Bosch, Kay, Stoll & Wathen, SIAM J. Sci. Comput. 36 (2014) A2568).

The Newton system of one step (lithium rows scaled by dt / c_max, chemical-potential rows by 1 / (R T);
unknowns c and w = mu / (R T), both P1) has the blocks

    [ A   Y ] [dc]   A = M + N,  N: dt div(D (1 - 2c) dc grad w), the derivative of the mobility
    [-C   M ] [dw]   Y = dt K_m,  K_m: stiffness of D c (1 - c) [m^2/s]
                     C = M_h + K_l,  M_h: mass of 1 / (c (1 - c)),  K_l: stiffness of kappa / (R T) [m^2]

(M the P1 mass matrix, K the stiffness matrix of 1; convex splitting: the concave enthalpy is explicit,
so C is symmetric positive definite). The w block is M exactly, so w is eliminated:

    J = [[I, Y M^-1], [0, I]] [[S, 0], [0, M]] [[I, 0], [-M^-1 C, I]],   S = A + Y M^-1 C [m^2 in 2D],

    S = M + N + Y M^-1 M_h + Y M^-1 K_l,   Y M^-1 M_h ~ dt D K  (weight D c (1 - c) / (c (1 - c)) = D,
                                                                Fick's law of the ideal solution).

With the scalar scales l = kappa / (R T) [m^2] (tensor: trace / gdim), D [m^2/s] (trace / gdim) and the
mean mobility factor m = mean over the nodes of c (1 - c), S - N acts on a mode of K-eigenvalue lambda
[1/m^2] like the symbol 1 + dt D lambda + p lambda^2 (times M), p = l dt D m [m^4]. The preconditioner
replaces S by a product of two shifted operators (each one BoomerAMG V-cycle):

    S^ = (A + (a / (dt D m)) Y) M^-1 (M + (b / l) K_l),      a b = p,
    a, b = (dt D +- sqrt((dt D)^2 - 4 p)) / 2   if (dt D)^2 >= 4 p,   else a = b = sqrt(p)     [m^2],

whose symbol (1 + a lambda)(1 + b lambda) equals that of S when (dt D)^2 >= 4 p (long steps: a -> dt D,
b -> l m) and lies within a factor 2 of it otherwise (short steps: the Bosch–Stoll choice a = b =
sqrt(p)), for every mesh size. The first factor keeps the Jacobian's own A (with the convection N, which
outgrows M when dt D |grad w| exceeds the cell size: long steps from a state far from equilibrium) and the
variable mobility of Y; it is a convection–diffusion operator with the diffusion (a c (1 - c) / m) K
(cell Peclet number h |grad w| |1 - 2c| / (c (1 - c)) << 1 at resolved interfaces), which BoomerAMG
handles. The extra term S^ - S - (symbol error) ~ N M^-1 (b / l) K_l stays small because b / l <= 2 m:
the large shift a goes with N.

The other elimination (c eliminated, the Schur complement M + C A^-1 Y on w) needs A^-1: with the
convection of long steps A is indefinite and so is that Schur complement (a preconditioner built on it
failed at dt = 10 s).

The preconditioner, y = P^-1 x with P the factorisation above, S replaced by S^:

    y_w = M^-1 x_w,  y_c = (M + (b / l) K_l)^-1 M (A + (a / (dt D m)) Y)^-1 (x_c - Y y_w),
    y_w = M^-1 (x_w + C y_c).

Inside a bigger system (the (c_s, mu) split of the resolved electrode's fieldsplit,
femiec.problems.electrode_ch_particle) the same blocks appear with other row scales: the lithium rows
multiplied by alpha, the chemical-potential rows by beta (the w block is beta M), and the rate of a BDF2
step (1 + 2 w) / (1 + w) (x - ...) / dt with the step ratio w, so that dt above is the effective step
dt (1 + w) / (1 + 2 w). The factorisation is unchanged with A, Y scaled by alpha and C, M by beta: P1
comes from the blocks (scaled by alpha), and P2 is assembled as beta (M + (b / l) K_l) (``mass_scale`` =
beta), so that S^ = P1 M^-1 P2 is alpha times the S^ above. The chemical potential there may be
implicit in the concave enthalpy (C = M_h - (2 Omega / R T) M + K_l): the factorisation keeps C, S^ the
convex part of S.
"""
from __future__ import annotations

import numpy as np
from petsc4py import PETSc

from femiec.solvers.presets import amg_v_cycle


def schur_shifts(dt: float, diffusivity: float, length_squared: float, mobility_factor: float) -> tuple[float, float]:
    """The shifts (a, b) [m^2], a >= b, of S^ (module docstring) for dt [s], D [m^2/s], l = kappa / (R T)
    [m^2] and the mean c (1 - c) [-]: a + b = max(dt D, 2 sqrt(p)) and a b = p = l dt D m."""
    s, p = dt * diffusivity, length_squared * dt * diffusivity * mobility_factor
    if s * s < 4 * p:
        return float(np.sqrt(p)), float(np.sqrt(p))
    a = (s + np.sqrt(s * s - 4 * p)) / 2
    return float(a), float(p / a)


#: the options prefixes (under the PC's own) of the solves with M, P1 and P2 (one BoomerAMG V-cycle each unless
#: the options say otherwise)
BLOCK_SOLVES = ("block_M", "block_P1", "block_P2")




class CahnHilliardBlockPC:
    """petsc4py ``python`` PC of the blocked [c, w] Newton system (module docstring).

    Args:
        space: the P1 space of c and w (both blocks share it).
        c: the site fraction Function (the present Newton iterate).
        dt: the step Constant [s].
        kappa_over_RT: kappa / (R T) [m^2], a number or a (gdim, gdim) array.
        diffusivity: D [m^2/s], a number or a (gdim, gdim) array.
        prefix: options prefix of the problem's solver; the solves with M, P1 = A + (a / (dt D m)) Y and
            P2 = M + (b / l) K_l (one BoomerAMG V-cycle each) take options under ``<prefix>block_M_``,
            ``<prefix>block_P1_`` and ``<prefix>block_P2_``.
        step_ratio: the BDF2 step ratio w (a Constant; None: backward Euler), the effective step is
            dt (1 + w) / (1 + 2 w).
        mass_scale: beta [-], the w block of the operator is beta M (module docstring).
        index_sets: (is_c, is_w), the global index sets of the owned c and w dofs in the numbering of the
            PC's operator, each in the order of ``space``'s dofs; None: the blocks [c, w] contiguous on
            each rank.
    """

    def __init__(self, space, c, dt, kappa_over_RT, diffusivity, prefix: str = "femiec_", step_ratio=None,
                 mass_scale: float = 1.0, index_sets=None):
        import ufl
        from dolfinx import fem
        from dolfinx.fem import petsc as fem_petsc

        from femiec.forms.nernst_planck import apply_tensor

        self.space, self.c, self.dt, self.step_ratio = space, c, dt, step_ratio
        self.given_index_sets = index_sets
        gdim = space.mesh.geometry.dim
        self.length_squared = float(np.trace(np.atleast_2d(kappa_over_RT)) / (gdim if np.ndim(kappa_over_RT) else 1))
        self.diffusivity = float(np.trace(np.atleast_2d(diffusivity)) / (gdim if np.ndim(diffusivity) else 1))
        u, v = ufl.TrialFunction(space), ufl.TestFunction(space)
        kappa = fem.Constant(space.mesh, np.asarray(kappa_over_RT, dtype=float))
        self.shift = fem.Constant(space.mesh, 0.0)  # b / l [-]
        self.P2_form = fem.form(float(mass_scale) * (u * v * ufl.dx + self.shift * ufl.inner(
            apply_tensor(kappa, ufl.grad(u)), ufl.grad(v)) * ufl.dx))
        self.P2 = fem_petsc.create_matrix(self.P2_form)
        self._assemble = fem_petsc.assemble_matrix
        self.n = space.dofmap.index_map.size_local
        self.comm = space.mesh.comm
        self.size = space.dofmap.index_map.size_global
        self.ksp_M, self.ksp_1, self.ksp_2 = (amg_v_cycle(self.comm, f"{prefix}{solve}_") for solve in BLOCK_SOLVES)
        self.P1 = None
        self.blocks: dict[str, PETSc.Mat] = {}
        self.shifts = (0.0, 0.0)
        self.work: list[PETSc.Vec] | None = None

    def _index_sets(self, start: int):
        """Global index sets of the owned c and w dofs: the given ones, else the blocks [c, w] contiguous on
        each rank from ``start``."""
        if self.given_index_sets is not None:
            return self.given_index_sets
        return [PETSc.IS().createStride(self.n, first=start + i * self.n, step=1, comm=self.comm) for i in (0, 1)]

    def effective_step(self) -> float:
        """dt [s] of the rate (x - x_n) / dt the Jacobian holds: dt (1 + w) / (1 + 2 w) for BDF2."""
        dt = float(self.dt.value)
        if self.step_ratio is None:
            return dt
        w = float(self.step_ratio.value)
        return dt * (1 + w) / (1 + 2 * w)

    def setUp(self, pc) -> None:
        """Extract the blocks A, Y, -C and M of the Jacobian, compute the shifts and set up the three AMG
        hierarchies."""
        J, _ = pc.getOperators()
        self.is_c, self.is_w = self._index_sets(J.getOwnershipRange()[0])
        for name, (rows, cols) in {"A": (self.is_c, self.is_c), "Y": (self.is_c, self.is_w),
                                   "C": (self.is_w, self.is_c), "M": (self.is_w, self.is_w)}.items():
            self.blocks[name] = J.createSubMatrix(rows, cols, submat=self.blocks.get(name))
        owned = self.c.x.array[: self.n]
        mobility_factor = self.comm.allreduce(float(np.sum(owned * (1 - owned)))) / self.size
        dt = self.effective_step()
        a, b = self.shifts = schur_shifts(dt, self.diffusivity, self.length_squared, mobility_factor)
        self.P1 = self.blocks["A"].copy(result=self.P1)
        self.P1.axpy(a / (dt * self.diffusivity * mobility_factor), self.blocks["Y"],
                     structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
        if self.shift.value != b / self.length_squared:
            self.shift.value = b / self.length_squared
            self.P2.zeroEntries()
            self._assemble(self.P2, self.P2_form)
            self.P2.assemble()
        for ksp, P in ((self.ksp_M, self.blocks["M"]), (self.ksp_1, self.P1), (self.ksp_2, self.P2)):
            ksp.setOperators(P)
            ksp.setFromOptions()
            ksp.setUp()
        if self.work is None:
            self.work = [self.blocks["M"].createVecLeft() for _ in range(3)]

    def apply(self, pc, x, y) -> None:
        """y = P^-1 x, the block factorisation with S^-1 = P2^-1 M P1^-1, P1 = A + (a / (dt D m)) Y and
        P2 = M + (b / l) K_l (module docstring)."""
        t1, t2, t3 = self.work
        x_c, x_w = x.getSubVector(self.is_c), x.getSubVector(self.is_w)
        y_c, y_w = y.getSubVector(self.is_c), y.getSubVector(self.is_w)
        self.ksp_M.solve(x_w, y_w)                      # y_w = M^-1 x_w
        self.blocks["Y"].mult(y_w, t1)
        t1.aypx(-1.0, x_c)                              # t1 = x_c - Y M^-1 x_w
        self.ksp_1.solve(t1, t2)                        # P1^-1
        self.blocks["M"].mult(t2, t3)                   # M
        self.ksp_2.solve(t3, y_c)                       # P2^-1
        self.blocks["C"].mult(y_c, t1)                  # t1 = -C y_c (the block holds -C)
        t1.aypx(-1.0, x_w)                              # t1 = x_w + C y_c
        self.ksp_M.solve(t1, y_w)
        x.restoreSubVector(self.is_c, x_c)
        x.restoreSubVector(self.is_w, x_w)
        y.restoreSubVector(self.is_c, y_c)
        y.restoreSubVector(self.is_w, y_w)
