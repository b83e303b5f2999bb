"""Benchmark: 3D Nernst–Planck–Poisson (2 species, P1, log-concentrations) on a box, against one linear
Poisson solve on the same mesh.

Usage: python benchmarks/bench_npp.py [cells per side ...]     (default: 40, about 2e5 unknowns)
       mpirun -n 2 python benchmarks/bench_npp.py 40           (same case on 2 ranks)
       FEMIEC_BENCH_PRESET=direct python benchmarks/bench_npp.py 20

For each mesh: unknowns, Newton iterations, Krylov iterations, time per Newton step, peak memory per rank,
the time of one linear Poisson solve (CG + BoomerAMG, rtol 1e-10) on the same mesh, and their ratio
(the overhead of the coupled nonlinear solve relative to the cheapest elliptic solve).
"""
from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "verification"))
from npp_support import box_mesh  # noqa: E402

from femiec.constants import thermal_voltage  # noqa: E402
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson  # noqa: E402
from femiec.problems.npp_conditions import FixedConcentration, FixedPotential  # noqa: E402
from femiec.problems.species import Species  # noqa: E402

SIDE, C0, EPS_R, T = 200e-9, 1.0, 78.5, 298.15  # lambda_D = 9.6 nm


def poisson_solve_time(meshdata) -> tuple[float, int]:
    """Time [s] and iterations of one linear P1 Poisson solve (CG + BoomerAMG) on the mesh."""
    import ufl
    from dolfinx import fem
    from dolfinx.fem.petsc import LinearProblem

    mesh = meshdata.mesh
    V = fem.functionspace(mesh, ("Lagrange", 1))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    facets = np.concatenate([meshdata.facet_tags.find(t) for t in (1, 2)])
    bc = fem.dirichletbc(0.0, fem.locate_dofs_topological(V, mesh.topology.dim - 1, facets), V)
    problem = LinearProblem(ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx, fem.Constant(mesh, 1.0) * v * ufl.dx,
                            bcs=[bc], petsc_options={"ksp_type": "cg", "pc_type": "hypre", "ksp_rtol": 1e-10})
    problem.solve()  # warm-up (JIT, set-up)
    mesh.comm.barrier()
    start = time.perf_counter()
    problem.solve()
    mesh.comm.barrier()
    return time.perf_counter() - start, problem.solver.getIterationNumber()


def npp_solve(meshdata, preset: str) -> dict:
    species = [Species("cation", 1, 1e-9, C0), Species("anion", -1, 1e-9, C0)]
    conditions = [FixedPotential("xmin", thermal_voltage(T)), FixedPotential("xmax", 0.0),
                  FixedConcentration("cation", "xmax", C0), FixedConcentration("anion", "xmax", C0)]
    comm = meshdata.comm
    comm.barrier()
    start = time.perf_counter()
    problem = NernstPlanckPoisson(meshdata, species, conditions=conditions, temperature=T,
                                  relative_permittivity=EPS_R, variables="log", preset=preset)
    comm.barrier()
    setup = time.perf_counter() - start
    start = time.perf_counter()
    records = problem.solve_steady()
    comm.barrier()
    solve = time.perf_counter() - start
    newton = sum(r["newton_iterations"] for r in records)
    krylov = sum(r["krylov_iterations"] for r in records)
    return {"unknowns": problem.W.dofmap.index_map.size_global, "setup_s": setup, "solve_s": solve,
            "newton": newton, "krylov": krylov, "per_newton_s": solve / max(newton, 1)}


def main(sizes) -> None:
    comm = MPI.COMM_WORLD
    preset = os.environ.get("FEMIEC_BENCH_PRESET", "fieldsplit")
    for n in sizes:
        meshdata = box_mesh(comm, [n, n, n], [SIDE] * 3)
        poisson_s, poisson_its = poisson_solve_time(meshdata)
        result = npp_solve(meshdata, preset)
        peak_mb = comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, op=MPI.MAX)
        if comm.rank == 0:
            print(f"ranks={comm.size} cells={n}^3 unknowns={result['unknowns']} preset={preset}\n"
                  f"  NPP: Newton {result['newton']}, Krylov {result['krylov']} "
                  f"({result['krylov'] / max(result['newton'], 1):.1f} per Newton), "
                  f"set-up {result['setup_s']:.2f} s, solve {result['solve_s']:.2f} s, "
                  f"{result['per_newton_s']:.3f} s per Newton step\n"
                  f"  Poisson (CG+AMG): {poisson_s:.3f} s, {poisson_its} iterations\n"
                  f"  ratio Newton step / Poisson solve: {result['per_newton_s'] / poisson_s:.1f}\n"
                  f"  peak memory per rank: {peak_mb:.0f} MB", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [40])
