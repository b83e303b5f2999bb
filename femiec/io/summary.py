"""summary.json: the record of a run, written last so a failed run never looks complete.

``begin_output(directory, comm)`` moves the outputs of earlier runs in the checked, locked directory
(summary.json among them) into ``previous/`` before a run starts (:mod:`femiec.io.output_dir`);
``write_summary(directory, data, comm)`` writes it atomically (temporary file + rename) on rank 0.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

SUMMARY = "summary.json"


def _jsonable(value):
    """Convert NumPy scalars/arrays and non-finite floats (written as null) for JSON."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def begin_output(directory: Path | str, comm, keep_previous: bool = False) -> Path:
    """Move the outputs of earlier runs in ``directory`` (already checked and locked:
    :mod:`femiec.io.output_dir`), summary.json among them, to ``previous/<time stamp>/`` (not with
    ``keep_previous``: a restarted run continues them; an old summary.json is still removed)."""
    from femiec.io.output_dir import move_previous_outputs

    directory = Path(directory)
    if not keep_previous:
        move_previous_outputs(directory, comm)
    elif comm.rank == 0:
        (directory / SUMMARY).unlink(missing_ok=True)
    comm.barrier()
    return directory


def write_summary(directory: Path | str, data: dict, comm) -> Path:
    """Write ``data`` as ``directory/summary.json`` atomically on rank 0; returns the path."""
    path = Path(directory) / SUMMARY
    if comm.rank == 0:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(_jsonable(data), indent=2, allow_nan=False) + "\n")
        os.replace(tmp, path)
    comm.barrier()
    return path
