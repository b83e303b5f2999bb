"""Nernst–Planck–Poisson problem, split by responsibility (see docs/nernst_planck_poisson.md, "Code layout"):

- :mod:`.model`: the problem class (spaces, coefficients, state, boundary conditions, residual, UFL fluxes
  and currents); :mod:`.validation` (input checks, default scales), :mod:`.coefficients`;
- :mod:`.controls`: applied potentials and currents, continuation, the galvanostatic secant;
- :mod:`.solving`: Newton, steady solves with continuation, transient runs;
- :mod:`.thermal`: the electro-thermal coupling to a solved temperature (monolithic or staggered);
- :mod:`.diagnostics`: amounts, currents, derived quantities, output fields;
- :mod:`.smallsignal`: steady residual, storage form, control input and output functional;
- :mod:`.case`: the problem of a typed case section and the case runner.
"""
from femiec.problems.npp.case import problem_from_section, run_case
from femiec.problems.npp.model import CLOSURES, COUPLINGS, NEWTON_OPTIONS, VARIABLES, NernstPlanckPoisson

__all__ = ["CLOSURES", "COUPLINGS", "NEWTON_OPTIONS", "VARIABLES", "NernstPlanckPoisson", "problem_from_section",
           "run_case"]
