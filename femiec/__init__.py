"""femiec: finite elements for mixed ionic–electronic conductors and electrochemical microstructures.

The top-level API (names resolve on first use, so ``import femiec`` needs no DOLFINx)::

    import femiec
    case = femiec.load_case("demos/nmc_conduction/case.toml")   # typed, validated case (no DOLFINx)
    summary = femiec.run(case, out="out/nmc")                    # mesh, build, solve, write; summary.json path
    result = femiec.homogenize(image, phases=[0], voxel_size=1e-6)

Problems for your own scripts: ``femiec.ConductionProblem``, ``femiec.NernstPlanckPoisson``,
``femiec.ElectrodeProblem``, ``femiec.HeatProblem``; the weak forms are in :mod:`femiec.forms`; the model
kinds of case files in ``femiec.MODELS``.
"""
from __future__ import annotations

from femiec._version import __version__

#: public name -> (module, attribute), imported on first access
_API = {
    "load_case": ("femiec.config", "load_case"),
    "parse_case": ("femiec.config", "parse_case"),
    "Case": ("femiec.config", "Case"),
    "MODELS": ("femiec.models", "MODELS"),
    "validate": ("femiec.api", "validate"),
    "run": ("femiec.api", "run"),
    "homogenize": ("femiec.homogenization", "homogenize"),
    "ConductionProblem": ("femiec.problems.conduction", "ConductionProblem"),
    "NernstPlanckPoisson": ("femiec.problems.nernst_planck_poisson", "NernstPlanckPoisson"),
    "ElectrodeProblem": ("femiec.problems.electrode", "ElectrodeProblem"),
    "HeatProblem": ("femiec.problems.thermal", "HeatProblem"),
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'femiec' has no attribute {name!r}")
    import importlib

    module, attribute = _API[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
