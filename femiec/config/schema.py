"""Case-file schema (pydantic). Every key, its type and its SI unit; documented in docs/case_files.md.

A case file has these tables::

    [case]       name, description
    [mesh]       kind = "box" | "gmsh" | "image" | "meshio" | "stl" and its keys
    [materials.<name>]   transport properties of a material (scalars or tensors, SI)
    [regions]    cell-tag name -> material name
    [model]      kind = "conduction" | ... and the model's keys and boundary conditions
    [solver]     preset and PETSc options
    [time]       (transient models) end time, first step, bounds
    [output]     directory, formats, fields
    [study]      (optional) kind = "impedance" and its frequencies (femiec.studies.section)
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
from pydantic import Field, field_validator, model_validator

from femiec.sections import (ImageKeys, PositiveFloat, PropertySpec, Section, TensorSpec, existing_file,
                             existing_image, non_finite_number)
from femiec.errors import InputError
from femiec.models.registry import MODELS
from femiec.studies.section import StudySection


# ----------------------------------------------------------------------------------------- case, mesh
class CaseInfo(Section):
    name: str = "case"
    description: str = ""


class BoxMesh(Section):
    """Axis-aligned box [0, Lx] (x [0, Ly] (x [0, Lz])) (m); facet tags xmin..zmax, one region "domain";
    ``cell_type`` defaults to intervals (1D), triangles (2D), tetrahedra (3D)."""

    kind: Literal["box"]
    lengths: Annotated[list[PositiveFloat], Field(min_length=1, max_length=3)]  # m
    cells: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=3)]
    cell_type: Literal["interval", "tetrahedron", "hexahedron", "triangle", "quadrilateral"] | None = None

    @model_validator(mode="after")
    def _same_dimension(self):
        if len(self.cells) != len(self.lengths):
            raise InputError("value.cells", self.cells, f"as many cell counts as lengths ({len(self.lengths)})")
        return self


class MeshFile(Section):
    """A mesh file: ``file`` (beside the case file), geometric dimension ``gdim``, ``scale`` (multiply the
    coordinates by it to get metres)."""

    file: str
    gdim: Literal[2, 3] = 3
    scale: PositiveFloat = 1.0

    _file = field_validator("file")(existing_file)


class GmshMesh(MeshFile):
    """A gmsh ``.msh`` file with physical groups (names become cell/facet tag names)."""

    kind: Literal["gmsh"]


class MeshioMesh(MeshFile):
    """A mesh file of another tool read with meshio (.vtu, .inp, .xdmf, .med, ...): cell/facet tags from its
    cell data or cell sets (docs/meshing.md)."""

    kind: Literal["meshio"]


class StlMesh(Section):
    """A closed triangulated surface (STL) meshed into tetrahedra by gmsh: region "domain", boundary facets
    "surface"; ``h`` the element size in m (after ``scale``)."""

    kind: Literal["stl"]
    file: str
    h: PositiveFloat  # m
    scale: PositiveFloat = 1.0  # multiply the file's coordinates by this to get metres

    _file = field_validator("file")(existing_file)


class ImagePad(Section):
    """A layer of ``voxels`` voxels of value ``value`` added on one face of the (cropped) image, e.g. a
    porous separator in front of an electrode (list the value under ``phases`` to mesh it)."""

    face: Literal["xmin", "xmax", "ymin", "ymax", "zmin", "zmax"]
    voxels: Annotated[int, Field(ge=1)]
    value: Annotated[int, Field(ge=0)]


class ImageMesh(ImageKeys):
    """Mesh of a segmented 3D image (TIFF stack or folder of TIFF slices, .npy, raw, .vti, a dataset of an
    HDF5/NetCDF-4 file); the reading keys (dataset, remap, voxel_size, crop, shape, dtype) are
    :class:`femiec.sections.ImageKeys`.

    ``mesher = "voxel"`` (default): one hexahedron per voxel of the listed phases
    (femiec.meshing.voxel; keys ``percolating_axis``, ``connectivity``). ``mesher = "conforming"``: a
    tetrahedral mesh with smooth phase interfaces filling the whole box (femiec.meshing.conforming; every
    image value must be listed under ``phases``; keys ``mesh_size`` and ``smoothing`` in voxels,
    ``backend`` "grid" | "gmsh", ``max_size`` in voxels (gmsh only), ``preserve_volume``). Keys of the
    other mesher are refused."""

    kind: Literal["image"]
    file: str  # a file or a folder of 2D TIFF slices
    phases: dict[str, Annotated[int, Field(ge=0)]]  # name -> voxel value, the phases to mesh
    mesher: Literal["voxel", "conforming"] = "voxel"
    percolating_axis: Literal["x", "y", "z"] | None = None  # voxel: keep only clusters spanning this axis
    connectivity: Literal["vertex", "face"] = "vertex"  # voxel: voxels joined through vertices or faces only
    pad: ImagePad | None = None  # a constant layer added on one face after cropping and filtering
    mesh_size: PositiveFloat = 1.0  # conforming: background grid spacing, voxels
    smoothing: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0  # conforming: Gaussian width, voxels
    backend: Literal["grid", "gmsh"] = "grid"  # conforming: snapped grid, or gmsh volumes between its surfaces
    max_size: PositiveFloat | None = None  # conforming, gmsh: largest element inside the phases, voxels
    preserve_volume: bool = True  # conforming: each phase keeps its voxel volume

    _file = field_validator("file")(existing_image)

    @field_validator("phases")
    @classmethod
    def _some_phase(cls, v):
        if not v:
            raise ValueError("at least one phase, e.g. {pore = 0}")
        return v

    @model_validator(mode="after")
    def _keys_of_the_mesher(self):
        voxel_only = ("percolating_axis", "connectivity")
        conforming_only = ("mesh_size", "smoothing", "backend", "max_size", "preserve_volume")
        other = conforming_only if self.mesher == "voxel" else voxel_only
        for key in other:
            if key in self.model_fields_set:
                raise InputError(f"value.{key}", getattr(self, key),
                                 f"no '{key}' with mesher = '{self.mesher}' (a key of mesher = "
                                 f"'{'conforming' if self.mesher == 'voxel' else 'voxel'}')")
        if self.max_size is not None and self.backend != "gmsh":
            raise InputError("value.max_size", self.max_size, "no 'max_size' with backend = 'grid' (gmsh only)")
        return self


MeshSection = Annotated[Union[BoxMesh, GmshMesh, ImageMesh, MeshioMesh, StlMesh], Field(discriminator="kind")]


# ------------------------------------------------------------------------------------------ materials
class Material(Section):
    """Transport properties (each a positive scalar, a 3x3 SPD matrix or a symmetry-class table).

    conductivity [S/m], diffusivity [m^2/s], relative_permittivity [-], thermal_conductivity [W/(m K)];
    conductivity, diffusivity and thermal_conductivity may also be a temperature law table
    ``{law = "arrhenius" | "vft", ...}`` (docs/thermal.md). heat_capacity rho c_p [J/(m^3 K)] (transient
    [model.heat]).
    """

    conductivity: PropertySpec | None = None
    diffusivity: PropertySpec | None = None
    relative_permittivity: TensorSpec | None = None
    thermal_conductivity: PropertySpec | None = None
    heat_capacity: PositiveFloat | None = None

    def tensors(self, name: str) -> dict[str, np.ndarray]:
        """The given properties as validated 3x3 arrays (InputError names ``materials.<name>.<key>``)."""
        from femiec.materials.tensors import tensor_from_spec

        out = {}
        for key in ("conductivity", "diffusivity", "relative_permittivity", "thermal_conductivity"):
            spec = getattr(self, key)
            if spec is not None and not (isinstance(spec, dict) and "law" in spec):  # laws: not tensors
                out[key] = tensor_from_spec(spec, key=f"materials.{name}.{key}")
        return out


class GrainsSection(Section):
    """Polycrystal: one material's crystal-frame tensors rotated grain by grain (EBSD/DCT-like data).

    labels: grain id per voxel, a volume (TIFF/.npy/...) indexed [ix, iy, iz] covering the mesh;
    orientations: CSV file with rows ``grain_id, phi1, Phi, phi2`` (Bunge ZXZ Euler angles, degrees);
    voxel_size: voxel edge [m] of the label volume (default: mesh extent / volume shape).
    Applies to the whole mesh (no [regions] then).
    """

    material: str
    labels: str
    orientations: str
    voxel_size: Union[PositiveFloat, Annotated[list[PositiveFloat], Field(min_length=3, max_length=3)]] | None = None

    _labels = field_validator("labels")(existing_file)
    _orientations = field_validator("orientations")(existing_file)


# ------------------------------------------------------------------------------------------------ models
def _model_sections():
    """The [model] table: one typed section per registered model kind (femiec.models.registry)."""
    return Union[tuple(spec.section for spec in MODELS.values())]


ModelSection = Annotated[_model_sections(), Field(discriminator="kind")]

def _union_tags() -> dict[str, set[str]]:
    """Discriminated tables -> their tag values (used to print keys as mesh.cells, not mesh.box.cells):
    [mesh], [model] and the tables the model sections declare (ModelSection.union_tags)."""
    tags = {"mesh": {"box", "gmsh", "image", "meshio", "stl"}, "model": set(MODELS)}
    for spec in MODELS.values():
        for table, values in spec.section.union_tags.items():
            tags.setdefault(table, set()).update(values)
    return tags


UNION_TAGS = _union_tags()


# ------------------------------------------------------------------------------------- solver, output
class SolverSection(Section):
    """Linear/nonlinear solver: a preset and PETSc options (without the model's options prefix, e.g.
    ``femiec_npp_``)."""

    preset: Literal["direct", "iterative", "fieldsplit", "quasi_fermi"] = "direct"
    petsc_options: dict[str, Union[str, int, float, bool]] = Field(default_factory=dict)
    # electrode model with preset = "fieldsplit" only (femiec.problems.electrode.ElectrodeProblem): the
    # electrolyte's (c, phi_e) split and the Cahn-Hilliard particles' (c_s, mu) pair; None: the defaults
    electrolyte_preconditioner: Literal["split", "electrochemical"] | None = None
    pair_preconditioner: Literal["block", "schur"] | None = None


class TimeSection(Section):
    """Time stepping of transient models (s); ``error_tolerance`` in the unit of the output the model
    controls its steps by (docs/case_files.md)."""

    t_end: PositiveFloat
    dt: PositiveFloat
    dt_min: PositiveFloat | None = None
    dt_max: PositiveFloat | None = None
    scheme: Literal["bdf1", "bdf2"] = "bdf2"
    outputs: Annotated[int, Field(ge=1)] = 10  # number of evenly spaced output times
    # local error per step of the model's output (NPP: V or A of its first electrode; heat: K of the mean
    # temperature; intercalation_particles: V of the cell under current control, A (A/m, A/m^2) of its
    # current under voltage control; mixed_conductor: the mean of u = ln(n/n_ref), dimensionless, with
    # electrostatics = "poisson" ln(n/n_ref) at every node),
    # femiec.solvers.error_control; None: steps grow on Newton iteration counts
    error_tolerance: PositiveFloat | None = None


class OutputSection(Section):
    """Where and how results are written. ``directory`` is relative to the working directory; ``fields``
    the names of the fields to write (None: all the model writes; [] none)."""

    directory: str | None = None
    formats: list[Literal["vtx", "xdmf"]] = Field(default_factory=lambda: ["vtx"])
    fields: list[str] | None = None

    @field_validator("fields")
    @classmethod
    def _once(cls, v):
        twice = sorted({name for name in v or () if v.count(name) > 1})
        if twice:
            raise InputError("value", v, f"each field name once ({', '.join(twice)} given twice)")
        return v


# ----------------------------------------------------------------------------------------------- case
class Case(Section):
    """A whole validated case."""

    case: CaseInfo = Field(default_factory=CaseInfo)
    mesh: MeshSection | None = None  # required except for model.kind = "homogenization"
    materials: dict[str, Material] = Field(default_factory=dict)
    regions: dict[str, str] = Field(default_factory=dict)  # cell-tag name -> material name
    grains: GrainsSection | None = None
    model: ModelSection
    solver: SolverSection = Field(default_factory=SolverSection)
    time: TimeSection | None = None
    output: OutputSection = Field(default_factory=OutputSection)
    study: StudySection | None = None

    @model_validator(mode="before")
    @classmethod
    def _finite_numbers(cls, data):
        """nan or inf is refused anywhere in the case, also in untyped values (tensor specs, law tables,
        lists): one line naming the key, before any other check."""
        found = non_finite_number(data)
        if found is not None:
            raise InputError(found[0], found[1], "a finite number (no nan or inf)")
        return data

    @model_validator(mode="after")
    def _cross_checks(self):
        if self.mesh is None and MODELS[self.model.kind].needs_mesh:
            raise InputError("mesh", "<missing>", f"a [mesh] table (model.kind = '{self.model.kind}')")
        for region, material in self.regions.items():
            if material not in self.materials:
                raise InputError(f"regions.{region}", material, f"a material defined in [materials] "
                                 f"({', '.join(sorted(self.materials)) or 'none defined'})")
        if self.grains is not None:
            if self.regions:
                raise InputError("grains", self.grains.material, "either [grains] or [regions], not both")
            if self.grains.material not in self.materials:
                raise InputError("grains.material", self.grains.material,
                                 f"a material defined in [materials] ({', '.join(sorted(self.materials))})")
        if self.solver.preset == "quasi_fermi" and not (self.model.kind == "nernst_planck_poisson" or getattr(
                self.model, "electrostatics", None) == "poisson"):
            raise InputError("solver.preset", "quasi_fermi", f"'direct', 'iterative' or 'fieldsplit' for model.kind = "
                             f"'{self.model.kind}' (quasi_fermi preconditions Nernst–Planck–Poisson systems: the "
                             "nernst_planck_poisson model and mixed_conductor with electrostatics = 'poisson')")
        for key in ("electrolyte_preconditioner", "pair_preconditioner"):
            value = getattr(self.solver, key)
            if value is not None and (self.model.kind != "electrode" or self.solver.preset != "fieldsplit"):
                raise InputError(f"solver.{key}", value, "no value unless model.kind = 'electrode' and solver.preset "
                                 f"= 'fieldsplit' (here '{self.model.kind}', '{self.solver.preset}')")
        if self.solver.pair_preconditioner is not None and self.model.particle_model != "cahn_hilliard":
            raise InputError("solver.pair_preconditioner", self.solver.pair_preconditioner,
                             "no value unless model.particle_model = 'cahn_hilliard' (the (c_s, mu) pair)")
        self.model.check_case(self)
        if self.study is None and MODELS[self.model.kind].run is None:
            raise InputError("study", "<missing>", f"a [study] table (model.kind = '{self.model.kind}' has only "
                             "studies: kind = \"impedance\")")
        if self.study is not None and MODELS[self.model.kind].port is None:
            able = sorted(kind for kind, spec in MODELS.items() if spec.port is not None)
            raise InputError("study.kind", self.study.kind,
                             f"a model kind with an impedance port ({', '.join(able) or 'none'}); "
                             f"model.kind = '{self.model.kind}' has none")
        return self

    def referenced_cell_tags(self) -> list[tuple[str, str]]:
        """(key, name) of every cell-tag name the case refers to (checked against the mesh)."""
        return [(f"regions.{name}", name) for name in self.regions] + self.model.referenced_cell_tags()

    def referenced_facet_tags(self) -> list[tuple[str, str]]:
        """(key, name) of every facet-tag name the case refers to (checked against the mesh)."""
        return self.model.referenced_facet_tags()


def rebuild_model_section() -> None:
    """Re-read the registry into the [model] table of :class:`Case` (after femiec.models.register)."""
    Case.model_fields["model"].annotation = _model_sections()
    UNION_TAGS.clear()
    UNION_TAGS.update(_union_tags())
    Case.model_rebuild(force=True)
