"""Print what `make demo-impedance` found: the electrode's spectrum in numbers, and the electrode tortuosity
factor of the crop's pores (blocking cell) beside their tortuosity factor (homogenize).

Usage: python demos/nmc_impedance/compare.py OUT_DIR   (OUT_DIR holds electrode/, blocking/, tortuosity/)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main(out: Path) -> None:
    electrode = json.loads((out / "electrode" / "summary.json").read_text())["impedance"]
    blocking = json.loads((out / "blocking" / "summary.json").read_text())
    tortuosity = json.loads((out / "tortuosity" / "summary.json").read_text())["homogenization"]["axes"]["x"]
    low, high = electrode["lowest"], electrode["highest"]
    print(f"electrode at open circuit, stoichiometry {electrode['mean_stoichiometry']:.3f} "
          f"(OCV {electrode['open_circuit_voltage_V']:.4f} V): {electrode['frequencies']} frequencies, "
          f"{electrode['unknowns']} unknowns, {electrode['factorizations']} factorizations")
    print(f"  Z({high['frequency_Hz']:.3g} Hz) = {high['re_Z_ohm_m2'] * 1e4:.4g} {high['im_Z_ohm_m2'] * 1e4:+.4g}i "
          f"Ohm cm^2;  Z({low['frequency_Hz']:.3g} Hz) = {low['re_Z_ohm_m2'] * 1e4:.4g} "
          f"{low['im_Z_ohm_m2'] * 1e4:+.4g}i Ohm cm^2")
    print(f"  lin-KK max residual {electrode['kramers_kronig']['max_residual']:.2e}; DRT peaks at "
          + ", ".join(f"{p['frequency_Hz']:.3g} Hz ({p['resistance_ohm']:.3g} Ohm)" for p in electrode["drt"]["peaks"]))
    derived = blocking["derived"]
    print(f"pores: electrode tortuosity factor tau_e = {derived['electrode_tortuosity']:.4f} (blocking cell, "
          f"porosity {blocking['impedance']['porosity']:.4f}); tortuosity factor tau = {tortuosity['tau']:.4f} "
          f"(homogenize fe, x, eps = {tortuosity['volume_fraction']:.4f})")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "demo-out/nmc_impedance"))
