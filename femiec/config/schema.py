"""Case-file schema (pydantic). Every key, its type and its SI unit; documented in docs/case_files.md.

A case file has these tables::

    [case]       name, description
    [mesh]       kind = "box" | "gmsh" | "image" and its keys
    [materials.<name>]   transport properties of a material (scalars or tensors, SI)
    [regions]    cell-tag name -> material name
    [model]      kind = "conduction" | ... and the model's keys and boundary conditions
    [solver]     preset and PETSc options
    [time]       (transient models) end time, first step, bounds
    [output]     directory, formats, fields
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import (BaseModel, ConfigDict, Field, PlainValidator, ValidationInfo, field_validator,
                      model_validator)

from femiec.errors import InputError


class Section(BaseModel):
    """Base of every table: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=False, arbitrary_types_allowed=True)


def _existing_file(value: str, info: ValidationInfo) -> str:
    base = Path((info.context or {}).get("base_dir", "."))
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise ValueError(f"an existing file (not found: {path})")
    return str(path.resolve())


PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]


# ----------------------------------------------------------------------------------------- case, mesh
class CaseInfo(Section):
    name: str = "case"
    description: str = ""


class BoxMesh(Section):
    """Axis-aligned box [0, Lx] x [0, Ly] x [0, Lz] (m); facet tags xmin..zmax, one region "domain"."""

    kind: Literal["box"]
    lengths: Annotated[list[PositiveFloat], Field(min_length=2, max_length=3)]  # m
    cells: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=2, max_length=3)]
    cell_type: Literal["tetrahedron", "hexahedron", "triangle", "quadrilateral"] = "tetrahedron"

    @model_validator(mode="after")
    def _same_dimension(self):
        if len(self.cells) != len(self.lengths):
            raise InputError("value.cells", self.cells, f"as many cell counts as lengths ({len(self.lengths)})")
        return self


class GmshMesh(Section):
    """A gmsh ``.msh`` file with physical groups (names become cell/facet tag names); lengths in m."""

    kind: Literal["gmsh"]
    file: str
    gdim: Literal[2, 3] = 3
    scale: PositiveFloat = 1.0  # multiply coordinates by this to get metres

    _file = field_validator("file")(_existing_file)


class ImagePad(Section):
    """A layer of ``voxels`` voxels of value ``value`` added on one face of the (cropped) image, e.g. a
    porous separator in front of an electrode (list the value under ``phases`` to mesh it)."""

    face: Literal["xmin", "xmax", "ymin", "ymax", "zmin", "zmax"]
    voxels: Annotated[int, Field(ge=1)]
    value: Annotated[int, Field(ge=0)]


class ImageMesh(Section):
    """Voxel mesh of a segmented 3D image (TIFF stack, .npy, raw, .vti)."""

    kind: Literal["image"]
    file: str
    phases: dict[str, Annotated[int, Field(ge=0)]]  # name -> voxel value, the phases to mesh
    voxel_size: Union[PositiveFloat, Annotated[list[PositiveFloat], Field(min_length=3, max_length=3)]]  # m
    crop: Annotated[list[Annotated[list[int], Field(min_length=2, max_length=2)]],
                    Field(min_length=3, max_length=3)] | None = None  # [[x0,x1],[y0,y1],[z0,z1]] voxels
    shape: list[int] | None = None  # raw files only
    dtype: str | None = None  # raw files only
    percolating_axis: Literal["x", "y", "z"] | None = None  # keep only clusters spanning this axis
    pad: ImagePad | None = None  # a constant layer added on one face after cropping and filtering

    _file = field_validator("file")(_existing_file)

    @field_validator("phases")
    @classmethod
    def _some_phase(cls, v):
        if not v:
            raise ValueError("at least one phase, e.g. {pore = 0}")
        return v


MeshSection = Annotated[Union[BoxMesh, GmshMesh, ImageMesh], Field(discriminator="kind")]


# ------------------------------------------------------------------------------------------ materials
def _tensor_spec(spec: Any) -> Any:
    """Accept a property given as a positive number, a 3x3 SPD matrix or a symmetry-class table."""
    from femiec.materials.tensors import tensor_from_spec

    if isinstance(spec, bool) or not isinstance(spec, (int, float, list, dict)):
        raise InputError("value", spec, "a positive number, a 3x3 symmetric positive-definite matrix or "
                         "a table {symmetry, values, orientation}")
    tensor_from_spec(spec, key="value")  # raises InputError: non-finite, non-symmetric, not SPD, ...
    return spec


TensorSpec = Annotated[Any, PlainValidator(_tensor_spec)]


def _property_spec(spec: Any) -> Any:
    """A tensor spec (:func:`_tensor_spec`) or a scalar temperature law ``{law = "arrhenius" | "vft", ...}``
    (:func:`femiec.materials.temperature_dependence.property_law`; parameters checked here)."""
    if isinstance(spec, dict) and "law" in spec:
        from femiec.materials.temperature_dependence import property_law

        property_law(spec, key="value")
        return spec
    return _tensor_spec(spec)


PropertySpec = Annotated[Any, PlainValidator(_property_spec)]


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

    _labels = field_validator("labels")(_existing_file)
    _orientations = field_validator("orientations")(_existing_file)


# ------------------------------------------------------------------------------------------------ models
class BoundaryCondition(Section):
    """One boundary condition on a named facet tag.

    Exactly one of: ``value`` (Dirichlet: potential [V] or concentration [mol/m^3]) or ``flux``
    (outward normal flux density: current density [A/m^2] or molar flux [mol/(m^2 s)]). Facets without
    a condition are insulating (zero flux).
    """

    facet: str
    value: float | None = None
    flux: float | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.value is None) == (self.flux is None):
            raise ValueError("exactly one of 'value' (Dirichlet) or 'flux' (Neumann)")
        return self


class HeatBoundaryCondition(Section):
    """One thermal condition on a named facet: exactly one of ``temperature`` [K] (fixed), ``flux``
    (outward heat flux density [W/m^2]) or ``h`` [W/(m^2 K)] with ``T_inf`` [K] (convective)."""

    facet: str
    temperature: PositiveFloat | None = None
    flux: float | None = None
    h: PositiveFloat | None = None
    T_inf: PositiveFloat | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        given = [self.temperature is not None, self.flux is not None, self.h is not None]
        if sum(given) != 1:
            raise ValueError("exactly one of 'temperature' (fixed), 'flux' (heat flux) or 'h' with 'T_inf' "
                             "(convective)")
        if (self.h is None) != (self.T_inf is None):
            raise InputError("value.T_inf", self.T_inf, "'h' and 'T_inf' given together (convective facet)")
        return self


class HeatSection(Section):
    """Steady heat equation -div(k grad T) = sigma |grad phi|^2 (Joule heat of the conduction solution),
    coupled both ways when sigma depends on T, solved by staggered iteration. k is each material's
    ``thermal_conductivity`` [W/(m K)]; facets without a condition are adiabatic. With a [time] table:
    transient, rho c_p dT/dt added with each material's ``heat_capacity`` [J/(m^3 K)]."""

    boundary: Annotated[list[HeatBoundaryCondition], Field(min_length=1)]
    initial: PositiveFloat = 298.15  # K, initial guess of T


class ConductionModel(Section):
    """Steady conduction/diffusion: -div(K grad u) = 0 with K the chosen material property.

    property = "conductivity": u is the potential [V], flux = current density [A/m^2].
    property = "diffusivity": u is the concentration [mol/m^3], flux = molar flux [mol/(m^2 s)].
    """

    kind: Literal["conduction"]
    property: Literal["conductivity", "diffusivity"] = "conductivity"
    degree: Literal[1, 2] = 1
    boundary: Annotated[list[BoundaryCondition], Field(min_length=1)]
    heat: HeatSection | None = None  # Joule heating: also solve for the temperature
    temperature: PositiveFloat | None = None  # K, where temperature laws are evaluated without [model.heat]


class HomogenizationModel(Section):
    """Effective transport of a segmented image (femiec.homogenization.homogenize); no [mesh] needed.

    phases: voxel values of the conducting phase(s) (relative conductivity 1), or a table
    { "<value>" = conductivity } (S/m; number, or for fe/periodic a 3x3 matrix or symmetry table).
    """

    kind: Literal["homogenization"]
    image: str
    phases: Union[Annotated[list[Annotated[int, Field(ge=0, le=255)]], Field(min_length=1)],
                  dict[str, TensorSpec]]
    axes: Literal["x", "y", "z", "all"] = "all"
    method: Literal["fv", "fe", "periodic"] = "fv"
    voxel_size: Union[PositiveFloat, Annotated[list[PositiveFloat], Field(min_length=3, max_length=3)]]  # m
    crop: Annotated[list[Annotated[list[int], Field(min_length=2, max_length=2)]],
                    Field(min_length=3, max_length=3)] | None = None  # [[x0,x1],[y0,y1],[z0,z1]] voxels
    shape: list[int] | None = None  # raw files only
    dtype: str | None = None  # raw files only
    rtol: Annotated[float, Field(gt=0, lt=1)] | None = None
    contact_resistance: dict[str, float] | None = None  # {"a:b" = R_c} ohm m^2 between two phases, fv only
    mesh: Literal["voxel", "conforming"] = "voxel"  # fe: Q1 voxel mesh or P1 conforming tetrahedra

    _image = field_validator("image")(_existing_file)

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


class NernstPlanckPoissonModel(Section):
    """Coupled Nernst–Planck–Poisson transport (femiec.problems.nernst_planck_poisson).

    The keys (species, closure, relative_permittivity, fixed_charge, temperature, degree, variables,
    conditions, electrodes, steady) are documented in docs/nernst_planck_poisson.md, in SI units, and are
    validated by building the problem (``femiec validate`` does that without solving). [solver], [time]
    (transient when given, steady otherwise) and [output] of the case apply.
    """

    model_config = ConfigDict(extra="allow")
    kind: Literal["nernst_planck_poisson"]

    @model_validator(mode="before")
    @classmethod
    def _temperature_file_beside_the_case(cls, data: Any, info: ValidationInfo) -> Any:
        """A relative ``temperature.file`` is read from the case file's folder, like every other path."""
        temperature = data.get("temperature") if isinstance(data, dict) else None
        if isinstance(temperature, dict) and isinstance(temperature.get("file"), str):
            path = Path(temperature["file"]).expanduser()
            if not path.is_absolute():
                base = Path((info.context or {}).get("base_dir", "."))
                data = {**data, "temperature": {**temperature, "file": str((base / path).resolve())}}
        return data

    def section(self, case: "Case") -> dict:
        """The plain SI dict that femiec.problems.nernst_planck_poisson.run_case takes."""
        section = self.model_dump(exclude={"kind"})
        section["solver"] = case.solver.model_dump()
        if case.time is not None:
            section["time"] = case.time.model_dump(exclude_none=True)
        section["output"] = {"formats": list(case.output.formats)}
        return section


class ElectrodeModel(Section):
    """Microstructure-resolved electrode under galvanostatic discharge/charge (femiec.problems.electrode).

    The keys (electrolyte_regions, active_regions, conductor_regions, separator, collector, electrolyte,
    active_material, conductor_conductivity, temperature, discharge, checkpoint) are documented in
    docs/electrode.md, in SI units. [solver] and [output] of the case apply.
    """

    model_config = ConfigDict(extra="allow")
    kind: Literal["electrode"]

    def section(self, case: "Case") -> dict:
        """The plain SI dict that femiec.problems.electrode_case.run_case takes."""
        section = self.model_dump(exclude={"kind"})
        section["solver"] = case.solver.model_dump()
        section["output"] = {"formats": list(case.output.formats)}
        return section


ModelSection = Annotated[Union[ConductionModel, HomogenizationModel, NernstPlanckPoissonModel, ElectrodeModel],
                         Field(discriminator="kind")]

#: discriminated tables -> their ``kind`` values (used to print keys as mesh.cells, not mesh.box.cells)
UNION_TAGS = {
    "mesh": {"box", "gmsh", "image"},
    "model": {"conduction", "homogenization", "nernst_planck_poisson", "electrode"},
}


# ------------------------------------------------------------------------------------- solver, output
class SolverSection(Section):
    """Linear/nonlinear solver: a preset and PETSc options (without the model's options prefix, e.g.
    ``femiec_npp_``)."""

    preset: Literal["direct", "iterative", "fieldsplit"] = "direct"
    petsc_options: dict[str, Union[str, int, float, bool]] = Field(default_factory=dict)


class TimeSection(Section):
    """Time stepping of transient models (s)."""

    t_end: PositiveFloat
    dt: PositiveFloat
    dt_min: PositiveFloat | None = None
    dt_max: PositiveFloat | None = None
    scheme: Literal["bdf1", "bdf2"] = "bdf2"
    outputs: Annotated[int, Field(ge=1)] = 10  # number of evenly spaced output times


class OutputSection(Section):
    """Where and how results are written. ``directory`` is relative to the working directory."""

    directory: str | None = None
    formats: list[Literal["vtx", "xdmf"]] = Field(default_factory=lambda: ["vtx"])


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

    @model_validator(mode="after")
    def _cross_checks(self):
        if self.mesh is None and self.model.kind != "homogenization":
            raise InputError("mesh", "<missing>", f"a [mesh] table (model.kind = '{self.model.kind}')")
        for region, material in self.regions.items():
            if material not in self.materials:
                raise InputError(f"regions.{region}", material, f"a material defined in [materials] "
                                 f"({', '.join(sorted(self.materials)) or 'none defined'})")
        needed = getattr(self.model, "property", None)
        if self.grains is not None:
            if self.regions:
                raise InputError("grains", self.grains.material, "either [grains] or [regions], not both")
            if self.grains.material not in self.materials:
                raise InputError("grains.material", self.grains.material,
                                 f"a material defined in [materials] ({', '.join(sorted(self.materials))})")
            if needed and getattr(self.materials[self.grains.material], needed) is None:
                raise InputError(f"materials.{self.grains.material}.{needed}", "<missing>",
                                 f"a {needed} for the grains (model.property = '{needed}')")
        heat = getattr(self.model, "heat", None)
        if heat is not None:
            if self.model.property != "conductivity":
                raise InputError("model.heat", "[model.heat]", "model.property = 'conductivity' (Joule heating)")
            for name in set(self.regions.values()) or set(self.materials):
                if self.materials[name].thermal_conductivity is None:
                    raise InputError(f"materials.{name}.thermal_conductivity", "<missing>",
                                     "a thermal conductivity in W/(m K) (model.heat is given)")
        for region, material in self.regions.items():
            if needed and getattr(self.materials[material], needed) is None:
                raise InputError(f"materials.{material}.{needed}", "<missing>",
                                 f"a {needed} for region '{region}' (model.property = '{needed}')")
        return self

    def referenced_cell_tags(self) -> list[tuple[str, str]]:
        """(key, name) of every cell-tag name the case refers to (checked against the mesh)."""
        return [(f"regions.{name}", name) for name in self.regions]

    def referenced_facet_tags(self) -> list[tuple[str, str]]:
        """(key, name) of every facet-tag name the case refers to (checked against the mesh)."""
        tags = [(f"model.boundary[{i}].facet", bc.facet)
                for i, bc in enumerate(getattr(self.model, "boundary", []))]
        heat = getattr(self.model, "heat", None)
        if heat is not None:
            tags += [(f"model.heat.boundary[{i}].facet", bc.facet) for i, bc in enumerate(heat.boundary)]
        return tags
