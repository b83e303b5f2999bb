"""Electrode tortuosity factor (blocking symmetric cell): femiec's impedance study against TauFactor's
``ElectrodeSolver``, measured in the same run.

The experiment (Nguyen et al., npj Comput. Mater. 6 (2020) 123): the pore phase of an image holds an
electrolyte, every pore/solid face is a double layer, a small AC voltage is applied at x = 0 and the cell
is closed at x = L; tau_e = R_ion kappa eps A / L with R_ion = 3 Re Z at low frequency.

- TauFactor 1.2.1 (its own environment, TAUFACTOR_PYTHON, default /work/tf-venv/bin/python; CPU, torch
  with 2 threads): SOR on a complex voxel field in units res = c_DL = 1 per voxel, omega starting at 1e-6
  and reduced by 10 until tau_e changes by less than 1e-3; it reports tau_e = eps 3 Re Z A / (nx + 2)
  (the padded length) and its current enters from a reservoir voxel one voxel spacing before x = 0.
  The box faces y, z and x = L count as solid (capacitive) for TauFactor.
- femiec: the blocking cell (femiec.problems.blocking_cell, Q1 on the voxel mesh, kappa = 1 S/m,
  C_dl = 2 F/m^2 = TauFactor's low-frequency wall capacitance per face, voxel = 1 m). To give it
  TauFactor's boundaries the image is padded with one solid layer on the y and z sides and at x = L;
  only the pore voxels and the solid voxels that share a face with them are meshed (the walls are the
  faces between the two; the rest of the solid carries nothing). Small-signal solve: PRESB-preconditioned
  FGMRES with CG + BoomerAMG inner solves (``inner="cg"``), FGMRES rtol 1e-6, inner rtol 1e-4 for the
  timed runs. tau_e = 3 Re Z kappa eps A / L with L = nx, A = ny nz, eps the image's pore fraction.
  Two kinds of run: ``tau_e`` (what tau_e needs: omega R0 C = 0.1 and 0.01, R0 = L/(kappa eps A) the
  straight-pore resistance and C the wall capacitance: TauFactor's check of a 10x lower omega, tau_e from
  the lower) and ``spectrum`` (30 frequencies, omega R0 C = 1e3 ... 1e-2, warm starts, the factorization
  reused over half a decade; tau_e also fitted to the line below the knee,
  femiec.studies.electrode_tortuosity).
- Reference: femiec at omega R0 C = 1e-2 and 1e-3, FGMRES rtol 1e-11, inner rtol 1e-12 (tau_e from
  1e-3: the omega-dependence of Re Z is O((omega R C)^2)).

Each run is a fresh process; times exclude interpreter start and imports and include everything from the
image array to Z (femiec: voxel mesh, problem, linearisation, solves; TauFactor: solver set-up and all
of its omega stages). Peak memory is the peak resident set size summed over ranks.

    .venv/bin/python benchmarks/bench_impedance.py [--quick] [--only IMAGE] [--no-spectrum] [--no-taufactor]
        [--spectrum-method presb|reduced|both] [--nmc-size N]

``--quick``: a 64^3 overlapping-sphere image only. Otherwise the 128^3 one and a crop of the NMC pore
phase (``--nmc-size``, default 128: a 128^3 corner of ../shared/data/nmc_electrode_256.tiff, value 0).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NMC = ROOT.parent / "shared" / "data" / "nmc_electrode_256.tiff"
TAUFACTOR_PYTHON = os.environ.get("TAUFACTOR_PYTHON", "/work/tf-venv/bin/python")
TIMED = {"rtol": 1e-6, "inner_rtol": 1e-4}  # femiec's tolerances for the timed runs
TIGHT = {"rtol": 1e-11, "inner_rtol": 1e-12}
OMEGA_RC = {"tau_e": [0.1, 0.01], "spectrum": list(np.logspace(3, -2, 30)), "reference": [1e-2, 1e-3]}
OMEGA_RC["spectrum-reduced"] = OMEGA_RC["spectrum"]
#: the reduced sweep's tolerances for the timed spectrum (femiec.studies.reduced_sweep)
REDUCED = {"method": "reduced", "reduced_tol": 1e-4, "inner_rtol": 1e-8}

TAUFACTOR_WORKER = """
import json, re, sys, time
import numpy as np
import taufactor
import torch
torch.set_num_threads(2)  # the harness sets OMP_NUM_THREADS=1 for the MPI runs, which torch would follow
pore = (np.load(sys.argv[1]) == 0).astype(np.uint8)
start = time.perf_counter()
solver = taufactor.ElectrodeSolver(pore, device="cpu")
solver.solve(verbose=True)
wall = time.perf_counter() - start
peak = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) * 1024
print(json.dumps({"threads": torch.get_num_threads(), "tau_e": float(solver.tau_e), "re_z": float(solver.z.real), "omega": solver.omega,
                  "wall_time_s": wall, "last_stage_iterations": int(solver.iter), "peak_bytes": peak}))
"""


def femiec_worker(path: str, kind: str) -> None:
    """Build the blocking cell of the image at ``path`` and solve ``kind`` (tau_e, spectrum, reference) in
    this process (under mpirun or not); print one JSON line on rank 0."""
    from mpi4py import MPI
    from scipy import ndimage

    from femiec.meshing.voxel import voxel_mesh
    from femiec.problems.blocking_cell import BlockingCellProblem
    from femiec.studies.electrode_tortuosity import electrode_tortuosity
    from femiec.studies.impedance import impedance_spectrum

    comm = MPI.COMM_WORLD
    image = np.load(path)
    comm.barrier()
    start = time.perf_counter()
    pore = image == 0
    nx, ny, nz = pore.shape
    eps, area = float(pore.mean()), float(ny * nz)
    padded = np.zeros((nx + 1, ny + 2, nz + 2), dtype=bool)
    padded[:nx, 1:-1, 1:-1] = pore
    walls = ndimage.binary_dilation(padded, ndimage.generate_binary_structure(3, 1)) & ~padded
    labels = np.full(padded.shape, 2, dtype=np.uint8)
    labels[padded], labels[walls] = 0, 1
    meshdata = voxel_mesh(labels, phases=[0, 1], voxel_size=1.0, comm=comm,
                          phase_names={0: "pore", 1: "wall", 2: "solid"})
    problem = BlockingCellProblem(meshdata, ["pore"], "xmin", conductivity=1.0, capacitance=2.0)
    setup = time.perf_counter() - start
    R0, C = nx / (eps * area), 2.0 * problem.wall_area
    omega_rc = np.asarray(OMEGA_RC[kind])
    tolerances = TIGHT if kind == "reference" else REDUCED if kind == "spectrum-reduced" else TIMED
    spectrum = impedance_spectrum(problem.impedance_port(), omega_rc / (R0 * C) / (2 * np.pi), inner="cg",
                                  **tolerances)
    wall = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    peak = int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) * 1024
    peak = comm.allreduce(peak)
    if comm.rank == 0:
        Z = spectrum.impedance
        tau = 3 * Z.real * eps * area / nx
        out = {"tau_e": float(tau[-1]), "tau_e_previous_omega": float(tau[-2]), "wall_time_s": wall,
               "setup_s": setup, "unknowns": spectrum.unknowns, "iterations": [s.iterations for s in spectrum.stats],
               "peak_bytes": peak, "omega_R0C": [float(w) for w in omega_rc]}
        if kind.startswith("spectrum"):
            fit = electrode_tortuosity(spectrum, 1.0, eps, float(nx), area)
            out["tau_e_fit"], out["fit_misfit"], out["fit_points"] = fit.tortuosity, fit.misfit, fit.points
        print(json.dumps(out))


def _run(command: list[str]) -> tuple[dict | None, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl="self,vader", OMPI_MCA_rmaps_base_oversubscribe="1", PYTHONPATH=str(ROOT))
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        print(f"  failed: {' '.join(command)}\n{done.stderr[-2000:]}")
        return None, done.stdout
    return json.loads(lines[-1]), done.stdout


def femiec(path: Path, ranks: int, kind: str) -> dict | None:
    command = [sys.executable, __file__, "--worker", str(path), kind]
    result = _run((["mpirun", "-n", str(ranks)] if ranks > 1 else []) + command)[0]
    print(f"  femiec {kind}, {ranks} rank(s): {json.dumps(result)}", flush=True)
    return result


def taufactor(path: Path) -> dict | None:
    if not Path(TAUFACTOR_PYTHON).is_file():
        print("TauFactor: peer missing (set TAUFACTOR_PYTHON to a Python with taufactor installed)")
        return None
    result, stdout = _run([TAUFACTOR_PYTHON, "-c", TAUFACTOR_WORKER, str(path)])
    if result is not None:
        stages = [float(v.rstrip(".")) for v in re.findall(r"Semi-converged to (\S+)", stdout)]
        result["stages"] = len(stages) + 1
        result["tau_e_previous_omega"] = stages[-1] if stages else float("nan")
    print(f"  TauFactor: {json.dumps(result)}", flush=True)
    return result


def bench_image(name: str, image: np.ndarray, workdir: Path, spectrum: bool, peer: bool,
                methods: tuple[str, ...] = ("presb", "reduced")) -> None:
    path = workdir / f"{name}.npy"
    np.save(path, image)
    nx = image.shape[0]
    print(f"\n== {name}: {'x'.join(map(str, image.shape))}, pore fraction {np.mean(image == 0):.4f}, "
          f"load average {os.getloadavg()[0]:.1f}")
    reference = femiec(path, 2, "reference")
    ref = reference["tau_e"] if reference else float("nan")
    print(f"femiec reference tau_e (omega R0 C = 1e-3, rtol 1e-11): {ref:.7f} "
          f"(omega R0 C = 1e-2: {reference and reference['tau_e_previous_omega']:.7f})")
    rows = {"TauFactor ElectrodeSolver (2 threads)": taufactor(path) if peer else None}
    for ranks in (1, 2):
        rows[f"femiec tau_e (2 freq.), {ranks} rank(s)"] = femiec(path, ranks, "tau_e")
    if spectrum:
        for ranks in (1, 2):
            if "presb" in methods:
                rows[f"femiec spectrum (30 freq.), {ranks} rank(s)"] = femiec(path, ranks, "spectrum")
            if "reduced" in methods:
                rows[f"femiec reduced spectrum (30 freq.), {ranks} rank(s)"] = femiec(path, ranks, "spectrum-reduced")
    print(f"{'run':40s} {'tau_e':>9s} {'vs ref':>9s} {'vs 10x omega':>12s} {'wall/s':>8s} {'unknowns':>9s} "
          f"{'MB':>7s}  iterations")
    for label, r in rows.items():
        if r is None:
            continue
        its = r.get("iterations", f"{r.get('stages', '?')} omega stages, last {r.get('last_stage_iterations')} SOR")
        print(f"{label:40s} {r['tau_e']:9.5f} {abs(r['tau_e'] / ref - 1):9.1e} "
              f"{abs(r['tau_e'] / r['tau_e_previous_omega'] - 1):12.1e} {r['wall_time_s']:8.1f} "
              f"{r.get('unknowns', image.size):9d} {r['peak_bytes'] / 2**20:7.0f}  {its}")
        if "tau_e_fit" in r:
            print(f"{'':40s} fitted line (omega R C <= 10, {r['fit_points']} points): tau_e = {r['tau_e_fit']:.5f}, "
                  f"misfit {r['fit_misfit']:.1e}")
    peer = rows["TauFactor ElectrodeSolver (2 threads)"]
    if peer:
        print(f"TauFactor tau_e with L = nx instead of nx + 2: {peer['tau_e'] * (nx + 2) / nx:.5f}")
        for label, r in rows.items():
            if r is not None and r is not peer:
                print(f"ratio {label} / TauFactor wall time: {r['wall_time_s'] / peer['wall_time_s']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only a 64^3 synthetic image")
    parser.add_argument("--only", choices=["spheres64", "spheres128", "nmc"], help="run this image only")
    parser.add_argument("--nmc-size", type=int, default=128, help="edge of the NMC crop in voxels")
    parser.add_argument("--no-spectrum", action="store_true", help="skip the 30-frequency spectra")
    parser.add_argument("--no-taufactor", action="store_true", help="skip TauFactor (it takes long)")
    parser.add_argument("--spectrum-method", choices=["presb", "reduced", "both"], default="both",
                        help="the 30-frequency spectra: per-frequency PRESB, the reduced sweep, or both")
    args = parser.parse_args()
    from femiec.homogenization.synthetic import overlapping_spheres

    if args.quick:
        images = {"spheres64": overlapping_spheres((64, 64, 64), 0.4, 5.0, seed=0)}
    else:
        images = {"spheres128": overlapping_spheres((128, 128, 128), 0.4, 5.0, seed=0)}
        if NMC.is_file():
            import tifffile

            n = args.nmc_size
            images["nmc"] = np.ascontiguousarray(tifffile.imread(NMC)[:n, :n, :n])
        else:
            print(f"NMC image {NMC} not found: skipped")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as workdir:
        for name, image in images.items():
            if args.only and name != args.only:
                continue
            methods = ("presb", "reduced") if args.spectrum_method == "both" else (args.spectrum_method,)
            bench_image(name, image, Path(workdir), not args.no_spectrum, not args.no_taufactor, methods)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        femiec_worker(sys.argv[2], sys.argv[3])
    else:
        main()
