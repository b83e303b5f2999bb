"""Variable-step BDF-k coefficients and orders (femiec.forms.time: bdf_coefficients, bdf_order, bdf)."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.forms.time import (BDF2_MAX_RATIO, BDF3_MAX_RATIO, bdf, bdf2_coefficients, bdf_coefficients,
                               bdf_order)


@pytest.mark.parametrize("steps", [(0.3,), (0.3, 0.2), (0.3, 0.2, 0.5), (1.0, 2.0, 0.25)])
def test_coefficients_differentiate_polynomials_of_their_order_exactly(steps):
    """Oracle: BDF-k is the derivative at t_{n+1} of the interpolant through k + 1 points, so it is exact
    for every polynomial of degree <= k: sum_j a_j p(t_{n+1-j}) / dt = p'(t_{n+1}) for p = 1, t, ..., t^k
    (to 1e-12), and the coefficients sum to zero."""
    k, dt = len(steps), steps[0]
    times = np.concatenate([[0.0], -np.cumsum(steps)])
    a = bdf_coefficients(steps)
    assert len(a) == k + 1
    assert sum(a) == pytest.approx(0.0, abs=1e-12)
    for degree in range(1, k + 1):
        derivative = sum(a_j * t ** degree for a_j, t in zip(a, times)) / dt
        assert derivative == pytest.approx(1.0 if degree == 1 else 0.0, abs=1e-12)


def test_constant_step_coefficients_and_bdf2_agree():
    """Oracle: the textbook constant-step BDF3 (11/6, -3, 3/2, -1/3) and BDF2 (3/2, -2, 1/2); with step
    ratio w the variable-step BDF2 of ``bdf2_coefficients``; padding with zeros to ``size``."""
    assert bdf_coefficients([1.0, 1.0, 1.0]) == pytest.approx([11 / 6, -3, 3 / 2, -1 / 3])
    assert bdf_coefficients([1.0, 1.0]) == pytest.approx([3 / 2, -2, 1 / 2])
    for w in (0.3, 1.0, 2.2):
        assert bdf_coefficients([w, 1.0]) == pytest.approx(list(bdf2_coefficients(w)), rel=1e-14)
    assert bdf_coefficients([2.0], 4) == [1.0, -1.0, 0.0, 0.0]
    assert bdf([4.0, 1.0, 0.0], [1.5, -2.0, 0.5], 2.0) == pytest.approx(2.0)


def test_order_rises_with_the_history_and_falls_where_a_ratio_exceeds_its_bound():
    """Oracle: the order is the number of steps known (capped by ``max_order``) unless a step ratio
    reaches the stability bound of that order (BDF2: 1 + sqrt(2), BDF3: 2.553), then the highest order
    whose ratios are below their bounds (a ratio of 2.5 is stable for BDF3, not for BDF2)."""
    assert bdf_order(1.0, [], 3) == 1
    assert bdf_order(1.0, [0.9], 3) == 2
    assert bdf_order(1.0, [0.9, 0.8], 3) == 3
    assert bdf_order(1.0, [0.9, 0.8], 2) == 2
    assert bdf_order(1.0, [0.9, 0.8], 1) == 1
    assert bdf_order(BDF2_MAX_RATIO, [1.0], 3) == 1
    assert bdf_order(2.5, [1.0, 0.9], 3) == 3
    assert bdf_order(2.5, [1.0, 0.9], 2) == 1
    assert bdf_order(1.0, [0.9, 0.9 / BDF3_MAX_RATIO], 3) == 2
