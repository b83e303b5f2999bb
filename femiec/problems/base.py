"""The staged build every problem shares.

A problem is declared first (mesh, parameters, conditions) and built in five public stages, in this order,
the same in every problem:

    build_spaces()        function spaces, submeshes, measures
    build_coefficients()  material and geometry coefficients as dolfinx objects
    build_conditions()    boundary and interface conditions, the initial state
    build_residual()      the residual forms (transient problems: storage + steady parts)
    build_solver()        the Newton solver, under the problem's own PETSc options prefix

``build()`` runs them all; ``build(start, stop)`` a consecutive range. A script may call the stages one
by one and change the problem between them (e.g. add a source term after ``build_coefficients``).
Problems that take every input in their constructor (electrode, Nernst–Planck–Poisson) build at the end
of it; conduction builds at each solve (its boundary data are set after construction); the heat problem
builds its spaces and coefficients in its constructor (its temperature is used by coupled problems at
once) and the rest at its first solve.

:func:`start_transient` is the start of ``run()`` of the problems whose transient runs resume from a
checkpoint (the electroneutral MIEC and the Nernst–Planck–Poisson problems).
"""
from __future__ import annotations

from femiec.errors import InputError

STAGES = ("spaces", "coefficients", "conditions", "residual", "solver")


class StagedProblem:
    """Base of the problems: ``build()`` runs ``build_<stage>()`` for each of :data:`STAGES`."""

    #: PETSc options prefix of the problem's solver (``-<prefix><option>`` on the command line)
    options_prefix = "femiec_"

    def build(self, start: str = "spaces", stop: str = "solver") -> None:
        """Run the stages from ``start`` to ``stop`` (both included) in the order of :data:`STAGES`."""
        for stage in STAGES[STAGES.index(start): STAGES.index(stop) + 1]:
            getattr(self, f"build_{stage}")()


def global_integral(form, comm, entity_maps=None) -> float:
    """The value of a scalar form (UFL, or already compiled with ``dolfinx.fem.form``) summed over the
    ranks of ``comm``; ``entity_maps`` for forms of functions on submeshes."""
    from dolfinx import fem

    compiled = form if isinstance(form, fem.Form) else fem.form(form, entity_maps=entity_maps)
    return float(comm.allreduce(fem.assemble_scalar(compiled)))


def start_transient(problem, scheme: str, dt: float | None, dt_min: float | None, dt_max: float | None
                    ) -> tuple[dict | None, float, float | None, float | None]:
    """The start of a resumable transient run of ``problem``: checks ``scheme`` ("bdf1" or "bdf2") and takes
    the checkpoint state that ``problem.restart()`` left in ``problem.resumed`` (setting it to None, so a
    later run starts from t = 0 again). A run that does not resume starts from t = 0: ``problem.time``,
    ``step``, ``dt_previous`` and ``error_history`` are reset to 0, 0, None, None.

    Returns (resumed, dt, dt_min, dt_max): the state restarted from (None when the run does not resume),
    the first step and the step bounds [s], each the argument or, when it is None, the one of the
    checkpoint's schedule (:meth:`femiec.solvers.AdaptiveTimeStepper.schedule`). InputError naming
    ``time.dt`` when neither gives a first step."""
    if scheme not in ("bdf1", "bdf2"):
        raise InputError("time.scheme", scheme, "'bdf1' or 'bdf2'")
    resumed, problem.resumed = problem.resumed, None
    schedule = (resumed or {}).get("schedule") or {}
    dt = dt if dt is not None else schedule.get("dt")
    if dt is None:
        raise InputError("time.dt", dt, "a first step in seconds")
    dt_min = dt_min if dt_min is not None else schedule.get("dt_min")
    dt_max = dt_max if dt_max is not None else schedule.get("dt_max")
    if resumed is None:
        problem.time, problem.step, problem.dt_previous, problem.error_history = 0.0, 0, None, None
    return resumed, dt, dt_min, dt_max


def check_quadrature_degree(degree, key: str) -> None:
    """InputError naming ``key`` unless ``degree`` (a quadrature degree) is a positive integer or None."""
    if degree is not None and (isinstance(degree, bool) or not isinstance(degree, int) or degree < 1):
        raise InputError(key, degree, "a positive integer or None")
