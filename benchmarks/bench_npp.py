"""Benchmark: 3D Nernst–Planck–Poisson (2 species, P1, log-concentrations) on a box, against one linear
Poisson solve on the same mesh.

Usage: python benchmarks/bench_npp.py [cells per side ...]     (default: 40, about 2e5 unknowns)
       mpirun -n 2 python benchmarks/bench_npp.py 40           (same case on 2 ranks)
       python benchmarks/bench_npp.py 20 --preset direct
       mpirun -n 2 python benchmarks/bench_npp.py 40 68 --preset quasi_fermi --quadrature-degrees 4 2 --rounds 2
       mpirun -n 2 python benchmarks/bench_npp.py 20 40 --preset quasi_fermi --debye-ratios 1e-1 1e-2 1e-3 1e-4

For each mesh, Debye length and quadrature degree (in this order, the degrees alternating, ``--rounds``
times): unknowns, Newton iterations, Krylov iterations, time per Newton step, one residual and one
Jacobian assembly at the solution, peak memory per rank, the time of one linear Poisson solve (CG +
BoomerAMG, rtol 1e-10) on the same mesh, and the ratio of the Newton step to it (the overhead of the
coupled nonlinear solve relative to the cheapest elliptic solve). ``--debye-ratios``: lambda_D / L set by
the concentration c0 (default: c0 = 1 mol/m^3, lambda_D / L = 0.048). ``--preset`` defaults to
FEMIEC_BENCH_PRESET or ``fieldsplit``; ``--quadrature-degrees`` to the problem's default.
"""
from __future__ import annotations

import argparse
import gc
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
DEBYE_AT_1 = 9.6e-9  # lambda_D [m] at c0 = 1 mol/m^3 (as tests/verification/test_npp_quasi_fermi.py)


def poisson_solve_time(meshdata, boundaries=("xmin", "xmax"), amg: dict | None = None) -> tuple[float, int]:
    """Time [s] and iterations of one linear P1 Poisson solve on the mesh, -div grad u = 1 with u = 0 on
    the named facets ``boundaries``: assembly, BoomerAMG set-up (hypre's defaults, or the options ``amg``
    without their ``pc_hypre_boomeramg_`` prefix) and CG to rtol 1e-10, after a warm-up solve."""
    import ufl
    from dolfinx import fem
    from dolfinx.fem.petsc import LinearProblem

    mesh = meshdata.mesh
    V = fem.functionspace(mesh, ("Lagrange", 1))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    facets = np.concatenate([meshdata.facet_tags.find(meshdata.facet_id(name)) for name in boundaries])
    bc = fem.dirichletbc(0.0, fem.locate_dofs_topological(V, mesh.topology.dim - 1, facets), V)
    options = {"ksp_type": "cg", "pc_type": "hypre", "ksp_rtol": 1e-10,
               **{f"pc_hypre_boomeramg_{key}": value for key, value in (amg or {}).items()}}
    problem = LinearProblem(ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx, fem.Constant(mesh, 1.0) * v * ufl.dx,
                            bcs=[bc], petsc_options=options)
    problem.solve()  # warm-up (JIT, set-up)
    mesh.comm.barrier()
    start = time.perf_counter()
    problem.solve()
    mesh.comm.barrier()
    return time.perf_counter() - start, problem.solver.getIterationNumber()


def npp_solve(meshdata, preset: str, c0: float, quadrature_degree: int | None) -> dict:
    species = [Species("cation", 1, 1e-9, c0), Species("anion", -1, 1e-9, c0)]
    conditions = [FixedPotential("xmin", thermal_voltage(T)), FixedPotential("xmax", 0.0),
                  FixedConcentration("cation", "xmax", c0), FixedConcentration("anion", "xmax", c0)]
    comm = meshdata.comm
    comm.barrier()
    start = time.perf_counter()
    problem = NernstPlanckPoisson(meshdata, species, conditions=conditions, temperature=T,
                                  relative_permittivity=EPS_R, variables="log", preset=preset,
                                  quadrature_degree=quadrature_degree)
    comm.barrier()
    setup = time.perf_counter() - start
    start = time.perf_counter()
    records = problem.solve_steady()
    comm.barrier()
    solve = time.perf_counter() - start
    residual_s, jacobian_s = problem.solver.time_assembly()
    newton = sum(r["newton_iterations"] for r in records)
    krylov = sum(r["krylov_iterations"] for r in records)
    result = {"unknowns": problem.W.dofmap.index_map.size_global, "setup_s": setup, "solve_s": solve,
              "newton": newton, "krylov": krylov, "per_newton_s": solve / max(newton, 1),
              "residual_s": residual_s, "jacobian_s": jacobian_s, "quadrature_degree": problem.quadrature_degree}
    problem.solver.destroy()
    del problem
    gc.collect()
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[40], help="cells per side")
    parser.add_argument("--preset", default=os.environ.get("FEMIEC_BENCH_PRESET", "fieldsplit"))
    parser.add_argument("--quadrature-degrees", nargs="+", type=int, default=[None],
                        help="NernstPlanckPoisson(quadrature_degree=...) values, measured in turn")
    parser.add_argument("--debye-ratios", nargs="+", type=float, default=[None], help="lambda_D / L values")
    parser.add_argument("--rounds", type=int, default=1, help="repetitions of the quadrature degrees")
    args = parser.parse_args(argv)
    comm = MPI.COMM_WORLD
    for n in args.sizes:
        meshdata = box_mesh(comm, [n, n, n], [SIDE] * 3)
        poisson_s, poisson_its = poisson_solve_time(meshdata)
        for ratio in args.debye_ratios:
            c0 = C0 if ratio is None else (DEBYE_AT_1 / (ratio * SIDE)) ** 2
            for _ in range(args.rounds):
                for degree in args.quadrature_degrees:
                    r = npp_solve(meshdata, args.preset, c0, degree)
                    peak_mb = comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, op=MPI.MAX)
                    if comm.rank == 0:
                        print(f"ranks={comm.size} cells={n}^3 unknowns={r['unknowns']} preset={args.preset} "
                              f"lambda_D/L={DEBYE_AT_1 / c0 ** 0.5 / SIDE:.3g} "
                              f"quadrature_degree={r['quadrature_degree']}\n"
                              f"  NPP: Newton {r['newton']}, Krylov {r['krylov']} "
                              f"({r['krylov'] / max(r['newton'], 1):.1f} per Newton), "
                              f"set-up {r['setup_s']:.2f} s, solve {r['solve_s']:.2f} s, "
                              f"{r['per_newton_s']:.3f} s per Newton step; "
                              f"assembly: residual {r['residual_s']:.3f} s, Jacobian {r['jacobian_s']:.3f} s\n"
                              f"  Poisson (CG+AMG): {poisson_s:.3f} s, {poisson_its} iterations\n"
                              f"  ratio Newton step / Poisson solve: {r['per_newton_s'] / poisson_s:.1f}, "
                              f"Jacobian assembly / Poisson solve: {r['jacobian_s'] / poisson_s:.1f}\n"
                              f"  peak memory per rank: {peak_mb:.0f} MB", flush=True)


if __name__ == "__main__":
    main()
