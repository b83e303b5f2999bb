"""Solvers: PETSc SNES driver, named solver settings, Newton convergence tests, adaptive time stepping
and its events."""
from femiec._compat import require_dolfinx

require_dolfinx()  # an ImportError saying how to install DOLFINx, before any submodule needs it

from femiec.solvers.convergence import UpdateConvergence  # noqa: E402
from femiec.solvers.events import Event, EventRecord  # noqa: E402
from femiec.solvers.presets import PRESETS, block_amg_newton_krylov  # noqa: E402
from femiec.solvers.snes import NonlinearSolver, SolveStats  # noqa: E402
from femiec.solvers.timestepping import AdaptiveTimeStepper, StepRecord  # noqa: E402

__all__ = ["PRESETS", "NonlinearSolver", "SolveStats", "UpdateConvergence", "block_amg_newton_krylov",
           "AdaptiveTimeStepper", "Event", "EventRecord", "StepRecord"]
