"""Image memory per rank of a conforming mesh built by the case path, the image read by planes (issue 18).

``femiec.runner.build_mesh`` of an ``[mesh] kind = "image"``, ``mesher = "conforming"`` section: a crop of
the NMC image from its origin (0.4 um voxels, the three phases, grid backend, one-voxel spacing and
smoothing). Printed per rank: the bytes of the image ``conforming_mesh`` is given (the whole crop, or the
rank's ``RankPlanes.data``: its planes and halo), whether the planes its smoothed indicators need were a
view of them (no copy from other ranks), the peak resident memory (getrusage ru_maxrss) after the imports
and after the build, the owned cells and the time. Runs on code without the planes path too (then the
image given is the whole crop).

    mpirun -n 2 python benchmarks/bench_conforming_planes.py --size 64
    mpirun -n 2 python benchmarks/bench_conforming_planes.py --size 32 --length 256   # 256 x 32 x 32
"""
from __future__ import annotations

import argparse
import json
import time

from bench_conforming_ranks import IMAGE, VOXEL, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--length", type=int, default=None, help="planes along x (default: --size)")
    args = parser.parse_args()
    import numpy as np
    from mpi4py import MPI

    from femiec.config.schema import ImageMesh
    from femiec.meshing import conforming, rank_planes
    from femiec.runner import build_mesh

    comm = MPI.COMM_WORLD
    held = {}
    mesh = conforming.conforming_mesh

    def recorded_mesh(image, *a, **k):
        held["image_bytes"] = int(image.data.nbytes if hasattr(image, "histogram") else np.asarray(image).nbytes)
        return mesh(image, *a, **k)

    conforming.conforming_mesh = recorded_mesh
    if hasattr(rank_planes.RankPlanes, "gathered"):
        gathered = rank_planes.RankPlanes.gathered

        def recorded_gathered(self, lo, hi, comm):
            block = gathered(self, lo, hi, comm)
            held["field_planes_view"] = bool(np.shares_memory(block, self.data)) or len(block) == 0
            return block

        rank_planes.RankPlanes.gathered = recorded_gathered
    section = ImageMesh(kind="image", file=str(IMAGE), voxel_size=VOXEL, phases={"pore": 0, "nmc": 85, "cbd": 170},
                        crop=[[0, args.length or args.size]] + [[0, args.size]] * 2, mesher="conforming")
    before = peak_mb()
    comm.barrier()
    start = time.perf_counter()
    data = build_mesh(section, comm)
    comm.barrier()
    elapsed = time.perf_counter() - start
    rows = comm.gather({"rank": comm.rank, **held, "peak_before_mb": round(before), "peak_after_mb": round(peak_mb()),
                        "owned_cells": data.mesh.topology.index_map(3).size_local}, root=0)
    if comm.rank == 0:
        print(json.dumps({"size": args.size, "length": args.length or args.size, "ranks": comm.size, "time_s": round(elapsed, 1), "ranks_memory": rows}))


if __name__ == "__main__":
    main()
