"""The solved temperature of a Nernst–Planck–Poisson problem: its electro-thermal coupling.

:class:`NppHeatCoupling` owns the NPP problem and its :class:`~femiec.problems.thermal.HeatProblem`. It
adds the problem's heat sources (:class:`~femiec.problems.npp_conditions.HeatSources`: electronic Joule
heat, ionic heat i . E, electrode reaction heat; UFL of the NPP state and of T) to the heat problem, and
couples them either

- monolithically: T is one more component of the NPP mixed unknown (dimensionless T / T_ref); the heat
  rows are the HeatProblem's residual written in that component and the NPP step constants
  (:class:`~femiec.problems.thermal.HeatSymbols`), divided by k_ref T_ref L^(d-2); after every solve the
  component is copied into ``heat.T`` (and its history) for the heat balance and the output; or
- staggered: the NPP Newton at fixed ``heat.T`` and the heat solve alternate in the coupling's one
  staggered loop (:meth:`ElectroThermalCoupling.staggered`).
"""
from __future__ import annotations

import ufl

from femiec.forms.heat import ionic_current_density, ionic_heating, joule_heating, reaction_heat
from femiec.problems.npp.coefficients import coefficient
from femiec.problems.electrothermal import ElectroThermalCoupling
from femiec.problems.npp_conditions import HeatSources
from femiec.problems.thermal import HeatSymbols


class NppHeatCoupling(ElectroThermalCoupling):
    """The NPP problem ``problem`` and the HeatProblem ``heat`` of its temperature.

    Args:
        monolithic: T is an unknown of the NPP mixed space (else staggered).
        sources: which heat sources the problem adds (default :class:`HeatSources`: ionic and reaction
            heat, no electronic Joule term).
        tolerance: of the staggered loop (max |T_new - T_old| / max T).
    The heat problem gets the NPP quadrature degree unless it has its own.
    """

    def __init__(self, problem, heat, *, monolithic: bool, sources: HeatSources | None = None,
                 tolerance: float = 1e-10):
        super().__init__(problem, heat, tolerance=tolerance)
        self.monolithic = monolithic
        self.sources = sources or HeatSources()
        if heat.quadrature_degree is None:  # UFL's estimate is high for exp/Arrhenius sources
            heat.set_quadrature_degree(problem.quadrature_degree)
        self._component = None
        self._row_scale = None

    # --------------------------------------------------------------------------------- monolithic
    def temperature(self, function):
        """T [K] of the mixed-space ``function`` (monolithic coupling), as UFL."""
        p = self.electric
        return p.scaling.temperature * ufl.split(function)[len(p.species) + 1]

    def symbols(self) -> HeatSymbols:
        """The heat residual's symbols in the NPP unknowns: T, T_n, T_nm1 of u, u_n, u_nm1 and the NPP
        step constants (``heat_transient``: 1 only in a transient run)."""
        p = self.electric
        return HeatSymbols(self.temperature(p.u), self.temperature(p.u_n), self.temperature(p.u_nm1), p.dt,
                           p.step_ratio, p.heat_transient)

    def row_scale(self) -> float:
        """k_ref T_ref L^(d-2) [W per unit test function]: the scale of the heat rows, with k_ref the volume
        mean of tr(k)/gdim at the initial T [W/(m K)]."""
        if self._row_scale is None:
            from dolfinx import fem

            p, sc = self.electric, self.electric.scaling
            k = self.heat.k
            value = ufl.tr(k) / ufl.shape(k)[0] if ufl.shape(k) else k
            dx = ufl.dx(domain=p.mesh)
            conductivity = abs(p._assemble(value, dx)) / p._assemble(fem.Constant(p.mesh, 1.0), dx)
            self._row_scale = conductivity * sc.temperature * sc.length ** (sc.dim - 2)
        return self._row_scale

    def heat_rows(self, v, steady: bool = False):
        """The scaled heat residual in the NPP unknowns (test function ``v``; ``steady``: without the
        rho c_p dT/dt term)."""
        return (1 / self.row_scale()) * self.heat.residual_form(v, self.symbols(), steady=steady)

    def storage_rows(self, v, rate):
        """The scaled stored-heat rows int rho_cp rate v dx for a temperature rate ``rate`` [K/s] (0 when
        the heat problem has no heat capacity)."""
        if self.heat.rho_cp is None:
            return None
        return (1 / self.row_scale()) * self.heat.storage_form(rate, v, self.symbols())

    def dirichlet_conditions(self) -> list:
        """The heat problem's fixed temperatures on the T component of the NPP mixed space."""
        p = self.electric
        n, T_ref = len(p.species), p.scaling.temperature
        return [p._dirichlet(n + 1, [tag], value, lambda v: v / T_ref)[0]
                for tag, value in self.heat.fixed_temperatures().items()]

    def initial_state(self) -> None:
        """The T component of the NPP unknown from the heat problem's initial T."""
        from dolfinx import fem

        p = self.electric
        space, dofs = p.subspaces[len(p.species) + 1]
        initial = fem.Function(space)
        initial.interpolate(self.heat.T)
        p.u.x.array[dofs] = initial.x.array / p.scaling.temperature

    def sync(self) -> None:
        """Copy the T component of the NPP unknowns into heat.T (and its history and step constants), so
        that the heat balance, the output and every UFL expression of heat.T see the current temperature
        (monolithic coupling; nothing to do when staggered)."""
        if not self.monolithic:
            return
        p, heat = self.electric, self.heat
        space, dofs = p.subspaces[len(p.species) + 1]
        if self._component is None:
            from dolfinx import fem

            self._component = fem.Function(space)
        for state, target in ((p.u, heat.T), (p.u_n, heat.T_n), (p.u_nm1, heat.T_nm1)):
            self._component.x.array[:] = p.scaling.temperature * state.x.array[dofs]
            target.interpolate(self._component)
            target.x.scatter_forward()
        for mine, theirs in ((p.dt, heat.dt), (p.step_ratio, heat.step_ratio), (p.heat_transient, heat.transient)):
            theirs.value = mine.value

    # ---------------------------------------------------------------------------------- sources
    def add_sources(self, state) -> None:
        """Register the problem's heat sources (UFL of ``state`` and of the problem's T) with the heat
        problem."""
        p, sources = self.electric, self.sources
        if sources.electronic_conductivity is not None:
            sigma = coefficient(p, sources.electronic_conductivity, "heat_sources.electronic_conductivity")
            self.heat.add_source(joule_heating(sigma, state.potential))
        if sources.ionic:
            current = ionic_current_density(p.fluxes, [s.charge for s in p.species])
            self.heat.add_source(ionic_heating(current, state.potential))
        if not (sources.reaction_irreversible or sources.reaction_reversible):
            return
        for electrode in p.electrodes:
            for reaction in electrode.reactions:
                q_s = reaction_heat(p.reaction_current(electrode, reaction, state),
                                    p._overpotential(electrode, reaction, state), p.T,
                                    reaction.reaction_entropy, reaction.electrons,
                                    sources.reaction_irreversible, sources.reaction_reversible)
                for facet in electrode.facets:
                    self.heat.add_surface_source(facet, q_s)

    # --------------------------------------------------------------------------------- staggered
    def solve_staggered(self):
        """NPP Newton at fixed T, then the heat solve with the new sources, until the largest change of T
        is below ``tolerance`` times the largest T (:class:`femiec.solvers.SolveStats` with
        ``staggered_iterations``); on failure T is put back to its value at the start."""
        p, T = self.electric, self.heat.T
        start = T.x.array.copy()
        stats, _ = self.staggered(lambda: p.solver.solve(check=False), lambda first: self.heat.solve())
        if not stats.converged:
            T.x.array[:] = start
        return stats
