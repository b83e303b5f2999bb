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

from collections.abc import Callable, Mapping

import numpy as np

from femiec.errors import InputError
from femiec.forms.conduction import conduction_residual, ohmic_flux

#: Output names and units of the two physical readings of the problem.
PROPERTIES = {
    "conductivity": {"unknown": ("potential", "V"), "flux": ("current_density", "A/m^2"),
                     "total": ("outward_current", "A")},
    "diffusivity": {"unknown": ("concentration", "mol/m^3"), "flux": ("molar_flux", "mol/(m^2 s)"),
                    "total": ("outward_molar_flow", "mol/s")},
}


class ConductionProblem:
    """Steady conduction/diffusion on ``meshdata`` (see module docstring).

    Args:
        meshdata: ``femiec.meshing.base.MeshData`` (facet tags name the boundaries).
        coefficient: K, one of
            - a mapping cell tag (int) or region name -> tensor spec (per-region DG0 tensor);
            - a DOLFINx Function or UFL expression (e.g. from ``grain_tensor_field``);
            - one tensor spec for the whole body (number, 3x3 matrix or symmetry table).
        degree: Lagrange degree of u (1 or 2).
        source: volumetric source f (number or UFL expression), default 0.
    """

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
    def create_space(self) -> None:
        from dolfinx import fem

        self.V = fem.functionspace(self.meshdata.mesh, ("Lagrange", self.degree))
        self.u = fem.Function(self.V, name="u")

    def create_coefficient(self) -> None:
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

    def create_bcs(self) -> None:
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

    def create_residual(self) -> None:
        import ufl

        mesh = self.meshdata.mesh
        v = ufl.TestFunction(self.V)
        dx = ufl.Measure("dx", domain=mesh)
        ds = ufl.Measure("ds", domain=mesh, subdomain_data=self.meshdata.facet_tags)
        self.residual = conduction_residual(self.K, self.u, v, dx, source=self.source, ds=ds,
                                            outward_fluxes=self._fluxes)

    def create_solver(self, preset: str = "direct", petsc_options: dict | None = None) -> None:
        from femiec.solvers.snes import NonlinearSolver

        if preset not in ("direct", "iterative"):
            raise InputError("solver.preset", preset, "'direct' or 'iterative' for a conduction problem")
        options = {"snes_type": "ksponly", "ksp_error_if_not_converged": True}
        if preset == "iterative":
            options.update({"ksp_type": "cg", "ksp_rtol": 1e-12})
        options.update(petsc_options or {})
        if self.solver is not None:
            self.solver.destroy()
        self.solver = NonlinearSolver(self.residual, self.u, self.bcs, preset=preset, petsc_options=options)

    def solve(self, preset: str = "direct", petsc_options: dict | None = None):
        """Run the set-up stages and solve; returns the solve statistics (``SolveStats``)."""
        from petsc4py import PETSc

        from femiec.errors import SolverError

        self.create_space()
        self.create_coefficient()
        self.create_bcs()
        self.create_residual()
        self.create_solver(preset, petsc_options)
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
        return _integral(mesh, ufl.dot(self.flux(), ufl.FacetNormal(mesh)) * ds(self.meshdata.facet_id(facet)))

    def average_flux(self, region: str | int | None = None) -> np.ndarray:
        """Volume average (1/|V|) int -K grad u dx over the body or one cell region (gdim vector)."""
        return self._average(self.flux(), region)

    def average_gradient(self, region: str | int | None = None) -> np.ndarray:
        """Volume average (1/|V|) int grad u dx (gdim vector)."""
        import ufl

        return self._average(ufl.grad(self.u), region)

    def flux_function(self):
        """The flux interpolated into a discontinuous vector space of degree ``degree - 1`` (for output)."""
        from dolfinx import fem

        from femiec._compat import interpolation_points

        mesh = self.meshdata.mesh
        W = fem.functionspace(mesh, ("DG", self.degree - 1, (mesh.geometry.dim,)))
        q = fem.Function(W, name="flux")
        q.interpolate(fem.Expression(self.flux(), interpolation_points(W)))
        return q

    def _average(self, integrand, region) -> np.ndarray:
        import ufl

        mesh = self.meshdata.mesh
        if region is None:
            dx = ufl.Measure("dx", domain=mesh)
        else:
            tag = self.meshdata.cell_tag(region) if isinstance(region, str) else int(region)
            dx = ufl.Measure("dx", domain=mesh, subdomain_data=self.meshdata.cell_tags)(tag)
        volume = _integral(mesh, 1.0 * dx)
        return np.array([_integral(mesh, integrand[i] * dx) for i in range(mesh.geometry.dim)]) / volume


def _integral(mesh, form) -> float:
    """Global value of a scalar UFL form (summed over ranks)."""
    from dolfinx import fem
    from mpi4py import MPI

    return mesh.comm.allreduce(fem.assemble_scalar(fem.form(form)), op=MPI.SUM)


def run_case(case, meshdata, out_dir, progress) -> dict:
    """Solve a case-file conduction model; write the fields; return the summary entries.

    Returns ``{"fields": ..., "solver": ..., "derived": {...}}`` where ``derived`` holds the outward total
    through every facet with a boundary condition (``outward_current [A]`` or ``outward_molar_flow
    [mol/s]``) and the volume-averaged flux vector.
    """
    from femiec.io.fields import FieldWriter

    model = case.model
    names = PROPERTIES[model.property]
    problem = ConductionProblem(meshdata, _case_coefficient(case, meshdata, model.property), degree=model.degree)
    for bc in model.boundary:
        if bc.value is not None:
            problem.set_value(bc.facet, bc.value)
        else:
            problem.set_flux(bc.facet, bc.flux)
    unknown, flux, total = names["unknown"], names["flux"], names["total"]
    fields = {}
    derived = {}
    if model.heat is None:
        stats = problem.solve(case.solver.preset, case.solver.petsc_options).as_dict()
    else:
        heat, stats = _solve_with_joule_heating(case, meshdata, problem)
        fields.update(heat.fields())
        derived["heat_balance [W]"] = heat.heat_balance()
    fields = {unknown[0]: (problem.u, unknown[1]), flux[0]: (problem.flux_function(), flux[1]), **fields}
    with FieldWriter(out_dir, fields, formats=case.output.formats) as writer:
        writer.write(0.0)
    progress(1.0)
    totals = {bc.facet: problem.outward_flux(bc.facet) for bc in model.boundary}
    derived = {f"{total[0]} [{total[1]}]": totals,
               f"average_{flux[0]} [{flux[1]}]": problem.average_flux().tolist(), **derived}
    return {"fields": writer.describe(), "solver": stats, "derived": derived}


def _solve_with_joule_heating(case, meshdata, problem):
    """Staggered conduction + steady heat equation with the Joule source (``[model.heat]``)."""
    from femiec.problems.thermal import HeatProblem, solve_joule_staggered

    heat_section = case.model.heat
    if case.regions:
        k = {region: case.materials[name].thermal_conductivity for region, name in case.regions.items()}
    else:
        k = next(iter(case.materials.values())).thermal_conductivity
    heat = HeatProblem(meshdata, k, degree=case.model.degree, initial=heat_section.initial,
                       preset=case.solver.preset if case.solver.preset != "fieldsplit" else "direct")
    for bc in heat_section.boundary:
        if bc.temperature is not None:
            heat.set_temperature(bc.facet, bc.temperature)
        elif bc.flux is not None:
            heat.set_heat_flux(bc.facet, bc.flux)
        else:
            heat.set_convection(bc.facet, bc.h, bc.T_inf)
    coupling = solve_joule_staggered(problem, heat, preset=case.solver.preset,
                                     petsc_options=case.solver.petsc_options)
    return heat, {"staggered_iterations": coupling["iterations"], "relative_temperature_change": coupling["change"]}


def _case_coefficient(case, meshdata, prop: str):
    """The property ``prop`` per grain (``[grains]``), per cell region (``[regions]``), or of the only
    material."""
    if case.grains is not None:
        from femiec.materials.tensors import grain_tensor_field
        from femiec.materials.orientation import read_orientation_csv
        from femiec.meshing.tomography import read_image

        grains = case.grains
        spec = getattr(case.materials[grains.material], prop)
        return grain_tensor_field(meshdata, read_image(grains.labels), read_orientation_csv(grains.orientations),
                                  spec, name=f"materials.{grains.material}.{prop}", voxel_size=grains.voxel_size)
    if case.regions:
        return {region: case.materials[name].tensors(name)[prop] for region, name in case.regions.items()}
    if len(case.materials) != 1:
        raise InputError("regions", {}, "a material for each cell region (or exactly one material)")
    name, material = next(iter(case.materials.items()))
    return material.tensors(name)[prop]
