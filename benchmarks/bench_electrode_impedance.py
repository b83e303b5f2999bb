"""Benchmark: the impedance spectrum of an NMC crop against that crop's full 1C discharge, same ranks, one run.

Two whole `femiec run` processes per crop size (mpirun -n RANKS), one after the other so both see the same
machine load:
- discharge: demos/nmc_electrode/case.toml on the crop (1C from stoichiometry 0.4 to the 3.4 V cut-off,
  the case's own solver preset);
- spectrum: demos/nmc_impedance/case.toml on the same crop (open circuit at 0.69, 49 frequencies from
  100 kHz down to 1 mHz, 6 per decade; the study's method, inner solver and tolerances as given: by
  default the reduced sweep with fieldsplit shift solves, the demo's own settings).
Prints wall times, their ratio (the issue's target: spectrum <= 0.5 x discharge), unknowns, GMRES iterations
per frequency, factorizations, and the peak resident set size of the largest rank (GNU time).

    python benchmarks/bench_electrode_impedance.py --crops 16 32 [--ranks 2] [--method reduced|presb]
        [--inner fieldsplit|lu] [--inner-rtol 1e-10] [--reduced-tol 1e-4] [--reuse 0.5]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FEMIEC = Path(sys.executable).with_name("femiec")


def _case(template: Path, n: int, study: dict | None) -> str:
    text = template.read_text()
    text = text.replace("crop = [[0, 64], [0, 64], [0, 64]]", f"crop = [[0, {n}], [0, {n}], [0, {n}]]")
    text = text.replace('file = "../../../shared/', f'file = "{ROOT.parent}/shared/')
    if study:
        for key, value in study.items():
            text = "\n".join(line for line in text.split("\n") if not line.startswith(f"{key} = "))
            text = text.replace("[study]\n", f"[study]\n{key} = {json.dumps(value)}\n", 1)
        text = text.replace("fields_at = [1.0, 1.0e3]             # Hz\n", "")
    return text


def _run(case_text: str, ranks: int, workdir: Path, name: str) -> dict:
    path = workdir / f"{name}.toml"
    path.write_text(case_text)
    out = workdir / name
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl="self,vader", OMPI_MCA_rmaps_base_oversubscribe="1")
    command = ((["mpirun", "-n", str(ranks)] if ranks > 1 else [])
               + ["/usr/bin/time", "-f", "peak_rss_kb %M", str(FEMIEC), "-q", "run", str(path), "--out", str(out)])
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
    peaks = [int(line.split()[1]) / 1024 for line in done.stderr.splitlines() if line.startswith("peak_rss_kb")]
    summary = json.loads((out / "summary.json").read_text())
    return {"wall_s": wall, "peak_rss_mb": max(peaks), "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crops", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--inner", default="fieldsplit", choices=["lu", "fieldsplit"])
    parser.add_argument("--reuse", type=float, default=0.5, help="study.reuse_decades")
    parser.add_argument("--inner-rtol", type=float, default=1e-8, help="study.inner_rtol (fieldsplit)")
    parser.add_argument("--method", default="reduced", choices=["presb", "reduced"], help="study.method")
    parser.add_argument("--reduced-tol", type=float, default=1e-4, help="study.reduced_tol")
    args = parser.parse_args()
    print(f"uptime: {os.popen('uptime').read().strip()}")
    for n in args.crops:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            discharge = _run(_case(ROOT / "demos" / "nmc_electrode" / "case.toml", n, None), args.ranks, work,
                             "discharge")
            spectrum = _run(_case(ROOT / "demos" / "nmc_impedance" / "case.toml", n,
                                  {"inner": args.inner, "reuse_decades": args.reuse, "inner_rtol": args.inner_rtol,
                                   "method": args.method, "reduced_tol": args.reduced_tol}),
                            args.ranks, work, "spectrum")
        imp = spectrum["summary"]["impedance"]
        steps = len(discharge["summary"]["solver"]["records"]) - 1
        print(f"\n== {n}^3 crop, {args.ranks} rank(s), method {args.method}, inner {args.inner}, "
              f"reuse_decades {args.reuse}, reduced_tol {args.reduced_tol}")
        print(f"discharge: {discharge['wall_s']:.1f} s wall, peak {discharge['peak_rss_mb']:.0f} MB (per rank, largest)")
        print(f"spectrum:  {spectrum['wall_s']:.1f} s wall, peak {spectrum['peak_rss_mb']:.0f} MB; {imp['frequencies']} "
              f"frequencies, {imp['unknowns']} unknowns, {imp['factorizations']} factorizations, GMRES iterations "
              f"{min(imp['iterations'])}-{max(imp['iterations'])} (median {sorted(imp['iterations'])[len(imp['iterations']) // 2]}), "
              f"lin-KK {imp['kramers_kronig']['max_residual']:.1e}")
        if args.method == "reduced":
            print(f"reduced sweep: {imp['sweep']}")
        print(f"ratio spectrum / discharge wall time: {spectrum['wall_s'] / discharge['wall_s']:.3f} (discharge steps: {steps})")


if __name__ == "__main__":
    main()
