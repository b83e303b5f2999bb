"""Linear Kramers–Kronig test (femiec.studies.kramers_kronig, Schönleber et al. 2014). Oracles: spectra
of passive circuits in closed form satisfy Kramers–Kronig and pass (max |Delta| < 1e-3); a spectrum
whose imaginary part is scaled by 1.3 above the middle frequency, or with a resistance drifting over the
sweep, does not (max |Delta| > 1e-2). 10 frequencies per decade, 10 mHz .. 100 kHz."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.errors import InputError
from femiec.studies.kramers_kronig import lin_kk

# pure NumPy, but every recorded number must also come back on 2 ranks (scripts/compare_numbers.py)
pytestmark = pytest.mark.mpi

F = np.logspace(-2, 5, 71)
OMEGA = 2 * np.pi * F
M_COMPUTED = 35  # 5 per decade: the number of Voigt elements for noise-free spectra (module docstring)


def randles():
    """R_s + 1/(i omega C_dl + 1/(R_ct + Z_W)), finite (transmissive) Warburg Z_W = R_W tanh(s)/s,
    s = sqrt(i omega tau_W): R_s = 2, R_ct = 10, R_W = 5 Ohm, C_dl = 10 uF, tau_W = 1 s."""
    s = np.sqrt(1j * OMEGA * 1.0)
    return 2.0 + 1.0 / (1j * OMEGA * 1e-5 + 1.0 / (10.0 + 5.0 * np.tanh(s) / s))


def test_randles_with_finite_warburg_passes(numbers):
    result = lin_kk(F, randles(), M=M_COMPUTED)
    assert result.M == M_COMPUTED and result.max_residual < 1e-3
    assert abs(result.R_0 + result.R.sum() - 17.0) < 1e-2  # Z(0) = R_s + R_ct + R_W
    numbers.record("max_residual", result.max_residual)
    mu_choice = lin_kk(F, randles())  # the mu criterion stops early on this sharp spectrum (docstring)
    numbers.record("mu_criterion_M", mu_choice.M)
    numbers.record("mu_criterion_max_residual", mu_choice.max_residual)


def two_zarc():
    """R_0 + two ZARC elements R/(1 + (i omega tau)^phi): a smooth distribution of time constants."""
    return 2.0 + 10.0 / (1 + (1j * OMEGA * 1e-3) ** 0.8) + 5.0 / (1 + (1j * OMEGA * 1e-1) ** 0.7)


def test_mu_criterion_on_a_smooth_spectrum(numbers):
    """The mu criterion alone gives a passing fit of :func:`two_zarc`."""
    result = lin_kk(F, two_zarc())
    assert result.mu <= 0.85 and result.max_residual < 1e-3
    numbers.record("M", result.M)
    numbers.record("max_residual", result.max_residual)


@pytest.mark.parametrize("spectrum, M", [(randles, M_COMPUTED), (two_zarc, None)])
def test_non_causal_spectra_fail(spectrum, M, numbers):
    scaled = spectrum()
    upper = F > np.median(F)
    scaled[upper] = scaled[upper].real + 1.3j * scaled[upper].imag
    elapsed = np.cumsum(1.0 / F[::-1])[::-1]  # sweep from high to low frequency, one period per point
    drifting = spectrum() + 1.0 * elapsed / elapsed.max()  # +1 Ohm (6 % of Z(0)) over the sweep
    for name, z in (("scaled", scaled), ("drift", drifting)):
        result = lin_kk(F, z, M=M)
        assert result.max_residual > 1e-2
        numbers.record(f"{name}_max_residual", result.max_residual)


def test_blocking_spectrum_passes_with_series_capacitance(numbers):
    """De Levie pore with capacitive walls in series with 1 Ohm: Z = R_s + sqrt(r z) coth sqrt(r/z),
    z = 1/(i omega C), r = 10 Ohm, C = 1 mF; at low frequency R_s + r/3 + 1/(i omega C)."""
    wall = 1.0 / (1j * OMEGA * 1e-3)
    z = 1.0 + np.sqrt(10.0 * wall) / np.tanh(np.sqrt(10.0 / wall))
    result = lin_kk(F, z, M=M_COMPUTED, capacitance=True)
    assert result.max_residual < 1e-3 and abs(result.C / 1e-3 - 1) < 1e-3
    assert lin_kk(F, z, M=M_COMPUTED).max_residual > 1e-2  # without the series capacitance
    numbers.record("max_residual", result.max_residual)
    numbers.record("C_rel_error", result.C / 1e-3 - 1)


def test_inductive_tail_and_refusals():
    z = randles() + 1j * OMEGA * 1e-6
    result = lin_kk(F, z, M=M_COMPUTED, inductance=True)
    assert result.max_residual < 1e-3 and abs(result.L / 1e-6 - 1) < 1e-2
    with pytest.raises(InputError, match="^M:"):
        lin_kk(F, z, M=0)
    with pytest.raises(InputError, match="^c:"):
        lin_kk(F, z, c=1.5)
    with pytest.raises(InputError, match="^spectrum:"):
        lin_kk(F, z * np.nan)
