"""Restart files: the local degree-of-freedom arrays of every rank plus a JSON state.

Layout of a checkpoint directory: ``state.json`` (rank 0: the caller's state, the number of ranks and a
partition fingerprint) and ``rank<r>.npz`` (each rank's local arrays, owned and ghost entries). A
checkpoint can only be read back on the same mesh with the same number of ranks and the same partition;
the fingerprint (a hash of every rank's local mesh geometry and dof map) is checked and a mismatch is an
InputError. The state is written last, so a directory without state.json is an incomplete checkpoint.
"""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from femiec.errors import InputError

STATE = "state.json"


def partition_fingerprint(function_space) -> str:
    """Hash of every rank's local geometry and dof map of ``function_space`` (the same on all ranks)."""
    mesh = function_space.mesh
    local = hashlib.sha256()
    local.update(np.ascontiguousarray(mesh.geometry.x).tobytes())
    local.update(np.ascontiguousarray(function_space.dofmap.list).tobytes())
    digests = mesh.comm.allgather(local.hexdigest())
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def write_checkpoint(directory, arrays: dict[str, np.ndarray], state: dict, fingerprint: str, comm) -> Path:
    """Write this rank's ``arrays`` and (rank 0) ``state`` (JSON-serialisable) to ``directory``."""
    directory = Path(directory)
    if comm.rank == 0:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / STATE).unlink(missing_ok=True)
    comm.barrier()
    np.savez(directory / f"rank{comm.rank}.npz", **arrays)
    comm.barrier()
    if comm.rank == 0:
        tmp = directory / (STATE + ".tmp")
        tmp.write_text(json.dumps({"ranks": comm.size, "fingerprint": fingerprint, "state": state}, indent=1))
        os.replace(tmp, directory / STATE)
    comm.barrier()
    return directory


def read_checkpoint(directory, fingerprint: str, comm) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays of this rank, state) of the checkpoint in ``directory``; InputError when it is missing,
    incomplete, or was written with another number of ranks or another partition."""
    directory = Path(directory)
    path = directory / STATE
    if not path.is_file():
        raise InputError("restart", str(directory), f"a checkpoint directory with {STATE}")
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError("restart", str(path), f"a readable checkpoint state ({exc})") from None
    if meta["ranks"] != comm.size:
        raise InputError("restart", str(directory), f"a checkpoint written on {comm.size} ranks (it has {meta['ranks']})")
    if meta["fingerprint"] != fingerprint:
        raise InputError("restart", str(directory), "a checkpoint of the same mesh and partition")
    arrays = _read_arrays(directory / f"rank{comm.rank}.npz")
    failed = comm.allgather(isinstance(arrays, str))
    if any(failed):
        reason = comm.bcast(arrays if isinstance(arrays, str) else None, root=failed.index(True))
        raise InputError("restart", str(directory), f"a complete checkpoint ({reason})")
    return arrays, meta["state"]


def _read_arrays(path: Path) -> dict[str, np.ndarray] | str:
    """The arrays of one rank's file, or why they cannot be read (a truncated or corrupt file)."""
    try:
        with np.load(path) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        return f"{path.name}: {exc}"
