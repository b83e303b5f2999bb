"""Events in a Nernst–Planck–Poisson transient (``NernstPlanckPoisson.run(events=...)``): a terminal event
on a facet concentration stops the run, landed on within its tolerance."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import FixedConcentration, FixedPotential
from femiec.problems.species import Species
from femiec.solvers import Event

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "verification"))
from npp_support import box_mesh  # noqa: E402

L, D = 1e-6, 1e-9  # m, m^2/s
T_REF = L ** 2 / D


def closed_end_concentration(t: float, c0: float = 1.0, c1: float = 2.0, terms: int = 50) -> float:
    """c(0, t) [mol/m^3] of c_t = D c_xx on [0, L], c(x, 0) = c0, c(L, t) = c1, no flux at x = 0 (Carslaw &
    Jaeger): c1 - (c1 - c0) sum_n 4 (-1)^n / ((2n+1) pi) exp(-(2n+1)^2 pi^2 D t / (4 L^2))."""
    n = np.arange(terms)
    k = (2 * n + 1) * np.pi / 2
    return c1 - (c1 - c0) * np.sum(2 * (-1) ** n / k * np.exp(-k ** 2 * D * t / L ** 2))


@pytest.mark.mpi
def test_npp_run_stops_at_a_facet_concentration_event(comm, numbers):
    """Oracle: the closed-end diffusion series. A 1:1 electrolyte (equal D, 1 mol/m^3) in [0, 1 um] fed
    with 2 mol/m^3 at xmax (blocking at xmin; equal diffusivities keep it electroneutral, so each ion
    diffuses as a neutral solute); 100 cells, BDF2, steps up to 0.05 L^2/D. The terminal event "half"
    (g = mean c_cation on xmin - 1.5 mol/m^3, rising, tolerance 1e-3 mol/m^3) stops the run with
    c(0) in [1.5, 1.501] mol/m^3 (the step of 0.05 L^2/D that crossed ended 4 mmol/m^3 beyond and was
    redone once); on_output is called at that time; the stop time matches the series' time of the landed
    concentration to 0.5% (it is 0.2% early: time and mesh discretization). A non-terminal event at
    1.2 mol/m^3 is recorded on the way."""
    meshdata = box_mesh(comm, [100], [L])
    problem = NernstPlanckPoisson(
        meshdata, [Species("cation", 1, D, 1.0), Species("anion", -1, D, 1.0)], relative_permittivity=78.5,
        conditions=[FixedConcentration("cation", "xmax", 2.0), FixedConcentration("anion", "xmax", 2.0),
                    FixedPotential("xmax", 0.0)])

    def closed_end():
        return problem.facet_mean_concentration("cation", "xmin")

    events = [Event("fifth", lambda t: closed_end() - 1.2, direction=1, terminal=False),
              Event("half", lambda t: closed_end() - 1.5, direction=1, tolerance=1e-3)]
    written = []
    records = problem.run(t_end=T_REF, dt=0.01 * T_REF, dt_max=0.05 * T_REF, output_times=[0.5 * T_REF],
                          on_output=written.append, events=events)
    assert problem.stop_reason == "half"
    c_stop, t_stop = closed_end(), records[-1]["time"]
    assert 1.5 <= c_stop <= 1.5 + 1e-3
    assert sum(r["rejected_attempts"] for r in records) >= 1
    assert written == [0.0, t_stop]
    assert [(e["name"], e["time"]) for e in problem.occurred_events][-1] == ("half", t_stop)
    assert [e["name"] for e in problem.occurred_events] == ["fifth", "half"]
    from scipy.optimize import brentq

    t_exact = brentq(lambda t: closed_end_concentration(t) - c_stop, 0.01 * T_REF, T_REF)
    assert t_stop == pytest.approx(t_exact, rel=5e-3)
    numbers.record("stop_time_over_t_ref", t_stop / T_REF)
    numbers.record("stop_concentration", c_stop)
