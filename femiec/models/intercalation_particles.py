"""Model kind ``intercalation_particles``: phase-separating insertion particles (Cahn–Hilliard with
chemical-potential-driven reaction kinetics) sharing one electrode potential, driven at a C-rate or held at a
voltage (femiec.problems.intercalation.IntercalationCell; docs/cahn_hilliard.md).

Particles are boxes (femiec.meshing.box_mesh: 1D slabs resolved through their depth, 2D cross-sections,
3D platelets), each its own mesh, reacting on the faces ``surface`` (default: all). The model needs no
``[mesh]``; ``[time]`` sets the end time, the first and largest steps and the number of field outputs.

Galvanostatic control: the total anodic current I = -/+ c_rate Q / 3600 s (lithiation / delithiation),
Q = F sum_p c_max |particle p| [C; C/m in 2D; C/m^2 in 1D] the capacity of the cell. The run ends at
``[time] t_end`` or at a cut-off voltage (``voltage_min`` on lithiation, ``voltage_max`` on
delithiation, a terminal event of the stepper), whichever comes first.
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from femiec.errors import InputError
from femiec.models.spec import ModelSection, ModelSpec
from femiec.sections import FiniteFloat, PositiveFloat, Section, interval

#: box facet names by particle dimension
FACETS = {1: ["xmin", "xmax"], 2: ["xmin", "xmax", "ymin", "ymax"],
          3: ["xmin", "xmax", "ymin", "ymax", "zmin", "zmax"]}
#: default cell type by particle dimension
CELL_TYPES = {1: "interval", 2: "triangle", 3: "tetrahedron"}
#: coefficient given as a number or as one value per axis (a diagonal tensor)
AxisValues = Union[PositiveFloat, Annotated[list[PositiveFloat], Field(min_length=1, max_length=3)]]
#: the spread of the particles' initial site fractions
Spread = interval(0.0, 0.5, "left")


class ParticleBox(Section):
    """``count`` identical box particles [0, lengths] [m] with ``cells`` divisions per axis (1, 2 or 3
    axes), reacting on the faces ``surface`` (default all of xmin..zmax); ``cell_type`` by default
    interval / triangle / tetrahedron."""

    lengths: Annotated[list[PositiveFloat], Field(min_length=1, max_length=3)]
    cells: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=3)]
    cell_type: Literal["interval", "triangle", "quadrilateral", "tetrahedron", "hexahedron"] | None = None
    surface: Annotated[list[str], Field(min_length=1)] | None = None
    count: Annotated[int, Field(ge=1)] = 1


class CurrentControl(Section):
    """Galvanostatic: ``c_rate`` [1/h] of the cell's capacity, ``direction`` lithiation or delithiation."""

    kind: Literal["current"]
    c_rate: PositiveFloat
    direction: Literal["lithiation", "delithiation"] = "lithiation"


class VoltageControl(Section):
    """Potentiostatic: the electrode potential ``value`` [V vs Li/Li+]."""

    kind: Literal["voltage"]
    value: FiniteFloat


class IntercalationParticlesModel(ModelSection):
    """Regular-solution Cahn–Hilliard particles: ``site_density`` c_max [mol/m^3], ``interaction_energy``
    Omega [J/mol], ``gradient_coefficient`` kappa [J m^2/mol] and ``diffusivity`` D [m^2/s] (a number or
    one value per axis), ``temperature`` [K], ``initial`` site fraction (particle k of N starts at initial
    + initial_spread (k / (N - 1) - 1/2), a seed for mosaic filling), ``scheme``; surface kinetics
    ``rate_law`` with ``rate_constant`` k0 [mol/(m^2 s)], ``standard_potential`` V0 [V vs Li],
    ``alpha``, ``reorganization_energy`` lambda [J/mol] (Marcus–Hush–Chidsey, CIET); ``control``;
    cut-offs ``voltage_min`` / ``voltage_max`` [V]."""

    kind: Literal["intercalation_particles"]
    site_density: PositiveFloat
    interaction_energy: PositiveFloat
    gradient_coefficient: AxisValues
    diffusivity: AxisValues
    temperature: PositiveFloat = 298.15
    standard_potential: FiniteFloat
    rate_constant: PositiveFloat
    rate_law: Literal["butler_volmer", "marcus_hush_chidsey", "ciet"] = "butler_volmer"
    alpha: interval(0.0, 1.0) = 0.5
    reorganization_energy: PositiveFloat | None = None
    scheme: Literal["convex_splitting", "implicit"] = "convex_splitting"
    initial: interval(0.0, 1.0)
    initial_spread: Spread = 1e-3
    particles: Annotated[list[ParticleBox], Field(min_length=1)]
    control: Annotated[Union[CurrentControl, VoltageControl], Field(discriminator="kind")]
    voltage_min: FiniteFloat | None = None
    voltage_max: FiniteFloat | None = None

    def check_case(self, case) -> None:
        """[time] is required; the particles share one dimension, their cells, surfaces and per-axis
        coefficients match it; the initial spread stays inside (0, 1)."""
        if case.time is None:
            raise InputError("time", "<missing>", "a [time] table (t_end, dt) for model.kind = "
                             "'intercalation_particles'")
        dim = len(self.particles[0].lengths)
        for i, p in enumerate(self.particles):
            key = f"model.particles[{i}]"
            if len(p.lengths) != dim:
                raise InputError(f"{key}.lengths", p.lengths, f"{dim} lengths (every particle has the "
                                 "dimension of the first)")
            if len(p.cells) != dim:
                raise InputError(f"{key}.cells", p.cells, f"{dim} cell counts (as many as lengths)")
            for j, name in enumerate(p.surface or ()):
                if name not in FACETS[dim]:
                    raise InputError(f"{key}.surface[{j}]", name, f"one of {FACETS[dim]}")
        for key in ("gradient_coefficient", "diffusivity"):
            value = getattr(self, key)
            if isinstance(value, list) and len(value) != dim:
                raise InputError(f"model.{key}", value, f"a number or {dim} values (one per axis)")
        if not (0 < self.initial - self.initial_spread / 2 and self.initial + self.initial_spread / 2 < 1):
            raise InputError("model.initial_spread", self.initial_spread,
                             f"a spread keeping initial -+ spread/2 inside (0, 1) (initial = {self.initial})")
        if self.rate_law != "butler_volmer" and self.reorganization_energy is None:
            raise InputError("model.reorganization_energy", None, f"a positive energy in J/mol "
                             f"(rate_law = '{self.rate_law}')")


def _tensor(value):
    """A number, or the diagonal tensor of one value per axis."""
    import numpy as np

    return value if not isinstance(value, list) else np.diag(np.asarray(value, dtype=float))


def build(case, meshdata, comm):
    """The IntercalationCell of the case with its control set."""
    from femiec.meshing import box_mesh
    from femiec.problems.cahn_hilliard import CahnHilliardProblem
    from femiec.problems.intercalation import IntercalationCell

    m = case.model
    dim = len(m.particles[0].lengths)
    boxes = [p for p in m.particles for _ in range(p.count)]
    options = {} if case.solver.petsc_options is None else {"petsc_options": case.solver.petsc_options}
    particles = []
    for k, p in enumerate(boxes):
        start = m.initial + (m.initial_spread * (k / (len(boxes) - 1) - 0.5) if len(boxes) > 1 else 0.0)
        particles.append(CahnHilliardProblem(
            box_mesh(p.lengths, p.cells, p.cell_type or CELL_TYPES[dim], comm=comm), site_density=m.site_density,
            interaction_energy=m.interaction_energy, gradient_coefficient=_tensor(m.gradient_coefficient),
            diffusivity=_tensor(m.diffusivity), temperature=m.temperature, initial=start, scheme=m.scheme,
            **options))
    surfaces = [p.surface or FACETS[dim] for p in boxes]
    if any(s != surfaces[0] for s in surfaces):
        raise InputError("model.particles", [p.surface for p in m.particles], "the same surface for every particle")
    cell = IntercalationCell(particles, surface=surfaces[0], standard_potential=m.standard_potential,
                             rate_constant=m.rate_constant, rate_law=m.rate_law, alpha=m.alpha,
                             reorganization_energy=m.reorganization_energy)
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
                       fields=case.output.fields != [], progress=lambda t: progress((t - t0) / (time.t_end - t0)))
    last = records[-1]
    unknowns = sum(2 * p.space.dofmap.index_map.size_global for p in cell.particles)
    return {"intercalation": {
        "particles": len(cell.particles), "unknowns": unknowns, "steps": len(records),
        "stop_reason": cell.stop_reason, "time_s": last.time, "capacity_C": cell.capacity(),
        "applied_current_A": cell.applied_current, "final_voltage_V": last.voltage,
        "final_state_of_charge": last.state_of_charge, "particle_states": list(last.particle_states),
        "charge_passed_C": last.charge,
        "largest_phase_boundary_area": max(r.phase_boundary_area for r in records),
        "most_particles_transforming": max(r.transforming for r in records),
        "newton_iterations": sum(r.newton_iterations for r in records),
        "outputs": ["voltage.csv", "voltage.png", "state_of_charge.png"],
    }}


MODEL = ModelSpec("intercalation_particles", IntercalationParticlesModel, build, run, needs_mesh=False,
                  summary="phase-separating insertion particles (Cahn–Hilliard reaction) at a C-rate or voltage")
