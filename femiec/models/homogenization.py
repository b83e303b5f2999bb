"""Model kind ``homogenization``: effective transport of a segmented image (femiec.homogenization; no
[mesh] table; keys in docs/homogenization.md)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import Field, field_validator

from femiec.sections import ImageKeys, TensorSpec, existing_image, remap_table
from femiec.errors import InputError
from femiec.models.spec import ModelSection, ModelSpec

log = logging.getLogger(__name__)


class HomogenizationModel(ModelSection, ImageKeys):
    """Effective transport of a segmented image (femiec.homogenization.homogenize); no [mesh] needed.

    phases: voxel values of the conducting phase(s) (relative conductivity 1), or a table
    { "<value>" = conductivity } (S/m; number, or for fe/periodic a 3x3 matrix or symmetry table). The
    reading keys (dataset, remap, voxel_size, crop, shape, dtype) are :class:`femiec.sections.ImageKeys`.
    """

    kind: Literal["homogenization"]
    image: str  # a file or a folder of 2D TIFF slices
    phases: Union[Annotated[list[Annotated[int, Field(ge=0, le=255)]], Field(min_length=1)],
                  dict[str, TensorSpec]]
    axes: Literal["x", "y", "z", "all"] = "all"
    method: Literal["fv", "fe", "periodic"] = "fv"
    rtol: Annotated[float, Field(gt=0, lt=1)] | None = None
    contact_resistance: dict[str, float] | None = None  # {"a:b" = R_c} ohm m^2 between two phases, fv only
    mesh: Literal["voxel", "conforming"] = "voxel"  # fe: Q1 voxel mesh or P1 conforming tetrahedra

    _image = field_validator("image")(existing_image)

    @field_validator("phases")
    @classmethod
    def _phase_values(cls, v):
        if isinstance(v, dict):
            for key in v:
                if not key.isdigit() or int(key) > 255:
                    raise InputError(f"value.{key}", key, "a voxel value 0..255 as the key")
        return v

    def phase_table(self):
        """The ``phases`` argument of homogenize(): a list of values or value -> conductivity."""
        if isinstance(self.phases, dict):
            return {int(k): v for k, v in self.phases.items()}
        return list(self.phases)


@dataclass
class HomogenizationJob:
    """A checked homogenization: the (cropped) image, the section it came from and the communicator."""

    image: object  # this rank's RankPlanes of the image (femiec.meshing.rank_planes)
    model: HomogenizationModel
    comm: object


def build(case, meshdata, comm) -> HomogenizationJob:
    """The checks of :func:`check_keys`, and the image read, cropped and checked to hold every phase; for
    every method each rank reads only its slab of x-planes (femiec.meshing.rank_planes)."""
    from femiec.homogenization.api import planes_halo
    from femiec.meshing.image_source import open_image_crop
    from femiec.meshing.rank_planes import read_rank_planes

    model = case.model
    check_keys(case)
    source = open_image_crop(model.image, model.shape, model.dtype, model.crop, key="model.crop",
                             dataset=model.dataset, remap=remap_table(model.remap), prefix="model.")
    planes = read_rank_planes(source, comm, list(model.phase_table()),
                              halo=planes_halo(model.method, model.mesh, fields=True),  # a case writes the fields
                              key="model.image", remap_hint=REMAP_HINT, require_phases=False)
    _check_phases(model, int(planes.histogram.sum()), set(np.flatnonzero(planes.histogram).tolist()))
    return HomogenizationJob(planes, model, comm)


def check(case, meshdata, comm) -> None:
    """What :func:`build` checks, with an integer image scanned slab by slab instead of read whole
    (femiec.meshing.image_outline.scan_image: memory of one slab; ``femiec validate``); an image of
    another type goes to :func:`build` (whose read_rank_planes refuses it). Collective."""
    from femiec.meshing.image_outline import scan_image
    from femiec.meshing.image_source import open_image_crop

    model = case.model
    check_keys(case)
    image = open_image_crop(model.image, model.shape, model.dtype, model.crop, key="model.crop",
                            dataset=model.dataset, remap=remap_table(model.remap), prefix="model.")
    if not np.issubdtype(image.dtype, np.integer):
        build(case, meshdata, comm)
        return
    counts = scan_image(image, comm, list(model.phase_table()), "model.image", REMAP_HINT).counts
    _check_phases(model, int(counts.sum()), set(np.flatnonzero(counts).tolist()))


#: how a homogenization case maps image values above 255 (the hint of the label error)
REMAP_HINT = "map them with model.remap = { <value> = <label> }"


def check_keys(case) -> None:
    """What homogenize() refuses beyond the schema, named by case-file key (contact resistances: method
    fv only, between two conducting phases, finite and >= 0; a conforming mesh needs method fe; fv's rtol,
    the relative error of D_eff, at most femiec.homogenization.ksp.POWER_RTOL_MAX)."""
    from femiec.homogenization.ksp import POWER_RTOL_MAX
    from femiec.homogenization.voxels import contact_resistances

    model = case.model
    if model.method == "fv" and model.rtol is not None and model.rtol > POWER_RTOL_MAX:
        raise InputError("model.rtol", model.rtol,
                         f"at most {POWER_RTOL_MAX:g} for model.method = 'fv', the relative error of D_eff allowed")
    if model.contact_resistance:
        if model.method != "fv":
            raise InputError("model.contact_resistance", model.contact_resistance,
                             "model.method = 'fv' (the finite-element methods have no interface resistance)")
        try:
            contact_resistances(model.contact_resistance, list(model.phase_table()))
        except InputError as exc:  # homogenize() names the pair "contact_resistance a:b"
            raise InputError(f"model.{exc.key.replace(' ', '.')}", exc.value, exc.expected) from None
    if case.output.fields is not None:
        raise InputError("output.fields", case.output.fields, "no selection for model.kind = 'homogenization' "
                         "(it writes potential_<axis> and flux_<axis> of every axis solved)")
    if model.mesh == "conforming" and model.method != "fe":
        raise InputError("model.mesh", model.mesh, "'voxel' for methods 'fv' and 'periodic' (conforming: 'fe')")


def _check_phases(model, voxels: int, present: set[int]) -> None:
    """A memory warning for the ``voxels`` of the (cropped) image, then every phase among the ``present``
    image values (InputError ``model.phases``)."""
    from femiec.plausibility import FV_BYTES_PER_VOXEL, MESH_BYTES_PER_CELL, warn_memory

    warn_memory("model.image", voxels, f"voxels ('{model.method}' homogenization)",
                FV_BYTES_PER_VOXEL if model.method == "fv" else MESH_BYTES_PER_CELL)
    for value in model.phase_table():
        if value not in present:
            raise InputError("model.phases", value, f"a voxel value present in the image ({sorted(present)})")


def run(case, job: HomogenizationJob, out_dir, progress) -> dict:
    """Solve; fields go to ``out_dir``; returns the summary entries."""
    from femiec.homogenization import homogenize

    model = job.model
    options = {} if model.rtol is None else {"rtol": model.rtol}
    result = homogenize(job.image, model.phase_table(), axes=model.axes, method=model.method,
                        voxel_size=model.voxel_size, comm=job.comm, out_dir=out_dir,
                        petsc_options=case.solver.petsc_options or None,
                        contact_resistance=model.contact_resistance, mesh=model.mesh, **options)
    if job.comm.rank == 0:
        log.info("\n%s", result.report())
    return {"homogenization": result.to_json()}


MODEL = ModelSpec("homogenization", HomogenizationModel, build, run, needs_mesh=False, check=check,
                  summary="tortuosity and effective transport tensor of a segmented image")
