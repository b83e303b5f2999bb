"""The command line: validate/run/info, and one-line refusals (exit 2) of bad case files."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from case_texts import SLAB_CASE as CASE
from femiec.cli import main



def _write(tmp_path, text, name="case.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # exactly one line, no traceback
    return err[0]


@pytest.mark.parametrize("edit, key, value", [
    (lambda s: s.replace('name = "slab"', 'name = "slab"\ncolour = "red"'), "case.colour", "'red'"),
    (lambda s: s.replace("conductivity = 2.0", "conductivity = -2.0"), "materials.gdc.conductivity", "-2.0"),
    (lambda s: s.replace("conductivity = 2.0", "conductivity = 2.0\ndiffusivity = -1e-12"),
     "materials.gdc.diffusivity", "-1e-12"),
    (lambda s: s.replace("conductivity = 2.0", "conductivity = [[1.0, 0, 0], [0, -1.0, 0], [0, 0, 1.0]]"),
     "materials.gdc.conductivity", "positive-definite"),
    (lambda s: s.replace("conductivity = 2.0", "conductivity = [[1.0, 0.5, 0], [0, 1.0, 0], [0, 0, 1.0]]"),
     "materials.gdc.conductivity", "symmetric"),
    (lambda s: s.replace('kind = "box"\nlengths = [2.0e-3, 1.0e-3, 1.0e-3]\ncells = [6, 3, 3]',
                         'kind = "gmsh"\nfile = "missing.msh"'), "mesh.file", "missing.msh"),
    (lambda s: s.replace('facet = "xmax"', 'facet = "right"'), "model.boundary[1].facet", "'right'"),
    (lambda s: s.replace("domain = \"gdc\"", "electrolyte = \"gdc\""), "regions.electrolyte", "'electrolyte'"),
    (lambda s: s.replace("cells = [6, 3, 3]", "cells = [6, 3, 0]"), "mesh.cells[2]", "0"),
    (lambda s: s.replace('kind = "conduction"', 'kind = "magic"'), "model.kind", "'magic'"),
    (lambda s: s + '\n[solver]\npreset = "fast"\n', "solver.preset", "'fast'"),
])
def test_validate_refuses_bad_input_with_one_line(tmp_path, capsys, edit, key, value):
    """Each bad case exits 2 with `error: <key>: <value> (expected ...)` on one line, before any solve."""
    path = _write(tmp_path, edit(CASE))
    assert main(["validate", str(path)]) == 2
    line = _error_line(capsys)
    assert line.startswith(f"error: {key}: "), line
    assert value in line and "(expected " in line, line


SLAB = Path(__file__).resolve().parents[2] / "demos" / "electrode_slab" / "case.toml"


@pytest.mark.parametrize("old, new, key, value", [
    ("diffusivity = 1.3e-9", "diffusivity = -1.3e-9", "model.species[0].diffusivity", "-1.3e-09"),
    ('facets = "xmin"', 'facets = "left"', "model.electrodes[0].facets", "'left'"),
    ('species = "Cl", facets = "xmax"', 'species = "Cl", facets = "right"', "model.conditions[1].facets", "'right'"),
    ("exchange_current_density = 10.0", "exchange_current_density = 0.0",
     "model.electrodes[0].reactions[0].exchange_current_density", "0.0"),
    ("exchange_current_density = 10.0", "exchange_current_density = 10.0, order = 1",
     "model.electrodes[0].reactions[0].order", "1"),
    ('{ type = "potential", facets = "xmax"', '{ type = "voltage", facets = "xmax"', "model.conditions[2].type",
     "'voltage'"),
    ('{ type = "potential", facets = "xmax", value = 0.0 }', '{ type = "potential", facets = "xmax" }',
     "model.conditions[2].value", "'<missing>'"),
    ('species = "Na", facets = "xmax"', 'species = "K", facets = "xmax"', "model.conditions[0].species", "'K'"),
    ("stern_capacitance = 0.2", "stern_capacitance = 0.2\nvoltage = 0.1", "model.electrodes[0]",
     "{'voltage': 0.1, 'current': 2e-15}"),
    ("[solver]", "[model.steady]\ncontinuation_steps = 0\n\n[solver]", "model.steady.continuation_steps", "0"),
])
def test_validate_names_the_nernst_planck_poisson_key(tmp_path, capsys, old, new, key, value):
    """Nernst–Planck–Poisson inputs are refused with their case-file key path (demos/electrode_slab)."""
    text = SLAB.read_text()
    assert old in text
    path = _write(tmp_path, text.replace(old, new))
    assert main(["validate", str(path)]) == 2
    line = _error_line(capsys)
    assert line.startswith(f"error: {key}: {value} (expected "), line


SORET = Path(__file__).resolve().parents[2] / "demos" / "soret_membrane" / "case.toml"


@pytest.mark.parametrize("old, new, key, value", [
    ('{ facet = "xmax", temperature = 873.0 }', '{ facet = "top", temperature = 873.0 }',
     "model.temperature.boundary[1].facet", "'top'"),
    ('coupling = "monolithic"', 'coupling = "loose"', "model.temperature.coupling", "'loose'"),
    ("heat_of_transport = 1.602176634e-20", "heat_of_transport = 1.602176634e-20\nalpha_T = 1.0",
     "model.species[0].heat_of_transport", "1.602176634e-20"),
    ("activation_energy = 8.0e4", "activation_energy = 8.0e4, T0 = 1.0", "model.species[0].diffusivity.T0", "1.0"),
    ('kind = "solved"', 'kind = "solved"\nsources = { peltier = true }', "model.temperature.sources.peltier",
     "True"),
])
def test_validate_names_the_solved_temperature_key(tmp_path, capsys, old, new, key, value):
    """Solved-temperature inputs of demos/soret_membrane are refused with their key (exit 2, one line)."""
    text = SORET.read_text()
    assert old in text
    path = _write(tmp_path, text.replace(old, new))
    assert main(["validate", str(path)]) == 2
    line = _error_line(capsys)
    assert line.startswith(f"error: {key}: {value} (expected "), line


def test_validate_checks_nernst_planck_poisson_without_building_it(monkeypatch, capsys):
    """`femiec validate` of the NPP demos (galvanostatic slab; Soret membrane with a solved temperature)
    runs the problem's input checks but builds no function space, form or solver of it."""
    from femiec.problems.npp.model import NernstPlanckPoisson

    def refuse(self):
        raise AssertionError("validate built the NPP problem")

    monkeypatch.setattr(NernstPlanckPoisson, "build_spaces", refuse)
    for case in (SLAB, SORET):
        assert main(["validate", str(case)]) == 0
        assert capsys.readouterr().out.startswith("ok: ")


def test_validate_accepts_good_case(tmp_path, capsys):
    path = _write(tmp_path, CASE)
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_missing_case_file_and_bad_toml(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert "case file" in _error_line(capsys)
    bad = _write(tmp_path, "[mesh\nkind=1")
    assert main(["validate", str(bad)]) == 2
    assert "valid TOML" in _error_line(capsys)


@pytest.mark.mpi
def test_run_writes_fields_and_summary_last(tmp_path_factory, comm, numbers):
    """Oracle: uniform slab, sigma = 2 S/m, length 2 mm, 0.5 V: current density
    j = sigma dV/L = 500 A/m^2 through a 1 mm^2 face, total I = 5e-4 A (P1 is exact for a linear field)."""
    tmp = comm.bcast(tmp_path_factory.mktemp("run") if comm.rank == 0 else None)
    path = _write(tmp, CASE) if comm.rank == 0 else tmp / "case.toml"
    comm.barrier()
    out = tmp / "out"
    assert main(["-q", "run", str(path), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["fields"]) == ["current_density", "potential"]
    assert (out / "potential.bp").is_dir()
    totals = summary["derived"]["outward_current [A]"]
    assert totals["xmin"] == pytest.approx(5e-4, rel=1e-10)
    assert totals["xmax"] == pytest.approx(-5e-4, rel=1e-10)
    assert summary["versions"]["mpi_size"] == comm.size
    assert summary["mesh"]["statistics"]["num_cells"] == 6 * 3 * 3 * 6
    numbers.record("current_xmin", totals["xmin"])


def test_failed_run_leaves_no_summary(tmp_path, capsys):
    """A run whose solve fails exits non-zero and does not leave summary.json (written last)."""
    bad_solver = CASE + '\n[solver]\npreset = "iterative"\npetsc_options = { ksp_max_it = 1, ksp_type = "cg", pc_type = "none" }\n'
    path = _write(tmp_path, bad_solver)
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")  # a stale summary from an earlier run
    assert main(["-q", "run", str(path), "--out", str(out)]) == 1
    assert not (out / "summary.json").exists()
    assert _error_line(capsys).startswith("error: solver: ")


def test_info_lists_versions(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for key in ("femiec", "dolfinx", "petsc", "petsc_external_packages", "mpi_library", "mpi_size"):
        assert key in out
