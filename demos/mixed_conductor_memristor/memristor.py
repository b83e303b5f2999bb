"""Pinched hysteresis loops of a memristive oxide film (femiec.problems.memristor): a 30 nm acceptor-doped,
SrTiO3-like film with mobile oxygen vacancies between a Schottky contact (phi_B = 0.5 V) and an ohmic one,
driven by V(t) = 0.2 V sin(2 pi f t) at f = 1, 3 and 10 Hz (f tau_ion = 1, 3, 10). Draws the second
cycle of each on one PNG (linear and |I| on a log scale) and writes every step to a CSV; prints the lobe
areas and the pinch.

Usage: python demos/mixed_conductor_memristor/memristor.py [OUT_DIR]   (default: the current directory)
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

from femiec.problems.memristor import SCHOTTKY, MemristiveOxide  # noqa: E402
from femiec.problems.npp.terminal import lobe_area  # noqa: E402

AMPLITUDE, FREQUENCIES, PERIODS, STEPS = 0.2, (1.0, 3.0, 10.0), 2, 200


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    device = MemristiveOxide(MPI.COMM_WORLD)
    print(f"ionic time tau_ion = {device.film.ionic_time:.3g} s")
    fig, (ax_lin, ax_log) = plt.subplots(1, 2, figsize=(11, 4.5))
    rows = []
    for f in FREQUENCIES:
        recorder = device.sweep(AMPLITUDE, f, PERIODS, STEPS)[SCHOTTKY]
        t = np.array(recorder.times[1:])
        V, current = np.array(recorder.voltages[1:]), np.array(recorder.currents[1:])
        rows += [(f, *row) for row in zip(t, V, current)]
        cycle = slice(STEPS - 1, 2 * STEPS)  # the second period, t = 1/f .. 2/f
        V2, I2 = V[cycle], current[cycle]
        half = STEPS // 2
        areas = lobe_area(V2[:half + 1], I2[:half + 1]), lobe_area(V2[half:], I2[half:])
        pinch = max(abs(I2[k]) for k in (0, half, STEPS)) / np.abs(I2).max()
        print(f"f = {f:g} Hz: lobe areas {areas[0]:.4g} (V > 0), {areas[1]:.4g} (V < 0) W/m^2; "
              f"peak |I| {np.abs(I2).max():.4g} A/m^2; |I(V=0)| / peak {pinch:.2e}")
        label = f"f = {f:g} Hz (f tau_ion = {f * device.film.ionic_time:.2g})"
        ax_lin.plot(V2, I2, label=label)
        ax_log.semilogy(V2, np.abs(I2), label=label)
    for ax in (ax_lin, ax_log):
        ax.set_xlabel("V (Schottky contact) [V]")
        ax.grid(alpha=0.3)
    ax_lin.set_ylabel("I [A/m^2]")
    ax_log.set_ylabel("|I| [A/m^2]")
    ax_lin.legend()
    fig.suptitle("Memristive oxide: pinched I-V loops (second cycle)")
    fig.tight_layout()
    fig.savefig(out / "memristor_loops.png", dpi=120)
    with open(out / "memristor_loops.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["frequency_Hz", "time_s", "voltage_V", "current_A_m2"])
        writer.writerows(rows)
    print(f"wrote {out / 'memristor_loops.png'} and {out / 'memristor_loops.csv'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
