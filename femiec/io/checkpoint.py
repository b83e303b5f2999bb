"""Restart files: the local degree-of-freedom arrays of every rank plus a JSON state, in two slots.

Layout of a checkpoint directory: two slot directories ``slot0/`` and ``slot1/``, and ``current``, a one-line
file naming the slot that holds the last complete checkpoint. A slot holds ``state.json`` (rank 0: the
caller's state, the number of ranks and a partition fingerprint) and ``rank<r>.npz`` (each rank's local
arrays, owned and ghost entries). A new checkpoint is written into the other slot (emptied first); only
after every rank has written and flushed its file and rank 0 its state is ``current`` switched to it by an
atomic rename, so a run killed while writing leaves the previous checkpoint readable. (A directory holding
``state.json`` itself, the one-slot layout of earlier versions, is read too.)

A checkpoint can only be read back on the same mesh with the same number of ranks and the same partition;
the fingerprint (a hash of every rank's local mesh geometry and dof map) is checked and a mismatch is an
InputError, as is a missing or unreadable file.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np

from femiec.errors import InputError

STATE = "state.json"
POINTER = "current"
SLOTS = ("slot0", "slot1")


def partition_fingerprint(function_space) -> str:
    """Hash of every rank's local geometry and dof map of ``function_space`` (the same on all ranks)."""
    mesh = function_space.mesh
    local = hashlib.sha256()
    local.update(np.ascontiguousarray(mesh.geometry.x).tobytes())
    local.update(np.ascontiguousarray(function_space.dofmap.list).tobytes())
    digests = mesh.comm.allgather(local.hexdigest())
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def current_slot(directory) -> Path | None:
    """The slot directory ``current`` names, the directory itself for the one-slot layout, or None."""
    directory = Path(directory)
    pointer = directory / POINTER
    if pointer.is_file():
        name = pointer.read_text().strip()
        return directory / name if name in SLOTS else None
    return directory if (directory / STATE).is_file() else None


def _write_durably(path: Path, write) -> None:
    """``write(file)`` into ``path`` and flush it to the disk."""
    with path.open("wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def write_checkpoint(directory, arrays: dict[str, np.ndarray], state: dict, fingerprint: str, comm) -> Path:
    """Write this rank's ``arrays`` and (rank 0) ``state`` (JSON-serialisable) into the free slot of
    ``directory`` and switch ``current`` to it once all ranks are done; returns the slot directory."""
    directory = Path(directory)
    slot = None
    if comm.rank == 0:
        directory.mkdir(parents=True, exist_ok=True)
        previous = current_slot(directory)
        slot = SLOTS[1] if previous is not None and previous.name == SLOTS[0] else SLOTS[0]
        shutil.rmtree(directory / slot, ignore_errors=True)
        (directory / slot).mkdir()
    target = directory / comm.bcast(slot, root=0)
    _write_durably(target / f"rank{comm.rank}.npz", lambda f: np.savez(f, **arrays))
    comm.barrier()
    if comm.rank == 0:
        meta = json.dumps({"ranks": comm.size, "fingerprint": fingerprint, "state": state}, indent=1)
        _write_durably(target / STATE, lambda f: f.write(meta.encode()))
        tmp = directory / (POINTER + ".tmp")
        _write_durably(tmp, lambda f: f.write(f"{target.name}\n".encode()))
        os.replace(tmp, directory / POINTER)
    comm.barrier()
    return target


def read_checkpoint(directory, fingerprint: str, comm) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays of this rank, state) of the last complete checkpoint in ``directory``; InputError (on every
    rank) when it is missing, unreadable, or was written with another number of ranks or partition."""
    directory = Path(directory)
    slot = current_slot(directory)
    if slot is None or not (slot / STATE).is_file():
        raise InputError("restart", str(directory), f"a checkpoint directory with {POINTER} or {STATE}")
    try:
        meta = json.loads((slot / STATE).read_text())
    except (OSError, ValueError) as exc:
        raise InputError("restart", str(directory), f"a readable {STATE} ({exc})") from None
    if meta["ranks"] != comm.size:
        raise InputError("restart", str(directory), f"a checkpoint written on {comm.size} ranks (it has {meta['ranks']})")
    if meta["fingerprint"] != fingerprint:
        raise InputError("restart", str(directory), "a checkpoint of the same mesh and partition")
    arrays = _read_arrays(slot / f"rank{comm.rank}.npz")
    failed = comm.allgather(isinstance(arrays, str))
    if any(failed):
        reason = comm.bcast(arrays if isinstance(arrays, str) else None, root=failed.index(True))
        raise InputError("restart", str(slot), f"a complete checkpoint ({reason})")
    return arrays, meta["state"]


def _read_arrays(path: Path) -> dict[str, np.ndarray] | str:
    """The arrays of one rank's file, or why they cannot be read (a truncated or corrupt file)."""
    try:
        with np.load(path) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        return f"{path.name}: {type(exc).__name__}: {exc}"
