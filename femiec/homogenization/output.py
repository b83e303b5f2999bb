"""ParaView output of finite-volume solutions: DG0 fields on the voxel hexahedral mesh (VTX).

Per solved axis a: ``potential_<a>`` (V, 1 V applied between the inlet and outlet faces; NaN in voxels of
clusters that do not span the sample) and ``flux_<a>`` (A/m^2 for a conductivity of 1 S/m): the cell value
of each component is the mean of the two face current densities of the voxel on that axis, with the
finite-volume face conductances (harmonic mean of the voxel conductivities, in series with the contact
resistance between unlike phases when one is given).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

_OFFSETS = np.array([[0, 0, 0], [-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0], [0, 0, -1], [0, 0, 1]])


def write_voxel_fields(out_dir: str | Path, planes, lut: np.ndarray, phases: Sequence[int],
                       spacing: np.ndarray, comm, solutions: Sequence, resistance: np.ndarray | None = None) -> None:
    """Write the potential and flux of every solution (``FVAxisSolution`` with its system kept) on the voxel
    mesh of ``planes`` (this rank's RankPlanes of the image, two halo planes); ``lut``: conductivity by
    voxel value; ``resistance``: specific contact resistance between voxel values a, b at [a, b] (256 x
    256) or None."""
    from dolfinx import fem
    from dolfinx.mesh import compute_midpoints

    from femiec.io.fields import FieldWriter
    from femiec.meshing.voxel import voxel_mesh

    mesh = voxel_mesh(planes, list(phases), spacing, comm).mesh
    cells = np.arange(mesh.topology.index_map(3).size_local + mesh.topology.index_map(3).num_ghosts,
                      dtype=np.int32)
    voxels = np.floor(compute_midpoints(mesh, 3, cells) / spacing).astype(np.int64)
    scalar = fem.functionspace(mesh, ("DG", 0))
    vector = fem.functionspace(mesh, ("DG", 0, (3,)))
    fields = {}
    for solution in solutions:
        name = "xyz"[solution.axis]
        potential, flux = _cell_fields(solution, voxels, planes, lut, spacing, resistance)
        u = fem.Function(scalar)
        u.x.array[:] = potential
        q = fem.Function(vector)
        q.x.array[:] = flux.ravel()
        fields[f"potential_{name}"] = (u, "V")
        fields[f"flux_{name}"] = (q, "A/m^2")
    writer = FieldWriter(out_dir, fields)
    writer.write(0.0)
    writer.close()


def _cell_fields(solution, voxels: np.ndarray, planes, lut: np.ndarray, spacing: np.ndarray,
                 resistance: np.ndarray | None):
    """Potential and current density of the voxels ``voxels`` (n x 3) from their own and their six
    neighbours' potentials."""
    shape = np.array(planes.shape)
    stencil = voxels[:, None, :] + _OFFSETS[None, :, :]
    inside = np.all((stencil >= 0) & (stencil < shape), axis=2)
    clipped = np.clip(stencil, 0, shape - 1).reshape(-1, 3)
    phi = solution.potential(clipped).reshape(stencil.shape[:2])
    phi[~inside] = np.nan
    value = planes.lookup(clipped, 0).reshape(stencil.shape[:2])
    s = lut[value]
    s_c = s[:, :1]
    g = np.where(inside, 2.0 * s_c * s / (s_c + s + (s == 0)), 0.0)  # face conductivity
    if resistance is not None:  # h / g -> h / g + R_c (faces between neighbours: distance h_d)
        r = resistance[value[:, :1], value]
        distance = np.concatenate([[1.0], np.repeat(spacing, 2)])  # centre distances of the stencil
        g = g / (1.0 + g * r / distance)
    axis = solution.axis
    face = {1: 1.0, 2: 0.0}  # Dirichlet values beyond the inlet (low) and outlet (high) faces
    flux = np.zeros((len(voxels), 3))
    for d in range(3):
        lo, hi = 1 + 2 * d, 2 + 2 * d
        phi_lo, phi_hi, g_lo, g_hi = phi[:, lo].copy(), phi[:, hi].copy(), g[:, lo], g[:, hi]
        dist_lo = dist_hi = np.full(len(voxels), spacing[d])
        if d == axis:
            at_inlet, at_outlet = ~inside[:, lo], ~inside[:, hi]
            phi_lo[at_inlet], phi_hi[at_outlet] = face[1], face[2]
            g_lo = np.where(at_inlet, s_c[:, 0], g_lo)
            g_hi = np.where(at_outlet, s_c[:, 0], g_hi)
            dist_lo = np.where(at_inlet, spacing[d] / 2, dist_lo)
            dist_hi = np.where(at_outlet, spacing[d] / 2, dist_hi)
        j_lo = np.nan_to_num(g_lo * (phi_lo - phi[:, 0]) / dist_lo)
        j_hi = np.nan_to_num(g_hi * (phi[:, 0] - phi_hi) / dist_hi)
        flux[:, d] = 0.5 * (j_lo + j_hi)
    flux[np.isnan(phi[:, 0])] = 0.0
    return phi[:, 0], flux
