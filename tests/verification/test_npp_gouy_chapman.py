"""Gouy–Chapman double layer of a 1:1 electrolyte at a charged wall, thin layers, log-concentrations."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.electrochemistry import debye_length, gouy_chapman, gouy_chapman_charge
from femiec.constants import VACUUM_PERMITTIVITY, thermal_voltage
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import Electrode, FixedConcentration, FixedPotential
from femiec.problems.species import Species

from npp_support import global_max, graded_interval

C0, EPS_R, T, D = 10.0, 78.5, 298.15, 1e-9


def solve_double_layer(comm, ratio, wall_potential, cells=100, first=0.05, steps=4, degree=2):
    """Steady PNP on [0, L], L = lambda_D / ratio: phi = wall_potential at x = 0 (blocking wall),
    c = c0 and phi = 0 at x = L. Returns (problem, lambda_D)."""
    lam = debye_length(EPS_R * VACUUM_PERMITTIVITY, T, [C0, C0], [1, -1])
    meshdata = graded_interval(comm, cells, lam / ratio, first * lam)
    species = [Species("cation", 1, D, C0), Species("anion", -1, D, C0)]
    conditions = [FixedConcentration("cation", "xmax", C0), FixedConcentration("anion", "xmax", C0),
                  FixedPotential("xmax", 0.0), FixedPotential("xmin", wall_potential)]
    problem = NernstPlanckPoisson(meshdata, species, conditions=conditions, temperature=T,
                                  relative_permittivity=EPS_R, degree=degree, variables="log")
    problem.solve_steady(continuation_steps=steps)
    return problem, lam


def relative_errors(comm, problem, lam, wall_potential):
    c_plus, c_minus, phi = problem.nodal_values()
    x = problem.subspaces[0][0].tabulate_dof_coordinates()[:, 0]
    phi_ref, cp_ref, cm_ref = gouy_chapman(x, wall_potential, C0, lam, T)
    return (global_max(comm, np.abs(phi - phi_ref)) / abs(wall_potential),
            global_max(comm, np.abs(c_plus / cp_ref - 1)), global_max(comm, np.abs(c_minus / cm_ref - 1)))


@pytest.mark.mpi
@pytest.mark.parametrize("ratio", [1e-2, 1e-3])
def test_npp_gouy_chapman_thin_layer(comm, numbers, ratio):
    """Oracle (Gouy 1910, Chapman 1913; BTA04 eq. 10): for a 1:1 electrolyte at a wall at phi0,
    phi(x) = 4 V_T artanh(tanh(phi0 / (4 V_T)) exp(-x / lambda_D)), c+- = c0 exp(-+ phi / V_T). With
    phi0 = 4 V_T, lambda_D / L = 1e-2 and 1e-3, P2 log-concentrations on a mesh graded geometrically from
    0.05 lambda_D at the wall (100 cells), the max relative errors of phi, c+ and c- at the nodes must be
    below 1e-3.
    """
    phi0 = 4 * thermal_voltage(T)
    problem, lam = solve_double_layer(comm, ratio, phi0)
    errors = relative_errors(comm, problem, lam, phi0)
    numbers.record("relative_errors", errors)
    numbers.record("debye_length", problem.debye_length())
    assert problem.debye_length() == pytest.approx(lam, rel=1e-12)
    assert max(errors) < 1e-3, errors


@pytest.mark.mpi
def test_npp_log_concentrations_stay_positive_at_large_potential(comm, numbers):
    """Oracle: Gouy–Chapman as above at phi0 = 10 V_T (0.26 V), where the co-ion concentration at the
    wall is c0 exp(-10) = 4.5e-5 c0 and the layer has an inner scale 2 lambda_D exp(-phi0 / (2 V_T)).
    Log-concentration unknowns keep every nodal concentration positive and reproduce the profile on a
    mesh graded from 1e-3 lambda_D (150 cells): min c / c0 = exp(-10) to 1e-6 and max relative errors of
    phi, c+, c- < 1e-3 (lambda_D / L = 1e-2).
    """
    phi0 = 10 * thermal_voltage(T)
    problem, lam = solve_double_layer(comm, 1e-2, phi0, cells=150, first=1e-3, steps=5)
    c_plus, c_minus, _ = problem.nodal_values()
    minimum = -global_max(comm, -np.concatenate([c_plus, c_minus]))
    errors = relative_errors(comm, problem, lam, phi0)
    numbers.record("min_concentration_over_c0", minimum / C0)
    numbers.record("relative_errors", errors)
    assert minimum / C0 == pytest.approx(np.exp(-10), rel=1e-6)
    assert max(errors) < 1e-3, errors


@pytest.mark.mpi
def test_npp_stern_layer(comm, numbers):
    """Oracle (Gouy–Chapman–Stern; Stern 1924, BTA04 eq. 13): a blocking electrode at V behind a Stern
    layer of capacitance C_S carries sigma = C_S (V - zeta) = 2 eps V_T / lambda_D sinh(zeta / (2 V_T)),
    zeta the potential at the outer Helmholtz plane (bulk at phi = 0). For V = 4 V_T and C_S equal to
    the diffuse-layer capacitance eps / lambda_D (delta = 1), the computed zeta satisfies the balance
    to 1e-4 relative, with 0 < zeta < V (lambda_D / L = 1e-2, P2, log-concentrations).
    """
    lam = debye_length(EPS_R * VACUUM_PERMITTIVITY, T, [C0, C0], [1, -1])
    eps = EPS_R * VACUUM_PERMITTIVITY
    capacitance = eps / lam
    V = 4 * thermal_voltage(T)
    meshdata = graded_interval(comm, 100, 100 * lam, 0.05 * lam)
    species = [Species("cation", 1, D, C0), Species("anion", -1, D, C0)]
    conditions = [FixedConcentration("cation", "xmax", C0), FixedConcentration("anion", "xmax", C0),
                  FixedPotential("xmax", 0.0)]
    problem = NernstPlanckPoisson(meshdata, species, conditions=conditions, temperature=T,
                                  relative_permittivity=EPS_R, degree=2, variables="log",
                                  electrodes=[Electrode("wall", "xmin", voltage=V, stern_capacitance=capacitance)])
    problem.solve_steady(continuation_steps=4)
    phi = problem.nodal_values()[2]
    x = problem.subspaces[2][0].tabulate_dof_coordinates()[:, 0]
    at_wall = x < 1e-3 * lam
    zeta = comm.allreduce(float(phi[at_wall].sum())) / comm.allreduce(int(at_wall.sum()))
    stern = capacitance * (V - zeta)
    diffuse = gouy_chapman_charge(zeta, eps, lam, T)
    numbers.record("zeta_over_V", zeta / V)
    assert 0 < zeta < V
    assert abs(stern / diffuse - 1) < 1e-4, (stern, diffuse)
