"""Coupled Nernst–Planck–Poisson problem (the public names; the code lives in :mod:`femiec.problems.npp`).

Model, options and case-file keys: docs/nernst_planck_poisson.md and :mod:`femiec.problems.npp.model`;
the typed case section is :class:`femiec.models.nernst_planck_poisson.NernstPlanckPoissonModel`.
"""
from femiec.problems.npp.case import problem_from_section, run_case
from femiec.problems.npp.model import CLOSURES, COUPLINGS, NEWTON_OPTIONS, VARIABLES, NernstPlanckPoisson

__all__ = ["CLOSURES", "COUPLINGS", "NEWTON_OPTIONS", "VARIABLES", "NernstPlanckPoisson", "problem_from_section",
           "run_case"]
