"""Solved temperature (:class:`HeatProblem`, SI units; forms in :mod:`femiec.forms.heat`); a prescribed
temperature is :class:`femiec.problems.prescribed_temperature.PrescribedTemperature`.


    rho c_p dT/dt - div(k grad T) = q       in the body (steady: without the first term)
    T = T_D                                  on fixed-temperature facets
    -k grad(T) . n = g                       on heat-flux facets (outward g [W/m^2])
    -k grad(T) . n = h (T - T_inf)           on convective facets
    -k grad(T) . n = -q_s                    on facets with a surface heat source q_s [W/m^2]

k [W/(m K)] is a scalar or tensor (per cell region, or a function of T), rho c_p [J/(m^3 K)] a number,
per-region numbers or UFL, q [W/m^3] a sum of sources (Joule heat, i.E, ...; UFL, may depend on T).
Other facets are insulating. Time stepping: variable-step BDF2 (backward Euler on the first step). The
Newton solve (:class:`femiec.solvers.NonlinearSolver`) converges in one step for a linear problem.

Heat balance (:meth:`HeatProblem.heat_balance`): generated = stored + sum of outflows, with the outflow
through fixed-temperature facets taken from the discrete residual (the variationally consistent flux), so
the balance holds to solver tolerance on any mesh.

The residual can be written in other symbols (:class:`HeatSymbols`: the temperature unknown, its history
and the step constants of a coupled problem whose mixed space holds T), see :meth:`HeatProblem.residual_form`.
Coupling to an electric problem: :mod:`femiec.problems.electrothermal` (:func:`solve_joule_staggered`,
:func:`couple_joule`, :func:`advance_joule_staggered`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import ufl

from femiec.errors import InputError, SolverError
from femiec.forms.heat import (convective_heat_term, heat_flux, heat_flux_term, heat_residual,
                               surface_heat_source_term)
from femiec.forms.time import bdf2
from femiec.problems.base import StagedProblem, check_quadrature_degree, global_integral
from femiec.sections import is_number


#: Newton options: converged when the residual dropped by 1e-10 relative to the first one, or when the update
#: is below 1e-12 of the temperature (a warm start already at the round-off floor, e.g. in a staggered
#: loop); the absolute residual test is off (residuals carry W and their size depends on the body's
#: scale). Full Newton steps: the problem is at most mildly nonlinear (k(T), sources of T).
CONVERGENCE = {"snes_rtol": 1e-10, "snes_atol": 1e-200, "snes_stol": 1e-12, "snes_linesearch_type": "basic"}


@dataclass(frozen=True)
class HeatSymbols:
    """The symbols a heat residual is written in: the temperature T [K] (a Function or a UFL expression,
    e.g. a component of a coupled problem's mixed unknown), T at the two previous steps [K], and the BDF2
    constants: step dt [s], step ratio dt / dt_previous [-] and ``transient`` (1: with rho c_p dT/dt, 0:
    steady)."""

    T: object
    T_n: object
    T_nm1: object
    dt: object
    step_ratio: object
    transient: object


class HeatProblem(StagedProblem):
    """Steady or transient heat conduction on ``meshdata`` (see module docstring).

    Args:
        meshdata: ``MeshData`` with facet tags naming the boundaries.
        conductivity: k [W/(m K)]: a positive number, a tensor spec (3x3 matrix or symmetry table), a
            mapping cell region -> spec, a UFL expression, or a callable T -> UFL (temperature-dependent).
        heat_capacity: rho c_p [J/(m^3 K)] (number, mapping cell region -> number, UFL, or callable
            T -> UFL); required for :meth:`advance`.
        degree: Lagrange degree of T (1 or 2).
        initial: initial temperature [K] (number or callable x -> values); also the Newton initial guess.
        preset, petsc_options: linear solver preset and PETSc options (:class:`femiec.solvers.NonlinearSolver`,
            options prefix ``femiec_heat_``).
        quadrature_degree: of every integral (None: estimated by UFL, which can be high for sources with
            exponentials or temperature laws; see :meth:`set_quadrature_degree`).
    """

    #: PETSc options prefix of the Newton solver (command line: ``-femiec_heat_<option>``)
    options_prefix = "femiec_heat_"

    def __init__(self, meshdata, conductivity, *, heat_capacity=None, degree: int = 1, initial=298.15,
                 preset: str = "direct", petsc_options: dict | None = None, quadrature_degree: int | None = None):
        if degree not in (1, 2):
            raise InputError("thermal.degree", degree, "1 or 2")
        if is_number(initial) and not initial > 0:
            raise InputError("thermal.initial", initial, "a temperature > 0 K")
        self.meshdata = meshdata
        self.mesh = meshdata.mesh
        self.degree = degree
        self.initial = initial
        self.preset = preset
        self.petsc_options = {**CONVERGENCE, **(petsc_options or {})}
        self.time = 0.0
        self._steps = 0
        self._dt_previous = None
        self._before_step = None  # (T_nm1, previous step, time) before the last advance()
        self._conductivity_spec, self._capacity_spec = conductivity, heat_capacity
        self.build(stop="coefficients")
        self.set_quadrature_degree(quadrature_degree)
        self._sources: list = []
        self._surface_sources: list = []
        self._fixed: dict[int, object] = {}
        self._fluxes: dict[int, object] = {}
        self._convective: dict[int, tuple] = {}
        self.solver = None
        self.coupling = None  # the ElectroThermalCoupling that owns this problem (at most one)

    # ----------------------------------------------------------------------------------------- stages
    def build_spaces(self) -> None:
        """The temperature space, T (at the initial temperature), its two previous time levels and the
        time-step constants."""
        from dolfinx import fem

        self.V = fem.functionspace(self.mesh, ("Lagrange", self.degree))
        self.T = fem.Function(self.V, name="temperature")
        initial = self.initial
        self.T.interpolate(initial if callable(initial) else (lambda x: np.full(x.shape[1], float(initial))))
        self.T_n = fem.Function(self.V)
        self.T_nm1 = fem.Function(self.V)
        for f in (self.T_n, self.T_nm1):
            f.x.array[:] = self.T.x.array
        self.dt = fem.Constant(self.mesh, 1.0)
        self.step_ratio = fem.Constant(self.mesh, 0.0)
        self.transient = fem.Constant(self.mesh, 0.0)
        self.symbols = HeatSymbols(self.T, self.T_n, self.T_nm1, self.dt, self.step_ratio, self.transient)

    def build_coefficients(self) -> None:
        """k and rho c_p as dolfinx objects (laws evaluated at T)."""
        self.k = self._conductivity(self._conductivity_spec)
        capacity = self._capacity_spec
        self.rho_cp = None if capacity is None else self._scalar(capacity, "thermal.heat_capacity")

    def build_conditions(self) -> None:
        """The fixed-temperature (Dirichlet) conditions set so far; the flux and convective ones are
        terms of the residual."""
        self.bcs = self._dirichlet_conditions()

    def build_residual(self) -> None:
        self.residual = self.residual_form()

    def build_solver(self) -> None:
        """Newton (femiec.solvers.NonlinearSolver) under the prefix ``femiec_heat_``."""
        from femiec.solvers.snes import NonlinearSolver

        self.solver = NonlinearSolver(self.residual, self.T, self.bcs, preset=self.preset,
                                      petsc_options=self.petsc_options, prefix=self.options_prefix)

    def _conductivity(self, spec):
        from dolfinx import fem

        from femiec.materials.tensors import plane_block, tensor_coefficient, tensor_from_spec

        if _is_law(spec):
            return spec(self.T)
        if hasattr(spec, "ufl_shape"):
            return spec
        if is_number(spec):
            tensor_from_spec(spec, key="thermal.conductivity")
            return fem.Constant(self.mesh, float(spec))
        if isinstance(spec, Mapping) and "symmetry" not in spec:
            return tensor_coefficient(self.meshdata, spec, name="thermal.conductivity")
        gdim = self.mesh.geometry.dim
        return fem.Constant(self.mesh, plane_block(tensor_from_spec(spec, key="thermal.conductivity"), gdim))

    def _scalar(self, spec, key):
        from dolfinx import fem

        if _is_law(spec):
            return spec(self.T)
        if hasattr(spec, "ufl_shape"):
            return spec
        if is_number(spec):
            if not spec > 0:
                raise InputError(key, spec, "a positive number")
            return fem.Constant(self.mesh, float(spec))
        if isinstance(spec, Mapping):
            return self._region_scalar(spec, key)
        raise InputError(key, spec, "a positive number, a mapping cell region -> number, or UFL")

    def _region_scalar(self, values: Mapping, key):
        from dolfinx import fem

        Q = fem.functionspace(self.mesh, ("DG", 0))
        f = fem.Function(Q, name=key)
        f.x.array[:] = np.nan
        tags = self.meshdata.cell_tags
        for region, value in values.items():
            if not is_number(value) or not value > 0:
                raise InputError(f"{key}[{region}]", value, "a positive number")
            tag = self.meshdata.cell_tag(region) if isinstance(region, str) else int(region)
            f.x.array[tags.indices[tags.values == tag]] = float(value)
        from mpi4py import MPI

        missing = self.mesh.comm.allreduce(int(np.isnan(f.x.array[: Q.dofmap.index_map.size_local]).any()),
                                           op=MPI.MAX)
        if missing:
            raise InputError(key, sorted(values), "a value for every cell region")
        return f

    def set_quadrature_degree(self, degree: int | None) -> None:
        """Quadrature degree of every integral of the heat problem (None: UFL's estimate)."""
        check_quadrature_degree(degree, "thermal.quadrature_degree")
        self.quadrature_degree = degree
        metadata = {} if degree is None else {"quadrature_degree": degree}
        self.dx = ufl.Measure("dx", domain=self.mesh, subdomain_data=self.meshdata.cell_tags, metadata=metadata)
        self.ds = ufl.Measure("ds", domain=self.mesh, subdomain_data=self.meshdata.facet_tags, metadata=metadata)
        self.solver = None
        self._mean_form = None  # (compiled int T dx, volume) of mean_temperature(), with this dx

    # ----------------------------------------------------------------------------- boundary data
    def set_temperature(self, facet, value) -> None:
        """Fixed temperature T = value [K] (number or callable x -> values) on ``facet`` (name or tag)."""
        if is_number(value) and not value > 0:
            raise InputError(f"thermal.boundary.{facet}.temperature", value, "a temperature > 0 K")
        self._set(self._fixed, facet, value)

    def fixed_temperatures(self) -> dict:
        """The fixed-temperature facets: tag -> T_D [K] (a number or a callable x -> values)."""
        return dict(self._fixed)

    def set_conditions(self, boundary) -> None:
        """Thermal conditions from case-file entries (each with ``facet`` and exactly one of
        ``temperature`` [K], ``flux`` [W/m^2] or ``h`` [W/(m^2 K)] with ``T_inf`` [K])."""
        for bc in boundary:
            if bc.temperature is not None:
                self.set_temperature(bc.facet, bc.temperature)
            elif bc.flux is not None:
                self.set_heat_flux(bc.facet, bc.flux)
            else:
                self.set_convection(bc.facet, bc.h, bc.T_inf)

    def set_heat_flux(self, facet, value) -> None:
        """Outward heat flux density -k grad(T) . n = value [W/m^2] (number or UFL) on ``facet``."""
        self._set(self._fluxes, facet, value)

    def set_convection(self, facet, h, T_inf) -> None:
        """Convective condition -k grad(T) . n = h (T - T_inf), h [W/(m^2 K)] >= 0, T_inf [K], on ``facet``."""
        if is_number(h) and h < 0:
            raise InputError(f"thermal.boundary.{facet}.h", h, "a heat transfer coefficient >= 0 W/(m^2 K)")
        if is_number(T_inf) and not T_inf > 0:
            raise InputError(f"thermal.boundary.{facet}.T_inf", T_inf, "a temperature > 0 K")
        self._set(self._convective, facet, (h, T_inf))

    def _set(self, table, facet, value) -> None:
        tag = self.meshdata.facet_id(facet)
        for other in (self._fixed, self._fluxes, self._convective):
            other.pop(tag, None)
        table[tag] = value
        self.solver = None

    def add_source(self, q, region=None) -> None:
        """Volumetric heat source q [W/m^3] (UFL or number; may depend on ``self.T``), in one cell region
        or everywhere (``region=None``). E.g. ``joule_heating(sigma, phi)``."""
        tag = None if region is None else (self.meshdata.cell_tag(region) if isinstance(region, str) else int(region))
        self._sources.append((q, tag))
        self.solver = None

    def add_surface_source(self, facet, q_s) -> None:
        """Heat q_s [W/m^2] generated on the outer facets ``facet`` (e.g. :func:`femiec.forms.heat.reaction_heat`)."""
        self._surface_sources.append((q_s, self.meshdata.facet_id(facet)))
        self.solver = None

    # ------------------------------------------------------------------------------------- set-up
    def _rate(self, symbols: HeatSymbols | None = None):
        """The discrete dT/dt [K/s] (variable-step BDF2) in ``symbols`` (default: this problem's own)."""
        s = symbols or self.symbols
        return s.transient * bdf2(s.T, s.T_n, s.T_nm1, s.dt, s.step_ratio)

    def _in(self, value, symbols: HeatSymbols):
        """A user expression of ``self.T`` (source, boundary data) written in ``symbols.T`` instead."""
        if symbols.T is self.T or not isinstance(value, ufl.core.expr.Expr):
            return value
        return ufl.replace(value, {self.T: symbols.T})

    def _coefficients(self, symbols: HeatSymbols):
        """(k, rho c_p or 0) at the temperature ``symbols.T`` (laws k(T), rho c_p(T) evaluated there)."""
        k, rho_cp = self.k, self.rho_cp if self.rho_cp is not None else 0.0
        if symbols.T is not self.T:
            k = self._conductivity_spec(symbols.T) if _is_law(self._conductivity_spec) else k
            rho_cp = self._capacity_spec(symbols.T) if _is_law(self._capacity_spec) else rho_cp
        return k, rho_cp

    def _boundary_terms(self, v, symbols: HeatSymbols):
        F = 0
        for tag, (h, T_inf) in self._convective.items():
            F += convective_heat_term(self._in(h, symbols), symbols.T, self._in(T_inf, symbols), v, self.ds(tag))
        for tag, g in self._fluxes.items():
            F += heat_flux_term(self._in(g, symbols), v, self.ds(tag))
        for q_s, tag in self._surface_sources:
            F += surface_heat_source_term(self._in(q_s, symbols), v, self.ds(tag))
        return F

    def residual_form(self, v=None, symbols: HeatSymbols | None = None, steady: bool = False):
        """UFL residual F(T; v) (without Dirichlet conditions) of the current configuration [W per unit v]:

            F = int rho_cp dT/dt v dx + int k grad(T) . grad(v) dx - int q v dx + boundary terms

        written in ``symbols`` (default: this problem's own T, history and step constants; a coupled
        problem passes its temperature unknown and constants, and the conductivity and capacity laws, the
        sources and the boundary data are evaluated at that T). ``steady``: without the rho_cp dT/dt term
        (the rest is :meth:`storage_form` of the BDF2 rate)."""
        symbols = symbols or self.symbols
        v = ufl.TestFunction(self.V) if v is None else v
        k, rho_cp = self._coefficients(symbols)
        F = heat_residual(rho_cp, k, symbols.T, None if steady else self._rate(symbols), v, self.dx)
        for value, tag in self._sources:
            F -= self._in(value, symbols) * v * (self.dx if tag is None else self.dx(tag))
        return F + self._boundary_terms(v, symbols)

    def storage_form(self, rate, v, symbols: HeatSymbols | None = None):
        """int rho_cp rate v dx [W per unit v], the stored-heat part of :meth:`residual_form` for a
        temperature rate ``rate`` [K/s] (UFL; rho c_p at ``symbols.T``; needs a heat capacity)."""
        _, rho_cp = self._coefficients(symbols or self.symbols)
        return rho_cp * rate * v * self.dx

    def _dirichlet_conditions(self) -> list:
        from dolfinx import default_scalar_type, fem

        fdim = self.mesh.topology.dim - 1
        self.mesh.topology.create_connectivity(fdim, self.mesh.topology.dim)
        bcs = []
        for tag, value in self._fixed.items():
            dofs = fem.locate_dofs_topological(self.V, fdim, self.meshdata.facet_tags.find(tag))
            if callable(value):
                g = fem.Function(self.V)
                g.interpolate(value)
                bcs.append(fem.dirichletbc(g, dofs))
            else:
                bcs.append(fem.dirichletbc(default_scalar_type(value), dofs, self.V))
        return bcs

    # -------------------------------------------------------------------------------------- solves
    def solve(self):
        """Steady solve; returns the solve statistics. Needs a fixed-temperature or convective facet."""
        if not self._fixed and not self._convective:
            raise InputError("thermal.boundary", sorted(self._fluxes),
                             "a fixed-temperature or convective facet (else the steady T is undetermined)")
        self.transient.value = 0.0
        return self._solve()

    def advance(self, dt: float):
        """One time step of length dt [s] (BDF2, backward Euler on the first step); returns solve statistics."""
        if self.rho_cp is None:
            raise InputError("thermal.heat_capacity", None, "rho c_p in J/(m^3 K) for a transient solve")
        if not dt > 0:
            raise InputError("dt", dt, "a positive time step in s")
        self._before_step = (self.T_nm1.x.array.copy(), self._dt_previous, self.time)
        self.T_nm1.x.array[:] = self.T_n.x.array
        self.T_n.x.array[:] = self.T.x.array
        self.transient.value = 1.0
        self.dt.value = dt
        self.step_ratio.value = 0.0 if self._dt_previous is None else dt / self._dt_previous
        stats = self._solve()
        self._dt_previous = dt
        self.time += dt
        return stats

    def reject_step(self) -> None:
        """Undo the last :meth:`advance` (a step rejected by a time-step controller): T, its history, the
        previous step and the time go back to their values before it."""
        T_nm1, self._dt_previous, self.time = self._before_step
        self.T.x.array[:] = self.T_n.x.array
        self.T_n.x.array[:] = self.T_nm1.x.array
        self.T_nm1.x.array[:] = T_nm1

    def mean_temperature(self) -> float:
        """Volume mean temperature int T dx / int 1 dx [K] (equal on every rank; the integral's form is
        compiled on the first call)."""
        from dolfinx import fem

        comm = self.mesh.comm
        if self._mean_form is None:
            self._mean_form = (fem.form(self.T * self.dx), global_integral(1.0 * self.dx, comm))
        form, volume = self._mean_form
        return global_integral(form, comm) / volume

    def solve_step(self):
        """Solve the last time step of :meth:`advance` again (same dt and history), e.g. after a coupled
        coefficient or source changed; returns solve statistics."""
        if not float(self.transient.value) > 0:
            raise InputError("thermal.solve_step", None, "a time step taken with advance() first")
        return self._solve()

    def _solve(self):
        if self.solver is None:
            self.build(start="conditions")
        stats = self.solver.solve(check=False)
        if not stats.converged:
            raise SolverError(f"heat equation did not converge: {stats.reason} after {stats.newton_iterations} "
                              f"Newton iterations (residual {stats.residual_norm:.3e})")
        return stats

    # --------------------------------------------------------------------------- derived quantities
    def heat_flux(self):
        """UFL heat flux -k grad T [W/m^2]."""
        return heat_flux(self.k, self.T)

    def heat_flux_function(self, into=None):
        """The heat flux interpolated into a discontinuous vector space of degree ``degree - 1`` (output);
        ``into``: a previous result to overwrite (time series)."""
        from dolfinx import fem

        from femiec._compat import interpolation_points

        if into is None:
            W = fem.functionspace(self.mesh, ("DG", self.degree - 1, (self.mesh.geometry.dim,)))
            into = fem.Function(W, name="heat_flux")
        into.interpolate(fem.Expression(self.heat_flux(), interpolation_points(into.function_space)))
        return into

    def fields(self) -> dict:
        """Output fields name -> (Function, unit) for :class:`femiec.io.fields.FieldWriter`."""
        return {"temperature": (self.T, "K"), "heat_flux": (self.heat_flux_function(), "W/m^2")}

    def heat_balance(self) -> dict:
        """Heat balance of the last solve [W; per metre of depth in 2D]:

        ``generated`` (volume + surface sources), ``stored`` (int rho c_p dT/dt, 0 when steady),
        ``outflow`` per facet name (convective and heat-flux facets: from the boundary data; fixed-
        temperature facets: together under ``"fixed_temperature"``, from the discrete residual) and
        ``imbalance`` = generated - stored - total outflow, and ``fixed_temperature_by_facet`` (the
        fixed-temperature outflow split by facet name; a dof shared by two such facets counts for the
        first one set).
        """
        names = {tag: name for name, tag in self.meshdata.facet_names.items()}
        comm = self.mesh.comm
        generated = sum(global_integral(value * (self.dx if tag is None else self.dx(tag)), comm)
                        for value, tag in self._sources)
        generated += sum(global_integral(q_s * self.ds(tag), comm) for q_s, tag in self._surface_sources)
        stored = 0.0
        if self.rho_cp is not None and float(self.transient.value) > 0:
            stored = global_integral(self.rho_cp * self._rate() * self.dx, comm)
        outflow = {}
        for tag, (h, T_inf) in self._convective.items():
            outflow[names.get(tag, str(tag))] = global_integral(h * (self.T - T_inf) * self.ds(tag), comm)
        for tag, g in self._fluxes.items():
            outflow[names.get(tag, str(tag))] = global_integral(g * self.ds(tag), comm)
        by_facet = {}
        if self._fixed:
            by_facet = self._fixed_temperature_outflows()
            outflow["fixed_temperature"] = sum(by_facet.values())
        total = sum(outflow.values())
        return {"generated": generated, "stored": stored, "outflow": outflow, "total_outflow": total,
                "imbalance": generated - stored - total, "fixed_temperature_by_facet": by_facet}

    def _fixed_temperature_outflows(self) -> dict:
        """Outflow through each fixed-temperature facet tag, -F(T; v) with v = 1 on that tag's dofs and 0
        at all other dofs (F without the Dirichlet conditions)."""
        from dolfinx import fem
        from dolfinx.fem import petsc as fem_petsc
        from mpi4py import MPI
        from petsc4py import PETSc

        names = {tag: name for name, tag in self.meshdata.facet_names.items()}
        fdim = self.mesh.topology.dim - 1
        b = fem_petsc.assemble_vector(fem.form(self.residual_form()))
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        counted = np.zeros(self.V.dofmap.index_map.size_local, dtype=bool)
        out = {}
        with b.localForm() as local:
            for tag in self._fixed:
                dofs = fem.locate_dofs_topological(self.V, fdim, self.meshdata.facet_tags.find(tag))
                owned = dofs[dofs < len(counted)]
                owned = owned[~counted[owned]]
                counted[owned] = True
                value = float(np.sum(local.array[owned]))
                out[names.get(tag, str(tag))] = -self.mesh.comm.allreduce(value, op=MPI.SUM)
        b.destroy()
        return out


def _is_law(spec) -> bool:
    """A callable T -> coefficient (temperature law), as opposed to a number, table or UFL expression."""
    return callable(spec) and not hasattr(spec, "ufl_shape")

