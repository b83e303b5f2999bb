"""A case file with an oriented hexagonal conductor, run end to end (schema -> mesh -> solve -> summary)."""
from __future__ import annotations

import json

import pytest


@pytest.mark.mpi
@pytest.mark.parametrize("euler, sigma_xx", [([0.0, 90.0, 0.0], 4.0), ([90.0, 90.0, 0.0], 0.5)])
def test_oriented_conductor_case(tmp_path_factory, comm, numbers, euler, sigma_xx):
    """Oracle: hexagonal sigma = (a, c) = (4, 0.5) S/m with Bunge (0, 90, 0) puts c along sample y and
    (90, 90, 0) along sample x; the tensor is then diagonal, u = V x / L is exact (P1) between xmin (0 V)
    and xmax (V = 0.1 V) with insulated sides, and the current is I = sigma_xx V A / L with
    A = 2e-6 * 1e-6 m^2, L = 4e-6 m. summary.json must report it to 1e-10 (the outward current at xmax is
    -I: current enters there and flows down the potential towards xmin)."""
    from femiec.config.loader import parse_case
    from femiec.runner import run_case

    out = comm.bcast(str(tmp_path_factory.mktemp("case")) if comm.rank == 0 else None)
    case = parse_case({
        "case": {"name": "oriented"},
        "mesh": {"kind": "box", "lengths": [4e-6, 2e-6, 1e-6], "cells": [4, 2, 2], "cell_type": "hexahedron"},
        "materials": {"host": {"conductivity": {"symmetry": "hexagonal", "values": [4.0, 0.5],
                                                "orientation": {"euler": euler}}}},
        "model": {"kind": "conduction", "boundary": [{"facet": "xmin", "value": 0.0},
                                                     {"facet": "xmax", "value": 0.1}]},
    })
    summary = json.loads(run_case(case, out, comm, show_progress=False).read_text())
    current = summary["derived"]["outward_current [A]"]["xmax"]
    expected = -sigma_xx * 0.1 * 2e-6 * 1e-6 / 4e-6
    numbers.record("current", current)
    assert abs(current - expected) < 1e-10 * abs(expected)
    assert summary["fields"]["potential"]["unit"] == "V"
