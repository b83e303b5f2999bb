"""UpdateConvergence (femiec.solvers.convergence): each rule on a scripted Newton history, the order in
which the rules decide, and the per-solve state reset at iteration 0."""
import math

import pytest

pytest.importorskip("dolfinx")

from petsc4py import PETSc  # noqa: E402

from femiec.solvers import UpdateConvergence  # noqa: E402

REASONS = PETSc.SNES.ConvergedReason


class _Update:
    def __init__(self, value):
        self.value = value

    def norm(self, norm_type):
        assert norm_type == PETSc.NormType.NORM_INFINITY
        return self.value


class ScriptedSNES:
    """The part of a PETSc SNES the test reads: tolerances and the max-norm of the last update."""

    def __init__(self, rtol=1e-20, atol=1e-14, max_it=30):
        self.tolerances = (rtol, atol, 0.0, max_it)
        self.update = None

    def getTolerances(self):
        return self.tolerances

    def getSolutionUpdate(self):
        return _Update(self.update)


def run(test, snes, residuals, updates):
    """Call ``test`` at k = 0, 1, ... with r_k = residuals[k] and |dx_k| = updates[k - 1] until it stops
    iterating; returns (k, reason)."""
    for k, residual in enumerate(residuals):
        snes.update = updates[k - 1] if k > 0 else None
        reason = test(snes, k, (1.0, 0.0, residual))
        if reason != REASONS.ITERATING:
            return k, reason
    return None, REASONS.ITERATING


def test_update_norm_rule():
    """e_k = |dx_k| <= tol converges; the residual (far above snes_atol) plays no part."""
    test = UpdateConvergence(1e-10)
    assert run(test, ScriptedSNES(), [1.0] * 4, [1e-3, 1e-7, 1e-11]) == (3, REASONS.CONVERGED_SNORM_RELATIVE)


def test_deuflhard_estimate_saves_the_last_iteration():
    """|dx| = 1.45e-3, 2.47e-7: theta = 1.7e-4, e = 2.47e-7 theta / (1 - theta) = 4.2e-11 <= 1e-10 at k = 2
    (the measured NPP step of test_npp_case_step_rejection); the plain update rule needs k = 3."""
    updates = [1.45e-3, 2.47e-7, 9e-15]
    estimate = UpdateConvergence(1e-10, error_estimate=True)
    assert run(estimate, ScriptedSNES(), [1.0] * 4, updates) == (2, REASONS.CONVERGED_SNORM_RELATIVE)
    plain = UpdateConvergence(1e-10)
    assert run(plain, ScriptedSNES(), [1.0] * 4, updates) == (3, REASONS.CONVERGED_SNORM_RELATIVE)


def test_estimate_not_trusted_above_the_contraction_limit():
    """theta = 0.6 > 1/2: e_k = |dx_k| (the estimate 1.5 |dx_k| is not used, nor a smaller one)."""
    test = UpdateConvergence(1e-10, error_estimate=True)
    test.reset()
    assert test.error(1e-9, 1) == 1e-9
    assert test.error(0.6e-9, 2) == 0.6e-9
    assert test.error(0.1e-9, 3) == pytest.approx(0.1e-9 * (1 / 6) / (1 - 1 / 6))


def test_remembered_contraction_ends_a_solve_after_one_iteration():
    """A 1C discharge step of the 32^3 electrode (tol 9.7e-4 = 0.05 x 0.5 mV / V_T): |dx_1| = 0.0756,
    |dx_2| = 2.30e-4, theta_2 = 3.04e-3. Remembered, the next solve's |dx_1| = 0.0761 gives theta^ =
    theta_2 x 0.0761 / 0.0756 = 3.06e-3 and e_1 = 0.0761 theta^ / (1 - theta^) = 2.34e-4 <= tol: one
    iteration. Without the memory, and after a diverged solve, the same solve takes two; a first update
    4x larger (theta^ 0.0122, e_1 = 3.8e-3) takes two as well."""
    tol = 9.7e-4
    test = UpdateConvergence(tol, error_estimate=True, remember_contraction=True)
    assert run(test, ScriptedSNES(), [1.0] * 4, [0.0756, 2.30e-4]) == (2, REASONS.CONVERGED_SNORM_RELATIVE)
    assert test.first_step == pytest.approx((0.0756, 2.30e-4 / 0.0756))
    test.reset()
    assert test.error(0.0761, 1) == pytest.approx(0.0761 * 3.0615e-3 / (1 - 3.0615e-3), rel=1e-3)
    assert run(test, ScriptedSNES(), [1.0] * 4, [0.0761, 2.3e-4]) == (1, REASONS.CONVERGED_SNORM_RELATIVE)
    assert run(test, ScriptedSNES(), [1.0] * 4, [4 * 0.0756, 1e-3]) == (2, REASONS.CONVERGED_SNORM_RELATIVE)
    plain = UpdateConvergence(tol, error_estimate=True)
    assert run(plain, ScriptedSNES(), [1.0] * 4, [0.0756, 2.30e-4]) == (2, REASONS.CONVERGED_SNORM_RELATIVE)
    assert plain.first_step is None
    assert run(plain, ScriptedSNES(), [1.0] * 4, [0.0761, 2.3e-4]) == (2, REASONS.CONVERGED_SNORM_RELATIVE)
    assert run(test, ScriptedSNES(), [1.0, math.nan], [0.5]) == (1, REASONS.DIVERGED_FNORM_NAN)
    assert test.first_step is None
    assert run(test, ScriptedSNES(), [1.0] * 4, [0.0761, 2.3e-4]) == (2, REASONS.CONVERGED_SNORM_RELATIVE)


def test_relative_residual_rule_only_when_asked():
    """r_k <= snes_rtol r_0 converges with relative_residual, not without."""
    snes = ScriptedSNES(rtol=1e-6)
    residuals, updates = [1.0, 1e-3, 1e-7, 1e-7], [1e-1, 1e-2, 1e-3]
    assert run(UpdateConvergence(1e-10, relative_residual=True), snes, residuals, updates) == (
        2, REASONS.CONVERGED_FNORM_RELATIVE)
    assert run(UpdateConvergence(1e-10), snes, residuals, updates) == (None, REASONS.ITERATING)


def test_stagnation_rule():
    """|dx_k| <= s_dx, r_k <= s_r r_0 and r_k > r_(k-1) / 2: converged; while r_k still halves it iterates."""
    test = UpdateConvergence(1e-12, stagnation=(1e-6, 1e-6))
    halving = [1.0, 1e-8, 4e-9, 1.9e-9]  # r_k <= r_(k-1) / 2: Newton still makes progress
    assert run(test, ScriptedSNES(), halving, [1e-7] * 3) == (None, REASONS.ITERATING)
    stalled = [1.0, 1e-8, 0.9e-8]
    assert run(test, ScriptedSNES(), stalled, [1e-7] * 2) == (2, REASONS.CONVERGED_SNORM_RELATIVE)
    assert run(test, ScriptedSNES(), stalled, [1e-5] * 2) == (None, REASONS.ITERATING)  # update too large
    assert run(UpdateConvergence(1e-12), ScriptedSNES(), stalled, [1e-7] * 2) == (None, REASONS.ITERATING)


def test_absolute_residual_floor_after_the_update_rules():
    """r_0 <= snes_atol converges at k = 0 (CONVERGED_FNORM_ABS); at k >= 1 the update rule decides first,
    so the reason does not hinge on a residual at round-off."""
    test = UpdateConvergence(1e-10, error_estimate=True)
    assert run(test, ScriptedSNES(atol=1e-14), [1e-15], []) == (0, REASONS.CONVERGED_FNORM_ABS)
    assert run(test, ScriptedSNES(atol=1e-14), [1.0, 1e-15], [1e-11]) == (1, REASONS.CONVERGED_SNORM_RELATIVE)
    assert run(test, ScriptedSNES(atol=1e-14), [1.0, 1e-15], [1e-3]) == (1, REASONS.CONVERGED_FNORM_ABS)


def test_nan_and_max_iterations_diverge():
    test = UpdateConvergence(1e-10)
    assert run(test, ScriptedSNES(), [1.0, math.nan], [1e-3]) == (1, REASONS.DIVERGED_FNORM_NAN)
    assert run(test, ScriptedSNES(max_it=3), [1.0] * 5, [1e-3] * 4) == (3, REASONS.DIVERGED_MAX_IT)


def test_state_is_reset_between_solves():
    """The second solve starts afresh at k = 0: its first update (1e-9 > tol) is not compared with the last
    update of the first solve (1e-7, which would give theta = 1e-2 and e = 1e-11 <= tol at k = 1)."""
    test = UpdateConvergence(1e-10, error_estimate=True)
    snes = ScriptedSNES()
    assert run(test, snes, [1.0] * 3, [1e-3, 1e-7]) == (2, REASONS.CONVERGED_SNORM_RELATIVE)
    assert test.last_update == 1e-7 and test.residuals == [1.0] * 3
    assert test(snes, 0, (1.0, 0.0, 2.0)) == REASONS.ITERATING
    assert test.last_update is None and test.residuals == [2.0]
    snes.update = 1e-9
    assert test(snes, 1, (1.0, 0.0, 1.0)) == REASONS.ITERATING
    assert test.last_update == 1e-9
