"""Electrode currents and potentials over time of a transient Nernst–Planck–Poisson run: CSV table and
PNG plot (rank 0 writes).

CSV columns: time_s, then per electrode ``current_<name>_A`` (the anodic faradaic current [A in 3D; A/m in
2D; A/m^2 in 1D]) and ``potential_<name>_V`` (its applied or, galvanostatic, solved potential [V]).
"""
from __future__ import annotations

import csv
from pathlib import Path


def columns(electrodes: list[str]) -> list[str]:
    """The CSV header for the electrodes ``electrodes``."""
    return ["time_s"] + [c for name in electrodes for c in (f"current_{name}_A", f"potential_{name}_V")]


def write_current_csv(path, electrodes: list[str], rows: list[list[float]], comm) -> Path:
    """Write ``rows`` (time, then current and potential of each electrode) under :func:`columns`."""
    path = Path(path)
    if comm.rank == 0:
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns(electrodes))
            writer.writerows([[repr(float(x)) for x in row] for row in rows])
    comm.barrier()
    return path


def plot_current_series(path, electrodes: list[str], rows: list[list[float]], comm) -> Path:
    """PNG of every electrode's current (top) and potential (bottom) against time [s]."""
    path = Path(path)
    if comm.rank == 0:
        plot_currents(path, electrodes, rows)
    comm.barrier()
    return path


def read_current_csv(path) -> tuple[list[str], list[list[float]]]:
    """(electrodes, rows) of a current.csv (ValueError for another table)."""
    with Path(path).open(newline="") as f:
        table = list(csv.reader(f))
    header = table[0] if table else []
    electrodes = [c[len("current_"):-len("_A")] for c in header[1::2]]
    if not electrodes or header != columns(electrodes) or len(table) < 2:
        raise ValueError(f"{path}: not a current table (time_s, current_<name>_A, potential_<name>_V, ...)")
    return electrodes, [[float(x) for x in row] for row in table[1:]]


def plot_currents(path, electrodes: list[str], rows: list[list[float]]) -> Path:
    """Draw the PNG of :func:`plot_current_series` (the caller's process draws)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(5, 5), dpi=120)
    times = [row[0] for row in rows]
    for k, name in enumerate(electrodes):
        top.plot(times, [row[1 + 2 * k] for row in rows], "-o", markersize=2, label=name)
        bottom.plot(times, [row[2 + 2 * k] for row in rows], "-o", markersize=2, label=name)
    top.set_ylabel("current (A)")
    bottom.set_ylabel("potential (V)")
    bottom.set_xlabel("time (s)")
    for ax in (top, bottom):
        ax.grid(True, alpha=0.3)
    top.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
