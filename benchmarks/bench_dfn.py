"""Round trip resolved electrode -> DFN (issue 20): the NMC demo case on a crop, with fast solid diffusion,
run resolved by femiec and as PyBaMM's DFN half-cell with the parameters `femiec dfn` derives from the
same image and case (docs/resolved_vs_homogenized.md).

Prints the capacity to cut-off of both, their relative difference and the rms / largest voltage
difference over the capacity both reach, the wall times, and whether the issue's check holds (capacity
within 1%, voltage within rms 5 mV); writes them to <out>/bench_dfn.json beside both runs' outputs.

    mpirun -n 2 .venv/bin/python benchmarks/bench_dfn.py                      # 64^3 at 1C, D_s = 1e-12 m^2/s
    .venv/bin/python benchmarks/bench_dfn.py --crop 12 --out out/bench_dfn_12 # the 12^3 crop, ~1 min
    mpirun -n 2 .venv/bin/python benchmarks/bench_dfn.py --resolved-dir out/bench_dfn/resolved --out out/b2
                                                  # the DFN side only, against an earlier resolved run

The DFN's effective transport is by default that of the resolved run's discretisation (``--transport-scheme
resolved``; ``fv`` for face-connected finite volumes); both values are printed. Its particle radius is by
default the diffusion-lag radius with linearised kinetics (``--radius lag_kinetics``; the others as
`femiec dfn --radius`).

The resolved run controls its steps by the local error of the voltage (BDF2, ``--error-tolerance`` V per
step, steps at most ``--dt-max`` s), so its own time-step error stays well below the difference measured.
"""
from __future__ import annotations

import argparse
import json
import time
import tomllib
from pathlib import Path

from mpi4py import MPI

from femiec.config.loader import parse_case
from femiec.runner import run_case
from femiec.studies.dfn import export_case

CASE = Path(__file__).resolve().parents[1] / "demos" / "nmc_electrode" / "case.toml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", default=str(CASE), help="electrode case file on an image (default: the 64^3 demo)")
    parser.add_argument("--crop", type=int, default=64, help="crop edge in voxels, from the origin (default 64)")
    parser.add_argument("--c-rate", type=float, default=1.0, help="C-rate, 1/h (default 1)")
    parser.add_argument("--diffusivity", type=float, default=1e-12, help="solid diffusivity D_s, m^2/s")
    parser.add_argument("--error-tolerance", type=float, default=1e-3, help="local voltage error per step, V")
    parser.add_argument("--dt-max", type=float, default=120.0, help="largest step of the resolved run, s")
    parser.add_argument("--transport-scheme", choices=["resolved", "fv"], default="resolved",
                        help="effective transport of the DFN: the resolved run's discretisation (default) or fv")
    parser.add_argument("--radius", choices=["lag_kinetics", "lag_flux", "lag_concentration", "area", "sphere"],
                        default="lag_kinetics", help="particle radius of the DFN (femiec dfn --radius)")
    parser.add_argument("--out", default="out/bench_dfn", help="output directory")
    parser.add_argument("--resolved-dir", help="compare with this earlier resolved run of the same settings "
                                               "(its output directory) instead of running it again")
    args = parser.parse_args()
    comm = MPI.COMM_WORLD

    case_file = Path(args.case).resolve()
    data = tomllib.loads(case_file.read_text())
    n = args.crop
    data["mesh"]["crop"] = [[0, n], [0, n], [0, n]]
    data["model"]["active_material"]["diffusivity"] = args.diffusivity
    data["model"]["discharge"].update(c_rate=args.c_rate, scheme="bdf2", error_tolerance=args.error_tolerance,
                                      dt=min(10.0, args.dt_max), dt_max=args.dt_max, outputs=1)
    data["model"].pop("checkpoint", None)
    if n <= 16:
        data["solver"] = {"preset": "direct"}
    data["case"]["name"] = f"bench_dfn_{n}"
    case = parse_case(data, base_dir=case_file.parent)
    out = Path(args.out)

    resolved = Path(args.resolved_dir) if args.resolved_dir else out / "resolved"
    start = time.perf_counter()
    if not args.resolved_dir:
        run_case(case, resolved, comm, show_progress=False)
    resolved_s = time.perf_counter() - start
    start = time.perf_counter()
    summary = export_case(case, out / "dfn", resolved, comm, transport_scheme=args.transport_scheme,
                         radius=args.radius)
    dfn_s = time.perf_counter() - start
    if comm.rank == 0:
        resolved_summary = json.loads((resolved / "summary.json").read_text())
        steps = len(resolved_summary["solver"]["records"]) - 1
        if args.resolved_dir:
            resolved_s = resolved_summary["wall_time_s"]
        result = {"crop": n, "ranks": comm.size, "c_rate": args.c_rate, "diffusivity_m2_s": args.diffusivity,
                  "error_tolerance_V": args.error_tolerance, "dt_max_s": args.dt_max,
                  "resolved_wall_s": resolved_s, "dfn_wall_s": dfn_s, "resolved_steps": steps,
                  **{k: v for k, v in summary.items()
                     if k.startswith(("capacity", "voltage", "transport", "electrolyte", "solid", "particle"))}}
        if "capacity_difference" in summary:
            result["check_capacity_within_1pct"] = abs(summary["capacity_difference"]) <= 0.01
            result["check_voltage_rms_within_5mV"] = summary["voltage_rms_difference_V"] <= 5e-3
        (out / "bench_dfn.json").write_text(json.dumps(result, indent=1))
        for key, value in result.items():
            print(f"{key:32s} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
