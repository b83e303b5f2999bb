"""Peak memory per rank and wall time of building an image mesh, voxel vs conforming, on N ranks.

``conforming``: the conforming grid mesh built distributed (femiec.meshing.conforming: each rank snaps and
smooths its own slab of the grid and creates its cells); ``conforming-rank0``: the same mesh built on rank 0
(snap-and-smooth of the whole grid, gmsh model, then ``model_to_mesh`` distributes it; ``distributed=False``);
``voxel``: the voxel mesh, built distributed (each rank creates its own slab).
Every rank reads the crop of the NMC image (0.4 um voxels, three phases); the peak resident memory of
each rank (getrusage ru_maxrss) is printed after the imports and after the build, with the time.

    mpirun -n 2 python benchmarks/bench_conforming_ranks.py --size 32 --mesher conforming
    mpirun -n 2 python benchmarks/bench_conforming_ranks.py --size 32 --mesher conforming-rank0
    mpirun -n 2 python benchmarks/bench_conforming_ranks.py --size 32 --mesher voxel
"""
from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

IMAGE = Path(__file__).resolve().parents[2] / "shared" / "data" / "nmc_electrode_256.tiff"
VOXEL = 0.4e-6


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--mesher", choices=["voxel", "conforming", "conforming-rank0"], default="conforming")
    args = parser.parse_args()
    from mpi4py import MPI

    from femiec.meshing.conforming import conforming_mesh
    from femiec.meshing.tomography import read_image
    from femiec.meshing.voxel import voxel_mesh

    comm = MPI.COMM_WORLD
    image = read_image(IMAGE)[: args.size, : args.size, : args.size].copy()
    before = peak_mb()
    comm.barrier()
    start = time.perf_counter()
    if args.mesher == "voxel":
        data = voxel_mesh(image, voxel_size=VOXEL, comm=comm)
    else:
        data = conforming_mesh(image, voxel_size=VOXEL, comm=comm, distributed=args.mesher == "conforming")
    comm.barrier()
    elapsed = time.perf_counter() - start
    cells = data.mesh.topology.index_map(3).size_local
    rows = comm.gather({"rank": comm.rank, "peak_before_mb": round(before), "peak_after_mb": round(peak_mb()),
                        "owned_cells": cells}, root=0)
    if comm.rank == 0:
        print(json.dumps({"mesher": args.mesher, "size": args.size, "ranks": comm.size, "time_s": round(elapsed, 1),
                          "ranks_memory": rows}))


if __name__ == "__main__":
    main()
