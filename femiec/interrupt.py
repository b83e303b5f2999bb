"""SIGINT/SIGTERM during a run: stop at the next step boundary, not inside PETSc.

While :func:`handled_signals` is active (the command line installs it for ``femiec run``), a signal
only sets a flag when a time stepper is running (:func:`step_boundaries`): the stepper calls
:func:`check` after every accepted step, which reduces the flag over the communicator (every rank stops
after the same step) and raises :class:`~femiec.errors.Interrupted`; the model then writes what it has
(checkpoint, time series). Outside a time stepper, or at a second signal, the handler raises at once.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

from femiec.errors import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_pending = 0  # number of the signal received and not yet acted upon (0: none)
_steppers = 0  # time steppers running (nested runs count once each)


def request(signum: int) -> None:
    """Ask the running time stepper to stop after its current step (what the signal handler does)."""
    global _pending
    _pending = int(signum)


def _handler(signum, frame) -> None:
    if _steppers and not _pending:
        request(signum)
        return
    raise Interrupted(signum)


@contextmanager
def handled_signals():
    """Install the handler for SIGINT and SIGTERM for the duration of a run (main thread only)."""
    global _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _handler) for s in SIGNALS}
    _pending = 0
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _pending = 0


@contextmanager
def step_boundaries():
    """Mark a time-stepping loop: signals wait for :func:`check` at its step boundaries."""
    global _steppers
    _steppers += 1
    try:
        yield
    finally:
        _steppers -= 1


def check(comm=None, time: float | None = None) -> None:
    """Raise :class:`Interrupted` (at ``time`` [s]) on every rank of ``comm`` when a signal arrived on
    any of them (a collective call when ``comm`` has more than one rank)."""
    global _pending
    signum = _pending
    if comm is not None and comm.size > 1:
        from mpi4py import MPI

        signum = comm.allreduce(signum, op=MPI.MAX)
    if signum:
        _pending = 0
        raise Interrupted(signum, time=time)
