"""Run the two case files of this demo over thicknesses and fuel pO2 and plot the results against the
closed forms (femiec.analytic.mixed_conductors).

- flux.png: O2 permeation flux [mol/(m^2 s)] of the GDC10 membrane at 800 C between air and 1e-15 Pa
  against its thickness L: fixed pO2 on both faces (ocv.toml) on Wagner's bulk-limited
  j_W = R T/(16 F^2 L) int sigma_amb d ln pO2, and with surface exchange R_s on both faces (membrane.toml)
  beside Bouwmeester's linear-regime estimate j_W / (1 + 2 L_c/L) with L_c = R_s <sigma_amb>,
  <sigma_amb> = int sigma_amb d ln pO2 / ln(p_air/p_fuel) (a guide: the exchange is driven far from
  the linear regime here).
- ocv.png: open-circuit voltage of the 1 mm cell (ocv.toml) against the fuel pO2: computed (psi_el of the
  air side minus that of the fuel side), the mixed-conductor value (R T/(4F)) int t_ion d ln pO2 and
  the Nernst voltage (R T/(4F)) ln(p_air/p_fuel).
- sweep.csv: every run's numbers.

Usage:  python demos/mixed_conductor_membrane/sweep.py [OUT_DIR]    (default out/mixed_conductor_membrane)
Each run is one `femiec run` of a case file with the thickness or the fuel pO2 changed (no field files).
"""
from __future__ import annotations

import csv
import json
import sys
import tomllib
from pathlib import Path

import numpy as np

import femiec
from femiec.config import parse_case

HERE = Path(__file__).resolve().parent
THICKNESSES = [2e-5, 5e-5, 1e-4, 5e-4, 1e-3, 3e-3]  # m
FUEL_PRESSURES = [1e-5, 1e-8, 1e-11, 1e-15, 1e-18]  # Pa


def run(name: str, out: Path, thickness: float | None = None, fuel: float | None = None) -> dict:
    """derived.membrane of ``name``.toml run into ``out`` with the thickness [m] / fuel pO2 [Pa] replaced."""
    data = tomllib.loads((HERE / f"{name}.toml").read_text())
    if thickness is not None:
        data["mesh"]["lengths"] = [thickness]
    if fuel is not None:
        data["model"]["conditions"][2]["pressure"] = fuel
    data["output"] = {"fields": []}
    summary = femiec.run(parse_case(data, HERE), out)
    return json.loads(Path(summary).read_text())["derived"]["membrane"]


def main(out: Path) -> None:
    rows = []
    for L in THICKNESSES:
        for name in ("ocv", "membrane"):
            m = run(name, out / f"{name}_L{L:.0e}", thickness=L)
            rows.append({"case": name, "thickness_m": L, **{k: v for k, v in m.items() if not k.endswith("face")}})
    for p in FUEL_PRESSURES:
        m = run("ocv", out / f"ocv_p{p:.0e}", fuel=p)
        rows.append({"case": "ocv_pressure", "thickness_m": m["thickness_m"],
                     **{k: v for k, v in m.items() if not k.endswith("face")}})
    from mpi4py import MPI

    if MPI.COMM_WORLD.rank == 0:
        with (out / "sweep.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        plot(rows, out)


def plot(rows: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from femiec.constants import FARADAY, GAS_CONSTANT

    def series(case, key):
        return np.array([r[key] for r in rows if r["case"] == case])

    L = series("ocv", "thickness_m")
    wagner = series("ocv", "wagner_flux_mol_m2_s")
    r = rows[0]
    T = 1073.15
    mean_sigma = wagner[0] * 16 * FARADAY ** 2 * L[0] / (GAS_CONSTANT * T) / np.log(r["p_high_Pa"] / r["p_low_Pa"])
    characteristic = 1.0e-5 * mean_sigma  # L_c = R_s <sigma_amb>, R_s of membrane.toml
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=120)
    ax.loglog(L * 1e6, wagner, "k-", label="Wagner (bulk limited)")
    ax.loglog(L * 1e6, wagner / (1 + 2 * characteristic / L), "k--",
              label=f"Bouwmeester estimate, $L_c$ = {characteristic * 1e6:.0f} µm")
    ax.loglog(L * 1e6, series("ocv", "oxygen_flux_mol_m2_s"), "o", label="femiec, fixed pO2")
    ax.loglog(L * 1e6, series("membrane", "oxygen_flux_mol_m2_s"), "s", label="femiec, surface exchange $R_s$")
    ax.set_xlabel("thickness L [µm]")
    ax.set_ylabel("O$_2$ flux [mol/(m$^2$ s)]")
    ax.set_title("GDC10, 800 C, air | 1e-15 Pa")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "flux.png")
    plt.close(fig)

    p = series("ocv_pressure", "p_low_Pa")
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=120)
    ax.semilogx(p, series("ocv_pressure", "nernst_voltage_V"), "k--", label="Nernst (t_ion = 1)")
    ax.semilogx(p, series("ocv_pressure", "open_circuit_voltage_V"), "k-", label="(RT/4F) ∫ t_ion d ln pO2")
    ax.semilogx(p, series("ocv_pressure", "voltage_V"), "o", label="femiec")
    ax.set_xlabel("fuel pO$_2$ [Pa] (air on the other side)")
    ax.set_ylabel("open-circuit voltage [V]")
    ax.set_title("GDC10 cell, 1 mm, 800 C")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "ocv.png")
    plt.close(fig)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/mixed_conductor_membrane"))
