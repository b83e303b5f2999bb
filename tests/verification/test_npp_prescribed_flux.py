"""Prescribed-flux boundary condition of the Nernst–Planck–Poisson problem (``SpeciesFlux``, case-file
condition type "flux"): a neutral species fed through the face x = 0."""
from __future__ import annotations

import json

import numpy as np
import pytest
import ufl

from femiec.cli import main
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import FixedConcentration, FixedPotential, SpeciesFlux
from femiec.problems.species import Species

from npp_support import box_mesh

L, D, C_L = 1e-4, 1e-9, 10.0  # m, m^2/s, mol/m^3
J0 = D * C_L / L  # mol/(m^2 s): the inflow raises c(0) by c_L
J1 = 0.5 * J0  # amplitude of the cos(pi y / L) part of the inflow


def exact(x, m):
    """Steady c in [0, L]^2 for the inflow j(y) = J0 + J1 cos(pi y/L) at x = 0, c = c_L at x = L,
    blocking y faces: c = c_L + J0 (L - x)/D + J1 L/(pi D) sinh(pi (L - x)/L) / cosh(pi) cos(pi y/L)."""
    return (C_L + J0 * (L - x[0]) / D
            + J1 * L / (np.pi * D) * m.sinh(np.pi * (L - x[0]) / L) / np.cosh(np.pi) * m.cos(np.pi * x[1] / L))


def solve_steady_flux(comm, degree, n):
    meshdata = box_mesh(comm, [n, n], [L, L])
    y = ufl.SpatialCoordinate(meshdata.mesh)[1]
    inflow = J0 + J1 * ufl.cos(np.pi * y / L)
    problem = NernstPlanckPoisson(
        meshdata, [Species("n", 0, D, C_L)], relative_permittivity=10.0, degree=degree,
        conditions=[SpeciesFlux("n", "xmin", -inflow),  # outward flux J . n = -inflow
                    FixedConcentration("n", "xmax", C_L), FixedPotential("xmin", 0.0)])
    problem.solve_steady()
    c = problem.state(problem.u).concentrations[0]
    c_ex = exact(ufl.SpatialCoordinate(meshdata.mesh), ufl)
    dx = ufl.dx(domain=meshdata.mesh, metadata={"quadrature_degree": 2 * degree + 4})
    e, g, g_ex = c - c_ex, ufl.grad(c - c_ex), ufl.grad(c_ex)
    l2 = np.sqrt(problem._assemble(e * e, dx) / problem._assemble((c_ex - C_L) ** 2, dx))
    h1 = np.sqrt(problem._assemble(ufl.inner(g, g), dx) / problem._assemble(ufl.inner(g_ex, g_ex), dx))
    return l2, h1


CASES = [(1, (8, 16, 32), 1.9, 0.9), (2, (4, 8, 16), 2.9, 1.9)]


@pytest.mark.mpi
@pytest.mark.parametrize("degree, sizes, l2_order, h1_order", CASES, ids=["P1", "P2"])
def test_npp_prescribed_flux_steady(comm, numbers, degree, sizes, l2_order, h1_order):
    """Oracle: steady diffusion D lap c = 0 in the square [0, L]^2 with the prescribed inflow
    j(y) = J0 + J1 cos(pi y/L) at x = 0 (SpeciesFlux with the UFL value J . n = -j), c = c_L at x = L
    and blocking y faces has the closed form of ``exact`` (separation of variables: the constant part
    gives the linear profile c_L + J0 (L - x)/D, the cosine part a sinh mode). Relative L2 and H1
    seminorm errors of c - c_L on the two finest meshes: orders >= 1.9 / 0.9 (P1), 2.9 / 1.9 (P2)."""
    errors = np.array([solve_steady_flux(comm, degree, n) for n in sizes])
    orders = np.log2(errors[-2] / errors[-1])
    numbers.record("errors_finest", errors[-1])
    numbers.record("orders", orders)
    assert orders[0] >= l2_order, errors
    assert orders[1] >= h1_order, errors


@pytest.mark.mpi
def test_npp_prescribed_flux_amount_growth(comm, numbers):
    """Oracle: a closed 3D box (volume V, face x = 0 of area A = (L/4)^2) fed by a constant inflow J
    through x = 0 holds amount(t) = c0 V + J A t exactly: the Galerkin residual with the test function 1
    is the discrete balance d/dt int c dx = -int J . n ds, and backward Euler / BDF2 are exact for an
    amount linear in t. Adaptive BDF2 run to 10 diffusion times L^2/D; asserted at 5 output times to
    1e-10 relative to the gained amount."""
    meshdata = box_mesh(comm, [8, 2, 2], [L, L / 4, L / 4])
    c0, area, volume = C_L, (L / 4) ** 2, L * (L / 4) ** 2
    problem = NernstPlanckPoisson(meshdata, [Species("n", 0, D, c0)], relative_permittivity=10.0,
                                  conditions=[SpeciesFlux("n", "xmin", -J0), FixedPotential("xmin", 0.0)])
    t_end = 10 * L ** 2 / D
    times, errors = [], []

    def check(t):
        gained = problem.amount("n") - c0 * volume
        times.append(t)
        errors.append(abs(gained - J0 * area * t) / (J0 * area * t_end))

    problem.run(t_end=t_end, dt=0.01 * L ** 2 / D, output_times=[t_end * k / 5 for k in range(1, 5)],
                on_output=check)
    numbers.record("amount_mol", problem.amount("n"))
    numbers.record("max_error", max(errors))
    assert times == pytest.approx([t_end * k / 5 for k in range(6)])
    assert max(errors) < 1e-10, errors
    assert problem.amount("n") == pytest.approx(c0 * volume + J0 * area * t_end, rel=1e-10)


CASE = """
[case]
name = "prescribed_flux"

[mesh]
kind = "box"
lengths = [{L}, {W}]
cells = [16, 2]
cell_type = "triangle"

[model]
kind = "nernst_planck_poisson"
relative_permittivity = 10.0
species = [{{ name = "n", charge = 0, diffusivity = {D}, initial = {c} }}]
conditions = [
  {{ type = "flux", species = "n", facets = "xmin", value = {outward} }},
  {{ type = "concentration", species = "n", facets = "xmax", value = {c} }},
  {{ type = "potential", facets = "xmin", value = 0.0 }},
]

[output]
formats = ["xdmf"]
"""


@pytest.mark.mpi
def test_npp_prescribed_flux_case_file(tmp_path_factory, comm, numbers):
    """Oracle: the case-file condition type "flux" (value = outward J . n = -J0 at xmin), c = c_L at
    xmax, blocking y faces, through `femiec run`: the steady profile is c(x) = c_L + J0 (L - x)/D, linear
    and so exact in P1: the face means in summary.json are c(0) = c_L + J0 L/D = 2 c_L and c(L) = c_L,
    and the amount is (c_L + J0 L/(2D)) L W, all to 1e-10 relative."""
    W = L / 4
    tmp = comm.bcast(tmp_path_factory.mktemp("flux") if comm.rank == 0 else None)
    if comm.rank == 0:
        (tmp / "case.toml").write_text(CASE.format(L=L, W=W, D=D, c=C_L, outward=-J0))
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    derived = json.loads((tmp / "out" / "summary.json").read_text())["derived"]
    means = derived["facet_mean_concentration_mol_m3"]["n"]
    numbers.record("c_xmin", means["xmin"])
    numbers.record("amount_mol", derived["amount_mol"]["n"])
    assert means["xmin"] == pytest.approx(C_L + J0 * L / D, rel=1e-10)
    assert means["xmax"] == pytest.approx(C_L, rel=1e-10)
    assert derived["amount_mol"]["n"] == pytest.approx((C_L + J0 * L / (2 * D)) * L * W, rel=1e-10)
