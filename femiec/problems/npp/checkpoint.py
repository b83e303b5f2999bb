"""Checkpoints of a transient Nernst–Planck–Poisson run: write the state a step needs and restart from it
(a mixin of :class:`~femiec.problems.npp.model.NernstPlanckPoisson`; files by :mod:`femiec.io.checkpoint`).

A BDF2 step from t_n needs the solution at t_n and t_(n-1) and the length of the step before
(w = dt / dt_previous), a galvanostatic step the electrode potential V [V] its secant starts from, the
step controller its next step, bounds and the output times still ahead (the stepper's schedule) and, with
``error_tolerance``, the outputs of the last accepted steps its predictor extrapolates. The checkpoint
holds all of them (a monolithic temperature is a component of the mixed unknown), so a run resumed from it
takes the steps of the uninterrupted one and its numbers agree to round-off. An error output distributed
over the ranks that is a part of the unknowns, ``u.x.array[error_dofs]`` (``problem.error_dofs``, the local
indices of the owned nodal values, e.g. the electrons' ln n of femiec.problems.miec_poisson), has its
history written as mixed-space arrays (zero elsewhere), so it is read back on any partition too.
"""
from __future__ import annotations

import numpy as np

from femiec.errors import InputError

#: the mixed-space Functions a step reads: the state now and the two before (BDF2)
STATES = ("u", "u_n", "u_nm1")


class NppCheckpoint:
    """:meth:`checkpoint` and :meth:`restart` of a transient run (module docstring)."""

    def checkpoint(self, directory, extra: dict | None = None) -> None:
        """Write the state after the last accepted step to ``directory`` (two slots switched atomically):
        the mixed unknowns now and at the two steps before, the time [s], the number of accepted steps,
        the electrode potentials [V], the last step [s], the stepper's schedule
        (:meth:`femiec.solvers.AdaptiveTimeStepper.schedule`), the error controller's history, the solver
        records and ``extra`` (JSON-serialisable state of the caller, e.g. the case runner's current.csv
        rows), given back by :meth:`restart`. Read back on the same mesh, on any partition and number of ranks
        (:mod:`femiec.io.checkpoint`)."""
        from femiec.io.checkpoint import write_checkpoint

        history, fields = self.error_history, {}
        if history is not None and self.error_dofs is not None:  # this rank's part: as mixed-space arrays
            for k, values in enumerate(history["values"]):
                fields[f"error_history{k}"] = np.zeros_like(self.u.x.array)
                fields[f"error_history{k}"][self.error_dofs] = values
            history = {"times": history["times"], "fields": len(fields)}
        state = {"time": self.time, "step": self.step, "dt_previous": self.dt_previous, "schedule": self.schedule,
                 "error_history": history,
                 "electrode_potentials": {name: float(c.value) for name, c in self.electrode_voltage.items()},
                 "records": self.records, "extra": extra or {}}
        arrays = {name: getattr(self, name).x.array for name in STATES} | fields
        write_checkpoint(directory, arrays, state, self._fingerprint(), self.mesh.comm,
                         spaces={name: self.W for name in (*STATES, *fields)})

    def _fingerprint(self) -> str:
        from femiec.io.checkpoint import partition_fingerprint

        return partition_fingerprint(self.W)

    def restart(self, directory) -> dict:
        """Restore the state written by :meth:`checkpoint` (InputError naming ``restart`` for a missing,
        incomplete or foreign checkpoint); returns the saved state. The next :meth:`run` continues from
        it: from its time, with its step number, schedule, last step and error history (``resumed``)."""
        from femiec.io.checkpoint import read_checkpoint, read_state

        history = read_state(directory).get("error_history") or {}
        fields = [f"error_history{k}" for k in range(history.get("fields", 0))]
        if fields and self.error_dofs is None:
            raise InputError("restart", str(directory), "a checkpoint of a problem whose error output is not a "
                             "part of its unknowns (its error history is; set error_dofs)")
        arrays, state = read_checkpoint(directory, self._fingerprint(), self.mesh.comm,
                                        spaces={name: self.W for name in (*STATES, *fields)})
        if any(arrays.get(name, np.empty(0)).shape != getattr(self, name).x.array.shape for name in STATES):
            raise InputError("restart", str(directory), "a checkpoint of this problem's unknowns")
        for name in STATES:
            getattr(self, name).x.array[:] = arrays[name]
        for name, V in state["electrode_potentials"].items():
            if name not in self.electrode_voltage:
                raise InputError("restart", str(directory), f"a checkpoint of a problem with an electrode {name!r}")
            self._set_electrode_voltage(name, V)
        self._sync_temperature()
        self.time, self.step, self.records = state["time"], state["step"], state["records"]
        self.dt_previous, self.schedule, self.error_history = state["dt_previous"], state["schedule"], \
            state["error_history"]
        if fields:
            self.error_history = {"times": history["times"],
                                  "values": [arrays[name][self.error_dofs].tolist() for name in fields]}
        if self.prescribed is not None:
            self.prescribed.update(self.time)
        self.resumed = state
        return state
