"""The case-runner entry point of the Nernst–Planck–Poisson model (typed model section, SI units)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.errors import InputError
from femiec.config.schema import TimeSection
from femiec.models.nernst_planck_poisson import NernstPlanckPoissonModel
from femiec.problems.nernst_planck_poisson import problem_from_section, run_case

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "verification"))
from npp_support import box_mesh  # noqa: E402


def section(**extra):
    base = {
        "species": [{"name": "cation", "charge": 1, "diffusivity": 1e-9, "initial": 100.0},
                    {"name": "anion", "charge": -1, "diffusivity": 2e-9, "initial": 100.0}],
        "relative_permittivity": 78.5,
        "variables": "log",
        "conditions": [{"type": "concentration", "species": "cation", "facets": "xmax", "value": 100.0},
                       {"type": "concentration", "species": "anion", "facets": "xmax", "value": 100.0},
                       {"type": "potential", "facets": "xmax", "value": 0.0}],
        "electrodes": [{"name": "anode", "facets": "xmin", "current": 5.0, "stern_capacitance": 0.2,
                        "reactions": [{"exchange_current_density": 10.0, "oxidized": {"cation": 1},
                                       "reference_concentration": 100.0}]}],
    }
    base.update(extra)
    return base


def run(table, meshdata, out_dir, time=None):
    """run_case of a plain [model] table (and [time] table: transient), fields written as XDMF."""
    model = NernstPlanckPoissonModel.from_table(table)
    return run_case(model, problem_from_section(model, meshdata), out_dir,
                    time=None if time is None else TimeSection(**time), formats=["xdmf"])


@pytest.mark.mpi
def test_run_case_steady_and_transient(comm, tmp_path, numbers):
    tmp_path = comm.bcast(tmp_path if comm.rank == 0 else None)  # one output directory for all ranks
    meshdata = box_mesh(comm, [40], [1e-7])
    steady = run(section(steady={"continuation_steps": 2}), meshdata, tmp_path / "steady")
    assert steady["derived"]["electrode_current_A"]["anode"] == pytest.approx(5.0, rel=1e-9)
    assert set(steady["fields"]) == {"potential", "concentration_cation", "concentration_anion"}
    assert steady["fields"]["potential"]["unit"] == "V"
    numbers.record("steady_electrode_potential", steady["derived"]["electrode_potential_V"]["anode"])
    assert (tmp_path / "steady" / "fields.xdmf").exists()
    t_ref = 1e-14 / 2e-9
    transient = run(section(), meshdata, tmp_path / "transient", time={"t_end": 0.1 * t_ref, "dt": 1e-3 * t_ref,
                                                                       "outputs": 4})
    records = transient["solver"]["records"]
    assert records[-1]["time"] == pytest.approx(0.1 * t_ref)
    assert all(r["newton_iterations"] >= 1 for r in records)
    # Newton and Krylov iteration counts per steady solve and per time step (summary.json)
    for record in steady["solver"]["records"] + records:
        assert type(record["krylov_iterations"]) is int and record["krylov_iterations"] >= 0, record
        assert type(record["newton_iterations"]) is int
    assert all(r["rejected_attempts"] == 0 for r in records)
    # the galvanostatic secant's tolerance: 1e-10 max(|I|, 1e-3 j_ref area) = 1e-10 x 193 A = 1.9e-8 A (the
    # steps grow since the controller judges the hardest solve of the secant, 11 steps, not 100; the
    # tighter 1e-9 relative held by chance of the many warm-started small steps before)
    assert all(r["secant_iterations"] >= 3 for r in records) and len(records) < 20
    assert transient["derived"]["electrode_current_A"]["anode"] == pytest.approx(5.0, abs=2e-8)
    # 1D: the facet "area" is 1, so the mean current density equals the current per unit area
    assert transient["derived"]["electrode_current_density_A_m2"]["anode"] == pytest.approx(5.0, abs=2e-8)
    # the time series beside the fields: the initial state and every step, the current of the last row
    # that of the summary
    rows = (tmp_path / "transient" / "current.csv").read_text().splitlines()
    assert rows[0] == "time_s,current_anode_A,potential_anode_V" and len(rows) == len(records) + 2
    assert float(rows[-1].split(",")[1]) == transient["derived"]["electrode_current_A"]["anode"]
    assert (tmp_path / "transient" / "current.png").is_file() and "current_csv" in transient["files"]


@pytest.mark.parametrize("change, key", [({"colour": 1}, "model.colour"),
                                          ({"conditions": [{"type": "heat", "facets": "xmin"}]},
                                           "model.conditions[0].type"),
                                          ({"steady": {"steps": 3}}, "model.steady.steps")])
def test_run_case_rejects_unknown_keys(comm, tmp_path, change, key):
    with pytest.raises(InputError) as err:
        run(section(**change), box_mesh(comm, [4], [1e-7]), tmp_path)
    assert err.value.key == key


@pytest.mark.mpi
def test_run_case_ohmic_current_density(comm, numbers, tmp_path_factory):
    """Oracle: a 1:1 electrolyte (D+ = 1e-9, D- = 2e-9 m^2/s, c0 = 10 mol/m^3 at both x faces) between
    phi = V at x = 0 and phi = 0 at x = L carries the uniform ohmic current density i = sigma V / L with
    sigma = F^2 (D+ + D-) c0 / (R T) (c stays c0 and phi is linear, both exactly in P1). The summary's
    mean outward ionic current densities are -i at xmin, +i at xmax and 0 on the blocking y faces: 2D box
    of L = 1 um by W = 0.4 um, so the per-length current I = i W is divided by the facet length W;
    asserted to 1e-9 relative (measured ~1e-15)."""
    c0, V, L, W, T = 10.0, 0.1, 1e-6, 0.4e-6, 298.15
    tmp = comm.bcast(tmp_path_factory.mktemp("ohmic") if comm.rank == 0 else None)
    section = {
        "species": [{"name": "cation", "charge": 1, "diffusivity": 1e-9, "initial": c0},
                    {"name": "anion", "charge": -1, "diffusivity": 2e-9, "initial": c0}],
        "relative_permittivity": 78.5, "temperature": T,
        "conditions": [{"type": "concentration", "species": name, "facets": ["xmin", "xmax"], "value": c0}
                       for name in ("cation", "anion")]
        + [{"type": "potential", "facets": "xmin", "value": V}, {"type": "potential", "facets": "xmax", "value": 0.0}],
    }
    summary = run(section, box_mesh(comm, [8, 4], [L, W]), tmp / "out")
    density = summary["derived"]["facet_ionic_current_density_A_m2"]
    expected = FARADAY ** 2 * (1e-9 + 2e-9) * c0 / (GAS_CONSTANT * T) * V / L
    numbers.record("current_density_xmax", density["xmax"])
    numbers.record("current_density_xmin", density["xmin"])
    assert density["xmax"] == pytest.approx(expected, rel=1e-9)
    assert density["xmin"] == pytest.approx(-expected, rel=1e-9)
    assert abs(density["ymin"]) < 1e-9 * expected and abs(density["ymax"]) < 1e-9 * expected
    assert summary["derived"]["electrode_current_density_A_m2"] == {}


@pytest.mark.mpi
def test_run_case_electrode_current_density(comm, numbers, tmp_path_factory):
    """Oracle: a galvanostatic anode imposes the total current I (per unit length in 2D) through its
    facet of length W, so its mean current density is I / W exactly (asserted 1e-9: the secant
    tolerance). At steady state the same charge leaves through the reservoir face: its mean outward ionic
    current density (from the field gradients) is I / W up to the discretization error of the P1
    boundary gradient: asserted 1e-5 relative (measured 3.2e-7; 40 x 2 cells, 100 nm x 20 nm)."""
    W, current_density = 2e-8, 5.0
    tmp = comm.bcast(tmp_path_factory.mktemp("anode") if comm.rank == 0 else None)
    electrode = {**section()["electrodes"][0], "current": current_density * W}
    summary = run(section(electrodes=[electrode], steady={"continuation_steps": 2}),
                  box_mesh(comm, [40, 2], [1e-7, W]), tmp / "out")
    derived = summary["derived"]
    outflow = derived["facet_ionic_current_density_A_m2"]["xmax"]
    numbers.record("electrode_current_density", derived["electrode_current_density_A_m2"]["anode"])
    numbers.record("reservoir_current_density", outflow)
    assert derived["electrode_current_density_A_m2"]["anode"] == pytest.approx(current_density, rel=1e-9)
    assert outflow == pytest.approx(current_density, rel=1e-5)


@pytest.mark.mpi
def test_interrupted_transient_run_writes_its_current_series(comm, tmp_path):
    """SIGINT (requested as the handler does) after the 2nd step: the run stops at that step boundary on
    every rank with Interrupted at the time reached and current.csv holds t = 0 and the 2 steps; the
    checkpoint written on the way out is named in the message."""
    import signal

    from femiec import interrupt
    from femiec.errors import Interrupted

    tmp_path = comm.bcast(tmp_path if comm.rank == 0 else None)
    meshdata = box_mesh(comm, [40], [1e-7])
    model = NernstPlanckPoissonModel.from_table(section())
    problem = problem_from_section(model, meshdata)
    t_ref = 1e-14 / 2e-9
    calls = []

    def progress(fraction):
        calls.append(fraction)
        if len(calls) == 2:
            interrupt.request(signal.SIGINT)

    with pytest.raises(Interrupted) as stopped:
        run_case(model, problem, tmp_path, progress, time=TimeSection(t_end=0.1 * t_ref, dt=1e-3 * t_ref),
                 formats=["xdmf"])
    rows = (tmp_path / "current.csv").read_text().splitlines()
    assert len(rows) == 4 and stopped.value.signum == signal.SIGINT
    assert stopped.value.checkpoint == tmp_path / "checkpoint"
    assert float(rows[-1].split(",")[0]) == stopped.value.time
    assert str(stopped.value) == (f"interrupted by SIGINT at t = {stopped.value.time:.6g} s; "
                                  f"checkpoint in {tmp_path / 'checkpoint'}")


@pytest.mark.mpi
@pytest.mark.parametrize("electrodes", [[], [{"name": "wall", "facets": "xmin", "voltage": 0.01}]])
def test_error_tolerance_needs_an_electrode_with_a_current(comm, tmp_path, electrodes):
    """``[time] error_tolerance`` controls the steps on the first electrode's potential or current: a
    model without electrodes, or whose first electrode is blocking (zero faradaic current), is refused
    before any step, named by its case key."""
    meshdata = box_mesh(comm, [4], [1e-6])
    out_dir = Path(comm.bcast(str(tmp_path) if comm.rank == 0 else None))  # one folder for every rank
    with pytest.raises(InputError, match="time.error_tolerance"):
        run(section(electrodes=electrodes), meshdata, out_dir,
            time={"t_end": 1e-3, "dt": 1e-5, "error_tolerance": 1e-3})
