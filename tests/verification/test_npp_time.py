"""Temporal convergence of backward Euler and variable-step BDF2 in the coupled problem."""
from __future__ import annotations

import numpy as np
import pytest
import ufl

from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import FixedPotential
from femiec.problems.species import Species

from npp_support import box_mesh

LENGTH, D, C0 = 1e-6, 1e-9, 1.0
T_END = 0.05 * LENGTH ** 2 / D


def exact(x, t, m):
    """c(x, t) = c0 (1 + 0.5 exp(-pi^2 D t / L^2) cos(pi x / L)): diffusion with blocking ends."""
    return C0 * (1 + 0.5 * np.exp(-np.pi ** 2 * D * t / LENGTH ** 2) * m.cos(np.pi * x / LENGTH))


def final_error(comm, scheme, n_steps):
    meshdata = box_mesh(comm, [64], [LENGTH])
    species = [Species("solute", 0, D, lambda x: exact(x[0], 0.0, np))]
    problem = NernstPlanckPoisson(meshdata, species, conditions=[FixedPotential("xmin", 0.0)],
                                  relative_permittivity=10.0, degree=2)
    problem.run(t_end=T_END, dt=T_END / n_steps, grow=1.0, scheme=scheme)
    x = ufl.SpatialCoordinate(meshdata.mesh)[0]
    c = problem.state(problem.u).concentrations[0]
    dx = ufl.dx(domain=meshdata.mesh, metadata={"quadrature_degree": 8})
    ref = exact(x, T_END, ufl)
    return np.sqrt(problem._assemble((c - ref) ** 2, dx) / problem._assemble(ref ** 2, dx))


@pytest.mark.mpi
@pytest.mark.parametrize("scheme, order", [("bdf1", 0.9), ("bdf2", 1.9)])
def test_npp_time_scheme_order(comm, numbers, scheme, order):
    """Oracle: c = c0 (1 + 0.5 exp(-pi^2 D t / L^2) cos(pi x / L)) solves dc/dt = D c'' with blocking
    ends (Crank, *The Mathematics of Diffusion*, 1975, eq. 4.17). With N = 10, 20, 40 equal steps to
    T = 0.05 L^2 / D the error at T (P2, 64 cells: spatial error negligible) converges with order >= 0.9
    for backward Euler and >= 1.9 for BDF2 started by one backward-Euler step (Hairer, Norsett & Wanner
    I, section III.1). The variable-step coefficients are checked exactly in tests/unit/test_npp_forms.py.
    """
    errors = [final_error(comm, scheme, n) for n in (10, 20, 40)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    numbers.record("errors", errors)
    numbers.record("orders", orders)
    assert orders[-1] >= order, errors
