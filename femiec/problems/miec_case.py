"""The ``mixed_conductor`` case: the MIEC problem of a typed ``[model]`` section
(:class:`femiec.models.mixed_conductor.MixedConductorModel`) and its run (solve, fields, profiles, summary).

Summary entries (SI units), per face with a condition (``faces.<facet>``):
    area_m2; oxygen_flux_mol_s: O2 leaving the MIEC through the face, j_O2 = -int i_ion . n ds / (4F), and
    per area oxygen_flux_mol_m2_s; current_A: total current into the MIEC through the face, and per area
    current_density_A_m2; electronic_potential_V: the face mean of psi_el (what a metal contact or a
    voltmeter on it reads).
``porous`` (with [model.porous]): exchange_current_A = int a i_x dx and the O2 taken up from the pores
    [mol/s] = that / (4F), and the ALS parameters (utilization_length_m, resistance_ohm_m2, time_constant_s)
    at the pore gas's equilibrium.
``cell`` with exactly one electronic contact and one electrolyte contact and one gas pO2 (a two-terminal
    electrode): rest_voltage_V = V_e + (R T/(4F)) ln(pO2/p_ref) (psi_el of the contact at equilibrium),
    overpotential_V = V - rest, asr_ohm_m2 = overpotential / current density (when the current is not 0).
``poisson`` (``electrostatics = "poisson"``, femiec.problems.miec_poisson): debye_length_m of the initial
    state and per contact facet (``faces.<facet>``): area_m2, current_A (the steady current into the MIEC,
    the consistent conduction flux) and current_density_A_m2, surface_potential_V (phi there), charge_C
    (the contact's charge int eps dphi/dn ds) and charge_density_C_m2, all at the final state; with [time]
    also terminal_current_A (conduction plus displacement, the last step's) and charge_passed_C = sum_k dt_k
    I_k (the charge that entered the MIEC there over the run; exact for backward Euler, "bdf1").
``membrane`` with two faces at different gas pO2 (fixed or exchanged), no porous part and no electrolyte:
    thickness_m = volume / area of the high-pO2 face; wagner_flux_mol_m2_s = R T/(16 F^2 L) int sigma_amb
    d ln pO2 (bulk-limited, femiec.analytic.mixed_conductors.wagner_flux), oxygen_flux_mol_m2_s through the
    low-pO2 face; nernst_voltage_V = R T/(4F) ln(p_high/p_low), open_circuit_voltage_V = R T/(4F) int t_ion
    d ln pO2 (both oracles of the open circuit) and voltage_V = psi_el(high) - psi_el(low) (the computed
    cell voltage; equal to the open-circuit value when no current is drawn and the pO2 are fixed).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.materials.defects import P_REF, DefectChemistry, defect_chemistry
from femiec.problems.miec import MixedConductorProblem

#: the profile columns of a 1D run (name, unit)
PROFILE_COLUMNS = (("x", "m"), ("electrons", "mol/m^3"), ("vacancies", "mol/m^3"), ("holes", "mol/m^3"),
                   ("oxygen_pressure", "Pa"), ("ionic_potential", "V"), ("electronic_potential", "V"))


def material_from_section(material):
    """The DefectChemistry of ``model.material``: a library name or a DefectMaterial table."""
    if isinstance(material, str):
        return defect_chemistry(material)
    return DefectChemistry(**material.model_dump(), name="case")


def problem_from_section(model, meshdata, preset: str = "direct", petsc_options: dict | None = None):
    """The MixedConductorProblem of a typed ``mixed_conductor`` section on ``meshdata``, or with
    ``electrostatics = "poisson"`` the NernstPlanckPoisson problem of femiec.problems.miec_poisson."""
    material = material_from_section(model.material)
    T = model.temperature
    if model.electrostatics == "poisson":
        from femiec.problems.miec_poisson import miec_poisson_problem

        return miec_poisson_problem(
            meshdata, material, temperature=T, oxygen_pressure=model.oxygen_pressure,
            relative_permittivity=model.relative_permittivity, recombination_rate=model.recombination_rate,
            conditions=[c.to_condition(material, T) for c in model.conditions], degree=model.degree,
            preset=preset, petsc_options=petsc_options)
    return MixedConductorProblem(
        meshdata, material, temperature=T, oxygen_pressure=model.oxygen_pressure, degree=model.degree,
        conditions=[c.to_condition(material, T) for c in model.conditions], preset=preset,
        petsc_options=petsc_options, porous=None if model.porous is None else model.porous.to_porous(material, T))


def face_summary(problem, facet: str) -> dict:
    """The per-face entries of the module docstring."""
    from femiec.problems.base import global_integral

    area = problem.face_area(facet)
    flux, current = problem.oxygen_flux(facet), problem.current(facet)
    potential = global_integral(problem.u[1] * problem.ds(problem.meshdata.facet_id(facet)), problem.mesh.comm)
    return {"area_m2": area, "oxygen_flux_mol_s": flux, "oxygen_flux_mol_m2_s": flux / area, "current_A": current,
            "current_density_A_m2": current / area, "electronic_potential_V": potential / area}


def _gas_pressures(model) -> dict:
    """{facet: pO2 [Pa]} of the faces in contact with a gas (fixed pO2 or surface exchange)."""
    return {c.facet: c.pressure for c in model.conditions if c.type in ("oxygen_pressure", "surface_exchange")}


def membrane_summary(model, problem, faces: dict) -> dict | None:
    """The ``membrane`` entries of the module docstring, or None when the case is not a two-pO2 membrane."""
    from femiec.analytic.mixed_conductors import open_circuit_voltage, wagner_flux
    from femiec.problems.base import global_integral
    from dolfinx import fem

    gases = _gas_pressures(model)
    if model.porous is not None or any(c.type == "electrolyte_contact" for c in model.conditions) or \
            len(gases) != 2 or len(set(gases.values())) != 2:
        return None
    (high, p_high), (low, p_low) = sorted(gases.items(), key=lambda item: -item[1])
    material, T = problem.material, problem.temperature
    volume = global_integral(fem.Constant(problem.mesh, 1.0) * problem.dx, problem.mesh.comm)
    thickness = volume / faces[high]["area_m2"]

    def at(p):
        return material.electrons_at(p, T)

    return {"high_pressure_face": high, "low_pressure_face": low, "p_high_Pa": p_high, "p_low_Pa": p_low,
            "thickness_m": thickness,
            "wagner_flux_mol_m2_s": wagner_flux(lambda p: material.ambipolar_conductivity(at(p), T), p_low, p_high,
                                                thickness, T),
            "oxygen_flux_mol_m2_s": faces[low]["oxygen_flux_mol_m2_s"],
            "nernst_voltage_V": GAS_CONSTANT * T / (4 * FARADAY) * np.log(p_high / p_low),
            "open_circuit_voltage_V": open_circuit_voltage(lambda p: material.ionic_transference_number(at(p), T),
                                                           p_low, p_high, T),
            "voltage_V": faces[high]["electronic_potential_V"] - faces[low]["electronic_potential_V"]}


def cell_summary(model, problem, faces: dict) -> dict | None:
    """The ``cell`` entries of the module docstring, or None when the case is not a two-terminal electrode."""
    contacts = model.contacts()
    electrolytes = [c for c in model.conditions if c.type == "electrolyte_contact"]
    pressures = set(_gas_pressures(model).values()) | ({model.porous.pressure} if model.porous is not None else set())
    if len(contacts) != 1 or len(electrolytes) != 1 or len(pressures) != 1:
        return None
    rest = electrolytes[0].potential + GAS_CONSTANT * problem.temperature / (4 * FARADAY) * np.log(
        pressures.pop() / P_REF)
    overpotential = faces[contacts[0]]["electronic_potential_V"] - rest
    density = faces[contacts[0]]["current_density_A_m2"]
    out = {"contact": contacts[0], "electrolyte": electrolytes[0].facet, "rest_voltage_V": rest,
           "overpotential_V": overpotential, "current_density_A_m2": density}
    if density != 0:
        out["asr_ohm_m2"] = overpotential / density
    return out


def porous_summary(problem) -> dict:
    """The ``porous`` entries of the module docstring."""
    from femiec.analytic.mixed_conductors import als_parameters
    from femiec.forms.miec import exchange_resistance

    c, m, T = problem.porous, problem.material, problem.temperature
    n = m.electrons_at(c.pressure, T)
    resistance = c.resistance if c.resistance is not None else exchange_resistance(c.exchange_rate, T)
    als = als_parameters(m.ionic_conductivity(n, T), m.chemical_capacitance(n, T), resistance, c.porosity,
                         c.tortuosity, c.specific_surface)
    current = problem.exchange_current()
    return {"exchange_current_A": current, "oxygen_uptake_mol_s": current / (4 * FARADAY),
            "als": {"utilization_length_m": float(als.utilization_length), "resistance_ohm_m2": float(als.resistance),
                    "time_constant_s": float(als.time_constant)}}


def write_profiles(problem, out_dir, comm) -> dict:
    """profiles.csv (columns :data:`PROFILE_COLUMNS`, one row per node, sorted by x) and profiles.png of a 1D
    run (rank 0 writes); {} for a mesh of another dimension."""
    from femiec.io.profiles import plot_profiles, write_profile_csv

    if problem.mesh.topology.dim != 1:
        return {}
    fields = problem.output_fields()
    V = problem.spaces[0]
    owned = V.dofmap.index_map.size_local
    local = [V.tabulate_dof_coordinates()[:owned, 0]]
    for name in ("electrons", "vacancies", "holes", "log_oxygen_pressure", "ionic_potential", "electronic_potential"):
        values = fields[name][0].x.array[:owned]
        local.append(P_REF * np.exp(values) if name == "log_oxygen_pressure" else values)
    gathered = comm.gather(np.column_stack(local), root=0)
    if comm.rank == 0:
        table = np.concatenate(gathered)
        table = table[np.argsort(table[:, 0])]
        write_profile_csv(Path(out_dir) / "profiles.csv", PROFILE_COLUMNS, table)
        plot_profiles(Path(out_dir) / "profiles.png", PROFILE_COLUMNS, table)
    comm.barrier()
    return {"profiles_csv": "profiles.csv", "profiles_png": "profiles.png"}


def run_case(case, problem, out_dir, progress=None) -> dict:
    """Steady solve (no [time]) or transient run from the initial equilibrium (with [time]: adaptive steps,
    fields at the start, at the first step at or after each of the ``outputs`` evenly spaced times and at
    t_end, faces.csv with every face's O2 flux [mol/s] and current [A] after each step); writes the fields,
    profiles.csv/png of a 1D mesh, and returns the summary entries of the module docstring. A transient run
    checkpoints into ``<out_dir>/checkpoint`` after every ``model.checkpoint.every``-th step and at the end
    (femiec.problems.npp.case.CaseCheckpoints: the MIEC state, femiec.problems.miec_checkpoint, with the
    faces.csv rows and the output times still ahead); one restarted from a checkpoint (``problem.resumed``,
    ``[model.checkpoint] restart``) continues them, so faces.csv runs from the first step and the summary
    (steps) is the uninterrupted run's; its fields go into the next numbered series. On SIGINT/SIGTERM
    (:class:`femiec.errors.Interrupted`) faces.csv of the steps so far and the checkpoint are written before
    it is raised again with the checkpoint's directory. ``electrostatics = "poisson"``:
    :func:`run_poisson_case`."""
    from femiec.errors import Interrupted
    from femiec.io.fields import FieldWriter
    from femiec.problems.npp.case import CaseCheckpoints

    if case.model.electrostatics == "poisson":
        return run_poisson_case(case, problem, out_dir, progress)
    model, time, comm, resumed = case.model, case.time, problem.mesh.comm, problem.resumed
    facets = list(dict.fromkeys(c.facet for c in model.conditions))
    fields = problem.output_fields()
    writer = FieldWriter(out_dir, fields, formats=tuple(case.output.formats), selection=case.output.fields,
                         continuation=resumed is not None)

    def write(t):
        for name, (f, _) in problem.output_fields().items():
            fields[name][0].x.array[:] = f.x.array
        writer.write(t)

    files = {}
    with writer:
        if time is None:
            solver = problem.solve_steady()
            write(0.0)
        else:
            extra = (resumed or {}).get("extra") or {}
            rows = list(extra.get("face_rows", []))
            marks = list(extra.get("output_marks", [time.t_end * k / time.outputs for k in range(1, time.outputs)]))
            checkpoints = CaseCheckpoints(problem, out_dir, model.checkpoint.every,
                                          lambda: {"face_rows": rows, "output_marks": marks})
            write(problem.time)

            def on_step(t, dt):
                rows.append([t] + [x for f in facets for x in (problem.oxygen_flux(f), problem.current(f))])
                if marks and t >= marks[0] * (1 - 1e-12):
                    marks[:] = [m for m in marks if m > t]
                    write(t)
                if progress is not None:
                    progress(t / time.t_end)

            try:
                problem.run(time.t_end, None if (resumed or {}).get("schedule") else time.dt, scheme=time.scheme,
                            on_step=on_step, after_step=checkpoints.after_step, dt_min=time.dt_min,
                            dt_max=time.dt_max, error_tolerance=time.error_tolerance)
            except Interrupted as exc:  # SIGINT/SIGTERM at a step boundary: faces.csv of the steps so far
                _write_face_series(out_dir, facets, rows, comm)
                checkpoints.save()
                exc.checkpoint = checkpoints.directory
                raise
            write(time.t_end)
            files.update(_write_face_series(out_dir, facets, rows, comm))
            checkpoints.save()
            files["checkpoint"] = "checkpoint"
            solver = {"steps": problem.step}
    if progress is not None:
        progress(1.0)
    faces = {f: face_summary(problem, f) for f in facets}
    derived = {"faces": faces}
    for name, entry in (("membrane", membrane_summary(model, problem, faces)),
                        ("cell", cell_summary(model, problem, faces)),
                        ("porous", porous_summary(problem) if problem.porous is not None else None)):
        if entry is not None:
            derived[name] = entry
    files.update(write_profiles(problem, out_dir, comm))
    return {"model": "mixed_conductor", "derived": derived, "solver": solver, "fields": writer.describe(),
            **({"files": files} if files else {})}


def run_poisson_case(case, problem, out_dir, progress=None) -> dict:
    """The full-Poisson MIEC (femiec.problems.miec_poisson): without [time] its steady state (the applied
    potentials ramped in 4 steps), with [time] its transient from the initial equilibrium
    (:func:`femiec.problems.miec_poisson.run_transient`: the applied potentials from the first step on, fields
    at t = 0, at the ``outputs`` evenly spaced times and at t_end, current.csv/png with every contact's
    terminal current [A] and potential phi [V] after each step); writes the fields (potential [V],
    concentration_vacancy, _electron, _hole [mol/m^3]) and returns the ``poisson`` summary entries of the
    module docstring. A transient run checkpoints into ``<out_dir>/checkpoint`` after every
    ``model.checkpoint.every``-th step and at the end (femiec.problems.npp.case.CaseCheckpoints: the NPP
    state and the terminal-current recorders' history); one restarted from a checkpoint (``problem.resumed``,
    ``[model.checkpoint] restart``) continues its recorders, schedule and output times, so current.csv runs
    from t = 0 and the summary (charge passed, steps) is the uninterrupted run's; its fields go into the next
    numbered series. On SIGINT/SIGTERM (:class:`femiec.errors.Interrupted`) current.csv of the steps so far
    and the checkpoint are written before it is raised again with the checkpoint's directory."""
    from femiec.errors import Interrupted
    from femiec.io.fields import FieldWriter
    from femiec.problems.miec_poisson import run_transient
    from femiec.problems.npp.case import CaseCheckpoints

    facets = list(dict.fromkeys(c.facet for c in case.model.conditions))
    time, comm, resumed = case.time, problem.mesh.comm, problem.resumed
    writer = FieldWriter(out_dir, problem.output_fields(), formats=tuple(case.output.formats),
                         selection=case.output.fields, continuation=resumed is not None)

    def write(t):
        problem.update_output()
        writer.write(t)

    files = {}
    # every contact's TerminalCurrent.history() (times, potentials, currents, charges) from t = 0
    histories = dict((resumed or {}).get("extra", {}).get("terminal_currents") or {})
    with writer:
        if time is None:
            solver = {"solves": len(problem.solve_steady(continuation_steps=4))}
            write(0.0)
        else:
            checkpoints = CaseCheckpoints(problem, out_dir, case.model.checkpoint.every,
                                          lambda: {"terminal_currents": histories})

            def on_step(t, recorders):
                histories.update({f: r.history() for f, r in recorders.items()})
                checkpoints.after_step()

            schedule = (resumed or {}).get("schedule")  # None before the first step
            try:
                run_transient(problem, time.t_end, None if schedule else time.dt, scheme=time.scheme,
                              error_tolerance=time.error_tolerance, dt_min=time.dt_min, dt_max=time.dt_max,
                              on_output=write, on_step=on_step, history=histories,
                              output_times=(schedule["output_times"] if schedule else
                                            [time.t_end * k / time.outputs for k in range(1, time.outputs)]),
                              progress=None if progress is None else (lambda t: progress(t / time.t_end)))
            except Interrupted as exc:
                _write_current_series(out_dir, facets, _current_rows(histories, facets), comm)
                checkpoints.save()
                exc.checkpoint = checkpoints.directory
                raise
            rows = _current_rows(histories, facets)
            files.update(_write_current_series(out_dir, facets, rows, comm))
            checkpoints.save()
            files["checkpoint"] = "checkpoint"
            solver = {"steps": len(rows)}
    if progress is not None:
        progress(1.0)
    derived = {"debye_length_m": problem.debye_length(), "faces": poisson_faces(problem, facets)}
    for facet, history in histories.items():
        passed = float(np.dot(np.diff(history["times"]), history["currents"][1:]))
        derived["faces"][facet].update({"terminal_current_A": history["currents"][-1], "charge_passed_C": passed})
    return {"model": "mixed_conductor", "derived": {"poisson": derived}, "solver": solver,
            "fields": writer.describe(), **({"files": files} if files else {})}


def poisson_faces(problem, facets) -> dict:
    """The per-contact ``poisson`` entries of the module docstring at the present state."""
    from dolfinx import fem

    from femiec.problems.base import global_integral
    from femiec.problems.miec_poisson import contact_current

    faces = {}
    for facet in facets:
        area = global_integral(fem.Constant(problem.mesh, 1.0) * problem.ds(problem.meshdata.facet_id(facet)),
                               problem.mesh.comm)
        current = contact_current(problem, facet)
        charge = global_integral(problem.charge_form(facet), problem.mesh.comm)
        faces[facet] = {"area_m2": area, "current_A": current, "current_density_A_m2": current / area,
                        "surface_potential_V": problem.electrode_potential(facet), "charge_C": charge,
                        "charge_density_C_m2": charge / area}
    return faces


def _current_rows(histories: dict, facets: list[str]) -> list[list[float]]:
    """current.csv's rows of the contacts' TerminalCurrent.history(): after each step (not the start, which
    has no rate), the time [s], then every contact's terminal current [A] and potential phi [V]."""
    if not histories:
        return []
    times = histories[facets[0]]["times"]
    return [[times[k]] + [x for f in facets for x in (histories[f]["currents"][k], histories[f]["voltages"][k])]
            for k in range(1, len(times))]


def _write_current_series(out_dir, facets: list[str], rows: list, comm) -> dict:
    """current.csv and current.png (femiec.io.current_series): time_s, then current_<facet>_A (the terminal
    current into the MIEC) and potential_<facet>_V (phi of the contact) of every contact, after each step."""
    from femiec.io.current_series import plot_current_series, write_current_csv

    write_current_csv(Path(out_dir) / "current.csv", facets, rows, comm)
    plot_current_series(Path(out_dir) / "current.png", facets, rows, comm)
    return {"current_csv": "current.csv", "current_png": "current.png"}


def _write_face_series(out_dir, facets: list[str], rows: list, comm) -> dict:
    """faces.csv: time_s, then oxygen_flux_<facet>_mol_s and current_<facet>_A of every face."""
    from femiec.io.profiles import write_profile_csv

    columns = [("time", "s")] + [c for f in facets for c in ((f"oxygen_flux_{f}", "mol/s"), (f"current_{f}", "A"))]
    if comm.rank == 0:
        write_profile_csv(Path(out_dir) / "faces.csv", columns, np.array(rows).reshape(len(rows), len(columns)))
    comm.barrier()
    return {"faces_csv": "faces.csv"}
