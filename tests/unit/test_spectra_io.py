"""impedance.csv and the spectrum plots (femiec.io.impedance): our table round-trips exactly (Ohm and
Ohm m^2 columns), measured spectra CSVs of the usual layouts are read by header name (a leading minus
means -Z''), bad files are one-line InputErrors naming the file, and the Nyquist, Bode and DRT plots
are written as PNGs."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from femiec.errors import InputError
from femiec.io.impedance import (AREA_COLUMNS, COLUMNS, plot_bode, plot_drt, plot_nyquist, read_impedance_csv,
                                 write_impedance_csv)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
F = np.logspace(-2, 5, 29)
Z = 2.0 + 10.0 / (1 + 1j * 2 * np.pi * F * 1e-3)  # R_s + R || C: Z'' < 0


@pytest.mark.mpi
def test_our_table_round_trips_with_area_columns(tmp_path, numbers):
    path = write_impedance_csv(tmp_path / "impedance.csv", F[::-1], Z[::-1], area=2e-4)
    assert not list(tmp_path.glob("*.tmp"))
    with path.open() as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == COLUMNS + AREA_COLUMNS
    table = np.array(rows[1:], dtype=float)
    assert np.all(np.diff(table[:, 0]) > 0)  # written in increasing frequency
    np.testing.assert_allclose(table[:, 3], np.abs(Z), rtol=1e-15)
    np.testing.assert_allclose(table[:, 4], np.degrees(np.angle(Z)), rtol=1e-15)
    assert np.all(table[:, 4] <= 0)  # capacitive: phase and Z'' negative
    np.testing.assert_allclose(table[:, 5] + 1j * table[:, 6], Z * 2e-4, rtol=1e-15)
    f, z = read_impedance_csv(path)
    assert np.array_equal(f, F) and np.array_equal(z, Z)
    numbers.record("phase_min_deg", table[:, 4].min())


@pytest.mark.parametrize("text, flag", [
    ("# exported by a potentiostat\nFreq/Hz;Z'/Ohm;-Z''/Ohm\n{rows_semicolon}", False),
    ("frequency\tRe(Z)\t-Im(Z)\tphase\n{rows_tab}", False),
    ("Zreal,Zimag,Freq (Hz)\n{rows_comma_reordered}", False),
    ("{rows_blank}", True),
])
def test_measured_layouts(tmp_path, text, flag):
    sel = slice(None, None, -1)  # written in decreasing frequency, as potentiostats sweep
    f, re, im = F[sel].tolist(), Z[sel].real.tolist(), Z[sel].imag.tolist()
    rows = {
        "rows_semicolon": "\n".join(f"{a!r};{b!r};{-c!r}".replace(".", ",") for a, b, c in zip(f, re, im)),
        "rows_tab": "\n".join(f"{a!r}\t{b!r}\t{-c!r}\t0" for a, b, c in zip(f, re, im)),
        "rows_comma_reordered": "\n".join(f"{b!r},{c!r},{a!r}" for a, b, c in zip(f, re, im)),
        "rows_blank": "\n".join(f"{a!r}   {b!r} {-c!r}" for a, b, c in zip(f, re, im)),
    }
    path = tmp_path / "measured.csv"
    path.write_text(text.format(**rows) + "\n")
    freq, imp = read_impedance_csv(path, negative_imaginary=flag)
    np.testing.assert_allclose(freq, F, rtol=1e-15)
    np.testing.assert_allclose(imp, Z, rtol=1e-15)


@pytest.mark.parametrize("text, fragment", [
    ("f,Z',Z''\n-1,1,1\n1,1,1\n2,1,1\n3,1,1\n4,1,1\n", "positive frequencies"),
    ("f,Z',Z''\n1,nan,1\n1,1,1\n2,1,1\n3,1,1\n4,1,1\n", "data row 1"),
    ("f,Z',Z''\n1,x,1\n1,1,1\n2,1,1\n3,1,1\n4,1,1\n", "finite numbers"),
    ("f,Z',Z''\n1,1,1\n2,1,1\n", "at least 5 frequencies"),
    ("f,Z',phase\n1,1,1\n2,1,1\n3,1,1\n4,1,1\n5,1,1\n", "exactly one Z'' column"),
    ("f,Z'',-Z'',Z'\n1,1,1,1\n2,1,1,1\n3,1,1,1\n4,1,1,1\n5,1,1,1\n", "exactly one Z'' column"),
    ("1 1 1 1\n2 1 1 1\n3 1 1 1\n4 1 1 1\n5 1 1 1\n", "three columns f, Z', Z''"),
    ("", "no rows"),
])
def test_bad_files_are_one_line_errors(tmp_path, text, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_impedance_csv(path)
    message = str(err.value)
    assert str(path) in message and fragment in message and "\n" not in message


def test_missing_file_and_bad_arrays(tmp_path):
    with pytest.raises(InputError, match="readable spectrum file"):
        read_impedance_csv(tmp_path / "absent.csv")
    with pytest.raises(InputError, match="^spectrum: .*positive finite frequencies"):
        write_impedance_csv(tmp_path / "x.csv", [0.0, 1.0], [1.0, 1.0])
    with pytest.raises(InputError, match="^area:"):
        write_impedance_csv(tmp_path / "x.csv", F, Z, area=-1.0)


def test_plots_are_pngs(tmp_path):
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    measured = Z * (1 + 0.01 * (rng.normal(size=F.size) + 1j * rng.normal(size=F.size)))
    spectra = [("computed", F, Z), ("measured", F, measured, "measured"), ("analytic", F, Z, "analytic")]
    tau = np.logspace(-6, 2, 81)
    gamma = 10 * np.exp(-0.5 * (np.log(tau / 1e-3) / 0.3) ** 2) / (0.3 * np.sqrt(2 * np.pi))
    paths = [plot_nyquist(tmp_path / "nyquist.png", spectra, title="R + R||C"),
             plot_nyquist(tmp_path / "nyquist_area.png", spectra[:1], area=1e-4, marked_frequencies=[1.0, 1e3]),
             plot_bode(tmp_path / "bode.png", spectra, marked_frequencies=[159.0]),
             plot_drt(tmp_path / "drt.png", tau, gamma, peaks=[SimpleNamespace(tau=1e-3, area=10.0)])]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    with pytest.raises(InputError, match="computed, measured or analytic"):
        plot_nyquist(tmp_path / "x.png", [("a", F, Z, "dotted")])
