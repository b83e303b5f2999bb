"""Time the resolved porous MIEC electrode (femiec.problems.miec_electrode) on an N^3 synthetic image: the
steady solve (equilibrium -> eta = 0.05 V, Butler-Volmer exchange) and a 30-frequency impedance spectrum,
measured in one run.

Steady solver (``--steady-solver``): ``direct`` (Newton + MUMPS LU) or ``fieldsplit`` (inexact Newton-Krylov:
FGMRES + one BoomerAMG V-cycle per block u, psi_el: PorousMIECElectrode's ``preset="fieldsplit"``).
Spectrum (``--spectrum-method``): ``presb-lu`` (PRESB-GMRES per frequency, MUMPS inner solves, factorisation
reused over 0.5 decade) or ``reduced-fieldsplit`` (the whole sweep from one projected system,
femiec.studies.reduced_sweep, its real shift solves by GMRES + one BoomerAMG V-cycle per block at
inner_rtol 1e-8, reduced_tol 1e-4: the battery electrode's impedance settings, demos/nmc_impedance).
``--output FILE`` writes the current and the spectrum (for comparing the two paths).

Image: overlapping MIEC spheres of radius N/16 voxels, porosity 0.4 (the interior of a larger box), voxel
0.1 um; material and exchange of demos/mixed_conductor_electrode. Printed (rank 0, one JSON line): unknowns,
Newton and Krylov iterations of the steady solve, its wall time, the spectrum's wall time and factorisations
and Krylov iterations, the ratio spectrum / steady (of wall and of CPU time: on a shared machine the CPU
time, the largest over the ranks, is the steadier measure of the work), and the peak resident memory per
rank (getrusage) after the steady solve and at the end.
The issue's target: 128^3 on 2 ranks, steady <= 10 min, spectrum <= 2 x steady.

    mpirun -n 2 python benchmarks/bench_miec_electrode.py --size 32 [--steady-solver fieldsplit]
        [--spectrum-method reduced-fieldsplit] [--output out.json]
"""
from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
from mpi4py import MPI

from femiec.forms.miec import exchange_resistance
from femiec.homogenization.synthetic import overlapping_spheres
from femiec.materials.defects import DefectChemistry
from femiec.problems.miec_electrode import PorousMIECElectrode, connected_solid
from femiec.studies.impedance import frequencies

MATERIAL = DefectChemistry(acceptor=4000.0, reduction_prefactor=2e-7, reduction_enthalpy=0.0,
                           intrinsic_prefactor=1e-8, intrinsic_enthalpy=0.0, vacancy_mobility=2.6e-9,
                           electron_mobility=1e-2, hole_mobility=1e-2, name="electronic MIEC, constant K")
T, PRESSURE, R_S, VOXEL = 1000.0, 1e-21, 1e-5, 1e-7
STEADY = ("direct", "fieldsplit")
SPECTRUM = {"presb-lu": {"method": "presb", "inner": "lu", "reuse_decades": 0.5},
            "reduced-fieldsplit": {"method": "reduced", "inner": "fieldsplit", "inner_rtol": 1e-8,
                                   "reduced_tol": 1e-4}}


def main(size: int, steady_solver: str, spectrum_method: str, output: str | None) -> None:
    comm = MPI.COMM_WORLD
    radius = max(2.0, size / 16)
    margin = int(2 * radius)
    spheres = overlapping_spheres([size + 2 * margin] * 3, 0.4, radius, seed=1)
    image = connected_solid(spheres[margin:-margin, margin:-margin, margin:-margin], solid=1, pore=0)
    start = time.perf_counter()
    electrode = PorousMIECElectrode(image, VOXEL, MATERIAL, temperature=T, oxygen_pressure=PRESSURE, comm=comm,
                                    exchange_rate=exchange_resistance(R_S, T), preset=steady_solver)
    setup = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    current = electrode.solve(0.05)
    steady = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    steady_cpu = comm.allreduce(time.process_time() - cpu, op=MPI.MAX)
    steady_memory = comm.gather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, root=0)
    record = electrode.problem.records[-1]
    # 30 frequencies from 1e-3 to 1e3 / tau_D, tau_D = L^2 / D_chem (the problem's diffusion time)
    time_constant = electrode.problem.diffusion_time()
    f = frequencies(1e-3 / time_constant, 1e3 / time_constant, 5)[:30]
    start, cpu = time.perf_counter(), time.process_time()
    spectrum = electrode.impedance(f, **SPECTRUM[spectrum_method])
    sweep = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    sweep_cpu = comm.allreduce(time.process_time() - cpu, op=MPI.MAX)
    memory = comm.gather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, root=0)
    if comm.rank == 0:
        if output:
            with open(output, "w") as stream:
                json.dump({"current_density_A_m2": current, "frequency_Hz": f.tolist(),
                           "Z_ohm_m2": [[z.real, z.imag] for z in spectrum.area_specific]}, stream)
        cost = {key: value for key, value in spectrum.cost.items() if key != "method"}
        print(json.dumps({
            "size": size, "ranks": comm.size, "steady_solver": steady_solver, "spectrum_method": spectrum_method,
            "unknowns": spectrum.unknowns, "setup_s": round(setup, 2),
            "steady_s": round(steady, 2), "steady_cpu_s": round(steady_cpu, 2),
            "newton_iterations": record["newton_iterations"],
            "krylov_iterations": record["krylov_iterations"], "current_density_A_m2": current,
            "spectrum_s": round(sweep, 2), "spectrum_cpu_s": round(sweep_cpu, 2), "frequencies": len(f),
            # set-ups of B = J + s M (MUMPS factorisations or fieldsplit/AMG set-ups); Krylov iterations: the
            # outer GMRES ones of presb, the shift solves' and the check's of the reduced sweep
            "factorizations": int(spectrum.cost["factorizations"]),
            "krylov_iterations_spectrum": int(spectrum.cost.get("krylov_iterations",
                                                                 sum(s.iterations for s in spectrum.stats))),
            "spectrum_over_steady": round(sweep / steady, 2), "cpu_ratio": round(sweep_cpu / steady_cpu, 2),
            "asr_at_low_frequency_ohm_m2": float(np.real(spectrum.area_specific[-1])),
            "spectrum_cost": cost, "peak_rss_mb_per_rank_steady": [round(m, 1) for m in steady_memory],
            "peak_rss_mb_per_rank": [round(m, 1) for m in memory]}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steady-solver", choices=sorted(STEADY), default="direct")
    parser.add_argument("--spectrum-method", choices=sorted(SPECTRUM), default="presb-lu")
    parser.add_argument("--output", default=None, help="JSON file for the current and the spectrum")
    args = parser.parse_args()
    main(args.size, args.steady_solver, args.spectrum_method, args.output)
