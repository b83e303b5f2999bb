"""Draw transient.png from the current.csv of a run of step.toml: the terminal current into the contact at
x = 0 against time (log axes), with the DC current V / (L rho_eon) and the two time scales.

    femiec run demos/mixed_conductor_space_charge/step.toml --out out/space_charge
    python demos/mixed_conductor_space_charge/plot.py out/space_charge
"""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from femiec.config import load_case  # noqa: E402
from femiec.constants import VACUUM_PERMITTIVITY  # noqa: E402
from femiec.io.current_series import read_current_csv  # noqa: E402
from femiec.problems.miec_case import material_from_section  # noqa: E402


def main(run_dir: Path) -> None:
    case = load_case(Path(__file__).with_name("step.toml"))
    model, oxide = case.model, material_from_section(case.model.material)
    T, L, V = model.temperature, case.mesh.lengths[0], model.conditions[0].voltage
    _, rows = read_current_csv(run_dir / "current.csv")
    t, current = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    n = oxide.equilibrium(model.oxygen_pressure, T).n
    s_ion, s_eon = oxide.ionic_conductivity(n, T), oxide.electronic_conductivity(n, T)
    dc = V * s_eon / L
    tau = L ** 2 * (1 / s_ion + 1 / s_eon) * oxide.chemical_capacitance(n, T)
    tau_d = model.relative_permittivity * VACUUM_PERMITTIVITY / (s_ion + s_eon)  # dielectric relaxation time
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=120)
    ax.loglog(t, current, "o-", markersize=3, label="terminal current into x = 0")
    ax.axhline(dc, color="k", ls="--", lw=1, label="V / (L rho_eon)")
    for value, name in ((tau_d, "eps / sigma (layers)"), (tau, "tau = L^2 (rho_ion + rho_eon) C_chem")):
        ax.axvline(value, color="gray", ls=":", lw=1)
        ax.text(value, ax.get_ylim()[1], " " + name, rotation=90, va="top", fontsize=7)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("current density (A/m^2)")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(Path(__file__).with_name("transient.png"))
    print(f"DC {dc:.6g} A/m^2, last {current[-1]:.6g} A/m^2; tau_d {tau_d:.3g} s, tau {tau:.3g} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
