"""Manufactured solution of the coupled temperature / concentration / potential system (monolithic Newton).

Unknowns T [K], c [mol/m^3], phi [V] on the unit square/cube (m), one mixed Lagrange space:

    -div(k(T) grad T) = grad(phi) . sigma grad(phi) + i . E + f_T          k(T) = K0 300/T (tensor K0)
    div J = f_c,   J = nernst_planck_flux(c, D(T), z, phi, T, [soret_driving_force(alpha_T(T), c, T)])
    -div(eps grad phi) = F z c + f_phi

with D(T) Arrhenius, alpha_T(T) = Q*/(k_B T), i = F z J and the thermal voltage RT/F taken at the local T.
Every term of the heat, Soret and temperature-law modules enters; the sources f are derived symbolically
from the exact fields, Dirichlet data on the whole boundary.
"""
from __future__ import annotations

import numpy as np
import pytest
import ufl

from femiec.constants import BOLTZMANN, FARADAY, VACUUM_PERMITTIVITY
from femiec.forms.heat import heat_flux, heat_residual, ionic_current_density, ionic_heating, joule_heating
from femiec.forms.nernst_planck import nernst_planck_flux, nernst_planck_residual
from femiec.forms.poisson import poisson_residual
from femiec.forms.soret import alpha_from_heat_of_transport, soret_driving_force
from femiec.materials.temperature_dependence import arrhenius
from femiec.meshing.box import box_mesh

from npp_support import assert_l2_h1_orders

C0 = 2e-10  # mol/m^3: with eps_r = 10 the Debye length is ~0.3 m, so the Poisson coupling is O(1)
Z, EPS = 1, 10 * VACUUM_PERMITTIVITY
D0, EA = 1e-6, 10e3  # D(300 K) ~ 1.8e-8 m^2/s
Q_STAR = 1.5 * BOLTZMANN * 300.0  # heat of transport: alpha_T(300 K) = 1.5
K0 = [[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 1.5]]  # W/(m K) at 300 K
SIGMA = 1e3  # S/m, electronic conductivity of the Joule source


def exact(x, m, dim):
    """(T, c, phi) with T = 300 + 30 x + 40 y + a smooth bump (so T is not in the P1 space)."""
    z = x[2] if dim == 3 else 0.0
    T = 300 + 30 * x[0] + 40 * x[1] + 5 * m.sin(2 * x[0] + x[1] + z)
    c = C0 * (1.5 + 0.5 * m.sin(2 * x[0] + x[1] + z))
    phi = 0.025 * m.sin(1.5 * x[0]) * m.cos(x[1] + z)
    return T, c, phi


def coupled_residual(T, c, phi, tests, dim, dx, sources=(0, 0, 0)):
    vT, vc, vphi = tests
    k = ufl.as_matrix([row[:dim] for row in K0[:dim]]) * (300.0 / T)
    D = arrhenius(D0, EA, T)
    J = nernst_planck_flux(c, D, Z, phi, T,
                           extra_driving_forces=[soret_driving_force(alpha_from_heat_of_transport(Q_STAR, T), c, T)])
    q = joule_heating(SIGMA, phi) + ionic_heating(ionic_current_density([J], [Z]), phi)
    F_T = heat_residual(None, k, T, None, vT, dx, source=q + sources[0])
    F_c = nernst_planck_residual(None, J, vc, dx, source=sources[1])
    F_phi = poisson_residual(phi, vphi, EPS, FARADAY * Z * c + sources[2], dx)
    # each equation divided by its natural scale (k0 dT, D c0, eps V), so Newton's residual norm weighs
    # the three alike
    return 0.5 * F_T + (1 / (1e-8 * C0)) * F_c + (1 / (EPS * 0.025)) * F_phi, (k, D, J, q)


def solve(comm, dim, degree, n):
    from dolfinx import fem
    import basix.ufl

    from femiec.solvers.snes import NonlinearSolver

    meshdata = box_mesh([1.0] * dim, [n] * dim, "triangle" if dim == 2 else "tetrahedron", comm=comm)
    mesh = meshdata.mesh
    element = basix.ufl.element("Lagrange", mesh.basix_cell(), degree)
    W = fem.functionspace(mesh, basix.ufl.mixed_element([element] * 3))
    u = fem.Function(W)
    x = ufl.SpatialCoordinate(mesh)
    T_ex, c_ex, phi_ex = exact(x, ufl, dim)
    dx = ufl.dx(domain=mesh, metadata={"quadrature_degree": 2 * degree + 3})
    # manufactured sources: the strong operators applied to the exact fields
    _, (k, D, J, q) = coupled_residual(T_ex, c_ex, phi_ex, ufl.TestFunctions(W), dim, dx)
    f_T = ufl.div(heat_flux(k, T_ex)) - q
    f_c = ufl.div(J)
    f_phi = -ufl.div(EPS * ufl.grad(phi_ex)) - FARADAY * Z * c_ex
    T, c, phi = ufl.split(u)
    F, _ = coupled_residual(T, c, phi, ufl.TestFunctions(W), dim, dx, (f_T, f_c, f_phi))
    fdim = dim - 1
    mesh.topology.create_connectivity(fdim, dim)
    facets = meshdata.facet_tags.indices
    bcs = []
    for i, initial in enumerate((300.0, 1.5 * C0, 0.0)):
        Vi, _ = W.sub(i).collapse()
        g = fem.Function(Vi)
        g.interpolate(lambda p, i=i: exact(p, np, dim)[i] + 0 * p[0])
        dofs = fem.locate_dofs_topological((W.sub(i), Vi), fdim, facets)
        bcs.append(fem.dirichletbc(g, dofs, W.sub(i)))
        u.sub(i).interpolate(lambda p, v=initial: np.full(p.shape[1], v))
    solver = NonlinearSolver(F, u, bcs, petsc_options={"snes_rtol": 1e-12, "snes_atol": 1e-200,
                                                        "snes_linesearch_type": "basic"})
    stats = solver.solve()
    l2, h1 = [], []  # relative L2 norm and H1 seminorm errors
    for numeric, ref, scale in zip((T, c, phi), (T_ex, c_ex, phi_ex), (T_ex - 300, c_ex, phi_ex)):
        e, g = numeric - ref, ufl.grad(numeric - ref)
        l2.append(np.sqrt(_assemble(mesh, e ** 2 * dx) / _assemble(mesh, scale ** 2 * dx)))
        h1.append(np.sqrt(_assemble(mesh, ufl.inner(g, g) * dx)
                          / _assemble(mesh, ufl.inner(ufl.grad(scale), ufl.grad(scale)) * dx)))
    solver.destroy()
    return np.array(l2), np.array(h1), stats.newton_iterations


def _assemble(mesh, form) -> float:
    from dolfinx import fem
    from mpi4py import MPI

    return mesh.comm.allreduce(fem.assemble_scalar(fem.form(form)), op=MPI.SUM)


@pytest.mark.mpi
@pytest.mark.parametrize("dim, degree, sizes, l2_order, h1_order", [
    (2, 1, (8, 16, 32), 1.9, 0.9), (2, 2, (4, 8, 16), 2.9, 1.9), (3, 1, (6, 12), 1.9, 0.9),
    (3, 2, (3, 6), 2.9, 1.9)], ids=["2d-P1", "2d-P2", "3d-P1", "3d-P2"])
def test_coupled_T_c_phi_convergence(comm, numbers, dim, degree, sizes, l2_order, h1_order):
    """Oracle: manufactured solution (module docstring); Lagrange P_p converges as h^(p+1) in L2 and
    h^p in the H1 seminorm (Ciarlet 1978), as for the isothermal NPP system: the relative errors of
    T - 300 K, c and phi on the two finest meshes must reach L2 order 1.9 (P1) / 2.9 (P2) and H1 order
    0.9 (P1) / 1.9 (P2), in 2D and 3D. In 3D P1 the pair 4 -> 8 cells is pre-asymptotic for phi (L2 1.86);
    6 -> 12 cells (9 s serial) gives L2 1.99 / 2.25 / 1.92 for T / c / phi; 3D P2 3 -> 6 gives
    3.00 / 2.91 / 3.19 (H1 figures in docs/thermal.md)."""
    results = [solve(comm, dim, degree, n) for n in sizes]
    assert_l2_h1_orders(numbers, sizes, results, l2_order, h1_order)
