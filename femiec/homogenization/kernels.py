"""Compiled loops of the voxel finite volumes (``voxel_rows.c``), built on first use with the C compiler
that DOLFINx's form compiler already needs, and loaded through ctypes.

The shared library is cached under ``$XDG_CACHE_HOME/femiec`` (default ``~/.cache/femiec``), named by a
hash of the source and the compiler command, so a changed source is rebuilt. Concurrent first uses (MPI
ranks, parallel tests) each compile to a file of their own and rename it into place (atomic), so no
coordination is needed. Without a compiler: MissingDependencyError (exit 3) naming the command tried.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shlex
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from femiec.errors import MissingDependencyError

SOURCE = Path(__file__).with_name("voxel_rows.c")
#: no contraction into fused multiply-adds: the rows are bit-identical to those of plain NumPy arithmetic
FLAGS = ["-O2", "-fPIC", "-shared", "-std=c99", "-ffp-contract=off"]


def _compiler() -> list[str]:
    """The C compiler command: $CC, else ``cc`` (scripts/setup.sh installs gcc)."""
    return shlex.split(os.environ.get("CC") or "cc")


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "femiec"


@cache
def library() -> ctypes.CDLL:
    """The compiled ``voxel_rows.c`` (built into the cache when missing), with its argument types."""
    command = _compiler() + FLAGS
    source = SOURCE.read_bytes()
    digest = hashlib.sha256(source + " ".join(command).encode()).hexdigest()[:16]
    target = _cache_dir() / f"voxel_rows-{digest}.so"
    if not target.is_file():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(suffix=".so", dir=target.parent)
        except OSError as error:
            raise MissingDependencyError(f"cannot write the compiled {SOURCE.name} into {target.parent} "
                                         f"({error.strerror}): set XDG_CACHE_HOME to a writable directory") from error
        os.close(handle)
        try:
            run = subprocess.run(command + ["-o", partial, str(SOURCE)], capture_output=True, text=True)
        except FileNotFoundError as error:
            os.unlink(partial)
            raise MissingDependencyError(f"C compiler {command[0]!r} not found (needed once to build "
                                         f"{SOURCE.name}; DOLFINx's form compiler needs it too)") from error
        if run.returncode != 0:
            os.unlink(partial)
            reason = (run.stderr.strip().splitlines() or [f"exit status {run.returncode}"])[-1]
            raise MissingDependencyError(f"compiling {SOURCE.name} with {' '.join(command)} failed: {reason}")
        os.replace(partial, target)
    lib = ctypes.CDLL(str(target))
    pointer, i64, f64 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double
    lib.voxel_row_counts.argtypes = [pointer, i64, i64, i64, ctypes.c_int, ctypes.c_int, pointer, pointer]
    lib.voxel_row_counts.restype = None
    lib.voxel_rows.argtypes = [pointer, pointer, i64, i64, i64, pointer, pointer, f64, pointer, pointer,
                               pointer, i64, i64, i64, i64] + [pointer] * 11
    lib.voxel_rows.restype = i64
    lib.aggregate_sum.argtypes = [pointer, pointer, i64, pointer, i64]
    lib.aggregate_sum.restype = None
    lib.aggregate_gather_add.argtypes = [pointer, pointer, pointer, i64, pointer]
    lib.aggregate_gather_add.restype = None
    return lib


def address(array: np.ndarray | None, dtype) -> int | None:
    """The data pointer of a C-contiguous ``array`` of ``dtype`` (None for None), checked."""
    if array is None:
        return None
    if array.dtype != np.dtype(dtype) or not array.flags.c_contiguous:
        raise TypeError(f"kernel argument must be a C-contiguous {np.dtype(dtype)} array, got {array.dtype} "
                        f"({'contiguous' if array.flags.c_contiguous else 'strided'})")
    return array.ctypes.data
