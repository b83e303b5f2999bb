"""The ``intercalation_particles`` model kind run from a case file end to end (femiec.models.
intercalation_particles): schema, build, the stepper with a cut-off voltage, outputs and summary.json."""
from __future__ import annotations

import csv
import json

import pytest

from femiec.cli import main
from femiec.constants import FARADAY

CASE = """
[case]
name = "tiny_particles"

[model]
kind = "intercalation_particles"
site_density = 22800.0
interaction_energy = 11157.0
gradient_coefficient = 2.789e-13
diffusivity = 1.0e-14
standard_potential = 3.42
rate_constant = 1.0e-6
scheme = "implicit"
initial = 0.6
initial_spread = 0.002
voltage_min = 3.2
particles = [{ lengths = [1.0e-8], cells = [4], surface = ["xmax"], count = 3 }]
control = { kind = "current", c_rate = 4.0, direction = "lithiation" }

[time]
t_end = 900.0
dt = 20.0
dt_max = 100.0
outputs = 2
"""


@pytest.mark.mpi
def test_particle_case_runs_end_to_end(tmp_path_factory, comm, numbers):
    """Oracle: the lithium balance and the control. Three 1D particles (10 nm, c_max = 22800 mol/m^3,
    capacity Q = 3 F c_max L = 66.0 C/m^2) lithiated at 4C from c = 0.6 for at most 900 s (that would
    reach 1.6: the run must end at the cut-off 3.2 V first). The applied current is -4 Q / 3600 s, the charge
    passed equals it times the time run (1e-9), the final state of charge equals 0.6 - charge / Q (the
    lithium balance, 1e-9), the stop reason is voltage_min with the last voltage below 3.2 V and the one
    before above; voltage.csv (one row per step, a column per particle), voltage.png, state_of_charge.png,
    the fields of each particle and summary.json are written."""
    tmp = comm.bcast(tmp_path_factory.mktemp("particles") if comm.rank == 0 else None)
    if comm.rank == 0:
        (tmp / "case.toml").write_text(CASE)
    comm.barrier()
    out = tmp / "out"
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(out)]) == 0
    result = json.loads((out / "summary.json").read_text())["intercalation"]
    capacity = 3 * FARADAY * 22800.0 * 1e-8
    assert result["capacity_C"] == pytest.approx(capacity, rel=1e-12)
    assert result["applied_current_A"] == pytest.approx(-4 * capacity / 3600, rel=1e-12)
    assert result["charge_passed_C"] == pytest.approx(result["applied_current_A"] * result["time_s"], rel=1e-9)
    assert result["final_state_of_charge"] == pytest.approx(0.6 - result["charge_passed_C"] / capacity, rel=1e-9)
    assert result["stop_reason"] == "voltage_min" and result["time_s"] < 900.0
    with (out / "voltage.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == result["steps"] and "state_of_charge_3" in rows[0]
    assert float(rows[-1]["voltage_V"]) < 3.2 < float(rows[-2]["voltage_V"])
    for name in ("voltage.png", "state_of_charge.png", "site_fraction_1.bp", "chemical_potential_3.bp"):
        assert (out / name).exists(), name
    numbers.record("final_state_of_charge", result["final_state_of_charge"])


@pytest.mark.mpi
def test_particle_case_error_tolerance_and_dense_output(tmp_path_factory, comm, numbers):
    """Oracle: the case above with ``[time] error_tolerance = 2e-4`` (V) and ``dense_output = 0.01``:
    the run still ends at the cut-off with the lithium balance (1e-9), summary.json counts the steps, the
    redone attempts and the dense points, and voltage.csv holds the steps (solver_step 1) and the dense
    points (solver_step 0) in time order, never more than 1% of the capacity apart."""
    tmp = comm.bcast(tmp_path_factory.mktemp("particles_tol") if comm.rank == 0 else None)
    if comm.rank == 0:
        (tmp / "case.toml").write_text(CASE.replace("outputs = 2", "outputs = 2\nerror_tolerance = 2e-4")
                                       .replace("voltage_min = 3.2", "voltage_min = 3.2\ndense_output = 0.01"))
    comm.barrier()
    out = tmp / "out"
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(out)]) == 0
    result = json.loads((out / "summary.json").read_text())["intercalation"]
    capacity = 3 * FARADAY * 22800.0 * 1e-8
    assert result["stop_reason"] == "voltage_min" and result["error_tolerance"] == 2e-4
    assert result["final_state_of_charge"] == pytest.approx(0.6 - result["charge_passed_C"] / capacity, rel=1e-9)
    with (out / "voltage.csv").open() as f:
        rows = list(csv.DictReader(f))
    steps = [r for r in rows if r["solver_step"] == "1"]
    assert len(steps) == result["steps"] and len(rows) == result["steps"] + result["dense_points"] > len(steps)
    times = [float(r["time_s"]) for r in rows]
    states = [float(r["state_of_charge"]) for r in rows]
    assert times == sorted(times) and max(abs(a - b) for a, b in zip(states, states[1:])) <= 0.01 + 1e-12
    numbers.record("steps", [result["steps"], result["rejected_attempts"], result["dense_points"]])


def test_particle_case_refusals(tmp_path, capsys):
    """Refused before solving, one line naming the key: particles of different dimensions, a per-axis
    coefficient of the wrong length, a facet the box does not have, CIET without lambda, no [time], an
    error tolerance with convex splitting, dense output under voltage control."""
    cases = {
        "model.particles[1].lengths": CASE.replace('count = 3 }]', 'count = 3 }, { lengths = [1e-8, 1e-8], '
                                                   'cells = [2, 2] }]'),
        "model.diffusivity": CASE.replace("diffusivity = 1.0e-14", "diffusivity = [1e-14, 1e-14]"),
        "model.particles[0].surface[0]": CASE.replace('surface = ["xmax"]', 'surface = ["ymax"]'),
        "model.reorganization_energy": CASE.replace('scheme = "implicit"', 'scheme = "implicit"\nrate_law = "ciet"'),
        "time": CASE[:CASE.index("[time]")],
        "time.error_tolerance": CASE.replace('scheme = "implicit"', 'scheme = "convex_splitting"')
                                    .replace("outputs = 2", "outputs = 2\nerror_tolerance = 1e-4"),
        "model.dense_output": CASE.replace('control = { kind = "current", c_rate = 4.0, direction = "lithiation" }',
                                           'control = { kind = "voltage", value = 3.4 }\ndense_output = 0.01'),
    }
    for key, text in cases.items():
        path = tmp_path / "case.toml"
        path.write_text(text)
        assert main(["validate", str(path)]) == 2, key
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert line.startswith(f"error: {key}: "), line
