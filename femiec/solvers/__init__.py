"""Solvers: PETSc SNES driver with linear-solver presets, and adaptive time stepping."""
from femiec._compat import require_dolfinx

require_dolfinx()  # an ImportError saying how to install DOLFINx, before any submodule needs it

from femiec.solvers.snes import PRESETS, NonlinearSolver, SolveStats  # noqa: E402
from femiec.solvers.timestepping import AdaptiveTimeStepper, Retry, StepRecord  # noqa: E402

__all__ = ["PRESETS", "NonlinearSolver", "SolveStats", "AdaptiveTimeStepper", "Retry", "StepRecord"]
