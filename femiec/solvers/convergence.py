"""Newton convergence tests as objects: the rules of one problem and the state of the present solve.

:class:`UpdateConvergence` judges Newton on the update of the (dimensionless) unknowns rather than on the
residual, whose floor lies at round-off of a size that depends on the system and on its partition. Give
an instance to :class:`femiec.solvers.NonlinearSolver` (``convergence_test=``); it is called by PETSc at
every Newton iteration k = 0, 1, ... with the 2-norm of the residual r_k = ||F(u_k)||_2, and reads the
update dx_k = u_k - u_(k-1) and the tolerances snes_atol, snes_rtol, snes_max_it of the SNES (so
``-<prefix>snes_atol`` and friends still apply). Its state (the previous update and the residuals of the
present solve) is reset at k = 0, so one instance serves every solve of its solver.
"""
from __future__ import annotations

import math

from petsc4py import PETSc


#: iterations in a row in which a whole Newton step passes the update test but not the residual test, after
#: which :class:`UpdateConvergence` declares Newton stalled
STALLED_ITERATIONS = 3


class UpdateConvergence:
    """Newton convergence test on the max-norm of the update of the unknowns.

    Rules, tried in this order at iteration k (|.| the max-norm over all ranks, r_k the residual 2-norm):

    1. r_k not finite -> diverged (DIVERGED_FNORM_NAN).
    2. k >= 1, update test: e_k <= ``update_tolerance`` -> converged (CONVERGED_SNORM_RELATIVE), where
       the error estimate e_k is |dx_k|, or with ``error_estimate`` (Deuflhard) and the contraction
       theta_k = |dx_k| / |dx_(k-1)| <= ``contraction_limit``: e_k = |dx_k| theta_k / (1 - theta_k), the
       error of u_k left by a Newton iteration that contracts by theta_k (in the quadratic phase this
       saves the last iteration, whose update would only confirm a converged state). At k = 1 there is
       no theta_1; with ``remember_contraction`` the estimate takes the first contraction theta_2 =
       |dx_2| / |dx_1| measured in an earlier solve (``first_step`` = (|dx_1|, theta_2) of the last solve
       that reached k = 2), scaled as Newton's quadratic phase scales it with the first update:
       theta^ = theta_2 max(1, |dx_1| / |dx_1|_then), e_1 = |dx_1| theta^ / (1 - theta^) when theta^ <=
       ``contraction_limit`` (time stepping, where each solve starts close to its solution and the
       solves resemble each other: a step then takes one Newton iteration instead of two). With
       ``full_step`` the test counts only when ``full_step()`` is True (the last update was the whole
       Newton step: a step shortened by a damping or bounds rule is small because it was shortened, not
       because Newton converged); with ``residual_weights`` (a Vec W of the residual's layout) it also
       needs the scaled residual max_i |W_i r_i| <= ``residual_tolerance``; when a whole step passes the
       update test but not the residual one in ``STALLED_ITERATIONS`` iterations in a row, Newton has
       stalled at a round-off floor above the tolerance -> diverged (DIVERGED_LOCAL_MIN), so that the
       caller can retry (a shorter time step) instead of iterating to snes_max_it.
    3. k >= 1 and ``relative_residual``: r_k <= snes_rtol r_0 -> converged (CONVERGED_FNORM_RELATIVE).
    4. k >= 1 and ``stagnation`` = (s_dx, s_r): |dx_k| <= s_dx and r_k <= s_r r_0 and r_k > r_(k-1) / 2
       -> converged (CONVERGED_SNORM_RELATIVE): Newton has stalled at the round-off floor of a badly
       conditioned system (thin layers on strongly graded meshes).
    5. absolute residual floor: r_k <= snes_atol -> converged (CONVERGED_FNORM_ABS). It comes after the
       update rules so that it only decides where they cannot (k = 0: an initial state that already
       solves the equations): near round-off r_k differs between partitions, the updates do not.
    6. k >= snes_max_it -> diverged (DIVERGED_MAX_IT); else iterate.

    Args:
        update_tolerance: tolerance of the error estimate e_k, in the units of the unknowns (dimensionless
            for femiec's scaled problems).
        error_estimate: use the Deuflhard estimate e_k = |dx_k| theta_k / (1 - theta_k) when theta_k <=
            ``contraction_limit`` (else e_k = |dx_k|).
        contraction_limit: largest theta_k at which the estimate is trusted (default 1/2).
        remember_contraction: estimate e_1 from the first contraction of an earlier solve (rule 2); the
            memory is forgotten when a solve diverges and can be set (``first_step``), e.g. from a
            checkpoint.
        relative_residual: apply rule 3 (snes_rtol of the SNES).
        stagnation: None, or (s_dx, s_r) of rule 4.
        full_step: None, or a callable -> bool of rule 2 (e.g. a line-search pre-check's record).
        residual_weights, residual_tolerance: W and its tolerance of rule 2 (W may be set after
            construction, once the solver's vectors exist).
    """

    def __init__(self, update_tolerance: float, *, error_estimate: bool = False, contraction_limit: float = 0.5,
                 relative_residual: bool = False, stagnation: tuple[float, float] | None = None,
                 full_step=None, residual_weights=None, residual_tolerance: float = 0.0,
                 remember_contraction: bool = False):
        self.update_tolerance = float(update_tolerance)
        self.error_estimate = error_estimate
        self.contraction_limit = float(contraction_limit)
        self.remember_contraction = remember_contraction
        self.first_step: tuple[float, float] | None = None  # (|dx_1|, theta_2) of an earlier solve
        self.relative_residual = relative_residual
        self.stagnation = stagnation
        self.full_step = full_step
        self.residual_weights, self.residual_tolerance = residual_weights, float(residual_tolerance)
        self._scaled = None  # work vector W r
        self.untrusted = 0  # iterations in a row that passed the update test only
        self.residuals: list[float] = []  # r_0, ..., r_k of the present solve
        self.last_update: float | None = None  # |dx_k| of the last iteration

    def reset(self) -> None:
        """Forget the present solve (done at k = 0)."""
        self.residuals = []
        self.last_update = None
        self.untrusted = 0

    def error(self, update: float, iteration: int) -> float:
        """e_k from |dx_k| = ``update`` and the stored |dx_(k-1)| (k = ``iteration``), or at k = 1 from the
        remembered first contraction; stores |dx_k| (and at k = 2 the first contraction)."""
        previous, self.last_update = self.last_update, update
        theta = None
        if self.error_estimate and previous:
            theta = update / previous
            if iteration == 2 and self.remember_contraction:
                self.first_step = (previous, theta)
        elif self.error_estimate and iteration == 1 and self.remember_contraction and self.first_step:
            first_update, first_contraction = self.first_step
            theta = first_contraction * max(1.0, update / first_update) if first_update > 0 else None
        if theta is not None and theta <= self.contraction_limit:
            return update * theta / (1 - theta)
        return update

    def scaled_residual(self, snes) -> float:
        """max_i |W_i r_i| of the present residual r (all ranks)."""
        residual = snes.getFunction()[0]
        if self._scaled is None:
            self._scaled = residual.duplicate()
        self._scaled.pointwiseMult(self.residual_weights, residual)
        return self._scaled.norm(PETSc.NormType.NORM_INFINITY)

    def trusted(self, snes) -> bool:
        """Whether a small update means convergence: a whole Newton step (``full_step``) and a small
        scaled residual (``residual_weights``), where set."""
        if self.full_step is not None and not self.full_step():
            return False
        return self.residual_weights is None or self.scaled_residual(snes) <= self.residual_tolerance

    def __call__(self, snes, iteration: int, norms) -> int:
        """PETSc's convergence-test callback; ``norms`` = (||u||_2, ||dx||_2, ||F||_2)."""
        residual = float(norms[2])
        if iteration == 0:
            self.reset()
        self.residuals.append(residual)
        reason = self._judge(snes, iteration, residual)
        if reason < 0:
            self.first_step = None  # a diverging solve measures nothing to trust
        return reason

    def _judge(self, snes, iteration: int, residual: float) -> int:
        reasons = PETSc.SNES.ConvergedReason
        rtol, atol, _, max_it = snes.getTolerances()
        if not math.isfinite(residual):
            return reasons.DIVERGED_FNORM_NAN
        if iteration > 0:
            update = snes.getSolutionUpdate().norm(PETSc.NormType.NORM_INFINITY)
            first, previous = self.residuals[0], self.residuals[-2]
            if self.error(update, iteration) <= self.update_tolerance:
                if self.trusted(snes):
                    return reasons.CONVERGED_SNORM_RELATIVE
                if self.full_step is None or self.full_step():
                    self.untrusted += 1
                    if self.untrusted >= STALLED_ITERATIONS:
                        return reasons.DIVERGED_LOCAL_MIN
            else:
                self.untrusted = 0
            if self.relative_residual and residual <= rtol * first:
                return reasons.CONVERGED_FNORM_RELATIVE
            if self.stagnation is not None:
                s_dx, s_r = self.stagnation
                if update <= s_dx and residual <= s_r * first and residual > 0.5 * previous:
                    return reasons.CONVERGED_SNORM_RELATIVE
        if residual <= atol:
            return reasons.CONVERGED_FNORM_ABS
        if iteration >= max_it:
            return reasons.DIVERGED_MAX_IT
        return reasons.ITERATING
