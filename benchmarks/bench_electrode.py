"""Benchmark of the electrode model on crops of the NMC image: 1C discharge steps.

A porous separator layer of ``--separator-voxels`` voxels (default 4, as in the demos) is added in front
of the crop (docs/electrode.md). Prints per crop and linear-solver preset: global dofs, set-up time, time
per accepted step, Newton and Krylov iterations per step, the ratio of the time per step to the time of
one linear solve of the first Jacobian (factorization and solve, or preconditioner set-up and Krylov
solve), the ratio of the time per step to one single-field Poisson solve on the same voxel mesh (P1, the
electrode's BoomerAMG settings, CG to rtol 1e-10, assembly and set-up included:
``bench_npp.poisson_solve_time``; issue 18's unit) and the peak memory per rank (before the Poisson
solve); run with ``mpirun -n N`` for N ranks. The presets run one after the other in the same process,
so their ratio is measured under the same machine load.

    python benchmarks/bench_electrode.py --crops 12 16 --steps 3 --presets direct fieldsplit
    python benchmarks/bench_electrode.py --crops 128 --steps 2 --presets fieldsplit --petsc pc_fieldsplit_type=additive
    python benchmarks/bench_electrode.py --crops 16 24 --steps 2 --presets fieldsplit \
        --electrolyte-preconditioners split electrochemical

``--discharge``: instead of fixed steps, a whole 1C discharge to 3.4 V per crop and preset with the run's
defaults (BDF2, 0.5 mV local voltage error per step), once with Newton starting from the last state and
once from the extrapolated one (``ElectrodeProblem.run(predictor=...)``), one after the other in the
process: steps, Newton and Krylov iterations, CPU and wall time of each, the largest difference of
their voltage curves (dense output) and capacities, and the wall time per accepted step (rejected
attempts included) over one Poisson solve on the same mesh, timed after the two runs.
"""
from __future__ import annotations

import argparse
import resource
import time

from mpi4py import MPI

import numpy as np

from bench_npp import poisson_solve_time
from femiec.meshing.tomography import pad_face, read_image
from femiec.meshing.voxel import voxel_mesh
from femiec.models.electrode import ElectrodeModel
from femiec.problems.electrode_case import problem_from_section
from femiec.solvers.presets import BOOMERAMG_3D_HEX

IMAGE = "../shared/data/nmc_electrode_256.tiff"
NAMES = {0: "pore", 85: "nmc", 170: "carbon_binder", 255: "separator"}


def crop_with_separator(n: int, separator_voxels: int) -> tuple[np.ndarray, dict | None]:
    """The n^3 corner crop of the shared image with a porous separator layer of ``separator_voxels``
    voxels at xmin (value 255), and the ``porous_separator`` section of that layer (None without one)."""
    image = np.ascontiguousarray(read_image(IMAGE)[:n, :n, :n])
    if not separator_voxels:
        return image, None
    return pad_face(image, "xmin", separator_voxels, 255), {"regions": ["separator"]}


def bench(n: int, steps: int, preset: str, separator_voxels: int, comm, petsc_options: dict | None = None,
          electrolyte_preconditioner: str = "split") -> dict:
    start = time.perf_counter()
    image, layer = crop_with_separator(n, separator_voxels)
    model = ElectrodeModel(kind="electrode", conductor_regions=["carbon_binder"], porous_separator=layer)
    meshdata = voxel_mesh(image, voxel_size=1e-6, phase_names=NAMES, comm=comm)
    problem = problem_from_section(model, meshdata, preset=preset, petsc_options=dict(petsc_options or {}),
                                   electrolyte_preconditioner=electrolyte_preconditioner)
    problem.set_current(problem.one_c_current())
    problem.dt.value = 60.0
    setup = time.perf_counter() - start
    linear, _ = problem.solver.time_linear_solve()
    per_step, newton, krylov = timed_steps(problem, steps, 60.0, f"the {n}^3 crop")
    peak_mb = comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, op=MPI.MAX)
    poisson, poisson_its = poisson_solve_time(meshdata, amg=BOOMERAMG_3D_HEX)
    return {"crop": n, "preset": preset, "electrolyte": electrolyte_preconditioner,
            "ranks": comm.size, "dofs": problem.describe()["dofs"], "setup_s": setup,
            "step_s": per_step, "newton_per_step": newton, "krylov_per_step": krylov,
            "step_over_linear_solve": per_step / linear, "poisson_s": poisson, "poisson_cg_its": poisson_its,
            "step_over_poisson": per_step / poisson, "voltage_V": problem.voltage(), "peak_mb_per_rank": peak_mb}


def discharge_pair(n: int, preset: str, separator_voxels: int, comm) -> list[dict]:
    """A 1C discharge of the crop without and with Newton's predictor (module docstring)."""
    image, layer = crop_with_separator(n, separator_voxels)
    model = ElectrodeModel(kind="electrode", conductor_regions=["carbon_binder"], porous_separator=layer)
    meshdata = voxel_mesh(image, voxel_size=1e-6, phase_names=NAMES, comm=comm)
    rows, curves = [], []
    for predictor in (False, True):
        problem = problem_from_section(model, meshdata, preset=preset)
        comm.barrier()
        wall, cpu = time.perf_counter(), time.process_time()
        reason = problem.run(c_rate=1.0, voltage_min=3.4, scheme="bdf2", error_tolerance=5e-4, dense_output=0.01,
                             predictor=predictor)
        wall, cpu = time.perf_counter() - wall, comm.allreduce(time.process_time() - cpu, op=MPI.MAX)
        records = problem.records
        curves.append(np.array([r.voltage for r in problem.dense_records]))
        rows.append({"crop": n, "preset": preset, "predictor": predictor, "ranks": comm.size, "stop": reason,
                     "steps": len(records) - 1, "newton": sum(r.newton_iterations for r in records),
                     "krylov": sum(r.krylov_iterations for r in records),
                     "rejected": sum(r.rejected_attempts for r in records), "wall_s": wall, "cpu_s": cpu,
                     "capacity_Ah": records[-1].capacity_Ah})
    points = min(len(c) for c in curves)
    rows[1]["curve_difference_V"] = float(np.max(np.abs(curves[0][:points] - curves[1][:points])))
    rows[1]["capacity_difference"] = rows[1]["capacity_Ah"] / rows[0]["capacity_Ah"] - 1
    poisson, _ = poisson_solve_time(meshdata, amg=BOOMERAMG_3D_HEX)
    for row in rows:
        row["poisson_s"] = poisson
        row["step_over_poisson"] = row["wall_s"] / row["steps"] / poisson
    return rows


def timed_steps(problem, steps: int, dt: float, where: str) -> tuple[float, float, float]:
    """(wall time [s], Newton iterations, Krylov iterations) per step of ``steps`` accepted steps of ``dt``
    [s] of an electrode problem; RuntimeError naming ``where`` when a step fails."""
    newton = krylov = 0
    t0 = time.perf_counter()
    for _ in range(steps):
        stats = problem.step(dt)
        if not stats.converged:
            raise RuntimeError(f"step failed on {where}: {stats.reason}")
        problem._accept(dt)
        newton += stats.newton_iterations
        krylov += stats.krylov_iterations
    return (time.perf_counter() - t0) / steps, newton / steps, krylov / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crops", type=int, nargs="+", default=[12, 16])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--presets", nargs="+", default=["direct", "fieldsplit"], help="linear-solver presets")
    parser.add_argument("--electrolyte-preconditioners", nargs="+", default=["split"],
                        choices=["split", "electrochemical"],
                        help="the electrolyte's (c, phi_e) preconditioner of the fieldsplit preset, each in turn")
    parser.add_argument("--separator-voxels", type=int, default=4, help="porous separator layer (0: none)")
    parser.add_argument("--petsc", nargs="*", default=[], metavar="KEY=VALUE",
                        help="PETSc options without prefix, e.g. pc_fieldsplit_type=additive")
    parser.add_argument("--discharge", action="store_true",
                        help="a whole 1C discharge without and with Newton's predictor (module docstring)")
    args = parser.parse_args()
    petsc_options = dict(item.split("=", 1) for item in args.petsc)
    comm = MPI.COMM_WORLD
    runs = [(n, p, e) for n in args.crops for p in args.presets
            for e in (args.electrolyte_preconditioners if p == "fieldsplit" else ["split"])]
    for n, preset, electrolyte in runs:
        results = (discharge_pair(n, preset, args.separator_voxels, comm) if args.discharge else
                   [bench(n, args.steps, preset, args.separator_voxels, comm, petsc_options, electrolyte)])
        for result in results:
            if comm.rank == 0:
                print(", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()),
                      flush=True)


if __name__ == "__main__":
    main()
