"""Steady O2 diffusion in the O2-N2 gas of a pore space (docs/mixed_conductors.md, "Gas diffusion in the
pores"): the forms of :mod:`femiec.forms.gas_diffusion` on a mesh of the gas, for the porous MIEC electrode
to couple to its pore walls.

    div N = -s in the gas,   x = x_0 on supply faces,   N . n = g on flux faces (g > 0: O2 leaves the gas),

other faces closed (N . n = 0). N is the O2 molar flux [mol/(m^2 s)] of the flux law "fick" (Bosanquet
D_eff) or "dusty_gas" (stagnant N2: Stefan flow with the Knudsen term), x the O2 mole fraction [-],
c_t = p / (R T). The unknown is x itself (Lagrange, degree 1 or 2); Newton (the dusty-gas flux is
nonlinear in x; the Fick problem converges in one step), full steps (no line search: it would stop at
the rounding floor of the linear problem), converged on the update of x.

The solve is steady; the transient balance c_t dx/dt + div N = -s [mol/(m^3 s)] (the mesh is the gas itself:
volume fraction 1) enters only the small signal, through :meth:`GasDiffusionProblem.storage_residual`.
"""
from __future__ import annotations

import math

import numpy as np
import ufl

from femiec.errors import InputError, SolverError
from femiec.forms import gas_diffusion as forms
from femiec.problems.base import StagedProblem, global_integral


class GasDiffusionProblem(StagedProblem):
    """The steady gas problem of the module docstring on ``meshdata`` (its facet tags name the faces).

    Args:
        meshdata: the gas mesh (femiec.meshing.base.MeshData).
        temperature: T [K]; pressure: total pressure p [Pa].
        pore_diameter: d_pore [m] of the Knudsen diffusivity; None: no Knudsen term (D_K = infinity).
        binary_diffusivity: D_12 [m^2/s] at (T, p); None: the Fuller value (forms.fuller_diffusivity).
        flux_law: "fick" or "dusty_gas".
        sink: volumetric O2 sink s [mol/(m^3 s)] (number or UFL on the mesh), default none.
        degree: Lagrange degree of x (1 or 2).
        initial_mole_fraction: the first Newton iterate of x [-] (0.21: air).
        newton_tolerance: max-norm of the Newton update of x at which it stops.
        quadrature_degree: of every integral (None: UFL's estimate).

    Conditions are set before :meth:`solve` (which builds every stage): :meth:`set_mole_fraction` (supply)
    and :meth:`set_oxygen_flux`. The solver reads PETSc options under ``femiec_gas_``.
    """

    options_prefix = "femiec_gas_"

    def __init__(self, meshdata, *, temperature: float, pressure: float, pore_diameter: float | None = None,
                 binary_diffusivity: float | None = None, flux_law: str = "fick", sink=None, degree: int = 1,
                 initial_mole_fraction: float = 0.21, newton_tolerance: float = 1e-12,
                 quadrature_degree: int | None = None):
        for key, value in (("temperature", temperature), ("pressure", pressure)):
            if not (np.isfinite(value) and value > 0):
                raise InputError(key, value, "a positive number (SI)")
        if pore_diameter is not None and not (np.isfinite(pore_diameter) and pore_diameter > 0):
            raise InputError("pore_diameter", pore_diameter, "a positive diameter [m] or None (no Knudsen term)")
        if flux_law not in forms.FLUX_LAWS:
            raise InputError("flux_law", flux_law, f"one of {list(forms.FLUX_LAWS)}")
        if degree not in (1, 2):
            raise InputError("degree", degree, "1 or 2")
        self.meshdata, self.mesh = meshdata, meshdata.mesh
        self.temperature, self.pressure = float(temperature), float(pressure)
        self.flux_law, self.degree = flux_law, degree
        self.total_concentration = forms.total_concentration(self.pressure, self.temperature)
        self.binary_diffusivity = (forms.fuller_diffusivity(self.temperature, self.pressure)
                                   if binary_diffusivity is None else float(binary_diffusivity))
        self.knudsen_diffusivity = (math.inf if pore_diameter is None
                                    else forms.knudsen_diffusivity(pore_diameter, self.temperature))
        self.sink, self.initial_mole_fraction, self.newton_tolerance = sink, initial_mole_fraction, newton_tolerance
        self.metadata = {} if quadrature_degree is None else {"quadrature_degree": int(quadrature_degree)}
        self._supply: dict[int, float] = {}
        self._fluxes: dict[int, object] = {}
        self.space = self.x = self.test = self.residual = self.solver = None
        self.bcs: list = []

    @property
    def effective_diffusivity(self) -> float:
        """The Bosanquet D_eff = 1 / (1 / D_12 + 1 / D_K) [m^2/s] (D_12 without walls)."""
        return forms.bosanquet_diffusivity(self.binary_diffusivity, self.knudsen_diffusivity)

    # ------------------------------------------------------------------------------------ conditions
    def set_mole_fraction(self, facet, mole_fraction: float) -> None:
        """Gas supply: x = ``mole_fraction`` [-] on ``facet`` (name or tag)."""
        if not 0 <= mole_fraction < 1:
            raise InputError(f"gas.{facet}.mole_fraction", mole_fraction, "an O2 mole fraction in [0, 1)")
        tag = self.meshdata.facet_id(facet)
        self._fluxes.pop(tag, None)
        self._supply[tag] = float(mole_fraction)
        self.solver = None

    def set_oxygen_flux(self, facet, flux) -> None:
        """Outward normal O2 flux g [mol/(m^2 s)] on ``facet`` (number or UFL; > 0: O2 leaves the gas, e.g.
        forms.wall_oxygen_flux(i_x) at a pore wall)."""
        tag = self.meshdata.facet_id(facet)
        self._supply.pop(tag, None)
        self._fluxes[tag] = flux
        self.solver = None

    # ---------------------------------------------------------------------------------------- stages
    def build_spaces(self) -> None:
        from dolfinx import fem

        self.space = fem.functionspace(self.mesh, ("Lagrange", self.degree))
        self.x = fem.Function(self.space, name="oxygen_mole_fraction")
        self.x.x.array[:] = self.initial_mole_fraction
        self.test = ufl.TestFunction(self.space)
        self.dx = ufl.Measure("dx", domain=self.mesh, metadata=self.metadata)
        self.ds = ufl.Measure("ds", domain=self.mesh, subdomain_data=self.meshdata.facet_tags, metadata=self.metadata)

    def build_coefficients(self) -> None:
        """Nothing beyond the numbers of the constructor (c_t, D_12, D_K)."""

    def build_conditions(self) -> None:
        from dolfinx import default_scalar_type, fem

        if not self._supply:
            raise InputError("gas.supply", None, "at least one face with a fixed O2 mole fraction")
        fdim = self.mesh.topology.dim - 1
        self.mesh.topology.create_connectivity(fdim, fdim + 1)
        self.bcs = [fem.dirichletbc(default_scalar_type(value),
                                    fem.locate_dofs_topological(self.space, fdim, self.meshdata.facet_tags.find(tag)),
                                    self.space)
                    for tag, value in self._supply.items()]

    def build_residual(self) -> None:
        self.residual = forms.gas_residual(self.flux(), self.test, self.dx, sink=self.sink, ds=self.ds,
                                           outward_fluxes=self._fluxes)

    def storage_residual(self, rate):
        """int c_t (dx/dt) q dx [mol/s] with dx/dt = ``rate`` [1/s] (a Function on the space of x): the storage
        form of the transient balance c_t dx/dt + div N = -s (forms.gas_storage, volume fraction 1) for the
        small signal (femiec.studies.small_signal.linearize)."""
        return forms.gas_storage(self.total_concentration, rate, self.test, self.dx)

    def build_solver(self) -> None:
        from femiec.solvers import NonlinearSolver, UpdateConvergence

        self.solver = NonlinearSolver(self.residual, self.x, self.bcs, preset="direct",
                                      petsc_options={"snes_max_it": 50, "snes_atol": 0.0,
                                                     "snes_linesearch_type": "basic"},
                                      prefix=self.options_prefix,
                                      convergence_test=UpdateConvergence(self.newton_tolerance))

    def solve(self):
        """Build the stages after the conditions changed (each set_* call) and solve (Newton from the present
        x, or from ``initial_mole_fraction`` at the first solve); returns the solve statistics."""
        if self.space is None:
            self.build_spaces()
        if self.solver is None:
            self.build("coefficients")
        stats = self.solver.solve(check=False)
        if not stats.converged:
            raise SolverError(f"gas diffusion: Newton did not converge ({stats.reason})")
        return stats

    # -------------------------------------------------------------------------------------- results
    def flux(self):
        """N [mol/(m^2 s)] (UFL) of the flux law at the present x."""
        return forms.oxygen_flux(self.x, self.total_concentration, self.binary_diffusivity,
                                 self.knudsen_diffusivity, self.flux_law)

    def oxygen_flow(self, facet) -> float:
        """int N . n ds [mol/s] out of the gas through ``facet``: on a supply face the consistent flux
        -F(w_face) (the residual tested with the face's nodal indicator), else the set flux (0 if closed)."""
        from dolfinx import fem

        tag = self.meshdata.facet_id(facet)
        if tag in self._supply:
            w = fem.Function(self.space)
            fdim = self.mesh.topology.dim - 1
            w.x.array[fem.locate_dofs_topological(self.space, fdim, self.meshdata.facet_tags.find(tag))] = 1.0
            return -global_integral(ufl.replace(self.residual, {self.test: w}), self.mesh.comm)
        g = self._fluxes.get(tag)
        return 0.0 if g is None else global_integral(g * self.ds(tag), self.mesh.comm)

    def oxygen_sink(self) -> float:
        """int s dx [mol/s]: the O2 taken by the volumetric sink."""
        return 0.0 if self.sink is None else global_integral(self.sink * self.dx, self.mesh.comm)

    def output_fields(self) -> dict:
        """{"oxygen_mole_fraction": (x, "1"), "oxygen_partial_pressure": (x p, "Pa")} (nodal)."""
        from dolfinx import fem

        partial = fem.Function(self.space, name="oxygen_partial_pressure")
        partial.x.array[:] = self.pressure * self.x.x.array
        return {"oxygen_mole_fraction": (self.x, "1"), "oxygen_partial_pressure": (partial, "Pa")}
