"""``femiec homogenize``: arguments and dispatch to :func:`femiec.homogenization.homogenize`.

    femiec homogenize IMAGE --phase VALUE [--phase VALUE ...] --axis x|y|z|all
                      --method fv|fe|periodic --voxel-size METRES [--json OUT.json] [--out DIR]
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", help="segmented 3D image: TIFF stack, .npy, .vti or raw (with --shape/--dtype)")
    parser.add_argument("--phase", type=int, action="append", required=True, metavar="VALUE",
                        help="voxel value of the conducting phase (repeat to combine phases)")
    parser.add_argument("--axis", choices=["x", "y", "z", "all"], default="x",
                        help="flux axis; 'all' solves x, y and z and reports the tensor")
    parser.add_argument("--method", choices=["fv", "fe", "periodic"], default="fv",
                        help="fv: face-connected finite volumes (TauFactor's scheme); fe: Q1 finite "
                             "elements on the voxel mesh; periodic: periodic cell problems (full tensor)")
    parser.add_argument("--voxel-size", type=float, default=1.0, metavar="METRES",
                        help="edge length of a voxel in metres")
    parser.add_argument("--shape", type=int, nargs=3, metavar=("NX", "NY", "NZ"), help="raw images only")
    parser.add_argument("--dtype", help="raw images only, e.g. uint8")
    parser.add_argument("--json", dest="json_path", metavar="OUT.json", help="write the results as JSON")
    parser.add_argument("--out", metavar="DIR", help="write potential and flux fields (VTX) for ParaView")
    parser.add_argument("--rtol", type=float, default=None, help="relative residual tolerance of the solve")


def main(args, comm) -> int:
    from femiec.errors import InputError
    from femiec.homogenization import homogenize
    from femiec.meshing.tomography import read_image

    if args.voxel_size <= 0:
        raise InputError("--voxel-size", args.voxel_size, "a positive length in metres")
    image = read_image(args.image, shape=args.shape, dtype=args.dtype)
    axes = ["x", "y", "z"] if args.axis == "all" else [args.axis]
    options = {} if args.rtol is None else {"rtol": args.rtol}
    result = homogenize(image, phases=args.phase, axes=axes, method=args.method,
                        voxel_size=args.voxel_size, comm=comm, out_dir=args.out,
                        json_path=args.json_path, **options)
    if comm.rank == 0:
        print(result.report())
    return 0
