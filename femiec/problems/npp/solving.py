"""Solving a Nernst–Planck–Poisson problem: steady solves with continuation, transient runs with adaptive
steps, and the coupled solve under them (Newton, the galvanostatic secant, a staggered temperature) (a
mixin of the problem class; the applied values are its :class:`~femiec.problems.npp.controls.Controls`)."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from femiec.errors import InputError, SolverError
from femiec.forms.time import bdf2_step_ratio
from femiec.problems.base import start_transient
from femiec.problems.npp.controls import GalvanostaticSecant, ramp
from femiec.problems.npp_conditions import Electrode, FixedConcentration, ThermionicContact

log = logging.getLogger(__name__)

#: Newton options of the coupled problem (override with ``petsc_options``). The relative residual test is
#: effectively off, because a change of a Dirichlet value on a graded mesh inflates the initial residual;
#: convergence is judged on the update of the dimensionless unknowns (``step_tolerance``). Full Newton
#: steps (no line search): a backtracking line search stalls at the round-off floor of thin-layer
#: problems, and globalization comes from continuation (steady) and step rejection (transient).
NEWTON_OPTIONS = {"snes_rtol": 1e-20, "snes_atol": 1e-14, "snes_max_it": 30, "snes_linesearch_type": "basic"}


class NppSolving:
    """Steady and transient solves of :class:`~femiec.problems.npp.model.NernstPlanckPoisson`."""

    def _apply_controls(self, fraction: float) -> None:
        """Set every applied potential and current to solved + fraction (target - solved)."""
        self.controls.ramp(fraction)

    def _controls_solved(self) -> None:
        """The targets are reached: the next continuation starts from them."""
        self.controls.reached()

    def set_voltage(self, electrode: str, voltage: float) -> None:
        """Change the applied potential [V] of a potentiostatic electrode (applied by the next solve)."""
        self.controls.set_voltage(electrode, voltage)

    def set_current(self, electrode: str, current: float) -> None:
        """Change the applied total current [A] of a galvanostatic electrode (applied by the next solve)."""
        self.controls.set_current(electrode, current)

    def build_solver(self) -> None:
        """Newton (femiec.solvers.NonlinearSolver) with ``self.preset`` and ``self.petsc_options`` under the
        prefix ``femiec_npp_``; the fieldsplit preset splits c and phi."""
        from femiec.solvers import NonlinearSolver, UpdateConvergence

        preset, petsc_options = self.preset, self.petsc_options
        fields = self._field_index_sets() if preset == "fieldsplit" else None
        preconditioner = None
        if preset == "quasi_fermi":  # FGMRES with the python PC of femiec.solvers.quasi_fermi_pc
            from femiec.solvers.quasi_fermi_pc import V_CYCLE_OPTIONS

            preset, preconditioner = "iterative", self._quasi_fermi_preconditioner()
            petsc_options = {"ksp_type": "fgmres", "ksp_gmres_restart": 30, **V_CYCLE_OPTIONS, **(petsc_options or {})}
        options = {**NEWTON_OPTIONS, **(petsc_options or {})}
        # On the dimensionless unknowns (c / c_ref or ln(c / c_ref), phi / V_T): the Deuflhard estimate of
        # the update, not the residual near its round-off floor, decides (the updates agree on every
        # partition, the last residuals do not); the stagnation rule ends Newton stalled at the round-off
        # floor of a badly conditioned system (thin layers on strongly graded meshes).
        convergence = UpdateConvergence(self.step_tolerance, error_estimate=True, relative_residual=True,
                                        stagnation=(1e-6, 1e-6))
        self.solver = NonlinearSolver(self.residual, self.u, self.bcs, preset=preset, petsc_options=options,
                                      prefix=self.options_prefix, fields=fields, convergence_test=convergence,
                                      preconditioner=preconditioner)

    def _quasi_fermi_preconditioner(self):
        """The electrochemical-potential block preconditioner (femiec.solvers.quasi_fermi_pc) of this system:
        its index sets, charges and fixed-concentration dofs."""
        from femiec.solvers.quasi_fermi_pc import QuasiFermiPC, check_quasi_fermi, node_index_sets

        check_quasi_fermi(self.variables, self.monolithic)
        n = len(self.species)
        species_sets, potential_set = node_index_sets(self.W, self.subspaces, n, self.mesh.comm)
        marked = np.zeros(self.W.dofmap.index_map.size_local * self.W.dofmap.index_map_bs
                          + self.W.dofmap.index_map.num_ghosts * self.W.dofmap.index_map_bs, dtype=bool)
        for bc in self.bcs:
            marked[bc.dof_indices()[0]] = True
        fixed = []
        for i in range(n):
            collapsed, dofs = self.subspaces[i]
            fixed.append(marked[np.asarray(dofs[:collapsed.dofmap.index_map.size_local])])
        return QuasiFermiPC(species_sets, potential_set, [s.charge for s in self.species], fixed,
                            prefix=self.options_prefix)

    def _field_index_sets(self) -> dict:
        from petsc4py import PETSc

        imap = self.W.dofmap.index_map
        owned = imap.size_local * self.W.dofmap.index_map_bs
        start = imap.local_range[0] * self.W.dofmap.index_map_bs
        n = len(self.species)
        c_dofs = np.concatenate([self.subspaces[i][1] for i in range(n)])
        splits = [("c", np.sort(c_dofs)), ("phi", np.sort(np.asarray(self.subspaces[n][1])))]
        if self.monolithic:
            splits.append(("T", np.sort(np.asarray(self.subspaces[n + 1][1]))))
        comm = self.mesh.comm
        return {name: PETSc.IS().createGeneral((d[d < owned] + start).astype(PETSc.IntType), comm=comm)
                for name, d in splits}

    def _newton(self):
        """One coupled Newton solve (plus the secant on V for a galvanostatic electrode); no raise."""
        galvanostatic = [e for e in self.electrodes if e.galvanostatic]
        if not galvanostatic:
            return self._coupled_solve()
        return self._galvanostatic_solve(galvanostatic[0])

    def _coupled_solve(self):
        """Newton on the mixed space (SolveStats); with a staggered temperature, alternated with heat
        solves."""
        if self.heat is None or self.monolithic:
            stats = self.solver.solve(check=False)
            self._sync_temperature()
            return stats
        return self.thermal.solve_staggered()

    def _sync_temperature(self) -> None:
        """heat.T (and its history) from the T component of the mixed unknown (monolithic coupling)."""
        if self.thermal is not None:
            self.thermal.sync()

    def _galvanostatic_solve(self, electrode: Electrode, rtol: float = 1e-10, max_iterations: int = 30):
        """Secant iteration on the electrode potential V until the electrode current equals the target."""
        start = self.u.x.array.copy()
        target = self.controls.applied_current[electrode.name]
        area = self._area(electrode.facets)
        secant = GalvanostaticSecant(lambda V: self._set_electrode_voltage(electrode.name, V), self._coupled_solve,
                                     lambda: self.electrode_current(electrode.name), self.scaling.potential,
                                     rtol=rtol, max_iterations=max_iterations)
        stats = secant.run(float(self.electrode_voltage[electrode.name].value), target,
                           1e-3 * self.scaling.current_density * area)
        if not stats.converged:
            self._restore(start)
        return stats

    def _restore(self, values) -> None:
        """Put the mixed unknown back to ``values`` (and heat.T with it, monolithic coupling)."""
        self.u.x.array[:] = values
        self._sync_temperature()

    def error_output(self) -> Callable[[], float] | None:
        """The output whose local error controls the steps with ``error_tolerance`` (:meth:`run`): the
        response of the first electrode to its control, the column of current.csv a user compares: its
        potential V [V] when galvanostatic (the current is the datum), its faradaic current
        :meth:`electrode_current` [A in 3D] when potentiostatic (the potential is the datum). Both are
        one number, equal on every rank. None without electrodes or when the first electrode is blocking
        (its faradaic current is zero)."""
        if not self.electrodes:
            return None
        electrode = self.electrodes[0]
        if electrode.galvanostatic:
            return lambda: float(self.electrode_voltage[electrode.name].value)
        if not electrode.reactions:
            return None
        return lambda: self.electrode_current(electrode.name)

    def _anchored(self) -> bool:
        """True when every species' amount is fixed by a boundary (else a steady state needs the amounts)."""
        fixed = {c.species for c in self.conditions if isinstance(c, FixedConcentration)}
        fixed |= {name for e in self.electrodes for r in e.reactions for name in r.species()}
        fixed |= {c.species for c in self.conditions if isinstance(c, ThermionicContact)}
        if self.closure == "electroneutrality":
            fixed.add(self.species[-1].name)
        return all(s.name in fixed for s in self.species)

    def solve_steady(self, continuation_steps: int = 1, debye_factor: float = 1.0, debye_steps: int = 4,
                     max_halvings: int = 8) -> list[dict]:
        """Steady state at the applied potentials and currents (continuation from the last solve).

        Every applied potential and current moves from its value at the last converged solve (zero
        initially) to its target (constructor or :meth:`set_voltage` / :meth:`set_current`) in
        increments of at most 1 / ``continuation_steps``; a failed increment is halved (at most
        ``max_halvings`` times in a row) and grows again by 1.5 after a success. With ``debye_factor`` > 1 the permittivity is eps debye_factor^2 (Debye length times
        ``debye_factor``) during that ramp and is then lowered geometrically to eps in ``debye_steps``
        solves. A closed system (a species whose amount no boundary fixes) is solved by backward-Euler
        steps of 10^4 diffusion times from the current state, which keep every amount and converge to
        its steady state. Returns the per-solve records (also appended to ``self.records``).
        """
        closed = not self._anchored()
        self.heat_transient.value = 0.0
        self.transient.value = 1.0 if closed else 0.0
        self.step_ratio.value = 0.0
        self.dt.value = 1e4 * self.scaling.time
        self.permittivity_factor.value = debye_factor ** 2
        records = self._ramp(continuation_steps, max_halvings, closed)
        self._controls_solved()
        if debye_factor != 1.0:
            for k in range(1, debye_steps + 1):
                factor = debye_factor ** (1 - k / debye_steps)
                self.permittivity_factor.value = factor ** 2
                stats = self._steady_newton(closed)
                if not stats.converged:
                    raise SolverError(f"steady solve failed at Debye-length factor {factor:.4g} "
                                      f"({stats.reason}); use more debye_steps")
                records.append({"debye_factor": factor, **stats.as_dict()})
        self.records += records
        return records

    def _ramp(self, steps, max_halvings, closed) -> list[dict]:
        """Solve at increasing control fractions up to 1, halving the increment on failure."""
        galvanostatic = list(self.controls.currents)

        def save():
            return (self.u.x.array.copy(), {name: float(self.electrode_voltage[name].value) for name in galvanostatic})

        def restore(saved):
            self._restore(saved[0])
            for name, V in saved[1].items():
                self._set_electrode_voltage(name, V)

        return ramp(self.controls, lambda: self._steady_newton(closed), save, restore, steps, max_halvings)

    def _steady_newton(self, closed: bool):
        """A steady solve (SolveStats); a closed system takes up to 5 long backward-Euler steps (iterations
        summed)."""
        if not closed:
            return self._newton()
        total = None
        for _ in range(5):
            self.u_n.x.array[:] = self.u.x.array
            stats = self._newton()
            total = stats if total is None else stats.summed(total.newton_iterations + stats.newton_iterations,
                                                             total.krylov_iterations + stats.krylov_iterations)
            if not stats.converged:
                return total
            change = self._global_max(np.abs(self.u.x.array - self.u_n.x.array))
            if change < 1e-10:
                break
        return total

    def run(self, t_end: float, dt: float | None = None, scheme: str = "bdf2", dt_min: float | None = None,
            dt_max: float | None = None, output_times=(), on_output: Callable | None = None,
            progress: Callable | None = None, events: Sequence = (), on_step: Callable | None = None,
            voltage_waveforms: Mapping[str, Callable[[float], float]] | None = None,
            error_tolerance: float | None = None, error_output: Callable[[], float] | None = None,
            **stepper_options):
        """Transient solve from the current state to ``t_end`` [s] with adaptive steps [s], from t = 0,
        or after :meth:`restart` from the checkpoint's time, continuing its schedule: the first step, the
        bounds ``dt_min`` and ``dt_max`` default to the checkpoint's (the step the controller wanted next),
        the first BDF2 step uses the step before the checkpoint and the error controller its history, so
        the resumed run takes the steps of the uninterrupted one; step numbers continue.

        ``scheme`` is "bdf1" (backward Euler) or "bdf2" (variable-step BDF2, first step backward Euler).
        A step whose Newton solve fails is rejected and retried with half the step.

        ``error_tolerance``: the largest local time-discretisation error per step of the first electrode's
        response (:meth:`error_output`: its potential [V] when galvanostatic, its current [A] when
        potentiostatic); the steps then follow its predictor–corrector estimate
        (femiec.solvers.error_control.LocalErrorControl; docs/nernst_planck_poisson.md, "Discretization
        and solvers"): a step with a larger error is rejected and redone shorter, the next one is
        dt min(2, max(0.2, 0.9 (tol/err)^(1/(p+1)))) with p the order of the step (1 backward Euler, 2
        BDF2). The first p + 1 steps have the length ``dt`` and are not checked. None: the steps grow on
        Newton iteration counts (below). ``error_output``: another output of the state to control instead,
        in the unit of ``error_tolerance``: a callable returning a number equal on every rank or this
        rank's part of a distributed array (owned nodal values; the largest error over the ranks counts),
        e.g. the vacancy concentrations v / v_0 of :mod:`femiec.problems.memristor`.

        ``on_output(t)`` is called at the start (t = 0 or the restart time), at each of ``output_times`` and at ``t_end``. Returns the per-step records (time,
        dt, Newton and Krylov iterations, rejected attempts; with a galvanostatic electrode also the
        secant's solves ``secant_iterations``), also appended to ``self.records``. The step grows after a
        step whose hardest single Newton solve took at most ``easy_iterations`` (4) iterations, the
        criterion of a potentiostatic step (:attr:`femiec.solvers.SolveStats.control_iterations`): the
        iterations summed over a galvanostatic secant (>= 3 solves) would never let it grow. Each step is
        logged at INFO (``-v``); ``on_step(t)`` is called at the start (not after a restart: the checkpoint's
        time was a step of the run before) and after each accepted step, after ``self.time``, ``self.step``
        and ``self.schedule`` are updated and the step's record is appended (a checkpoint written there
        holds the step).

        ``events``: :class:`femiec.solvers.Event` s of the stepper, evaluated on the state just solved
        (e.g. g = ``problem.electrode_current("anode")`` - I_max or ``problem.facet_mean_concentration(
        "cation", "xmin")`` - c_max); a terminal one ends the run after the step in which it occurs (landed
        on within its tolerance), and ``on_output`` is then called at that time too. ``self.stop_reason``:
        "t_end" or the name of that event; ``self.occurred_events``: the events that occurred (name, step,
        time, g).

        ``voltage_waveforms``: potentiostatic electrode name -> V(t) [V] of the time t [s] since the start
        of the run (e.g. ``lambda t: V0 * np.sin(2 * np.pi * f * t)``): each step solves at V(t + dt), and
        the run ends with V(t_end) as the electrode's applied potential; the state at the start should be
        the one at V(0).
        """
        from femiec.solvers import AdaptiveTimeStepper
        from femiec.solvers.error_control import LocalErrorControl

        resumed, dt, dt_min, dt_max = start_transient(self, scheme, dt, dt_min, dt_max)
        control = None
        if error_tolerance is not None:
            output = error_output or self.error_output()
            if output is None:
                raise InputError("time.error_tolerance", error_tolerance, "a model whose first electrode has a "
                                 "reaction (the local error is estimated on its current or potential)")
            control = LocalErrorControl(error_tolerance, output, order=lambda: 2 if self.step_ratio.value > 0 else 1,
                                        comm=None if error_output is None else self.mesh.comm)
            if self.error_history is not None:  # the outputs of the steps before the checkpoint
                control.resume(self.error_history)
        if self.heat is not None and not self.monolithic:
            raise InputError("model.temperature.coupling", "staggered",
                             "'monolithic' for a transient solve (staggered coupling is for steady solves)")
        if self.heat is not None and self.heat.rho_cp is not None:
            self.heat_transient.value = 1.0  # else the heat equation stays quasi-steady at every step
        t0 = self.time
        stepper = AdaptiveTimeStepper(dt, t_end, t0=t0, dt_min=dt_min, dt_max=dt_max, comm=self.mesh.comm,
                                      log_steps=False, error_control=control, **stepper_options)
        self.transient.value = 1.0
        self._apply_controls(1.0)
        self._controls_solved()
        self.u_n.x.array[:] = self.u.x.array
        first = len(self.records)  # this run's records follow
        outputs = set(float(t) for t in output_times) | {float(t_end)}
        if on_output is not None:
            on_output(t0)
        if on_step is not None and resumed is None:
            on_step(t0)

        waveforms = dict(voltage_waveforms or {})
        for name in waveforms:
            if name not in self.controls.voltages:
                raise InputError("voltage_waveforms", name, f"a potentiostatic electrode: {sorted(self.controls.voltages)}")

        def advance(t, dt_try):
            self.dt.value = dt_try
            for name, waveform in waveforms.items():
                self._set_electrode_voltage(name, float(waveform(t + dt_try)))
            # BDF2 (a BE step first and after a jump beyond its zero-stable step ratio), or BE
            self.step_ratio.value = bdf2_step_ratio(dt_try, self.dt_previous) if scheme == "bdf2" else 0.0
            if self.prescribed is not None:
                self.prescribed.update(t + dt_try)
            return self._newton()

        def reject():
            self._restore(self.u_n.x.array)

        def accept(t_new, dt_step, stats):
            self.u_nm1.x.array[:] = self.u_n.x.array
            self.u_n.x.array[:] = self.u.x.array
            self.time, self.dt_previous, self.step = t_new, dt_step, self.step + 1
            self.schedule = stepper.schedule()
            if control is not None:
                self.error_history = control.history()
            self.records.append({**vars(stepper.records[-1]), "step": self.step,
                                 **({} if stats.secant_iterations is None else
                                    {"secant_iterations": stats.secant_iterations})})
            line = (f"npp step {self.step}: t = {t_new:.6g} s, dt = {dt_step:.3g} s, "
                    f"{stats.newton_iterations} Newton, {stats.krylov_iterations} Krylov, "
                    f"{stepper.records[-1].rejected_attempts} rejected")
            if stats.secant_iterations is not None:
                line += (f", galvanostatic secant: {stats.secant_iterations} solves (hardest "
                         f"{stats.largest_solve_iterations} Newton), V = {stats.electrode_potential:.6g} V")
            log.info(line)
            if on_step is not None:
                on_step(t_new)
            if on_output is not None and is_output(t_new):
                on_output(t_new)

        def is_output(t_new):
            return any(abs(t_new - t) <= 1e-12 * max(t_end, 1.0) for t in outputs)

        steps = stepper.run(advance, accept, reject, output_times=output_times, progress=progress, events=events)
        self.stop_reason, self.occurred_events = stepper.stop_reason, [vars(e) for e in stepper.occurred]
        for name, waveform in waveforms.items():
            self.controls.voltages[name].target = self.controls.voltages[name].solved = float(waveform(self.time))
        if self.stop_reason != "t_end" and on_output is not None and steps and not is_output(self.time):
            on_output(self.time)
        return self.records[first:]

