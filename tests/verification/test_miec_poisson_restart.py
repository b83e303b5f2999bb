"""Checkpoints and exact restarts of the full-Poisson MIEC transient (``mixed_conductor`` with
``electrostatics = "poisson"``, [time] and ``[model.checkpoint]``): the space-charge layer of
tests/verification/test_miec_poisson.py (i) charged from equilibrium (a blocking contact stepped to 0.1 V,
600 cells over 150 nm, steps by the local error of ln n at every node, 1e-3).

Oracle: the uninterrupted run. A run resumed from a checkpoint takes the same steps from the same state
(the NPP unknowns now and at the two steps before, the last step, the stepper's schedule, the error
controller's history of ln n at every node, the terminal-current recorders' charges), so on the same
partition it repeats the uninterrupted run's floating-point operations: every row of current.csv (time,
terminal currents, potentials) and summary.json's charge passed are equal (asserted to 1e-12 relative;
measured 0). Tests marked mpi also run on 2 ranks, and there a run interrupted on 2 ranks is resumed on 1.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from femiec.cli import main

from restart_support import (csv_rows, error_line, relative_difference, resumed_on_one_rank, run_case, run_to_end,
                             write_case)

pytestmark = pytest.mark.mpi


def _transient_case() -> str:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_miec_poisson import TRANSIENT_CASE

    return TRANSIENT_CASE


def _case(directory: Path, name: str, checkpoint: str = "", replace: dict | None = None) -> Path:
    """The transient case of the module docstring with ``[model.checkpoint]`` keys ``checkpoint`` (and the
    text of each key of ``replace`` replaced by its value); written by rank 0."""
    return write_case(directory / name, _transient_case(), checkpoint, replace=replace)


def test_interrupted_and_resumed_equals_the_uninterrupted_run(tmp_path_factory, comm, numbers):
    """Stopped by SIGINT after 5 accepted steps (every = 2: checkpoints at steps 2 and 4, and 5 on the way
    out; the Interrupted error names the checkpoint), the run keeps current.csv of its 5 steps. The case
    with ``restart`` continues it into the same directory: current.csv runs from the first step to t_end
    with the uninterrupted run's rows (times, terminal currents and potentials of both contacts equal to
    1e-12 relative to each column's largest value; measured 0), the same number of steps, the same charge
    passed and last terminal current of each contact (1e-12), the final checkpoint at the last step with
    the recorders' whole history (t = 0 and every step)."""
    from femiec.io.checkpoint import current_slot

    tmp = Path(comm.bcast(str(tmp_path_factory.mktemp("miec_restart")) if comm.rank == 0 else None))
    if comm.rank == 0:
        _case(tmp, "case.toml", "every = 2")
        _case(tmp, "resume.toml", 'every = 2\nrestart = "split/checkpoint"')
    comm.barrier()
    whole = run_case(tmp / "case.toml", tmp / "whole", comm)
    assert whole.interrupted is None
    stopped = run_case(tmp / "case.toml", tmp / "split", comm, interrupt_after=5).interrupted
    assert stopped is not None and stopped.checkpoint == tmp / "split" / "checkpoint"
    assert str(stopped).startswith(f"interrupted by SIGINT at t = {stopped.time:.6g} s; checkpoint in ")
    assert len(csv_rows(tmp / "split" / "current.csv")) == 5
    state = json.loads((current_slot(tmp / "split" / "checkpoint") / "state.json").read_text())["state"]
    assert state["step"] == 5 and state["error_history"]["fields"] == 3
    resumed = run_case(tmp / "resume.toml", tmp / "split", comm)
    assert resumed.interrupted is None
    rows, expected = csv_rows(tmp / "split" / "current.csv"), csv_rows(tmp / "whole" / "current.csv")
    assert rows.shape == expected.shape and len(rows) > 20
    difference = relative_difference(rows, expected)
    assert difference < 1e-12, difference
    assert resumed.entries["solver"] == whole.entries["solver"]
    for face, entry in whole.entries["derived"]["poisson"]["faces"].items():
        other = resumed.entries["derived"]["poisson"]["faces"][face]
        for key in ("charge_passed_C", "terminal_current_A", "charge_C"):
            assert other[key] == pytest.approx(entry[key], rel=1e-12), (face, key)
    final = json.loads((current_slot(tmp / "split" / "checkpoint") / "state.json").read_text())["state"]
    assert final["step"] == len(expected)
    assert len(final["extra"]["terminal_currents"]["xmin"]["times"]) == len(expected) + 1
    numbers.record("steps", len(expected))
    numbers.record("charge_passed_C", whole.entries["derived"]["poisson"]["faces"]["xmin"]["charge_passed_C"])
    numbers.record("restart_difference", difference)


def test_resumed_on_another_number_of_ranks(tmp_path_factory, comm):
    """On 2 ranks: the run interrupted after 5 steps on both ranks is resumed on rank 0 alone (the
    checkpoint read through its dof keys, the error history of ln n as fields of the mixed space). Oracle:
    the uninterrupted 2-rank run. The resumed run sums in another order, so it is not bitwise equal; the
    error-controlled steps follow the same estimates up to round-off: the same number of steps, times to
    1e-9 relative, currents and potentials to 1e-9 of each column's largest value (measured 1.1e-12 and
    4.2e-14). On 1 rank (nothing to resume on) it resumes on 1 rank, as the test above."""
    tmp = Path(comm.bcast(str(tmp_path_factory.mktemp("miec_restart_ranks")) if comm.rank == 0 else None))
    if comm.rank == 0:
        _case(tmp, "case.toml")
        _case(tmp, "resume.toml", 'restart = "split/checkpoint"')
    comm.barrier()
    pair = resumed_on_one_rank(tmp, comm, "current.csv")
    if pair is not None:
        rows, expected = pair
        assert rows.shape == expected.shape
        assert np.max(np.abs(rows[:, 0] / expected[:, 0] - 1)) < 1e-9
        difference = relative_difference(rows[:, 1:], expected[:, 1:])
        assert difference < 1e-9, difference


LATER = {"t_end = 1.0e-3": "t_end = 2.0e-3"}


@pytest.mark.parametrize("name, checkpoint, replace, key, words", [
    ("missing", 'restart = "no_such_checkpoint"', LATER, "model.checkpoint.restart", "no_such_checkpoint"),
    ("empty", 'restart = "empty"', LATER, "restart", "a checkpoint directory"),
    ("mesh", 'restart = "out/checkpoint"', LATER | {"cells = [600]": "cells = [500]"}, "restart",
     "a checkpoint of this mesh"),
    ("early", 'restart = "out/checkpoint"', {}, "time.t_end", "after the restart time 0.001 s"),
    ("steady", 'restart = "out/checkpoint"', {}, "model.checkpoint.restart", "[time]"),
])
def test_bad_restarts_refused_by_validate(finished_run, comm, capsys, name, checkpoint, replace, key, words):
    """`femiec validate` refuses a bad ``restart`` with one line naming the key (exit 2, on every rank): a
    missing directory, a directory that is no checkpoint, a checkpoint of another mesh (600 cells written,
    500 read: the problem is built and the checkpoint read), an end time not after the checkpoint's, a
    restart without [time] (the electroneutral model's refusals: tests/verification/test_miec_restart.py).
    The checkpoint: `femiec run` of the case to its end (``finished_run``)."""
    tmp = finished_run
    if comm.rank == 0:
        if name == "steady":
            text = _case(tmp, f"{name}.toml", checkpoint).read_text()
            (tmp / f"{name}.toml").write_text(text.split("[time]")[0])
        else:
            _case(tmp, f"{name}.toml", checkpoint, replace)
    comm.barrier()
    capsys.readouterr()
    assert main(["validate", str(tmp / f"{name}.toml")]) == 2
    if comm.rank == 0:
        assert words in error_line(capsys, key)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A folder (the same on every rank) with the case run to its end into ``out`` and an empty folder."""
    return run_to_end(tmp_path_factory, "miec_restart_refusals", lambda tmp: _case(tmp, "case.toml"))
