"""``femiec plot OUT_DIR``: the pictures of a finished run drawn again from its files, into the same folder.

- ``voltage.png`` from ``voltage.csv`` (electrode: voltage against capacity; the title from summary.json),
  and ``phase_boundaries.png`` when it has the Cahn–Hilliard particles' phase columns;
- ``current.png`` from ``current.csv`` (transient Nernst–Planck–Poisson: currents and potentials);
- ``preview.png`` from ``preview.npz`` (the samples of the main field the run kept, :mod:`femiec.io.preview`);
- ``nyquist.png``, ``bode.png`` from ``impedance.csv`` and ``drt.png`` from ``drt.csv`` (an impedance study).

The preview is redrawn from ``preview.npz``, not from the ``.bp`` field files: a slice of a VTX file needs
the whole mesh and field read back on one process (for a 256^3 volume, gigabytes, against the rule that
rank 0 never holds a global array) and the element layout of each field (P1, P2, DG0, submeshes); the
samples are a few hundred kB.

Every refusal is an InputError (one ``error:`` line): a directory without summary.json, an unreadable
table or samples file, a run with none of them.
"""
from __future__ import annotations

import json
from pathlib import Path

from femiec.errors import InputError

KEY = "OUT_DIR"


def redraw(out_dir: Path | str) -> list[Path]:
    """Draw every picture of the run in ``out_dir`` that its files allow; returns the PNG paths."""
    from femiec.io.current_series import plot_currents, read_current_csv
    from femiec.io.preview import NPZ, PNG, render_preview
    from femiec.io.summary import SUMMARY
    from femiec.io.voltage_curve import draw_phase_boundaries, plot_voltage, read_voltage_csv

    out = Path(out_dir)
    if not (out / SUMMARY).is_file():
        raise InputError(KEY, str(out), f"the output directory of a finished run (with {SUMMARY})")
    summary = _read(out / SUMMARY, lambda p: json.loads(p.read_text()), "a JSON summary of a run")
    drawn = []
    if (out / "voltage.csv").is_file():
        table = _read(out / "voltage.csv", read_voltage_csv, "voltage.csv as femiec writes it")
        particles = summary.get("description", {}).get("particles")
        title = f"{particles} particles, I = {table['current_A'][-1]:.3g} A" if particles is not None else ""
        drawn.append(plot_voltage(out / "voltage.png", [abs(c) for c in table["capacity_mAh_per_cm3"]],
                                  table["voltage_V"], title))
        if "phase_boundary_area_m2" in table:  # Cahn–Hilliard particles: the solver steps' rows
            rows = [k for k, a in enumerate(table["phase_boundary_area_m2"]) if a == a]
            drawn.append(draw_phase_boundaries(out / "phase_boundaries.png",
                                               [abs(table["capacity_mAh_per_cm3"][k]) for k in rows],
                                               [table["phase_boundary_area_m2"][k] for k in rows],
                                               [table["transforming_fraction"][k] for k in rows]))
    if (out / "current.csv").is_file():
        electrodes, rows = _read(out / "current.csv", read_current_csv, "current.csv as femiec writes it")
        drawn.append(plot_currents(out / "current.png", electrodes, rows))
    if (out / NPZ).is_file():
        drawn.append(_read(out / NPZ, lambda p: render_preview(p, out / PNG), f"{NPZ} as femiec writes it"))
    if (out / "impedance.csv").is_file():
        drawn += _redraw_spectrum(out, summary)
    if not drawn:
        raise InputError(KEY, str(out), f"a run with voltage.csv, current.csv, impedance.csv or {NPZ} (this one "
                         "has none: a run without a preview, or from a femiec before 'femiec plot')")
    return drawn


def _redraw_spectrum(out: Path, summary: dict) -> list[Path]:
    """nyquist.png and bode.png from impedance.csv, drt.png from drt.csv (area-specific axes when the run
    had an area)."""
    import numpy as np

    from femiec.io.impedance import plot_bode, plot_drt, plot_nyquist, read_impedance_csv

    f, Z = _read(out / "impedance.csv", read_impedance_csv, "impedance.csv as femiec writes it")
    area = summary.get("impedance", {}).get("area_m2")
    curves = [("femiec", f, Z)]
    drawn = [plot_nyquist(out / "nyquist.png", curves, area=area), plot_bode(out / "bode.png", curves, area=area)]
    if (out / "drt.csv").is_file():
        table = _read(out / "drt.csv", lambda p: np.loadtxt(p, delimiter=",", skiprows=1, ndmin=2),
                      "drt.csv as femiec writes it")
        drawn.append(plot_drt(out / "drt.png", table[:, 0], table[:, 1], area=area))
    return drawn


def _read(path: Path, reader, expected: str):
    """``reader(path)``, with any failure to read it an InputError naming the file."""
    try:
        return reader(path)
    except Exception as exc:  # noqa: BLE001 -- a damaged file is bad input: one line, not a traceback
        raise InputError(KEY, str(path), f"{expected}; {type(exc).__name__}: {exc}".splitlines()[0]) from exc
