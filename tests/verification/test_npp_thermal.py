"""Non-isothermal Nernst–Planck–Poisson problem object: Soret closed cell, a charged manufactured solution
with Soret + Poisson at a non-uniform T, heat balance of the monolithic coupling, monolithic = staggered."""
from __future__ import annotations

import numpy as np
import pytest
import ufl

from femiec.constants import BOLTZMANN, FARADAY, VACUUM_PERMITTIVITY, thermal_voltage
from femiec.forms.nernst_planck import nernst_planck_flux
from femiec.forms.soret import alpha_from_heat_of_transport, soret_driving_force
from femiec.materials.temperature_dependence import arrhenius
from femiec.meshing.box import box_mesh
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import (Electrode, FixedConcentration, FixedPotential, HeatSources,
                                            Reaction)
from femiec.problems.species import Species
from femiec.problems.prescribed_temperature import PrescribedTemperature
from femiec.problems.thermal import HeatProblem

from npp_support import assert_l2_h1_orders, global_max


# ---------------------------------------------------------------------------------- Soret closed cell
def _end_ratios(problem, length, c_mean):
    comm = problem.mesh.comm
    space = problem.subspaces[0][0]
    n = space.dofmap.index_map.size_local
    x = space.tabulate_dof_coordinates()[:n, 0]
    c = problem.nodal_values()[0][:n]
    ends = [global_max(comm, c[np.isclose(x, p, atol=1e-9 * length)] if np.any(np.isclose(x, p, atol=1e-9 * length))
                       else [-np.inf]) for p in (0.0, length)]
    return ends[0] / c_mean, ends[1] / c_mean


@pytest.mark.mpi
@pytest.mark.parametrize("cells", [(24, 2), (24, 1, 1)], ids=["2d", "3d"])
def test_npp_soret_closed_cell(comm, numbers, cells):
    """Oracle: closed cell with blocking walls and a fixed linear T from 300 to 400 K, a neutral species
    with alpha_T = 2: the steady J = 0 gives c T^alpha = const and, with the amount fixed,
    c(x) = c_mean L T^-alpha / int T^-alpha dx, so c(0)/c_mean = 4/3 and c(L)/c_mean = 3/4 exactly
    (femiec.analytic.thermal; de Groot & Mazur ch. XI). Solved through the problem object
    (Species(alpha_T=2), temperature = PrescribedTemperature(f(x, t)), P2, 24 cells, Poisson closure with
    one grounded face): both end ratios within 1e-4 relative, amount conserved to 1e-8 (round-off of the
    pseudo-time steps of 1e4 diffusion times, measured 1.5e-10)."""
    length, c_mean = 1e-3, 100.0
    lengths = [length] + [length / 10] * (len(cells) - 1)
    meshdata = box_mesh(lengths, cells, "triangle" if len(cells) == 2 else "tetrahedron", comm=comm)
    T = PrescribedTemperature(meshdata, lambda x, t: 300.0 + 100.0 * x[0] / length, degree=2)
    problem = NernstPlanckPoisson(meshdata, [Species("n", 0, 1e-9, c_mean, alpha_T=2.0)], temperature=T,
                                  conditions=[FixedPotential("xmin", 0.0)], relative_permittivity=10.0, degree=2)
    problem.solve_steady()
    cold, hot = _end_ratios(problem, length, c_mean)
    mean = problem.amount("n") / np.prod(lengths)
    numbers.record("ratio_cold", cold)
    numbers.record("ratio_hot", hot)
    assert abs(cold / (4 / 3) - 1) < 1e-4
    assert abs(hot / (3 / 4) - 1) < 1e-4
    assert abs(mean / c_mean - 1) < 1e-8


# ----------------------------------------------------------------- charged manufactured solution
LENGTH = 1e-8  # m; c0 = 1 mol/m^3, eps_r = 10: Debye length 3.4 nm, strong Poisson coupling
C0, EPS_R, CHARGES = 1.0, 10.0, (1, -2)
D0, EA = 1e-7, 10e3  # Arrhenius diffusivity of species a, D(300 K) ~ 1.8e-9 m^2/s
ALPHA_B = 1.5  # alpha_T of species b; species a has Q* with alpha_T(300 K) = 0.8
Q_STAR = 0.8 * BOLTZMANN * 300.0


def exact(x, m):
    """(T, c_a, c_b, phi) with T = 300 + 30 X + 40 Y K (X = x/L, Y = y/L), smooth c and phi."""
    X, Y = x[0] / LENGTH, x[1] / LENGTH
    Z = x[2] / LENGTH if len(x) > 2 else 0.0
    vt = thermal_voltage(300.0)
    return (300.0 + 30.0 * X + 40.0 * Y, C0 * (1.5 + 0.5 * m.sin(2 * X + Y + Z)),
            C0 * (1.5 + 0.5 * m.cos(X - 2 * Y + Z)), vt * m.sin(1.5 * X) * m.cos(Y + Z))


def diffusivity_a(T):
    return arrhenius(D0, EA, T)


def solve_charged_soret(comm, dim, degree, n):
    meshdata = box_mesh([LENGTH] * dim, [n] * dim, "triangle" if dim == 2 else "tetrahedron", comm=comm)
    mesh = meshdata.mesh
    x = ufl.SpatialCoordinate(mesh)
    T, ca, cb, phi = exact([x[i] for i in range(dim)], ufl)
    Ja = nernst_planck_flux(ca, diffusivity_a(T), CHARGES[0], phi, T, extra_driving_forces=[
        soret_driving_force(alpha_from_heat_of_transport(Q_STAR, T), ca, T)])
    Jb = nernst_planck_flux(cb, 1e-9, CHARGES[1], phi, T,
                            extra_driving_forces=[soret_driving_force(ALPHA_B, cb, T)])
    eps = EPS_R * VACUUM_PERMITTIVITY
    rho_fixed = -eps * ufl.div(ufl.grad(phi)) - FARADAY * (CHARGES[0] * ca + CHARGES[1] * cb)
    species = [Species("a", CHARGES[0], diffusivity_a, C0, heat_of_transport=Q_STAR),
               Species("b", CHARGES[1], 1e-9, C0, alpha_T=ALPHA_B)]
    faces = list(meshdata.facet_names)
    conditions = [FixedConcentration("a", faces, lambda p: exact(p, np)[1]),
                  FixedConcentration("b", faces, lambda p: exact(p, np)[2]),
                  FixedPotential(faces, lambda p: exact(p, np)[3])]
    temperature = PrescribedTemperature(meshdata, lambda p, t: exact(p, np)[0], degree=1)
    problem = NernstPlanckPoisson(meshdata, species, conditions=conditions, temperature=temperature,
                                  relative_permittivity=EPS_R, fixed_charge=rho_fixed, degree=degree,
                                  sources={"a": ufl.div(Ja), "b": ufl.div(Jb)})
    problem.solve_steady()
    state = problem.state(problem.u)
    dx = ufl.dx(domain=mesh, metadata={"quadrature_degree": 2 * degree + 4})
    errors = []
    for numeric, ref in zip(state.concentrations + [state.potential], (ca, cb, phi)):
        errors.append(np.sqrt(problem._assemble((numeric - ref) ** 2, dx) / problem._assemble(ref ** 2, dx)))
    return np.array(errors)


CASES = [(2, 1, (8, 16, 32), 1.9), (2, 2, (4, 8, 16), 2.9), (3, 1, (6, 12), 1.9)]


@pytest.mark.mpi
@pytest.mark.parametrize("dim, degree, sizes, expected", CASES, ids=[f"{d}d-P{k}" for d, k, *_ in CASES])
def test_npp_charged_soret_manufactured(comm, numbers, dim, degree, sizes, expected):
    """Oracle: manufactured solution (Roache 2002) of the steady system with two charged species
    (z = +1 with Arrhenius D(T) and a heat of transport Q*, alpha_T = Q*/(k_B T); z = -2 with
    alpha_T = 1.5), Poisson with lambda_D/L = 0.34, and the prescribed non-uniform
    T = 300 + 30 x/L + 40 y/L K (PrescribedTemperature, so RT/F, D(T) and alpha_T(T) vary in space):
    sources s_i = div J_i(exact), rho_fixed = -div(eps grad phi) - F sum z c. Lagrange P_k converges as
    h^(k+1) in L2: measured order of c_a, c_b, phi on the two finest meshes >= 1.9 (P1) / 2.9 (P2)."""
    errors = [solve_charged_soret(comm, dim, degree, n) for n in sizes]
    orders = np.log(errors[-2] / errors[-1]) / np.log(sizes[-1] / sizes[-2])
    numbers.record("errors_finest", errors[-1])
    numbers.record("orders", orders)
    assert np.all(orders >= expected), (errors, orders)


K0 = 0.05  # W/(m K) at 300 K, k(T) = K0 300/T: conduction and the i.E heat of the manufactured fields balance


def solve_solved_T(comm, dim, degree, n, coupling):
    """The manufactured problem above with T solved (monolithic or staggered): heat equation
    -div(k(T) grad T) = i . E + f_T, Dirichlet T on the boundary, f_T = -div(k grad T_ex) - i_ex . E_ex."""
    from femiec.forms.heat import heat_flux, ionic_current_density, ionic_heating

    meshdata = box_mesh([LENGTH] * dim, [n] * dim, "triangle" if dim == 2 else "tetrahedron", comm=comm)
    mesh = meshdata.mesh
    x = ufl.SpatialCoordinate(mesh)
    T, ca, cb, phi = exact([x[i] for i in range(dim)], ufl)
    T = T + 5.0 * ufl.sin(2 * x[0] / LENGTH + x[1] / LENGTH)  # not in the P1/P2 space
    Ja = nernst_planck_flux(ca, diffusivity_a(T), CHARGES[0], phi, T, extra_driving_forces=[
        soret_driving_force(alpha_from_heat_of_transport(Q_STAR, T), ca, T)])
    Jb = nernst_planck_flux(cb, 1e-9, CHARGES[1], phi, T,
                            extra_driving_forces=[soret_driving_force(ALPHA_B, cb, T)])
    eps = EPS_R * VACUUM_PERMITTIVITY
    rho_fixed = -eps * ufl.div(ufl.grad(phi)) - FARADAY * (CHARGES[0] * ca + CHARGES[1] * cb)
    f_T = ufl.div(heat_flux(K0 * 300.0 / T, T)) - ionic_heating(ionic_current_density([Ja, Jb], CHARGES), phi)
    heat = HeatProblem(meshdata, lambda temperature: K0 * 300.0 / temperature, degree=degree, initial=330.0)
    for face in meshdata.facet_names:
        heat.set_temperature(face, lambda p: 300.0 + 30.0 * p[0] / LENGTH + 40.0 * p[1] / LENGTH
                             + 5.0 * np.sin(2 * p[0] / LENGTH + p[1] / LENGTH))
    heat.add_source(f_T)
    species = [Species("a", CHARGES[0], diffusivity_a, C0, heat_of_transport=Q_STAR),
               Species("b", CHARGES[1], 1e-9, C0, alpha_T=ALPHA_B)]
    faces = list(meshdata.facet_names)
    conditions = [FixedConcentration("a", faces, lambda p: exact(p, np)[1]),
                  FixedConcentration("b", faces, lambda p: exact(p, np)[2]),
                  FixedPotential(faces, lambda p: exact(p, np)[3])]
    problem = NernstPlanckPoisson(meshdata, species, conditions=conditions, temperature=heat, coupling=coupling,
                                  relative_permittivity=EPS_R, fixed_charge=rho_fixed, degree=degree,
                                  sources={"a": ufl.div(Ja), "b": ufl.div(Jb)},
                                  heat_sources=HeatSources(reaction_irreversible=False, reaction_reversible=False))
    problem.solve_steady()
    state = problem.state(problem.u)
    dx = ufl.dx(domain=mesh, metadata={"quadrature_degree": 2 * degree + 4})
    l2, h1 = [], []  # relative L2 norm and H1 seminorm errors
    for numeric, ref, scale in zip([heat.T] + state.concentrations + [state.potential], (T, ca, cb, phi),
                                   (T - 300.0, ca, cb, phi)):
        g, g_ref = ufl.grad(numeric - ref), ufl.grad(scale)
        l2.append(np.sqrt(problem._assemble((numeric - ref) ** 2, dx) / problem._assemble(scale ** 2, dx)))
        h1.append(np.sqrt(problem._assemble(ufl.inner(g, g), dx) / problem._assemble(ufl.inner(g_ref, g_ref), dx)))
    return np.array(l2), np.array(h1)


SOLVED_CASES = [(2, 1, (8, 16, 32), 1.9, 0.9), (2, 2, (4, 8, 16), 2.9, 1.9), (3, 1, (6, 12), 1.9, 0.9)]


@pytest.mark.mpi
@pytest.mark.parametrize("dim, degree, sizes, l2_order, h1_order", SOLVED_CASES,
                         ids=[f"{d}d-P{k}" for d, k, *_ in SOLVED_CASES])
def test_npp_solved_temperature_manufactured(comm, numbers, dim, degree, sizes, l2_order, h1_order):
    """Oracle: manufactured T-c-phi solution through the problem object with T solved monolithically:
    the fields of test_npp_charged_soret_manufactured with T = 300 + 30 x/L + 40 y/L + 5 sin(2x/L + y/L) K,
    k(T) = 0.05 (300/T) W/(m K), the ionic heat i . E of the numerical fields as a source plus the
    manufactured f_T. Lagrange P_k converges as h^(k+1) in L2 and h^k in the H1 seminorm (Ciarlet 1978):
    the orders of T - 300 K, c_a, c_b, phi on the two finest meshes must reach 1.9 / 2.9 (L2, P1 / P2) and
    0.9 / 1.9 (H1), as for the isothermal system (figures in docs/thermal.md). In 2D the staggered
    coupling on the middle mesh gives the same errors to 1e-6 relative (measured 4e-13 P1, 1e-12 P2)."""
    results = [solve_solved_T(comm, dim, degree, n, "monolithic") for n in sizes]
    assert_l2_h1_orders(numbers, sizes, results, l2_order, h1_order)
    if dim == 2:
        staggered = solve_solved_T(comm, dim, degree, sizes[-2], "staggered")
        assert np.allclose(np.concatenate(staggered), np.concatenate(results[-2]), rtol=1e-6, atol=0), \
            (staggered, results[-2])


# ------------------------------------------------------------------- solved temperature, coupling
CELL = 1e-4  # m


def electrolysis_cell(meshdata, coupling):
    """Binary electrolyte (electroneutral) between a Butler–Volmer anode at x = 0 (V = 0.1 V, reaction
    entropy -30 J/(mol K)) and a reservoir at x = L (c0, phi = 0), with a Soret cation, an electronic
    Joule term (sigma = 0.1 S/m) and a solved T: k = 1e-3 W/(m K) (small, so that the 0.5 K heating
    feeds back on the transport), T = 300 K at the reservoir, convective anode face."""
    heat = HeatProblem(meshdata, 1e-3, initial=300.0)
    heat.set_temperature("xmax", 300.0)
    heat.set_convection("xmin", 10.0, 300.0)
    species = [Species("Li", 1, 1e-9, 100.0, alpha_T=1.0), Species("A", -1, 1.5e-9, 100.0)]
    reaction = Reaction(10.0, oxidized={"Li": 1}, reference_concentration=100.0, reaction_entropy=-30.0)
    problem = NernstPlanckPoisson(
        meshdata, species, closure="electroneutrality", temperature=heat, coupling=coupling,
        heat_sources=HeatSources(electronic_conductivity=0.1),
        electrodes=[Electrode("anode", "xmin", voltage=0.1, reactions=[reaction])],
        conditions=[FixedConcentration("Li", "xmax", 100.0), FixedPotential("xmax", 0.0)])
    problem.solve_steady(continuation_steps=2)
    return problem, heat


def _cell_mesh(comm):
    return box_mesh([CELL, CELL / 5, CELL / 5], [16, 2, 2], comm=comm)


@pytest.mark.mpi
def test_npp_monolithic_heat_balance(comm, numbers):
    """Oracle: steady energy conservation of the monolithic T-c-phi problem: electronic Joule heat
    int sigma |grad phi|^2 dx + ionic heat int i . E dx + reaction heat int (eta i - i T dS/(n F)) ds =
    convective outflow + outflow through the fixed-T face (variationally consistent residual flux).
    Galerkin with a unit test function makes this exact up to Newton round-off: asserted 1e-6 relative
    (3D, P1); each source is non-zero and the temperature rises by > 0.1 K."""
    problem, heat = electrolysis_cell(_cell_mesh(comm), "monolithic")
    balance = heat.heat_balance()
    imbalance = abs(balance["imbalance"]) / balance["generated"]
    rise = global_max(comm, heat.T.x.array) - 300.0
    numbers.record("generated_W", balance["generated"])
    numbers.record("total_outflow_W", balance["total_outflow"])
    numbers.record("temperature_rise_K", rise)
    numbers.record("anode_current_A", problem.electrode_current("anode"))
    assert rise > 0.1
    assert len(heat._sources) == 2 and len(heat._surface_sources) == 1
    assert imbalance < 1e-6


@pytest.mark.mpi
def test_npp_monolithic_equals_staggered(comm, numbers):
    """Oracle: monolithic Newton and the staggered iteration (transport Newton at fixed T, heat solve,
    until max |dT| / max T < 1e-10) solve the same discrete equations, so their converged fields agree:
    asserted max |T_m - T_s| / (T rise) < 1e-6, max |c_m - c_s| / max c and max |phi_m - phi_s| / max |phi|
    < 1e-8, anode currents to 1e-8 relative; the coupling matters (the current differs from the
    isothermal one at 300 K by > 1e-3)."""
    meshdata = _cell_mesh(comm)
    mono, heat_m = electrolysis_cell(meshdata, "monolithic")
    stag, heat_s = electrolysis_cell(meshdata, "staggered")
    rise = global_max(comm, heat_m.T.x.array) - 300.0
    n = heat_m.V.dofmap.index_map.size_local
    dT = global_max(comm, np.abs(heat_m.T.x.array[:n] - heat_s.T.x.array[:n])) / rise
    differences = []
    for a, b in zip(mono.nodal_values(), stag.nodal_values()):
        m = mono.subspaces[0][0].dofmap.index_map.size_local
        differences.append(global_max(comm, np.abs(a[:m] - b[:m])) / global_max(comm, np.abs(a[:m])))
    I_m, I_s = mono.electrode_current("anode"), stag.electrode_current("anode")
    isothermal = NernstPlanckPoisson(
        meshdata, [Species("Li", 1, 1e-9, 100.0, alpha_T=1.0), Species("A", -1, 1.5e-9, 100.0)],
        closure="electroneutrality", temperature=300.0,
        electrodes=[Electrode("anode", "xmin", voltage=0.1, reactions=[
            Reaction(10.0, oxidized={"Li": 1}, reference_concentration=100.0)])],
        conditions=[FixedConcentration("Li", "xmax", 100.0), FixedPotential("xmax", 0.0)])
    isothermal.solve_steady(continuation_steps=2)
    coupling_effect = abs(I_m / isothermal.electrode_current("anode") - 1)
    # the differences themselves are round-off (~1e-13) and not recorded (they vary with the partition)
    numbers.record("temperature_rise_K", rise)
    numbers.record("anode_current_monolithic_A", I_m)
    numbers.record("anode_current_staggered_A", I_s)
    numbers.record("coupling_effect_on_current", coupling_effect)
    assert dT < 1e-6
    assert max(differences) < 1e-8
    assert abs(I_m / I_s - 1) < 1e-8
    assert coupling_effect > 1e-3


@pytest.mark.mpi
def test_npp_monolithic_transient_heat_balance(comm, numbers):
    """Oracle: discrete energy conservation at every step of a transient monolithic run (BDF2, the heat
    equation with rho c_p = 1e6 J/(m^3 K), thermal time L^2 rho c_p / k = 10 s, run for 2 s):
    generated = stored + outflow, stored = int rho c_p dT/dt dx with the scheme's dT/dt; asserted 1e-6
    relative at four output times while the cell heats up (stored > 0)."""
    heat = HeatProblem(_cell_mesh(comm), 1e-3, heat_capacity=1e6, initial=300.0)
    heat.set_temperature("xmax", 300.0)
    heat.set_convection("xmin", 10.0, 300.0)
    species = [Species("Li", 1, 1e-9, 100.0, alpha_T=1.0), Species("A", -1, 1.5e-9, 100.0)]
    reaction = Reaction(10.0, oxidized={"Li": 1}, reference_concentration=100.0, reaction_entropy=-30.0)
    problem = NernstPlanckPoisson(
        heat.meshdata, species, closure="electroneutrality", temperature=heat,
        heat_sources=HeatSources(electronic_conductivity=0.1),
        electrodes=[Electrode("anode", "xmin", voltage=0.1, reactions=[reaction])],
        conditions=[FixedConcentration("Li", "xmax", 100.0), FixedPotential("xmax", 0.0)])
    balances = []

    def record(t):
        if t > 0:
            balances.append(heat.heat_balance())

    problem.run(t_end=2.0, dt=0.05, output_times=[0.5, 1.0, 1.5], on_output=record)
    worst = max(abs(b["imbalance"]) / b["generated"] for b in balances)
    numbers.record("stored_W", [b["stored"] for b in balances])
    numbers.record("temperature_max_K", global_max(comm, heat.T.x.array))
    assert len(balances) == 4 and all(b["stored"] > 0 for b in balances)
    assert worst < 1e-6
