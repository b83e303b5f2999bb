"""Shared test fixtures.

``numbers``: tests that yield a number record it with ``numbers.record(name, value)``. Each pytest run
writes the recorded numbers to ``$FEMIEC_NUMBERS_DIR/numbers-np<size>.json`` (rank 0 only; default
directory ``.pytest-numbers``). ``scripts/compare_numbers.py`` then checks that the serial run and the
``mpirun -n 2`` run agree to a relative 1e-8 (``make test`` does this).

``pytest.approx`` without ``abs`` compares relatively only (abs = 0) when no expected value is zero:
pytest's default abs = 1e-12 is larger than most SI areas, volumes, charges and capacities of
microstructures (1e-16 m^2, 1e-24 m^3, 1e-15 C), and would let such a comparison pass at any value.

Per-test watchdog: a test (set-up and teardown included) that runs longer than ``$FEMIEC_TEST_TIMEOUT``
seconds (default 1800; 0 turns it off) writes the Python stack of every thread to
``$FEMIEC_NUMBERS_DIR/watchdog-rank<r>.log`` and ends the process with status 1 (faulthandler, which also
fires while the test waits inside MPI; the file, because pytest's capture of stderr is lost on that exit).
Under ``mpirun`` this ends the run: when one rank fails a test and moves on, the other rank waits in a
collective of that test forever; the watchdog turns that hang into a red run (``make test`` prints the
stacks).
"""
from __future__ import annotations

import faulthandler
import json
import os
from pathlib import Path

import numpy as np
import pytest

_RECORDED: dict[str, float] = {}
_WATCHDOG_LOG = []
_APPROX = pytest.approx


def _relative_approx(expected, rel=None, abs=None, nan_ok=False):
    """pytest.approx with abs = 0 (and pytest's default rel = 1e-6) unless abs is given or some expected
    value is zero (module docstring)."""
    if abs is None:
        try:
            values = np.abs(np.asarray(expected, dtype=complex))
        except (TypeError, ValueError):
            values = None
        if values is not None and values.size and np.all(values != 0):
            abs, rel = 0.0, 1e-6 if rel is None else rel  # pytest drops its default rel once abs is given
    return _APPROX(expected, rel=rel, abs=abs, nan_ok=nan_ok)


pytest.approx = _relative_approx


class _Numbers:
    def __init__(self, nodeid: str):
        self._prefix = nodeid

    def record(self, name: str, value) -> None:
        """Record scalar or array ``value`` under ``<test id>::<name>`` (must be equal on all ranks)."""
        arr = np.asarray(value, dtype=float).ravel()
        for i, v in enumerate(arr):
            key = f"{self._prefix}::{name}" + (f"[{i}]" if arr.size > 1 else "")
            _RECORDED[key] = float(v)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Arm the per-test watchdog (module docstring) around the set-up, call and teardown of ``item``."""
    timeout = float(os.environ.get("FEMIEC_TEST_TIMEOUT", "1800"))
    if timeout > 0:
        if not _WATCHDOG_LOG:
            rank = os.environ.get("OMPI_COMM_WORLD_RANK", os.environ.get("PMI_RANK", "0"))
            out = Path(os.environ.get("FEMIEC_NUMBERS_DIR", ".pytest-numbers"))
            out.mkdir(parents=True, exist_ok=True)
            _WATCHDOG_LOG.append(open(out / f"watchdog-rank{rank}.log", "w"))
        log = _WATCHDOG_LOG[0]
        log.seek(0)
        log.truncate()
        log.write(f"watchdog: {item.nodeid} ran longer than {timeout:g} s\n")
        log.flush()
        faulthandler.dump_traceback_later(timeout, exit=True, file=log)
    try:
        yield
    finally:
        if timeout > 0:
            faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def numbers(request) -> _Numbers:
    return _Numbers(request.node.nodeid)


@pytest.fixture
def comm():
    from mpi4py import MPI

    return MPI.COMM_WORLD


def pytest_sessionfinish(session, exitstatus):
    if not _RECORDED:
        return
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    if comm.rank != 0:
        return
    out = Path(os.environ.get("FEMIEC_NUMBERS_DIR", ".pytest-numbers"))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"numbers-np{comm.size}.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    previous.update(_RECORDED)
    path.write_text(json.dumps(previous, indent=1, sort_keys=True))
