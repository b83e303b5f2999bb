"""Checkpoints of a transient electroneutral MIEC run: write the state a step needs and restart from it (a
mixin of :class:`~femiec.problems.miec.MixedConductorProblem`; files by :mod:`femiec.io.checkpoint`).

A BDF2 step from t_n needs the unknowns at t_n (u = ln(n/n_ref) and psi_el), u at t_(n-1) and the length
of the step before (w = dt / dt_previous), the step controller its next step and bounds (the stepper's
schedule) and, with ``error_tolerance``, the mean log electron concentrations of the last accepted steps
its predictor extrapolates (scalars, kept in the JSON state). The checkpoint holds all of them, so a run
resumed from it takes the steps of the uninterrupted one and its numbers agree to round-off. The arrays
are written with their function spaces, so a checkpoint is read back on any partition and number of ranks
of the same mesh.
"""
from __future__ import annotations

from femiec.errors import InputError

#: the Functions a step reads, by name: the unknowns (u, psi_el) now and u at the two steps before
STATES = ("u", "psi_el", "u_n", "u_nm1")


class MiecCheckpoint:
    """:meth:`checkpoint` and :meth:`restart` of a transient run (module docstring)."""

    def _state_functions(self) -> dict:
        return dict(zip(STATES, (*self.u, self.u_n, self.u_nm1)))

    def checkpoint(self, directory, extra: dict | None = None) -> None:
        """Write the state after the last accepted step to ``directory`` (two slots switched atomically):
        the functions of :data:`STATES`, the time [s], the number of accepted steps, the last step [s], the
        stepper's schedule (:meth:`femiec.solvers.AdaptiveTimeStepper.schedule`), the error controller's
        history, the step records and ``extra`` (JSON-serialisable state of the caller, e.g. the case
        runner's faces.csv rows), given back by :meth:`restart`."""
        from femiec.io.checkpoint import partition_fingerprint, write_checkpoint

        functions = self._state_functions()
        state = {"time": self.time, "step": self.step, "dt_previous": self.dt_previous, "schedule": self.schedule,
                 "error_history": self.error_history, "records": self.records, "extra": extra or {}}
        write_checkpoint(directory, {name: f.x.array for name, f in functions.items()}, state,
                         partition_fingerprint(self.spaces[0]), self.mesh.comm,
                         spaces={name: f.function_space for name, f in functions.items()})

    def restart(self, directory) -> dict:
        """Restore the state written by :meth:`checkpoint` (InputError naming ``restart`` for a missing,
        incomplete or foreign checkpoint); returns the saved state. The next :meth:`run` continues from it:
        from its time, with its step number, schedule, last step and error history (``resumed``)."""
        from femiec.io.checkpoint import partition_fingerprint, read_checkpoint

        functions = self._state_functions()
        arrays, state = read_checkpoint(directory, partition_fingerprint(self.spaces[0]), self.mesh.comm,
                                        spaces={name: f.function_space for name, f in functions.items()})
        if any(name not in arrays or arrays[name].shape != f.x.array.shape for name, f in functions.items()):
            raise InputError("restart", str(directory), "a checkpoint of an electroneutral mixed conductor's "
                             "unknowns")
        for name, f in functions.items():
            f.x.array[:] = arrays[name]
        self.time, self.step, self.records = state["time"], state["step"], state["records"]
        self.dt_previous, self.schedule, self.error_history = state["dt_previous"], state["schedule"], \
            state["error_history"]
        self.resumed = state
        return state
