"""Closed forms of femiec.analytic.homogenization."""
from __future__ import annotations

import pytest

from femiec.analytic.homogenization import (bruggeman_exponent, bruggeman_ratio, hashin_shtrikman_bounds,
                                            hashin_shtrikman_upper_insulating, rayleigh_simple_cubic)


def test_rayleigh_reproduces_the_published_values():
    """McKenzie, McPhedran & Derrick (1978), insulating spheres in a simple cubic array."""
    assert [round(rayleigh_simple_cubic(f), 5) for f in (0.1, 0.2, 0.3)] == [0.85711, 0.72670, 0.60566]
    assert rayleigh_simple_cubic(0.0) == 1.0
    assert rayleigh_simple_cubic(0.2, sphere_conductivity=3.0, matrix_conductivity=3.0) == 3.0
    assert rayleigh_simple_cubic(0.2, sphere_conductivity=10.0) > 1.0
    with pytest.raises(ValueError):
        rayleigh_simple_cubic(0.6)


def test_hashin_shtrikman_two_phase_forms():
    k1, k2, f1 = 3.0, 1.0, 0.4
    lower, upper = hashin_shtrikman_bounds([k1, k2], [f1, 1 - f1])
    assert upper == pytest.approx(k1 + (1 - f1) / (1 / (k2 - k1) + f1 / (3 * k1)))
    assert lower == pytest.approx(k2 + f1 / (1 / (k1 - k2) + (1 - f1) / (3 * k2)))
    assert hashin_shtrikman_bounds([1.0, 0.0], [0.4, 0.6]) == pytest.approx((0.0, 2 * 0.4 / (3 - 0.4)))
    assert hashin_shtrikman_upper_insulating(0.4) == pytest.approx(2 * 0.4 / 2.6)


def test_bruggeman_exponent_inverts_the_relation():
    assert bruggeman_exponent(0.3, bruggeman_ratio(0.3, 1.7)) == pytest.approx(1.7)
    assert bruggeman_exponent(0.3, 0.0) is None
    assert bruggeman_exponent(1.0, 1.0) is None
