"""Impedance spectra: CSV table (ours and measured ones), Nyquist, Bode and DRT plots (the caller's
process writes; pure NumPy/Matplotlib).

Sign convention: Z = Z' + i Z'' [Ohm]; a capacitor is 1/(i omega C), so a capacitive arc has Z'' < 0.
Nyquist plots draw -Z'' upward with equal axes. ``area`` [m^2], where given, turns Z into the
area-specific impedance Z * area [Ohm m^2].

CSV columns (:func:`write_impedance_csv`): frequency_Hz, re_Z_ohm, im_Z_ohm, abs_Z_ohm, phase_deg
(phase = arg Z [deg]) and, with an area, re_Z_ohm_m2, im_Z_ohm_m2.
"""
from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import numpy as np

from femiec.errors import InputError
from femiec.studies.spectrum import checked_spectrum

COLUMNS = ("frequency_Hz", "re_Z_ohm", "im_Z_ohm", "abs_Z_ohm", "phase_deg")
AREA_COLUMNS = ("re_Z_ohm_m2", "im_Z_ohm_m2")
MIN_ROWS = 5

# Header names of measured spectra (lower case, blanks and a unit suffix removed), by what they hold.
_FREQUENCY = {"f", "freq", "frequency", "frequency_hz", "freq_hz"}
_REAL = {"z'", "re(z)", "rez", "re_z", "re_z_ohm", "zreal", "z_real", "zre", "z_re", "real(z)", "zr"}
_IMAG = {"z''", 'z"', "im(z)", "imz", "im_z", "im_z_ohm", "zimag", "z_imag", "zim", "z_im", "imag(z)",
         "zi"}
_UNIT = re.compile(r"(?:[/\[(]|_)(?:hz|ohm|ω)[\])]?$")  # area-specific columns (Ohm m^2) are not read


def write_impedance_csv(path, frequency, impedance, area: float | None = None) -> Path:
    """Write the spectrum Z(f) [Ohm] at ``frequency`` [Hz] as CSV (columns :data:`COLUMNS`, then the
    area-specific :data:`AREA_COLUMNS` Z * ``area`` [Ohm m^2] when ``area`` [m^2] is given), one row
    per frequency in increasing order.

    Written to ``<path>.tmp`` and renamed, so a reader never sees half a table.
    """
    f, z = checked_spectrum(frequency, impedance, min_points=1)
    if area is not None and not (np.isfinite(area) and area > 0):
        raise InputError("area", area, "a positive electrode area [m^2]")
    header = list(COLUMNS) + (list(AREA_COLUMNS) if area is not None else [])
    rows = np.column_stack([f, z.real, z.imag, np.abs(z), np.degrees(np.angle(z))]
                           + ([z.real * area, z.imag * area] if area is not None else []))
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([[repr(float(x)) for x in row] for row in rows])
    os.replace(tmp, path)
    return path


def read_impedance_csv(path, negative_imaginary: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(frequency [Hz], Z [Ohm], complex) of a spectrum file, sorted by increasing frequency.

    Reads :func:`write_impedance_csv` tables and measured spectra: separated by commas, semicolons (a
    decimal comma is then accepted), tabs or blanks; lines starting with ``#`` are skipped. With a header,
    the columns are found by name: frequency (f, freq, frequency, optionally with a unit as in
    ``freq/Hz``), real part (Z', Re(Z), re_Z, Zreal, ...) and imaginary part (Z'', Im(Z), im_Z, Zimag,
    ...); a name with a leading minus (-Z'', -Im(Z)) says the column holds -Z''. Without a header the
    file has exactly three numeric columns f, Z', Z'' (``negative_imaginary=True``: the third holds
    -Z''). An unreadable file, missing columns, a non-numeric, NaN or infinite value, a non-positive
    frequency or fewer than 5 rows is an :class:`~femiec.errors.InputError` naming the file.
    """
    key = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise InputError(key, exc.strerror or str(exc), "a readable spectrum file") from None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise InputError(key, "no rows", f"a spectrum table with at least {MIN_ROWS} rows")
    table = _split(lines)
    names = table[0]
    if _numbers(names) is None:  # a header
        column, sign = _columns(key, names)
        body = table[1:]
    else:
        if len(names) != 3:
            raise InputError(key, f"{len(names)} unnamed columns",
                             "a header naming frequency, Z' and Z'' columns, or three columns f, Z', Z''")
        column, sign = (0, 1, 2), (-1.0 if negative_imaginary else 1.0)
        body = table
    if len(body) < MIN_ROWS:
        raise InputError(key, f"{len(body)} rows", f"at least {MIN_ROWS} frequencies")
    data = np.empty((len(body), 3))
    for k, row in enumerate(body):
        values = _numbers([row[c] if c < len(row) else "" for c in column])
        if values is None or not np.all(np.isfinite(values)):
            raise InputError(f"{key}, data row {k + 1}", ", ".join(row), "finite numbers in every column")
        data[k] = values
    order = np.argsort(data[:, 0], kind="stable")
    data = data[order]
    if data[0, 0] <= 0:
        raise InputError(f"{key}, frequency", float(data[0, 0]), "positive frequencies [Hz]")
    return data[:, 0], data[:, 1] + 1j * sign * data[:, 2]



def _split(lines: list[str]) -> list[list[str]]:
    """The cells of ``lines``: the separator is the first of ; tab , found in the first line, else
    blanks; with semicolons, a decimal comma in a cell becomes a point."""
    first = lines[0]
    for sep in (";", "\t", ","):
        if sep in first:
            rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO("\n".join(lines)),
                                                                         delimiter=sep)]
            if sep == ";":
                rows = [[cell.replace(",", ".") for cell in row] for row in rows]
            return rows
    return [line.split() for line in lines]


def _numbers(cells: list[str]) -> np.ndarray | None:
    try:
        return np.array([float(c) for c in cells])
    except ValueError:
        return None


def _columns(key: str, names: list[str]) -> tuple[tuple[int, int, int], float]:
    """Indices of the frequency, real and imaginary columns and the sign of the imaginary column."""
    found: dict[str, list[tuple[int, float]]] = {"frequency": [], "Z'": [], "Z''": []}
    for k, raw in enumerate(names):
        name = _UNIT.sub("", raw.strip().lower().replace(" ", "").replace("\u2032", "'").replace("\u2033", "''"))
        sign = 1.0
        if name.startswith("-"):
            name, sign = name[1:], -1.0
        if name in _FREQUENCY and sign > 0:
            found["frequency"].append((k, 1.0))
        elif name in _REAL and sign > 0:
            found["Z'"].append((k, 1.0))
        elif name in _IMAG:
            found["Z''"].append((k, sign))
    for what, hits in found.items():
        if len(hits) != 1:
            raise InputError(key, f"header {', '.join(names)}",
                             f"exactly one {what} column (names such as "
                             + {"frequency": "freq, frequency, f", "Z'": "Z', Re(Z), re_Z, Zreal",
                                "Z''": "Z'', -Z'', Im(Z), -Im(Z), im_Z, Zimag"}[what] + ")")
    return (found["frequency"][0][0], found["Z'"][0][0], found["Z''"][0][0]), found["Z''"][0][1]


# ---------------------------------------------------------------------------------------------- plots
_KINDS = {"computed": dict(linestyle="-", marker="o", markersize=2.5),
          "analytic": dict(linestyle="--", marker=None),
          "measured": dict(linestyle="none", marker="o", markersize=4, markerfacecolor="none")}


def plot_nyquist(path, spectra, area: float | None = None, title: str = "",
                 marked_frequencies="decades") -> Path:
    """PNG of -Z'' against Z' (equal axes) of every spectrum in ``spectra``.

    ``spectra``: a list of ``(label, frequency [Hz], Z [Ohm])`` or ``(label, frequency, Z, kind)`` with
    ``kind`` "computed" (line with dots; the default), "measured" (open markers) or "analytic" (dashed
    line). ``area`` [m^2]: draw Z * area [Ohm m^2]. ``marked_frequencies``: "decades" (every decade
    inside the first spectrum's range, labelled), a list of frequencies [Hz] or None; the marks sit on
    the first spectrum (log-frequency interpolation).
    """
    plt, fig, ax = _figure(figsize=(5, 4.2))
    scale, unit = _scale(area)
    for label, f, z, style in _styled(spectra):
        ax.plot(z.real * scale, -z.imag * scale, label=label, **style)
    f0, z0 = _styled(spectra)[0][1:3]
    for mark in _marks(f0, marked_frequencies):
        zm = _interpolate(f0, z0, mark) * scale
        ax.plot([zm.real], [-zm.imag], "k+", markersize=7)
        ax.annotate(_frequency_label(mark), (zm.real, -zm.imag), textcoords="offset points", xytext=(4, 4),
                    fontsize="x-small")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(f"Z' ({unit})")
    ax.set_ylabel(f"-Z'' ({unit})")
    ax.set_title(title or "Nyquist plot")
    return _finish(plt, fig, ax, path, True)


def plot_bode(path, spectra, area: float | None = None, title: str = "", marked_frequencies=None) -> Path:
    """PNG of |Z| (top, log axes) and the phase arg Z [deg] (bottom) against the frequency [Hz] (log).

    ``spectra``, ``area``: as in :func:`plot_nyquist`; ``marked_frequencies``: a list of frequencies [Hz]
    drawn as dotted vertical lines, or None.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(5, 5), dpi=120)
    scale, unit = _scale(area)
    for label, f, z, style in _styled(spectra):
        top.loglog(f, np.abs(z) * scale, label=label, **style)
        bottom.semilogx(f, np.degrees(np.angle(z)), label=label, **style)
    for mark in marked_frequencies or []:
        for ax in (top, bottom):
            ax.axvline(mark, color="0.5", linestyle=":", linewidth=0.8)
    top.set_ylabel(f"|Z| ({unit})")
    bottom.set_ylabel("phase arg Z (deg)")
    bottom.set_xlabel("frequency (Hz)")
    top.set_title(title or "Bode plot")
    bottom.grid(True, which="both", alpha=0.3)
    return _finish(plt, fig, top, path, True)


def plot_drt(path, tau, gamma, title: str = "", peaks=None, area: float | None = None) -> Path:
    """PNG of the distribution of relaxation times gamma [Ohm per unit ln tau] against tau [s] (log), with
    the frequency 1/(2 pi tau) [Hz] on the top axis.

    ``peaks``: objects with ``tau`` [s] and ``area`` [Ohm] (:meth:`femiec.studies.drt.DRT.peaks`),
    marked and labelled; ``area`` [m^2]: draw gamma * area [Ohm m^2].
    """
    plt, fig, ax = _figure(figsize=(5, 3.6))
    scale, unit = _scale(area)
    tau, gamma = np.asarray(tau, dtype=float), np.asarray(gamma, dtype=float) * scale
    ax.semilogx(tau, gamma, "-", linewidth=1.2)
    for peak in peaks or []:
        height = np.interp(np.log(peak.tau), np.log(tau), gamma)
        ax.plot([peak.tau], [height], "kv", markersize=4)
        ax.annotate(f"{peak.tau:.3g} s\n{peak.area * scale:.3g} {unit}", (peak.tau, height),
                    textcoords="offset points", xytext=(4, 2), fontsize="x-small")
    top = ax.secondary_xaxis("top", functions=(_tau_to_frequency, _tau_to_frequency))
    top.set_xlabel("frequency 1/(2 pi tau) (Hz)")
    ax.set_xlabel("relaxation time tau (s)")
    ax.set_ylabel(f"gamma ({unit})")
    ax.set_title(title or "distribution of relaxation times")
    return _finish(plt, fig, ax, path, False)


def _tau_to_frequency(x):
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        return 1.0 / (2.0 * np.pi * np.where(x > 0, x, np.nan))


def _figure(figsize):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize, dpi=120)
    return plt, fig, ax


def _finish(plt, fig, ax, path, legend: bool) -> Path:
    ax.grid(True, alpha=0.3)
    if legend:
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def _scale(area):
    if area is None:
        return 1.0, "Ohm"
    if not (np.isfinite(area) and area > 0):
        raise InputError("area", area, "a positive electrode area [m^2]")
    return float(area), "Ohm m$^2$"


def _styled(spectra):
    if not spectra:
        raise InputError("spectra", spectra, "at least one (label, frequency, Z) spectrum")
    out = []
    for entry in spectra:
        label, f, z, kind = (*entry, "computed") if len(entry) == 3 else entry
        if kind not in _KINDS:
            raise InputError(f"spectrum {label!r} kind", kind, "computed, measured or analytic")
        f, z = checked_spectrum(f, z, min_points=1)
        out.append((label, f, z, _KINDS[kind]))
    return out


def _marks(f, marked) -> list[float]:
    if marked is None:
        return []
    if isinstance(marked, str):
        if marked != "decades":
            raise InputError("marked_frequencies", marked, "'decades', a list of frequencies [Hz] or None")
        lo, hi = np.ceil(np.log10(f[0]) - 1e-9), np.floor(np.log10(f[-1]) + 1e-9)
        return [10.0 ** k for k in np.arange(lo, hi + 1)]
    return [float(m) for m in marked if f[0] <= m <= f[-1]]


def _interpolate(f, z, mark: float) -> complex:
    x = np.log(f)
    return complex(np.interp(np.log(mark), x, z.real) + 1j * np.interp(np.log(mark), x, z.imag))


def _frequency_label(f: float) -> str:
    for factor, prefix in ((1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u")):
        if f >= factor * (1 - 1e-9):
            return f"{f / factor:.3g} {prefix}Hz"
    return f"{f:.3g} Hz"
