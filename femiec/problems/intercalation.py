"""Phase-separating insertion particles driven by a current or a voltage (Bazant's non-equilibrium
thermodynamics; docs/cahn_hilliard.md).

Each particle is a :class:`femiec.problems.cahn_hilliard.CahnHilliardProblem` on its own mesh; the
reaction Li+ + e- + vacancy <=> Li(host) of :mod:`femiec.forms.phase_kinetics` acts on its ``surface``
facets as the inward lithium flux j_in = -i(c, mu, V) / F [mol/(m^2 s)], i the anodic current density
[A/m^2] and V [V] the electrode potential against lithium metal, common to every particle (the particles
talk only through V: a population, e.g. for mosaic filling). Anodic currents (extraction) are positive.

Controls:
- potentiostatic (:meth:`IntercalationCell.set_voltage`): V given, each particle solved alone;
- galvanostatic (:meth:`IntercalationCell.set_current`): the total current I = sum_p int i ds [A in 3D,
  A/m of depth in 2D, A/m^2 in 1D] is given and V is the extra unknown of the bordered system, eliminated
  by the secant on V around the particle solves of femiec.problems.npp.controls.GalvanostaticSecant
  (relative tolerance 1e-10 on I; V warm-started from the last step).

Particles distributed over ranks: the cell holds the particles of its rank (``index``: their numbers in
the population), each on its mesh's communicator (all ranks, or a group of them, or one), and reduces the
cell-level quantities over ``comm`` (the world): every per-particle integral (current, lithium, reacting
area, phase-boundary area) is assembled on the ranks holding the particle and gathered over ``comm`` in
one collective per evaluation (one per secant iteration for the current), and the solve statistics
(converged, Newton/Krylov iterations) are reduced too, so every rank takes the same decisions (secant,
accepted or halved step, events). The sums over the particles are taken in particle order, the same on
every rank.

Per accepted step a :class:`CellRecord`: voltage, current, charge passed, lithium, state of charge (mean
c) of the cell and of each particle, the phase-boundary area and the number of particles transforming.

Accuracy in time (:meth:`IntercalationCell.run`, docs/cahn_hilliard.md "Accuracy in time"): each particle
steps with its first-order scheme (convex splitting or backward Euler; no BDF2: without a stabilising term
it is not energy stable through spinodal decomposition, and its extrapolation may leave 0 < c < 1). With
``error_tolerance`` (backward Euler particles, ``scheme = "implicit"``: convex splitting's voltage lags by
O(dt), invisible to the estimate) the steps follow the local error estimate of the cell's output, the
voltage [V] under current control (the current [A; A/m; A/m^2] under voltage control), against the linear
predictor through the last two accepted outputs (femiec.solvers.error_control.LocalErrorControl, order 1);
``dense_output`` interpolates the curve (femiec.solvers.dense_output, linear) at every fraction f of the
capacity into ``dense_records``.

Phase-boundary area (coarea formula: int f(c) |grad c| dx = int f(s) A(s) ds, A(s) the area of the level
set c = s): with f the indicator of c_a < c < c_b (the binodal compositions),

    A_pb = int_{c_a < c < c_b} |grad c| dx / (c_b - c_a)                       [m^2; m in 2D; 1 in 1D]

is the mean area of the level sets between the two phases: exactly the interface area of a planar
equilibrium interface (whatever its width), while composition gradients inside a single phase (c < c_a or
c > c_b) do not count (femiec.forms.cahn_hilliard.phase_boundary_density; the resolved electrode's
Cahn–Hilliard particles report the same quantity). A particle is transforming while its mean c lies inside
the spinodal (femiec.analytic.cahn_hilliard.particles_transforming).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, asdict
from pathlib import Path

import numpy as np
from mpi4py import MPI

from femiec.analytic.cahn_hilliard import binodal, particles_transforming, spinodal
from femiec.constants import FARADAY, GAS_CONSTANT, thermal_voltage
from femiec.errors import InputError
from femiec.forms.cahn_hilliard import phase_boundary_density
from femiec.forms.phase_kinetics import RATE_LAWS, insertion_current, inward_lithium_flux


@dataclass
class CellRecord:
    """State after an accepted step: time and step [s], electrode potential V [V], anodic current I and
    the charge passed int I dt [A, C; per m of depth in 2D, per m^2 in 1D], the lithium [mol, mol/m,
    mol/m^2], the state of charge (mean site fraction) of the cell and of each particle, the phase-boundary
    area (summed over the particles), the particles transforming (mean c inside the spinodal), Newton
    iterations summed over the particles and the secant. ``solver_step`` is False for a point interpolated
    inside an accepted step (``dense_output``; ``step`` and ``dt`` are then those of that step, the Newton
    iterations 0)."""

    step: int
    time: float
    dt: float
    voltage: float
    current: float
    charge: float
    lithium: float
    state_of_charge: float
    particle_states: tuple
    phase_boundary_area: float
    transforming: int
    newton_iterations: int
    solver_step: bool = True


class IntercalationCell:
    """Cahn–Hilliard particles reacting with the electrolyte at a common electrode potential (SI units).

    Args:
        particles: CahnHilliardProblem instances (the same site density, interaction and temperature): the
            particles of this rank (at least one).
        surface: the reacting facets of every particle (a name or tag, or a list of them).
        standard_potential: V0 [V] against lithium metal (the plateau voltage).
        rate_constant: k0 [mol/(m^2 s)] of the exchange current i0 = F k0 (1 - c) exp(alpha mu / (R T)).
        rate_law: "butler_volmer", "marcus_hush_chidsey" or "ciet" (femiec.forms.phase_kinetics).
        alpha: transfer coefficient; reorganization_energy: lambda [J/mol] (Marcus–Hush–Chidsey, CIET).
        voltage: the initial electrode potential [V] (default V0).
        comm: the communicator of the whole population (default: the first particle mesh's, every
            particle on every rank).
        index: the numbers (from 0) of ``particles`` in the population (default 0, 1, ...).
    """

    def __init__(self, particles, *, surface, standard_potential: float, rate_constant: float,
                 rate_law: str = "butler_volmer", alpha: float = 0.5, reorganization_energy: float | None = None,
                 voltage: float | None = None, comm=None, index=None):
        from dolfinx import fem

        if rate_law not in RATE_LAWS:
            raise InputError("rate_law", rate_law, f"one of {list(RATE_LAWS)}")
        if rate_law in ("marcus_hush_chidsey", "ciet") and not (reorganization_energy and reorganization_energy > 0):
            raise InputError("reorganization_energy", reorganization_energy, "a positive energy in J/mol")
        if not (np.isfinite(rate_constant) and rate_constant > 0):
            raise InputError("rate_constant", rate_constant, "a positive rate in mol/(m^2 s)")
        self.particles = list(particles)
        if not self.particles:
            raise InputError("particles", [], "at least one particle on every rank")
        first = self.particles[0]
        self.comm = first.mesh.comm if comm is None else comm
        self.index = list(range(len(self.particles)) if index is None else index)
        if len(self.index) != len(self.particles):
            raise InputError("index", self.index, f"one number per particle ({len(self.particles)})")
        self.count = self.comm.allreduce(max(self.index) + 1, op=MPI.MAX)  # particles in the population
        self.temperature = first.values["RT"] / GAS_CONSTANT
        self.binodal = binodal(first.values["interaction_energy"], first.values["RT"])
        self.spinodal = spinodal(first.values["interaction_energy"], first.values["RT"])
        self.voltage = float(standard_potential if voltage is None else voltage)
        self.trial_voltage = self.voltage  # V of the last solved attempt (before it is accepted) [V]
        self.applied_current: float | None = None
        facets = surface if isinstance(surface, (list, tuple)) else [surface]
        kinetics = dict(standard_potential=standard_potential, rate_constant=rate_constant,
                        temperature=self.temperature, rate_law=rate_law, alpha=alpha,
                        reorganization_energy=reorganization_energy)
        self._V, self._current_forms, self._boundary_forms = [], [], []
        areas, volumes = [], []
        self.rate_constant = float(rate_constant)
        c_a, c_b = self.binodal
        for p in self.particles:
            V, one = fem.Constant(p.mesh, self.voltage), fem.Constant(p.mesh, 1.0)
            i = insertion_current(p.c, p.chemical_potential(), V, **kinetics)
            current = area = 0
            for facet in facets:
                p.add_surface_flux(facet, inward_lithium_flux(i))
                ds = p.ds(p.meshdata.facet_id(facet, "surface"))
                current, area = current + i * ds, area + one * ds
            areas.append(fem.form(area))
            volumes.append(fem.form(one * p.dx))
            self._V.append(V)
            self._current_forms.append(fem.form(current))
            self._boundary_forms.append(fem.form(phase_boundary_density(p.c, c_a, c_b) * p.dx))
        self.area = float(sum(self._per_particle(areas)))  # the reacting area [m^2; m; 1]
        # c_max |particle| [mol; mol/m; mol/m^2] of every particle of the population
        self._lithium_capacity = first.values["site_density"] * self._per_particle(volumes)
        self.time, self.charge, self.records, self.stop_reason = 0.0, 0.0, [], "t_end"
        self.dense_records: list[CellRecord] = []  # interpolated points of the curve (``dense_output``)
        self.rejected_attempts = 0  # attempts of :meth:`run` redone (failed Newton, local error, landing)

    # ----------------------------------------------------------------------------------- controls
    def set_voltage(self, voltage: float) -> None:
        """Potentiostatic control at V [V] against lithium metal."""
        self.applied_current, self.voltage = None, float(voltage)
        self.trial_voltage = self.voltage

    def set_current(self, current: float) -> None:
        """Galvanostatic control at the total anodic current I [A; A/m in 2D; A/m^2 in 1D] (< 0: lithiation)."""
        self.applied_current = float(current)

    def _put_voltage(self, voltage: float) -> None:
        for V in self._V:
            V.value = voltage

    # ----------------------------------------------------------------------------------- stepping
    def attempt(self, dt: float):
        """Solve the step of length dt [s] for every particle (and V under galvanostatic control); a failed
        solve leaves every particle at the start of the step. Returns the (summed) statistics; the
        attempt's electrode potential is ``trial_voltage`` (what events see before the step is accepted)."""
        from femiec.problems.npp.controls import GalvanostaticSecant

        start = [p.snapshot() for p in self.particles]

        def solve_all():  # iterations summed over the particles, the hardest particle's for the step control
            newton = krylov = largest = 0
            for p in self.particles:
                stats = p.attempt(dt)
                if self._speaks_for(p):
                    newton, krylov = newton + stats.newton_iterations, krylov + stats.krylov_iterations
                largest = max(largest, stats.newton_iterations)
                if not stats.converged:
                    break
            return self._reduce_stats(stats, newton, krylov, largest)

        if self.applied_current is None:
            self._put_voltage(self.voltage)
            stats = solve_all()
        else:
            floor = 1e-3 * FARADAY * self.rate_constant * self.area  # 1e-3 of the exchange current scale
            secant = GalvanostaticSecant(self._put_voltage, solve_all, self.current, thermal_voltage(self.temperature))
            stats = secant.run(self.voltage, self.applied_current, floor)
        if not stats.converged:
            for p, snapshot in zip(self.particles, start):
                p.restore(snapshot)
            self._put_voltage(self.voltage)
        self.trial_voltage = stats.electrode_potential if stats.electrode_potential is not None else self.voltage
        return stats

    def accept(self, dt: float, stats) -> CellRecord:
        """Make the solved step the present state of every particle and record it."""
        if stats.electrode_potential is not None:
            self.voltage = stats.electrode_potential
        current = self.current()
        for p in self.particles:
            p.accept(dt, stats)
        self.time += dt
        self.charge += current * dt
        per_particle = self._per_particle([p._lithium_form for p in self.particles])
        states = tuple(float(n / cap) for n, cap in zip(per_particle, self._lithium_capacity))
        lithium = sum(float(n) for n in per_particle)
        record = CellRecord(len(self.records) + 1, self.time, dt, self.voltage, current, self.charge, lithium,
                            lithium / sum(self._lithium_capacity), states, self.phase_boundary_area(),
                            particles_transforming(states, self.spinodal), stats.newton_iterations)
        self.records.append(record)
        return record

    def step(self, dt: float) -> CellRecord:
        """One step of length dt [s] (SolverError when it fails)."""
        from femiec.errors import SolverError

        stats = self.attempt(dt)
        if not stats.converged:
            raise SolverError(f"intercalation step of {dt:.3g} s did not converge: {stats.reason}")
        return self.accept(dt, stats)

    def run(self, t_end: float, dt: float, *, dt_max: float | None = None, dt_min: float | None = None,
            grow: float = 1.5, output_dir=None, output_times=(), events=(), progress=None,
            formats=("vtx",), fields: bool = False, error_tolerance: float | None = None,
            dense_output: float | None = None) -> list[CellRecord]:
        """Adaptive steps (femiec.solvers.AdaptiveTimeStepper: a failed step is halved and retried down to
        ``dt_min``, default 1e-6 dt) from the present time to ``t_end`` [s] or until a terminal event
        (:class:`femiec.solvers.events.Event`, e.g. a cut-off voltage) occurs; ``self.stop_reason`` tells
        which. ``progress(t)`` is called after each accepted step. With ``output_dir``: voltage.csv,
        voltage.png and state_of_charge.png, and with ``fields`` the site fraction and chemical potential of
        particle k (``site_fraction_<k>``, ``chemical_potential_<k>``, k from 1 in the population; each
        particle's writer on its mesh's communicator) at ``output_times`` and at
        the last step, in ``formats``; on SIGINT/SIGTERM (:class:`femiec.errors.Interrupted`, raised at a step
        boundary) these are written for the steps so far before it is raised again. Returns the new records.

        Step size: without ``error_tolerance`` (the default) a step grows by ``grow`` after easy Newton
        solves. With ``error_tolerance`` = tol (every particle with ``scheme="implicit"``) the steps follow
        the local error estimate of the output y of the cell, the voltage V [V] under current control and
        the current I [A; A/m in 2D; A/m^2 in 1D]
        under voltage control: err = |y_{n+1} - P| / 3 for equal steps, P the line through the last two
        accepted outputs at t_{n+1} (femiec.solvers.error_control.LocalErrorControl, order 1: the
        particles' schemes are first order); a step with err > tol is redone shorter, the next step is
        dt 0.9 (tol / err)^(1/2) (between 0.2 dt and 2 dt), capped by ``dt_max``.

        ``dense_output`` = f (current control only): the points at every f Q of charge from the start of
        the run (Q = :meth:`capacity`, time spacing f Q / |I|) that lie inside accepted steps, interpolated
        linearly between the accepted states (femiec.solvers.dense_output) into ``dense_records`` (voltage,
        charge, lithium, states of charge and phase-boundary area; ``solver_step`` False; none inside the
        run's first step, whose start holds the voltage before the current was on) and written to
        voltage.csv and the plots in time order with the steps."""
        from femiec.errors import Interrupted
        from femiec.io.fields import FieldWriter
        from femiec.solvers import AdaptiveTimeStepper
        from femiec.solvers.dense_output import DenseOutput
        from femiec.solvers.error_control import LocalErrorControl

        galvanostatic = self.applied_current is not None
        if error_tolerance is not None and any(p.scheme != "implicit" for p in self.particles):
            raise InputError("time.error_tolerance", error_tolerance, "particles with scheme = 'implicit' (convex "
                             "splitting's explicit Omega (1 - 2 c_n) shifts the voltage by O(dt), a lag the "
                             "local error estimate does not see)")
        control = None if error_tolerance is None else LocalErrorControl(
            error_tolerance, (lambda: self.trial_voltage) if galvanostatic else self.current, order=1)
        dense = None
        if dense_output is not None:
            if not (galvanostatic and self.applied_current != 0):
                raise InputError("dense_output", dense_output, "no dense output under voltage control or at zero "
                                 "current (its points are spaced in charge at a constant current)")
            if not 0 < dense_output <= 1:
                raise InputError("dense_output", dense_output, "a fraction of the capacity in (0, 1]")
            dense = DenseOutput(dense_output * self.capacity() / abs(self.applied_current), self.time)
        stepper = AdaptiveTimeStepper(dt, t_end, t0=self.time, dt_min=dt_min, dt_max=dt_max, grow=grow, comm=self.comm,
                                      name="intercalation", log_steps=False, error_control=control)
        first = len(self.records)
        writers = [FieldWriter(output_dir, self.fields(k), formats=formats, xdmf_stem=f"fields_{self.index[k] + 1}")
                   for k in range(len(self.particles))] \
            if output_dir is not None and fields else []
        outputs = list(output_times)
        for writer in writers:
            writer.write(self.time)

        def accept(t_new, step, stats):
            record = self.accept(step, stats)
            self.rejected_attempts += stepper.records[-1].rejected_attempts
            if dense is not None:
                self.dense_records += [self._interpolated(record, t, values)
                                       for t, values in dense.add(t_new, self._dense_values(record))]
            if any(np.isclose(t_new, t, rtol=1e-12, atol=0) for t in outputs):
                for writer in writers:
                    writer.write(t_new)
            if progress is not None:
                progress(t_new)

        def finish():
            """The fields of the last state (unless just written) and the voltage curve so far."""
            if writers and not any(np.isclose(self.time, t, rtol=1e-12, atol=0) for t in outputs):
                for writer in writers:
                    writer.write(self.time)
            for writer in writers:
                writer.close()
            if output_dir is not None:
                self.write_voltage_curve(output_dir)

        try:
            stepper.run(lambda t, step: self.attempt(step), accept, output_times=outputs, events=events)
        except Interrupted:  # SIGINT/SIGTERM at a step boundary: keep what the run has, then stop
            finish()
            raise
        self.stop_reason = stepper.stop_reason
        finish()
        return self.records[first:]

    @staticmethod
    def _dense_values(record: CellRecord) -> list[float]:
        """The interpolated outputs of a record: V, charge, lithium, state of charge, phase-boundary area and
        the particles' states of charge."""
        return [record.voltage, record.charge, record.lithium, record.state_of_charge, record.phase_boundary_area,
                *record.particle_states]

    def _interpolated(self, step: CellRecord, time: float, values) -> CellRecord:
        """The dense point at ``time`` [s] inside the accepted ``step`` from its interpolated ``values``
        (:meth:`_dense_values`)."""
        voltage, charge, lithium, state, area, *states = map(float, values)
        return CellRecord(step.step, time, step.dt, voltage, step.current, charge, lithium, state, tuple(states),
                          area, particles_transforming(states, self.spinodal), 0, solver_step=False)

    def fields(self, k: int) -> dict:
        """Output fields of this rank's particle k (from 0; named by its number in the population):
        name -> (Function, unit) for femiec.io.fields.FieldWriter."""
        n = self.index[k] + 1
        return {f"{name}_{n}": field for name, field in self.particles[k].fields().items()}

    # -------------------------------------------------------------------------- derived quantities
    def current(self) -> float:
        """The total anodic current I = sum_p int i ds of the present state [A; A/m in 2D; A/m^2 in 1D]."""
        return sum(float(i) for i in self._per_particle(self._current_forms))

    def capacity(self) -> float:
        """Q = F sum_p int c_max dx, the charge of filling every particle from empty [C; C/m in 2D; C/m^2
        in 1D]."""
        return float(FARADAY * sum(self._lithium_capacity))

    def phase_boundary_area(self) -> float:
        """A_pb summed over the particles (module docstring) [m^2; m in 2D; 1 in 1D]."""
        return sum(float(a) for a in self._per_particle(self._boundary_forms))

    def unknowns(self) -> int:
        """The unknowns (c, mu and, with coherency strain, the displacement) of every particle of the
        population."""
        def count(p) -> int:
            fields = [p.c, p.w] + ([p.z] if p.elasticity is not None else [])
            return sum(f.function_space.dofmap.index_map.size_global * f.function_space.dofmap.index_map_bs
                       for f in fields)

        return self.comm.allreduce(sum(count(p) for p in self.particles if self._speaks_for(p)))

    # -------------------------------------------------------------------------- reductions over comm
    def _per_particle(self, forms) -> np.ndarray:
        """The value of one scalar form per local particle, for every particle of the population (length
        ``count``, the same on every rank): each rank assembles its part, the parts are gathered over
        ``comm`` (one collective) and added in rank order."""
        from dolfinx import fem

        local = np.zeros(self.count)
        for k, form in zip(self.index, forms):
            local[k] = fem.assemble_scalar(form)
        return np.sum(self.comm.allgather(local), axis=0)

    def _speaks_for(self, p) -> bool:
        """Whether this rank counts particle p's solve statistics (the first rank of its mesh's comm)."""
        return p.mesh.comm.rank == 0

    def _reduce_stats(self, stats, newton: int, krylov: int, largest: int):
        """The statistics of a solve of every particle: converged on every rank, iterations summed over the
        population, the hardest particle's Newton iterations (``largest_solve_iterations``), the first
        failing rank's reason."""
        outcomes = self.comm.allgather((stats.converged, stats.reason, newton, krylov, largest))
        failed = [reason for converged, reason, *_ in outcomes if not converged]
        return stats.summed(sum(o[2] for o in outcomes), sum(o[3] for o in outcomes),
                            converged=not failed, reason=failed[0] if failed else stats.reason,
                            largest_solve_iterations=max(o[4] for o in outcomes))

    def write_voltage_curve(self, directory) -> None:
        """voltage.csv (one row per step and per interpolated point of ``dense_output``, in time order: the
        fields of :class:`CellRecord`, one column per particle's state of charge), voltage.png (V against
        the state of charge) and state_of_charge.png (each particle's state of charge against time),
        written by rank 0."""
        if self.comm.rank != 0:
            return
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        records = sorted(self.records + self.dense_records, key=lambda r: r.time)
        names = [n for n in asdict(records[0]) if n != "particle_states"] if records else []
        units = {"time": "_s", "dt": "_s", "voltage": "_V", "current": "_A", "charge": "_C", "lithium": "_mol"}
        with (directory / "voltage.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([n + units.get(n, "") for n in names]
                            + [f"state_of_charge_{k + 1}" for k in range(self.count)])
            for r in records:
                row = asdict(r)
                writer.writerow([_plain(row[n]) for n in names] + [_plain(s) for s in r.particle_states])
        plot_voltage_curve(directory / "voltage.png", [r.state_of_charge for r in records],
                           [r.voltage for r in records])
        plot_particle_states(directory / "state_of_charge.png", [r.time for r in records],
                             [r.particle_states for r in records])


def _plain(value) -> str:
    """A number as CSV text: an int as is, a float (also NumPy's) by its shortest round-trip repr."""
    return str(int(value)) if isinstance(value, (int, np.integer)) else repr(float(value))


def _axes(size=(5, 3.6)):
    """A new figure and axes drawn off-screen (Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size, dpi=120)


def _save(fig, path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def plot_voltage_curve(path, state_of_charge, voltage) -> Path:
    """PNG of the electrode potential [V vs Li] against the state of charge (the caller's process draws)."""
    fig, ax = _axes()
    ax.plot(state_of_charge, voltage, "-o", markersize=2)
    ax.set_xlabel("state of charge (mean site fraction)")
    ax.set_ylabel("V vs Li/Li$^+$ (V)")
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


def plot_particle_states(path, times, states) -> Path:
    """PNG of each particle's state of charge (mean site fraction) against time [s]: mosaic filling shows
    as particles filling one after another, homogeneous filling as one bundle of lines."""
    fig, ax = _axes()
    states = np.asarray(states, dtype=float).reshape(len(times), -1)
    for k in range(states.shape[1]):
        ax.plot(times, states[:, k], lw=1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("particle state of charge")
    ax.set_ylim(0, 1)
    ax.grid(True, alpha=0.3)
    return _save(fig, path)
