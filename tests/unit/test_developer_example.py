"""The worked example of docs/developer.md: a model kind written outside femiec, registered with
femiec.models.register, read from a case, validated and run like a built-in kind."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "developer.md"


@pytest.fixture
def example_model():
    """Execute the example block of docs/developer.md (it registers "screened_diffusion"); unregister after."""
    from femiec.config import schema
    from femiec.models import MODELS

    block = re.search(r"```python\n(# docs/developer.md example: screened_diffusion\n.*?)```", DOC.read_text(),
                      re.S).group(1)
    exec(compile(block, str(DOC), "exec", dont_inherit=True), {"__name__": "docs_developer_example"})
    yield MODELS["screened_diffusion"]
    del MODELS["screened_diffusion"]
    schema.rebuild_model_section()


def _case(**model):
    from femiec.config import parse_case

    return parse_case({"case": {"name": "screened"},
                       "mesh": {"kind": "box", "lengths": [1.0e-6, 2.0e-7], "cells": [64, 4],
                                "cell_type": "quadrilateral"},
                       "model": {"kind": "screened_diffusion", "diffusivity": 1.0e-10, "rate_constant": 400.0,
                                 "inlet": "xmin", "inlet_concentration": 1.0, **model}})


@pytest.mark.mpi
def test_registered_example_runs_like_a_builtin_kind(example_model, comm, tmp_path_factory, numbers):
    """Oracle: c = c0 cosh((L - x)/lambda) / cosh(L/lambda), lambda = sqrt(D/k), on a slab of length L with
    c = c0 at x = 0 and the other faces insulating; its consumption per unit depth is
    W D c0 tanh(L/lambda) / lambda (W the width). Q1 on 64 cells over L = 2 lambda: within 1e-3."""
    import femiec
    from femiec.errors import InputError

    out = comm.bcast(tmp_path_factory.mktemp("screened") if comm.rank == 0 else None)
    summary = json.loads(femiec.run(_case(), out=out, comm=comm).read_text())
    D, k, L, W = 1.0e-10, 400.0, 1.0e-6, 2.0e-7
    lam = math.sqrt(D / k)
    expected = W * D * math.tanh(L / lam) / lam
    consumption = summary["derived"]["consumption [mol/s]"]
    assert consumption == pytest.approx(expected, rel=1e-3)
    numbers.record("consumption", consumption)
    with pytest.raises(InputError, match=r"^model.rate_constant: -1.0 \(expected a positive number\)$"):
        _case(rate_constant=-1.0)
    with pytest.raises(InputError, match=r"^model.inlet: 'left' \(expected a facet tag of the mesh"):
        femiec.validate(_case(inlet="left"), comm)
