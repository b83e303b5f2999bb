"""Solvers: PETSc SNES driver with linear-solver presets, adaptive time stepping and its events."""
from femiec._compat import require_dolfinx

require_dolfinx()  # an ImportError saying how to install DOLFINx, before any submodule needs it

from femiec.solvers.snes import PRESETS, NonlinearSolver, SolveStats  # noqa: E402
from femiec.solvers.events import Event, EventRecord  # noqa: E402
from femiec.solvers.timestepping import AdaptiveTimeStepper, StepRecord  # noqa: E402

__all__ = ["PRESETS", "NonlinearSolver", "SolveStats", "AdaptiveTimeStepper", "Event", "EventRecord", "StepRecord"]
