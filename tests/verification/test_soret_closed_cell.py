"""Soret thermodiffusion of a neutral species in a closed cell with a fixed linear temperature."""
from __future__ import annotations

import numpy as np
import pytest
import ufl

from femiec.analytic.thermal import soret_closed_cell_linear
from femiec.forms.nernst_planck import nernst_planck_flux, nernst_planck_residual
from femiec.forms.soret import soret_driving_force
from femiec.forms.time import backward_euler
from femiec.meshing.box import box_mesh

LENGTH, T_COLD, T_HOT = 1e-3, 300.0, 400.0  # m, K, K
D, C_MEAN = 1e-9, 100.0  # m^2/s, mol/m^3


def closed_cell(comm, cells, alpha_T):
    """Steady c on [0, L] x (thin cross-section) with T = 300 + 100 x/L K and blocking walls.

    The steady problem div J = 0, J . n = 0 fixes c only up to its amount; the amount is set by marching
    the transient problem dc/dt + div J = 0 from c = c_mean with backward-Euler steps of 100 diffusion
    times L^2/D. Every step conserves the discrete amount exactly (test function v = 1) and damps the
    transient by a factor ~1/(1 + 100 pi^2), so six steps reach the steady state to round-off. The flux
    is J = nernst_planck_flux(c, D, z=0, phi=0, T, [soret_driving_force(alpha_T, c, T)]).
    """
    from dolfinx import fem

    from femiec.solvers.snes import NonlinearSolver

    lengths = [LENGTH] + [LENGTH / 10] * (len(cells) - 1)
    meshdata = box_mesh(lengths, cells, "triangle" if len(cells) == 2 else "tetrahedron", comm=comm)
    mesh = meshdata.mesh
    V = fem.functionspace(mesh, ("Lagrange", 2))
    c, c_n, v = fem.Function(V), fem.Function(V), ufl.TestFunction(V)
    c.x.array[:] = C_MEAN
    x = ufl.SpatialCoordinate(mesh)
    T = T_COLD + (T_HOT - T_COLD) * x[0] / LENGTH
    dt = fem.Constant(mesh, 100 * LENGTH ** 2 / D)
    phi = fem.Constant(mesh, 0.0)
    flux = nernst_planck_flux(c, D, 0, phi, T, extra_driving_forces=[soret_driving_force(alpha_T, c, T)])
    F = nernst_planck_residual(backward_euler(c, c_n, dt), flux, v, ufl.dx)
    solver = NonlinearSolver(F, c, petsc_options={"snes_type": "ksponly"})
    for _ in range(6):
        c_n.x.array[:] = c.x.array
        solver.solve()
    return meshdata, c, x


def _assemble(mesh, form) -> float:
    from dolfinx import fem
    from mpi4py import MPI

    return mesh.comm.allreduce(fem.assemble_scalar(fem.form(form)), op=MPI.SUM)


def _end_values(c, comm):
    """c at x = 0 and x = L (max over the dofs there; all equal up to round-off in this 1D profile)."""
    from mpi4py import MPI

    n = c.function_space.dofmap.index_map.size_local
    xs = c.function_space.tabulate_dof_coordinates()[:n, 0]
    values = c.x.array[:n]
    ends = []
    for target in (0.0, LENGTH):
        local = values[np.isclose(xs, target, atol=1e-9 * LENGTH)]
        ends.append(comm.allreduce(float(local.max()) if local.size else -np.inf, op=MPI.MAX))
    return ends


@pytest.mark.mpi
@pytest.mark.parametrize("cells", [(24, 2), (24, 1, 1)], ids=["2d", "3d"])
def test_soret_closed_cell_alpha2_end_ratios(comm, numbers, cells):
    """Oracle: steady J = 0 gives c T^alpha = const; with the amount fixed,
    c(x) = c_mean L T(x)^(-alpha) / int_0^L T^(-alpha) dx (femiec.analytic.thermal; de Groot & Mazur ch. XI).
    For alpha_T = 2 and T linear 300 -> 400 K: int T^-2 dx = L/120000 K^-2, so c(0)/c_mean = 120000/300^2
    = 4/3 and c(L)/c_mean = 120000/400^2 = 3/4 exactly. Asserted: both end ratios and the relative L2 error
    of the profile < 1e-4 (P2, 24 cells), and the mean concentration conserved to 1e-10 (round-off of the large-step solves)."""
    meshdata, c, x = closed_cell(comm, cells, alpha_T=2.0)
    mesh = meshdata.mesh
    c_left, c_right = _end_values(c, comm)
    ratio_cold, ratio_hot = c_left / C_MEAN, c_right / C_MEAN
    L = LENGTH
    T = T_COLD + (T_HOT - T_COLD) * x[0] / L
    exact = C_MEAN * 120000.0 / T ** 2
    volume = _assemble(mesh, 1.0 * ufl.dx(domain=mesh))
    l2 = np.sqrt(_assemble(mesh, (c - exact) ** 2 * ufl.dx) / _assemble(mesh, exact ** 2 * ufl.dx))
    mean = _assemble(mesh, c * ufl.dx) / volume
    numbers.record("ratio_cold", ratio_cold)
    numbers.record("ratio_hot", ratio_hot)
    numbers.record("l2_relative_error", l2)
    assert abs(ratio_cold / (4 / 3) - 1) < 1e-4
    assert abs(ratio_hot / (3 / 4) - 1) < 1e-4
    assert l2 < 1e-4
    assert abs(mean / C_MEAN - 1) < 1e-10


@pytest.mark.mpi
@pytest.mark.parametrize("alpha_T", [-1.0, 0.5, 1.0])
def test_soret_closed_cell_profile_matches_closed_form(comm, numbers, alpha_T):
    """Oracle: femiec.analytic.thermal.soret_closed_cell_linear (closed-form integral of T^-alpha for a
    linear T, including alpha = 1 with the logarithm, and a negative alpha: enrichment on the hot side);
    nodal values of the P2 solution match to relative 1e-4 in the 2D cell."""
    meshdata, c, _ = closed_cell(comm, (24, 2), alpha_T)
    from mpi4py import MPI

    n = c.function_space.dofmap.index_map.size_local
    xs = c.function_space.tabulate_dof_coordinates()[:n, 0]
    exact = soret_closed_cell_linear(xs, LENGTH, T_COLD, T_HOT, alpha_T, C_MEAN)
    error = comm.allreduce(float(np.max(np.abs(c.x.array[:n] / exact - 1), initial=0.0)), op=MPI.MAX)
    cold, hot = _end_values(c, comm)
    numbers.record("hot_to_cold_ratio", hot / cold)
    assert error < 1e-4
    assert hot / cold == pytest.approx((T_HOT / T_COLD) ** (-alpha_T), rel=1e-4)
