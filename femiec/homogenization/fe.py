"""Q1 finite elements on the voxel hexahedral mesh: the applied-potential method per axis.

    div(K grad phi) = 0 in the conducting voxels,  phi = 1 V on the inlet face, 0 V on the outlet face
    (the two faces of the image normal to the axis), insulating elsewhere,

solved with :class:`femiec.problems.conduction.ConductionProblem` (K a relative conductivity per phase,
scalar or tensor) on :func:`femiec.meshing.voxel.voxel_mesh`. With ``connectivity="vertex"`` (default),
unlike the finite volumes, Q1 elements connect voxels that share only an edge or a corner (their vertices
are shared), so clusters are labelled with 26-connectivity and usually conduct more: the two schemes
converge to the same continuum value from different sides as the voxels get finer. With
``connectivity="face"`` the mesh duplicates the vertices of edge- and corner-only contacts, and clusters
are labelled with 6-connectivity, as in the finite volumes.

Effective property: column a of the tensor is the volume-averaged current density over the image volume
V divided by dPhi / L_a, <j> = (1/V) int -K grad phi dx; its a entry equals the variationally consistent
inlet current F times L_a / (V/L_a) (Galerkin orthogonality with the linear test function 1 - x_a/L_a),
so it is D_eff / D0 along the axis.
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from femiec.homogenization.ksp import DEFAULT_OPTIONS
from femiec.meshing.rank_planes import RankPlanes


@dataclass
class AxisColumn:
    """One column of an effective tensor: D_eff/D0 along ``axis``, the volume-averaged current density
    normalized by dPhi / L (``mean_flux``), CG iterations, unknowns, the fraction of the conducting voxels
    that take part and the wall time. (The finite volumes add inlet/outlet currents: FVAxisSolution.)"""

    axis: int
    deff_ratio: float
    mean_flux: np.ndarray
    iterations: int
    unknowns: int
    spanning_fraction: float
    wall_time_s: float
    flux_mismatch: float = 0.0
    deff_error: float | None = None  # estimated by the finite volumes only (FVAxisSolution)


def solve_axes(image: RankPlanes, tensors: Mapping[int, np.ndarray], names: Sequence[str], spacing: np.ndarray,
               comm, out_dir=None, rtol: float | None = None,
               petsc_options: Mapping[str, object] | None = None, mesh: str = "voxel",
               mesh_options: Mapping[str, object] | None = None, connectivity: str = "vertex") -> list[AxisColumn]:
    """Solve every axis in ``names`` from this rank's planes of the image (``image``: its RankPlanes; the
    clusters labelled by planes and joined over the ranks, femiec.meshing.slab_clusters, so no rank holds
    the whole image). ``mesh="voxel"``: Q1 on the voxel mesh of the spanning clusters, built once per
    distinct set of them (halo >= 2); ``"conforming"``: P1 on one conforming tetrahedral mesh of the image
    (any halo; femiec.meshing.conforming.conforming_mesh with ``mesh_options``, lengths in metres), the
    non-conducting phases merged into one of conductivity INSULATOR times the largest one
    (:func:`_conforming_mesh`). ``connectivity``: that of the voxel mesh (femiec.meshing.voxel.voxel_mesh),
    "vertex" or "face"."""
    # solve in voxel units: with SI lengths of micrometres the stiffness entries (~h) would be tiny next to
    # the unit Dirichlet rows, and the relative residual would stop CG far too early
    unit = float(spacing.max())
    cells = spacing / unit
    volume = float(np.prod(np.array(image.shape) * cells))
    conductivities = dict(tensors)
    spans = _PlaneSpans(image, list(tensors), connectivity, comm)
    solutions = []
    meshed = None  # (spanning set, MeshData) of the last mesh
    for name in names:
        start = time.perf_counter()
        axis = "xyz".index(name)
        spanning, count = spans.spanning(axis)
        if count == 0:
            solutions.append(AxisColumn(axis, 0.0, np.zeros(3), 0, 0, 0.0, time.perf_counter() - start))
            continue
        if mesh == "conforming" and meshed is None:
            meshed = (None, _conforming_mesh(image, conductivities, cells, unit, mesh_options or {}, comm))
        elif mesh == "voxel" and (meshed is None or not spans.same(meshed[0], spanning)):
            meshed = (spanning, spans.mesh(spanning, cells))
        mean_flux, iterations, problem = applied_potential(meshed[1], conductivities, axis, rtol, petsc_options,
                                                           volume)
        if out_dir is not None:
            _write_fields(out_dir, problem, name, unit)
        unknowns = problem.V.dofmap.index_map.size_global
        solutions.append(AxisColumn(axis, float(mean_flux[axis]), mean_flux, iterations, unknowns,
                                    count / spans.phase_voxels, time.perf_counter() - start))
        problem.solver.destroy()
    return solutions


class _PlaneSpans:
    """The clusters spanning each axis of an image read by planes: labelled on each rank's owned planes
    with ``connectivity`` and joined over the ranks (femiec.meshing.slab_clusters.label_clusters)."""

    def __init__(self, planes: RankPlanes, phases: list[int], connectivity: str, comm):
        from femiec.meshing.slab_clusters import label_clusters

        self.planes, self.phases, self.connectivity, self.comm = planes, phases, connectivity, comm
        i0, i1 = planes.own
        self.labels, self.clusters = label_clusters(planes.selection(phases, i0, i1), comm, connectivity)
        self.phase_voxels = int(planes.histogram[phases].sum())

    def spanning(self, axis: int) -> tuple[np.ndarray, int]:
        """(this rank's mask over its owned planes of the voxels of the clusters spanning ``axis``, their
        number over all ranks). Collective."""
        spanning = self.clusters.spanning(axis)[self.labels]
        return spanning, self.comm.allreduce(int(np.count_nonzero(spanning)))

    def same(self, a: np.ndarray, b: np.ndarray) -> bool:
        """The two spanning masks are equal on every rank. Collective."""
        from mpi4py import MPI

        return self.comm.allreduce(bool(np.array_equal(a, b)), op=MPI.LAND)

    def mesh(self, spanning: np.ndarray, spacing):
        """Voxel mesh of the spanning voxels only (femiec.meshing.voxel.voxel_mesh on the planes where the
        other voxels of the phases get a value outside them, cut anew by the voxels left)."""
        from femiec.meshing.rank_planes import kept_planes
        from femiec.meshing.voxel import voxel_mesh

        planes = kept_planes(self.planes, self.phases, spanning, self.comm)
        return voxel_mesh(planes, self.phases, spacing, self.comm, connectivity=self.connectivity)


def _write_fields(out_dir, problem, name: str, unit: float) -> None:
    """Write the potential and flux of ``problem`` (solved in voxel units) with the mesh in metres."""
    from femiec.io.fields import FieldWriter

    x = problem.meshdata.mesh.geometry.x
    x *= unit
    try:
        flux = problem.flux_function()
        writer = FieldWriter(out_dir, {f"potential_{name}": (problem.u, "V"), f"flux_{name}": (flux, "A/m^2")})
        writer.write(0.0)
        writer.close()
    finally:
        x /= unit


#: relative conductivity of the non-conducting phases on conforming meshes (they are meshed, unlike on the
#: voxel mesh); it changes D_eff / D0 by about this relative amount
INSULATOR = 1e-9


def _conforming_mesh(planes: RankPlanes, conductivities: dict, cells, unit: float, options: Mapping, comm):
    """Conforming tetrahedral mesh (voxel units) of the image whose RankPlanes are ``planes``, the
    non-conducting values merged into one phase on this rank's planes (added to ``conductivities`` with
    INSULATOR times the largest conductivity). Collective."""
    from femiec.meshing.conforming import conforming_mesh

    options = dict(options)
    for key in ("mesh_size", "max_size"):
        if options.get(key) is not None:
            options[key] = options[key] / unit
    phases = list(conductivities)
    spare = next(v for v in range(256) if v not in conductivities)
    histogram = np.zeros_like(planes.histogram)
    histogram[phases] = planes.histogram[phases]
    histogram[spare] += planes.histogram.sum() - histogram.sum()
    if histogram[spare]:
        largest = max(float(np.linalg.eigvalsh(np.asarray(K, dtype=float)).max()) for K in conductivities.values())
        conductivities[spare] = INSULATOR * largest * np.eye(3)
    merged = np.where(planes.selection(phases), planes.data, spare).astype(np.uint8, copy=False)
    return conforming_mesh(replace(planes, data=merged, histogram=histogram), voxel_size=cells, comm=comm,
                           **options)


def box_bounds(mesh) -> tuple[np.ndarray, np.ndarray]:
    """(low corner, high corner) of the bounding box of a distributed mesh (same on every rank)."""
    x = mesh.geometry.x
    corners = mesh.comm.allgather((x.min(axis=0), x.max(axis=0)) if x.size else None)
    corners = [c for c in corners if c is not None]
    return np.min([c[0] for c in corners], axis=0), np.max([c[1] for c in corners], axis=0)


def applied_potential(meshdata, conductivities: Mapping, axis: int, rtol: float | None = None,
                      petsc_options: Mapping[str, object] | None = None, cell_volume: float | None = None):
    """Apply 1 V across ``axis`` of a box-shaped mesh (facet tags xmin ... zmax) and average the current.

    Works for any tagged mesh: Q1 voxel meshes and conforming P1 tetrahedral meshes alike (lengths in
    voxel or other units; the result is dimensionless).

    Args:
        meshdata: MeshData with the box-face facet tags of ``femiec.meshing.base.BOX_FACETS``.
        conductivities: cell tag or region name -> conductivity spec (number, 3x3 matrix, symmetry table).
        axis: 0, 1, 2 for x, y, z.
        rtol, petsc_options: linear solver settings (CG + BoomerAMG defaults of femiec.homogenization.ksp).
        cell_volume: volume of the whole sample (default: its bounding box).

    Returns:
        (mean_flux, iterations, problem): <j> / (dPhi / L) as a 3-vector (its ``axis`` entry is
        D_eff / D0), the CG iterations and the solved ConductionProblem.
    """
    import ufl
    from dolfinx import fem
    from mpi4py import MPI

    from femiec.problems.conduction import ConductionProblem

    mesh = meshdata.mesh
    comm = mesh.comm
    low, high = box_bounds(mesh)
    volume = cell_volume if cell_volume is not None else float(np.prod(high - low))
    name = "xyz"[axis]
    problem = ConductionProblem(meshdata, dict(conductivities))
    problem.set_value(f"{name}min", 1.0)
    problem.set_value(f"{name}max", 0.0)
    options = {key: value for key, value in DEFAULT_OPTIONS.items() if key != "ksp_max_it"}
    if rtol is not None:
        options["ksp_rtol"] = rtol
    options.update(petsc_options or {})
    stats = problem.solve("iterative", petsc_options=options)
    flux = problem.flux()
    dx = ufl.Measure("dx", domain=mesh)
    integral = np.array([comm.allreduce(fem.assemble_scalar(fem.form(flux[i] * dx)), op=MPI.SUM)
                         for i in range(3)])
    return integral / volume * (high[axis] - low[axis]), stats.krylov_iterations, problem
