"""Image memory per rank: the whole image on every rank against each rank's planes (issues 18 and 23).

For each image and rank count, two fresh MPI runs of the part of ``homogenize(method="fv")`` that holds the
image (reading, the phase counts, the 6-connected cluster labels and the spanning mask of the x axis):

- ``whole``: every rank reads the whole image and labels all of it (what fv did before
  femiec.meshing.rank_planes: ``read_image`` + ``scipy.ndimage.label`` + the spanning mask);
- ``planes``: ``read_rank_planes(open_image(path))`` (each rank its slab of x-planes and one halo plane
  on each side, read from the file by planes) + the slab labels joined over the ranks
  (femiec.meshing.slab_clusters) + the mask of the owned planes with its halo.

Per rank: the bytes of image planes held and the peak resident set size above the interpreter's
(VmHWM at the end minus VmRSS before reading, MB). With ``--solve`` also the full single-axis fv solve read
by planes (peak RSS per rank and summed over ranks per voxel, tau). Images: the shared 256^3 NMC volume
(pore phase 0; a multi-page TIFF read page by page) and a synthetic 512^3 overlapping-sphere image
(porosity 0.4, radius 8, seed 0: femiec.homogenization.synthetic; written once as .npy, read through a
memory map).

With ``--electrode`` (the 256^3 NMC volume only: pore 0, NMC 85, carbon-binder 170, separator face xmin,
collector xmax) the image part of the resolved electrode's set-up instead, without the mesh: the cut-off
clusters and the particle labels, and the reactive-area weights of the NMC/other faces whose lower voxel
lies on the rank's planes (femiec.meshing.interface_area), as

- ``el-whole``: every rank reads the whole image, labels it with image_phase_labels (scipy.ndimage.label of
  the whole image, what the electrode did before femiec.problems.electrode_planes) and weights its faces
  from the whole NMC mask;
- ``el-planes``: each rank reads its planes and the electrode's halo (7 planes) from the file,
  planes_phase_labels (femiec.problems.electrode_planes) and the weights from the planes' mask;
  the peak RSS after the labels is reported too (the rest is the weights, the same code in both modes).

With ``--dfn N`` (N = 64, 128, ...) ``femiec dfn``'s geometry instead: ``case_microstructure`` (labels,
reactive area and weights, particles, the diffusion-lag solves and the four transport solves; no PyBaMM)
of demos/nmc_electrode/case_12.toml on the N^3 crop of the NMC volume (4 separator planes padded on xmin),
with the femiec found on PYTHONPATH (so the code before a change is measured by pointing PYTHONPATH at a
checkout of it): peak RSS above the interpreter per rank, the bytes of the image planes the planes path
reads per rank (read_rank_planes with the electrode's halo, measured after the run) and of the whole
padded crop, and the porosity, smooth area, particles, B_e and the lag radius (the same in both versions).

With ``--paths [PATH ...]`` (default: all of :data:`PATHS`) the image part of every path that reads an
image, one fresh MPI run per path, image and rank count: fv, fe on the voxel and on the conforming mesh, periodic, the voxel and the conforming mesh of a
case (runner.build_mesh), the electrode's set-up and ``femiec dfn``'s geometry, each stopped where its mesh,
matrix or first solve would start (voxel_mesh's vertices, the conforming grid, the diffusion-lag solve; fv
after its spanning mask). Per rank: the image bytes it read and the peak RSS above the path's start, on
the 256^3 NMC volume, (LARGE_PATHS) on the 512^3 spheres (pore 0, solid 85; ``--spheres PATH``,
written once) and (THREE_PHASE_PATHS) on a 512^3 three-phase image (the same spheres as the NMC phase 85,
carbon-binder 170 where small spheres overlap the pore, ~4% of the voxels; ``--three-phases PATH``,
written once). Printed as a markdown table.

    .venv/bin/python benchmarks/bench_image_planes.py [--only nmc256|spheres512] [--ranks 1 2] [--solve]
    .venv/bin/python benchmarks/bench_image_planes.py --electrode [--ranks 1 2]
    [PYTHONPATH=<checkout>] .venv/bin/python benchmarks/bench_image_planes.py --dfn 64 128 [--ranks 1 2]
    .venv/bin/python benchmarks/bench_image_planes.py --paths [--spheres DIR/spheres512.npy]
        [--three-phases DIR/three_phases512.npy] [--ranks 1 2]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NMC = ROOT.parent / "shared" / "data" / "nmc_electrode_256.tiff"
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_btl": "self,vader",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}


def _status(field: str) -> int:
    return int(re.search(rf"{field}:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024


def _dfn_case(image, crop: list, comm):
    """demos/nmc_electrode/case_12.toml with ``image`` (a path) cropped to ``crop``, loaded on every rank."""
    import shutil

    from femiec.config.loader import load_case

    demo = ROOT / "demos" / "nmc_electrode" / "case_12.toml"
    text = demo.read_text().replace("crop = [[0, 12], [0, 12], [0, 12]]", f"crop = {crop}")
    text = text.replace('file = "../../../shared/data/nmc_electrode_256.tiff"', f'file = "{image}"')
    tmp = comm.bcast(tempfile.mkdtemp() if comm.rank == 0 else None)
    if comm.rank == 0:
        (Path(tmp) / "case.toml").write_text(text)
    comm.barrier()
    case = load_case(Path(tmp) / "case.toml")
    comm.barrier()
    if comm.rank == 0:
        shutil.rmtree(tmp)
    return case


def dfn_worker(size: int) -> None:
    """One rank's figures of case_microstructure on the ``size``^3 crop (JSON on rank 0, gathered); every
    module is imported before the start figure."""
    import importlib

    import numpy as np
    from mpi4py import MPI

    from femiec.meshing.image_source import PaddedImage, open_image_crop
    from femiec.meshing.rank_planes import read_rank_planes
    from femiec.problems.electrode_planes import electrode_halo
    from femiec.studies.dfn import case_microstructure

    for module in ("dolfinx.fem.petsc", "femiec.homogenization.fe", "femiec.homogenization.fv",
                   "femiec.studies.diffusion_lag"):
        importlib.import_module(module)
    comm = MPI.COMM_WORLD
    case = _dfn_case(NMC, [[0, size]] * 3, comm)
    lag = importlib.import_module("femiec.studies.diffusion_lag")
    solve, geometry_peak = lag.diffusion_lag, []

    def peak_then_solve(*args, **kwargs):  # the peak of the geometry: everything before the first solve
        geometry_peak.append((_status("VmHWM") - before) / 1e6)
        return solve(*args, **kwargs)

    lag.diffusion_lag = peak_then_solve
    before = _status("VmRSS")
    g = case_microstructure(case, comm)
    peak = (_status("VmHWM") - before) / 1e6
    mesh = case.mesh
    source = PaddedImage(open_image_crop(mesh.file, mesh.shape, mesh.dtype, mesh.crop), mesh.pad.face,
                         mesh.pad.voxels, mesh.pad.value)
    planes = read_rank_planes(source, comm, None, halo=electrode_halo(mesh.voxel_size))
    figures = {"peak_above_start_MB": peak, "geometry_peak_MB": geometry_peak[0], "peak_MB": _status("VmHWM") / 1e6, "planes_bytes": planes.data.nbytes,
               "whole_bytes": int(np.prod(source.shape)) * source.dtype.itemsize}
    gathered = comm.gather(figures)
    if comm.rank == 0:
        keys = ("porosity", "interface_area_smooth_m2", "particles", "electrolyte_transport",
                "mean_diffusion_lag_kinetics_radius_m")
        print(json.dumps({"ranks": comm.size, "geometry": {k: g[k] for k in keys}, "per_rank": gathered}))


def worker(path: str, phase: int, mode: str) -> None:
    """One rank's figures (JSON on rank 0, gathered); every module is imported before the start figure."""
    import numpy as np
    from mpi4py import MPI

    from femiec.homogenization import homogenize
    from femiec.homogenization.voxels import spanning_mask
    from femiec.meshing.image_source import open_image
    from femiec.meshing.rank_planes import balanced_planes, read_rank_planes
    from femiec.meshing.tomography import face_clusters, read_image
    from femiec.problems.electrode_case import image_phase_labels
    from femiec.problems.electrode_planes import electrode_halo, planes_phase_labels

    comm = MPI.COMM_WORLD
    before = _status("VmRSS")
    held, mask, tau, labels_peak = None, None, None, None
    if mode.startswith("el-"):  # the electrode's image set-up (module doc)
        phases = ([0], [85], [170])
        if mode == "el-whole":
            image = read_image(path)
            held = image.nbytes
            inert, particles = image_phase_labels(image, *phases)
            i0, i1 = balanced_planes(np.isin(image, [0, 85, 170]).sum(axis=(1, 2)), comm.size)[comm.rank:comm.rank + 2]
            active, start = image == 85, 0
        else:
            planes = read_rank_planes(open_image(path), comm, [0, 85, 170], halo=electrode_halo(1.0))
            held = planes.data.nbytes
            inert, particles = planes_phase_labels(planes, comm, *phases)
            (i0, i1), active, start = planes.own, planes.selection([85]), planes.start
        labels_peak = (_status("VmHWM") - before) / 1e6
        mask = _electrode_weights(inert, particles, active, i0, i1, start, comm)
    elif mode == "whole":
        image = read_image(path)
        held = image.nbytes
        labels, _ = face_clusters(image == phase)
        mask = spanning_mask(labels, 0)
        del labels
    elif mode == "planes":
        held, mask = _fv_image_part(path, phase, comm)
    else:  # the full solve, read by planes
        tau = homogenize(open_image(path), [phase], axes="x", method="fv", comm=comm).tau["x"]
    figures = {"held_bytes": held, "peak_above_start_MB": (_status("VmHWM") - before) / 1e6,
               "peak_MB": _status("VmHWM") / 1e6, "labels_peak_above_start_MB": labels_peak,
               "mask_voxels": None if mask is None else mask if isinstance(mask, tuple) else int(mask.sum())}
    gathered = comm.gather(figures)
    if comm.rank == 0:
        print(json.dumps({"ranks": comm.size, "mode": mode, "tau": tau, "per_rank": gathered}))


def _fv_image_part(path, phase: int, comm):
    """(planes bytes, spanning mask of x) of fv read by planes: each rank its planes and one halo plane,
    the 6-connected clusters of its planes joined over the ranks, the mask of the clusters spanning x."""
    from femiec.homogenization.fv import VoxelFiniteVolume
    from femiec.meshing.image_source import open_image
    from femiec.meshing.rank_planes import read_rank_planes

    planes = read_rank_planes(open_image(path), comm, [phase])
    problem = VoxelFiniteVolume(planes, {phase: 1.0}, (1.0, 1.0, 1.0), comm)
    clusters = problem._clusters()
    return planes.data.nbytes, problem._spanning_voxels(clusters, clusters.spanning(0))


def _electrode_weights(inert, particles, active, i0: int, i1: int, start: int, comm) -> tuple:
    """The reactive-area weights of the NMC faces whose lower voxel is on the owned planes i0..i1-1 (arrays
    over the planes kept from ``start``); (inert voxels, particles, sum of the weights) over the ranks."""
    from mpi4py import MPI

    from femiec.meshing.interface_area import face_area_weights, phase_faces

    lower, axis = phase_faces(active[i0 - start:min(i1 + 1, start + len(active)) - start])
    lower[:, 0] += i0 - start
    keep = lower[:, 0] < i1 - start
    weights = face_area_weights(active, lower[keep], axis[keep])
    return (int(comm.allreduce(int(inert[i0 - start:i1 - start].sum()))),
            comm.allreduce(int(particles.max()), op=MPI.MAX), comm.allreduce(float(weights.sum())))


class _MeshStarts(Exception):
    """Raised where a path would start building its mesh, matrix or first solve (the end of its image part)."""


#: the paths of --paths: name -> (what its image part is, whether it needs the NMC's phases 85 and 170)
PATHS = {
    "fv": ("homogenize fv: planes + 1 halo plane, 6-connected clusters, spanning mask (before the matrix)", False),
    "fe-voxel": ("homogenize fe, voxel mesh: planes + 2, 26-connected clusters, spanning voxels kept, up to "
                 "the voxel mesh's vertices", False),
    "fe-conforming": ("homogenize fe, conforming mesh: planes + the mesher's halo, clusters, phases merged, "
                      "the smoothed indicators (before the grid)", False),
    "periodic": ("homogenize periodic: planes + 2, periodic pieces, kept voxels, up to the voxel mesh's "
                 "vertices", False),
    "voxel-mesh": ("voxel mesh of every phase (runner.build_mesh, halo 2), up to its vertices", False),
    "conforming-mesh": ("conforming mesh of every phase (runner.build_mesh): planes + halo, the smoothed "
                        "indicators (before the grid)", False),
    "electrode": ("electrode set-up: planes + 7, cut-off clusters, particles, reactive-area weights", True),
    "dfn": ("femiec dfn geometry (case_microstructure of case_12.toml on the whole image with its 4-plane "
            "pad): up to the first diffusion-lag solve", True),
}


def paths_worker(path: str, name: str) -> None:
    """The image part of path ``name`` (:data:`PATHS`) in this fresh process: the image bytes each rank
    read and the peak RSS above the RSS at its start (every module imported before); JSON on rank 0,
    gathered."""
    import importlib

    from mpi4py import MPI

    import femiec.meshing.conforming as conforming
    import femiec.meshing.voxel as voxel
    import femiec.runner as runner
    from femiec.config.schema import ImageMesh
    from femiec.homogenization import homogenize
    from femiec.homogenization.api import planes_halo
    from femiec.meshing.image_source import PaddedImage, open_image, open_image_crop
    from femiec.meshing.rank_planes import read_rank_planes
    from femiec.problems.electrode_planes import electrode_halo, planes_phase_labels
    from femiec.studies.dfn import case_microstructure

    for module in ("dolfinx.fem.petsc", "femiec.homogenization.fe", "femiec.homogenization.fv",
                   "femiec.homogenization.periodic", "femiec.studies.diffusion_lag"):
        importlib.import_module(module)
    lag = importlib.import_module("femiec.studies.diffusion_lag")
    comm = MPI.COMM_WORLD
    shape = open_image(path).shape

    def stop(*args, **kwargs):
        raise _MeshStarts

    def planes_of(method, mesh="voxel", phases=(0,)):
        planes = read_rank_planes(open_image(path), comm, list(phases), halo=planes_halo(method, mesh))
        held.append(planes.data.nbytes)
        return planes

    def mesh_section(mesher: str):  # every value of the image named (the conforming mesher fills the box)
        histogram = read_rank_planes(open_image(path), comm, None, halo=0).histogram
        phases = {"pore": 0, "nmc": 85} | ({"carbon_binder": 170} if histogram[170] else {})
        return ImageMesh(kind="image", file=str(path), phases=phases, voxel_size=1e-6, mesher=mesher)

    def read_planes(*args, **kwargs):  # runner._image_planes, counting the bytes it read
        planes = image_planes(*args, **kwargs)
        held.append(planes.data.nbytes)
        return planes

    def electrode():
        planes = read_rank_planes(open_image(path), comm, [0, 85, 170], halo=electrode_halo(1.0))
        held.append(planes.data.nbytes)
        inert, particles = planes_phase_labels(planes, comm, [0], [85], [170])
        (i0, i1), start = planes.own, planes.start
        _electrode_weights(inert, particles, planes.selection([85]), i0, i1, start, comm)

    def dfn():
        case = _dfn_case(path, [[0, n] for n in shape], comm)
        mesh = case.mesh
        source = PaddedImage(open_image_crop(mesh.file, mesh.shape, mesh.dtype, mesh.crop), mesh.pad.face,
                             mesh.pad.voxels, mesh.pad.value)
        held.append(read_rank_planes(source, comm, None, halo=electrode_halo(mesh.voxel_size)).data.nbytes)
        case_microstructure(case, comm)

    runs = {
        "fv": lambda: held.append(_fv_image_part(path, 0, comm)[0]),
        "fe-voxel": lambda: homogenize(planes_of("fe"), [0], axes="x", method="fe", comm=comm),
        "fe-conforming": lambda: homogenize(planes_of("fe", "conforming"), [0], axes="x", method="fe",
                                            mesh="conforming", comm=comm),
        "periodic": lambda: homogenize(planes_of("periodic"), [0], method="periodic", comm=comm),
        "voxel-mesh": lambda: runner.build_mesh(mesh_section("voxel"), comm, halo=2),
        "conforming-mesh": lambda: runner.build_mesh(mesh_section("conforming"), comm),
        "electrode": electrode,
        "dfn": dfn,
    }
    image_planes = runner._image_planes
    voxel._slab_vertices = conforming._phase_mesh = lag.diffusion_lag = stop  # the end of the image parts
    runner._image_planes = read_planes
    held = []
    comm.barrier()
    start = _status("VmRSS")
    try:
        runs[name]()
    except _MeshStarts:
        pass
    figures = {"held_bytes": sum(held), "peak_above_start_MB": (_status("VmHWM") - start) / 1e6}
    gathered = comm.gather(figures)
    if comm.rank == 0:
        print(json.dumps({"ranks": comm.size, "shape": list(shape), "per_rank": gathered}))


def _spheres(path: Path, n: int = 512, solid: int = 1) -> None:
    """Overlapping solid spheres (value ``solid``) of radius 8 voxels, porosity 0.4 (pore = 0), written as
    .npy by a child process (the generator's peak is not kept by this one)."""
    script = (f"import numpy as np; from femiec.homogenization.synthetic import overlapping_spheres; "
              f"np.save({str(path)!r}, overlapping_spheres(({n},) * 3, 0.4, 8.0, 0) * np.uint8({solid}))")
    subprocess.run([sys.executable, "-c", script], check=True)


def _three_phases(path: Path, n: int = 512) -> None:
    """The spheres of :func:`_spheres` as phase 85 and carbon-binder 170 where overlapping spheres of radius
    3 voxels (10% of the box, seed 1) fall in the pore (~4% of the voxels; pore ~36%), written as .npy by
    a child process."""
    script = (f"import numpy as np; from femiec.homogenization.synthetic import overlapping_spheres; "
              f"image = overlapping_spheres(({n},) * 3, 0.4, 8.0, 0) * np.uint8(85); "
              f"binder = overlapping_spheres(({n},) * 3, 0.9, 3.0, 1) == 1; "
              f"image[binder & (image == 0)] = 170; np.save({str(path)!r}, image)")
    subprocess.run([sys.executable, "-c", script], check=True)


def run(path: Path, phase: int, mode: str, ranks: int) -> dict:
    return _mpirun(["--worker", str(path), str(phase), mode], ranks)


def _mpirun(arguments: list[str], ranks: int) -> dict:
    """The JSON line rank 0 of ``ranks`` fresh MPI processes of this script with ``arguments`` prints."""
    command = ["mpirun", "--oversubscribe", "-n", str(ranks), sys.executable, __file__, *arguments]
    out = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **MPI_ENV}, check=True)
    return json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])


#: the paths --paths runs on the 512^3 spheres (pore 0, solid 85): the others' image parts need 5-8 GB on
#: one rank there (the smoothed indicators, 16 bytes per voxel and phase; the electrode's labels and
#: weights, ~55 bytes per voxel) and the NMC's three phases (electrode, dfn)
LARGE_PATHS = ("fv", "fe-voxel", "periodic", "voxel-mesh")
#: the paths --paths runs on the 512^3 three-phase image: 6-13 GB on one rank
THREE_PHASE_PATHS = ("fe-conforming", "conforming-mesh", "electrode", "dfn")


def paths_table(names: list[str], ranks_list: list[int], spheres: Path, three_phases: Path,
                skip_nmc: bool = False) -> None:
    """--paths: every path of ``names`` on the 256^3 NMC volume, those of LARGE_PATHS on the 512^3
    spheres at ``spheres`` and those of THREE_PHASE_PATHS on the 512^3 three-phase image at
    ``three_phases`` (each written first if absent and needed), one fresh MPI run each; a markdown table
    (MB per rank, the 1-minute load average before the run)."""
    large = [n for n in names if n in LARGE_PATHS]
    three = [n for n in names if n in THREE_PHASE_PATHS]
    if large and not spheres.exists():
        _spheres(spheres, solid=85)
    if three and not three_phases.exists():
        _three_phases(three_phases)
    print("| image | path | ranks | image read per rank (MB) | peak of the image part above its start per rank (MB) "
          "| load |")
    print("| --- | --- | --- | --- | --- | --- |")
    for image, path, selected in (("256^3 NMC (TIFF)", NMC, [n for n in names if not skip_nmc]),
                                  ("512^3 spheres (.npy)", spheres, large),
                                  ("512^3 three phases (.npy)", three_phases, three)):
        for name in selected:
            for ranks in ranks_list:
                load = os.getloadavg()[0]
                per_rank = _mpirun(["--paths-worker", str(path), name], ranks)["per_rank"]
                held = ", ".join(f"{r['held_bytes'] / 1e6:.1f}" for r in per_rank)
                peak = ", ".join(f"{r['peak_above_start_MB']:.0f}" for r in per_rank)
                print(f"| {image} | {name} | {ranks} | {held} | {peak} | {load:.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["nmc256", "spheres512"])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--solve", action="store_true", help="also the full fv solve read by planes")
    parser.add_argument("--electrode", action="store_true", help="the electrode's image set-up (256^3 NMC)")
    parser.add_argument("--dfn", type=int, nargs="+", metavar="N", help="case_microstructure on N^3 crops")
    parser.add_argument("--paths", nargs="*", choices=list(PATHS), metavar="PATH",
                        help=f"the image part of each path (default all: {', '.join(PATHS)})")
    parser.add_argument("--spheres", type=Path, default=Path("spheres512.npy"),
                        help="--paths: the 512^3 synthetic image (.npy, written if absent)")
    parser.add_argument("--three-phases", type=Path, default=Path("three_phases512.npy"),
                        help="--paths: the 512^3 three-phase image (.npy, written if absent)")
    parser.add_argument("--large-only", action="store_true", help="--paths: skip the 256^3 NMC volume")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--dfn-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--paths-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.paths_worker:
        paths_worker(*args.paths_worker)
        return
    if args.paths is not None:
        paths_table(args.paths or list(PATHS), args.ranks, args.spheres, args.three_phases, args.large_only)
        return
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), args.worker[2])
        return
    if args.dfn_worker:
        dfn_worker(args.dfn_worker)
        return
    if args.dfn:
        for size in args.dfn:
            for ranks in args.ranks:
                load = os.getloadavg()[0]
                result = _mpirun(["--dfn-worker", str(size)], ranks)
                per_rank = result["per_rank"]
                print(f"{size}^3 {ranks} rank(s): peak above start before the lag solve "
                      f"{[round(r['geometry_peak_MB']) for r in per_rank]} MB, at the end "
                      f"{[round(r['peak_above_start_MB']) for r in per_rank]} MB, peak {[round(r['peak_MB']) for r in per_rank]} MB, planes read per rank "
                      f"{[round(r['planes_bytes'] / 1e6, 2) for r in per_rank]} MB, whole padded crop "
                      f"{per_rank[0]['whole_bytes'] / 1e6:.2f} MB, {result['geometry']} (load {load:.1f})", flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        images = {"nmc256": (NMC, 0), "spheres512": (Path(tmp) / "spheres512.npy", 0)}
        for name, (path, phase) in images.items():
            if args.only not in (None, name) or (args.electrode and name != "nmc256"):
                continue
            if not path.exists():
                _spheres(path)
            load = os.getloadavg()[0]
            for ranks in args.ranks:
                modes = ("el-whole", "el-planes") if args.electrode else ("whole", "planes")
                for mode in modes + (("solve",) if args.solve else ()):
                    result = run(path, phase, mode, ranks)
                    per_rank = result["per_rank"]
                    held = [r["held_bytes"] for r in per_rank]
                    print(f"{name} {ranks} rank(s) {mode:6s}: image held per rank "
                          f"{[None if h is None else round(h / 1e6, 1) for h in held]} MB, peak above start "
                          f"{[round(r['peak_above_start_MB']) for r in per_rank]} MB, peak "
                          f"{[round(r['peak_MB']) for r in per_rank]} MB"
                          + (f", tau {result['tau']:.6f}" if result["tau"] is not None else "")
                          + (f", after the labels {[round(r['labels_peak_above_start_MB']) for r in per_rank]}"
                             f" MB, (inert voxels, particles, sum of weights) {per_rank[0]['mask_voxels']}"
                             if args.electrode else "")
                          + f" (load {load:.1f})", flush=True)


if __name__ == "__main__":
    main()
