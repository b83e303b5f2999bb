"""Manufactured-solution convergence of the coupled Nernst–Planck–Poisson problem (2 species + Poisson)."""
from __future__ import annotations

import numpy as np
import pytest
import ufl

from femiec.constants import FARADAY, VACUUM_PERMITTIVITY, thermal_voltage
from femiec.forms.nernst_planck import nernst_planck_flux
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import FixedConcentration, FixedPotential
from femiec.problems.species import Species

from npp_support import box_mesh

LENGTH = 1e-8  # m; with c0 = 1 mol/m^3 and eps_r = 10 the Debye length is 3.4 nm: strong coupling
C0, EPS_R, T = 1.0, 10.0, 300.0
CHARGES = (1, -2)
D1 = 1e-9
D2 = [[2e-9, 0.5e-9, 0.0], [0.5e-9, 1e-9, 0.0], [0.0, 0.0, 1.5e-9]]  # anisotropic, exercises tensors


def exact(x, m):
    """(c1, c2, phi) at x for the math module m (numpy for boundary values, ufl for sources)."""
    X, Y = x[0] / LENGTH, x[1] / LENGTH
    Z = x[2] / LENGTH if len(x) > 2 else 0.0
    vt = thermal_voltage(T)
    return (C0 * (1.5 + 0.5 * m.sin(2 * X + Y + Z)), C0 * (1.5 + 0.5 * m.cos(X - 2 * Y + Z)),
            vt * m.sin(1.5 * X) * m.cos(Y + Z))


def solve_mms(comm, dim, degree, n):
    meshdata = box_mesh(comm, [n] * dim, [LENGTH] * dim)
    mesh = meshdata.mesh
    x = ufl.SpatialCoordinate(mesh)
    c1, c2, phi = exact([x[i] for i in range(dim)], ufl)
    D2_plane = ufl.as_matrix([row[:dim] for row in D2[:dim]])
    fluxes = [nernst_planck_flux(c1, D1, CHARGES[0], phi, T), nernst_planck_flux(c2, D2_plane, CHARGES[1], phi, T)]
    eps = EPS_R * VACUUM_PERMITTIVITY
    rho_fixed = -eps * ufl.div(ufl.grad(phi)) - FARADAY * (CHARGES[0] * c1 + CHARGES[1] * c2)
    species = [Species("a", CHARGES[0], D1, C0), Species("b", CHARGES[1], D2, C0)]
    faces = list(meshdata.facet_names)
    conditions = [FixedConcentration("a", faces, lambda p: exact(p, np)[0]),
                  FixedConcentration("b", faces, lambda p: exact(p, np)[1]),
                  FixedPotential(faces, lambda p: exact(p, np)[2])]
    problem = NernstPlanckPoisson(meshdata, species, conditions=conditions, temperature=T,
                                  relative_permittivity=EPS_R, fixed_charge=rho_fixed, degree=degree,
                                  sources={"a": ufl.div(fluxes[0]), "b": ufl.div(fluxes[1])})
    problem.solve_steady()
    state = problem.state(problem.u)
    dx = ufl.dx(domain=mesh, metadata={"quadrature_degree": 2 * degree + 4})
    errors = {}
    for name, numeric, ref in zip(("a", "b", "phi"), state.concentrations + [state.potential], (c1, c2, phi)):
        l2 = problem._assemble(ufl.inner(numeric - ref, numeric - ref), dx) / problem._assemble(ref * ref, dx)
        h1 = problem._assemble(ufl.inner(ufl.grad(numeric - ref), ufl.grad(numeric - ref)), dx) / \
            problem._assemble(ufl.inner(ufl.grad(ref), ufl.grad(ref)), dx)
        errors[name] = (np.sqrt(l2), np.sqrt(h1))
    return errors


CASES = [  # dim, degree, cells per side, minimum L2 order, minimum H1 order
    (2, 1, (8, 16, 32), 1.9, 0.9),
    (2, 2, (4, 8, 16), 2.9, 1.9),
    (3, 1, (6, 12), 1.9, 0.9),
    (3, 2, (3, 6), 2.9, 1.9),
]


@pytest.mark.mpi
@pytest.mark.parametrize("dim, degree, sizes, l2_order, h1_order", CASES,
                         ids=[f"{d}d-P{k}" for d, k, *_ in CASES])
def test_npp_manufactured_convergence(comm, numbers, dim, degree, sizes, l2_order, h1_order):
    """Oracle: the exact fields c1 = c0 (1.5 + 0.5 sin(2X + Y + Z)), c2 = c0 (1.5 + 0.5 cos(X - 2Y + Z)),
    phi = V_T sin(1.5 X) cos(Y + Z) (X = x/L ...) solve the steady system with the manufactured sources
    s_i = div J_i(exact) and rho_fixed = -div(eps grad phi) - F sum z_i c_i (Roache, *Code Verification
    by the Method of Manufactured Solutions*, 2002). Lagrange P_k converges as h^(k+1) in L2 and h^k in H1
    (Ciarlet 1978); the measured orders on the two finest meshes must reach 1.9 / 2.9 (L2, P1 / P2) and
    0.9 / 1.9 (H1). Species b has an anisotropic diffusivity tensor.
    """
    results = [solve_mms(comm, dim, degree, n) for n in sizes]
    for field in ("a", "b", "phi"):
        l2 = [r[field][0] for r in results]
        h1 = [r[field][1] for r in results]
        order_l2 = np.log2(l2[-2] / l2[-1])
        order_h1 = np.log2(h1[-2] / h1[-1])
        numbers.record(f"{field}_l2_errors", l2)
        numbers.record(f"{field}_l2_order", order_l2)
        numbers.record(f"{field}_h1_order", order_h1)
        assert order_l2 >= l2_order, (field, l2)
        assert order_h1 >= h1_order, (field, h1)
