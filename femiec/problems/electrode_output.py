"""Output of the resolved electrode: the record of each state, checkpoints (write and restart) and the
fields written for ParaView (a part of :class:`femiec.problems.electrode.ElectrodeProblem`, kept in its
own module)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import ufl

from femiec.errors import InputError

#: checkpoint name suffix of a field's state one step before (Newton's predictor, ElectrodeProblem.predict)
PREVIOUS = "_previous"


@dataclass
class ElectrodeRecord:
    """The state of the cell after an accepted step (or at the start of a run): time [s], current [A],
    voltage [V], capacity [A h] (discharge positive), mean stoichiometry, and the Newton/Krylov
    iterations and rejected attempts of the step that led to it (0 for the initial state); one row of
    voltage.csv, one entry of summary.json's ``solver.records``. ``solver_step`` is False for a point
    interpolated between accepted steps (``dense_output``; then the iteration counts are 0).

    With Cahn–Hilliard particles (:meth:`Diagnostics.phase_boundaries
    <femiec.problems.electrode_diagnostics.Diagnostics.phase_boundaries>`) a solver step also records the
    phase-boundary area A_pb = int_{x_a < x < x_b} |grad x| dx / (x_b - x_a) [m^2] and the number and
    fraction of particles transforming (state of charge inside the spinodal); None otherwise and at the
    interpolated points.

    A record of its own, not an extension of the stepper's :class:`femiec.solvers.StepRecord`: the
    stepper's record accounts for a step (number, length), this one samples the cell's state, which
    exists before any step (the first record) and across runs and restarts (its list continues through
    checkpoints); the iteration counts are copied from the stepper's record so that summary.json keeps
    one entry per state.
    """

    time: float
    current: float
    voltage: float
    capacity_Ah: float
    stoichiometry: float
    newton_iterations: int = 0
    krylov_iterations: int = 0
    rejected_attempts: int = 0
    solver_step: bool = True
    phase_boundary_area_m2: float | None = None
    transforming_particles: int | None = None
    transforming_fraction: float | None = None


class FieldOutput:
    """Checkpoints and output fields of the electrode problem."""

    def checkpoint(self, directory) -> None:
        """Write the state (fields, time, charge passed, records, last step) and the stepper's schedule
        (the next step the controller wants, the step bounds, the end time, the output times still ahead:
        :meth:`femiec.solvers.AdaptiveTimeStepper.schedule`) to ``directory`` (:mod:`femiec.io.checkpoint`,
        two slots switched atomically; read back with :meth:`restart` on the same mesh, any partition)."""
        from femiec.io.checkpoint import write_checkpoint

        last_dt = self.records[-1].time - self.records[-2].time if len(self.records) > 1 else None
        state = {"time": self.time, "charge_passed": self.charge_passed, "last_dt": last_dt,
                 "step": max(len(self.records) - 1, 0), "schedule": self.schedule, "predictor": self.predictor,
                 "newton_first_step": self.solver.convergence_test.first_step,
                 "records": [asdict(r) for r in self.records],
                 "dense_records": [asdict(r) for r in self.dense_records]}
        arrays = {name: u.x.array for name, u in zip(self.field_names, self.u)}
        arrays.update({name + PREVIOUS: u.x.array for name, u in zip(self.field_names, self.u_nm1)})
        write_checkpoint(directory, arrays, state, self._fingerprint(), self.mesh.comm, spaces=self._field_spaces())

    def _fingerprint(self) -> str:
        from femiec.io.checkpoint import partition_fingerprint

        return "".join(partition_fingerprint(V) for V in (self.V0, *self.spaces))

    def _field_spaces(self) -> dict:
        """Field name (and the name of its previous state) -> its function space (the dof keys of a
        checkpoint)."""
        spaces = {name: u.function_space for name, u in zip(self.field_names, self.u)}
        return spaces | {name + PREVIOUS: V for name, V in spaces.items()}

    def restart(self, directory) -> dict:
        """Restore the state written by :meth:`checkpoint`; returns the saved state (incl. ``last_dt`` and
        ``schedule``). The next :meth:`run` takes its step defaults from the schedule (``resumed``)."""
        from femiec.io.checkpoint import read_checkpoint

        arrays, state = read_checkpoint(directory, self._fingerprint(), self.mesh.comm, spaces=self._field_spaces())
        if any(arrays.get(name, np.empty(0)).shape != u.x.array.shape for name, u in zip(self.field_names, self.u)):
            raise InputError("restart", str(directory), "a checkpoint of this problem's fields")
        for name, u, before in zip(self.field_names, self.u, self.u_nm1):
            u.x.array[:] = arrays[name]
            # the state before (the predictor's second point); a checkpoint of an earlier version has none
            before.x.array[:] = arrays.get(name + PREVIOUS, arrays[name])
        self._copy(self.u, self.u_n)
        self.predictor = state.get("predictor") if all(name + PREVIOUS in arrays for name in self.field_names) else None
        # Newton's first contraction (femiec.solvers.UpdateConvergence), so the resumed steps take the
        # uninterrupted run's Newton iterations
        first_step = state.get("newton_first_step")
        self.solver.convergence_test.first_step = tuple(first_step) if first_step else None
        self.time, self.charge_passed = state["time"], state["charge_passed"]
        self.records = [ElectrodeRecord(**r) for r in state["records"]]
        self.dense_records = [ElectrodeRecord(**r) for r in state.get("dense_records", [])]
        self.schedule = state.get("schedule")
        # a checkpoint of an earlier version has no schedule: continue with the last step's length
        self.resumed = self.schedule or ({"dt": state["last_dt"]} if state.get("last_dt") else None)
        return state

    def output_fields(self) -> dict:
        """``{name: (Function, unit)}`` of the four fields (each on its own phase's submesh), the
        stoichiometry, the interface current density and the particles' states of charge (on the
        active-material submesh)."""
        from dolfinx import fem

        if not hasattr(self, "_outputs"):
            self._outputs = {spec.name: (fem.Function(V), spec.unit) for spec, V in zip(self.field_specs, self.spaces)}
            V = self.spaces[self.index(self.particle_model.concentration)]
            self._outputs["stoichiometry"] = (fem.Function(V), "1")
            self._outputs["reaction_current_density"] = (fem.Function(V), "A/m^2")
            self._outputs["particle_state_of_charge"] = (fem.Function(fem.functionspace(V.mesh, ("DG", 0))), "1")
            v = ufl.TestFunction(V)
            self._lumped = (self.form(self.reaction_current() * v("-") * self.area_weight * self.gamma),
                            self.form(v("-") * self.area_weight * self.gamma))
        self.update_output()
        return self._outputs

    def update_output(self) -> None:
        """Fill the output Functions with the SI nodal values of the current state. The interface current
        density is the lumped L2 projection onto the particles' surface nodes (int i v w dS / int v w dS), 0
        inside the particles. ``particle_state_of_charge`` is per cell the mean c_s / c_max of the particle
        the cell belongs to (:meth:`particle_stoichiometry`): a map of which particles are full."""
        from dolfinx import fem
        from dolfinx.la import InsertMode

        for name, scale, u in zip(self.field_names, self.scales, self.u):
            self._outputs[name][0].x.array[:] = scale * u.x.array
        self._outputs["stoichiometry"][0].x.array[:] = self.u[self.index(self.particle_model.concentration)].x.array
        vectors = []
        for form in self._lumped:
            vec = fem.assemble_vector(form)
            vec.scatter_reverse(InsertMode.add)
            vec.scatter_forward()
            vectors.append(vec.array)
        weighted, weights = vectors
        out = np.zeros_like(weights)
        np.divide(weighted, weights, out=out, where=np.abs(weights) > 0)
        self._outputs["reaction_current_density"][0].x.array[:] = out
        self._fill_particle_states(self._outputs["particle_state_of_charge"][0])

    def _fill_particle_states(self, target) -> None:
        """Set the DG0 Function ``target`` on the active submesh to the state of charge of each owned cell's
        particle, then update the ghost cells."""
        states = self.particle_stoichiometry()
        owned = np.flatnonzero(self.particle_label > 0)
        values = np.array([states[k] for k in self.particle_label[owned]], dtype=float)
        cells = self.cell_maps["active"][owned]
        target.x.array[target.function_space.dofmap.list[cells, 0]] = values
        target.x.scatter_forward()
