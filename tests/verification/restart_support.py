"""The runs of the checkpoint-and-restart tests (not a test module): a case file with a [model.checkpoint]
table, a case run as `femiec run` runs it and interrupted after k steps as by Ctrl-C, the comparison of
the resumed run's time series with the uninterrupted run's, and the finished run that the refusal tests
restart from. Each test keeps its own case, oracle and assertions (tests/verification/test_*restart.py)."""
from __future__ import annotations

import csv
import signal
from pathlib import Path
from typing import NamedTuple

import numpy as np


class CaseRun(NamedTuple):
    """One run of a case: its problem, the summary entries the model's run returned (None when
    interrupted) and the :class:`femiec.errors.Interrupted` raised (None when it ran to its end)."""

    problem: object
    entries: dict | None
    interrupted: Exception | None


def write_case(path: Path, text: str, checkpoint: str | None = "", before: str = "[time]",
               replace: dict | None = None) -> Path:
    """Write the case ``text`` to ``path`` with a ``[model.checkpoint]`` table of the keys ``checkpoint``
    (e.g. ``'every = 2\\nrestart = "split/checkpoint"'``; None: no table) inserted before the table
    ``before``, and the text of each key of ``replace`` (which must occur) replaced by its value. Returns
    ``path``. Call it on one rank."""
    if checkpoint is not None:
        assert before in text, before
        text = text.replace(before, f"[model.checkpoint]\n{checkpoint}\n\n{before}")
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)
    return path


def run_case(path: Path, out: Path, comm=None, interrupt_after: int | None = None, meshdata=None) -> CaseRun:
    """Build the problem of the case file at ``path`` (on ``meshdata`` when given, else on the case's mesh
    built on ``comm``) and run it into ``out`` with its model's runner, as `femiec run` does (without
    summary.json); with ``interrupt_after`` = k, SIGINT is requested (as the signal handler does) after the
    k-th accepted step, and the run stops at that step boundary with its checkpoint."""
    from femiec import interrupt
    from femiec.config import load_case
    from femiec.errors import Interrupted
    from femiec.models import model_spec
    from femiec.runner import build_problem

    case = load_case(path)
    spec = model_spec(case.model.kind)
    problem = build_problem(case, comm)[1] if meshdata is None else spec.build(case, meshdata, meshdata.comm)
    steps = []

    def progress(fraction):
        steps.append(fraction)
        if len(steps) == interrupt_after:
            interrupt.request(signal.SIGINT)

    try:
        return CaseRun(problem, spec.run(case, problem, out, progress), None)
    except Interrupted as exc:
        return CaseRun(problem, None, exc)


def resumed_on_one_rank(folder: Path, comm, series: str, interrupt_after: int = 5):
    """The runs of a rank-change test in ``folder``: case.toml run to its end into ``whole`` and interrupted
    after ``interrupt_after`` steps into ``split`` on ``comm``, then resume.toml (which restarts from
    split/checkpoint) run on rank 0 alone. Returns (resumed rows, uninterrupted rows) of the CSV time series
    ``series`` (e.g. "faces.csv") on rank 0, None on the other ranks. Collective."""
    from mpi4py import MPI

    assert run_case(folder / "case.toml", folder / "whole", comm).interrupted is None
    assert run_case(folder / "case.toml", folder / "split", comm, interrupt_after=interrupt_after).interrupted \
        is not None
    rows = None
    if comm.rank == 0:
        assert run_case(folder / "resume.toml", folder / "split", MPI.COMM_SELF).interrupted is None
        rows = csv_rows(folder / "split" / series), csv_rows(folder / "whole" / series)
    comm.barrier()
    return rows


def csv_rows(path: Path) -> np.ndarray:
    """The rows after the header of the CSV file at ``path``, as floats."""
    rows = list(csv.reader(path.open()))[1:]
    return np.array([[float(x) for x in row] for row in rows])


def relative_difference(a: np.ndarray, b: np.ndarray, axis: int | None = None):
    """The largest difference of the columns of a and b relative to each column's largest |value| of b:
    over all columns (a float), or with ``axis`` = 0 one per column."""
    difference = np.max(np.abs(a - b) / np.maximum(np.abs(b).max(axis=0), 1e-300), axis=axis)
    return float(difference) if axis is None else difference


def error_line(capsys, key: str) -> str:
    """The one stderr line: `error: <key>: ...`, no traceback."""
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"error: {key}: ") and "Traceback" not in err[0], err[0]
    return err[0]


def run_to_end(tmp_path_factory, name: str, write_case_file) -> Path:
    """A new folder ``name`` (the same on every rank of COMM_WORLD) holding an empty folder ``empty`` and the
    case.toml that ``write_case_file(folder)`` writes (called on rank 0), run to its end by `femiec run` into
    ``out`` (with its checkpoint): what the refusal tests restart from."""
    from mpi4py import MPI

    from femiec.cli import main

    comm = MPI.COMM_WORLD
    tmp = Path(comm.bcast(str(tmp_path_factory.mktemp(name)) if comm.rank == 0 else None))
    if comm.rank == 0:
        write_case_file(tmp)
        (tmp / "empty").mkdir()
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    return tmp
