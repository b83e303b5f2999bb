"""Schema refusals of keys with several allowed forms (a number or a list, a list or a table) name the
form the value was meant as, never a pydantic-internal label."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.cli import main
from femiec.config import parse_case
from femiec.errors import InputError


def _homogenization(tmp_path, **model):
    np.save(tmp_path / "image.npy", np.zeros((4, 4, 4), dtype=np.uint8))
    return {"model": {"kind": "homogenization", "image": str(tmp_path / "image.npy"), "phases": [0],
                      "voxel_size": 1e-6, **model}}


@pytest.mark.parametrize("model, message", [
    ({"phases": {"0": 0.0}}, "model.phases.0: 0.0 (expected a positive finite number)"),
    ({"phases": {"0": [[1, 0, 0], [0, -1, 0], [0, 0, 1]]}}, "model.phases.0: [[1, 0, 0], [0, -1, 0], [0, 0, 1]] "
                                                            "(expected a positive-definite matrix"),
    ({"phases": [0, 300]}, "model.phases[1]: 300 (expected a number <= 255)"),
    ({"phases": []}, "model.phases: [] (expected a list of at least 1 item)"),
    ({"phases": "pore"}, "model.phases: 'pore' (expected a list or a table)"),
    ({"voxel_size": [1e-6, -1e-6, 1e-6]}, "model.voxel_size[1]: -1e-06 (expected a positive number)"),
    ({"voxel_size": -1e-6}, "model.voxel_size: -1e-06 (expected a positive number)"),
    ({"voxel_size": [1e-6, 1e-6]}, "model.voxel_size: [1e-06, 1e-06] (expected a list of at least 3 items)"),
    ({"voxel_size": "1 um"}, "model.voxel_size: '1 um' (expected a number or a list)"),
    ({"rtol": 2.0}, "model.rtol: 2.0 (expected a number < 1"),
])
def test_union_keys_report_the_meant_form(tmp_path, model, message):
    with pytest.raises(InputError) as err:
        parse_case(_homogenization(tmp_path, **model))
    assert str(err.value).startswith(message), str(err.value)
    assert "constrained" not in str(err.value) and "function-" not in str(err.value)


def test_image_mesh_voxel_size_and_petsc_option_forms(tmp_path):
    np.save(tmp_path / "image.npy", np.zeros((4, 4, 4), dtype=np.uint8))
    mesh = {"kind": "image", "file": str(tmp_path / "image.npy"), "phases": {"pore": 0}, "voxel_size": [1, 1, 0]}
    model = {"kind": "conduction", "boundary": [{"facet": "xmin", "value": 0.0}]}
    with pytest.raises(InputError, match=r"^mesh.voxel_size\[2\]: 0 \(expected a positive number\)$"):
        parse_case({"mesh": mesh, "model": model})
    box = {"kind": "box", "lengths": [1, 1], "cells": [1, 1]}
    with pytest.raises(InputError, match=r"^solver.petsc_options.ksp_rtol: \[1\] \(expected a string, an integer, "):
        parse_case({"mesh": box, "model": model, "solver": {"petsc_options": {"ksp_rtol": [1]}}})


def test_command_line_prints_the_meant_form(tmp_path, capsys):
    np.save(tmp_path / "image.npy", np.zeros((4, 4, 4), dtype=np.uint8))
    (tmp_path / "case.toml").write_text('[model]\nkind = "homogenization"\nimage = "image.npy"\n'
                                        'phases = { "0" = 0.0 }\nvoxel_size = 1e-6\n')
    assert main(["validate", str(tmp_path / "case.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: model.phases.0: 0.0 (expected a positive finite number)"]
