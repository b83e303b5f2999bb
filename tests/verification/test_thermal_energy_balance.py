"""Heat balance of Joule-heated bodies: generated heat = stored heat + heat leaving through the boundary."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.thermal import joule_slab_face_outflows, joule_slab_temperature
from femiec.forms.heat import joule_heating
from femiec.materials.temperature_dependence import arrhenius
from femiec.meshing.box import box_mesh
from femiec.problems.conduction import ConductionProblem
from femiec.problems.electrothermal import solve_joule_staggered
from femiec.problems.thermal import HeatProblem

SIZE = [2e-3, 1e-3, 1e-3]  # m
SIGMA = {"symmetry": "orthorhombic", "values": [1e4, 4e3, 2e3], "orientation": {"euler": [30.0, 40.0, 10.0]}}
K = {"symmetry": "tetragonal", "values": [3.0, 1.0]}  # W/(m K)
VOLTAGE = 0.05  # V


def joule_source(comm, degree=1):
    meshdata = box_mesh(SIZE, [6, 3, 3], comm=comm)
    conduction = ConductionProblem(meshdata, SIGMA, degree=degree)
    conduction.set_value("xmin", 0.0)
    conduction.set_value("xmax", VOLTAGE)
    conduction.solve()
    return meshdata, conduction


@pytest.mark.mpi
def test_joule_heat_leaves_through_convective_faces(comm, numbers):
    """Oracle: steady energy conservation int q dx = sum over faces of int h (T - T_inf) ds, with
    q = grad(phi) . sigma grad(phi) from an anisotropic conduction solve (rotated orthotropic sigma) and a
    tetragonal k; all six faces convective (two different h). Galerkin with test function 1 makes the
    discrete balance exact up to solver round-off: asserted to 1e-6 relative (measured ~1e-13)."""
    meshdata, conduction = joule_source(comm)
    heat = HeatProblem(meshdata, K, initial=300.0)
    heat.add_source(joule_heating(conduction.K, conduction.u))
    for face in ("xmin", "xmax", "ymin", "ymax"):
        heat.set_convection(face, 50.0, 300.0)
    for face in ("zmin", "zmax"):
        heat.set_convection(face, 500.0, 290.0)
    heat.solve()
    balance = heat.heat_balance()
    imbalance = abs(balance["imbalance"]) / balance["generated"]
    numbers.record("joule_W", balance["generated"])
    numbers.record("outflow_W", balance["total_outflow"])
    assert balance["generated"] > 0
    assert imbalance < 1e-6


@pytest.mark.mpi
def test_balance_with_fixed_temperature_and_flux_faces(comm, numbers):
    """Oracle: int q dx + heat entering through a flux face = outflow through the fixed-T face (discrete
    residual flux, variationally consistent) + convective outflow; asserted to 1e-6 relative (P2)."""
    meshdata, conduction = joule_source(comm, degree=2)
    heat = HeatProblem(meshdata, K, degree=2, initial=300.0)
    heat.add_source(joule_heating(conduction.K, conduction.u))
    heat.set_temperature("xmin", 300.0)
    heat.set_convection("xmax", 100.0, 280.0)
    heat.set_heat_flux("ymin", -2e3)  # 2 kW/m^2 entering
    heat.solve()
    b = heat.heat_balance()
    entering = 2e3 * SIZE[0] * SIZE[2]
    assert b["outflow"]["ymin"] == pytest.approx(-entering, rel=1e-12)
    relative = abs(b["imbalance"]) / (b["generated"] + entering)
    numbers.record("fixed_temperature_outflow_W", b["outflow"]["fixed_temperature"])
    assert relative < 1e-6


@pytest.mark.mpi
def test_joule_slab_closed_form(comm, numbers):
    """Oracle: femiec.analytic.thermal.joule_slab_temperature, T = T_l + (T_r - T_l) x/L + q x (L-x)/(2k),
    q = sigma (V/L)^2 (isotropic sigma, k): quadratic, so P2 reproduces it to round-off (asserted 1e-10
    relative at the nodes), and the fixed-T faces carry the Joule power q L A (asserted 1e-9)."""
    from mpi4py import MPI

    sigma, k, L = 1e4, 2.0, SIZE[0]
    meshdata = box_mesh(SIZE, [4, 2, 2], comm=comm)
    conduction = ConductionProblem(meshdata, sigma, degree=2)
    conduction.set_value("xmin", 0.0)
    conduction.set_value("xmax", VOLTAGE)
    conduction.solve()
    heat = HeatProblem(meshdata, k, degree=2, initial=300.0)
    heat.add_source(joule_heating(conduction.K, conduction.u))
    heat.set_temperature("xmin", 300.0)
    heat.set_temperature("xmax", 310.0)
    heat.solve()
    n = heat.V.dofmap.index_map.size_local
    x = heat.V.tabulate_dof_coordinates()[:n, 0]
    exact = joule_slab_temperature(x, L, sigma, VOLTAGE, k, 300.0, 310.0)
    error = comm.allreduce(float(np.max(np.abs(heat.T.x.array[:n] / exact - 1), initial=0.0)), op=MPI.MAX)
    area = SIZE[1] * SIZE[2]
    expected = sum(joule_slab_face_outflows(L, sigma, VOLTAGE, k, 300.0, 310.0)) * area
    outflow = heat.heat_balance()["outflow"]["fixed_temperature"]
    numbers.record("outflow_W", outflow)
    assert error < 1e-10
    assert outflow == pytest.approx(expected, rel=1e-9)


@pytest.mark.mpi
def test_transient_balance_each_step(comm, numbers):
    """Oracle: with BDF2 (backward Euler first) the discrete balance generated = stored + outflow holds at
    every step (stored = int rho c_p dT/dt dx with the scheme's dT/dt); asserted to 1e-6 relative over five
    growing steps; the body heats up (stored > 0) while convection removes part of the heat."""
    meshdata, conduction = joule_source(comm)
    heat = HeatProblem(meshdata, K, heat_capacity=3e6, initial=300.0)
    heat.add_source(joule_heating(conduction.K, conduction.u))
    heat.set_convection("zmax", 200.0, 300.0)
    worst = 0.0
    for dt in (0.01, 0.01, 0.02, 0.05, 0.1):
        heat.advance(dt)
        b = heat.heat_balance()
        assert b["stored"] > 0 and b["total_outflow"] > 0
        worst = max(worst, abs(b["imbalance"]) / b["generated"])
    numbers.record("stored_W", b["stored"])
    assert worst < 1e-6


@pytest.mark.mpi
def test_staggered_temperature_dependent_conductivity(comm, numbers):
    """Oracle: steady energy conservation with sigma(T) Arrhenius (Ea = 20 kJ/mol): the staggered
    conduction/heat iteration converges (relative T change < 1e-10) and the converged state balances to
    1e-6; hotter means more conductive, so the Joule power exceeds the one at sigma(300 K)."""
    meshdata = box_mesh(SIZE, [6, 3, 3], comm=comm)
    heat = HeatProblem(meshdata, K, initial=300.0)
    sigma = arrhenius(1e4 * np.exp(20e3 / (8.314462618153241 * 300.0)), 20e3, heat.T)
    conduction = ConductionProblem(meshdata, sigma)
    conduction.set_value("xmin", 0.0)
    conduction.set_value("xmax", VOLTAGE)
    for face in ("ymin", "ymax"):
        heat.set_convection(face, 2000.0, 300.0)
    result = solve_joule_staggered(conduction, heat)
    b = heat.heat_balance()
    numbers.record("iterations", result["iterations"])
    numbers.record("joule_W", b["generated"])
    assert abs(b["imbalance"]) / b["generated"] < 1e-6
    assert b["generated"] > 1e4 * (VOLTAGE / SIZE[0]) ** 2 * np.prod(SIZE)
