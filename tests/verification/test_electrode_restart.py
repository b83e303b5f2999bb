"""Exact restarts of the electrode model through its case-file runner (demos/nmc_electrode/case_12.toml on
an 8^3 crop, a 1C discharge to the 3.4 V cut-off with adaptive steps, field snapshots and a checkpoint
every 2 steps)."""
from __future__ import annotations

import csv
import signal
from pathlib import Path

import numpy as np
import pytest

from restart_support import run_case

DEMO = Path(__file__).resolve().parents[2] / "demos" / "nmc_electrode" / "case_12.toml"
IMAGE = DEMO.parents[2].parent / "shared" / "data" / "nmc_electrode_256.tiff"
pytestmark = pytest.mark.skipif(not IMAGE.is_file(), reason=f"{IMAGE} not found")


def _case(directory: Path, restart: Path | None = None) -> Path:
    """The demo case on an 8^3 crop with a checkpoint every 2 steps (restarting from ``restart``), stepped
    by Newton counts with backward Euler: a restart starts the error history and BDF2 afresh, so only
    this stepping resumes step for step (docs/electrode.md, "Time stepping")."""
    text = DEMO.read_text().replace("crop = [[0, 12], [0, 12], [0, 12]]", "crop = [[0, 8], [0, 8], [0, 8]]")
    text = text.replace("[model.discharge]\n", '[model.discharge]\nscheme = "bdf1"\nerror_tolerance = false\n'
                        "dense_output = false\n")
    text = text.replace("every = 10 ", "every = 2 ")
    text = text.replace('file = "../../../shared/data', f'file = "{IMAGE.parent}')
    if restart is not None:
        text = text.replace("every = 2 ", f'every = 2\nrestart = "{restart}" ')
    path = directory / ("resume.toml" if restart else "case.toml")
    path.write_text(text)
    return path


def _rows(path: Path) -> np.ndarray:
    rows = list(csv.DictReader(path.open()))
    return np.array([[float(r[k]) for k in ("time_s", "voltage_V", "capacity_Ah")] for r in rows])


@pytest.mark.mpi
def test_electrode_run_interrupted_and_resumed_equals_the_uninterrupted_run(tmp_path_factory, comm, numbers):
    """Oracle: the uninterrupted run. A run stopped by SIGINT after 3 accepted steps writes its checkpoint
    and voltage.csv (4 states); restarted from that checkpoint into the same output directory, it takes
    the same steps (the checkpoint holds the step the controller wanted next, the step bounds and the
    output times still ahead), so times, voltages and capacities of the whole curve equal those of the
    uninterrupted run to 1e-10 (s, V, A h). With every = 2 the checkpoint's other slot holds step 2 (the
    checkpoints after steps 2, 4, ...). The continuation's fields are joined to the first run's series: one
    ``concentration_solid.bp`` with the uninterrupted run's output times and values (to 1e-10) and the
    state at the interrupt, no ``_part2`` left."""
    import json

    from femiec.io.checkpoint import SLOTS, current_slot

    tmp = Path(comm.bcast(str(tmp_path_factory.mktemp("restart")) if comm.rank == 0 else None))
    if comm.rank == 0:
        _case(tmp)
        _case(tmp, restart=tmp / "split" / "checkpoint")
    comm.barrier()
    assert run_case(tmp / "case.toml", tmp / "whole", comm).interrupted is None
    stopped = run_case(tmp / "case.toml", tmp / "split", comm, interrupt_after=3).interrupted
    assert stopped is not None and stopped.signum == signal.SIGINT
    assert stopped.checkpoint == tmp / "split" / "checkpoint"
    assert str(stopped).startswith(f"interrupted by SIGINT at t = {stopped.time:.6g} s; checkpoint in ")
    assert len(_rows(tmp / "split" / "voltage.csv")) == 4
    slot = current_slot(tmp / "split" / "checkpoint")
    other = slot.parent / SLOTS[1 - SLOTS.index(slot.name)]
    assert json.loads((slot / "state.json").read_text())["state"]["step"] == 3
    assert json.loads((other / "state.json").read_text())["state"]["step"] == 2
    assert run_case(tmp / "resume.toml", tmp / "split", comm).interrupted is None
    whole, resumed = _rows(tmp / "whole" / "voltage.csv"), _rows(tmp / "split" / "voltage.csv")
    numbers.record("steps", len(whole) - 1)
    numbers.record("voltages", whole[:, 1])
    numbers.record("capacity_Ah", whole[-1, 2])
    assert len(whole) > 6 and resumed.shape == whole.shape
    assert np.max(np.abs(resumed - whole), axis=0) == pytest.approx([0, 0, 0], abs=1e-10)
    assert not (tmp / "split" / "concentration_solid_part2.bp").exists()
    if comm.rank == 0:
        series = [_vtx_steps(tmp / run / "concentration_solid.bp", "concentration_solid") for run in ("whole", "split")]
        whole, split = series[0], [step for step in series[1] if step[0] != stopped.time]
        assert len(split) == len(series[1]) - 1 and len(whole) >= 3
        assert np.allclose([t for t, _ in split], [t for t, _ in whole], rtol=1e-10, atol=0)
        assert max(np.max(np.abs(a - b)) for (_, a), (_, b) in zip(split, whole)) < 1e-10 * np.max(whole[0][1])


def _vtx_steps(path: Path, name: str) -> list[tuple[float, np.ndarray]]:
    """(time, values of every writer block concatenated) of each step of a VTX series."""
    from adios2 import bindings

    adios = bindings.ADIOS()
    io = adios.DeclareIO("test")
    reader = io.Open(str(path), bindings.Mode.Read)
    steps = []
    while reader.BeginStep() == bindings.StepStatus.OK:
        time = np.zeros(1)
        reader.Get(io.InquireVariable("step"), time, bindings.Mode.Sync)
        variable, blocks = io.InquireVariable(name), []
        for block in range(len(reader.BlocksInfo(name, reader.CurrentStep()))):
            variable.SetBlockSelection(block)
            data = np.zeros([int(c) for c in variable.Count()])
            reader.Get(variable, data, bindings.Mode.Sync)
            blocks.append(data.ravel())
        steps.append((float(time[0]), np.concatenate(blocks)))
        reader.EndStep()
    reader.Close()
    return steps
