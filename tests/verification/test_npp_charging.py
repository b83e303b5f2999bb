"""Double-layer charging of a blocking cell after a small voltage step (RC time)."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.electrochemistry import debye_length, rc_charging_time
from femiec.constants import VACUUM_PERMITTIVITY, thermal_voltage
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import Electrode
from femiec.problems.species import Species

from npp_support import graded_interval

C0, EPS_R, T, D = 1.0, 78.5, 298.15, 1e-9


@pytest.mark.mpi
def test_npp_blocking_cell_rc_time(comm, numbers):
    """Oracle (Bazant, Thornton & Ajdari, Phys. Rev. E 70 (2004) 021506, eq. 36): after a small voltage
    step V << V_T across a blocking cell of gap 2L with a 1:1 electrolyte (equal D), the double layers
    charge with the RC time tau_c = lambda_D L / D (bulk resistance in series with two diffuse-layer
    capacitances), for lambda_D^2 / D << t << L^2 / D. Here V = 0.02 V_T, lambda_D / L = 1e-3, BDF2 with
    dt = tau_c / 40; the charge Q(t) of the left half relaxes as Q_inf - A exp(-t / tau_c), so
    tau_fit = dt_w / ln((Q2 - Q1) / (Q3 - Q2)) from three equally spaced times (window 1 tau_c - 2
    tau_c) must equal tau_c within 2%.
    """
    lam = debye_length(EPS_R * VACUUM_PERMITTIVITY, T, [C0, C0], [1, -1])
    half_gap = 1e3 * lam
    meshdata = graded_interval(comm, 100, half_gap, 0.1 * lam, both=True)
    V = 0.02 * thermal_voltage(T)
    electrodes = [Electrode("left", "xmin", voltage=V / 2), Electrode("right", "xmax", voltage=-V / 2)]
    species = [Species("cation", 1, D, C0), Species("anion", -1, D, C0)]
    problem = NernstPlanckPoisson(meshdata, species, electrodes=electrodes, temperature=T,
                                  relative_permittivity=EPS_R)
    tau = rc_charging_time(lam, half_gap, D)
    steps = 40
    dt = tau / steps
    charges = []
    problem.run(t_end=2 * tau, dt=dt, dt_max=dt, grow=1.0, scheme="bdf2",
                output_times=[k * dt for k in range(1, 2 * steps)],
                on_output=lambda t: charges.append(problem.total_charge("left")))
    q1, q2, q3 = charges[steps], charges[steps + steps // 2], charges[2 * steps]  # t = tau, 1.5 tau, 2 tau
    tau_fit = (steps // 2) * dt / np.log((q2 - q1) / (q3 - q2))
    numbers.record("tau_fit_over_tau", tau_fit / tau)
    numbers.record("final_charge", charges[-1])
    assert len(charges) == 2 * steps + 1
    assert abs(tau_fit / tau - 1) < 0.02
