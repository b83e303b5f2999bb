"""Error-controlled time steps of the Nernst–Planck–Poisson problem (docs/nernst_planck_poisson.md, "Time
stepping"): local error control on the current of a potentiostatic electrode, against a run with 10x finer
steps and against the default stepping."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.constants import FARADAY
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import Electrode, FixedConcentration, FixedPotential, Reaction
from femiec.problems.species import Species

from npp_support import box_mesh

C0, D, LENGTH, T = 100.0, 1e-9, 1e-5, 298.15
I_LIM = 4 * FARADAY * D * C0 / LENGTH  # limiting current density of the binary cell [A/m^2], 3859 A/m^2
T_END, DT = 0.3, 1e-5  # 3 diffusion times L^2/D; first step [s]
TOLERANCE = 4.0  # A/m^2 (1D: the current is per unit area), 1e-3 I_LIM


def _cell(comm):
    """1D electroneutral binary cell of 10 um (40 cells): a cation-reducing electrode (Butler–Volmer, i0 =
    0.1 I_LIM) stepped to -0.1 V at x = 0, a reservoir (c = C0, phi = 0) at x = L. The current jumps to
    -0.43 I_LIM and relaxes (diffusion layer, t ~ L^2/D = 0.1 s) to its steady -0.24 I_LIM."""
    meshdata = box_mesh(comm, [40], [LENGTH])
    species = [Species("cation", 1, D, C0), Species("anion", -1, D, C0)]
    reaction = Reaction(0.1 * I_LIM, oxidized={"cation": 1}, reference_concentration=C0)
    return NernstPlanckPoisson(meshdata, species, closure="electroneutrality", temperature=T,
                               electrodes=[Electrode("cathode", "xmin", voltage=-0.1, reactions=[reaction])],
                               conditions=[FixedConcentration("cation", "xmax", C0), FixedPotential("xmax", 0.0)])


def _current_curve(comm, **options):
    """(times [s], currents [A/m^2] at t = 0 and after every step, step records) of a BDF2 run to T_END."""
    problem = _cell(comm)
    curve = []
    records = problem.run(t_end=T_END, scheme="bdf2", on_step=lambda t: curve.append(
        (t, problem.electrode_current("cathode"))), **options)
    curve = np.array(curve)
    return curve[:, 0], curve[:, 1], records


@pytest.mark.mpi
def test_error_controlled_npp_current_within_the_tolerance_of_a_10x_finer_run(comm, numbers):
    """Oracle: the same run with every accepted step split into 10 equal BDF2 steps (the output times
    force the split; its own error ~1% of the coarse one's). At error_tolerance = 4 A/m^2 (1e-3 I_LIM)
    the current at every step lies within 2 tol of it (global error of local errors; the first p + 1
    steps are unchecked by construction) and no accepted step's estimate exceeds tol (larger ones were
    rejected and retried). The default stepping (steps grow by 1.5 after easy Newton solves) capped at
    dt_max = T_END/20 takes more steps for a larger error. Measured: 32 steps, none rejected, max |dI| 4.78
    A/m^2 (1.2 tol); default with dt_max = T_END/20: 37 steps, 8.64 A/m^2 (T_END/40: 55 steps, 3.89
    A/m^2; T_END/80: 93 steps, 2.72 A/m^2; uncapped: 24 steps, 13.8 A/m^2). At tol = 2 A/m^2: 37 steps,
    3.31 A/m^2."""
    times, currents, records = _current_curve(comm, dt=DT, error_tolerance=TOLERANCE)
    split = [a + (b - a) * k / 10 for a, b in zip(times[:-1], times[1:]) for k in range(1, 11)]
    fine_times, fine_currents, _ = _current_curve(comm, dt=T_END, dt_max=T_END, grow=1.0, output_times=split[:-1])
    assert len(fine_times) == 10 * (len(times) - 1) + 1
    error = np.max(np.abs(currents - fine_currents[::10]))
    default_times, default_currents, default_records = _current_curve(comm, dt=DT, dt_max=T_END / 20)
    # the fine curve interpolated to the default's times (linear, between points 10x closer than tol needs)
    default_error = np.max(np.abs(default_currents - np.interp(default_times, fine_times, fine_currents)))
    estimates = [r["error_estimate"] for r in records if r["error_estimate"] is not None]
    numbers.record("steps", len(records))
    numbers.record("rejected", sum(r["rejected_attempts"] for r in records))
    numbers.record("max step error A/m^2", error)
    numbers.record("default steps", len(default_records))
    numbers.record("default max error A/m^2", default_error)
    assert error <= 2 * TOLERANCE, error
    assert len(estimates) == len(records) - 3 and max(estimates) <= TOLERANCE
    assert len(records) < len(default_records) and error < default_error, (len(default_records), default_error)
