"""Join the VTX time series of a restarted run to the series it continues (``<name>.bp`` + ``<name>_part<k>.bp``).

DOLFINx 0.9's VTXWriter opens its ADIOS2 engine in write mode only, so a restarted run writes its fields to
a numbered series beside the earlier one (:mod:`femiec.io.fields`). When the continuation closes,
:func:`join_series` copies, step by step and variable by variable, the earlier series and then each
continuation into one new series, and puts it in place of ``<name>.bp``; the continuations are removed.
A later series supersedes an earlier one from its first time on: steps of the earlier series at or after
that time (written after the checkpoint the run restarted from, by a run that was then killed) are
dropped, so the joined series has increasing times and no step twice.

Rank 0 copies every writer block of every variable (VTX writes one block per rank) with the serial ADIOS2
Python bindings (the ones Debian's python3-adios2 has), so the join does not depend on the number of ranks.
The earlier ``<name>.bp`` is replaced only after the joined series is complete and closed (rename to
``.replaced``, rename into place, delete): a run killed while joining leaves every step in the files it
had.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

#: ADIOS2 type names -> NumPy dtypes (the ones VTX writes, and float32/int32 for completeness)
_DTYPES = {"double": np.float64, "float": np.float32, "int64_t": np.int64, "int32_t": np.int32,
           "uint64_t": np.uint64, "uint32_t": np.uint32, "uint8_t": np.uint8, "int8_t": np.int8}


def continuation_parts(directory: Path, name: str) -> list[Path]:
    """The continuation series ``<name>_part<k>.bp`` in ``directory``, in the order k = 2, 3, ... (stops
    at the first k that does not exist)."""
    parts, k = [], 2
    while (directory / f"{name}_part{k}.bp").is_dir():
        parts.append(directory / f"{name}_part{k}.bp")
        k += 1
    return parts


def series_times(path: Path) -> list[float]:
    """The time (VTX variable ``step``) of every step of a VTX series [s] (read by this process alone)."""
    from adios2 import bindings

    adios = bindings.ADIOS()  # must outlive its IO and engine
    io = adios.DeclareIO("femiec_times")
    io.SetEngine("BP4")
    reader = io.Open(str(path), bindings.Mode.Read)
    times = []
    while reader.BeginStep() == bindings.StepStatus.OK:
        value = np.zeros(1)
        reader.Get(io.InquireVariable("step"), value, bindings.Mode.Sync)
        times.append(float(value[0]))
        reader.EndStep()
    reader.Close()
    return times


def kept_steps(times: list[list[float]]) -> list[list[int]]:
    """For each series (earliest first), the indices of its steps that are kept: those before the first
    time of every later non-empty series."""
    kept = []
    for i, series in enumerate(times):
        later = [s[0] for s in times[i + 1:] if s]
        limit = min(later) if later else np.inf
        kept.append([k for k, t in enumerate(series) if t < limit])
    return kept


def join_series(target: Path, parts: list[Path], comm) -> None:
    """Replace the VTX series ``target`` by it joined with the continuations ``parts`` (in order) and
    remove the parts (rank 0 does the work; a collective call)."""
    if parts and comm.rank == 0:
        series = [target, *parts]
        joined = target.with_name(target.name + ".joining")
        _copy_steps(series, kept_steps([series_times(path) for path in series]), joined)
        replaced = target.with_name(target.name + ".replaced")
        target.rename(replaced)
        joined.rename(target)
        shutil.rmtree(replaced)
        for part in parts:
            shutil.rmtree(part)
    comm.barrier()


def _copy_steps(series: list[Path], kept: list[list[int]], out: Path) -> None:
    """Write the kept steps of every series, in order, to the new series ``out`` (every writer block)."""
    from adios2 import bindings

    adios = bindings.ADIOS()
    wio = adios.DeclareIO("femiec_join_out")
    wio.SetEngine("BP4")
    if out.exists():  # left by a join that was killed
        shutil.rmtree(out)
    writer = wio.Open(str(out), bindings.Mode.Write)
    defined: dict[str, object] = {}
    for index, (path, steps) in enumerate(zip(series, kept)):
        rio = adios.DeclareIO(f"femiec_join_in{index}")
        rio.SetEngine("BP4")
        reader = rio.Open(str(path), bindings.Mode.Read)
        if index == 0:
            for name in rio.AvailableAttributes():
                wio.DefineAttribute(name, rio.InquireAttribute(name).DataString()[0])
        step = 0
        while reader.BeginStep() == bindings.StepStatus.OK:
            if step in steps:
                writer.BeginStep()
                for name, info in rio.AvailableVariables().items():
                    _copy_variable(rio, reader, wio, writer, defined, name, info)
                writer.EndStep()
            reader.EndStep()
            step += 1
        reader.Close()
    writer.Close()


def _copy_variable(rio, reader, wio, writer, defined: dict, name: str, info: dict) -> None:
    """Copy every block of variable ``name`` of the reader's current step into the writer's step."""
    from adios2 import bindings

    dtype = _DTYPES[info["Type"]]
    variable = rio.InquireVariable(name)
    if info["SingleValue"] == "true":
        # one global value (step, types: shape "") or one value per writer block (shape: the block count)
        values = np.zeros(int(info["Shape"] or 1), dtype=dtype)
        reader.Get(variable, values, bindings.Mode.Sync)
        if name not in defined:
            shape = [bindings.LocalValueDim] if info["Shape"] else []
            defined[name] = wio.DefineVariable(name, values[:1], shape, [], [], False)
        for value in values:
            writer.Put(defined[name], np.array([value]), bindings.Mode.Sync)
        return
    for block in range(len(reader.BlocksInfo(name, reader.CurrentStep()))):
        variable.SetBlockSelection(block)
        count = [int(c) for c in variable.Count()]
        data = np.zeros(count, dtype=dtype)
        if data.size:
            reader.Get(variable, data, bindings.Mode.Sync)
        if name not in defined:
            defined[name] = wio.DefineVariable(name, data, [], [], count, False)
        defined[name].SetSelection([[], count])
        writer.Put(defined[name], data, bindings.Mode.Sync)
