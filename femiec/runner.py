"""``femiec run``: validated case -> mesh -> model -> output directory with summary.json written last.

The stages are separate functions so scripts and tests can call them one by one:
``build_mesh(case.mesh, comm)``, ``check_tags(case, meshdata)``, ``checked_mesh(case, spec, comm)``,
``build_problem(case, comm)``, ``run_case(case, out_dir, comm)``. What a model kind builds and runs comes
from its spec in the registry (:mod:`femiec.models.registry`); nothing here depends on the kind.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from femiec.config.schema import BoxMesh, Case, GmshMesh, ImageMesh, MeshioMesh, StlMesh
from femiec.errors import InputError
from femiec.meshing.base import MeshData
from femiec.meshing.image_outline import ImageMeshOutline
from femiec.models import model_spec

log = logging.getLogger(__name__)

#: cell-quality statistics build every edge: skipped in summary.json above this many cells
QUALITY_LIMIT = 5_000_000


def build_mesh(section, comm, halo: int | None = None) -> MeshData:
    """Build the distributed mesh of a [mesh] section (box, gmsh file, segmented image, a mesh file read
    with meshio, or an STL surface meshed by gmsh). With ``halo`` a voxel mesh of an image is built from
    the image read by planes: each rank keeps only its x-planes and ``halo`` planes on each side
    (``MeshData.planes``, femiec.meshing.rank_planes; ``MeshData.image`` None), also for
    ``percolating_axis`` (the clusters joined across the ranks: femiec.meshing.slab_clusters). A conforming
    mesh of an image is always built from the image read by planes (halo:
    femiec.meshing.conforming.conforming_halo)."""
    from femiec.plausibility import MESH_BYTES_PER_CELL, warn_memory

    if isinstance(section, BoxMesh):
        from femiec.meshing.box import box_mesh

        return box_mesh(section.lengths, section.cells, cell_type=section.cell_type, comm=comm)
    if isinstance(section, GmshMesh):
        from femiec.meshing.gmsh_file import read_msh

        return read_msh(section.file, comm, gdim=section.gdim, scale=section.scale)
    if isinstance(section, MeshioMesh):
        from femiec.meshing.meshio_file import read_meshio

        return read_meshio(section.file, comm, gdim=section.gdim, scale=section.scale)
    if isinstance(section, StlMesh):
        from femiec.meshing.stl import stl_volume_mesh

        return stl_volume_mesh(section.file, section.h, comm, scale=section.scale)
    if isinstance(section, ImageMesh):
        import numpy as np

        if section.mesher == "conforming":
            return _conforming_image_mesh(section, comm)
        if halo is not None:
            return _voxel_mesh_by_planes(section, comm, halo)
        image = _mesh_image(section)
        names = {value: name for name, value in section.phases.items()}
        from femiec.meshing.voxel import voxel_mesh

        warn_memory("mesh.file", int(np.isin(image, list(names)).sum()), "voxels to mesh", MESH_BYTES_PER_CELL)
        return voxel_mesh(image, phases=sorted(names), voxel_size=section.voxel_size, comm=comm,
                          phase_names=names, connectivity=section.connectivity)
    raise InputError("mesh.kind", getattr(section, "kind", section), "'box', 'gmsh', 'image', 'meshio' or 'stl'")


def _voxel_mesh_by_planes(section, comm, halo: int) -> MeshData:
    """The voxel mesh of an image section read by planes (:func:`_image_planes`, at least the voxel mesh's
    two halo planes); the InputErrors of the whole-image path."""
    from femiec.meshing.voxel import voxel_mesh
    from femiec.plausibility import MESH_BYTES_PER_CELL, warn_memory

    names = {value: name for name, value in section.phases.items()}
    phases = sorted(names)
    planes = _image_planes(section, comm, max(2, halo))
    warn_memory("mesh.file", int(planes.counts.sum()), "voxels to mesh", MESH_BYTES_PER_CELL)
    return voxel_mesh(planes, phases=phases, voxel_size=section.voxel_size, comm=comm, phase_names=names,
                      connectivity=section.connectivity)


def _image_planes(section, comm, halo: int, require_phases: bool = True):
    """This rank's planes of an image section (femiec.meshing.rank_planes.RankPlanes with ``halo`` planes
    on each side, cut by the voxels of its phases): cropped, remapped, filtered to the clusters spanning
    ``percolating_axis`` and padded on the planes; the InputErrors of the whole-image path
    (:func:`_mesh_image`; a phase absent from the image only with ``require_phases``). Collective."""
    from femiec.meshing.image_source import PaddedImage, open_image_crop
    from femiec.meshing.rank_planes import check_phases_present, padded_planes, percolating_planes, read_rank_planes
    from femiec.sections import remap_table

    source = open_image_crop(section.file, section.shape, section.dtype, section.crop, key="mesh.crop",
                             dataset=section.dataset, remap=remap_table(section.remap), prefix="mesh.")
    phases = sorted(section.phases.values())
    hint = "map them with mesh.remap = { <value> = <label> }"
    if section.percolating_axis is None:
        if section.pad is not None:
            source = PaddedImage(source, section.pad.face, section.pad.voxels, section.pad.value, key="mesh.pad")
        return read_rank_planes(source, comm, phases, halo=halo, key="mesh.file", remap_hint=hint,
                                require_phases=require_phases)
    # the filter before the pad, as on the whole image (_mesh_image)
    planes = read_rank_planes(source, comm, phases, halo=halo, key="mesh.file", remap_hint=hint,
                              require_phases=False)
    planes = percolating_planes(planes, phases, section.percolating_axis, comm)
    if section.pad is not None:
        planes = padded_planes(planes, phases, section.pad.face, section.pad.voxels, section.pad.value, comm,
                               key="mesh.pad")
    if require_phases:
        check_phases_present(phases, planes.histogram)
    return planes


def _conforming_image_mesh(section, comm) -> MeshData:
    """The conforming tetrahedral mesh of the section's image (femiec.meshing.conforming; lengths in
    voxels in the case file, metres here), from the image read by planes (:func:`_image_planes`, a halo of
    femiec.meshing.conforming.conforming_halo); every image value named."""
    import numpy as np

    from femiec.meshing.conforming import check_conforming_phases, conforming_halo, conforming_mesh
    from femiec.meshing.voxel import voxel_spacing
    from femiec.plausibility import MESH_BYTES_PER_CELL, warn_memory

    names = {value: name for name, value in section.phases.items()}
    voxel = float(voxel_spacing(section.voxel_size).min())
    halo = conforming_halo(section.voxel_size, section.mesh_size * voxel, section.smoothing)
    image = _image_planes(section, comm, halo, require_phases=False)
    check_conforming_phases(np.flatnonzero(image.histogram), names)
    cells = 6 * int(np.prod(np.maximum(1, np.rint(np.array(image.shape) / section.mesh_size))))
    warn_memory("mesh.file", cells, "tetrahedra to mesh", MESH_BYTES_PER_CELL)
    max_size = None if section.max_size is None else section.max_size * voxel
    return conforming_mesh(image, voxel_size=section.voxel_size, mesh_size=section.mesh_size * voxel,
                           smoothing=section.smoothing, preserve_volume=section.preserve_volume,
                           phase_names=names, comm=comm, mesher=section.backend, max_size=max_size)


def _percolating_only(image, phases, axis: str):
    """Copy of ``image`` where voxels of ``phases`` outside clusters spanning ``axis`` get a value that
    is not meshed (isolated clusters would leave the potential undetermined there)."""
    import numpy as np

    from femiec.meshing.tomography import keep_percolating, unmeshed_value

    mask = np.isin(image, phases)
    kept = keep_percolating(mask, axis, phase=list(phases))
    out = image.copy()
    out[mask & ~kept] = unmeshed_value(phases)
    return out


def _mesh_image(section):
    """The (cropped, percolation-filtered, padded) image an image mesh is built from."""
    from femiec.meshing.tomography import pad_face, read_image_crop
    from femiec.meshing.voxel import check_labels
    from femiec.sections import remap_table

    image = read_image_crop(section.file, section.shape, section.dtype, section.crop, key="mesh.crop",
                            dataset=section.dataset, remap=remap_table(section.remap), prefix="mesh.")
    check_labels(image, "mesh.file", "map them with mesh.remap = { <value> = <label> }")
    if section.percolating_axis is not None:
        image = _percolating_only(image, sorted(section.phases.values()), section.percolating_axis)
    if section.pad is not None:
        image = pad_face(image, section.pad.face, section.pad.voxels, section.pad.value, key="mesh.pad")
    return image


def check_tags(case: Case, meshdata: MeshData | ImageMeshOutline) -> None:
    """Every cell/facet tag name the case refers to exists in the mesh (InputError otherwise); ``meshdata``
    may be the mesh-free outline of an image mesh."""
    for key, name in case.referenced_cell_tags():
        if name not in meshdata.cell_names:
            raise InputError(key, name, f"a cell tag of the mesh: {', '.join(sorted(meshdata.cell_names))}")
    for key, name in case.referenced_facet_tags():
        if name not in meshdata.facet_names:
            raise InputError(key, name,
                             f"a facet tag of the mesh: {', '.join(sorted(meshdata.facet_names))}")
        if facet_count(meshdata, name) == 0:
            raise InputError(key, name, "a facet tag with facets in the mesh (this one has none: a "
                             "condition there would act nowhere; for an image mesh of a phase that does "
                             "not reach this face, set mesh.percolating_axis or pick another face)")
    if case.regions:
        missing = sorted(set(meshdata.cell_names) - set(case.regions))
        if missing:
            raise InputError("regions", sorted(case.regions),
                             f"a material for every cell region of the mesh (missing: {', '.join(missing)})")


def facet_count(meshdata: MeshData | ImageMeshOutline, name: str) -> int:
    """Number of facets tagged ``name`` in the whole mesh, summed over the ranks (ghosts counted on
    every rank that holds them: only zero or not is meant); of an outline, the facets it counted."""
    from mpi4py import MPI

    if isinstance(meshdata, ImageMeshOutline):
        return meshdata.facet_count(name)
    tags = meshdata.facet_tags
    local = 0 if tags is None else int((tags.values == meshdata.facet_names[name]).sum())
    return meshdata.comm.allreduce(local, op=MPI.SUM)


def build_problem(case: Case, comm):
    """(mesh, problem) of a case: the mesh (None for a model without one) with its tags checked against the
    case, and the model's problem built but not solved. Every input error is raised here."""
    spec = model_spec(case.model.kind)
    meshdata = checked_mesh(case, spec, comm)
    return meshdata, spec.build(case, meshdata, comm)


def checked_mesh(case: Case, spec, comm, outline: bool = False) -> MeshData | ImageMeshOutline | None:
    """The mesh of the case with its tags checked (None for a model without one), after a warning for
    every temperature that looks like Celsius; an image mesh is read by planes when the model works on
    planes (``ModelSpec.image_halo``). With ``outline``, an image mesh is only scanned
    (:func:`femiec.meshing.image_outline.outline_image_mesh`): its outline is returned, no mesh is built."""
    from femiec.plausibility import warn_low_temperatures

    warn_low_temperatures(case.model_dump(exclude_none=True))
    if not spec.needs_mesh:
        return None
    if outline and isinstance(case.mesh, ImageMesh):
        from femiec.meshing.image_outline import outline_image_mesh

        meshdata = outline_image_mesh(case.mesh, comm)
    else:
        halo = None if spec.image_halo is None or not isinstance(case.mesh, ImageMesh) else spec.image_halo(case.mesh)
        meshdata = build_mesh(case.mesh, comm, halo)
    check_tags(case, meshdata)
    return meshdata


def validate(case: Case, comm, build: bool = False) -> MeshData | ImageMeshOutline | None:
    """Everything short of solving that is cheap: schema (already done by load_case), files, the mesh, the
    tags, and the model's own checks against the mesh (``ModelSpec.check``) -- the problem is not built.
    An image mesh is not built either: its image is scanned slab by slab (memory of one slab, see
    :mod:`femiec.meshing.image_outline`) for its labels, phases, percolation, pad, crop and the facets
    each tag would have; for a model whose check needs the mesh itself (``ModelSpec.check_outline``
    False) the mesh is built as before. With ``build`` the problem is built too (not solved), the full
    check ``femiec run`` makes. Returns the mesh, or the outline of an image mesh (None for a model
    without a mesh)."""
    if build:
        return build_problem(case, comm)[0]
    spec = model_spec(case.model.kind)
    meshdata = checked_mesh(case, spec, comm, outline=spec.check is None or spec.check_outline)
    if spec.check is not None:
        spec.check(case, meshdata, comm)
    return meshdata


def output_directory(case: Case, out: Path | str | None) -> tuple[Path, str]:
    """(output directory, the option or case key it comes from) of a run."""
    if out is not None:
        return Path(out), "--out"
    if case.output.directory is not None:
        return Path(case.output.directory), "output.directory"
    return Path("out") / case.case.name, "output directory"


def run_case(case: Case, out: Path | str | None, comm, show_progress: bool = True) -> Path:
    """Validate, solve and write the outputs of ``case``; returns the path of summary.json.

    The output directory is checked and locked before anything is built (:mod:`femiec.io.output_dir`);
    the outputs of earlier runs in it are moved to ``previous/`` once the problem is built, unless the run
    continues them (a restart). The model writes its fields; the runner draws preview.png of the model's
    main field (``ModelSpec.preview``; a failure there is a warning, not an error); summary.json (inputs,
    versions, mesh and solver statistics, derived quantities) is written last and only after a
    successful solve.
    """
    from femiec.io.output_dir import check_directory, output_lock

    start = time.perf_counter()
    out_dir, key = output_directory(case, out)
    check_directory(out_dir, key, comm)
    with output_lock(out_dir, key, comm):
        return _run_locked(case, out_dir, comm, show_progress, start)


def _run_locked(case: Case, out_dir: Path, comm, show_progress: bool, start: float) -> Path:
    from femiec.info import versions
    from femiec.io.progress import progress_bar
    from femiec.io.summary import begin_output, write_summary

    meshdata, problem = build_problem(case, comm)  # the problem is built once, here
    begin_output(out_dir, comm, keep_previous=case.model.continues_outputs())
    if meshdata is not None:
        log.info("mesh: %s; output: %s", meshdata.info.get("source", case.mesh.kind), out_dir)
    spec = model_spec(case.model.kind)
    with progress_bar(f"{case.case.name}", 1.0, comm, enabled=show_progress) as progress:
        if case.study is None:
            result = spec.run(case, problem, out_dir, progress)
        else:
            from femiec.studies.run import run_study

            result = run_study(case, spec, problem, out_dir, progress)
    summary = {"case": case.model_dump(mode="json"), "versions": versions()}
    if meshdata is not None:
        summary["mesh"] = _mesh_summary(meshdata)
    summary.update(result)
    if spec.preview is not None:
        summary["preview"] = _preview(spec, problem, result, out_dir, comm)
    summary["wall_time_s"] = time.perf_counter() - start
    return write_summary(out_dir, summary, comm)


def _preview(spec, problem, result: dict, out_dir: Path, comm) -> dict:
    """preview.png of the model's main field (a failure is a warning and ``file: null``, never an error)."""
    from femiec.io.preview import write_preview

    try:
        function = spec.preview(problem)
    except Exception as exc:  # noqa: BLE001 -- a picture must not fail a finished run
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        log.warning("preview not written (%s); the run's results are complete", reason)
        return {"field": None, "file": None, "error": reason}
    unit = result.get("fields", {}).get(function.name, {}).get("unit", "")
    return write_preview(function, unit, out_dir, comm)


def _mesh_summary(meshdata: MeshData) -> dict:
    from femiec.meshing.quality import mesh_statistics

    cells = meshdata.mesh.topology.index_map(meshdata.dim).size_global
    return {"statistics": mesh_statistics(meshdata, quality=cells < QUALITY_LIMIT),
            "cell_tags": meshdata.cell_names, "facet_tags": meshdata.facet_names, "info": meshdata.info}
