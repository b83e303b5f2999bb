"""Transient Joule heating from a case file: [model.heat] with [time] and heat_capacity, through `femiec run`."""
from __future__ import annotations

import json
import textwrap

import pytest

from femiec.analytic.thermal import joule_slab_temperature
from femiec.cli import main

from joule_slab import K, L, SIGMA, SLAB_CASE, T_FACE, V, WIDTH


CASE = SLAB_CASE + """
[time]
t_end = 1.5
dt = 0.05
"""


@pytest.mark.mpi
def test_transient_joule_slab_heats_to_the_steady_profile(tmp_path_factory, comm, numbers):
    """Slab 0 <= x <= L, uniform Joule source q = sigma (V/L)^2, both faces at 300 K, initially 300 K,
    rho c_p dT/dt = k T'' + q. Oracles: (1) every step closes the heat balance generated = stored + outflow
    (stored int rho c_p dT/dt with the BDF2 rate, outflow from the discrete residual) to 1e-8 relative;
    (2) the slowest mode decays with time constant L^2 rho c_p/(pi^2 k) = 0.1 s, so at t = 1.5 s (15 time
    constants, remainder ~ 3e-7 of the rise) the largest nodal temperature equals the steady closed form
    T = T_face + q x (L - x)/(2 k) (femiec.analytic.thermal; P2 exact) to 1e-8 relative; (3) the stored
    power is most of the Joule power on the first step and vanishes at the end (< 1e-5 of it)."""
    tmp = comm.bcast(tmp_path_factory.mktemp("transient") if comm.rank == 0 else None)
    if comm.rank == 0:
        (tmp / "case.toml").write_text(textwrap.dedent(CASE))
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    summary = json.loads((tmp / "out" / "summary.json").read_text())
    steps = summary["derived"]["heat_balance_steps [W]"]
    assert len(steps) == summary["solver"]["time_steps"] == 30
    assert steps[-1]["time [s]"] == pytest.approx(1.5, rel=1e-12)
    generated = SIGMA * (V / L) ** 2 * L * WIDTH ** 2
    worst = max(abs(step["imbalance"]) / step["generated"] for step in steps)
    assert worst < 1e-8
    assert all(step["generated"] == pytest.approx(generated, rel=1e-9) for step in steps)
    stored = [step["stored"] for step in steps]
    assert stored[0] > 0.5 * generated and stored[-1] < 1e-5 * generated
    t_steady = max(joule_slab_temperature(i * L / 16, L, SIGMA, V, K, T_FACE, T_FACE) for i in range(17))
    t_max = summary["fields"]["temperature"]["range_last_output"][1]
    assert t_max == pytest.approx(t_steady, rel=1e-8)
    assert (tmp / "out" / "temperature.bp").exists()
    numbers.record("max_temperature", t_max)
    numbers.record("stored_first_step", stored[0])
