"""Conservation of every species' amount in a closed Nernst–Planck–Poisson system."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.constants import VACUUM_PERMITTIVITY
from femiec.analytic.electrochemistry import debye_length
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import FixedPotential
from femiec.problems.species import Species

from npp_support import box_mesh, global_max

C0, EPS_R, T, D = 1.0, 10.0, 300.0, 1e-9


def bump(amplitude, shift):
    return lambda x: C0 * (1 + amplitude * np.exp(-((x[0] / LENGTH - shift) ** 2 + (x[1] / LENGTH - 0.5) ** 2) / 0.02))


LENGTH = 5 * debye_length(EPS_R * VACUUM_PERMITTIVITY, T, [C0, C0], [1, 1])


@pytest.mark.mpi
@pytest.mark.parametrize("variables", ["concentration", "log"])
def test_npp_closed_system_conserves_amounts(comm, numbers, variables):
    """Oracle: with blocking walls (J_i . n = 0) int c_i dx is constant in time (integrate dc_i/dt +
    div J_i = 0 over the domain). Backward Euler and BDF2 coefficients sum to zero and the discrete
    amounts are integrated with the quadrature of the residual, so the discrete amounts are conserved to
    the Newton tolerance: relative change < 1e-10 over >= 100 adaptive BDF2 steps. A grounded blocking
    electrode (phi = 0 on x = 0) fixes the potential level; a divalent cation and a monovalent anion
    start from separated, non-neutral bumps.
    """
    meshdata = box_mesh(comm, [12, 12], [LENGTH, LENGTH])
    species = [Species("cation", 2, D, bump(0.8, 0.3)), Species("anion", -1, 2 * D, bump(1.5, 0.7))]
    problem = NernstPlanckPoisson(meshdata, species, conditions=[FixedPotential("xmin", 0.0)], temperature=T,
                                  relative_permittivity=EPS_R, variables=variables)
    before = [problem.amount(s.name) for s in species]
    initial = problem.nodal_values()
    t_ref = problem.scaling.time
    records = problem.run(t_end=t_ref, dt=1e-4 * t_ref, dt_max=1e-2 * t_ref, scheme="bdf2")
    after = [problem.amount(s.name) for s in species]
    drift = [abs(a - b) / b for a, b in zip(after, before)]
    # the adaptive step sequence may differ between partitions (Newton counts at a threshold), so only
    # partition-independent results are recorded
    numbers.record("max_relative_drift_below_1e-10", float(max(drift) < 1e-10))
    numbers.record("amounts", after)
    assert len(records) >= 100
    assert max(drift) < 1e-10, drift
    change = global_max(comm, np.abs(problem.nodal_values()[1] - initial[1])) / C0
    assert change > 0.5  # the anion bump spread out: the system did evolve
