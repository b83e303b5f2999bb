"""Krylov iterations of the Cahn–Hilliard electrode's fieldsplit under mesh refinement: the (c_s, mu) split
preconditioned by the nested Schur fieldsplit (``pair_preconditioner = "schur"``) against the block
factorisation of femiec.solvers.cahn_hilliard_pc (``"block"``), issue 21.

Geometry (the same physical cell at every resolution n): a cube of 8 um with n^3 voxels, electrolyte in the
first quarter along x (separator at x = 0) and a box particle of 6 x 6 x 6 um behind it (1 um from the
y and z faces, held at phi_s = 0 at x = 8 um). Cahn–Hilliard material as tests/verification/
test_electrode_cahn_hilliard.py's fieldsplit test: Omega = 3 R T, interface length sqrt(kappa / R T) =
1 um (1 voxel at n = 8, 2 at n = 16), k0 = 2e-5 mol/(m^2 s), V0 = 3.9 V, x0 = 0.05. Fixed steps: 1C,
backward Euler first step then BDF2, ``--steps`` steps of 60 s. Prints per resolution and preconditioner:
unknowns, Newton and Krylov iterations per step, Krylov iterations per Newton iteration, the largest
difference of the voltages from the direct solver's (``--direct``) and the wall time per step.

    python benchmarks/bench_electrode_ch_pc.py --sizes 8 12 16 --direct
    mpirun -n 2 python benchmarks/bench_electrode_ch_pc.py --sizes 16 24
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from mpi4py import MPI

from femiec.constants import GAS_CONSTANT
from femiec.meshing.voxel import voxel_mesh
from femiec.problems.electrode import ElectrodeProblem

T = 298.15
RT = GAS_CONSTANT * T
SIZE = 8e-6  # m, the edge of the cell
MATERIAL = {"interaction_energy": 3 * RT, "gradient_coefficient": RT * 1e-12, "standard_potential": 3.9,
            "rate_constant": 2e-5}


def cell(n: int, comm):
    """The voxel mesh of the cell at n^3 voxels (n a multiple of 8: the particle keeps a 1 um margin)."""
    image = np.zeros((n, n, n), dtype=np.uint8)
    k = n // 8
    image[2 * k:, k:7 * k, k:7 * k] = 1
    return voxel_mesh(image, voxel_size=SIZE / n, phase_names={0: "pore", 1: "nmc"}, comm=comm)


def run(meshdata, solver: str, steps: int, petsc_options=None) -> dict:
    """Voltages and iteration counts of ``steps`` fixed 60 s steps with ``solver``: "direct" or a
    pair preconditioner of the fieldsplit preset ("schur", "block", with ``petsc_options``)."""
    extra = {} if solver == "direct" else {"pair_preconditioner": solver, "petsc_options": petsc_options}
    problem = ElectrodeProblem(meshdata, electrolyte_regions=["pore"], active_regions=["nmc"], separator=["xmin"],
                               collector=["xmax"], temperature=T, particle_model="cahn_hilliard",
                               active={"initial_stoichiometry": 0.05, "stoichiometry_window": (0.05, 0.95)},
                               cahn_hilliard=MATERIAL, preset="direct" if solver == "direct" else "fieldsplit",
                               **extra)
    start = time.perf_counter()
    problem.run(c_rate=1.0, t_end=60.0 * steps, dt=60.0, dt_max=60.0, grow=1.0)
    elapsed = time.perf_counter() - start
    records = problem.records[1:]
    if len(records) != steps:
        raise RuntimeError(f"{solver}: {len(records)} of {steps} steps")
    newton = [r.newton_iterations for r in records]
    krylov = [r.krylov_iterations for r in records]
    return {"dofs": problem.describe()["dofs"], "voltages": np.array([r.voltage for r in problem.records]),
            "newton": newton, "krylov": krylov, "step_s": elapsed / steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 12, 16])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--solvers", nargs="+", default=["schur", "block"])
    parser.add_argument("--direct", action="store_true", help="also run the direct solver (the voltages' reference)")
    parser.add_argument("--petsc", nargs="*", default=[], metavar="KEY=VALUE",
                        help="PETSc options of the fieldsplit runs without prefix, e.g. "
                             "fieldsplit_cahn_hilliard_block_P1_pc_hypre_boomeramg_agg_nl=0")
    args = parser.parse_args()
    petsc_options = dict(item.split("=", 1) for item in args.petsc)
    comm = MPI.COMM_WORLD
    if comm.rank == 0:
        print("| voxels | unknowns | pair PC | Newton / step | Krylov / step | Krylov / Newton | "
              "max |V - V_direct| [V] | s / step |", flush=True)
        print("|---|---|---|---|---|---|---|---|", flush=True)
    for n in args.sizes:
        meshdata = cell(n, comm)
        reference = run(meshdata, "direct", args.steps) if args.direct else None
        for solver in args.solvers:
            result = run(meshdata, solver, args.steps, petsc_options)
            gap = "-" if reference is None else f"{np.max(np.abs(result['voltages'] - reference['voltages'])):.1e}"
            if comm.rank == 0:
                print(f"| {n}^3 | {result['dofs']} | {solver} | {np.mean(result['newton']):.3g} | "
                      f"{np.mean(result['krylov']):.3g} ({', '.join(map(str, result['krylov']))}) | "
                      f"{sum(result['krylov']) / sum(result['newton']):.3g} | {gap} | {result['step_s']:.3g} |",
                      flush=True)


if __name__ == "__main__":
    main()
