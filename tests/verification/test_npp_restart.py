"""Checkpoints and exact restarts of a transient Nernst–Planck–Poisson case (demos/electrode_slab: a 3D
slab, galvanostatic Butler–Volmer anode with a Stern layer, BDF2 with adaptive steps)."""
from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest

from femiec.cli import main

from restart_support import csv_rows, error_line, relative_difference, run_case, write_case

DEMO = Path(__file__).resolve().parents[2] / "demos" / "electrode_slab" / "case.toml"


def _case(directory: Path, name: str = "case.toml", checkpoint: str = "", time: str = "") -> Path:
    """The demo case with ``[model.checkpoint]`` keys ``checkpoint`` and extra ``[time]`` keys ``time``."""
    return write_case(directory / name, DEMO.read_text(), checkpoint, before="[solver]",
                      replace={"outputs = 5": f"outputs = 5\n{time}"})


@pytest.mark.mpi
@pytest.mark.parametrize("stepping", ["iterations", "error_tolerance"])
def test_npp_run_interrupted_and_resumed_equals_the_uninterrupted_run(tmp_path_factory, comm, numbers, stepping):
    """Oracle: the uninterrupted run. Stopped by SIGINT after 4 accepted steps, the run writes current.csv
    (t = 0 and 4 steps) and its checkpoint (the unknowns now and at the two steps before, the anode's
    potential the galvanostatic secant starts from, the last step of BDF2's step ratio, the stepper's
    schedule, with ``error_tolerance`` the controller's history, the current.csv rows). Restarted from it
    (``restart`` relative to the case file), it takes the same steps: every time, current and potential of
    current.csv and the final unknowns equal the uninterrupted run's to 1e-10 (measured: 0, the same
    floating-point operations). With every = 2 the checkpoint's other slot holds step 2; the step numbers
    of the records continue; the continuation's fields are joined to the first run's series (no ``_part2`` left).
    The resumed run uses the same mesh: on another partition the checkpoint is read through its dof keys
    (tests/unit/test_io_checkpoint.py), but round-off of the new partition moves error-controlled steps by
    ~3e-10, above this test's 1e-10."""
    from femiec.config import load_case
    from femiec.io.checkpoint import SLOTS, current_slot
    from femiec.runner import build_mesh

    tmp = Path(comm.bcast(str(tmp_path_factory.mktemp("restart")) if comm.rank == 0 else None))
    time = "error_tolerance = 1e-4" if stepping == "error_tolerance" else ""
    if comm.rank == 0:
        _case(tmp, checkpoint="every = 2", time=time)
        _case(tmp, "resume.toml", checkpoint='every = 2\nrestart = "split/checkpoint"', time=time)
    comm.barrier()
    meshdata = build_mesh(load_case(tmp / "case.toml").mesh, comm)
    whole_run = run_case(tmp / "case.toml", tmp / "whole", meshdata=meshdata)
    assert whole_run.interrupted is None
    stopped = run_case(tmp / "case.toml", tmp / "split", meshdata=meshdata, interrupt_after=4).interrupted
    assert stopped is not None and stopped.signum == signal.SIGINT
    assert stopped.checkpoint == tmp / "split" / "checkpoint"
    assert str(stopped).startswith(f"interrupted by SIGINT at t = {stopped.time:.6g} s; checkpoint in ")
    assert len(csv_rows(tmp / "split" / "current.csv")) == 5
    slot = current_slot(tmp / "split" / "checkpoint")
    other = slot.parent / SLOTS[1 - SLOTS.index(slot.name)]
    assert json.loads((slot / "state.json").read_text())["state"]["step"] == 4
    assert json.loads((other / "state.json").read_text())["state"]["step"] == 2
    resumed_run = run_case(tmp / "resume.toml", tmp / "split", meshdata=meshdata)
    assert resumed_run.interrupted is None
    whole_problem, resumed_problem = whole_run.problem, resumed_run.problem
    whole, resumed = csv_rows(tmp / "whole" / "current.csv"), csv_rows(tmp / "split" / "current.csv")
    numbers.record("steps", len(whole) - 1)
    numbers.record("potentials", whole[:, 2])
    numbers.record("currents", whole[:, 1])
    assert len(whole) > 6 and resumed.shape == whole.shape
    assert relative_difference(resumed, whole, axis=0) == pytest.approx([0, 0, 0], abs=1e-10)
    fields = np.max(np.abs(_by_key(resumed_problem.u, comm) - _by_key(whole_problem.u, comm)))
    assert fields < 1e-10  # dimensionless unknowns ln(c / c_ref), phi / V_T
    assert [r["step"] for r in resumed_problem.records] == [r["step"] for r in whole_problem.records]
    assert [r["dt"] for r in resumed_problem.records] == pytest.approx([r["dt"] for r in whole_problem.records],
                                                                       rel=1e-12)
    assert (tmp / "split" / "potential.bp").is_dir() and not (tmp / "split" / "potential_part2.bp").exists()
    final = json.loads((current_slot(tmp / "split" / "checkpoint") / "state.json").read_text())["state"]
    assert final["step"] == len(whole) - 1 and len(final["extra"]["current_rows"]) == len(whole)


def _by_key(u, comm) -> np.ndarray:
    """The owned values of ``u`` of every rank, ordered by their dof keys (sub-space, component, x, y, z):
    comparable between partitions."""
    from femiec.io.checkpoint import dof_keys

    owned = u.function_space.dofmap.index_map.size_local * u.function_space.dofmap.index_map_bs
    keys = np.concatenate(comm.allgather(np.round(dof_keys(u.function_space)[:owned], 12)))
    values = np.concatenate(comm.allgather(u.x.array[:owned]))
    return values[np.lexsort(keys.T[::-1])]


def test_npp_restart_through_the_command_line_and_its_refusals(tmp_path, capsys):
    """`femiec run` of the case to t = 2e-7 s writes its checkpoint at the end (every = 0); a case with
    ``restart`` and t_end = 5e-7 s continues it into the same directory: current.csv runs from t = 0 to
    5e-7 s without a repeated row, summary.json's step numbers continue, the continuation's fields are
    joined to the earlier series. Refused with one line: a restart without [time] (a steady case), an end time not after
    the restart time, a missing directory, a directory that is no checkpoint, and (run) a checkpoint whose
    rank file is cut in half."""
    from femiec.io.checkpoint import current_slot

    out = tmp_path / "out"
    first = _case(tmp_path, "first.toml", time="").read_text().replace("t_end = 5.0e-7", "t_end = 2.0e-7")
    (tmp_path / "first.toml").write_text(first)
    assert main(["-q", "run", str(tmp_path / "first.toml"), "--out", str(out)]) == 0
    rows_first = csv_rows(out / "current.csv")
    assert rows_first[-1, 0] == pytest.approx(2.0e-7, rel=1e-12)
    _case(tmp_path, "resume.toml", checkpoint='restart = "out/checkpoint"')
    assert main(["-q", "run", str(tmp_path / "resume.toml"), "--out", str(out)]) == 0
    rows = csv_rows(out / "current.csv")
    assert np.array_equal(rows[: len(rows_first)], rows_first)
    assert rows[-1, 0] == pytest.approx(5.0e-7, rel=1e-12) and np.all(np.diff(rows[:, 0]) > 0)
    assert rows[-1, 1] == pytest.approx(2.0e-15, rel=1e-8)
    summary = json.loads((out / "summary.json").read_text())
    steps = [r["step"] for r in summary["solver"]["records"]]
    assert steps == list(range(1, len(rows)))
    assert summary["files"]["checkpoint"] == "checkpoint"
    assert (out / "potential.bp").is_dir() and not (out / "potential_part2.bp").exists()

    steady = _case(tmp_path, "steady.toml", checkpoint='restart = "out/checkpoint"').read_text()
    (tmp_path / "steady.toml").write_text(steady.split("[time]")[0])
    assert main(["validate", str(tmp_path / "steady.toml")]) == 2
    assert "[time]" in error_line(capsys, "model.checkpoint.restart")
    _case(tmp_path, "early.toml", checkpoint='restart = "out/checkpoint"')
    (tmp_path / "early.toml").write_text((tmp_path / "early.toml").read_text().replace("t_end = 5.0e-7",
                                                                                        "t_end = 4.0e-7"))
    assert main(["validate", str(tmp_path / "early.toml")]) == 2
    assert "after the restart time 5e-07 s" in error_line(capsys, "time.t_end")
    _case(tmp_path, "missing.toml", checkpoint='restart = "no_such_checkpoint"')
    assert main(["validate", str(tmp_path / "missing.toml")]) == 2
    assert "no_such_checkpoint" in error_line(capsys, "model.checkpoint.restart")
    (tmp_path / "empty").mkdir()
    _case(tmp_path, "empty.toml", checkpoint='restart = "empty"')
    assert main(["validate", str(tmp_path / "empty.toml")]) == 2
    assert "a checkpoint directory" in error_line(capsys, "restart")

    rank0 = current_slot(out / "checkpoint") / "rank0.npz"
    rank0.write_bytes(rank0.read_bytes()[: rank0.stat().st_size // 2])
    text = (tmp_path / "resume.toml").read_text().replace("t_end = 5.0e-7", "t_end = 6.0e-7")
    (tmp_path / "resume.toml").write_text(text)
    assert main(["run", str(tmp_path / "resume.toml"), "--out", str(tmp_path / "again")]) == 2
    assert "a complete checkpoint" in error_line(capsys, "restart")
