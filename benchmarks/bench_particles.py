"""Particles shared by every rank against particles split over the ranks (issue 21; ``[model]
distribution`` of intercalation_particles, docs/cahn_hilliard.md).

One population of N identical small box particles (2D triangles or 3D tetrahedra), lithiated at 1C
from c = 0.6, is built and stepped with ``distribution = "shared"`` (every particle mesh over all ranks)
and then ``"split"`` (each particle on one rank), in the same run: build time (meshes, forms), wall time
per step (slowest rank, fixed steps of ``--dt``, each a galvanostatic secant around the particle solves),
Newton iterations, and the largest relative difference of the voltages of the two runs.

    mpirun -n 2 python benchmarks/bench_particles.py [--particles 16] [--dim 2] [--cells 8] [--steps 4]
"""
from __future__ import annotations

import argparse
import json
import time

CASE = """
[case]
name = "bench_particles"

[model]
kind = "intercalation_particles"
site_density = 22800.0
interaction_energy = 11157.0
gradient_coefficient = 2.789e-13
diffusivity = 1.0e-14
standard_potential = 3.42
rate_constant = 1.0e-6
initial = 0.6
initial_spread = 0.002
distribution = "{distribution}"
particles = [{{ lengths = {lengths}, cells = {cells}, count = {count} }}]
control = {{ kind = "current", c_rate = 1.0, direction = "lithiation" }}

[time]
t_end = 1.0e6
dt = {dt}
"""


def measure(distribution: str, args, comm) -> dict:
    """Build the population with ``distribution`` and take ``args.steps`` steps of ``args.dt``."""
    from mpi4py import MPI

    import tomllib

    from femiec.config.loader import parse_case
    from femiec.models.intercalation_particles import build

    text = CASE.format(distribution=distribution, lengths=[2e-8] * args.dim, cells=[args.cells] * args.dim,
                       count=args.particles, dt=args.dt)
    case = parse_case(tomllib.loads(text))
    comm.Barrier()
    start = time.perf_counter()
    cell = build(case, None, comm)
    build_s = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    steps = []
    for _ in range(args.steps):
        comm.Barrier()
        start = time.perf_counter()
        cell.step(args.dt)
        steps.append(comm.allreduce(time.perf_counter() - start, op=MPI.MAX))
    return {"distribution": distribution, "ranks": comm.size, "particles": cell.count, "unknowns": cell.unknowns(),
            "build_s": build_s, "step_s": steps, "mean_step_s": sum(steps[1:]) / max(len(steps) - 1, 1),
            "newton_iterations": sum(r.newton_iterations for r in cell.records),
            "voltages": [r.voltage for r in cell.records]}


def main() -> None:
    from mpi4py import MPI

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=16)
    parser.add_argument("--dim", type=int, choices=(2, 3), default=2)
    parser.add_argument("--cells", type=int, default=8, help="divisions per axis of each particle")
    parser.add_argument("--steps", type=int, default=4, help="steps per run (the first is left out of the mean)")
    parser.add_argument("--dt", type=float, default=20.0, help="step [s]")
    parser.add_argument("--split-first", action="store_true", help="run split before shared (order effects)")
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    order = ("split", "shared") if args.split_first else ("shared", "split")
    results = {d: measure(d, args, comm) for d in order}
    if comm.rank == 0:
        shared, split = results["shared"], results["split"]
        difference = max(abs(a - b) / abs(a) for a, b in zip(shared["voltages"], split["voltages"]))
        for r in results.values():
            print(json.dumps({k: v for k, v in r.items() if k != "voltages"}))
        print(json.dumps({"speed_up_per_step": shared["mean_step_s"] / split["mean_step_s"],
                          "voltage_relative_difference": difference}))


if __name__ == "__main__":
    main()
