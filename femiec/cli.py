"""The ``femiec`` command line.

    femiec run CASE.toml [--out DIR]      solve a case; fields for ParaView + summary.json in DIR
    femiec validate CASE.toml [--build]   check the case, its files, mesh and tags (--build: and build the
                                          problem) without solving
    femiec info                           versions of femiec, DOLFINx, PETSc, MPI; MPI size
    femiec homogenize IMAGE ...           effective transport properties of a segmented image
    femiec plot OUT_DIR                   draw the pictures of a finished run again (voltage/current/preview)
    femiec dfn CASE.toml [--run-dir DIR]  the porous-electrode (DFN) parameters of an electrode case's image
                                          as a PyBaMM parameter set; with PyBaMM, its DFN run against the run

Run in parallel with ``mpirun -n N femiec run CASE.toml``. Bad input prints one line
``error: <key>: <value> (expected <what>)`` on rank 0 and exits with status 2 before any solve.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from femiec._version import __version__
from femiec.errors import FemiecError, InputError, Interrupted, MissingDependencyError, SolverError

EXIT_INPUT = 2
EXIT_SOLVER = 1
EXIT_STACK = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="femiec", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"femiec {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="errors only, no progress bar")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="solve a case file")
    run.add_argument("case", help="TOML case file")
    run.add_argument("--out", help="output directory (default: [output] directory or out/<case name>)")

    validate = sub.add_parser("validate", help="check a case file, its files, mesh and tags without solving")
    validate.add_argument("case", help="TOML case file")
    validate.add_argument("--build", action="store_true",
                          help="also build the model's problem (the full check of `femiec run`; as much "
                               "time and memory as the run's set-up)")

    sub.add_parser("info", help="versions of femiec and its stack, MPI size")

    plot = sub.add_parser("plot", help="draw the pictures of a finished run again from its files")
    plot.add_argument("out_dir", help="output directory of a run (with summary.json)")

    fit = sub.add_parser("fit", help="adjust up to three case parameters so that the case's impedance "
                                     "spectrum matches a measured one")
    fit.add_argument("case", help="TOML case file with [study] kind = \"impedance\"")
    fit.add_argument("--measured", required=True, help="measured spectrum CSV (frequency, Re Z, Im Z)")
    fit.add_argument("--parameter", action="append", default=[], required=True,
                     help="dotted case key of a positive number to fit, e.g. "
                          "model.active_material.exchange_current_density (repeat up to three times)")
    fit.add_argument("--out", default="out/fit", help="output directory (default: out/fit)")

    dfn = sub.add_parser("dfn", help="porous-electrode (DFN) parameters of an electrode case's image, as a "
                                     "PyBaMM parameter set; with PyBaMM installed its DFN half-cell run")
    dfn.add_argument("case", help="TOML electrode case file on an image mesh")
    dfn.add_argument("--run-dir", help="output directory of a femiec run of the case (voltage.csv): plot "
                                       "both curves and their difference")
    dfn.add_argument("--out", help="output directory (default: out/<case name>_dfn)")
    dfn.add_argument("--transport-scheme", choices=["resolved", "fv"], default="resolved",
                     help="effective transport of each phase from the resolved electrode's discretisation (Q1 "
                          "on the voxel mesh, the case's mesh.connectivity; default) or from face-connected "
                          "finite volumes (fv)")
    dfn.add_argument("--radius", choices=["lag_kinetics", "lag_flux", "lag_concentration", "area", "sphere"],
                     default="lag_kinetics", help="DFN particle radius: the diffusion-lag radius of a solid-diffusion "
                     "solve on the particles with the case's linearised kinetics (lag_kinetics; default), a "
                     "uniform flux (lag_flux) or a uniform surface concentration (lag_concentration); or the "
                     "volume mean of 3 V_p/A_p (area) or of the equivalent-sphere radius (sphere)")

    homogenize = sub.add_parser("homogenize", help="tortuosity and effective tensor of a segmented image")
    from femiec.cli_homogenize import add_arguments

    add_arguments(homogenize)
    return parser


def _configure_logging(verbose: int, quiet: bool, rank: int) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    if rank != 0:
        level = logging.ERROR
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _rank() -> int:
    try:
        from mpi4py import MPI

        return MPI.COMM_WORLD.rank
    except ImportError:  # pragma: no cover
        return 0


def _command(args) -> int:
    if args.command == "plot":  # files only: no DOLFINx, drawn by rank 0
        from femiec.io.redraw import redraw

        if _rank() == 0:
            for path in redraw(args.out_dir):
                if not args.quiet:
                    print(f"drawn: {path}")
        return 0
    from mpi4py import MPI

    from femiec._compat import require_dolfinx

    require_dolfinx()
    comm = MPI.COMM_WORLD
    if args.command == "info":
        from femiec.info import versions

        if comm.rank == 0:
            for key, value in versions().items():
                print(f"{key:26s} {', '.join(value) if isinstance(value, list) else value}")
        return 0
    if args.command == "homogenize":
        from femiec.cli_homogenize import main as homogenize_main

        return homogenize_main(args, comm)

    if args.command == "fit":
        from femiec.studies.fit_case import fit_case

        result = fit_case(args.case, args.measured, args.parameter, args.out, comm)
        if comm.rank == 0 and not args.quiet:
            fitted = ", ".join(f"{k} = {v:.6g}" for k, v in result["values"].items())
            print(f"done: {fitted} (relative rms {result['relative_rms']:.3g}, {result['evaluations']} "
                  f"spectra); {Path(args.out) / 'fit.json'}")
        return 0
    from femiec.config import load_case
    from femiec.runner import run_case, validate

    case = load_case(args.case)
    if args.command == "dfn":
        return _dfn(case, args, comm)
    if args.command == "validate":
        meshdata = validate(case, comm, build=args.build)
        if comm.rank == 0 and meshdata is None:
            print(f"ok: {args.case} (model {case.model.kind})")
        elif comm.rank == 0:
            print(f"ok: {args.case} (model {case.model.kind}; mesh {case.mesh.kind} with cell tags "
                  f"{sorted(meshdata.cell_names)} and facet tags {sorted(meshdata.facet_names)})")
        return 0
    from femiec.interrupt import handled_signals

    with handled_signals():
        summary = run_case(case, args.out, comm, show_progress=not args.quiet)
    if comm.rank == 0 and not args.quiet:
        print(f"done: {summary}")
    return 0


def _dfn(case, args, comm) -> int:
    from femiec.studies.dfn import export_case

    summary = export_case(case, args.out or f"out/{case.case.name}_dfn", args.run_dir, comm,
                          transport_scheme=args.transport_scheme, radius=args.radius)
    if comm.rank == 0 and not args.quiet:
        print(f"parameters: {summary['parameters']} (capacity {summary['capacity_nominal_Ah']:.6g} A h)")
        print(f"transport ({summary['transport_scheme']}: {summary['transport_discretisation']}): electrolyte "
              f"D_eff/D {summary['electrolyte_transport_resolved']:.4g} resolved, "
              f"{summary['electrolyte_transport_fv']:.4g} fv; solid {summary['solid_conductivity_resolved_S_m']:.4g} "
              f"S/m resolved, {summary['solid_conductivity_fv_S_m']:.4g} S/m fv")
        print(f"particle radius ({summary['particle_radius']}) {1e6 * summary['particle_radius_m']:.4g} um; area "
              f"{1e6 * summary['particle_radius_area_m']:.4g}, sphere {1e6 * summary['particle_radius_sphere_m']:.4g}, "
              f"lag_flux {1e6 * summary['particle_radius_lag_flux_m']:.4g}, lag_kinetics "
              f"{1e6 * summary['particle_radius_lag_kinetics_m']:.4g}, lag_concentration "
              f"{1e6 * summary['particle_radius_lag_concentration_m']:.4g} um")
        if "dfn" in summary:
            print(f"DFN {summary['dfn']}")
        else:
            print(f"DFN: capacity to cut-off {summary['capacity_dfn_Ah']:.6g} A h; {summary['dfn_voltage_csv']}, "
                  f"{summary['dfn_voltage_png']}")
        if "capacity_difference" in summary:
            print(f"resolved: capacity {summary['capacity_resolved_Ah']:.6g} A h; DFN - resolved: capacity "
                  f"{100 * summary['capacity_difference']:+.3g}%, voltage rms "
                  f"{1e3 * summary['voltage_rms_difference_V']:.3g} mV (max {1e3 * summary['voltage_max_difference_V']:.3g} mV)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    rank = _rank()
    _configure_logging(args.verbose, args.quiet, rank)
    try:
        return _command(args)
    except FemiecError as exc:
        code, prefix = _exit_code(exc)
        if rank == 0:
            print(f"error: {prefix}{str(exc).splitlines()[0]}", file=sys.stderr)
        return code


def _exit_code(exc: FemiecError) -> tuple[int, str]:
    """Exit status and message prefix: 2 bad input, 3 missing stack, 128 + signal number for a run
    stopped by SIGINT (130) or SIGTERM (143), 1 failed solve or other error."""
    if isinstance(exc, Interrupted):
        return 128 + exc.signum, ""
    if isinstance(exc, InputError):
        return EXIT_INPUT, ""
    if isinstance(exc, MissingDependencyError):
        return EXIT_STACK, ""
    if isinstance(exc, SolverError):
        return EXIT_SOLVER, "solver: "
    return EXIT_SOLVER, ""


if __name__ == "__main__":
    sys.exit(main())
