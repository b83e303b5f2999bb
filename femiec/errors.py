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


class MissingDependencyError(FemiecError, ImportError):
    """A required system package (DOLFINx, gmsh, ADIOS2, ...) cannot be imported."""


def _short(value: object, limit: int = 80) -> str:
    if hasattr(value, "tolist"):  # NumPy arrays and scalars: one line of plain numbers
        value = value.tolist()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
