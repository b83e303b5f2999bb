"""Benchmark of the Cahn–Hilliard particle model of the electrode against the Fickian one on the same crop
of the NMC image: 1C discharge steps of 60 s (issue 21, target: CH / Fickian time per step <= 3).

Both models run one after the other in the same process (same load), on the crop with a porous separator
layer of ``--separator-voxels`` voxels in front (as benchmarks/bench_electrode.py). The Cahn–Hilliard
material is illustrative, not NMC data: Omega = 3 R T, interface length sqrt(kappa / R T) = 1 voxel,
k0 = 2e-5 mol/(m^2 s) (F k0 ~ the Fickian i0_ref = 2 A/m^2), V0 = 3.9 V, D = the active material's, and
both models start at x0 = 0.05 (outside the spinodal). Prints per model: unknowns, set-up time, time per
step, Newton and Krylov iterations per step, the peak memory per rank so far (ru_maxrss: the Cahn–Hilliard
row includes the Fickian run's peak) and the ratio of the times per step; run with ``mpirun -n N``.

    mpirun -n 2 python benchmarks/bench_electrode_ch.py --crop 16 --steps 3
    mpirun -n 2 python benchmarks/bench_electrode_ch.py --crop 64 --steps 3 --preset fieldsplit
"""
from __future__ import annotations

import argparse
import resource
import time

from mpi4py import MPI

from femiec.constants import GAS_CONSTANT
from femiec.meshing.voxel import voxel_mesh
from femiec.models.electrode import ElectrodeModel
from femiec.problems.electrode_case import problem_from_section

# benchmarks/ is on the path when a script of it runs
from bench_electrode import NAMES, crop_with_separator, timed_steps

RT = GAS_CONSTANT * 298.15
VOXEL = 1e-6
CAHN_HILLIARD = {"interaction_energy": 3 * RT, "gradient_coefficient": RT * VOXEL ** 2, "standard_potential": 3.9,
                 "rate_constant": 2e-5}


def bench(n: int, steps: int, particle_model: str, preset: str, separator_voxels: int, comm) -> dict:
    start = time.perf_counter()
    image, layer = crop_with_separator(n, separator_voxels)
    extra = {"cahn_hilliard": CAHN_HILLIARD} if particle_model == "cahn_hilliard" else {}
    model = ElectrodeModel(kind="electrode", conductor_regions=["carbon_binder"], porous_separator=layer,
                           particle_model=particle_model, discharge={"c_rate": 1.0, "voltage_min": 3.0},
                           active_material={"initial_stoichiometry": 0.05, "stoichiometry_window": [0.05, 0.95]},
                           **extra)
    meshdata = voxel_mesh(image, voxel_size=VOXEL, phase_names=NAMES, comm=comm)
    problem = problem_from_section(model, meshdata, preset=preset)
    problem.set_current(problem.one_c_current())
    setup = time.perf_counter() - start
    per_step, newton, krylov = timed_steps(problem, steps, 60.0, f"the {n}^3 crop ({particle_model})")
    peak_mb = comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, op=MPI.MAX)
    return {"crop": n, "model": particle_model, "preset": preset, "ranks": comm.size,
            "unknowns": problem.describe()["dofs"], "setup_s": setup, "step_s": per_step,
            "newton_per_step": newton, "krylov_per_step": krylov, "voltage_V": problem.voltage(),
            "peak_mb_per_rank": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crop", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--preset", default="direct", help="linear-solver preset (direct, fieldsplit)")
    parser.add_argument("--separator-voxels", type=int, default=4, help="porous separator layer (0: none)")
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    results = {}
    for particle_model in ("fickian", "cahn_hilliard"):
        results[particle_model] = result = bench(args.crop, args.steps, particle_model, args.preset,
                                                 args.separator_voxels, comm)
        if comm.rank == 0:
            print(", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()),
                  flush=True)
    if comm.rank == 0:
        ratio = results["cahn_hilliard"]["step_s"] / results["fickian"]["step_s"]
        print(f"time per step CH / Fickian = {ratio:.3g} (issue target <= 3)", flush=True)


if __name__ == "__main__":
    main()
