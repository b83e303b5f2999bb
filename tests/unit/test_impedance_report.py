"""The analyses an impedance study reports (femiec.studies.report) on closed-form spectra
(femiec.analytic.impedance): a Randles sphere (resistive low-frequency end) and a blocking de Levie pore
(capacitive end). Oracles: a causal spectrum passes the lin-KK test of Schönleber et al. 2014 (max
residual <= 1e-3), a spectrum with its upper-half imaginary part scaled by 1.3 or a 3% drift fails it;
the DRT of the Randles sphere has its charge-transfer peak at tau = R_ct C_dl within 5%."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from femiec.analytic.impedance import charge_transfer_resistance, de_levie_pore, randles_sphere
from femiec.studies.report import analyse, capacitive, kk_elements

F = np.logspace(-3, 5, 49)  # Hz, 6 per decade, like the demo
OMEGA = 2 * np.pi * F
R_CT = charge_transfer_resistance(2.0, 298.15)  # Ohm m^2
C_DL = 0.2  # F/m^2


def _randles():
    """A 5 um NMC-like sphere: D = 1e-14 m^2/s, dU/dc = -5e-5 V m^3/mol, i0 = 2 A/m^2, C_dl = 0.2 F/m^2."""
    return randles_sphere(OMEGA, 5e-6, 1e-14, -5e-5, 2.0, C_DL, 298.15)


def _spectra():
    return {"randles": _randles(), "de_levie": de_levie_pore(OMEGA, 1.0, 1e-12, 4e-6, 1e-4, C_DL)}


def test_capacitive_end_detected():
    spectra = _spectra()
    assert capacitive(F, spectra["de_levie"])
    assert not capacitive(F, 1.0 + 1 / (1j * OMEGA * 1e-3 + 1 / 10.0))  # an RC arc closes on the real axis
    assert kk_elements(F) == 45


@pytest.mark.mpi
@pytest.mark.parametrize("name", ["randles", "de_levie"])
def test_causal_spectra_pass_and_broken_ones_fail(name, numbers):
    Z = _spectra()[name]
    good = analyse(F, Z)
    assert good["kramers_kronig"]["max_residual"] <= 1e-3
    upper = F > np.sqrt(F.min() * F.max())
    bent = np.where(upper, Z.real + 1.3j * Z.imag, Z)
    assert analyse(F, bent, drt=False)["kramers_kronig"]["max_residual"] > 1e-2
    drifting = Z * (1 + 0.03 * np.linspace(0, 1, len(F)))
    assert analyse(F, drifting, drt=False)["kramers_kronig"]["max_residual"] > 1e-3
    numbers.record("kk_max_residual", good["kramers_kronig"]["max_residual"])


def test_drt_finds_the_charge_transfer_arc():
    result = analyse(F, _spectra()["randles"], kramers_kronig=False)
    tau_ct = R_CT * C_DL
    assert any(abs(p["tau_s"] / tau_ct - 1) < 0.05 for p in result["drt"]["peaks"])


def test_write_spectrum_files(tmp_path):
    from mpi4py import MPI

    from femiec.studies.impedance import Spectrum
    from femiec.studies.report import write_spectrum

    study = SimpleNamespace(drt=True, kramers_kronig=True, circuit="R0-p(R1,C1)", initial_guess=[1.0, 1e3, 1e-4])
    Z = 1.0 + 1 / (1j * OMEGA * 1e-4 + 1 / 1e3)
    result = write_spectrum(tmp_path, Spectrum(F[::-1], Z[::-1], 2e-4, 10), study, MPI.COMM_SELF)
    for name in ("impedance.csv", "nyquist.png", "bode.png", "drt.csv", "drt.png"):
        assert (tmp_path / name).is_file()
    assert result["circuit"]["parameters"]["R1"] == pytest.approx(1e3, rel=1e-6)
    assert result["lowest"]["re_Z_ohm_m2"] == pytest.approx(result["lowest"]["re_Z_ohm"] * 2e-4)
    json.dumps(result)  # plain data for summary.json


def test_plot_redraws_a_spectrum(tmp_path):
    """``femiec plot OUT_DIR`` draws nyquist.png, bode.png and drt.png again from impedance.csv and drt.csv."""
    from mpi4py import MPI

    from femiec.io.redraw import redraw
    from femiec.studies.impedance import Spectrum
    from femiec.studies.report import write_spectrum

    study = SimpleNamespace(drt=True, kramers_kronig=False, circuit=None, initial_guess=None)
    result = write_spectrum(tmp_path, Spectrum(F, _spectra()["randles"], None, 10), study, MPI.COMM_SELF)
    (tmp_path / "summary.json").write_text(json.dumps({"impedance": result}))
    for name in ("nyquist.png", "bode.png", "drt.png"):
        (tmp_path / name).unlink()
    assert sorted(p.name for p in redraw(tmp_path)) == ["bode.png", "drt.png", "nyquist.png"]
