"""Python entry points of case files: ``femiec.validate`` and ``femiec.run`` (what ``femiec validate`` and
``femiec run`` do, for scripts and notebooks)."""
from __future__ import annotations

from pathlib import Path


def _case(case):
    from femiec.config import Case, load_case

    return case if isinstance(case, Case) else load_case(case)


def _comm(comm):
    if comm is not None:
        return comm
    from mpi4py import MPI

    return MPI.COMM_WORLD


def validate(case, comm=None, build: bool = False):
    """Check a case (a :class:`femiec.config.Case` or the path of a TOML file) as ``femiec validate`` does:
    schema, files, mesh, tags and the model's own checks; with ``build`` (``--build``) the model's problem
    built without solving. Returns the mesh (None for a model without one); raises
    :class:`femiec.errors.InputError` naming the case key."""
    from femiec.runner import validate as validate_case

    return validate_case(_case(case), _comm(comm), build=build)


def run(case, out: Path | str | None = None, comm=None, progress: bool = False) -> Path:
    """Solve a case (a :class:`femiec.config.Case` or the path of a TOML file) as ``femiec run`` does and
    return the path of its summary.json (fields, plots and files beside it in ``out``; default: the case's
    ``[output] directory`` or ``out/<case name>``)."""
    from femiec.runner import run_case

    return run_case(_case(case), out, _comm(comm), show_progress=progress)
