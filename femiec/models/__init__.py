"""Model kinds: each one a typed ``[model]`` section plus ``build`` and ``run`` stages, listed in one
registry (:mod:`femiec.models.registry`). The runner, ``femiec validate`` and the case schema read the
registry and never branch on the kind."""
from femiec.models.registry import MODELS, model_spec, register
from femiec.models.spec import ModelSection, ModelSpec

__all__ = ["MODELS", "ModelSection", "ModelSpec", "model_spec", "register"]
