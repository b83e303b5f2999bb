"""Model kind ``intercalation_particles``: phase-separating insertion particles (Cahn–Hilliard with
chemical-potential-driven reaction kinetics) sharing one electrode potential, driven at a C-rate or held at a
voltage (femiec.problems.intercalation.IntercalationCell; docs/cahn_hilliard.md).

Particles, each on its own mesh (femiec.meshing.particles), are boxes (``kind = "box"``, the default:
femiec.meshing.box_mesh, 1D slabs resolved through their depth, 2D cross-sections, 3D platelets) reacting on
the faces ``surface`` (default: all), ellipsoids meshed with gmsh (``kind = "ellipsoid"``: spheres, platelets)
or the particles of one phase of a segmented image (``kind = "image"``: the largest 6-connected clusters,
one hexahedron per voxel), the last two reacting over their whole surface. Boxes are not mixed with the
other two kinds (one reacting-face name for all). The model needs no ``[mesh]``; ``[time]`` sets the end
time, the first and largest steps and the number of field outputs. ``distribution = "split"`` (default)
gives each particle to one rank or a group of ranks, ``"shared"`` spreads every particle over all ranks
(:func:`particle_meshes`).

Galvanostatic control: the total anodic current I = -/+ c_rate Q / 3600 s (lithiation / delithiation),
Q = F sum_p c_max |particle p| [C; C/m in 2D; C/m^2 in 1D] the capacity of the cell. The run ends at
``[time] t_end`` or at a cut-off voltage (``voltage_min`` on lithiation, ``voltage_max`` on
delithiation, a terminal event of the stepper), whichever comes first.

Accuracy in time (IntercalationCell.run): ``[time] error_tolerance`` [V under current control, A (A/m in
2D, A/m^2 in 1D) of the cell current under voltage control] makes the steps follow the local error
estimate of that output (default none: steps grow on Newton iteration counts); ``dense_output`` f (current
control): voltage.csv gains a point at every f Q of charge, interpolated between the steps.
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field, field_validator

from femiec.errors import InputError
from femiec.models.spec import ModelSection, ModelSpec
from femiec.sections import FiniteFloat, ImageKeys, PositiveFloat, Section, existing_image, interval, remap_table

#: the reacting face of ellipsoid and image particles (femiec.meshing.particles)
SURFACE = "surface"
#: box facet names by particle dimension
FACETS = {1: ["xmin", "xmax"], 2: ["xmin", "xmax", "ymin", "ymax"],
          3: ["xmin", "xmax", "ymin", "ymax", "zmin", "zmax"]}
#: default cell type by particle dimension
CELL_TYPES = {1: "interval", 2: "triangle", 3: "tetrahedron"}
#: cells of a box mesh per box division, by cell type (the cost estimate of a particle)
SIMPLICES = {"interval": 1, "triangle": 2, "quadrilateral": 1, "tetrahedron": 6, "hexahedron": 1}
#: coefficient given as a number or as one value per axis (a diagonal tensor)
AxisValues = Union[PositiveFloat, Annotated[list[PositiveFloat], Field(min_length=1, max_length=3)]]
#: the spread of the particles' initial site fractions
Spread = interval(0.0, 0.5, "left")
#: the stress-free site fraction of coherency strain
ReferenceFraction = interval(0.0, 1.0, "both")


class ParticleBox(Section):
    """``count`` identical box particles [0, lengths] [m] with ``cells`` divisions per axis (1, 2 or 3
    axes), reacting on the faces ``surface`` (default all of xmin..zmax); ``cell_type`` by default
    interval / triangle / tetrahedron."""

    kind: Literal["box"] = "box"
    lengths: Annotated[list[PositiveFloat], Field(min_length=1, max_length=3)]
    cells: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=3)]
    cell_type: Literal["interval", "triangle", "quadrilateral", "tetrahedron", "hexahedron"] | None = None
    surface: Annotated[list[str], Field(min_length=1)] | None = None
    count: Annotated[int, Field(ge=1)] = 1

    def dimension(self) -> int:
        return len(self.lengths)

    def surfaces(self) -> list[str]:
        return self.surface or FACETS[len(self.lengths)]


class ParticleEllipsoid(Section):
    """``count`` identical ellipsoids x^2/a^2 + y^2/b^2 + z^2/c^2 <= 1 with ``semi_axes`` (a, b, c) [m] (a
    sphere: three equal values; a platelet: one small, e.g. LiFePO4's b axis), tetrahedra of at most
    ``mesh_size`` [m] (default a fifth of the smallest semi-axis), reacting over their whole surface."""

    kind: Literal["ellipsoid"]
    semi_axes: Annotated[list[PositiveFloat], Field(min_length=3, max_length=3)]
    mesh_size: PositiveFloat | None = None
    count: Annotated[int, Field(ge=1)] = 1

    def dimension(self) -> int:
        return 3

    def surfaces(self) -> list[str]:
        return [SURFACE]


class ImageParticles(ImageKeys):
    """The ``count`` largest particles (6-connected clusters, default all) of value ``phase`` in the
    segmented ``image`` (the reading keys voxel_size [m], crop, remap, dataset, shape, dtype are
    :class:`femiec.sections.ImageKeys`), one hexahedron per voxel, reacting over their whole (staircase)
    surface; particles cut by the image border are left out unless ``keep_border``, and so are clusters of
    fewer than ``min_voxels`` voxels. ``split = "watershed"`` separates touching particles along the necks
    of the phase's distance map, each seeded where the distance to the other phases is largest within
    ``min_radius`` voxels (femiec.meshing.particles.watershed_particles); the faces where two of them touched
    react like the rest of their surface."""

    kind: Literal["image"]
    image: str  # a file or a folder of 2D TIFF slices
    phase: Annotated[int, Field(ge=0)]
    count: Annotated[int, Field(ge=1)] | None = None
    keep_border: bool = False
    min_voxels: Annotated[int, Field(ge=1)] = 1
    split: Literal["none", "watershed"] = "none"
    min_radius: PositiveFloat = 2.0  # voxels, watershed markers

    _image = field_validator("image")(existing_image)

    def dimension(self) -> int:
        return 3

    def surfaces(self) -> list[str]:
        return [SURFACE]


#: one entry of ``particles`` (``kind`` defaults to "box")
Particles = Annotated[Union[ParticleBox, ParticleEllipsoid, ImageParticles], Field(discriminator="kind")]


class Coherency(Section):
    """``[model.coherency]``: coherency strain of the particles (femiec.problems.coherency.CoherencyStrain):
    ``youngs_modulus`` E [Pa], ``poisson_ratio`` nu, ``vegard`` lattice strain per unit site fraction (a
    number: isotropic; 3 values: along x, y, z), ``reference`` stress-free site fraction c_ref, ``support``
    "free" (traction-free particle), "rollers" (boxes: u . n = 0 on every face) or "clamped"."""

    youngs_modulus: PositiveFloat
    poisson_ratio: interval(-1.0, 0.5)
    vegard: Union[FiniteFloat, Annotated[list[FiniteFloat], Field(min_length=3, max_length=3)]]
    reference: ReferenceFraction = 0.0
    support: Literal["free", "rollers", "clamped"] = "free"


class CurrentControl(Section):
    """Galvanostatic: ``c_rate`` [1/h] of the cell's capacity, ``direction`` lithiation or delithiation."""

    kind: Literal["current"]
    c_rate: PositiveFloat
    direction: Literal["lithiation", "delithiation"] = "lithiation"


class VoltageControl(Section):
    """Potentiostatic: the electrode potential ``value`` [V vs Li/Li+]."""

    kind: Literal["voltage"]
    value: FiniteFloat


class RegularSolution(Section):
    """The regular-solution Cahn–Hilliard material and its surface kinetics (femiec.forms.cahn_hilliard,
    femiec.forms.phase_kinetics): ``interaction_energy`` Omega [J/mol], ``gradient_coefficient`` kappa
    [J m^2/mol] (a number or one value per axis), ``rate_law`` with ``rate_constant`` k0 [mol/(m^2 s)],
    ``standard_potential`` V0 [V vs Li], ``alpha``, ``reorganization_energy`` lambda [J/mol]
    (Marcus–Hush–Chidsey, CIET). The keys of the ``intercalation_particles`` model and of an electrode's
    ``[model.cahn_hilliard]`` table."""

    interaction_energy: PositiveFloat
    gradient_coefficient: AxisValues
    standard_potential: FiniteFloat
    rate_constant: PositiveFloat
    rate_law: Literal["butler_volmer", "marcus_hush_chidsey", "ciet"] = "butler_volmer"
    alpha: interval(0.0, 1.0) = 0.5
    reorganization_energy: PositiveFloat | None = None

    def check_kinetics(self, prefix: str = "model") -> None:
        """A reorganization energy is required by the Marcus–Hush–Chidsey and CIET rate laws."""
        if self.rate_law != "butler_volmer" and self.reorganization_energy is None:
            raise InputError(f"{prefix}.reorganization_energy", None, f"a positive energy in J/mol "
                             f"(rate_law = '{self.rate_law}')")


class IntercalationParticlesModel(ModelSection, RegularSolution):
    """Regular-solution Cahn–Hilliard particles: ``site_density`` c_max [mol/m^3], ``interaction_energy``
    Omega [J/mol], ``gradient_coefficient`` kappa [J m^2/mol] and ``diffusivity`` D [m^2/s] (a number or
    one value per axis), ``temperature`` [K], ``initial`` site fraction (particle k of N starts at initial
    + initial_spread (k / (N - 1) - 1/2), a seed for mosaic filling), ``scheme``; surface kinetics
    ``rate_law`` with ``rate_constant`` k0 [mol/(m^2 s)], ``standard_potential`` V0 [V vs Li],
    ``alpha``, ``reorganization_energy`` lambda [J/mol] (Marcus–Hush–Chidsey, CIET); ``control``;
    cut-offs ``voltage_min`` / ``voltage_max`` [V]; ``distribution`` of the particles over the MPI ranks:
    "split" (the default: each particle on one rank, or on a group of ranks when there are fewer particles
    than ranks: :func:`particle_meshes`) or "shared" (every particle mesh over all ranks); optional
    ``coherency`` strain (:class:`Coherency`); ``dense_output``: a fraction f of the capacity (current
    control only; default none): voltage.csv then holds, besides the steps, a point interpolated at every
    f Q of charge (``solver_step`` 0). ``[time] error_tolerance`` (with ``scheme = "implicit"``) [V: the
    cell voltage under current control; A, A/m in 2D, A/m^2 in 1D: the cell current under voltage
    control] is the local error per step of that output (default none: steps grow on Newton iteration
    counts)."""

    kind: Literal["intercalation_particles"]
    union_tags: ClassVar[dict[str, set[str]]] = {"particles": {"box", "ellipsoid", "image"}}
    site_density: PositiveFloat
    diffusivity: AxisValues
    temperature: PositiveFloat = 298.15
    scheme: Literal["convex_splitting", "implicit"] = "convex_splitting"
    initial: interval(0.0, 1.0)
    initial_spread: Spread = 1e-3
    particles: Annotated[list[Particles], Field(min_length=1)]
    control: Annotated[Union[CurrentControl, VoltageControl], Field(discriminator="kind")]
    voltage_min: FiniteFloat | None = None
    voltage_max: FiniteFloat | None = None
    coherency: Coherency | None = None
    distribution: Literal["shared", "split"] = "split"
    dense_output: Annotated[float, Field(gt=0, le=1)] | None = None  # of the capacity

    @field_validator("particles", mode="before")
    @classmethod
    def _box_by_default(cls, value):
        """A particle table without ``kind`` is a box (the tables of earlier case files)."""
        if not isinstance(value, list):
            return value
        return [{"kind": "box", **p} if isinstance(p, dict) and "kind" not in p else p for p in value]

    def check_case(self, case) -> None:
        """[time] is required; the particles share one dimension and one reacting surface, box cells and
        surfaces match the box; per-axis coefficients match the dimension; the initial spread stays inside
        (0, 1)."""
        if case.time is None:
            raise InputError("time", "<missing>", "a [time] table (t_end, dt) for model.kind = "
                             "'intercalation_particles'")
        dim = self.particles[0].dimension()
        for i, p in enumerate(self.particles):
            key = f"model.particles[{i}]"
            if p.kind != "box":
                if dim != 3:
                    raise InputError(f"{key}.kind", p.kind, f"'box' like the first particle ({dim}D boxes; "
                                     "ellipsoid and image particles are 3D)")
                continue
            if len(p.lengths) != dim:
                raise InputError(f"{key}.lengths", p.lengths, f"{dim} lengths (every particle has the "
                                 "dimension of the first)")
            if len(p.cells) != dim:
                raise InputError(f"{key}.cells", p.cells, f"{dim} cell counts (as many as lengths)")
            for j, name in enumerate(p.surface or ()):
                if name not in FACETS[dim]:
                    raise InputError(f"{key}.surface[{j}]", name, f"one of {FACETS[dim]}")
        for i, p in enumerate(self.particles):
            if p.surfaces() != self.particles[0].surfaces():
                raise InputError(f"model.particles[{i}]", f"kind = '{p.kind}', reacting on {p.surfaces()}",
                                 f"the reacting faces of the first particle {self.particles[0].surfaces()} "
                                 "(boxes are not mixed with ellipsoid or image particles)")
        for key in ("gradient_coefficient", "diffusivity"):
            value = getattr(self, key)
            if isinstance(value, list) and len(value) != dim:
                raise InputError(f"model.{key}", value, f"a number or {dim} values (one per axis)")
        if not (0 < self.initial - self.initial_spread / 2 and self.initial + self.initial_spread / 2 < 1):
            raise InputError("model.initial_spread", self.initial_spread,
                             f"a spread keeping initial -+ spread/2 inside (0, 1) (initial = {self.initial})")
        if self.coherency is not None and self.coherency.support == "rollers" and self.particles[0].kind != "box":
            raise InputError("model.coherency.support", "rollers", "'free' or 'clamped' (rollers need box "
                             "particles, whose faces are named)")
        self.check_kinetics()
        if case.time.error_tolerance is not None and self.scheme != "implicit":
            raise InputError("time.error_tolerance", case.time.error_tolerance, "model.scheme = 'implicit' with "
                             "an error tolerance (convex splitting's voltage lags by O(dt), unseen by the estimate)")
        if self.dense_output is not None and self.control.kind != "current":
            raise InputError("model.dense_output", self.dense_output, "no dense_output under voltage control "
                             "(its points are spaced in charge at a constant current)")


def axis_tensor(value):
    """A number, or the diagonal tensor of one value per axis."""
    import numpy as np

    return value if not isinstance(value, list) else np.diag(np.asarray(value, dtype=float))


def particle_meshes(particles, comm, distribution: str = "shared") -> tuple[int, list[int], list]:
    """The particles of the ``particles`` tables this rank holds: (the number of particles in the
    population, the numbers (from 0) of this rank's particles, their MeshData), in order (``count``
    copies of a box or an ellipsoid, ``count`` image particles largest first).

    ``distribution = "shared"``: every particle mesh over all ranks of ``comm``. ``"split"``: ``comm`` is
    split into groups (femiec.meshing.particles.assign_particles, balanced by the estimated cell count:
    box cells, ellipsoid volume over the volume of a regular tetrahedron of edge ``mesh_size``, image
    voxels) and each group meshes only its particles, over its own communicator (gmsh builds on the group's
    first rank; every rank reads and labels an image, then meshes its clusters)."""
    import numpy as np

    from femiec.meshing import box_mesh
    from femiec.meshing.particles import assign_particles, ellipsoid_particle, label_mesh, particle_labels

    builders, weights = [], []  # one per particle of the population: build(comm) -> MeshData, cell estimate
    for i, p in enumerate(particles):
        key = f"model.particles[{i}]"
        if p.kind == "box":
            cell_type = p.cell_type or CELL_TYPES[p.dimension()]
            builders += [lambda c, p=p, t=cell_type: box_mesh(p.lengths, p.cells, t, comm=c)] * p.count
            weights += [float(np.prod(p.cells)) * SIMPLICES[cell_type]] * p.count
        elif p.kind == "ellipsoid":
            size = p.mesh_size or min(p.semi_axes) / 5  # ellipsoid_particle's default
            builders += [lambda c, p=p: ellipsoid_particle(p.semi_axes, p.mesh_size, comm=c)] * p.count
            weights += [4 / 3 * np.pi * np.prod(p.semi_axes) / (size**3 / (6 * np.sqrt(2)))] * p.count
        else:
            from scipy import ndimage

            labels, chosen = particle_labels(_particle_image(p, key), p.phase, p.count, p.keep_border,
                                             p.min_voxels, key, p.split, p.min_radius)
            regions = ndimage.find_objects(labels)  # bounding boxes of every particle, one pass over the image
            builders += [lambda c, p=p, labels=labels, n=n, r=regions[n - 1]: label_mesh(labels, n, p.voxel_size, c, r)
                         for n in chosen]
            sizes = np.bincount(labels.ravel())  # voxels per particle, one pass over the image
            weights += [float(sizes[n]) for n in chosen]
    if distribution == "shared":
        return len(builders), list(range(len(builders))), [build(comm) for build in builders]
    group, rank_group = assign_particles(weights, comm.size)
    mine = [k for k, g in enumerate(group) if g == rank_group[comm.rank]]
    part = comm.Split(rank_group[comm.rank], comm.rank)
    return len(builders), mine, [builders[k](part) for k in mine]


def _particle_image(p: ImageParticles, key: str):
    """The image of an ``image`` particle table, read, remapped, cropped and checked to be labels."""
    from femiec.meshing.tomography import read_image_crop
    from femiec.meshing.voxel import check_labels

    image = read_image_crop(p.image, p.shape, p.dtype, p.crop, key=f"{key}.crop", dataset=p.dataset,
                            remap=remap_table(p.remap), prefix=f"{key}.")
    check_labels(image, f"{key}.image")
    return image


def check(case, meshdata, comm) -> None:
    """``femiec validate``: every image particle table names a phase with at least ``count`` particles (the
    image is read and labelled; no mesh is built)."""
    from femiec.meshing.particles import particle_labels

    for i, p in enumerate(case.model.particles):
        if p.kind != "image":
            continue
        key = f"model.particles[{i}]"
        particle_labels(_particle_image(p, key), p.phase, p.count, p.keep_border, p.min_voxels, key, p.split,
                        p.min_radius)


def build(case, meshdata, comm):
    """The IntercalationCell of the case with its control set."""
    from femiec.problems.cahn_hilliard import CahnHilliardProblem
    from femiec.problems.coherency import CoherencyStrain
    from femiec.problems.intercalation import IntercalationCell

    m = case.model
    count, index, meshes = particle_meshes(m.particles, comm, m.distribution)
    options = {} if case.solver.petsc_options is None else {"petsc_options": case.solver.petsc_options}
    if m.coherency is not None:
        options["elasticity"] = CoherencyStrain(m.coherency.youngs_modulus, m.coherency.poisson_ratio,
                                                m.coherency.vegard, m.coherency.reference, m.coherency.support)
    particles = []
    for k, mesh in zip(index, meshes):
        start = m.initial + (m.initial_spread * (k / (count - 1) - 0.5) if count > 1 else 0.0)
        particles.append(CahnHilliardProblem(
            mesh, site_density=m.site_density, interaction_energy=m.interaction_energy,
            gradient_coefficient=axis_tensor(m.gradient_coefficient), diffusivity=axis_tensor(m.diffusivity),
            temperature=m.temperature, initial=start, scheme=m.scheme, **options))
    cell = IntercalationCell(particles, surface=m.particles[0].surfaces(), standard_potential=m.standard_potential,
                             rate_constant=m.rate_constant, rate_law=m.rate_law, alpha=m.alpha,
                             reorganization_energy=m.reorganization_energy, comm=comm, index=index)
    if m.control.kind == "current":
        sign = -1 if m.control.direction == "lithiation" else 1
        cell.set_current(sign * m.control.c_rate * cell.capacity() / 3600.0)
    else:
        cell.set_voltage(m.control.value)
    return cell


def _cutoffs(model, cell):
    """Terminal events of the cut-off voltages (g = V - V_min falling, g = V - V_max rising; V of the
    attempt the stepper judges)."""
    from femiec.solvers.events import Event

    events = []
    if model.voltage_min is not None:
        events.append(Event("voltage_min", lambda t: cell.trial_voltage - model.voltage_min, direction=-1))
    if model.voltage_max is not None:
        events.append(Event("voltage_max", lambda t: cell.trial_voltage - model.voltage_max, direction=1))
    return events


def run(case, cell, out_dir, progress) -> dict:
    """Step to [time] t_end or a cut-off; voltage.csv/png, state_of_charge.png and the fields of every
    particle in ``out_dir``; returns the summary entries."""
    import numpy as np

    time = case.time
    t0 = cell.time
    output_times = list(np.linspace(t0, time.t_end, time.outputs + 1)[1:-1])
    records = cell.run(time.t_end, time.dt, dt_max=time.dt_max, dt_min=time.dt_min, output_dir=out_dir,
                       output_times=output_times, events=_cutoffs(case.model, cell), formats=case.output.formats,
                       fields=case.output.fields != [], progress=lambda t: progress((t - t0) / (time.t_end - t0)),
                       error_tolerance=time.error_tolerance, dense_output=case.model.dense_output)
    last = records[-1]
    return {"intercalation": {
        "particles": cell.count, "unknowns": cell.unknowns(), "steps": len(records),
        "stop_reason": cell.stop_reason, "time_s": last.time, "capacity_C": cell.capacity(),
        "applied_current_A": cell.applied_current, "final_voltage_V": last.voltage,
        "final_state_of_charge": last.state_of_charge, "particle_states": list(last.particle_states),
        "charge_passed_C": last.charge,
        "largest_phase_boundary_area": max(r.phase_boundary_area for r in records),
        "most_particles_transforming": max(r.transforming for r in records),
        "newton_iterations": sum(r.newton_iterations for r in records),
        "rejected_attempts": cell.rejected_attempts, "error_tolerance": time.error_tolerance,
        "dense_points": len(cell.dense_records),
        "outputs": ["voltage.csv", "voltage.png", "state_of_charge.png"],
    }}


MODEL = ModelSpec("intercalation_particles", IntercalationParticlesModel, build, run, needs_mesh=False, check=check,
                  summary="phase-separating insertion particles (Cahn–Hilliard reaction) at a C-rate or voltage")
