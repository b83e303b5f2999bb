"""Electro-thermal coupling: an electric problem and the heat problem of its temperature, by composition.

An :class:`ElectroThermalCoupling` owns the electric problem (a Nernst–Planck–Poisson problem or a
conduction problem) and the :class:`~femiec.problems.thermal.HeatProblem` whose temperature T [K] enters
the electric problem's coefficients and whose heat sources q [W/m^3] (Joule heat, i . E, reaction heat)
are UFL expressions of the electric state. It holds the one staggered (Gauss–Seidel) loop

    repeat: electric solve at fixed T; heat solve with the new sources
    until max |T_new - T_old| / max |T| < tolerance

used by the staggered NPP coupling (:mod:`femiec.problems.npp.thermal`) and by Joule heating of a
conduction problem (:func:`solve_joule_staggered`, :func:`couple_joule` + :func:`advance_joule_staggered`).
A HeatProblem serves one coupling.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from femiec.errors import InputError, SolverError


class ElectroThermalCoupling:
    """The electric problem ``electric`` and the HeatProblem ``heat`` (which records this coupling as
    ``heat.coupling``; a HeatProblem already coupled is refused).

    Args:
        tolerance: the staggered loop stops when max |T_new - T_old| / max |T| is below this value.
        max_iterations: of the staggered loop.
    """

    def __init__(self, electric, heat, *, tolerance: float = 1e-10, max_iterations: int = 50):
        if getattr(heat, "coupling", None) is not None:
            raise InputError("temperature", "HeatProblem", "a HeatProblem not yet coupled to another problem")
        self.electric = electric
        self.heat = heat
        self.tolerance = tolerance
        self.max_iterations = max_iterations
        heat.coupling = self

    def staggered(self, electric_solve: Callable, heat_solve: Callable[[bool], object]) -> tuple:
        """The staggered loop: ``electric_solve()`` (returns :class:`femiec.solvers.SolveStats`; may
        raise), then ``heat_solve(first_pass)`` (raises SolverError when it fails), until the relative
        change of T is below ``tolerance``.

        Returns (the last electric statistics with the summed Newton and Krylov iterations and
        ``staggered_iterations``, the last relative change of T); ``converged`` is False (with a
        ``reason``) when a solve failed or the loop did not converge. T is left as it is.
        """
        T = self.heat.T
        previous = T.x.array.copy()
        newton = krylov = 0
        change = np.inf
        for iteration in range(1, self.max_iterations + 1):
            stats = electric_solve()
            newton, krylov = newton + stats.newton_iterations, krylov + stats.krylov_iterations
            if not stats.converged:
                return stats.summed(newton, krylov, staggered_iterations=iteration), change
            try:
                heat_solve(iteration == 1)
            except SolverError as err:
                return stats.summed(newton, krylov, converged=False, reason=str(err),
                                    staggered_iterations=iteration), change
            change = max_relative_change(T, previous)
            if change < self.tolerance:
                return stats.summed(newton, krylov, staggered_iterations=iteration), change
            previous[:] = T.x.array
        reason = (f"staggered electro-thermal coupling did not converge in {self.max_iterations} iterations "
                  f"(relative temperature change {change:.3e})")
        return stats.summed(newton, krylov, converged=False, reason=reason,
                            staggered_iterations=self.max_iterations), change


def max_relative_change(T, previous) -> float:
    """max |T - previous| / max |T| over the owned dofs of all ranks (``previous``: local array of T's
    layout)."""
    from mpi4py import MPI

    comm = T.function_space.mesh.comm
    n = T.function_space.dofmap.index_map.size_local
    delta = comm.allreduce(float(np.max(np.abs(T.x.array[:n] - previous[:n]), initial=0.0)), op=MPI.MAX)
    scale = comm.allreduce(float(np.max(np.abs(T.x.array[:n]), initial=0.0)), op=MPI.MAX)
    return delta / scale


# ------------------------------------------------------------------------ conduction with Joule heating
def couple_joule(conduction, heat, preset: str = "direct", petsc_options: dict | None = None) -> ElectroThermalCoupling:
    """Set up ``conduction`` (a ConductionProblem, conductivity possibly a UFL function of ``heat.T``), add
    its Joule source grad(phi) . sigma grad(phi) [W/m^3] to ``heat`` and return their coupling (once,
    before :func:`advance_joule_staggered`; :func:`solve_joule_staggered` does it itself)."""
    from femiec.forms.heat import joule_heating

    conduction.preset, conduction.petsc_options = preset, petsc_options
    conduction.build()
    coupling = ElectroThermalCoupling(conduction, heat)
    heat.add_source(joule_heating(conduction.K, conduction.u))
    return coupling


def solve_joule_staggered(conduction, heat, tolerance: float = 1e-10, max_iterations: int = 50,
                          preset: str = "direct", petsc_options: dict | None = None) -> dict:
    """Staggered (Gauss–Seidel) electro-thermal coupling: solve conduction for phi, then the heat equation
    with the Joule source grad(phi) . sigma grad(phi), until the largest temperature change is below
    ``tolerance`` times the largest temperature.

    ``conduction`` is a :class:`femiec.problems.conduction.ConductionProblem` whose conductivity may depend
    on ``heat.T`` (a UFL expression of it). The Joule source is added to ``heat``. Returns
    ``{"iterations": n, "change": last relative change}``; SolverError when not converged. ``preset`` and
    ``petsc_options`` are those of the conduction solve.
    """
    couple_joule(conduction, heat, preset, petsc_options)
    return _joule_staggered(conduction, heat, lambda first: heat.solve(), tolerance, max_iterations)


def advance_joule_staggered(conduction, heat, dt: float, tolerance: float = 1e-10,
                            max_iterations: int = 50) -> dict:
    """One time step dt [s] of rho c_p dT/dt - div(k grad T) = grad(phi) . sigma(T) grad(phi) with the
    quasi-static conduction problem, staggered within the step (conduction, then the heat step, repeated
    with the same step until the relative temperature change is below ``tolerance``). Needs
    :func:`couple_joule` first. Returns ``{"iterations": n, "change": last relative change, "stats": the
    loop's SolveStats}``."""
    return _joule_staggered(conduction, heat, lambda first: heat.advance(dt) if first else heat.solve_step(),
                            tolerance, max_iterations)


def _joule_staggered(conduction, heat, heat_solve: Callable, tolerance: float, max_iterations: int) -> dict:
    """The coupling's staggered loop with a raising conduction solve; SolverError when it fails."""
    coupling = heat.coupling
    if coupling is None or coupling.electric is not conduction:
        raise InputError("heat", "HeatProblem", "a HeatProblem coupled to this conduction problem (couple_joule)")
    coupling.tolerance, coupling.max_iterations = tolerance, max_iterations
    stats, change = coupling.staggered(conduction.solver.solve, heat_solve)
    if not stats.converged:
        raise SolverError(stats.reason)
    return {"iterations": stats.staggered_iterations, "change": change, "stats": stats}
