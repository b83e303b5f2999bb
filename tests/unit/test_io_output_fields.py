"""``[output] fields``: a run writes only the named fields; an unknown or repeated name is one line."""
from __future__ import annotations

import textwrap

import pytest

from femiec.cli import main

CASE = """
[mesh]
kind = "box"
lengths = [1.0e-6, 1.0e-6, 1.0e-6]
cells = [2, 2, 2]

[materials.m]
conductivity = 2.0

[regions]
domain = "m"

[model]
kind = "conduction"
boundary = [{{ facet = "xmin", value = 0.0 }}, {{ facet = "xmax", value = 1.0 }}]

[output]
{output}
"""


def _case(tmp_path, output):
    (tmp_path / "case.toml").write_text(textwrap.dedent(CASE.format(output=output)))
    return str(tmp_path / "case.toml")


def test_only_the_selected_fields_are_written(tmp_path):
    import json

    out = tmp_path / "out"
    assert main(["run", _case(tmp_path, 'fields = ["potential"]\nformats = ["vtx", "xdmf"]'), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["fields"]) == ["potential"]
    assert (out / "potential.bp").is_dir() and not (out / "current_density.bp").exists()
    assert (out / "fields.xdmf").is_file()
    out = tmp_path / "all"
    assert main(["run", _case(tmp_path, ""), "--out", str(out)]) == 0
    assert sorted(json.loads((out / "summary.json").read_text())["fields"]) == ["current_density", "potential"]


@pytest.mark.parametrize("fields, expected", [
    ('["potential", "concentration"]', "error: output.fields: ['concentration'] (expected names of this "
                                       "model's fields: potential, current_density, conductivity_axis1"),
    ('["potential", "potential"]', "error: output.fields: ['potential', 'potential'] (expected each field name "
                                   "once (potential given twice))"),
])
def test_unknown_or_repeated_field_names_are_one_line(tmp_path, capsys, fields, expected):
    assert main(["run", _case(tmp_path, f"fields = {fields}"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(expected), err
    assert not (tmp_path / "out" / "summary.json").exists()
