"""Concentration-dependent diffusivity D(c) in the Nernst–Planck–Poisson problem (a callable (T, c) -> D)."""
from __future__ import annotations

import numpy as np
import pytest
import ufl

from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import FixedConcentration, FixedPotential
from femiec.problems.species import Species

from npp_support import box_mesh

L, D0, BETA = 1e-4, 1e-9, 0.1  # m, m^2/s, m^3/mol: D = D0 (1 + beta c) rises 2x to 3x across the cell
C_IN, C_OUT = 20.0, 10.0  # mol/m^3 at x = 0 and x = L


def kirchhoff(c):
    """G(c) = int_0^c D(s)/D0 ds = c + beta c^2 / 2 [mol/m^3]."""
    return c + BETA * c ** 2 / 2


def exact(x, m):
    """Steady c(x): G(c) is linear in x (div(D(c) grad c) = D0 lap G(c) = 0), so
    c = (sqrt(1 + 2 beta G) - 1) / beta with G = G(c_in) + (G(c_out) - G(c_in)) x / L."""
    G = kirchhoff(C_IN) + (kirchhoff(C_OUT) - kirchhoff(C_IN)) * x[0] / L
    return (m.sqrt(1 + 2 * BETA * G) - 1) / BETA


def solve(comm, degree, n):
    meshdata = box_mesh(comm, [n, 2], [L, L / 4])
    species = Species("n", 0, lambda T, c: D0 * (1 + BETA * c), C_OUT)
    problem = NernstPlanckPoisson(meshdata, [species], relative_permittivity=10.0, degree=degree,
                                  conditions=[FixedConcentration("n", "xmin", C_IN),
                                              FixedConcentration("n", "xmax", C_OUT), FixedPotential("xmin", 0.0)])
    problem.solve_steady()
    mesh = meshdata.mesh
    c = problem.state(problem.u).concentrations[0]
    c_ex = exact(ufl.SpatialCoordinate(mesh), ufl)
    dx = ufl.dx(domain=mesh, metadata={"quadrature_degree": 2 * degree + 4})
    l2 = np.sqrt(problem._assemble((c - c_ex) ** 2, dx) / problem._assemble((c_ex - C_OUT) ** 2, dx))
    # molar flow through x = L from the computed flux field (a boundary flux: converges like grad c)
    ds = ufl.Measure("ds", domain=mesh, subdomain_data=meshdata.facet_tags)
    flow = problem._assemble(problem.flux(0)[0], ds(meshdata.facet_id("xmax")))
    return l2, flow


@pytest.mark.mpi
@pytest.mark.parametrize("degree, order", [(1, 1.9), (2, 2.9)], ids=["P1", "P2"])
def test_npp_concentration_dependent_diffusivity(comm, numbers, degree, order):
    """Oracle (Kirchhoff transform): for D = D0 (1 + beta c), steady diffusion between c_in at x = 0 and
    c_out at x = L has G(c) = c + beta c^2/2 linear in x and the constant molar flux
    J = D0 (G(c_in) - G(c_out)) / L. Relative L2 errors of c on 16/32/64 (P1) or 8/16/32 (P2) cells along x:
    order >= 1.9 (P1), 2.9 (P2); the flow through x = L on the finest mesh equals J times the face area
    to 1e-2 (P1, measured 4.8e-3) / 2e-4 (P2, 7.9e-5), the gradient's orders h and h^2. A D frozen at
    D(c_out) would give a flow 1.75x smaller."""
    sizes = (16, 32, 64) if degree == 1 else (8, 16, 32)
    results = [solve(comm, degree, n) for n in sizes]
    errors = np.array([r[0] for r in results])
    orders = np.log2(errors[:-1] / errors[1:])
    flow_exact = D0 * (kirchhoff(C_IN) - kirchhoff(C_OUT)) / L * (L / 4)
    flow_error = abs(results[-1][1] / flow_exact - 1)
    numbers.record("l2_errors", errors)
    numbers.record("flow_error", flow_error)
    assert orders[-1] >= order, errors
    assert flow_error < (1e-2 if degree == 1 else 2e-4), flow_error
