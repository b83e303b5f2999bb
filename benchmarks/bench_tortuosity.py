"""Tortuosity factor: femiec ``fv`` against TauFactor, measured in the same run.

Images: the pore phase of a 128^3 synthetic overlapping-sphere image (porosity 0.4, seed 0; x axis) and
the pore phase (value 0) of the 256^3 NMC electrode ../shared/data/nmc_electrode_256.tiff (x axis).
For each image: TauFactor (Solver, CPU on 1 and on 2 torch threads, default convergence: 1% flux spread
between layers) when its environment exists (TAUFACTOR_PYTHON, default /work/tf-venv/bin/python), femiec
fv on 1 and on 2 MPI ranks (one axis, then the three axes for the tensor) at rtol 1e-4 (for fv the
relative error of D_eff allowed: "equal accuracy", below the tau error TauFactor's default reaches, 2-3e-4
on these images; the error column shows each run's) and once at femiec's default rtol 1e-6, and a tightly
converged femiec solve (rtol 1e-10) as the accuracy reference for all. Each run is a fresh process; times
exclude interpreter start and imports, include everything from the image array to tau; the median of
``--repeat`` runs counts. Peak memory is the sum over ranks of the peak resident set size, divided by the
number of image voxels.

Tensor / one axis: in one process per rank count (after a warm-up solve on a crop), ``--repeat`` pairs of
(x axis, then x, y, z) are timed alternately; the median of the pair ratios is reported, so both sides
see the same machine load.

    .venv/bin/python benchmarks/bench_tortuosity.py [--quick] [--repeat N] [--ratio-only] [--only IMAGE]

``--quick`` runs the 128^3 image only; ``--ratio-only`` only the tensor / one axis ratios. Prints one
line per run and the ratios femiec on n ranks / TauFactor on n threads and tensor / one axis.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NMC = ROOT.parent / "shared" / "data" / "nmc_electrode_256.tiff"
TAUFACTOR_PYTHON = os.environ.get("TAUFACTOR_PYTHON", "/work/tf-venv/bin/python")
EQUAL = 1e-4  # femiec's tolerance for the timed runs: D_eff to 1e-4 (TauFactor's default: 2-3e-4)

TAUFACTOR_WORKER = """
import json, re, sys, time
import numpy as np
import taufactor
import torch
torch.set_num_threads(int(sys.argv[2]))  # the harness sets OMP_NUM_THREADS=1, which torch would follow
binary = np.load(sys.argv[1])
start = time.perf_counter()
solver = taufactor.Solver(binary, device="cpu")
tau = float(np.asarray(solver.solve(verbose=False)).ravel()[0])
wall = time.perf_counter() - start
peak = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) * 1024
print(json.dumps({"tau": tau, "wall_time_s": wall, "iterations": int(solver.iter), "peak_bytes": peak,
                  "threads": torch.get_num_threads()}))
"""


def femiec_worker(path: str, axes: str, rtol: float) -> None:
    """Run homogenize in this process (under mpirun or not) and print one JSON line on rank 0."""
    import scipy.ndimage  # noqa: F401 (femiec imports it on first use; imports stay out of the timing)
    from mpi4py import MPI

    from femiec.homogenization import homogenize

    comm = MPI.COMM_WORLD
    image = np.load(path)
    comm.barrier()
    start = time.perf_counter()
    result = homogenize(image, [0], axes=axes, method="fv", comm=comm, rtol=rtol)
    wall = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    peak = int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) * 1024
    peak = comm.allreduce(peak)
    if comm.rank == 0:
        x = result.axes[axes if axes != "all" else "x"]
        print(json.dumps({"tau": x.tau, "wall_time_s": wall, "iterations": result.iterations,
                          "peak_bytes": peak, "flux_mismatch": x.flux_mismatch}))


def ratio_worker(path: str, repeat: int) -> None:
    """Time (x axis, all axes) pairs alternately in this process; print the times as one JSON line."""
    from mpi4py import MPI

    from femiec.homogenization import homogenize

    comm = MPI.COMM_WORLD
    image = np.load(path)
    homogenize(image[:16, :16, :16], [0], axes="all", method="fv", comm=comm)  # warm-up
    pairs = []
    for _ in range(repeat):
        pair = []
        for axes in ("x", "all"):
            comm.barrier()
            start = time.perf_counter()
            homogenize(image, [0], axes=axes, method="fv", comm=comm, rtol=EQUAL)
            pair.append(comm.allreduce(time.perf_counter() - start, op=MPI.MAX))
        pairs.append(pair)
    if comm.rank == 0:
        print(json.dumps({"pairs": pairs}))


def _run(command: list[str]) -> dict | None:
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl="self,vader", OMPI_MCA_rmaps_base_oversubscribe="1")
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        print(f"  failed: {' '.join(command)}\n{done.stderr[-2000:]}")
        return None
    return json.loads(lines[-1])


def femiec(path: Path, ranks: int, axes: str = "x", rtol: float | None = None) -> dict | None:
    command = [sys.executable, __file__, "--worker", str(path), axes, str(rtol or 0.0)]
    return _run((["mpirun", "-n", str(ranks)] if ranks > 1 else []) + command)


def taufactor(binary_path: Path, threads: int) -> dict | None:
    if not Path(TAUFACTOR_PYTHON).is_file():
        return None
    return _run([TAUFACTOR_PYTHON, "-c", TAUFACTOR_WORKER, str(binary_path), str(threads)])


def median(runs: list[dict | None]) -> dict | None:
    """The run of median wall time (the lower middle one for an even count)."""
    runs = sorted((r for r in runs if r is not None), key=lambda r: r["wall_time_s"])
    return runs[(len(runs) - 1) // 2] if runs else None


def tensor_ratio(path: Path, ranks: int, repeat: int) -> None:
    command = [sys.executable, __file__, "--ratio-worker", str(path), str(repeat)]
    done = _run((["mpirun", "-n", str(ranks)] if ranks > 1 else []) + command)
    if done is None:
        return
    pairs = np.array(done["pairs"])
    ratios = pairs[:, 1] / pairs[:, 0]
    print(f"tensor / one axis ({ranks} rank(s)): median ratio {np.median(ratios):.2f} over {len(ratios)} pairs "
          f"(ratios {', '.join(f'{r:.2f}' for r in ratios)}; one axis median {np.median(pairs[:, 0]):.2f} s, "
          f"tensor {np.median(pairs[:, 1]):.2f} s)")


def bench_image(name: str, image: np.ndarray, workdir: Path, repeat: int, ratio_only: bool) -> None:
    path, binary_path = workdir / f"{name}.npy", workdir / f"{name}_pore.npy"
    np.save(path, image)
    np.save(binary_path, (image == 0).astype(np.uint8))
    voxels = image.size
    print(f"\n== {name}: {'x'.join(map(str, image.shape))}, pore fraction {np.mean(image == 0):.4f}")
    for ranks in (1, 2):
        tensor_ratio(path, ranks, repeat)
    if ratio_only:
        return
    reference = femiec(path, 2, rtol=1e-10)
    tau_ref = reference["tau"] if reference else float("nan")
    print(f"reference tau (femiec fv, rtol 1e-10): {tau_ref:.7f}")
    rows = {}
    for threads in (1, 2):
        tf_runs = [taufactor(binary_path, threads) for _ in range(repeat)]
        if tf_runs[0] is None:
            print("TauFactor: peer missing (set TAUFACTOR_PYTHON to a Python with taufactor installed)")
        elif tf_runs[0]["threads"] != threads:
            print(f"TauFactor ran on {tf_runs[0]['threads']} threads instead of {threads}")
        rows[f"TauFactor ({threads} thread{'s' if threads > 1 else ''})"] = median(tf_runs)
    for ranks in (1, 2):
        rows[f"femiec fv x, {ranks} rank(s)"] = median([femiec(path, ranks, rtol=EQUAL) for _ in range(repeat)])
        rows[f"femiec fv x,y,z, {ranks} rank(s)"] = median([femiec(path, ranks, "all", EQUAL)
                                                          for _ in range(repeat)])
    rows["femiec fv x, 1 rank, rtol 1e-6"] = median([femiec(path, 1) for _ in range(repeat)])
    print(f"{'run':31s} {'tau':>10s} {'|tau/ref-1|':>12s} {'wall/s':>8s} {'iters':>6s} {'B/voxel':>8s}")
    for label, r in rows.items():
        if r is None:
            continue
        print(f"{label:31s} {r['tau']:10.6f} {abs(r['tau'] / tau_ref - 1):12.2e} {r['wall_time_s']:8.2f} "
              f"{r['iterations']:6d} {r['peak_bytes'] / voxels:8.0f}")
    for ranks in (1, 2):
        peer = rows[f"TauFactor ({ranks} thread{'s' if ranks > 1 else ''})"]
        one, three = rows[f"femiec fv x, {ranks} rank(s)"], rows[f"femiec fv x,y,z, {ranks} rank(s)"]
        if one and three:
            print(f"ratio tensor / one axis, separate processes ({ranks} rank(s)): "
                  f"{three['wall_time_s'] / one['wall_time_s']:.2f}")
        if one and peer:
            print(f"ratio femiec fv ({ranks} rank(s)) / TauFactor ({ranks} thread(s)) wall time: "
                  f"{one['wall_time_s'] / peer['wall_time_s']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the 128^3 synthetic image")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration (the median counts)")
    parser.add_argument("--ratio-only", action="store_true", help="only the tensor / one axis ratios")
    parser.add_argument("--only", choices=["spheres128", "nmc256"], help="run this image only")
    args = parser.parse_args()
    from femiec.homogenization.synthetic import overlapping_spheres

    images = {"spheres128": overlapping_spheres((128, 128, 128), 0.4, 5.0, seed=0)}
    if not args.quick:
        if NMC.is_file():
            import tifffile

            images["nmc256"] = tifffile.imread(NMC)
        else:
            print(f"NMC image {NMC} not found: skipped")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores ({time.strftime('%H:%M:%S')})")
    with tempfile.TemporaryDirectory() as workdir:
        for name, image in images.items():
            if args.only and name != args.only:
                continue
            bench_image(name, image, Path(workdir), args.repeat, args.ratio_only)
    print(f"load average at end: {os.getloadavg()[0]:.1f} ({time.strftime('%H:%M:%S')})")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--ratio-worker":
        ratio_worker(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--worker":
        femiec_worker(sys.argv[2], sys.argv[3], float(sys.argv[4]) or None)
    else:
        main()
