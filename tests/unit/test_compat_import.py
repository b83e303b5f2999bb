"""Without DOLFINx, importing a package that needs it raises ImportError saying how to install it, while
the case-file schema still imports (a subprocess hides dolfinx, ufl, basix and petsc4py)."""
from __future__ import annotations

import subprocess
import sys

import pytest

HIDE = "import sys\nfor name in ('dolfinx', 'ufl', 'basix', 'petsc4py'):\n    sys.modules[name] = None\n"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", HIDE + code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("package", ["femiec.forms", "femiec.problems.nernst_planck_poisson", "femiec.meshing",
                                     "femiec.homogenization", "femiec.io.fields", "femiec.solvers"])
def test_import_without_dolfinx_says_how_to_install(package):
    result = _run(f"""
try:
    import {package}
except ImportError as exc:
    print(type(exc).__name__, '|', exc)
""")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("MissingDependencyError | cannot import dolfinx"), result.stdout
    assert "DOLFINx >= 0.9 is required" in result.stdout and "make setup" in result.stdout, result.stdout


def test_config_and_errors_import_without_dolfinx():
    result = _run("""
import femiec.config, femiec.errors
from femiec.config import parse_case
case = parse_case({"mesh": {"kind": "box", "lengths": [1, 1], "cells": [2, 2]},
                   "materials": {"a": {"conductivity": [[1, 0, 0], [0, 2, 0], [0, 0, 3]]}},
                   "model": {"kind": "conduction", "boundary": [{"facet": "xmin", "value": 0.0}]}})
print(case.model.kind)
""")
    assert result.returncode == 0 and result.stdout.strip() == "conduction", result.stderr
