"""Resolved vs homogenized at C/10, 1C and 3C (issue 20, docs/resolved_vs_homogenized.md, "Comparison
matrix"): `benchmarks/bench_dfn.py` on the NMC demo's 12^3 crop and on a synthetic sphere electrode, one
run after the other, and the table of both capacities to cut-off, their relative difference, the rms /
largest voltage difference and the resolved steps.

The synthetic electrode is a 16^3 image of 2.5 µm voxels (40 µm thick, the demo case's materials and its
4-voxel porous separator pad): overlapping NMC spheres of about 3 voxels (7.5 µm) radius at 45% volume
(`femiec.homogenization.synthetic.overlapping_spheres`, porosity 0.55, seed 7) and carbon-binder
spheres of 1.5 voxels (15% of the box, seed 11) where there is no NMC: 9% of the volume; it is written
with its case file to <out>/spheres16/.

The resolved runs keep the number of steps per discharge: steps at most 120 s / C-rate, BDF2 at 1 mV of
local voltage error per step (bench_dfn.py's defaults at 1C). The 64^3 crop is not run here (about 30 min
per C-rate on 2 ranks); `--resolved 64:1=<dir>` adds an earlier 1C resolved run of bench_dfn.py.

    .venv/bin/python benchmarks/bench_dfn_matrix.py --out out/bench_dfn_matrix            # ~12 min
    .venv/bin/python benchmarks/bench_dfn_matrix.py --resolved 64:1=out/bench_dfn/resolved \\
        --resolved 12:1=out/bench_dfn_12/resolved                                        # reuse runs

Writes <out>/matrix.json and prints the table in Markdown.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np

from femiec.homogenization.synthetic import overlapping_spheres

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demos" / "nmc_electrode"
PORE, NMC, CARBON_BINDER = 0, 85, 170
SPHERES_EDGE = 16          # voxels
SPHERES_VOXEL = 2.5e-6     # m


def spheres_case(folder: Path) -> Path:
    """Write the synthetic sphere electrode (module docstring) and its case file (the 12^3 demo case with
    this image); return the case file."""
    folder.mkdir(parents=True, exist_ok=True)
    shape = (SPHERES_EDGE,) * 3
    nmc = overlapping_spheres(shape, porosity=0.55, radius=3.0, seed=7) == 1
    binder = overlapping_spheres(shape, porosity=0.85, radius=1.5, seed=11) == 1
    image = np.full(shape, PORE, dtype=np.uint8)
    image[binder] = CARBON_BINDER
    image[nmc] = NMC
    np.save(folder / "spheres16.npy", image)
    text = (DEMO / "case_12.toml").read_text()
    data = tomllib.loads(text)
    edge = SPHERES_EDGE
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    text = "\n".join(lines)
    text = text.replace(f'name = "{data["case"]["name"]}"', 'name = "spheres16"')
    text = text.replace(f'description = "{data["case"]["description"]}"',
                        'description = "synthetic electrode of overlapping NMC spheres, 16^3 voxels"')
    text = text.replace(f'file = "{data["mesh"]["file"]}"', 'file = "spheres16.npy"')
    text = text.replace("a 4 µm porous separator", f"a {4 * SPHERES_VOXEL * 1e6:g} µm porous separator")
    text = text.replace("voxel_size = 1.0e-6", f"voxel_size = {SPHERES_VOXEL}")
    text = text.replace("crop = [[0, 12], [0, 12], [0, 12]]", f"crop = [[0, {edge}], [0, {edge}], [0, {edge}]]")
    case = folder / "case.toml"
    case.write_text("# synthetic sphere electrode of benchmarks/bench_dfn_matrix.py (written by it)\n" + text + "\n")
    parsed = tomllib.loads(case.read_text())
    assert parsed["mesh"]["file"] == "spheres16.npy" and parsed["mesh"]["voxel_size"] == SPHERES_VOXEL
    return case


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="out/bench_dfn_matrix", help="output directory")
    parser.add_argument("--c-rates", type=float, nargs="+", default=[0.1, 1.0, 3.0], help="C-rates, 1/h")
    parser.add_argument("--cases", nargs="+", default=["12", "spheres16"], choices=["12", "spheres16"],
                        help="the 12^3 demo crop and/or the synthetic sphere electrode")
    parser.add_argument("--resolved", action="append", default=[], metavar="CROP:RATE=DIR",
                        help="reuse the resolved run DIR of bench_dfn.py for that crop (12, 64 or spheres16) "
                             "and C-rate instead of running it")
    parser.add_argument("--diffusivity", type=float, default=1e-12, help="solid diffusivity D_s, m^2/s")
    args = parser.parse_args()
    out = Path(args.out)
    reuse = {}
    for item in args.resolved:
        key, folder = item.split("=", 1)
        crop, rate = key.split(":")
        reuse[(crop, float(rate))] = folder
    runs = [(name, rate) for name in args.cases for rate in args.c_rates]
    runs += [key for key in reuse if key not in runs]
    rows = []
    for name, rate in runs:
        if name == "spheres16":
            case, crop = spheres_case(out / "spheres16"), SPHERES_EDGE
        else:
            case, crop = DEMO / ("case_12.toml" if name == "12" else "case.toml"), int(name)
        target = out / f"{name}_C{rate:g}"
        command = [sys.executable, str(ROOT / "benchmarks" / "bench_dfn.py"), "--case", str(case),
                   "--crop", str(crop), "--c-rate", str(rate), "--dt-max", str(120.0 / rate),
                   "--diffusivity", str(args.diffusivity), "--out", str(target)]
        if (name, rate) in reuse:
            command += ["--resolved-dir", reuse[(name, rate)]]
        print(" ".join(command), flush=True)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        result = json.loads((target / "bench_dfn.json").read_text())
        rows.append({"case": name, **result})
    (out / "matrix.json").write_text(json.dumps(rows, indent=1))
    print("| case | C-rate | R [µm] | capacity resolved [A h] | DFN [A h] | difference | V rms [mV] "
          "| V max [mV] | resolved steps | resolved wall [s] |")
    print("| --- " * 10 + "|")
    for r in rows:
        print(f"| {r['case']} | {r['c_rate']:g} | {r['particle_radius_m'] * 1e6:.1f} | "
              f"{r['capacity_resolved_Ah']:.4e} | {r['capacity_dfn_Ah']:.4e} | {100 * r['capacity_difference']:+.2f}% "
              f"| {1e3 * r['voltage_rms_difference_V']:.2f} | {1e3 * r['voltage_max_difference_V']:.1f} "
              f"| {r['resolved_steps']} | {r['resolved_wall_s']:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
