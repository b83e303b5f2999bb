"""The electrode at C/10 to cut-off on the same NMC crop, voxel mesh vs conforming mesh (issue 20).

demos/nmc_electrode/case_12.toml (12^3 crop + 4-voxel separator layer, 1 um voxels) at C/10 (first step
``--dt``, largest ``--dt-max``; default the demo's 120 s and 600 s), each case in its own ``femiec run``;
only the [mesh] keys (and ``reactive_area``) change. Printed per case: capacity to cut-off, its difference from the voxel mesh,
the rms and max voltage difference at equal capacity, the reactive area, the active volume, cells and the
wall time.

    python benchmarks/bench_electrode_conforming.py            # 5 cases, a few minutes
    python benchmarks/bench_electrode_conforming.py --size 16  # 16^3 crop
    python benchmarks/bench_electrode_conforming.py --dt 1800 --dt-max 3600   # the test's steps
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demos" / "nmc_electrode" / "case_12.toml"
CASES = {  # name -> (mesh keys, model keys)
    "voxel": ('mesher = "voxel"', ""),
    "voxel, smooth area": ('mesher = "voxel"', 'reactive_area = "smooth"'),
    "conforming, smoothing 0": ('mesher = "conforming"\nsmoothing = 0.0', ""),
    "conforming, smoothing 0.5": ('mesher = "conforming"\nsmoothing = 0.5', ""),
    "conforming, smoothing 1": ('mesher = "conforming"', ""),
}


def case_text(size: int, mesh: str, model: str, dt: float, dt_max: float) -> str:
    text = DEMO.read_text().replace('file = "../../../shared/data', f'file = "{ROOT.parent}/shared/data')
    text = text.replace("crop = [[0, 12], [0, 12], [0, 12]]", f"crop = [[0, {size}], [0, {size}], [0, {size}]]\n{mesh}")
    text = text.replace("temperature = 298.15 ", f"{model}\ntemperature = 298.15 ")
    text = text.replace("c_rate = 1.0 ", "c_rate = 0.1 ").replace("every = 10 ", "every = 0 ")
    text = text.replace("dt = 120.0", f"dt = {dt}").replace("dt_max = 600.0", f"dt_max = {dt_max}")
    return text + "\n[output]\nfields = []\n"


def curve(out: Path) -> tuple[np.ndarray, np.ndarray]:
    rows = list(csv.DictReader((out / "voltage.csv").open()))
    return np.array([float(r["capacity_Ah"]) for r in rows]), np.array([float(r["voltage_V"]) for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=12)
    parser.add_argument("--dt", type=float, default=120.0)
    parser.add_argument("--dt-max", type=float, default=600.0)
    args = parser.parse_args()
    reference = None
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, (mesh, model)) in enumerate(CASES.items()):
            path, out = Path(tmp) / f"case{index}.toml", Path(tmp) / f"out{index}"
            path.write_text(case_text(args.size, mesh, model, args.dt, args.dt_max))
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "femiec.cli", "-q", "run", str(path), "--out", str(out)],
                           check=True, cwd=ROOT)
            elapsed = time.perf_counter() - start
            summary = json.loads((out / "summary.json").read_text())
            q, v = curve(out)
            reference = reference or (q, v)
            grid = np.linspace(0.0, min(q[-1], reference[0][-1]), 200)
            dv = np.interp(grid, q, v) - np.interp(grid, *reference)
            print(json.dumps({"case": name, "capacity_Ah": q[-1], "capacity_difference": q[-1] / reference[0][-1] - 1,
                              "voltage_rms_mV": 1e3 * float(np.sqrt(np.mean(dv**2))),
                              "voltage_max_mV": 1e3 * float(np.abs(dv).max()),
                              "interface_area_m2": summary["description"]["interface_area_m2"],
                              "active_volume_m3": summary["description"]["volume_m3"]["active"],
                              "cells": summary["mesh"]["statistics"]["num_cells"], "steps": len(q) - 1,
                              "wall_s": round(elapsed, 1)}), flush=True)


if __name__ == "__main__":
    main()
