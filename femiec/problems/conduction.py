"""Steady conduction or diffusion through an (anisotropic, heterogeneous) body.

    div(-K grad u) = f  in the domain,   u = u_D on Dirichlet facets,   (-K grad u) . n = g on flux facets,

all other outer facets insulating. K is a scalar or a symmetric positive-definite tensor per cell tag or per
grain (see :mod:`femiec.materials.tensors`). With K the conductivity [S/m], u is the potential [V] and the
flux the current density [A/m^2]; with K the diffusivity [m^2/s], u is the concentration [mol/m^3] and the
flux the molar flux [mol/(m^2 s)]. On 2D meshes integrated fluxes are per metre of depth.

Staged set-up (each stage a method, run by :meth:`ConductionProblem.solve`): space -> coefficient ->
boundary conditions -> residual -> solver. The linear system is solved with one PETSc KSP solve (SNES
``ksponly`` of :class:`femiec.solvers.NonlinearSolver`): preset ``direct`` = MUMPS LU, ``iterative`` = CG
+ hypre BoomerAMG (the operator is symmetric positive definite).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from femiec.errors import InputError
from femiec.forms.conduction import conduction_residual, ohmic_flux
from femiec.problems.base import StagedProblem, global_integral

log = logging.getLogger(__name__)

#: Output names and units of the two physical readings of the problem.
PROPERTIES = {
    "conductivity": {"unknown": ("potential", "V"), "flux": ("current_density", "A/m^2"),
                     "total": ("outward_current", "A")},
    "diffusivity": {"unknown": ("concentration", "mol/m^3"), "flux": ("molar_flux", "mol/(m^2 s)"),
                    "total": ("outward_molar_flow", "mol/s")},
}


class ConductionProblem(StagedProblem):
    """Steady conduction/diffusion on ``meshdata`` (see module docstring).

    Args:
        meshdata: ``femiec.meshing.base.MeshData`` (facet tags name the boundaries).
        coefficient: K, one of
            - a mapping cell tag (int) or region name -> tensor spec (per-region DG0 tensor);
            - a DOLFINx Function or UFL expression (e.g. from ``grain_tensor_field``);
            - one tensor spec for the whole body (number, 3x3 matrix or symmetry table).
        degree: Lagrange degree of u (1 or 2).
        source: volumetric source f (number or UFL expression), default 0.

    The linear solve reads PETSc options under the prefix ``femiec_conduction_``.
    """

    #: PETSc options prefix of the solver (command line: ``-femiec_conduction_<option>``)
    options_prefix = "femiec_conduction_"

    def __init__(self, meshdata, coefficient, degree: int = 1, source=None):
        if degree not in (1, 2):
            raise InputError("degree", degree, "1 or 2")
        self.meshdata = meshdata
        self.coefficient_spec = coefficient
        self.degree = degree
        self.source = source
        self._dirichlet: dict[int, float | Callable] = {}
        self._fluxes: dict[int, object] = {}
        self.V = self.u = self.K = None
        self.bcs: list = []
        self.residual = None
        self.solver = None
        self.preset, self.petsc_options = "direct", None

    # ------------------------------------------------------------------------------------ boundary data
    def set_value(self, facet: str | int, value: float | Callable) -> None:
        """Dirichlet condition u = value on facet ``facet`` (name or tag); ``value`` is a number or a
        function x -> values of shape (num_points,) with x of shape (3, num_points) [m]."""
        tag = self.meshdata.facet_id(facet)
        self._fluxes.pop(tag, None)
        self._dirichlet[tag] = value

    def set_flux(self, facet: str | int, value) -> None:
        """Prescribed outward normal flux density (-K grad u) . n = value on facet ``facet``."""
        tag = self.meshdata.facet_id(facet)
        self._dirichlet.pop(tag, None)
        self._fluxes[tag] = value

    # ------------------------------------------------------------------------------------------ stages
    def build_spaces(self) -> None:
        from dolfinx import fem

        self.V = fem.functionspace(self.meshdata.mesh, ("Lagrange", self.degree))
        self.u = fem.Function(self.V, name="u")

    def build_coefficients(self) -> None:
        from dolfinx import fem

        from femiec.materials.tensors import plane_block, tensor_coefficient, tensor_from_spec

        spec = self.coefficient_spec
        if isinstance(spec, Mapping) and "symmetry" not in spec:
            self.K = tensor_coefficient(self.meshdata, spec, name="K")
        elif hasattr(spec, "ufl_shape"):
            self.K = spec
        else:
            gdim = self.meshdata.mesh.geometry.dim
            self.K = fem.Constant(self.meshdata.mesh, plane_block(tensor_from_spec(spec, key="K"), gdim))

    def build_conditions(self) -> None:
        from dolfinx import default_scalar_type, fem

        if not self._dirichlet:
            raise InputError("boundary", sorted(self._fluxes), "at least one facet with a prescribed value "
                                                               "(Dirichlet), else u is defined up to a constant")
        mesh = self.meshdata.mesh
        fdim = mesh.topology.dim - 1
        mesh.topology.create_connectivity(fdim, mesh.topology.dim)
        self.bcs = []
        for tag, value in self._dirichlet.items():
            dofs = fem.locate_dofs_topological(self.V, fdim, self.meshdata.facet_tags.find(tag))
            if callable(value):
                g = fem.Function(self.V)
                g.interpolate(value)
                self.bcs.append(fem.dirichletbc(g, dofs))
            else:
                self.bcs.append(fem.dirichletbc(default_scalar_type(value), dofs, self.V))

    def build_residual(self) -> None:
        import ufl

        mesh = self.meshdata.mesh
        v = ufl.TestFunction(self.V)
        dx = ufl.Measure("dx", domain=mesh)
        ds = ufl.Measure("ds", domain=mesh, subdomain_data=self.meshdata.facet_tags)
        self.residual = conduction_residual(self.K, self.u, v, dx, source=self.source, ds=ds,
                                            outward_fluxes=self._fluxes)

    def build_solver(self) -> None:
        """The linear solve (SNES ksponly) with ``self.preset`` ("direct" or "iterative") and
        ``self.petsc_options``."""
        from femiec.solvers.snes import NonlinearSolver

        preset, petsc_options = self.preset, self.petsc_options
        if preset not in ("direct", "iterative"):
            raise InputError("solver.preset", preset, "'direct' or 'iterative' for a conduction problem")
        options = {"snes_type": "ksponly", "ksp_error_if_not_converged": True}
        if preset == "iterative":
            options.update({"ksp_type": "cg", "ksp_rtol": 1e-12})
        options.update(petsc_options or {})
        if self.solver is not None:
            self.solver.destroy()
        self.solver = NonlinearSolver(self.residual, self.u, self.bcs, preset=preset, petsc_options=options,
                                      prefix=self.options_prefix)

    def solve(self, preset: str = "direct", petsc_options: dict | None = None):
        """Build (every stage, with the boundary data set so far) and solve with the linear-solver
        ``preset`` and ``petsc_options``; returns the solve statistics (``SolveStats``)."""
        from petsc4py import PETSc

        from femiec.errors import SolverError

        self.preset, self.petsc_options = preset, petsc_options
        self.build()
        try:
            return self.solver.solve()
        except PETSc.Error as exc:
            raise SolverError(f"linear solve of the conduction problem failed: {exc}") from None

    # ------------------------------------------------------------------------------- derived quantities
    def flux(self):
        """UFL flux -K grad u."""
        return ohmic_flux(self.K, self.u)

    def outward_flux(self, facet: str | int) -> float:
        """Total outward flux int (-K grad u) . n ds over facet ``facet`` [A or mol/s; per metre in 2D]
        (from the gradient of the discrete solution)."""
        import ufl

        mesh = self.meshdata.mesh
        ds = ufl.Measure("ds", domain=mesh, subdomain_data=self.meshdata.facet_tags)
        normal_flux = ufl.dot(self.flux(), ufl.FacetNormal(mesh))
        return global_integral(normal_flux * ds(self.meshdata.facet_id(facet)), mesh.comm)

    def average_flux(self, region: str | int | None = None) -> np.ndarray:
        """Volume average (1/|V|) int -K grad u dx over the body or one cell region (gdim vector)."""
        return self._average(self.flux(), region)

    def average_gradient(self, region: str | int | None = None) -> np.ndarray:
        """Volume average (1/|V|) int grad u dx (gdim vector)."""
        import ufl

        return self._average(ufl.grad(self.u), region)

    def flux_function(self, into=None):
        """The flux interpolated into a discontinuous vector space of degree ``degree - 1`` (for output);
        ``into``: a previous result to overwrite (time series)."""
        from dolfinx import fem

        from femiec._compat import interpolation_points

        if into is None:
            mesh = self.meshdata.mesh
            W = fem.functionspace(mesh, ("DG", self.degree - 1, (mesh.geometry.dim,)))
            into = fem.Function(W, name="flux")
        into.interpolate(fem.Expression(self.flux(), interpolation_points(into.function_space)))
        return into

    def _average(self, integrand, region) -> np.ndarray:
        import ufl

        mesh = self.meshdata.mesh
        if region is None:
            dx = ufl.Measure("dx", domain=mesh)
        else:
            tag = self.meshdata.cell_tag(region) if isinstance(region, str) else int(region)
            dx = ufl.Measure("dx", domain=mesh, subdomain_data=self.meshdata.cell_tags)(tag)
        volume = global_integral(1.0 * dx, mesh.comm)
        return np.array([global_integral(integrand[i] * dx, mesh.comm) for i in range(mesh.geometry.dim)]) / volume


@dataclass
class ConductionCase:
    """A conduction case ready to solve: the problem with its boundary conditions and, with
    ``[model.heat]``, the heat problem of the Joule heating."""

    problem: ConductionProblem
    heat: object = None


def problem_from_case(case, meshdata) -> ConductionCase:
    """The problem of a case-file conduction model (temperature laws and [time] inputs checked first)."""
    check_case(case)
    model = case.model
    heat = None if model.heat is None else _heat_problem(case, meshdata)
    temperature = model.temperature if heat is None else heat.T
    problem = ConductionProblem(meshdata, _property_field(case, meshdata, model.property, temperature),
                                degree=model.degree)
    for bc in model.boundary:
        if bc.value is not None:
            problem.set_value(bc.facet, bc.value)
        else:
            problem.set_flux(bc.facet, bc.flux)
    return ConductionCase(problem, heat)


def run_case(case, built: ConductionCase, out_dir, progress) -> dict:
    """Solve a case-file conduction model built by :func:`problem_from_case`; write the fields; return the
    summary entries.

    Returns ``{"fields": ..., "solver": ..., "derived": {...}}`` where ``derived`` holds the outward total
    through every facet with a boundary condition (``outward_current [A]`` or ``outward_molar_flow
    [mol/s]``) and the volume-averaged flux vector; with ``[model.heat]`` also the heat balance [W]
    (steady) or, with ``[time]``, the heat balance of every time step (``heat_balance_steps [W]``).
    """
    from femiec.io.fields import FieldWriter, check_selection
    from femiec.io.glyphs import principal_names

    model = case.model
    problem, heat = built.problem, built.heat
    unknown, flux, total = (PROPERTIES[model.property][name] for name in ("unknown", "flux", "total"))
    selection = case.output.fields
    check_selection(selection, [unknown[0], flux[0], *([] if heat is None else ["temperature", "heat_flux"]),
                                *principal_names(model.property, problem.meshdata.mesh.geometry.dim)])
    derived = {}
    if heat is None:
        stats = problem.solve(case.solver.preset, case.solver.petsc_options).as_dict()
    elif case.time is None:
        stats = _solve_with_joule_heating(case, problem, heat)
        derived["heat_balance [W]"] = heat.heat_balance()
    if heat is None or case.time is None:
        fields = {unknown[0]: (problem.u, unknown[1]), flux[0]: (problem.flux_function(), flux[1])}
        fields.update({} if heat is None else heat.fields())
        with FieldWriter(out_dir, fields, formats=case.output.formats, selection=selection, partial=True) as writer:
            writer.write(0.0)
        progress(1.0)
    else:
        writer, stats, derived["heat_balance_steps [W]"] = _transient_joule_heating(case, problem, heat, out_dir,
                                                                                    progress)
    totals = {bc.facet: problem.outward_flux(bc.facet) for bc in model.boundary}
    derived = {f"{total[0]} [{total[1]}]": totals,
               f"average_{flux[0]} [{flux[1]}]": problem.average_flux().tolist(), **derived}
    return {"fields": {**writer.describe(), **_principal_directions(case, problem, out_dir)}, "solver": stats,
            "derived": derived}


def _principal_directions(case, problem, out_dir) -> dict:
    """Principal directions and values of an anisotropic cell-wise tensor property (per region or per
    grain) for ParaView glyphs (:mod:`femiec.io.glyphs`), e.g. ``conductivity_axis1``; nothing for an
    isotropic, uniform or temperature-dependent property."""
    from dolfinx import fem
    from mpi4py import MPI

    from femiec.io.glyphs import principal_axes, write_principal_directions

    K = problem.K
    if not (isinstance(K, fem.Function) and len(K.ufl_shape) == 2):
        return {}
    values, _ = principal_axes(K)
    anisotropy = float(np.max(values[:, 0] / values[:, -1])) if len(values) else 1.0
    if K.function_space.mesh.comm.allreduce(anisotropy, op=MPI.MAX) <= 1 + 1e-12:
        return {}
    unit = {"conductivity": "S/m", "diffusivity": "m^2/s"}[case.model.property]
    return write_principal_directions(out_dir, K, name=case.model.property, unit=unit, formats=case.output.formats,
                                      selection=case.output.fields)


def _heat_problem(case, meshdata):
    """The HeatProblem of ``[model.heat]``: k and rho c_p of the materials (law tables as functions of the
    solved T), the initial temperature and the thermal boundary conditions."""
    from femiec.problems.thermal import HeatProblem

    section = case.model.heat
    if _laws(case, "thermal_conductivity"):
        k = lambda T: _property_field(case, meshdata, "thermal_conductivity", T)  # noqa: E731
    else:
        k = _property_field(case, meshdata, "thermal_conductivity", None)
    heat_capacity = None
    if case.time is not None:
        heat_capacity = _per_region(case, lambda material, name: material.heat_capacity)
    heat = HeatProblem(meshdata, k, heat_capacity=heat_capacity, degree=case.model.degree, initial=section.initial,
                       preset=case.solver.preset if case.solver.preset != "fieldsplit" else "direct")
    heat.set_conditions(section.boundary)
    return heat


def _solve_with_joule_heating(case, problem, heat) -> dict:
    """Staggered conduction + steady heat equation with the Joule source (``[model.heat]``)."""
    from femiec.problems.electrothermal import solve_joule_staggered

    coupling = solve_joule_staggered(problem, heat, preset=case.solver.preset,
                                     petsc_options=case.solver.petsc_options)
    return {"staggered_iterations": coupling["iterations"], "relative_temperature_change": coupling["change"]}


def _transient_joule_heating(case, problem, heat, out_dir, progress):
    """Time steps of ``[time]`` (femiec.solvers.AdaptiveTimeStepper; BDF2 after a backward Euler first
    step): conduction + heat staggered within each step; every field written at t = 0 and at every step.
    Without ``error_tolerance`` the steps are fixed, dt [s], the last one shortened to end at t_end. With
    ``error_tolerance`` = tol [K] they follow the local error estimate of the mean temperature
    (:meth:`femiec.problems.thermal.HeatProblem.mean_temperature`,
    femiec.solvers.error_control.LocalErrorControl): a step with err > tol is undone
    (:meth:`~femiec.problems.thermal.HeatProblem.reject_step`) and redone shorter, the next step is
    dt min(2, max(0.2, 0.9 (tol/err)^(1/(p+1)))) (p = 1 backward Euler, 2 BDF2) within ``dt_min`` and
    ``dt_max``; the first p + 1 steps have the length dt. Returns (writer, solver statistics, heat balance
    of every step with its time and mean temperature)."""
    from femiec.io.fields import FieldWriter
    from femiec.problems.electrothermal import advance_joule_staggered, couple_joule
    from femiec.solvers import AdaptiveTimeStepper
    from femiec.solvers.error_control import LocalErrorControl

    unknown, flux = (PROPERTIES["conductivity"][name] for name in ("unknown", "flux"))
    couple_joule(problem, heat, case.solver.preset, case.solver.petsc_options)
    problem.solver.solve()  # the potential at the initial temperature, for the t = 0 output
    current, heat_flux = problem.flux_function(), heat.heat_flux_function()
    fields = {unknown[0]: (problem.u, unknown[1]), flux[0]: (current, flux[1]),
              "temperature": (heat.T, "K"), "heat_flux": (heat_flux, "W/m^2")}
    time = case.time
    t_end, dt, tolerance = time.t_end, time.dt, time.error_tolerance
    if tolerance is None:
        stepper = AdaptiveTimeStepper(dt, t_end, dt_max=dt, grow=1.0, comm=heat.mesh.comm, log_steps=False)
    else:
        control = LocalErrorControl(tolerance, heat.mean_temperature,
                                    order=lambda: 2 if heat.step_ratio.value > 0 else 1)
        stepper = AdaptiveTimeStepper(dt, t_end, dt_min=time.dt_min, dt_max=time.dt_max, comm=heat.mesh.comm,
                                      log_steps=False, error_control=control)
    balances, iterations = [], []

    def advance(t, step_dt):
        step = advance_joule_staggered(problem, heat, step_dt)
        iterations.append(step["iterations"])
        return step["stats"]

    def reject():
        heat.reject_step()
        del iterations[-1]

    def accept(t, step_dt, stats):
        log.info("heat step %d: t = %.6g s, dt = %.3g s, %d staggered iterations, %d rejected", len(balances) + 1,
                 heat.time, step_dt, iterations[-1], stepper.records[-1].rejected_attempts)
        balances.append({"time [s]": heat.time, "mean_temperature [K]": heat.mean_temperature(),
                         **heat.heat_balance()})
        problem.flux_function(into=current)
        heat.heat_flux_function(into=heat_flux)
        writer.write(heat.time)
        progress(min(heat.time / t_end, 1.0))

    with FieldWriter(out_dir, fields, formats=case.output.formats, selection=case.output.fields,
                     partial=True) as writer:
        writer.write(0.0)
        records = stepper.run(advance, accept, reject)
    stats = {"time_steps": len(balances), "staggered_iterations_max": max(iterations),
             "staggered_iterations_total": sum(iterations)}
    if tolerance is not None:
        stats.update({"rejected_steps": sum(r.rejected_attempts for r in records),
                      "error_estimates [K]": [r.error_estimate for r in records]})
    return writer, stats, balances


# ------------------------------------------------------------------------------- materials of a case
def _is_law(spec) -> bool:
    return isinstance(spec, Mapping) and "law" in spec


def _used_materials(case) -> dict:
    """Material name -> Material of the materials the case uses."""
    if case.grains is not None:
        names = {case.grains.material}
    else:
        names = set(case.regions.values()) or set(case.materials)
    return {name: case.materials[name] for name in sorted(names)}


def _laws(case, prop: str) -> dict:
    """``materials.<name>.<prop>`` -> T -> P(T) of the used materials whose ``prop`` is a law table."""
    from femiec.materials.temperature_dependence import property_law

    return {f"materials.{name}.{prop}": property_law(getattr(material, prop), f"materials.{name}.{prop}")
            for name, material in _used_materials(case).items() if _is_law(getattr(material, prop))}


def check_case(case) -> None:
    """Temperature-law and transient inputs of a conduction case, before any solve (InputError):

    a law table needs a temperature: ``model.temperature`` [K] without ``[model.heat]`` (where the law is
    evaluated; a VFT law refuses T <= T0 there) or the solved T with ``[model.heat]`` (then no
    ``model.temperature``; a VFT law refuses a known temperature of the case, initial, fixed or T_inf,
    <= T0); laws are isotropic, not for ``[grains]``; ``[time]`` needs ``[model.heat]`` and a
    ``heat_capacity`` for every used material.
    """
    model = case.model
    heat = model.heat
    laws = _laws(case, model.property)
    if heat is not None:
        laws.update(_laws(case, "thermal_conductivity"))
    if laws and case.grains is not None:
        raise InputError(next(iter(laws)), "law table", "a number or tensor with [grains] (laws are isotropic)")
    if heat is None:
        if case.time is not None:
            raise InputError("time", "[time]", "a [model.heat] table (transient heat equation) or no [time]")
        if laws and model.temperature is None:
            raise InputError("model.temperature", None, f"a temperature in K where {next(iter(laws))} (a law "
                                                        f"table) is evaluated, or a [model.heat] table")
        for law in laws.values():
            law(model.temperature)
        return
    if model.temperature is not None:
        raise InputError("model.temperature", model.temperature, "no model.temperature with [model.heat] "
                                                                 "(the temperature is solved)")
    known = [heat.initial] + [t for bc in heat.boundary for t in (bc.temperature, bc.T_inf) if t is not None]
    for law in laws.values():
        law(np.array(known))
    if case.time is not None:
        for name, material in _used_materials(case).items():
            if material.heat_capacity is None:
                raise InputError(f"materials.{name}.heat_capacity", None,
                                 "rho c_p in J/(m^3 K) (transient [model.heat] with a [time] table)")


def _per_region(case, value: Callable):
    """``value(material, name)`` per cell region (``[regions]``), or of the only used material."""
    if case.regions:
        return {region: value(case.materials[name], name) for region, name in case.regions.items()}
    if len(case.materials) != 1:
        raise InputError("regions", {}, "a material for each cell region (or exactly one material)")
    name, material = next(iter(case.materials.items()))
    return value(material, name)


def _property_field(case, meshdata, prop: str, temperature):
    """The property ``prop`` per grain (``[grains]``), per cell region (``[regions]``), or of the only
    material; law tables evaluated at ``temperature`` (a number [K]: numbers; the solved T: a UFL
    expression sum_r chi_r P_r(T), chi_r the indicator of region r)."""
    from femiec.materials.temperature_dependence import property_law

    if case.grains is not None:
        from femiec.materials.orientation import read_orientation_csv
        from femiec.materials.tensors import grain_tensor_field
        from femiec.meshing.tomography import read_image

        grains = case.grains
        spec = getattr(case.materials[grains.material], prop)
        return grain_tensor_field(meshdata, read_image(grains.labels), read_orientation_csv(grains.orientations),
                                  spec, name=f"materials.{grains.material}.{prop}", voxel_size=grains.voxel_size)

    def value(material, name):
        spec = getattr(material, prop)
        if _is_law(spec):
            return property_law(spec, f"materials.{name}.{prop}")(temperature)
        return material.tensors(name)[prop]

    values = _per_region(case, value)
    if not case.regions or not _laws(case, prop) or not hasattr(temperature, "ufl_shape"):
        return values
    return _region_sum(meshdata, values)


def _region_sum(meshdata, values: Mapping):
    """UFL sum_r chi_r K_r of per-region values (3x3 arrays or scalar UFL laws) as a gdim x gdim tensor."""
    import ufl
    from dolfinx import fem

    from femiec.materials.tensors import plane_block

    mesh = meshdata.mesh
    gdim = mesh.geometry.dim
    Q = fem.functionspace(mesh, ("DG", 0))
    total = 0
    for region, K in values.items():
        chi = fem.Function(Q, name=f"indicator_{region}")
        tags = meshdata.cell_tags
        chi.x.array[tags.indices[tags.values == meshdata.cell_tag(region)]] = 1.0
        chi.x.scatter_forward()
        tensor = K * ufl.Identity(gdim) if hasattr(K, "ufl_shape") else fem.Constant(mesh, plane_block(K, gdim))
        total = total + chi * tensor
    return total
