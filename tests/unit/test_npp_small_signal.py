"""Unit tests of the small-signal pieces of the Nernst–Planck–Poisson problem: the time-stepping residual is
the storage form of the BDF2 rates plus the steady residual, the storage form of storage_rates(w) gives the
mass matrix, and the control input / output functional are the electrode's Constant and current form."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import ufl

from femiec.forms.time import bdf2_coefficients
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import Electrode, FixedConcentration, FixedPotential, Reaction
from femiec.problems.species import Species
from femiec.problems.thermal import HeatProblem

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "verification"))
from npp_support import box_mesh  # noqa: E402

DT, RATIO = 1e-6, 0.5


def _problem(comm, kind):
    species = [Species("cation", 1, 1e-9, 1.0), Species("anion", -1, 2e-9, 1.0)]
    reaction = Reaction(10.0, oxidized={"cation": 1}, reference_concentration=1.0)
    electrodes = [Electrode("anode", "xmin", voltage=0.02, reactions=[reaction], stern_capacitance=0.2)]
    conditions = [FixedPotential("xmax", 0.0), FixedConcentration("cation", "xmax", 1.0)]
    if kind == "poisson":
        meshdata = box_mesh(comm, [8], [1e-7])
        conditions.append(FixedConcentration("anion", "xmax", 1.0))
        return NernstPlanckPoisson(meshdata, species, conditions=conditions, electrodes=electrodes,
                                   relative_permittivity=10.0)
    if kind == "electroneutrality-log":
        meshdata = box_mesh(comm, [8], [1e-5])
        return NernstPlanckPoisson(meshdata, species, conditions=conditions, closure="electroneutrality",
                                   variables="log", electrodes=[Electrode("anode", "xmin", voltage=0.02,
                                                                          reactions=[reaction])])
    meshdata = box_mesh(comm, [4, 2], [1e-5, 1e-6])
    heat = HeatProblem(meshdata, lambda T: 1e-3 * 300.0 / T, heat_capacity=1e6, initial=300.0)
    heat.set_temperature("xmax", 300.0)
    return NernstPlanckPoisson(meshdata, species, conditions=conditions, closure="electroneutrality",
                               temperature=heat, electrodes=[Electrode("anode", "xmin", voltage=0.02,
                                                                       reactions=[reaction])])


def _perturbed(problem):
    """A state u and history u_n, u_nm1 that differ (so every rate is non-zero), mid time step."""
    x = problem.u.x.array
    wave = np.sin(np.arange(len(x)) + 1.0)
    x[:] = x + 0.01 * wave
    problem.u_n.x.array[:] = x + 0.003 * np.cos(np.arange(len(x)))
    problem.u_nm1.x.array[:] = x - 0.002 * wave
    problem.transient.value = 1.0
    problem.heat_transient.value = 1.0
    problem.dt.value = DT
    problem.step_ratio.value = RATIO


def _vector(form):
    from dolfinx import fem

    return fem.assemble_vector(fem.form(form)).array.copy()


def _matrix(form, u):
    from dolfinx import fem

    return fem.assemble_matrix(fem.form(ufl.derivative(form, u))).to_dense()


CASES = ["poisson", "electroneutrality-log", "monolithic-temperature"]


@pytest.mark.parametrize("kind", CASES)
def test_residual_is_storage_rate_plus_steady_residual(comm, kind):
    """F_time(u) = storage_form(BDF2 rates) + F_steady(u) to 1e-13 of the largest entry, and the Jacobian
    of F_time - F_steady is a0/dt times the mass matrix d storage_form(storage_rates(w)) / dw."""
    if comm.size > 1:
        pytest.skip("dense comparison on one rank")
    from dolfinx import fem

    problem = _problem(comm, kind)
    _perturbed(problem)
    full = _vector(problem.residual)
    split = _vector(problem.storage_form()) + _vector(problem.steady_residual)
    assert np.max(np.abs(full - split)) <= 1e-13 * np.max(np.abs(full))
    w = fem.Function(problem.W)
    mass = _matrix(problem.storage_form(problem.storage_rates(w)), w)
    difference = _matrix(problem.residual, problem.u) - _matrix(problem.steady_residual, problem.u)
    a0 = bdf2_coefficients(RATIO)[0]
    assert np.max(np.abs(difference - a0 / DT * mass)) <= 1e-12 * np.max(np.abs(difference))
    assert np.max(np.abs(mass)) > 0


def test_control_input_and_output_functional(comm):
    """The control input is the electrode's potential Constant [V]; the output functional assembles to the
    electrode current [A] and moves with the control input."""
    problem = _problem(comm, "poisson")
    V = problem.control_input("anode")
    assert V is problem.electrode_voltage["anode"] and float(V.value) == pytest.approx(0.02)
    before = problem._integrate(problem.current_form("anode"))
    assert before == problem.electrode_current("anode")
    problem.set_electrode_voltage("anode", 0.03)
    assert float(V.value) == 0.03 and problem.electrode_current("anode") > before
