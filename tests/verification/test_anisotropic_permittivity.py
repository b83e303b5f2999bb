"""Anisotropic (rotated tensor) permittivity in the Nernst–Planck–Poisson problem, through the case-file
path (typed model section and ``problem_from_section``: SI input, symmetry-class table with an orientation, nondimensionalization).

One neutral species held at c0 on every face keeps its concentration uniform, so the Poisson equation
-div(eps0 eps_r grad phi) = rho_fixed is solved alone and has the closed forms below.
"""
from __future__ import annotations

import numpy as np
import pytest
import ufl
from mpi4py import MPI

from femiec.constants import VACUUM_PERMITTIVITY
from femiec.materials.tensors import tensor_from_spec
from femiec.models.nernst_planck_poisson import NernstPlanckPoissonModel
from femiec.problems.nernst_planck_poisson import problem_from_section

from npp_support import box_mesh

#: eps_r: orthorhombic (4, 10, 25) rotated by Euler angles (ZXZ) 30, 50, 20 degrees: no principal axis
#: along x, y or z
PERMITTIVITY = {"symmetry": "orthorhombic", "values": [4.0, 10.0, 25.0], "orientation": {"euler": [30.0, 50.0, 20.0]}}
EPS = VACUUM_PERMITTIVITY * tensor_from_spec(PERMITTIVITY)
LENGTHS = (2e-6, 1e-6, 1e-6)  # m
FACES = ["xmin", "xmax", "ymin", "ymax", "zmin", "zmax"]
C0 = 1.0  # mol/m^3


def _solve(comm, cells, potential, fixed_charge=None, degree=1):
    meshdata = box_mesh(comm, cells, LENGTHS)
    section = {
        "species": [{"name": "neutral", "charge": 0, "diffusivity": 1e-9, "initial": C0}],
        "relative_permittivity": PERMITTIVITY,
        "fixed_charge": fixed_charge,
        "degree": degree,
        "temperature": 300.0,
        "conditions": [{"type": "concentration", "species": "neutral", "facets": FACES, "value": C0},
                       {"type": "potential", "facets": FACES, "value": potential}],
    }
    problem = problem_from_section(NernstPlanckPoissonModel.from_table(section), meshdata)
    assert problem.solve_steady()[-1]["converged"]
    return problem


def _cell_values(problem, expression, shape=(3,)):
    """Values of a UFL expression at the cell midpoints of the owned cells (DG0 interpolation)."""
    from dolfinx import fem

    from femiec._compat import interpolation_points

    mesh = problem.mesh
    V = fem.functionspace(mesh, ("DG", 0, shape))
    f = fem.Function(V)
    f.interpolate(fem.Expression(expression, interpolation_points(V)))
    owned = mesh.topology.index_map(mesh.topology.dim).size_local
    return f.x.array.reshape(-1, *shape)[:owned]


@pytest.mark.mpi
def test_linear_potential_gives_rotated_displacement(comm, numbers):
    """Oracle: a homogeneous dielectric with phi = g . x on all six faces and no charge has the exact
    solution phi = g . x (div(eps g) = 0), reproduced by P1; the electric displacement is the constant
    D = -eps0 eps_r g, not parallel to E = -g. Asserted: in every cell D equals it to 1e-10 (relative to
    |D|), the displacement flux out of xmax equals D_x times the face area (1e-10), and the angle between
    D and E is the one of the closed form (> 10 degrees here)."""
    g = np.array([0.05, -0.02, 0.03]) / 1e-6  # V/m: phi spans about 0.1 V
    problem = _solve(comm, (4, 2, 2), lambda x: g @ x)
    expected = -EPS @ g
    phi = problem.state(problem.u).potential
    displacement = -problem.permittivity * ufl.grad(phi)
    local = _cell_values(problem, displacement)
    error = comm.allreduce(float(np.abs(local - expected).max(initial=0.0)), op=MPI.MAX) / np.linalg.norm(expected)
    n = ufl.FacetNormal(problem.mesh)
    area = LENGTHS[1] * LENGTHS[2]
    flux = problem._assemble(ufl.dot(displacement, n), problem._facet_measure(("xmax",)))
    angle = np.degrees(np.arccos(expected @ -g / (np.linalg.norm(expected) * np.linalg.norm(g))))
    numbers.record("displacement_max_error", error)
    numbers.record("displacement_flux_xmax_per_area", flux / area)  # C/m^2
    numbers.record("angle_D_E_deg", angle)
    assert error < 1e-10, error
    assert flux == pytest.approx(expected[0] * area, rel=1e-10)
    assert angle > 10.0, angle


@pytest.mark.mpi
def test_charged_slab_with_oblique_principal_axes(comm, numbers):
    """Oracle: a uniform charge density rho between grounded plates at x = 0 and x = L whose normal
    n = e_x is not a principal axis of eps: phi = rho x (L - x) / (2 eps_nn), eps_nn = n . eps . n
    (for phi = phi(x), div(eps grad phi) = eps_xx phi''). The other four faces carry the same profile
    (a slab cut out of an infinite one). The profile is quadratic, so P2 reproduces it: nodal values
    to 1e-10 of the mid-plane value rho L^2 / (8 eps_nn), which differs from rho L^2 / (8 eps) for every
    principal value eps."""
    length = LENGTHS[0]
    eps_nn = EPS[0, 0]
    rho = 8 * 0.1 * eps_nn / length**2  # C/m^3: 0.1 V at the mid-plane

    def exact(x):
        return rho * x[0] * (length - x[0]) / (2 * eps_nn)

    problem = _solve(comm, (4, 2, 2), exact, fixed_charge=rho, degree=2)
    n = len(problem.species)
    x = problem.subspaces[n][0].tabulate_dof_coordinates()
    phi = problem.nodal_values()[n]
    mid = rho * length**2 / (8 * eps_nn)
    error = comm.allreduce(float(np.abs(phi - exact(x.T)).max(initial=0.0)), op=MPI.MAX) / mid
    peak = comm.allreduce(float(phi.max(initial=-np.inf)), op=MPI.MAX)
    principal = VACUUM_PERMITTIVITY * np.array(PERMITTIVITY["values"])
    numbers.record("potential_max_error", error)
    numbers.record("midplane_potential", peak)
    assert error < 1e-10, error
    assert peak == pytest.approx(0.1, rel=1e-10)
    assert np.all(np.abs(principal - eps_nn) > 0.05 * eps_nn)
