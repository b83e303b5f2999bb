"""SIGINT/SIGTERM during `femiec run`: checkpoint, voltage curve, one error line, exit 128 + signal."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demos" / "nmc_electrode" / "case_12.toml"
IMAGE = ROOT.parent / "shared" / "data" / "nmc_electrode_256.tiff"


@pytest.mark.skipif(not IMAGE.is_file(), reason=f"{IMAGE} not found")
@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_an_electrode_run_writes_a_checkpoint_and_one_line(tmp_path, signum, status):
    """The signal is sent when `femiec -v run` logs its first step: the run stops at the next step
    boundary, writes voltage.csv (the initial state and the steps taken), a checkpoint a new problem
    restarts from, and ends with the one line `error: interrupted by SIG... at t = ... s; checkpoint in
    <dir>` and the exit status 128 + signal number (no traceback)."""
    from femiec.config import load_case
    from femiec.runner import build_problem

    text = DEMO.read_text().replace("crop = [[0, 12], [0, 12], [0, 12]]", "crop = [[0, 8], [0, 8], [0, 8]]")
    text = text.replace('file = "../../../shared/data', f'file = "{IMAGE.parent}')
    (tmp_path / "case.toml").write_text(text)
    out = tmp_path / "out"
    command = [sys.executable, "-c", "import sys; from femiec.cli import main; sys.exit(main())",
               "-v", "run", str(tmp_path / "case.toml"), "--out", str(out)]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lines = []
    for line in process.stderr:
        lines.append(line.rstrip("\n"))
        if "step 1:" in line:
            os.kill(process.pid, signum)
            break
    lines += process.stderr.read().splitlines()
    assert process.wait(timeout=300) == status, "\n".join(lines)
    errors = [line for line in lines if line.startswith("error:")]
    name = signal.Signals(signum).name
    assert len(errors) == 1 and errors[0].startswith(f"error: interrupted by {name} at t = "), "\n".join(lines)
    assert errors[0].endswith(f"s; checkpoint in {out / 'checkpoint'}")
    assert not any("Traceback" in line for line in lines)
    rows = (out / "voltage.csv").read_text().splitlines()
    assert len(rows) >= 3 and (out / "voltage.png").is_file()
    resumed = text.replace("every = 10 ", f'every = 10\nrestart = "{out / "checkpoint"}" ')
    (tmp_path / "resume.toml").write_text(resumed)
    from mpi4py import MPI

    _, problem = build_problem(load_case(tmp_path / "resume.toml"), MPI.COMM_SELF)
    assert len(problem.records) == len(rows) - 1
    assert f"t = {problem.time:.6g} s" in errors[0]


MEMBRANE = """
[case]
name = "membrane"

[mesh]
kind = "box"
lengths = [1.0e-3]
cells = [20]

[model]
kind = "mixed_conductor"
material = "gdc10"
temperature = 1073.15
conditions = [
  { type = "electronic_contact", facet = "xmin" },
  { type = "oxygen_pressure", facet = "xmin", pressure = 0.21e5 },
  { type = "surface_exchange", facet = "xmax", pressure = 1.0e3, k_chem = 1.0e-5 },
]

[time]
t_end = 2.0e3
dt = 10.0
outputs = 2
"""


@pytest.mark.parametrize("kind", ["intercalation_particles", "mixed_conductor", "mixed_conductor_poisson"])
def test_interrupted_runs_keep_their_time_series(tmp_path, monkeypatch, kind):
    """A SIGINT requested after the first accepted step (as the signal handler does) stops the
    phase-separating particles, a transient mixed-conductor membrane and a full-Poisson MIEC transient at
    that step boundary: the Interrupted error comes out with the time reached, and the run's time series
    holds the steps taken (voltage.csv and voltage.png; faces.csv; current.csv), nothing is lost; the
    mixed-conductor runs (electroneutral and full-Poisson) also write their checkpoint and name it in the
    error."""
    from mpi4py import MPI

    from femiec import interrupt
    from femiec.config import load_case
    from femiec.errors import Interrupted
    from femiec.models import model_spec
    from femiec.runner import build_problem

    monkeypatch.syspath_prepend(str(ROOT / "tests" / "verification"))
    from test_intercalation_case import CASE as PARTICLES
    from test_miec_poisson import TRANSIENT_CASE

    text = {"intercalation_particles": PARTICLES, "mixed_conductor": MEMBRANE,
            "mixed_conductor_poisson": TRANSIENT_CASE}
    (tmp_path / "case.toml").write_text(text[kind])
    case = load_case(tmp_path / "case.toml")
    _, problem = build_problem(case, MPI.COMM_SELF)
    with interrupt.handled_signals(), pytest.raises(Interrupted) as stopped:
        model_spec(case.model.kind).run(case, problem, tmp_path / "out",
                                        lambda fraction: interrupt.request(signal.SIGINT))
    assert 0 < stopped.value.time < case.time.t_end
    series = {"intercalation_particles": "voltage.csv", "mixed_conductor": "faces.csv",
              "mixed_conductor_poisson": "current.csv"}[kind]
    rows = (tmp_path / "out" / series).read_text().splitlines()
    assert len(rows) >= 2, rows
    if kind == "intercalation_particles":
        assert (tmp_path / "out" / "voltage.png").is_file()
    if kind != "intercalation_particles":  # and a checkpoint to resume from (test_miec_*restart.py)
        assert stopped.value.checkpoint == tmp_path / "out" / "checkpoint"
        assert (tmp_path / "out" / "checkpoint" / "current").is_file()
