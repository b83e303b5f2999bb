"""Time and peak memory of `femiec validate` on the electrode cases of the NMC image (1 rank).

Runs ``/usr/bin/time -v python -c "femiec.cli.main(['validate', CASE, ...])"`` for every case and mode
and prints wall time, peak resident memory and the 1-minute load average before the run (the machine
may be shared: the peak memory is reliable, the times depend on the load). ``--femiec`` picks the
checkout whose femiec is imported (e.g. the main branch for the figures before a change).

    python benchmarks/bench_validate.py --cases demos/nmc_electrode/case_128.toml demos/nmc_electrode/case_256.toml
    python benchmarks/bench_validate.py --cases demos/nmc_electrode/case_128.toml --build --femiec /work/main
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(case: Path, build: bool, femiec: Path) -> dict:
    """Wall time [s], peak RSS [GB], exit status of one `femiec validate` and the load average before it."""
    argv = ["validate", str(case)] + (["--build"] if build else [])
    code = f"import sys, femiec.cli; sys.exit(femiec.cli.main({argv!r}))"
    load = os.getloadavg()[0]
    env = dict(os.environ, PYTHONPATH=str(femiec))
    run = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", code], cwd=femiec, env=env,
                         capture_output=True, text=True)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", run.stderr)
    hours, minutes, seconds = (float(g or 0) for g in wall.groups())
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
    return {"case": case.name, "build": build, "status": run.returncode, "wall_s": 3600 * hours + 60 * minutes + seconds,
            "peak_rss_GB": rss / 1024**2, "load_1min": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, nargs="+", required=True)
    parser.add_argument("--build", action="store_true", help="`femiec validate --build` (builds the problem)")
    parser.add_argument("--femiec", type=Path, default=ROOT, help="checkout whose femiec is run (default: this one)")
    args = parser.parse_args()
    for case in args.cases:
        r = measure(case.resolve(), args.build, args.femiec.resolve())
        print(f"{r['case']:<14} build={r['build']!s:<5} exit {r['status']}  {r['wall_s']:8.1f} s  "
              f"{r['peak_rss_GB']:6.2f} GB peak  (load {r['load_1min']:.2f})", flush=True)


if __name__ == "__main__":
    main()
