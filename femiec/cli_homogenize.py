"""``femiec homogenize``: arguments and dispatch to :func:`femiec.homogenization.homogenize`.

    femiec homogenize IMAGE --phase VALUE[:CONDUCTIVITY] [--phase ...] --axis x|y|z|all
                      --method fv|fe|periodic --voxel-size METRES [--json OUT.json] [--out DIR]
                      [--contact-resistance A:B:OHM_M2 ...] [--mesh voxel|conforming]
                      [--connectivity vertex|face]
                      [--dataset /NAME] [--remap VALUE:LABEL ...]

IMAGE may be a folder of 2D TIFF slices or an HDF5/NetCDF-4 file (with --dataset).
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", help="segmented 3D image: TIFF stack or folder of 2D TIFF slices, .npy, .vti, "
                                      "HDF5/NetCDF-4 (with --dataset) or raw (with --shape/--dtype)")
    parser.add_argument("--phase", action="append", required=True, metavar="VALUE[:CONDUCTIVITY]",
                        help="voxel value of a conducting phase, optionally with its conductivity (S/m; "
                             "default 1); repeat to combine phases")
    parser.add_argument("--axis", choices=["x", "y", "z", "all"], default="x",
                        help="flux axis; 'all' solves x, y and z and reports the tensor")
    parser.add_argument("--method", choices=["fv", "fe", "periodic"], default="fv",
                        help="fv: face-connected finite volumes (TauFactor's scheme); fe: Q1 finite "
                             "elements on the voxel mesh; periodic: periodic cell problems (full tensor)")
    parser.add_argument("--voxel-size", type=float, default=None, metavar="METRES",
                        help="edge length of a voxel in metres; required with --contact-resistance. "
                             "Without it lengths are in voxels (tortuosity and D_eff/D0 do not depend on it)")
    parser.add_argument("--shape", type=int, nargs=3, metavar=("NX", "NY", "NZ"), help="raw images only")
    parser.add_argument("--dtype", help="raw images only, e.g. uint8")
    parser.add_argument("--dataset", metavar="/NAME", help="HDF5/NetCDF-4 files only: the 3D dataset to read")
    parser.add_argument("--remap", action="append", default=[], metavar="VALUE:LABEL",
                        help="replace an image value by a label 0..255 after reading (e.g. 300:1); repeat "
                             "for other values")
    parser.add_argument("--json", dest="json_path", metavar="OUT.json", help="write the results as JSON")
    parser.add_argument("--out", metavar="DIR", help="write potential and flux fields (VTX) for ParaView")
    parser.add_argument("--rtol", type=float, default=None,
                        help="fv: relative error of D_eff allowed (at most 1e-2); fe, periodic: relative residual "
                             "tolerance (default 1e-6)")
    parser.add_argument("--contact-resistance", action="append", default=[], metavar="A:B:OHM_M2",
                        help="fv: specific contact resistance between conducting phases A and B (ohm m^2); "
                             "repeat for other pairs")
    parser.add_argument("--mesh", choices=["voxel", "conforming"], default="voxel",
                        help="fe: Q1 on the voxel mesh or P1 on a conforming tetrahedral mesh")
    parser.add_argument("--connectivity", choices=["vertex", "face"], default="vertex",
                        help="fe on the voxel mesh: voxels touching along an edge or at a corner share nodes "
                             "(vertex) or not (face: 6-connected, as fv)")


def main(args, comm) -> int:
    from femiec.errors import InputError
    from femiec.homogenization import homogenize
    from femiec.homogenization.api import planes_halo
    from femiec.meshing.image_source import open_image_crop
    from femiec.meshing.rank_planes import read_rank_planes

    if args.voxel_size is not None and args.voxel_size <= 0:
        raise InputError("--voxel-size", args.voxel_size, "a positive length in metres")
    if args.contact_resistance and args.voxel_size is None:
        raise InputError("--voxel-size", None, "a voxel edge length in metres when --contact-resistance is "
                                               "given (ohm m^2 compares with voxel size / conductivity)")
    phases = _phases(args.phase)
    contact = {}
    for text in args.contact_resistance:
        parts = text.split(":")
        try:
            a, b, value = int(parts[0]), int(parts[1]), float(parts[2])
        except (IndexError, ValueError):
            raise InputError("--contact-resistance", text, "A:B:VALUE, two phase values and ohm m^2") from None
        if len(parts) != 3:
            raise InputError("--contact-resistance", text, "A:B:VALUE, two phase values and ohm m^2")
        contact[(a, b)] = value
    _check_raw_options(args)
    _check_outputs(args, comm)
    remap = _remap(args.remap)
    hint = "map them with --remap VALUE:LABEL"
    halo = planes_halo(args.method, args.mesh, fields=args.out is not None)
    source = open_image_crop(args.image, shape=args.shape, dtype=args.dtype, dataset=args.dataset, remap=remap,
                             prefix="--")  # each rank reads its slab of x-planes only (femiec.meshing.rank_planes)
    image = read_rank_planes(source, comm, list(phases), halo=halo, remap_hint=hint)
    axes = ["x", "y", "z"] if args.axis == "all" else [args.axis]
    options = {} if args.rtol is None else {"rtol": args.rtol}
    result = homogenize(image, phases=phases, axes=axes, method=args.method,
                        voxel_size=1.0 if args.voxel_size is None else args.voxel_size, comm=comm, out_dir=args.out,
                        json_path=args.json_path, contact_resistance=contact or None, mesh=args.mesh,
                        connectivity=args.connectivity, **options)
    if comm.rank == 0:
        print(result.report())
    return 0


def _check_raw_options(args) -> None:
    """--shape and --dtype: a NumPy data type, and only for raw images (other formats record both)."""
    from pathlib import Path

    from femiec.errors import InputError
    from femiec.meshing.tomography import records_shape
    from femiec.sections import numpy_dtype

    if args.dtype is not None:
        numpy_dtype(args.dtype, key="--dtype")
    path = Path(args.image)
    if records_shape(path):
        kind = "folder of TIFF slices" if path.is_dir() else f"{path.suffix.lower()} image"
        for option, value in (("--shape", args.shape), ("--dtype", args.dtype)):
            if value is not None:
                raise InputError(option, value, f"no {option} for a {kind} (it records its own shape "
                                                "and data type; raw files only)")


def _check_outputs(args, comm) -> None:
    """--out and the folder of --json are writable directories, checked before the solve."""
    from pathlib import Path

    from femiec.errors import InputError
    from femiec.io.output_dir import check_directory

    if args.out is not None:
        check_directory(args.out, "--out", comm)
    if args.json_path is not None:
        path = Path(args.json_path)
        if path.is_dir():
            raise InputError("--json", str(path), "a file name (this path is a directory)")
        check_directory(path.parent, "--json", comm)


def _phases(texts: list[str]) -> list[int] | dict[int, float]:
    """``--phase`` values: a list of voxel values, or value -> conductivity when any is given."""
    from femiec.errors import InputError

    table = {}
    for text in texts:
        value, _, conductivity = text.partition(":")
        try:
            value, conductivity = int(value), float(conductivity) if conductivity else None
        except ValueError:
            raise InputError("--phase", text, "VALUE or VALUE:CONDUCTIVITY (integer voxel value, S/m)") from None
        if value in table:
            raise InputError("--phase", text, f"each voxel value once ({value} is given twice)")
        table[value] = conductivity
    if all(v is None for v in table.values()):
        return list(table)
    return {value: 1.0 if sigma is None else sigma for value, sigma in table.items()}


def _remap(texts: list[str]) -> dict[int, int] | None:
    """``--remap VALUE:LABEL`` options as image value -> label 0..255 (None when none is given); a value
    given twice, even with the same label, is refused."""
    from femiec.errors import InputError

    table = {}
    for text in texts:
        value, sep, label = text.partition(":")
        try:
            value, label = int(value), int(label)
        except ValueError:
            raise InputError("--remap", text, "VALUE:LABEL, an integer image value and a label 0..255") from None
        if not sep or not 0 <= label <= 255:
            raise InputError("--remap", text, "VALUE:LABEL, an integer image value and a label 0..255")
        if value in table:
            raise InputError("--remap", text, f"each image value once ({value} is already mapped to {table[value]})")
        table[value] = label
    return table or None
