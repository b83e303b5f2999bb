"""The output directory of a run: checked before any solve, locked against a second run, cleared of the
outputs of earlier runs.

- ``check_directory(path, key, comm)``: ``path`` is created if needed and must be a writable directory
  (not a file); a refusal is one InputError naming ``key`` (``--out``, ``output.directory``, ...).
- ``output_lock(path, key, comm)``: the lock file ``<path>/.femiec.lock`` (JSON: pid, host, start time) is
  created atomically (a hard link of a complete temporary file, which fails when the lock exists) and
  removed when the run ends, however it ends. A lock held by another process is an InputError naming the
  directory and the holder's PID and host; a lock left by a dead process on this host is taken over with
  a warning. A lock from another host cannot be checked and is never taken over.
- ``move_previous_outputs(path, comm)``: what earlier runs wrote (``PREVIOUS_OUTPUTS``: ``.bp`` folders,
  XDMF/HDF5 files, CSV, PNG and NPZ files, ``checkpoint/``, ``summary.json``) is moved, not deleted, into
  ``<path>/previous/<UTC time stamp>/``, so the directory holds the outputs of one run only.

Rank 0 touches the file system; every rank gets the same result (errors are raised on every rank).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import time
from contextlib import contextmanager
from pathlib import Path

from femiec.errors import InputError

log = logging.getLogger(__name__)

LOCK = ".femiec.lock"
PREVIOUS = "previous"
#: glob patterns of what a run writes into its output directory
PREVIOUS_OUTPUTS = ("*.bp", "*.xdmf", "*.h5", "*.csv", "*.png", "*.npz", "checkpoint", "summary.json")


def _on_rank0(comm, action):
    """``action()`` on rank 0; its InputError (or result) is broadcast and raised (returned) on every rank."""
    outcome = None
    if comm.rank == 0:
        try:
            outcome = (None, action())
        except InputError as exc:
            outcome = ((exc.key, exc.value, exc.expected), None)
    error, result = comm.bcast(outcome, root=0)
    if error is not None:
        raise InputError(*error)
    return result


def _check(path: Path, key: str) -> None:
    if path.exists() and not path.is_dir():
        raise InputError(key, str(path), "a directory (this path is a file)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".femiec-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(key, str(path), f"a writable directory ({exc.strerror or exc})") from None


def check_directory(path: Path | str, key: str, comm) -> Path:
    """Create ``path`` if needed and check that it is a writable directory (InputError naming ``key``)."""
    path = Path(path)
    _on_rank0(comm, lambda: _check(path, key))
    return path


def _holder(lock: Path) -> dict:
    try:
        return json.loads(lock.read_text())
    except (OSError, ValueError):
        return {}


def _alive(pid) -> bool:
    import psutil

    return isinstance(pid, int) and psutil.pid_exists(pid)


def _acquire(path: Path, key: str) -> None:
    lock = path / LOCK
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    tmp = path / f"{LOCK}.{me['pid']}.tmp"
    tmp.write_text(json.dumps(me) + "\n")
    try:
        for _ in range(2):
            try:
                os.link(tmp, lock)  # atomic: fails when the lock exists
                return
            except FileExistsError:
                holder = _holder(lock)
                if holder.get("host") != me["host"] or _alive(holder.get("pid")):
                    raise InputError(key, str(path), f"an output directory no other run is using (locked by PID "
                                     f"{holder.get('pid', '?')} on host {holder.get('host', '?')} since "
                                     f"{holder.get('started', '?')}; remove {lock} if that run is gone)") from None
                log.warning("taking over the stale lock %s of PID %s (no longer running)", lock, holder.get("pid"))
                lock.unlink(missing_ok=True)
        raise InputError(key, str(path), f"an output directory whose lock {lock} can be taken")
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def output_lock(path: Path | str, key: str, comm):
    """Hold ``<path>/.femiec.lock`` for the duration of the ``with`` block (see the module docstring)."""
    path = Path(path)
    _on_rank0(comm, lambda: _acquire(path, key))
    try:
        yield path
    finally:
        if comm.rank == 0:
            (path / LOCK).unlink(missing_ok=True)


def _move_previous(path: Path) -> Path | None:
    found = sorted({p for pattern in PREVIOUS_OUTPUTS for p in path.glob(pattern)})
    if not found:
        return None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path / PREVIOUS / stamp
    n = 1
    while target.exists():
        n += 1
        target = path / PREVIOUS / f"{stamp}-{n}"
    target.mkdir(parents=True)
    for item in found:
        shutil.move(str(item), str(target / item.name))
    log.warning("moved the outputs of an earlier run in %s to %s", path, target)
    return target


def move_previous_outputs(path: Path | str, comm) -> Path | None:
    """Move the outputs of earlier runs in ``path`` into ``path/previous/<time stamp>/``; returns that
    folder (None when there was nothing to move)."""
    return _on_rank0(comm, lambda: _move_previous(Path(path)))
