"""Cell voltage versus capacity: CSV table and PNG plot (rank 0 writes).

CSV columns: time_s, current_A, voltage_V, capacity_Ah, capacity_mAh_per_cm3 (per volume of active
material), stoichiometry (mean c_s/c_max of the active material), solver_step (1: the state after an
accepted solver step or the initial state; 0: a point interpolated between steps, ``dense_output``).
"""
from __future__ import annotations

import csv
from pathlib import Path

COLUMNS = ("time_s", "current_A", "voltage_V", "capacity_Ah", "capacity_mAh_per_cm3", "stoichiometry", "solver_step")


def write_voltage_csv(path, records, active_volume: float, comm) -> Path:
    """Write the records (time, current, voltage, capacity_Ah, stoichiometry, solver_step attributes) as
    CSV, in the order given."""
    path = Path(path)
    if comm.rank == 0:
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS)
            for r in records:
                writer.writerow([repr(r.time), repr(r.current), repr(r.voltage), repr(r.capacity_Ah),
                                 repr(r.capacity_Ah * 1e3 / (active_volume * 1e6)), repr(r.stoichiometry),
                                 int(r.solver_step)])
    comm.barrier()
    return path


def plot_voltage_curve(path, records, active_volume: float, comm, title: str = "") -> Path:
    """PNG of voltage [V] against capacity [mAh/cm^3 of active material]."""
    path = Path(path)
    if comm.rank == 0:
        plot_voltage(path, [abs(r.capacity_Ah) * 1e3 / (active_volume * 1e6) for r in records],
                     [r.voltage for r in records], title)
    comm.barrier()
    return path


def read_voltage_csv(path) -> dict:
    """The columns of a voltage.csv as ``{name: list of float}`` (ValueError for another table); a table
    written before the ``solver_step`` column has none."""
    with Path(path).open(newline="") as f:
        rows = list(csv.reader(f))
    if not rows or tuple(rows[0]) not in (COLUMNS, COLUMNS[:-1]) or len(rows) < 2:
        raise ValueError(f"{path}: not a voltage table with the columns {', '.join(COLUMNS)} and a row")
    return {name: [float(row[k]) for row in rows[1:]] for k, name in enumerate(rows[0])}


def plot_voltage(path, capacity, voltage, title: str = "") -> Path:
    """PNG of ``voltage`` [V] against ``capacity`` [mAh/cm^3 of active material] (the caller's process
    draws)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6), dpi=120)
    ax.plot(capacity, voltage, "-o", markersize=2)
    ax.set_xlabel("capacity (mAh per cm$^3$ of active material)")
    ax.set_ylabel("cell voltage (V vs Li/Li$^+$)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
