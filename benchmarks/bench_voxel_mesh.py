"""Time and peak memory to build the voxel mesh of the NMC electrode image on 1 and 2 ranks.

Cases: the pore phase only, and all three phases (one hexahedron per voxel). Baseline, measured in the
same run: ``dolfinx.mesh.create_box`` with the same number of hexahedra as the whole image (what DOLFINx
itself needs for a structured mesh of that size), on the same number of ranks. Printed: wall time
(slowest rank), peak resident memory (sum over ranks, from getrusage), and the ratios to the baseline.

    python benchmarks/bench_voxel_mesh.py            # full 256^3 image, 1 and 2 ranks (~10-20 min)
    python benchmarks/bench_voxel_mesh.py --size 64  # a 64^3 crop (seconds)
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

IMAGE = Path(__file__).resolve().parents[2] / "shared" / "data" / "nmc_electrode_256.tiff"


def child(case: str, size: int) -> None:
    """Build one mesh on MPI.COMM_WORLD and print one JSON line (rank 0)."""
    from mpi4py import MPI

    import dolfinx.mesh

    from femiec.meshing.tomography import read_image
    from femiec.meshing.voxel import voxel_mesh

    comm = MPI.COMM_WORLD
    image = read_image(IMAGE)[:size, :size, :size]
    comm.Barrier()
    start = time.perf_counter()
    if case == "box":
        mesh = dolfinx.mesh.create_box(comm, [[0, 0, 0], [size * 0.4e-6] * 3], [size] * 3,
                                       dolfinx.mesh.CellType.hexahedron)
    else:
        mesh = voxel_mesh(image, [0] if case == "pore" else None, voxel_size=0.4e-6, comm=comm).mesh
    elapsed = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "case": case,
        "ranks": comm.size,
        "cells": mesh.topology.index_map(3).size_global,
        "time_s": elapsed,
        "peak_mb_total": comm.allreduce(peak_mb),
        "peak_mb_max_rank": comm.allreduce(peak_mb, op=MPI.MAX),
    }
    if comm.rank == 0:
        print(json.dumps(result), flush=True)


def run(case: str, ranks: int, size: int) -> dict:
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_btl="self,vader")
    command = [sys.executable, __file__, "--child", case, "--size", str(size)]
    if ranks > 1:
        command = ["mpirun", "-n", str(ranks), *command]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="crop the image to size^3 voxels")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.size)
        return
    print(f"voxel mesh of {IMAGE.name} cropped to {args.size}^3")
    print(f"{'case':>6} {'ranks':>5} {'cells':>10} {'time s':>8} {'peak MB':>9} {'time/box':>9} {'mem/box':>8}")
    for ranks in args.ranks:
        base = run("box", ranks, args.size)
        for case in ("box", "pore", "all"):
            r = base if case == "box" else run(case, ranks, args.size)
            print(f"{case:>6} {ranks:>5} {r['cells']:>10} {r['time_s']:>8.1f} {r['peak_mb_total']:>9.0f} "
                  f"{r['time_s'] / base['time_s']:>9.2f} {r['peak_mb_total'] / base['peak_mb_total']:>8.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
