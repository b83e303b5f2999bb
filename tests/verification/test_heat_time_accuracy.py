"""Error-controlled time steps of the transient heat problem (docs/thermal.md, "Time stepping"): local
error control on the mean temperature of a Joule-heated slab through `femiec run`, against the exact
series and against the default fixed steps."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from femiec.analytic.thermal import joule_slab_mean_temperature
from femiec.cli import main

from joule_slab import K, L, RHO_CP, SIGMA, SLAB_CASE, T_FACE, V

T_END = 1.0  # 10 time constants L^2 rho c_p/(pi^2 k) = 0.1 s
TOLERANCE = 1e-2  # K, local error of the mean temperature per step (1.2e-3 of its 8.33 K rise)

CASE = SLAB_CASE + f"""
[output]
fields = []

[time]
t_end = {T_END}
"""


def _mean_temperature_curve(tmp, comm, name, time_keys):
    """(times [s], mean temperatures [K] after every step, solver summary) of the slab run with the
    ``[time]`` keys ``time_keys`` added."""
    folder = tmp / name
    if comm.rank == 0:
        folder.mkdir()
        (folder / "case.toml").write_text(textwrap.dedent(CASE) + time_keys)
    comm.barrier()
    assert main(["-q", "run", str(folder / "case.toml"), "--out", str(folder / "out")]) == 0
    summary = json.loads((folder / "out" / "summary.json").read_text())
    steps = summary["derived"]["heat_balance_steps [W]"]
    return (np.array([s["time [s]"] for s in steps]), np.array([s["mean_temperature [K]"] for s in steps]),
            summary["solver"])


@pytest.mark.mpi
def test_error_controlled_heating_follows_the_exact_mean_temperature(tmp_path_factory, comm, numbers):
    """Slab 0 <= x <= L (8 P2 cells), uniform Joule source q = sigma (V/L)^2, both faces at 300 K,
    initially 300 K: the mean temperature rises by q L^2/(12 k) = 8.33 K with the modes of the exact
    series (femiec.analytic.thermal.joule_slab_mean_temperature; exact in time, the P2 spatial error of the
    mean is ~3e-6 K). Oracle: at error_tolerance = 1e-2 K (first step 1e-4 s) the mean temperature after
    every step lies within 4 tol of the series (local errors accumulate over the ~15 steps of the rise),
    no accepted step's estimate exceeds tol (larger ones were rejected and retried), and the default
    fixed steps at dt = 0.02 s take more steps for a larger error. Measured: 33 steps, none rejected,
    max error 0.032 K (3.2 tol); fixed dt = 0.02 s: 50 steps, 0.139 K (dt = 0.05 s: 20 steps, 0.50 K;
    dt = 0.005 s, 10x finer: 200 steps, 0.018 K; at tol 1e-3 K: 54 steps, 7.8e-3 K), the fixed steps' error
    set by their backward-Euler first step."""
    tmp = comm.bcast(tmp_path_factory.mktemp("heat_time") if comm.rank == 0 else None)
    times, means, solver = _mean_temperature_curve(tmp, comm, "controlled",
                                                   f"dt = 1e-4\nerror_tolerance = {TOLERANCE}\n")
    exact = joule_slab_mean_temperature(times, L, SIGMA, V, K, RHO_CP, T_FACE)
    error = np.max(np.abs(means - exact))
    fixed_times, fixed_means, fixed_solver = _mean_temperature_curve(tmp, comm, "fixed", "dt = 0.02\n")
    fixed_error = np.max(np.abs(fixed_means - joule_slab_mean_temperature(fixed_times, L, SIGMA, V, K, RHO_CP,
                                                                          T_FACE)))
    estimates = [e for e in solver["error_estimates [K]"] if e is not None]
    numbers.record("steps", solver["time_steps"])
    numbers.record("rejected", solver["rejected_steps"])
    numbers.record("max error K", error)
    numbers.record("fixed steps", fixed_solver["time_steps"])
    numbers.record("fixed max error K", fixed_error)
    assert times[-1] == pytest.approx(T_END, rel=1e-12) and times[0] == pytest.approx(1e-4, rel=1e-12)
    assert error <= 4 * TOLERANCE, error
    assert len(estimates) == solver["time_steps"] - 3 and max(estimates) <= TOLERANCE
    assert fixed_solver["time_steps"] == 50 and "rejected_steps" not in fixed_solver
    assert solver["time_steps"] < fixed_solver["time_steps"] and error < fixed_error, (fixed_error, error)
