"""Tables of columns against one coordinate (profiles along a 1D mesh, time series): CSV and a PNG plot,
written by the calling process (call on rank 0).

CSV header: ``<name>_<unit>`` per column with the unit's "/" and "^" spelt out (``x_m``,
``electrons_mol_per_m3``, ``oxygen_pressure_Pa``); values written with repr (full precision).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def column_name(name: str, unit: str) -> str:
    """``<name>_<unit>`` with "/" -> "_per_" and "^" dropped (e.g. electrons_mol_per_m3)."""
    return f"{name}_{unit.replace('/', '_per_').replace('^', '')}"


def write_profile_csv(path, columns, table) -> Path:
    """Write ``table`` (rows x len(columns)) under the header of ``columns`` [(name, unit), ...]."""
    path = Path(path)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([column_name(*c) for c in columns])
        writer.writerows([[repr(float(x)) for x in row] for row in np.asarray(table)])
    return path


def plot_profiles(path, columns, table) -> Path:
    """PNG of every column after the first against the first, one panel per unit (concentrations and
    pressures on a log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = np.asarray(table)
    units = list(dict.fromkeys(unit for _, unit in columns[1:]))
    fig, axes = plt.subplots(len(units), 1, sharex=True, figsize=(5, 2.2 * len(units)), dpi=120, squeeze=False)
    (x_name, x_unit) = columns[0]
    for ax, unit in zip(axes[:, 0], units):
        for k, (name, u) in enumerate(columns[1:], start=1):
            if u == unit:
                ax.plot(table[:, 0], table[:, k], label=name)
        if unit in ("mol/m^3", "Pa") and np.all(table[:, [k for k, (_, u) in enumerate(columns) if u == unit]] > 0):
            ax.set_yscale("log")
        ax.set_ylabel(f"[{unit}]")
        ax.legend(fontsize=7)
    axes[-1, 0].set_xlabel(f"{x_name} [{x_unit}]")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
