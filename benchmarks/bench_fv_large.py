"""A large synthetic volume through ``homogenize(method="fv")`` read by planes (issue 23: 500^3 within 24 GB).

The image: overlapping solid spheres (femiec.homogenization.synthetic; porosity 0.4, radius 5 voxels,
seed 0), N^3 voxels, written once as .npy into ``--cache`` and read by each rank through a memory map
(its slab of x-planes only). One fresh MPI run per rank count: the pore phase along x (or the three axes
with ``--tensor``) at femiec's default CG tolerance; printed: tau (and the tensor), CG iterations, wall time
from the file to the result, peak RSS per rank and summed over ranks per image voxel (interpreter
included).

    .venv/bin/python benchmarks/bench_fv_large.py [--size 500] [--ranks 1 2] [--tensor] [--cache DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_btl": "self,vader",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}


def worker(path: str, axes: str) -> None:
    from mpi4py import MPI

    from femiec.homogenization import homogenize
    from femiec.meshing.image_source import open_image

    comm = MPI.COMM_WORLD
    start = time.perf_counter()
    result = homogenize(open_image(path), [0], axes=axes, method="fv", comm=comm)
    wall = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    peak = int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024
    peaks = comm.gather(peak)
    if comm.rank == 0:
        print(json.dumps({"tau": {a: result.tau[a] for a in result.axes},
                          "iterations": {a: result.axes[a].iterations for a in result.axes},
                          "tensor": None if result.tensor is None else result.tensor.tolist(),
                          "wall_time_s": wall, "peak_bytes": peaks}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tensor", action="store_true", help="the three axes (default: x)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/femiec-bench"))
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    import numpy as np

    args.cache.mkdir(parents=True, exist_ok=True)
    path = args.cache / f"spheres{args.size}.npy"
    if not path.exists():  # in a child process: the generator's peak (~70 B/voxel) is not kept here
        script = (f"import numpy as np; from femiec.homogenization.synthetic import overlapping_spheres; "
                  f"np.save({str(path)!r}, overlapping_spheres(({args.size},) * 3, 0.4, 5.0, 0))")
        subprocess.run([sys.executable, "-c", script], check=True)
    voxels = args.size ** 3
    for ranks in args.ranks:
        load = os.getloadavg()[0]
        command = ["mpirun", "-n", str(ranks), sys.executable, __file__, "--worker", str(path),
                   "all" if args.tensor else "x"]
        out = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **MPI_ENV})
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if out.returncode or not lines:
            print(f"{args.size}^3 {ranks} rank(s): failed (exit {out.returncode})\n{out.stderr[-2000:]}")
            continue
        r = json.loads(lines[-1])
        print(f"{args.size}^3 {ranks} rank(s): tau {r['tau']}, CG {r['iterations']}, "
              f"{r['wall_time_s']:.1f} s, peak per rank {[round(p / 1e9, 2) for p in r['peak_bytes']]} GB, "
              f"{sum(r['peak_bytes']) / voxels:.0f} bytes/voxel summed (load {load:.1f} at start)", flush=True)
        if r["tensor"] is not None:
            print("  tensor D_eff/D0:", np.array2string(np.array(r["tensor"]), precision=6))


if __name__ == "__main__":
    main()
