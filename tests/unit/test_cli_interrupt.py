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
