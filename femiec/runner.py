"""``femiec run``: validated case -> mesh -> model -> output directory with summary.json written last.

The stages are separate functions so scripts and tests can call them one by one:
``build_mesh(case.mesh, comm)``, ``check_tags(case, meshdata)``, ``run_case(case, out_dir, comm)``.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from femiec.config.schema import BoxMesh, Case, GmshMesh, ImageMesh
from femiec.errors import InputError
from femiec.meshing.base import MeshData

log = logging.getLogger(__name__)


def build_mesh(section, comm) -> MeshData:
    """Build the distributed mesh of a [mesh] section (box, gmsh file or segmented image)."""
    if isinstance(section, BoxMesh):
        from femiec.meshing.box import box_mesh

        return box_mesh(section.lengths, section.cells, cell_type=section.cell_type, comm=comm)
    if isinstance(section, GmshMesh):
        from femiec.meshing.gmsh_file import read_msh

        return read_msh(section.file, comm, gdim=section.gdim, scale=section.scale)
    if isinstance(section, ImageMesh):
        from femiec.meshing.voxel import voxel_mesh

        image = _mesh_image(section)
        names = {value: name for name, value in section.phases.items()}
        return voxel_mesh(image, phases=sorted(names), voxel_size=section.voxel_size, comm=comm,
                          phase_names=names)
    raise InputError("mesh.kind", getattr(section, "kind", section), "'box', 'gmsh' or 'image'")


def _read_cropped(path, shape, dtype, crop):
    """Read an image (raw files need shape and dtype) and cut [[x0, x1], [y0, y1], [z0, z1]] out of it."""
    from femiec.meshing.tomography import read_image

    image = read_image(path, shape=shape, dtype=dtype)
    if crop is not None:
        (x0, x1), (y0, y1), (z0, z1) = crop
        image = image[x0:x1, y0:y1, z0:z1]
    return image


def _percolating_only(image, phases, axis: str):
    """Copy of ``image`` where voxels of ``phases`` outside clusters spanning ``axis`` get a value that
    is not meshed (isolated clusters would leave the potential undetermined there)."""
    import numpy as np

    from femiec.meshing.tomography import keep_percolating

    mask = np.isin(image, phases)
    kept = keep_percolating(mask, axis, phase=list(phases))
    unused = next(v for v in range(256) if v not in phases)
    out = image.copy()
    out[mask & ~kept] = unused
    return out


def check_tags(case: Case, meshdata: MeshData) -> None:
    """Every cell/facet tag name the case refers to exists in the mesh (InputError otherwise)."""
    for key, name in case.referenced_cell_tags():
        if name not in meshdata.cell_names:
            raise InputError(key, name, f"a cell tag of the mesh: {', '.join(sorted(meshdata.cell_names))}")
    for key, name in case.referenced_facet_tags():
        if name not in meshdata.facet_names:
            raise InputError(key, name,
                             f"a facet tag of the mesh: {', '.join(sorted(meshdata.facet_names))}")
    if case.regions:
        missing = sorted(set(meshdata.cell_names) - set(case.regions))
        if missing:
            raise InputError("regions", sorted(case.regions),
                             f"a material for every cell region of the mesh (missing: {', '.join(missing)})")


#: cell-quality statistics build every edge: skipped in summary.json above this many cells
QUALITY_LIMIT = 5_000_000


def _global_cells(meshdata: MeshData) -> int:
    return meshdata.mesh.topology.index_map(meshdata.dim).size_global


def model_runner(kind: str):
    """The ``run(case, meshdata, out_dir, progress, problem) -> dict`` function of a model kind
    (``problem``: the problem :func:`validate` built, or None)."""
    if kind == "conduction":
        from femiec.problems.conduction import run_case

        return lambda case, meshdata, out_dir, progress, problem: run_case(case, meshdata, out_dir, progress)
    if kind == "nernst_planck_poisson":
        from femiec.problems.nernst_planck_poisson import run_case

        return lambda case, meshdata, out_dir, progress, problem: run_case(
            case.model.section(case), meshdata, out_dir, progress, problem=problem)
    if kind == "electrode":
        from femiec.problems.electrode_case import run_case as run_electrode

        return lambda case, meshdata, out_dir, progress, problem: run_electrode(
            case.model.section(case), meshdata, out_dir, progress, problem=problem)
    raise InputError("model.kind", kind, "'conduction', 'nernst_planck_poisson', 'electrode' or 'homogenization'")


def _mesh_image(section):
    """The (cropped, percolation-filtered, padded) image an image mesh is built from."""
    image = _read_cropped(section.file, section.shape, section.dtype, section.crop)
    if section.percolating_axis is not None:
        image = _percolating_only(image, sorted(section.phases.values()), section.percolating_axis)
    if section.pad is not None:
        from femiec.meshing.tomography import pad_face

        image = pad_face(image, section.pad.face, section.pad.voxels, section.pad.value, key="mesh.pad")
    return image


def _homogenization_image(model):
    """The (cropped) image of a homogenization case, with its phases checked to be present."""
    import numpy as np

    image = _read_cropped(model.image, model.shape, model.dtype, model.crop)
    present = set(np.unique(image).tolist())
    for value in model.phase_table():
        if value not in present:
            raise InputError("model.phases", value, f"a voxel value present in the image ({sorted(present)})")
    return image


def _check_homogenization(model) -> None:
    """What homogenize() refuses beyond the schema, named by case-file key: contact resistances (method
    fv only; between two conducting phases; finite and >= 0) and a conforming mesh without method fe."""
    from femiec.homogenization.voxels import contact_resistances

    if model.contact_resistance:
        if model.method != "fv":
            raise InputError("model.contact_resistance", model.contact_resistance,
                             "model.method = 'fv' (the finite-element methods have no interface resistance)")
        try:
            contact_resistances(model.contact_resistance, list(model.phase_table()))
        except InputError as exc:  # homogenize() names the pair "contact_resistance a:b"
            raise InputError(f"model.{exc.key.replace(' ', '.')}", exc.value, exc.expected) from None
    if model.mesh == "conforming" and model.method != "fe":
        raise InputError("model.mesh", model.mesh, "'voxel' for methods 'fv' and 'periodic' (conforming: 'fe')")


def _run_homogenization(case: Case, out_dir: Path, comm) -> dict:
    """Solve a homogenization case; fields go to ``out_dir``; returns the summary entries."""
    from femiec.homogenization import homogenize

    model = case.model
    options = {} if model.rtol is None else {"rtol": model.rtol}
    result = homogenize(_homogenization_image(model), model.phase_table(), axes=model.axes, method=model.method,
                        voxel_size=model.voxel_size, comm=comm, out_dir=out_dir,
                        petsc_options=case.solver.petsc_options or None,
                        contact_resistance=model.contact_resistance, mesh=model.mesh, **options)
    if comm.rank == 0:
        log.info("\n%s", result.report())
    return {"homogenization": result.to_json()}


def output_directory(case: Case, out: Path | str | None) -> Path:
    if out is not None:
        return Path(out)
    if case.output.directory is not None:
        return Path(case.output.directory)
    return Path("out") / case.case.name


def validate(case: Case, comm) -> MeshData | None:
    """Everything short of solving: schema (already done by load_case), mesh, tags, and the model's own
    inputs (Nernst–Planck–Poisson and electrode problems are built, not solved). Returns the mesh (None
    for a homogenization case, whose image is read and checked instead)."""
    return _validated(case, comm)[0]


def _validated(case: Case, comm):
    """(mesh, problem) of :func:`validate`; problem is the built NPP or electrode problem, else None."""
    if case.model.kind == "homogenization":
        _check_homogenization(case.model)
        _homogenization_image(case.model)
        return None, None
    if case.model.kind == "conduction":
        from femiec.problems.conduction import check_case

        check_case(case)  # temperature laws, [model.heat] and [time] inputs
    meshdata = build_mesh(case.mesh, comm)
    check_tags(case, meshdata)
    problem = None
    if case.model.kind == "nernst_planck_poisson":
        from femiec.problems.nernst_planck_poisson import problem_from_section

        problem = problem_from_section(case.model.section(case), meshdata)  # species, conditions, tags, units
    if case.model.kind == "electrode":
        from femiec.problems.electrode_case import problem_from_section as electrode_problem

        # regions, faces, coefficients, tensors, [model.discharge] keys; on an image mesh the image it was
        # built from (cropped, filtered, padded) labels the cut-off clusters and the particles
        problem = electrode_problem(case.model.section(case), meshdata, image=meshdata.image)
    return meshdata, problem


def run_case(case: Case, out: Path | str | None, comm, show_progress: bool = True) -> Path:
    """Validate, solve and write the outputs of ``case``; returns the path of summary.json.

    The model writes its fields; summary.json (inputs, versions, mesh and solver statistics, derived
    quantities) is written last and only after a successful solve.
    """
    from femiec.info import versions
    from femiec.io.progress import progress_bar
    from femiec.io.summary import begin_output, write_summary
    from femiec.meshing.quality import mesh_statistics

    start = time.perf_counter()
    meshdata, problem = _validated(case, comm)  # the problem is built once, here
    out_dir = begin_output(output_directory(case, out), comm)
    if meshdata is None:
        result = _run_homogenization(case, out_dir, comm)
        summary = {"case": case.model_dump(mode="json"), "versions": versions(), **result,
                   "wall_time_s": time.perf_counter() - start}
        return write_summary(out_dir, summary, comm)
    runner = model_runner(case.model.kind)
    log.info("mesh: %s; output: %s", meshdata.info.get("source", case.mesh.kind), out_dir)
    with progress_bar(f"{case.case.name}", 1.0, comm, enabled=show_progress) as progress:
        result = runner(case, meshdata, out_dir, progress, problem)
    summary = {
        "case": case.model_dump(mode="json"),
        "versions": versions(),
        "mesh": {"statistics": mesh_statistics(meshdata, quality=_global_cells(meshdata) < QUALITY_LIMIT),
                 "cell_tags": meshdata.cell_names,
                 "facet_tags": meshdata.facet_names, "info": meshdata.info},
        **result,
        "wall_time_s": time.perf_counter() - start,
    }
    return write_summary(out_dir, summary, comm)
