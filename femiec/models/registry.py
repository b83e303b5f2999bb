"""The table of model kinds: adding a model to femiec is one module (its
:class:`~femiec.models.spec.ModelSpec` ``MODEL``) and one line here; a plugin outside femiec calls
:func:`register` instead (docs/developer.md)."""
from __future__ import annotations

from femiec.errors import InputError
from femiec.models import (blocking_cell, conduction, electrode, homogenization, intercalation_particles,
                           mixed_conductor, nernst_planck_poisson, porous_mixed_conductor)
from femiec.models.spec import ModelSpec

MODELS: dict[str, ModelSpec] = {spec.kind: spec for spec in (
    conduction.MODEL,
    homogenization.MODEL,
    nernst_planck_poisson.MODEL,
    electrode.MODEL,
    blocking_cell.MODEL,
    mixed_conductor.MODEL,
    porous_mixed_conductor.MODEL,
    intercalation_particles.MODEL,
)}


def model_spec(kind: str) -> ModelSpec:
    """The spec of model ``kind`` (InputError naming the known kinds otherwise)."""
    if kind not in MODELS:
        raise InputError("model.kind", kind, f"one of {', '.join(repr(k) for k in MODELS)}")
    return MODELS[kind]


def register(spec: ModelSpec) -> None:
    """Add (or replace) model kind ``spec.kind`` at run time, e.g. from a plugin package: from now on case
    files with ``[model] kind = "<kind>"`` are read with ``spec.section`` and run with ``spec.build`` and
    ``spec.run``, exactly like the built-in kinds."""
    from femiec.config import schema

    MODELS[spec.kind] = spec
    schema.rebuild_model_section()
