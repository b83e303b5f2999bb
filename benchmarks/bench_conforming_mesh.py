"""Time, peak memory and cell quality of the two conforming image meshers on crops of the NMC electrode.

Cases (serial; the mesh is built on rank 0 in both paths, then distributed): NMC crops from the image
origin, voxel size 0.4 um, three phases, volume preservation on. Baseline, measured in the same run:
the snap-and-smooth grid (``mesher="grid"``) of the same crop and spacing; the gmsh path
(``mesher="gmsh"``) uses the same snapped grid for its interfaces, then gmsh meshes the volumes.
Printed: wall time, peak resident memory (getrusage, fresh process per case), cells, min and mean cell
quality q (femiec.meshing.quality), the fraction of cells with q < 0.1, the largest phase-volume
deviation from the voxel counts, and the gmsh/grid ratios.

    python benchmarks/bench_conforming_mesh.py                        # 32^3 and 64^3 (a few minutes)
    python benchmarks/bench_conforming_mesh.py --sizes 128 --spacing 2  # 128^3 at 2 voxels (~10 min)
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

IMAGE = Path(__file__).resolve().parents[2] / "shared" / "data" / "nmc_electrode_256.tiff"
VOXEL = 0.4e-6


def child(mesher: str, size: int, spacing: float) -> None:
    """Build one mesh and print one JSON line."""
    from femiec.meshing.conforming import conforming_mesh
    from femiec.meshing.quality import mesh_statistics, poor_cell_fraction
    from femiec.meshing.tomography import read_image

    image = read_image(IMAGE)[:size, :size, :size]
    start = time.perf_counter()
    data = conforming_mesh(image, voxel_size=VOXEL, mesh_size=spacing * VOXEL, mesher=mesher)
    elapsed = time.perf_counter() - start
    stats = mesh_statistics(data, quality=True)
    voxels = {f"phase{v}": int((image == v).sum()) * VOXEL**3 for v in (0, 85, 170)}
    print(json.dumps({
        "mesher": mesher, "size": size, "time_s": elapsed,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cells": stats["num_cells"], "q_min": stats["min_cell_quality"], "q_mean": stats["mean_cell_quality"],
        "poor": poor_cell_fraction(data.mesh),
        "max_volume_deviation": max(abs(stats["volume_per_tag_m3"][k] / v - 1) for k, v in voxels.items()),
    }), flush=True)


def run(mesher: str, size: int, spacing: float) -> dict | None:
    """One case in a fresh process; None (after printing its last error line) if it failed."""
    command = [sys.executable, __file__, "--child", mesher, "--sizes", str(size), "--spacing", str(spacing)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"{size:>5}^3 {mesher:>6} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}", flush=True)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--spacing", type=float, default=1.0, help="grid spacing in voxels")
    parser.add_argument("--child", choices=["grid", "gmsh"])
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.sizes[0], args.spacing)
    print(f"{'crop':>6} {'mesher':>6} {'time s':>8} {'peak MB':>8} {'cells':>9} {'q min':>7} {'q mean':>7} "
          f"{'q<0.1':>6} {'dV max':>7} | time, memory, cells, q min vs grid")
    for size in args.sizes:
        grid = run("grid", size, args.spacing)
        results = [r for r in (grid, run("gmsh", size, args.spacing)) if r is not None]
        for r in results if grid is not None else []:
            ratios = (f"{r['time_s'] / grid['time_s']:.2f} {r['peak_mb'] / grid['peak_mb']:.2f} "
                      f"{r['cells'] / grid['cells']:.2f} {r['q_min'] / grid['q_min']:.2f}")
            print(f"{size:>5}^3 {r['mesher']:>6} {r['time_s']:8.1f} {r['peak_mb']:8.0f} {r['cells']:9d} "
                  f"{r['q_min']:7.4f} {r['q_mean']:7.3f} {100 * r['poor']:5.2f}% {100 * r['max_volume_deviation']:6.2f}% | "
                  f"{ratios}",
                  flush=True)


if __name__ == "__main__":
    main()
