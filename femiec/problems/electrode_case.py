"""Case-file entry point of the electrode model (``model.kind = "electrode"``; keys in docs/electrode.md).

On a voxel image the phases are checked for connectivity first (6-connected voxel clusters,
``scipy.ndimage.label``): electrolyte clusters that do not reach the separator face and solid (active +
conductor) clusters that do not reach the collector face cannot carry current and are made inert, and
every remaining 6-connected cluster of active material is one particle (its state of charge is
reported). Cells get these labels from the voxel holding their centre.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from femiec.errors import InputError
from femiec.meshing.tomography import BOX_FACES
from femiec.problems.electrode import ElectrodeProblem

CASE_KEYS = {"electrolyte_regions", "active_regions", "conductor_regions", "separator", "collector", "electrolyte",
             "active_material", "conductor_conductivity", "temperature", "porous_separator", "double_layer",
             "discharge", "solver", "output", "checkpoint"}
DISCHARGE_KEYS = {"c_rate", "current", "voltage_min", "voltage_max", "cutoff_tolerance", "t_end", "dt", "dt_min",
                  "dt_max", "outputs"}
CHECKPOINT_KEYS = {"every", "restart"}
SEPARATOR_KEYS = {"regions", "porosity", "bruggeman_exponent"}
DOUBLE_LAYER_KEYS = {"relative_permittivity", "stern_capacitance", "potential_of_zero_charge"}
log = logging.getLogger(__name__)


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


def problem_from_section(section: Mapping, meshdata, image: np.ndarray | None = None) -> ElectrodeProblem:
    """Build the problem of a model section (plain dict, SI units). With ``image`` (the voxel image the
    mesh was built from) cut-off clusters become inert and particles are the active voxel clusters."""
    unknown = sorted(set(section) - CASE_KEYS - {"kind"})
    if unknown:
        raise InputError(f"model.{unknown[0]}", section[unknown[0]], f"one of the keys {sorted(CASE_KEYS)}")
    for table, allowed in (("discharge", DISCHARGE_KEYS), ("checkpoint", CHECKPOINT_KEYS),
                           ("porous_separator", SEPARATOR_KEYS), ("double_layer", DOUBLE_LAYER_KEYS)):
        if not isinstance(section.get(table, {}), Mapping):
            raise InputError(f"model.{table}", section[table], "a table")
        unknown = sorted(set(section.get(table, {})) - allowed)
        if unknown:
            raise InputError(f"model.{table}.{unknown[0]}", section[table][unknown[0]],
                             f"one of the keys {sorted(allowed)}")
    names = {}
    for key, default in (("electrolyte_regions", ["pore"]), ("active_regions", ["nmc"]), ("conductor_regions", []),
                         ("separator", ["xmin"]), ("collector", ["xmax"])):
        names[key] = section.get(key, default)
        if not isinstance(names[key], list):
            raise InputError(f"model.{key}", names[key], "a list of names")
    layer = section.get("porous_separator", {}).get("regions", [])
    if not isinstance(layer, list):
        raise InputError("model.porous_separator.regions", layer, "a list of names")
    for key in ("electrolyte_regions", "active_regions", "conductor_regions"):
        for name in names[key]:
            _check_name(f"model.{key}", meshdata.cell_tag, name)
    for name in layer:
        _check_name("model.porous_separator.regions", meshdata.cell_tag, name)
    inert = particles = None
    if image is not None:  # the separator and collector must be box faces (checked here)
        values = {key: [meshdata.cell_tag(n) for n in names[key]]
                  for key in ("electrolyte_regions", "active_regions", "conductor_regions")}
        electrolyte = values["electrolyte_regions"] + [meshdata.cell_tag(n) for n in layer]
        inert_voxels, particle_voxels = image_phase_labels(
            image, electrolyte, values["active_regions"], values["conductor_regions"],
            names["separator"][0], names["collector"][0])
        inert = np.flatnonzero(cell_voxel_values(meshdata, inert_voxels)).astype(np.int32)
        particles = cell_voxel_values(meshdata, particle_voxels)
    for name in names["separator"]:
        _check_name("model.separator", meshdata.facet_id, name)
    for name in names["collector"]:  # facets, or a cell region held at phi_s = 0
        if name not in meshdata.cell_names:
            _check_name("model.collector", meshdata.facet_id, name)
    solver = section.get("solver", {})
    return ElectrodeProblem(
        meshdata, electrolyte_regions=names["electrolyte_regions"], active_regions=names["active_regions"],
        conductor_regions=names["conductor_regions"], separator=names["separator"], collector=names["collector"],
        electrolyte=section.get("electrolyte"), active=section.get("active_material"),
        conductor_conductivity=section.get("conductor_conductivity", 10.0),
        temperature=section.get("temperature", 298.15), porous_separator=section.get("porous_separator"),
        double_layer=section.get("double_layer"),
        inert_cells=inert, particle_labels=particles,
        preset=solver.get("preset", "direct"), petsc_options=solver.get("petsc_options"))


def _check_name(key: str, lookup: Callable, name) -> None:
    """``lookup(name)`` (a MeshData tag lookup); its InputError is re-raised naming the case key ``key``."""
    try:
        lookup(name)
    except InputError as exc:
        raise InputError(key, exc.value, exc.expected) from None


def run_case(section: Mapping, meshdata, out_dir, progress: Callable | None = None,
             image: np.ndarray | None = None, problem: ElectrodeProblem | None = None) -> dict:
    """Run a galvanostatic discharge/charge case; write fields (VTX), voltage.csv, voltage.png and
    checkpoints to ``out_dir``; return the summary entries. ``problem``: the problem already built from
    ``section`` (e.g. by ``femiec.runner``), else built here."""
    from femiec.io.fields import FieldWriter
    from femiec.io.voltage_curve import plot_voltage_curve, write_voltage_csv

    out_dir = Path(out_dir)
    problem = problem if problem is not None else problem_from_section(section, meshdata, image)
    discharge = dict(section.get("discharge", {"c_rate": 1.0}))
    checkpoint = dict(section.get("checkpoint", {}))
    outputs = int(discharge.pop("outputs", 10))
    restart = checkpoint.get("restart")
    if restart is not None:
        state = problem.restart(restart)
        discharge.setdefault("dt", state["last_dt"])
    description = problem.describe()
    current = discharge.get("current") or discharge.get("c_rate", 1.0) * problem.one_c_current()
    t_end = float(discharge.get("t_end", 1.2 * problem.one_c_current() / abs(current) * 3600.0))
    discharge["t_end"] = t_end
    every = int(checkpoint.get("every", 0))
    formats = tuple(section.get("output", {}).get("formats", ("vtx",)))
    writer = FieldWriter(out_dir, problem.output_fields(), formats=formats)

    def write(t):
        problem.update_output()
        writer.write(t)

    def on_step(record):
        log.info("step %d: t = %.6g s, V = %.6f V, x = %.4f, %d Newton, %d Krylov, %d rejected",
                 len(problem.records) - 1, record.time, record.voltage, record.stoichiometry,
                 record.newton_iterations, record.krylov_iterations, record.rejected_attempts)
        if progress is not None:
            progress(min(record.time / t_end, 1.0))
        if every and len(problem.records) % every == 0:
            problem.checkpoint(out_dir / "checkpoint")

    with writer:
        reason = problem.run(**discharge, output_times=[t_end * k / outputs for k in range(1, outputs)],
                             on_output=write, on_step=on_step)
    problem.checkpoint(out_dir / "checkpoint")
    active_volume = description["volume_m3"]["active"]
    write_voltage_csv(out_dir / "voltage.csv", problem.records, active_volume, meshdata.comm)
    plot_voltage_curve(out_dir / "voltage.png", problem.records, active_volume, meshdata.comm,
                       title=f"{len(problem.particle_ids)} particles, I = {current:.3g} A")
    soc = problem.particle_stoichiometry()
    last = problem.records[-1]
    return {"model": "electrode", "stop_reason": reason, "description": description,
            "final": {"time_s": last.time, "voltage_V": last.voltage, "capacity_Ah": last.capacity_Ah,
                      "stoichiometry": last.stoichiometry},
            "particle_stoichiometry": {"label": list(soc), "mean_c_over_cmax": list(soc.values()),
                                       "min": min(soc.values()), "max": max(soc.values())},
            "solver": {"records": [vars(r) for r in problem.records]},
            "files": {"voltage_csv": "voltage.csv", "voltage_png": "voltage.png", "checkpoint": "checkpoint"},
            "fields": writer.describe()}

