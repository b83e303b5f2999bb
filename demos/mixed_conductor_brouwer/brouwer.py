"""Brouwer diagram of the library defect chemistry gdc10 (Ce0.9Gd0.1O1.95-d) at 600 and 800 C: the defect
concentrations n, p, v and the partial conductivities against pO2 from 1e-30 to 1e5 Pa, drawn to a PNG; prints
the electrolytic domain boundary (t_ion = 1/2) at each temperature.

Usage: python demos/mixed_conductor_brouwer/brouwer.py [OUT.png]   (default brouwer.png)
"""
from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from femiec.materials.defects import defect_chemistry  # noqa: E402


def main(out: str) -> None:
    chem = defect_chemistry("gdc10")
    pressures = np.logspace(-30, 5, 351)
    fig, (ax_c, ax_s) = plt.subplots(1, 2, figsize=(11, 4.5))
    for T, style in ((873.15, "--"), (1073.15, "-")):
        state = chem.equilibrium(pressures, T)
        label = f"{T - 273.15:.0f} C"
        for values, name, color in ((state.n, "n (e')", "C0"), (state.p, "p (h)", "C1"), (state.v, "v (V_O)", "C2")):
            ax_c.loglog(pressures, values, style, color=color, label=f"{name}, {label}")
        sigma_ion = chem.ionic_conductivity(state.n, T)
        sigma_el = chem.electronic_conductivity(state.n, T)
        ax_s.loglog(pressures, sigma_ion, style, color="C2", label=f"sigma_ion, {label}")
        ax_s.loglog(pressures, sigma_el, style, color="C0", label=f"sigma_el, {label}")
        t_ion = sigma_ion / (sigma_ion + sigma_el)
        boundary = pressures[np.argmin(np.abs(t_ion - 0.5))]
        print(f"{label}: electrolytic domain boundary (t_ion = 1/2) near {boundary:.2g} Pa")
    ax_c.set(xlabel="pO2 [Pa]", ylabel="concentration [mol/m^3]", title="gdc10 defect concentrations")
    ax_s.set(xlabel="pO2 [Pa]", ylabel="conductivity [S/m]", title="partial conductivities")
    for ax in (ax_c, ax_s):
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "brouwer.png")
