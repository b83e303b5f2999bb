"""Case-file entry point of the electrode model (``model.kind = "electrode"``; keys in docs/electrode.md).

On a voxel image the phases are checked for connectivity first (6-connected voxel clusters,
``scipy.ndimage.label``): electrolyte clusters that do not reach the separator face and solid (active +
conductor) clusters that do not reach the collector face cannot carry current and are made inert, and
every remaining 6-connected cluster of active material is one particle (its state of charge is
reported). Cells get these labels from the voxel holding their centre. On an image read by planes the
clusters are labelled on each rank's planes and joined across the ranks (femiec.problems.electrode_planes;
the same labels). On a conforming image mesh
(``[mesh] mesher = "conforming"``) the same rules apply to the mesh's facet-connected cells
(:mod:`femiec.problems.electrode_clusters`).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from femiec.errors import InputError
from femiec.meshing.tomography import BOX_FACES
from femiec.problems.electrode import ElectrodeProblem
from femiec.problems.electrode_ch_particle import regular_solution_voltage
from femiec.problems.electrode_geometry import check_reactive_area, is_voxel_mesh, reactive_area_for


def _connected_to(mask: np.ndarray, face: str) -> np.ndarray:
    """Voxels of ``mask`` in 6-connected clusters touching the box face ``face``."""
    from scipy import ndimage

    labels, _ = ndimage.label(mask)
    axis, index = BOX_FACES[face]
    touching = np.unique(np.take(labels, index, axis=axis))
    return np.isin(labels, touching[touching > 0])


def image_phase_labels(image: np.ndarray, electrolyte: list[int], active: list[int], conductor: list[int],
                       separator: str = "xmin", collector: str = "xmax") -> tuple[np.ndarray, np.ndarray]:
    """(inert, particles) voxel arrays: inert voxels and the particle label of every connected active
    voxel (1, 2, ...; 0 elsewhere). Inert: solid clusters that do not reach the collector face and
    electrolyte clusters that do not reach the separator face or touch no connected active voxel."""
    from scipy import ndimage

    for key, face in (("model.separator", separator), ("model.collector", collector)):
        if face not in BOX_FACES:
            raise InputError(key, face, f"a box face {sorted(BOX_FACES)} on an image mesh")
    pore = np.isin(image, electrolyte)
    solid = np.isin(image, active + conductor)
    kept_solid = _connected_to(solid, collector)
    kept_active = np.isin(image, active) & kept_solid
    # an electrolyte cluster carries current only when it joins the separator to active material
    pore_labels, _ = ndimage.label(pore & _connected_to(pore, separator))
    reacting = np.unique(pore_labels[ndimage.binary_dilation(kept_active)])
    kept_pore = np.isin(pore_labels, reacting[reacting > 0])
    inert = (pore & ~kept_pore) | (solid & ~kept_solid)
    particles, _ = ndimage.label(kept_active)
    return inert, particles


def cell_voxel_values(meshdata, array: np.ndarray) -> np.ndarray:
    """``array`` at the voxel holding each local cell's centre (voxel meshes; owned and ghost cells)."""
    mesh = meshdata.mesh
    imap = mesh.topology.index_map(mesh.topology.dim)
    nodes = mesh.geometry.dofmap[: imap.size_local + imap.num_ghosts]
    centre = mesh.geometry.x[nodes].mean(axis=1)
    spacing = np.asarray(meshdata.info["voxel_size_m"], dtype=float)
    ijk = np.clip(np.floor(centre / spacing).astype(np.int64), 0, np.array(array.shape) - 1)
    return array[tuple(ijk.T)]


def check_section(model, meshdata) -> None:
    """The checks of a typed ``[model]`` section that need no problem: the collector is facets or a cell
    region, on an image mesh the separator and collector are box faces, ``reactive_area`` = "smooth" only on
    a voxel mesh (unset: :func:`reactive_area_for`), and the run's cut-off lies beyond the initial open-circuit voltage
    (:func:`check_cutoff_side`)."""
    check_reactive_area(reactive_area_for(model.reactive_area, is_voxel_mesh(meshdata)), meshdata)
    active = model.active_material
    ocv = (active.open_circuit_voltage() if model.particle_model == "fickian"
           else regular_solution_voltage(model.cahn_hilliard, model.temperature))
    check_cutoff_side(model.discharge, float(ocv(active.initial_stoichiometry)))
    for name in model.collector:  # facets, or a cell region held at phi_s = 0
        if name not in meshdata.cell_names:
            _check_name("model.collector", meshdata.facet_id, name)
    if meshdata.from_image:
        for key, face in (("model.separator", model.separator[0]), ("model.collector", model.collector[0])):
            if face not in BOX_FACES:
                raise InputError(key, face, f"a box face {sorted(BOX_FACES)} on an image mesh")


def problem_from_section(model, meshdata, preset: str = "direct", petsc_options: dict | None = None,
                         electrolyte_preconditioner: str = "split", pair_preconditioner: str = "block"
                         ) -> ElectrodeProblem:
    """The problem of a typed ``[model]`` section (:class:`femiec.models.electrode.ElectrodeModel`),
    restarted from ``[model.checkpoint] restart`` when given, with the run's end time checked against its
    start; ``preset``, ``petsc_options``, ``electrolyte_preconditioner``, ``pair_preconditioner``: the case's
    [solver] (ElectrodeProblem's keywords). On a voxel mesh the image it was built from
    (cropped, filtered, padded: ``meshdata.image``, or this rank's ``meshdata.planes`` of it,
    femiec.problems.electrode_planes) labels the cut-off clusters and the particles; on a conforming image
    mesh the mesh's own facet-connected cells do (femiec.problems.electrode_clusters)."""
    check_section(model, meshdata)
    inert = particles = None
    if meshdata.image is not None:  # the separator and collector must be box faces (checked here)
        electrolyte, active, conductor = _phase_values(model, meshdata)
        inert_voxels, particle_voxels = image_phase_labels(meshdata.image, electrolyte, active, conductor,
                                                           model.separator[0], model.collector[0])
        inert = np.flatnonzero(cell_voxel_values(meshdata, inert_voxels)).astype(np.int32)
        particles = cell_voxel_values(meshdata, particle_voxels)
    elif meshdata.planes is not None:  # the same rules on this rank's planes (femiec.problems.electrode_planes)
        from femiec.problems.electrode_planes import cell_plane_values, check_halo, planes_phase_labels

        check_halo(meshdata.planes, meshdata.info["voxel_size_m"])
        electrolyte, active, conductor = _phase_values(model, meshdata)
        inert_voxels, particle_voxels = planes_phase_labels(meshdata.planes, meshdata.comm, electrolyte, active,
                                                            conductor, model.separator[0], model.collector[0])
        inert = np.flatnonzero(cell_plane_values(meshdata, meshdata.planes, inert_voxels)).astype(np.int32)
        particles = cell_plane_values(meshdata, meshdata.planes, particle_voxels)
    elif meshdata.info.get("geometry") == "conforming_image":  # the same rules on the mesh's own cells
        from femiec.problems.electrode_clusters import mesh_phase_labels

        layer = model.porous_separator.regions if model.porous_separator is not None else []
        values = {key: [meshdata.cell_tag(n) for n in names] for key, names in (
            ("electrolyte", [*model.electrolyte_regions, *layer]), ("active", model.active_regions),
            ("conductor", model.conductor_regions))}
        inert_cells, particles = mesh_phase_labels(meshdata, values["electrolyte"], values["active"],
                                                   values["conductor"], list(model.separator),
                                                   list(model.collector))
        inert = np.flatnonzero(inert_cells).astype(np.int32)
    problem = ElectrodeProblem(
        meshdata, electrolyte_regions=model.electrolyte_regions, active_regions=model.active_regions,
        conductor_regions=model.conductor_regions, separator=model.separator, collector=model.collector,
        electrolyte=model.electrolyte, active=model.active_material,
        conductor_conductivity=model.conductor_conductivity, temperature=model.temperature,
        porous_separator=model.porous_separator, double_layer=model.double_layer,
        double_layer_capacitance=model.double_layer_capacitance, reactive_area=reactive_area_for(model.reactive_area, is_voxel_mesh(meshdata)),
        inert_cells=inert, particle_labels=particles, particle_model=model.particle_model,
        cahn_hilliard=model.cahn_hilliard, preset=preset,
        petsc_options=petsc_options, electrolyte_preconditioner=electrolyte_preconditioner,
        pair_preconditioner=pair_preconditioner)
    if model.checkpoint.restart is not None:
        problem.restart(model.checkpoint.restart)
    t_end = run_arguments(model.discharge, problem)["t_end"]
    if not t_end > problem.time:
        raise InputError("model.discharge.t_end", t_end, f"an end time after the restart time {problem.time} s")
    return problem


def _phase_values(model, meshdata) -> tuple[list[int], list[int], list[int]]:
    """Image values of the electrolyte (with the porous separator layer), active and conductor regions."""
    layer = model.porous_separator.regions if model.porous_separator is not None else []
    return tuple([meshdata.cell_tag(n) for n in names] for names in (
        [*model.electrolyte_regions, *layer], model.active_regions, model.conductor_regions))


def check_cutoff_side(discharge, open_circuit_voltage: float) -> None:
    """The cut-off of the run's direction lies beyond the open-circuit voltage U(x0) [V] of the initial
    state: a discharge (c_rate or current > 0) lowers the voltage, so voltage_min < U(x0); a charge raises
    it, so voltage_max > U(x0). A cut-off on the wrong side would end the run after its first step as if
    it had been reached (InputError naming ``model.discharge.voltage_min`` / ``voltage_max``)."""
    sign = discharge.c_rate if discharge.c_rate is not None else discharge.current
    if sign > 0 and not discharge.voltage_min < open_circuit_voltage:
        raise InputError("model.discharge.voltage_min", discharge.voltage_min,
                         f"a cut-off below the open-circuit voltage U(x0) = {open_circuit_voltage:.4g} V of "
                         "the initial state (a discharge lowers the voltage)")
    if sign < 0 and not discharge.voltage_max > open_circuit_voltage:
        raise InputError("model.discharge.voltage_max", discharge.voltage_max,
                         f"a cut-off above the open-circuit voltage U(x0) = {open_circuit_voltage:.4g} V of "
                         "the initial state (a charge raises the voltage)")


def run_arguments(discharge, problem: ElectrodeProblem) -> dict:
    """The keyword arguments of ``problem.run`` for a ``[model.discharge]`` table: its keys and the end
    time (default 1.2 h / |C-rate| from t = 0). After a restart the case's ``dt`` (the first step of the
    run) is dropped: ``problem.run`` continues with the step the checkpoint's controller wanted next."""
    arguments = discharge.run_arguments()
    current = arguments.get("current") or arguments["c_rate"] * problem.one_c_current()
    arguments.setdefault("t_end", 1.2 * problem.one_c_current() / abs(current) * 3600.0)
    if problem.resumed is not None:
        arguments.pop("dt", None)
    return arguments


def run_fraction(problem: ElectrodeProblem, current: float, t_end: float, voltage_min: float,
                 voltage_max: float) -> Callable:
    """``fraction(record)``: how much of a galvanostatic run at ``current`` [A] is done at ``record``, for
    the progress display (never decreasing, at most 1): the largest of the time over ``t_end``, the
    voltage's way from the first record's to the cut-off (``voltage_min`` [V] on discharge,
    ``voltage_max`` on charge) and the mean stoichiometry's way to the end of its window, whichever stop
    comes first. At 1C a discharge reaches its cut-off at ~40-50% of the default t_end (1.2 h), where the
    time alone would leave the display; the voltage's way also tracks the cost better than the time (the
    ramp from rest, ~2/3 of the 64^3 demo's steps and ~1/2 of the 128^3 run's wall time, ends at ~52%
    of it)."""
    lo, hi = problem.active.stoichiometry_window
    done = [0.0]

    def fraction(record) -> float:
        first = problem.records[0]
        if current > 0:
            voltage = _share(first.voltage - record.voltage, first.voltage - voltage_min)
            window = _share(record.stoichiometry - first.stoichiometry, hi - first.stoichiometry)
        else:
            voltage = _share(record.voltage - first.voltage, voltage_max - first.voltage)
            window = _share(first.stoichiometry - record.stoichiometry, first.stoichiometry - lo)
        done[0] = max(done[0], min(max(record.time / t_end, voltage, window), 1.0))
        return done[0]
    return fraction


def _share(way: float, whole: float) -> float:
    """way / whole, or 1 when there is no way to go (a run that starts at its stop)."""
    return way / whole if whole > 0 else 1.0


def _check_name(key: str, lookup: Callable, name) -> None:
    """``lookup(name)`` (a MeshData tag lookup); its InputError is re-raised naming the case key ``key``."""
    try:
        lookup(name)
    except InputError as exc:
        raise InputError(key, exc.value, exc.expected) from None


def run_case(case, problem: ElectrodeProblem, out_dir, progress: Callable | None = None) -> dict:
    """Run the galvanostatic discharge/charge of an electrode case on the problem
    :func:`problem_from_section` built; write fields (VTX), voltage.csv, voltage.png (with Cahn–Hilliard
    particles also phase_boundaries.png) and checkpoints to ``out_dir``; return the summary entries. A checkpoint is written after every ``every``-th step (step
    numbers count from the start of the discharge, through restarts) and at the end. A restarted run keeps
    the output times its checkpoint had still ahead and continues the field series (joined at the end).
    On SIGINT/SIGTERM (:class:`femiec.errors.Interrupted`, raised at a step boundary) it writes the
    checkpoint, voltage.csv and voltage.png and raises again with the checkpoint's directory."""
    from femiec.errors import Interrupted
    from femiec.io.fields import FieldWriter

    out_dir = Path(out_dir)
    checkpoint = out_dir / "checkpoint"
    resumed = problem.resumed
    discharge = run_arguments(case.model.discharge, problem)
    outputs = case.model.discharge.outputs
    description = problem.describe()
    current = discharge.get("current") or discharge["c_rate"] * problem.one_c_current()
    t_end = discharge["t_end"]
    output_times = (resumed["output_times"] if resumed and "output_times" in resumed
                    else [t_end * k / outputs for k in range(1, outputs)])
    every = case.model.checkpoint.every
    writer = FieldWriter(out_dir, problem.output_fields(), formats=tuple(case.output.formats),
                         continuation=resumed is not None, selection=case.output.fields)

    def write(t):
        problem.update_output()
        writer.write(t)

    written = []  # the step numbers checkpointed

    def save():
        step = len(problem.records) - 1
        if not written or written[-1] != step:  # the other slot keeps the checkpoint before
            problem.checkpoint(checkpoint)
            written.append(step)

    fraction = run_fraction(problem, current, t_end, discharge["voltage_min"], discharge["voltage_max"])

    def on_step(record):
        if progress is not None:
            progress(fraction(record))
        if every and (len(problem.records) - 1) % every == 0:
            save()

    try:
        with writer:
            reason = problem.run(**discharge, output_times=output_times, on_output=write, on_step=on_step)
    except Interrupted as exc:
        save()
        _write_curve(problem, out_dir, description, current)
        exc.time, exc.checkpoint = problem.time, checkpoint
        raise
    save()
    _write_curve(problem, out_dir, description, current)
    soc = problem.particle_stoichiometry()
    last = problem.records[-1]
    files = {"voltage_csv": "voltage.csv", "voltage_png": "voltage.png", "checkpoint": "checkpoint"}
    summary = {"model": "electrode", "stop_reason": reason, "description": description,
               "final": {"time_s": last.time, "voltage_V": last.voltage, "capacity_Ah": last.capacity_Ah,
                         "stoichiometry": last.stoichiometry},
               "particle_stoichiometry": {"label": list(soc), "mean_c_over_cmax": list(soc.values()),
                                          "min": min(soc.values()), "max": max(soc.values())},
               "time_steps": time_steps(problem, discharge),
               "solver": {"records": [{k: v for k, v in vars(r).items() if v is not None} for r in problem.records]},
               "files": files, "fields": writer.describe()}
    phases = phase_boundary_summary(problem.records)
    if phases is not None:
        summary["phase_boundaries"] = phases
        files["phase_boundaries_png"] = "phase_boundaries.png"
    return summary


def phase_boundary_summary(records) -> dict | None:
    """summary.json's ``phase_boundaries`` (Cahn–Hilliard particles; None otherwise): over the solver steps
    since t = 0, the largest phase-boundary area [m^2] and the most particles transforming at once (state
    of charge inside the spinodal) with their fraction of the particles."""
    points = [r for r in records if r.phase_boundary_area_m2 is not None]
    if not points:
        return None
    most = max(points, key=lambda r: r.transforming_particles)
    return {"largest_phase_boundary_area_m2": max(r.phase_boundary_area_m2 for r in points),
            "most_particles_transforming": most.transforming_particles,
            "most_particles_transforming_fraction": most.transforming_fraction}


def time_steps(problem: ElectrodeProblem, discharge: dict) -> dict:
    """summary.json's ``time_steps``: the accepted solver steps since t = 0 (through restarts) and the
    attempts rejected on the way, the points interpolated between them (``dense_output``), and the scheme
    and local error tolerance [V] (None: steps by Newton iteration counts) of this run."""
    return {"accepted": len(problem.records) - 1,
            "rejected": sum(r.rejected_attempts for r in problem.records),
            "dense_points": len(problem.dense_records), "scheme": discharge.get("scheme", "bdf1"),
            "error_tolerance_V": discharge.get("error_tolerance"), "dense_output": discharge.get("dense_output")}


def _write_curve(problem: ElectrodeProblem, out_dir: Path, description: dict, current: float) -> None:
    """voltage.csv and voltage.png of the records so far (all of them since t = 0, through restarts), with
    the interpolated points of ``dense_output`` in time order; with Cahn–Hilliard particles
    phase_boundaries.png (phase-boundary area and fraction of particles transforming against capacity)."""
    from femiec.io.voltage_curve import (has_phase_boundaries, plot_phase_boundaries, plot_voltage_curve,
                                         write_voltage_csv)

    active_volume = description["volume_m3"]["active"]
    comm = problem.meshdata.comm
    records = sorted(problem.records + problem.dense_records, key=lambda r: r.time)
    write_voltage_csv(out_dir / "voltage.csv", records, active_volume, comm)
    plot_voltage_curve(out_dir / "voltage.png", records, active_volume, comm,
                       title=f"{len(problem.particle_ids)} particles, I = {current:.3g} A")
    if has_phase_boundaries(records):
        plot_phase_boundaries(out_dir / "phase_boundaries.png", records, active_volume, comm)
