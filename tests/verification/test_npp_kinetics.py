"""Electrode kinetics in the coupled problem: Butler–Volmer, Marcus–Hush–Chidsey, galvanostatic control,
limiting current of a binary electrolyte."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.electrochemistry import (binary_cell_concentration, binary_cell_current,
                                              butler_volmer_overpotential, debye_length, limiting_current)
from femiec.constants import FARADAY, VACUUM_PERMITTIVITY, thermal_voltage
from femiec.forms.kinetics import marcus_hush_chidsey_current
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import Electrode, FixedConcentration, FixedPotential, Reaction
from femiec.problems.species import Species

from npp_support import box_mesh, global_max, graded_interval

T, D = 298.15, 1e-9
VT = thermal_voltage(T)
ETAS = np.array([-8.0, -4.0, -1.0, 0.5, 2.0, 6.0, 10.0]) * VT


def thin_cell(comm, reaction, **electrode):
    """1D electroneutral cell of 100 nm (ohmic and concentration losses < 1e-4 of eta): reacting
    electrode at x = 0, reservoir (c = c0, phi = 0) at x = L."""
    c0 = 100.0
    meshdata = box_mesh(comm, [20], [1e-7])
    species = [Species("cation", 1, D, c0), Species("anion", -1, D, c0)]
    return NernstPlanckPoisson(meshdata, species, closure="electroneutrality", temperature=T,
                               electrodes=[Electrode("anode", "xmin", reactions=[reaction], **electrode)],
                               conditions=[FixedConcentration("cation", "xmax", c0), FixedPotential("xmax", 0.0)])


@pytest.mark.mpi
def test_npp_butler_volmer_overpotential(comm, numbers):
    """Oracle (Bard & Faulkner 2001, eq. 3.4.11): Butler–Volmer with alpha_a = alpha_c = 1/2 and
    a_O = a_R = 1 gives i = 2 i0 sinh(eta / (2 V_T)), i.e. eta = 2 V_T asinh(i / (2 i0)). Potentiostatic
    electrode at eta in [-8, 10] V_T in a cell with negligible transport loss: the overpotential recovered
    from the measured current agrees with the applied one to 1e-3 (relative).
    """
    i0 = 1.0
    problem = thin_cell(comm, Reaction(i0, oxidized={"cation": 1}, reference_concentration=100.0), voltage=0.0)
    currents = []
    for eta in ETAS:
        problem.set_voltage("anode", eta)
        problem.solve_steady()
        currents.append(problem.electrode_current("anode"))
    recovered = butler_volmer_overpotential(np.array(currents), i0, T)
    error = np.max(np.abs(recovered / ETAS - 1))
    numbers.record("currents", currents)
    numbers.record("max_relative_error", error)
    assert error < 1e-3


@pytest.mark.mpi
def test_npp_galvanostatic_butler_volmer(comm, numbers):
    """Oracle: as above, with the total current imposed (galvanostatic control: the electrode potential
    is the unknown fixed by int i ds = I): the solved electrode potential equals
    2 V_T asinh(I / (2 i0)) to 1e-3 and the electrode current equals I to 1e-9 (relative).
    """
    i0 = 1.0
    problem = thin_cell(comm, Reaction(i0, oxidized={"cation": 1}, reference_concentration=100.0), current=0.0)
    applied = np.array([-8.0, -1.0, 0.5, 6.0]) * i0
    potentials, currents = [], []
    for current in applied:
        problem.set_current("anode", current)
        problem.solve_steady()
        potentials.append(problem.electrode_potential("anode"))
        currents.append(problem.electrode_current("anode"))
    expected = butler_volmer_overpotential(applied, i0, T)
    numbers.record("electrode_potentials", potentials)
    assert np.max(np.abs(np.array(potentials) / expected - 1)) < 1e-3
    assert np.max(np.abs(np.array(currents) / applied - 1)) < 1e-9


@pytest.mark.mpi
def test_npp_marcus_hush_chidsey_electrode(comm, numbers):
    """Oracle (Zeng, Smith, Bai & Bazant 2014, closed form of MHC kinetics): the current of an MHC
    electrode with reorganization energy lambda = 10 R T and negligible transport loss equals
    marcus_hush_chidsey_current(i0, eta) to 1e-3, and, unlike Butler–Volmer, saturates: at eta = 10 V_T it
    is below 1/5 of the Butler–Volmer current with the same i0.
    """
    i0, lam = 1.0, 10 * 8.314462618153241 * T
    reaction = Reaction(i0, oxidized={"cation": 1}, reference_concentration=100.0,
                        kinetics="marcus_hush_chidsey", reorganization_energy=lam)
    problem = thin_cell(comm, reaction, voltage=0.0)
    currents = []
    for eta in ETAS:
        problem.set_voltage("anode", eta)
        problem.solve_steady()
        currents.append(problem.electrode_current("anode"))
    expected = marcus_hush_chidsey_current(i0, ETAS, T, lam)
    numbers.record("currents", currents)
    assert np.max(np.abs(np.array(currents) / expected - 1)) < 1e-3
    assert currents[-1] < 0.2 * 2 * i0 * np.sinh(ETAS[-1] / (2 * VT))


@pytest.mark.mpi
def test_npp_binary_cell_limiting_current(comm, numbers):
    """Oracle (Bazant, Chu & Bayly 2005, eqs. 3.8-3.10; thin double layers, fast kinetics): a closed
    cell of length L with a 1:1 electrolyte (equal D), the cation reacting at both electrodes, the anion
    blocked, carries j = i / i_lim = tanh(V / (4 V_T)) with i_lim = 4 F D c0 / L, i.e.
    V = 2 V_T ln((1 + j) / (1 - j)), and the bulk profile is linear, c = c0 (1 + j (1 - 2 x / L)).
    Full PNP (Poisson, log-concentrations), lambda_D / L = 1e-4, Butler–Volmer with i0 = 1000 i_lim,
    steady states (amount of anions kept) at V = 2, 4, 8, 12 V_T: j within 1% of tanh(V / 4 V_T), the
    current approaches i_lim (j > 0.99 at 12 V_T), equal currents at both electrodes, and the bulk profile
    within 1e-3 c0 of the line.
    """
    c0, eps_r = 1.0, 78.5
    lam = debye_length(eps_r * VACUUM_PERMITTIVITY, T, [c0, c0], [1, -1])
    length = 1e4 * lam
    meshdata = graded_interval(comm, 150, length / 2, 0.1 * lam, both=True)
    i_lim = limiting_current(D, c0, length)
    reaction = Reaction(1000 * i_lim, oxidized={"cation": 1}, reference_concentration=c0)
    electrodes = [Electrode("left", "xmin", voltage=0.0, reactions=[reaction]),
                  Electrode("right", "xmax", voltage=0.0, reactions=[reaction])]
    species = [Species("cation", 1, D, c0), Species("anion", -1, D, c0)]
    # Newton to 1e-12 (not the default 1e-10): the recorded profile deviations are differences of ~1e-5
    # between the solution and a line, which 1 and 2 ranks must reproduce to 1e-8
    problem = NernstPlanckPoisson(meshdata, species, electrodes=electrodes, temperature=T,
                                  relative_permittivity=eps_r, variables="log", step_tolerance=1e-12)
    anions = problem.amount("anion")
    x = problem.subspaces[0][0].tabulate_dof_coordinates()[:, 0]
    bulk = np.abs(x) < 0.4 * length
    voltages = np.array([2.0, 4.0, 8.0, 12.0]) * VT
    j, j_right, profile = [], [], []
    for V in voltages:
        problem.set_voltage("left", V)
        problem.solve_steady(continuation_steps=2)
        j.append(problem.electrode_current("left") / i_lim)
        j_right.append(-problem.electrode_current("right") / i_lim)
        c = problem.nodal_values()[0]
        line = binary_cell_concentration(x + length / 2, j[-1], c0, length)
        profile.append(global_max(comm, np.abs(c[bulk] - line[bulk])) / c0)
    j = np.array(j)
    numbers.record("relative_currents", j)
    numbers.record("profile_deviation", profile)
    numbers.record("limiting_current", i_lim)
    assert i_lim == pytest.approx(4 * FARADAY * D * c0 / length)
    assert np.max(np.abs(j / binary_cell_current(voltages, T) - 1)) < 1e-2, j
    assert j[-1] > 0.99
    assert np.allclose(j_right, j, rtol=1e-8)
    assert max(profile) < 1e-3
    assert problem.amount("anion") == pytest.approx(anions, rel=1e-10)
