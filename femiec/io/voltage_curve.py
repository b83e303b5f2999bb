"""Cell voltage versus capacity: CSV table and PNG plot (rank 0 writes).

CSV columns: time_s, current_A, voltage_V, capacity_Ah, capacity_mAh_per_cm3 (per volume of active
material), stoichiometry (mean c_s/c_max of the active material), solver_step (1: the state after an
accepted solver step or the initial state; 0: a point interpolated between steps, ``dense_output``).
With Cahn–Hilliard particles three more: phase_boundary_area_m2 (A_pb = int_{x_a < x < x_b} |grad x| dx /
(x_b - x_a), the mean area of the level sets of x = c_s/c_max between the binodal site fractions),
transforming_particles (the particles whose state of charge lies inside the spinodal) and
transforming_fraction (that number over the number of particles); empty at interpolated points.
"""
from __future__ import annotations

import csv
from pathlib import Path

COLUMNS = ("time_s", "current_A", "voltage_V", "capacity_Ah", "capacity_mAh_per_cm3", "stoichiometry", "solver_step")
#: the columns of phase-separating (Cahn–Hilliard) particles, after COLUMNS (ElectrodeRecord's fields)
PHASE_COLUMNS = ("phase_boundary_area_m2", "transforming_particles", "transforming_fraction")


def write_voltage_csv(path, records, active_volume: float, comm) -> Path:
    """Write the records (time, current, voltage, capacity_Ah, stoichiometry, solver_step attributes) as
    CSV, in the order given; the PHASE_COLUMNS too when a record has a phase-boundary area."""
    path = Path(path)
    phases = has_phase_boundaries(records)
    if comm.rank == 0:
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS + (PHASE_COLUMNS if phases else ()))
            for r in records:
                extra = ["" if getattr(r, n) is None else repr(getattr(r, n)) for n in PHASE_COLUMNS] if phases else []
                writer.writerow([repr(r.time), repr(r.current), repr(r.voltage), repr(r.capacity_Ah),
                                 repr(r.capacity_Ah * 1e3 / (active_volume * 1e6)), repr(r.stoichiometry),
                                 int(r.solver_step), *extra])
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


def has_phase_boundaries(records) -> bool:
    """Whether any record carries a phase-boundary area (Cahn–Hilliard particles)."""
    return any(getattr(r, "phase_boundary_area_m2", None) is not None for r in records)


def read_voltage_csv(path) -> dict:
    """The columns of a voltage.csv as ``{name: list of float}`` (ValueError for another table; an empty
    cell of the PHASE_COLUMNS is NaN); a table written before the ``solver_step`` column has none."""
    with Path(path).open(newline="") as f:
        rows = list(csv.reader(f))
    if not rows or tuple(rows[0]) not in (COLUMNS, COLUMNS[:-1], COLUMNS + PHASE_COLUMNS) or len(rows) < 2:
        raise ValueError(f"{path}: not a voltage table with the columns {', '.join(COLUMNS)} and a row")
    return {name: [float(row[k]) if row[k] else float("nan") for row in rows[1:]] for k, name in enumerate(rows[0])}


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


def plot_phase_boundaries(path, records, active_volume: float, comm) -> Path:
    """PNG of the phase-boundary area [m^2] and the fraction of particles transforming against capacity
    [mAh/cm^3 of active material] (:func:`draw_phase_boundaries`), at the records that carry them (solver
    steps)."""
    path = Path(path)
    if comm.rank == 0:
        points = [r for r in records if getattr(r, "phase_boundary_area_m2", None) is not None]
        draw_phase_boundaries(path, [abs(r.capacity_Ah) * 1e3 / (active_volume * 1e6) for r in points],
                              [r.phase_boundary_area_m2 for r in points], [r.transforming_fraction for r in points])
    comm.barrier()
    return path


def draw_phase_boundaries(path, capacity, area, fraction) -> Path:
    """PNG of the phase-boundary ``area`` [m^2] (top) and the ``fraction`` of particles transforming
    (bottom) against ``capacity`` [mAh/cm^3 of active material] (the caller's process draws)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(5, 5), dpi=120)
    top.plot(capacity, area, "-o", markersize=2)
    top.set_ylabel("phase-boundary area (m$^2$)")
    bottom.step(capacity, fraction, where="post")
    bottom.set_ylabel("fraction of particles transforming")
    bottom.set_ylim(-0.02, 1.02)
    bottom.set_xlabel("capacity (mAh per cm$^3$ of active material)")
    for ax in (top, bottom):
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
