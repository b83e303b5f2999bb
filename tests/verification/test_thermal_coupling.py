"""Staggered and monolithic electro-thermal coupling converge to the same Joule-heated state."""
from __future__ import annotations

import numpy as np
import pytest
import ufl

from femiec.constants import GAS_CONSTANT
from femiec.forms.conduction import conduction_residual
from femiec.forms.heat import convective_heat_term, heat_residual, joule_heating
from femiec.materials.temperature_dependence import arrhenius
from femiec.meshing.box import box_mesh
from femiec.problems.conduction import ConductionProblem
from femiec.problems.electrothermal import solve_joule_staggered
from femiec.problems.thermal import HeatProblem

SIZE, CELLS = [2e-3, 1e-3, 1e-3], [6, 3, 3]
K = [[3.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 2.0]]  # W/(m K)
EA, VOLTAGE, H = 30e3, 0.05, 1000.0  # J/mol, V, W/(m^2 K)


def sigma_of(T):
    """Electronic conductivity [S/m], Arrhenius with sigma(300 K) = 1e4 S/m."""
    return arrhenius(1e4 * np.exp(EA / (GAS_CONSTANT * 300.0)), EA, T)


def monolithic(meshdata):
    """(phi, T) in one mixed P1 space, one Newton solve of both residuals (forms only)."""
    from dolfinx import fem
    import basix.ufl

    from femiec.solvers.snes import NonlinearSolver

    mesh = meshdata.mesh
    element = basix.ufl.element("Lagrange", mesh.basix_cell(), 1)
    W = fem.functionspace(mesh, basix.ufl.mixed_element([element, element]))
    u = fem.Function(W)
    u.sub(1).interpolate(lambda x: np.full(x.shape[1], 300.0))
    phi, T = ufl.split(u)
    v_phi, v_T = ufl.TestFunctions(W)
    ds = ufl.Measure("ds", domain=mesh, subdomain_data=meshdata.facet_tags)
    sigma = sigma_of(T)
    F = (1 / 1e4) * conduction_residual(sigma, phi, v_phi, ufl.dx)
    F += heat_residual(None, fem.Constant(mesh, np.array(K)), T, None, v_T, ufl.dx, source=joule_heating(sigma, phi))
    for face in ("ymin", "ymax"):
        F += convective_heat_term(H, T, 300.0, v_T, ds(meshdata.facet_tag(face)))
    fdim = mesh.topology.dim - 1
    mesh.topology.create_connectivity(fdim, mesh.topology.dim)
    bcs = []
    for face, value in (("xmin", 0.0), ("xmax", VOLTAGE)):
        dofs = fem.locate_dofs_topological(W.sub(0), fdim, meshdata.facet_tags.find(meshdata.facet_tag(face)))
        bcs.append(fem.dirichletbc(fem.Constant(mesh, value), dofs, W.sub(0)))
    solver = NonlinearSolver(F, u, bcs, petsc_options={"snes_rtol": 1e-12, "snes_atol": 1e-200,
                                                        "snes_stol": 1e-14})
    stats = solver.solve()
    solver.destroy()
    return u, stats.newton_iterations


@pytest.mark.mpi
def test_staggered_equals_monolithic(comm, numbers):
    """Oracle: both schemes solve the same discrete equations (conduction with sigma(T), Arrhenius
    Ea = 30 kJ/mol; heat with the Joule source and two convective faces), so their converged P1 fields
    agree to the tolerance of the iterations: asserted max |T_s - T_m| / max(T_m - 300 K) < 1e-6 and
    max |phi_s - phi_m| / V < 1e-8; the heating (> 1 K) makes sigma(T) matter (> 5 % above sigma(300 K))."""
    from mpi4py import MPI

    meshdata = box_mesh(SIZE, CELLS, comm=comm)
    heat = HeatProblem(meshdata, K, initial=300.0)
    conduction = ConductionProblem(meshdata, sigma_of(heat.T))
    conduction.set_value("xmin", 0.0)
    conduction.set_value("xmax", VOLTAGE)
    for face in ("ymin", "ymax"):
        heat.set_convection(face, H, 300.0)
    staggered = solve_joule_staggered(conduction, heat, tolerance=1e-12)
    u, newton = monolithic(meshdata)
    phi_m = u.sub(0).collapse()
    T_m = u.sub(1).collapse()

    def owned_max(values, f):
        n = f.function_space.dofmap.index_map.size_local
        return comm.allreduce(float(np.max(values[:n], initial=-np.inf)), op=MPI.MAX)

    # the collapsed sub-spaces and the staggered spaces are built alike from the same mesh: compare by
    # interpolation to stay independent of dof numbering
    from dolfinx import fem

    T_s = fem.Function(T_m.function_space)
    T_s.interpolate(heat.T)
    phi_s = fem.Function(phi_m.function_space)
    phi_s.interpolate(conduction.u)
    rise = owned_max(T_m.x.array - 300.0, T_m)
    dT = owned_max(np.abs(T_s.x.array - T_m.x.array), T_m) / rise
    dphi = owned_max(np.abs(phi_s.x.array - phi_m.x.array), phi_m) / VOLTAGE
    numbers.record("staggered_iterations", staggered["iterations"])
    numbers.record("monolithic_newton_iterations", newton)
    numbers.record("temperature_rise_K", rise)
    assert rise > 1.0
    assert float(sigma_of(300.0 + rise)) > 1.05e4
    assert dT < 1e-6
    assert dphi < 1e-8
