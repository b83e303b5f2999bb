"""``homogenize``: effective transport of a segmented voxel image by one of three methods.

- ``fv``: cell-centred finite volumes on the voxels, face connectivity only (TauFactor's scheme), one
  applied-potential solve per axis (:mod:`femiec.homogenization.fv`).
- ``fe``: Q1 finite elements on the voxel hexahedral mesh, applied potential per axis; voxels that share
  only an edge or a corner are connected through their shared vertices (:mod:`femiec.homogenization.fe`)
  unless ``connectivity="face"`` splits them; with ``mesh="conforming"`` P1 elements on a conforming
  tetrahedral mesh of the smoothed phases.
- ``periodic``: periodic cell problems with Q1 elements on the voxel mesh, the full symmetric tensor
  (:mod:`femiec.homogenization.periodic`).
"""
from __future__ import annotations

import importlib
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from femiec.analytic.homogenization import hashin_shtrikman_bounds
from femiec.errors import InputError
from femiec.homogenization.ksp import POWER_ERROR_SAFETY, POWER_RTOL_MAX
from femiec.homogenization.results import AxisResult, HomogenizationResult, warn_loose_rtol
from femiec.homogenization.voxels import AXES, axis_names, contact_resistances, phase_conductivities
from femiec.meshing.rank_planes import RankPlanes, read_rank_planes
from femiec.meshing.voxel import CONNECTIVITIES, voxel_spacing

METHODS = ("fv", "fe", "periodic")
MESHES = ("voxel", "conforming")


def planes_halo(method: str, mesh: str = "voxel", fields: bool = False, mesh_options: Mapping | None = None,
                voxel_size: float | Sequence[float] = 1.0) -> int:
    """The halo planes each rank keeps on each side of its own when ``method`` on ``mesh`` reads the image by
    planes: ``fv`` 1 (2 when ``fields`` are written), ``fe`` on the voxel mesh and ``periodic`` 2 (the
    voxel mesh's), ``fe`` on the conforming mesh that of femiec.meshing.conforming.conforming_halo for
    ``mesh_options`` (mesh_size in metres, smoothing in voxels) and ``voxel_size`` (metres)."""
    if method == "fv":
        return 2 if fields else 1
    if method == "fe" and mesh == "conforming":
        from femiec.meshing.conforming import conforming_halo

        options = mesh_options or {}
        spacing = voxel_spacing(voxel_size)
        size = options.get("mesh_size")
        return conforming_halo(spacing, float(spacing.min()) if size is None else size, options.get("smoothing", 1.0))
    return 2


def homogenize(image: np.ndarray, phases: Sequence[int] | Mapping[int, float], axes="x", method: str = "fv",
               voxel_size: float | Sequence[float] = 1.0, comm=None, out_dir: str | Path | None = None,
               json_path: str | Path | None = None, rtol: float | None = None,
               petsc_options: Mapping[str, object] | None = None,
               contact_resistance: Mapping | None = None, mesh: str = "voxel",
               mesh_options: Mapping[str, object] | None = None,
               connectivity: str = "vertex") -> HomogenizationResult:
    """Effective conductivity/diffusivity, tortuosity factor and MacMullin number of ``image``.

    Args:
        image: segmented image indexed [ix, iy, iz] (integer values 0..255), the same on every rank, or
            an ImageSource (femiec.meshing.image_source.open_image or open_image_crop): then each rank reads
            only its slab of x-planes and the halo of :func:`planes_halo` on each side (``fv``: one plane,
            two with ``out_dir``; ``fe`` on the voxel mesh and ``periodic``: two; ``fe`` on the conforming
            mesh: the conforming mesher's), or the RankPlanes of it
            (femiec.meshing.rank_planes.read_rank_planes; on the conforming mesh any halo, the planes
            missing are sent by their owners). Every method works on each rank's planes only, also when
            given an array (its planes are then views of it).
        phases: conducting voxel values (relative conductivity 1 each) or value -> relative conductivity
            (a number; for ``fe``/``periodic`` also a 3x3 matrix or a symmetry table, see
            femiec.materials.tensors).
        axes: ``"x"``, ``"y"``, ``"z"``, ``"all"`` or a list of them; ``periodic`` always solves all three.
        method: ``"fv"``, ``"fe"`` or ``"periodic"`` (module docstring).
        voxel_size: voxel edge length in metres (or (dx, dy, dz)).
        comm: mpi4py communicator (default COMM_WORLD).
        out_dir: directory for ParaView fields (VTX): ``potential_<axis>`` (V, 1 V applied) and
            ``flux_<axis>`` (A/m^2 for a conductivity of 1 S/m); for ``periodic`` the correctors ``chi_<axis>``.
        json_path: write :meth:`HomogenizationResult.to_json` there (rank 0).
        rtol: default 1e-6. ``fv``: the relative error of D_eff allowed (at most 1e-2): CG stops when the
            estimated error of the dissipated power is below it and the inlet/outlet current mismatch m
            has m^2 <= rtol (femiec.homogenization.ksp.minimize_power); ``fe``, ``periodic``: the relative
            residual tolerance of the CG solves (a warning above 1e-3).
        petsc_options: extra PETSc options of the linear solver (keys without prefix).
        contact_resistance: ``fv`` only: specific contact resistance R_c between two conducting phases,
            {(a, b): R_c} or {"a:b": R_c}, in ohm m^2 when the conductivities are in S/m (generally:
            metres / conductivity unit); added in series to the two half-voxel resistances of every face
            between a voxel of a and one of b.
        mesh: ``fe`` only: ``"voxel"`` (Q1 hexahedra, one per voxel) or ``"conforming"`` (P1 tetrahedra of
            femiec.meshing.conforming.conforming_mesh: interfaces on the smoothed phase boundaries).
        mesh_options: keyword arguments of conforming_mesh (mesh_size and max_size in metres, smoothing
            in voxels, preserve_volume, mesher).
        connectivity: ``fe`` on the voxel mesh only: ``"vertex"`` (voxels touching along an edge or at a
            corner share nodes, 26-connected clusters) or ``"face"`` (nodes split there, 6-connected
            clusters as in ``fv``; femiec.meshing.voxel.voxel_mesh).

    Returns:
        HomogenizationResult (per axis: tau, deff_ratio, volume_fraction, macmullin, ...; tensor when all
        three axes were solved).
    """
    from mpi4py import MPI

    start = time.perf_counter()
    comm = comm if comm is not None else MPI.COMM_WORLD
    if method not in METHODS:
        raise InputError("method", method, f"one of {list(METHODS)}")
    names = list(AXES) if method == "periodic" else axis_names(axes)
    spacing = voxel_spacing(voxel_size)
    if rtol is not None and not 0 < rtol < 1:
        raise InputError("rtol", rtol, "a relative tolerance between 0 and 1")
    if method == "fv" and rtol is not None and rtol > POWER_RTOL_MAX:
        raise InputError("rtol", rtol,
                         f"at most {POWER_RTOL_MAX:g} for method 'fv', the relative error of D_eff allowed")
    tensors = phase_conductivities(phases)
    extra = {}
    if contact_resistance:
        if method != "fv":
            raise InputError("contact_resistance", dict(contact_resistance),
                             "method 'fv' (the finite-element methods have no interface resistance)")
        extra["contact_resistance"] = contact_resistances(contact_resistance, list(tensors))
    if mesh not in MESHES:
        raise InputError("mesh", mesh, f"one of {list(MESHES)}")
    if mesh_options and mesh != "conforming":
        raise InputError("mesh_options", dict(mesh_options), "mesh='conforming' (options of conforming_mesh)")
    if connectivity not in CONNECTIVITIES:
        raise InputError("connectivity", connectivity, f"one of {list(CONNECTIVITIES)}")
    if connectivity != "vertex":
        if method != "fe" or mesh != "voxel":
            raise InputError("connectivity", connectivity, "'vertex' except for method 'fe' on the voxel mesh")
        extra["connectivity"] = connectivity
    if mesh != "voxel":
        if method != "fe":
            raise InputError("mesh", mesh, "'voxel' for methods 'fv' and 'periodic' (conforming meshes: 'fe')")
        extra.update(mesh=mesh, mesh_options=dict(mesh_options or {}))
    halo = planes_halo(method, mesh, fields=out_dir is not None, mesh_options=mesh_options, voxel_size=spacing)
    if not isinstance(image, RankPlanes):  # each rank's planes (and the image's checks, histogram and phases)
        image = read_rank_planes(image, comm, list(tensors), halo=halo)
    elif image.halo < halo and comm.size > 1 and mesh == "voxel":  # the conforming mesher takes any halo
        raise InputError("image", f"planes with a halo of {image.halo}", f"a halo of at least {halo} planes")
    histogram = image.histogram
    module = importlib.import_module(f"femiec.homogenization.{method}")
    columns = module.solve_axes(image, tensors, names, spacing, comm, out_dir, rtol=rtol,
                                petsc_options=petsc_options, **extra)

    shown = {v: float(K[0, 0]) if np.allclose(K, K[0, 0] * np.eye(3)) else K.tolist() for v, K in tensors.items()}
    solver = _solver_description(method, rtol, petsc_options, tensors, extra.get("contact_resistance"),
                                 len(names) == 3 or out_dir is not None)
    result = HomogenizationResult(method, shown, tuple(image.shape), tuple(spacing.tolist()), solver=solver,
                                  mesh=mesh, connectivity=connectivity,
                                  contact_resistance={f"{a}:{b}": r for (a, b), r in
                                                      extra.get("contact_resistance", {}).items()})
    fractions = {value: float(histogram[value] / histogram.sum()) for value in tensors}
    eps = sum(fractions.values())
    mean = sum(fractions[v] * np.trace(K) / 3.0 for v, K in tensors.items())
    # K <= lambda_max I, and the effective tensor is monotone in K: HS with the largest eigenvalues bounds it
    largest = [float(np.linalg.eigvalsh(K)[-1]) for K in tensors.values()]
    _, upper = hashin_shtrikman_bounds(largest + [0.0], list(fractions.values()) + [1.0 - eps])
    for name, column in zip(names, columns):
        result.axes[name] = AxisResult(name, float(column.deff_ratio), eps, float(mean), upper, column.iterations,
                                       column.wall_time_s, column.spanning_fraction, column.flux_mismatch,
                                       column.unknowns, column.deff_error)
    warn_loose_rtol(result, float(result.solver["petsc_options"]["ksp_rtol"]))
    if len(names) == 3:
        tensor = np.column_stack([c.mean_flux for c in columns])
        result.tensor = 0.5 * (tensor + tensor.T) if method == "periodic" else tensor
    result.wall_time_s = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    if json_path is not None and comm.rank == 0:
        result.write_json(json_path)
    return result


def _solver_description(method: str, rtol, petsc_options, tensors, contact_resistance, currents: bool) -> dict:
    from femiec.homogenization.fv import single_conductivity
    from femiec.homogenization.ksp import DEFAULT_OPTIONS, VOXEL_OPTIONS, two_levels
    from femiec.homogenization.voxels import scalar_conductivities

    voxels = method == "fv" and two_levels(
        single_conductivity(scalar_conductivities(tensors, "fv"), contact_resistance) is not None, petsc_options)
    options = dict(VOXEL_OPTIONS if voxels else DEFAULT_OPTIONS)
    if rtol is not None:
        options["ksp_rtol"] = rtol
    options.update(petsc_options or {})
    residual = "||b - A x||_2 / ||b||_2 <= ksp_rtol (unpreconditioned residual)"
    criterion = residual
    if method == "fv":
        criterion = (f"estimated relative error of the dissipated power (D_eff) <= ksp_rtol / {POWER_ERROR_SAFETY:g}, "
                     "(inlet/outlet current mismatch)^2 <= ksp_rtol" + (f" and {residual}" if currents else ""))
    return {"criterion": criterion,
            "petsc_options": {k: (True if v is None else v) for k, v in options.items()}}
