"""Checkpoints and exact restarts of the electroneutral MIEC transient (``mixed_conductor`` with the default
``electrostatics = "electroneutral"``, [time] and ``[model.checkpoint]``): the membrane of
tests/verification/test_miec_case.py (c) (miec_support.MEMBRANE), from uniform equilibrium at 1e-17 Pa
to permeation between a fixed 1e-16 Pa and a surface exchange at 1e-18 Pa (1 mm, 20 cells), BDF2 steps
grown on Newton counts or by the local error of the mean ln n (1e-3).

Oracle: the uninterrupted run. A run resumed from a checkpoint takes the same steps from the same state
(u and psi_el now, u at the two steps before, the last step, the stepper's schedule, the error
controller's history, the faces.csv rows and the output times still ahead), so on the same partition it
repeats the uninterrupted run's floating-point operations: every row of faces.csv (time, O2 fluxes,
currents) and the summary's face entries are equal (asserted to 1e-12 relative). Tests marked mpi also run
on 2 ranks, and there a run interrupted on 2 ranks is resumed on 1.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from femiec.cli import main
from femiec.constants import FARADAY

from miec_support import MEMBRANE
from restart_support import (csv_rows, error_line, relative_difference, resumed_on_one_rank, run_case, run_to_end,
                             write_case)

pytestmark = pytest.mark.mpi

CASE = MEMBRANE + """
[time]
t_end = 2.0e3
dt = 10.0
outputs = 3
"""

#: the local-error control of the mean ln n
ERROR_CONTROL = {"outputs = 3": "outputs = 3\nerror_tolerance = 1.0e-3"}


def _case(directory: Path, name: str, checkpoint: str | None = "", replace: dict | None = None) -> Path:
    """The case of the module docstring with ``[model.checkpoint]`` keys ``checkpoint`` (None: no table; the
    text of each key of ``replace`` replaced by its value); written by rank 0."""
    return write_case(directory / name, CASE, checkpoint, replace=replace)


@pytest.mark.parametrize("control", ["newton", "error"])
def test_interrupted_and_resumed_equals_the_uninterrupted_run(tmp_path_factory, comm, numbers, control):
    """Stopped by SIGINT after 5 accepted steps (every = 2: checkpoints at steps 2 and 4, and 5 on the way
    out; the Interrupted error names the checkpoint), the run keeps faces.csv of its 5 steps. The case with
    ``restart`` continues it into the same directory: faces.csv runs from the first step to t_end with the
    uninterrupted run's rows (times, O2 fluxes and currents of both faces equal to 1e-12 relative to each
    column's largest value), the same number of steps and face entries of the summary (1e-12), the final
    checkpoint at the last step with every row."""
    from femiec.io.checkpoint import current_slot

    replace = ERROR_CONTROL if control == "error" else {}
    tmp = Path(comm.bcast(str(tmp_path_factory.mktemp("miec_en_restart")) if comm.rank == 0 else None))
    if comm.rank == 0:
        _case(tmp, "case.toml", "every = 2", replace)
        _case(tmp, "resume.toml", 'every = 2\nrestart = "split/checkpoint"', replace)
    comm.barrier()
    whole = run_case(tmp / "case.toml", tmp / "whole", comm)
    assert whole.interrupted is None
    stopped = run_case(tmp / "case.toml", tmp / "split", comm, interrupt_after=5).interrupted
    assert stopped is not None and stopped.checkpoint == tmp / "split" / "checkpoint"
    assert str(stopped).startswith(f"interrupted by SIGINT at t = {stopped.time:.6g} s; checkpoint in ")
    assert len(csv_rows(tmp / "split" / "faces.csv")) == 5
    state = json.loads((current_slot(tmp / "split" / "checkpoint") / "state.json").read_text())["state"]
    assert state["step"] == 5 and len(state["extra"]["face_rows"]) == 5
    assert (state["error_history"] is not None) == (control == "error")
    resumed = run_case(tmp / "resume.toml", tmp / "split", comm)
    assert resumed.interrupted is None
    rows, expected = csv_rows(tmp / "split" / "faces.csv"), csv_rows(tmp / "whole" / "faces.csv")
    assert rows.shape == expected.shape and len(rows) > 8
    difference = relative_difference(rows, expected)
    assert difference < 1e-12, difference
    assert resumed.entries["solver"] == whole.entries["solver"] == {"steps": len(expected)}
    for face, entry in whole.entries["derived"]["faces"].items():
        for key, value in entry.items():
            assert resumed.entries["derived"]["faces"][face][key] == pytest.approx(value, rel=1e-12), (face, key)
    final = json.loads((current_slot(tmp / "split" / "checkpoint") / "state.json").read_text())["state"]
    assert final["step"] == len(expected) and len(final["extra"]["face_rows"]) == len(expected)
    numbers.record("steps", len(expected))
    numbers.record("oxygen_flux_xmax_mol_s", whole.entries["derived"]["faces"]["xmax"]["oxygen_flux_mol_s"])
    numbers.record("restart_difference", difference)


def test_resumed_on_another_number_of_ranks(tmp_path_factory, comm):
    """On 2 ranks: the error-controlled run interrupted after 5 steps on both ranks is resumed on rank 0
    alone (the checkpoint read through its dof keys). Oracle: the uninterrupted 2-rank run. The resumed run
    sums in another order, so it is not bitwise equal: the same number of steps, times to 1e-9 relative,
    O2 fluxes to 1e-9 of each column's largest value, currents to 1e-9 of the ionic current 4F j_O2 of the
    largest flux (the contacts' currents are round-off about 0 at open circuit, 1e-14 A against 11 A: no
    column scale of their own). On 1 rank it resumes on 1 rank."""
    tmp = Path(comm.bcast(str(tmp_path_factory.mktemp("miec_en_restart_ranks")) if comm.rank == 0 else None))
    if comm.rank == 0:
        _case(tmp, "case.toml", "", ERROR_CONTROL)
        _case(tmp, "resume.toml", 'restart = "split/checkpoint"', ERROR_CONTROL)
    comm.barrier()
    pair = resumed_on_one_rank(tmp, comm, "faces.csv")
    if pair is not None:
        rows, expected = pair
        assert rows.shape == expected.shape
        assert np.max(np.abs(rows[:, 0] / expected[:, 0] - 1)) < 1e-9
        fluxes, currents = rows[:, 1::2], rows[:, 2::2]
        assert relative_difference(fluxes, expected[:, 1::2]) < 1e-9, relative_difference(fluxes, expected[:, 1::2])
        scale = 4 * FARADAY * np.abs(expected[:, 1::2]).max()  # the ionic current [A] of the largest flux
        assert np.abs(currents - expected[:, 2::2]).max() < 1e-9 * scale


LATER = {"t_end = 2.0e3": "t_end = 4.0e3"}


@pytest.mark.parametrize("name, checkpoint, replace, key, words", [
    ("missing", 'restart = "no_such_checkpoint"', LATER, "model.checkpoint.restart", "no_such_checkpoint"),
    ("empty", 'restart = "empty"', LATER, "restart", "a checkpoint directory"),
    ("mesh", 'restart = "out/checkpoint"', LATER | {"cells = [20]": "cells = [16]"}, "restart",
     "a checkpoint of this mesh"),
    ("early", 'restart = "out/checkpoint"', {}, "time.t_end", "after the restart time 2000 s"),
    ("steady", 'restart = "out/checkpoint"', {}, "model.checkpoint.restart", "[time]"),
    ("steady_every", "every = 2", {}, "model.checkpoint", "[time]"),
])
def test_bad_restarts_refused_by_validate(finished_run, comm, capsys, name, checkpoint, replace, key, words):
    """`femiec validate` refuses a bad ``restart`` with one line naming the key (exit 2, on every rank): a
    missing directory, a directory that is no checkpoint, a checkpoint of another mesh (20 cells written,
    16 read: the problem is built and the checkpoint read), an end time not after the checkpoint's, a
    restart without [time]; and [model.checkpoint] in a steady case (which writes none). The checkpoint:
    `femiec run` of the case to its end (``finished_run``)."""
    tmp = finished_run
    if comm.rank == 0:
        text = _case(tmp, f"{name}.toml", checkpoint, replace).read_text()
        if name.startswith("steady"):
            (tmp / f"{name}.toml").write_text(text.split("[time]")[0])
    comm.barrier()
    capsys.readouterr()
    assert main(["validate", str(tmp / f"{name}.toml")]) == 2
    if comm.rank == 0:
        assert words in error_line(capsys, key)


def test_checkpoint_accepted_with_time(finished_run, comm):
    """[model.checkpoint] with [time] passes `femiec validate`; the finished run wrote its checkpoint."""
    from femiec.io.checkpoint import read_state

    tmp = finished_run
    if comm.rank == 0:
        _case(tmp, "every.toml", "every = 2")
    comm.barrier()
    assert main(["validate", str(tmp / "every.toml")]) == 0
    assert read_state(tmp / "out" / "checkpoint")["time"] == pytest.approx(2.0e3)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A folder (the same on every rank) with the case run to its end into ``out`` and an empty folder."""
    return run_to_end(tmp_path_factory, "miec_en_restart_refusals", lambda tmp: _case(tmp, "case.toml", None))
