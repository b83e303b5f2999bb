"""Nernst–Planck–Poisson case sections: the problem of a typed ``[model]`` section
(:class:`femiec.models.nernst_planck_poisson.NernstPlanckPoissonModel`; keys in
docs/nernst_planck_poisson.md), its restart from ``[model.checkpoint] restart`` and the case runner
(solve, write the fields, current.csv and checkpoints, summary entries)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from femiec.errors import InputError
from femiec.problems.npp.model import NernstPlanckPoisson


def problem_from_section(model, meshdata, preset: str = "direct", petsc_options: dict | None = None,
                         checks_only: bool = False) -> NernstPlanckPoisson:
    """Build the problem of a typed model section (SI units) on ``meshdata`` with the solver ``preset`` and
    ``petsc_options`` (``checks_only``: run its input checks and set its scales, build no space). Every table becomes the declarative object the problem takes, named by its case key
    (``model.species[i]``, ``model.conditions[i]``, ``model.electrodes[i].reactions[k]``, ...), so the
    checks that need the mesh or the other species name the case key too."""
    from femiec.problems.thermal_case import temperature_from_section

    coupling = {}
    if hasattr(model.temperature, "coupling_arguments"):  # a solved temperature with its coupling keys
        coupling = model.temperature.coupling_arguments("model.temperature")
    return NernstPlanckPoisson(
        meshdata, [s.to_species(f"model.species[{i}]") for i, s in enumerate(model.species)],
        conditions=[c.to_condition(f"model.conditions[{i}]") for i, c in enumerate(model.conditions)],
        electrodes=[e.to_electrode(f"model.electrodes[{i}]") for i, e in enumerate(model.electrodes)],
        temperature=temperature_from_section(model.temperature, meshdata),
        relative_permittivity=model.relative_permittivity, fixed_charge=model.fixed_charge,
        closure=model.closure, degree=model.degree, variables=model.variables, preset=preset,
        petsc_options=petsc_options, checks_only=checks_only, **coupling)


def restart(problem, directory, time) -> None:
    """Restart ``problem`` from the checkpoint ``directory`` (its ``restart``:
    :meth:`NernstPlanckPoisson.restart` or :meth:`femiec.problems.miec.MixedConductorProblem.restart`) and
    check the case's end time ``time.t_end`` [s] lies after the checkpoint's time (InputError)."""
    problem.restart(directory)
    check_end_time(time, problem.time)


def check_end_time(time, restart_time: float) -> None:
    """InputError unless the case's end time ``time.t_end`` [s] lies after ``restart_time`` [s]."""
    if not time.t_end > restart_time:
        raise InputError("time.t_end", time.t_end, f"an end time after the restart time {restart_time:.9g} s")


class CaseCheckpoints:
    """The checkpoints of a case's transient run, into ``<out_dir>/checkpoint``
    (``problem.checkpoint(directory, extra=...)``, two slots: :meth:`NernstPlanckPoisson.checkpoint` or
    :meth:`femiec.problems.miec.MixedConductorProblem.checkpoint`; ``problem.step`` the accepted steps):
    after every ``every``-th accepted step (:meth:`after_step`; step numbers count from t = 0, through
    restarts; 0: none on the way) and at the end or on an interrupt (:meth:`save`), each holding ``extra()``
    (the caller's JSON state). A step is written once, so the other slot keeps the checkpoint before."""

    def __init__(self, problem, out_dir, every: int, extra: Callable[[], dict]):
        self.problem, self.directory, self.every, self.extra = problem, Path(out_dir) / "checkpoint", every, extra
        self.written: int | None = None  # the step of the last checkpoint this run wrote

    def after_step(self) -> None:
        """Write the checkpoint when the step just accepted is an ``every``-th one."""
        if self.every and self.problem.step > 0 and self.problem.step % self.every == 0:
            self.save()

    def save(self) -> None:
        """Write the checkpoint of the last accepted step (nothing when it is written already)."""
        if self.written != self.problem.step:
            self.problem.checkpoint(self.directory, extra=self.extra())
            self.written = self.problem.step


def run_case(model, problem: NernstPlanckPoisson, out_dir, progress: Callable | None = None, time=None,
             formats: Sequence[str] = ("vtx",), fields: Sequence[str] | None = None) -> dict:
    """Solve the problem of a typed model section and write its fields; returns the summary entries.

    ``problem``: built from ``model`` (:func:`problem_from_section`). Steady with ``model.steady``
    {continuation_steps, debye_factor, debye_steps} when ``time`` is None, else transient with ``time``
    (a [time] section: t_end, dt, dt_min, dt_max, scheme, outputs, error_tolerance). Fields ``potential`` and
    ``concentration_<species>`` (and ``temperature`` when it is a field) go to ``out_dir`` in ``formats``
    (only those named in ``fields`` when given, the ``[output] fields`` selection).
    A transient run with electrodes also writes ``current.csv`` and ``current.png`` (each electrode's
    current [A] and potential [V] at t = 0 and after every step), and a transient run checkpoints
    (``<out_dir>/checkpoint``, :meth:`NernstPlanckPoisson.checkpoint`) after every ``model.checkpoint.every``-th
    step (step numbers count from t = 0, through restarts) and at the end. A run restarted from a checkpoint
    (``problem.resumed``) continues its current.csv rows, its schedule and its output times, and writes its
    fields into the next numbered series (``<name>_part<k>``). On SIGINT/SIGTERM
    (:class:`femiec.errors.Interrupted`, raised at a step boundary) it writes current.csv/png and the
    checkpoint and raises again with the time reached and the checkpoint's directory.
    """
    from femiec.errors import Interrupted
    from femiec.io.fields import FieldWriter

    resumed = problem.resumed
    writer = FieldWriter(out_dir, problem.output_fields(), formats=tuple(formats), selection=fields,
                         continuation=resumed is not None)
    electrodes = [e.name for e in problem.electrodes]
    series = list(resumed["extra"].get("current_rows", [])) if resumed else []
    checkpoints = CaseCheckpoints(problem, out_dir, model.checkpoint.every, lambda: {"current_rows": series})

    def on_step(t):
        if electrodes:
            series.append([t] + [x for name in electrodes for x in (problem.electrode_current(name),
                                                                     float(problem.electrode_voltage[name].value))])
        checkpoints.after_step()

    def write(t):
        problem.update_output()
        writer.write(t)

    with writer:
        if time is None:
            problem.solve_steady(**model.steady.model_dump())
            write(0.0)
            if progress is not None:
                progress(1.0)
        else:
            t_end = time.t_end
            schedule = (resumed or {}).get("schedule")  # None before the first step
            output_times = (schedule["output_times"] if schedule
                            else [t_end * k / time.outputs for k in range(1, time.outputs)])
            try:
                problem.run(t_end=t_end, dt=None if schedule else time.dt, dt_min=time.dt_min, dt_max=time.dt_max,
                            scheme=time.scheme, error_tolerance=time.error_tolerance, output_times=output_times,
                            on_output=write, progress=None if progress is None else (lambda t: progress(t / t_end)),
                            on_step=on_step)
            except Interrupted as exc:
                _write_current_series(out_dir, electrodes, series, problem.mesh.comm)
                checkpoints.save()
                exc.checkpoint = checkpoints.directory
                raise
            _write_current_series(out_dir, electrodes, series, problem.mesh.comm)
            checkpoints.save()
    derived = problem.derived_quantities()
    if problem.heat is not None:
        derived["heat_balance [W]"] = problem.heat.heat_balance()
    return {"model": "nernst_planck_poisson", "derived": derived,
            "scaling": {"length_m": problem.scaling.length, "concentration_mol_m3": problem.scaling.concentration,
                        "time_s": problem.scaling.time, "potential_V": problem.scaling.potential,
                        "debye_length_m": problem.scaling.debye_length},
            "solver": {"records": problem.records}, "fields": writer.describe(),
            **({"files": {**({"current_csv": "current.csv", "current_png": "current.png"} if electrodes else {}),
                          "checkpoint": "checkpoint"}} if time else {})}


def _write_current_series(out_dir, electrodes: list[str], rows: list, comm) -> None:
    """current.csv and current.png of a transient run with electrodes (nothing without electrodes)."""
    from femiec.io.current_series import plot_current_series, write_current_csv

    if electrodes:
        write_current_csv(Path(out_dir) / "current.csv", electrodes, rows, comm)
        plot_current_series(Path(out_dir) / "current.png", electrodes, rows, comm)
