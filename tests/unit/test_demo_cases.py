"""Every demo case file passes ``femiec validate`` (schema, image, phases and tags, without building the
problem): a change of keys or defaults that breaks a shipped example fails here, not in a user's hands."""
from __future__ import annotations

from pathlib import Path

import pytest

from femiec.cli import main

DEMOS = Path(__file__).resolve().parents[2] / "demos"


@pytest.mark.parametrize("case", sorted(DEMOS.rglob("*.toml")), ids=lambda p: str(p.relative_to(DEMOS)))
def test_demo_case_validates(case, capsys):
    """Oracle: exit code 0 and the one-line "ok: <case>" of ``femiec validate``."""
    assert main(["validate", str(case)]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith(f"ok: {case}")
