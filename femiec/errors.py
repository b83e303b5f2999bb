"""Error types of femiec.

Every error raised on purpose by femiec is a subclass of :class:`FemiecError`. Input errors carry the
offending key, the value and what was expected, so the command line can print one line::

    error: <key>: <what was given> (expected <what>)

and exit with status 2, before any solve starts.
"""
from __future__ import annotations


class FemiecError(Exception):
    """Base class of all femiec errors."""


class InputError(FemiecError, ValueError):
    """Bad user input: names the key, the value given and what was expected.

    ``str(err)`` is the one-line message ``<key>: <value> (expected <expected>)``.
    """

    def __init__(self, key: str, value: object, expected: str):
        self.key = key
        self.value = value
        self.expected = expected
        super().__init__(f"{key}: {_short(value)} (expected {expected})")


class SolverError(FemiecError, RuntimeError):
    """A nonlinear or linear solve failed and could not be recovered (no result is written)."""


class Interrupted(FemiecError):
    """The run was stopped by a signal (SIGINT, SIGTERM) at a step boundary (:mod:`femiec.interrupt`).

    ``signum``: the signal; ``time``: the model time [s] reached; ``checkpoint``: the directory of the
    checkpoint written on the way out (set by the model, None if it writes none). The command line
    prints ``error: interrupted by SIGINT at t = ... s; checkpoint in <dir>`` and exits 128 + signum.
    """

    def __init__(self, signum: int, time: float | None = None, checkpoint=None):
        super().__init__(signum)
        self.signum, self.time, self.checkpoint = int(signum), time, checkpoint

    def __str__(self) -> str:
        import signal

        try:
            name = signal.Signals(self.signum).name
        except ValueError:
            name = f"signal {self.signum}"
        text = f"interrupted by {name}"
        if self.time is not None:
            text += f" at t = {self.time:.6g} s"
        if self.checkpoint is not None:
            text += f"; checkpoint in {self.checkpoint}"
        return text


class MissingDependencyError(FemiecError, ImportError):
    """A required system package (DOLFINx, gmsh, ADIOS2, ...) cannot be imported."""


def _short(value: object, limit: int = 80) -> str:
    if hasattr(value, "tolist"):  # NumPy arrays and scalars: one line of plain numbers
        value = value.tolist()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
