"""Distribution of relaxation times (femiec.studies.drt). Oracle: an ideal R || C element is a DRT peak
of area R at tau = R C, a series resistance is R_inf and a series capacitor 1/(i omega C) is the fitted
C; spectra in closed form, 10 frequencies per decade from 10 mHz to 100 kHz."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.errors import InputError
from femiec.studies.drt import fit_drt

# pure NumPy, but every recorded number must also come back on 2 ranks (scripts/compare_numbers.py)
pytestmark = pytest.mark.mpi

F = np.logspace(-2, 5, 71)
OMEGA = 2 * np.pi * F


def rc(R, tau):
    return R / (1 + 1j * OMEGA * tau)


def test_one_rc(numbers):
    drt = fit_drt(F, 2.0 + rc(10.0, 1e-3))
    (peak,) = drt.peaks()
    assert abs(peak.tau / 1e-3 - 1) < 0.05 and abs(peak.area / 10.0 - 1) < 0.05
    assert abs(drt.R_inf / 2.0 - 1) < 0.01 and drt.C is None and drt.L == 0.0
    assert drt.residual < 1e-2
    numbers.record("tau_rel_error", peak.tau / 1e-3 - 1)
    numbers.record("area_rel_error", peak.area / 10.0 - 1)
    numbers.record("R_inf_rel_error", drt.R_inf / 2.0 - 1)
    numbers.record("residual", drt.residual)


def test_two_rc_a_decade_and_a_half_apart(numbers):
    tau2 = 1e-3 * 10**1.5
    drt = fit_drt(F, 2.0 + rc(10.0, 1e-3) + rc(5.0, tau2))
    peaks = drt.peaks()
    assert len(peaks) == 2
    for peak, tau, R in zip(peaks, (1e-3, tau2), (10.0, 5.0)):
        assert abs(peak.tau / tau - 1) < 0.05 and abs(peak.area / R - 1) < 0.05
    assert abs(drt.R_inf / 2.0 - 1) < 0.01
    numbers.record("tau_rel_errors", [p.tau / t - 1 for p, t in zip(peaks, (1e-3, tau2))])
    numbers.record("area_rel_errors", [p.area / R - 1 for p, R in zip(peaks, (10.0, 5.0))])


def test_blocking_spectrum_with_series_capacitance(numbers):
    drt = fit_drt(F, 5.0 + rc(10.0, 1e-3) + 1 / (1j * OMEGA * 1e-2), capacitance=True)
    (peak,) = drt.peaks()
    assert abs(drt.C / 1e-2 - 1) < 0.02
    assert abs(peak.tau / 1e-3 - 1) < 0.05 and abs(peak.area / 10.0 - 1) < 0.05
    assert abs(drt.R_inf / 5.0 - 1) < 0.01
    numbers.record("C_rel_error", drt.C / 1e-2 - 1)
    numbers.record("area_rel_error", peak.area / 10.0 - 1)


def test_noisy_rc_inductance_and_fixed_lambda(numbers):
    """1 % multiplicative complex noise (seed 0); a 1 uH series inductance (noise-free); then a fixed
    lambda with the first-derivative penalty."""
    rng = np.random.default_rng(0)
    z = (2.0 + rc(10.0, 1e-3)) * (1 + 0.01 * (rng.normal(size=F.size) + 1j * rng.normal(size=F.size)))
    drt = fit_drt(F, z)
    main = max(drt.peaks(), key=lambda p: p.area)
    assert abs(main.tau / 1e-3 - 1) < 0.05 and abs(main.area / 10.0 - 1) < 0.05
    inductive = fit_drt(F, 2.0 + rc(10.0, 1e-3) + 1j * OMEGA * 1e-6, inductance=True)
    assert abs(inductive.L / 1e-6 - 1) < 0.02 and abs(inductive.R_inf / 2.0 - 1) < 0.01
    smooth = fit_drt(F, 2.0 + rc(10.0, 1e-3), regularization=1e-3, penalty="first")
    assert smooth.regularization == 1e-3 and abs(smooth.polarization_resistance() / 10.0 - 1) < 0.02
    np.testing.assert_allclose(smooth.impedance(F), 2.0 + rc(10.0, 1e-3), rtol=0.05)
    numbers.record("noisy_tau_rel_error", main.tau / 1e-3 - 1)
    numbers.record("noisy_area_rel_error", main.area / 10.0 - 1)
    numbers.record("L_rel_error", inductive.L / 1e-6 - 1)


@pytest.mark.parametrize("kwargs, key", [(dict(regularization=-1.0), "regularization"),
                                         (dict(regularization="lcurve"), "regularization"),
                                         (dict(penalty="third"), "penalty"),
                                         (dict(points_per_decade=1), "points_per_decade")])
def test_refusals(kwargs, key):
    with pytest.raises(InputError, match=f"^{key}:"):
        fit_drt(F, 2.0 + rc(10.0, 1e-3), **kwargs)
    with pytest.raises(InputError, match="^spectrum:"):
        fit_drt(F[:4], rc(10.0, 1e-3)[:4])
