"""Progress output: plain lines on stderr when it is not a terminal (batch jobs), nothing on other ranks
or when disabled."""
from __future__ import annotations

from types import SimpleNamespace

from femiec.io.progress import progress_bar


def test_plain_lines_at_each_tenth_when_not_a_terminal(capsys):
    with progress_bar("case", 200.0, SimpleNamespace(rank=0)) as update:
        for value in (5.0, 20.0, 21.0, 99.0, 250.0):  # 2.5%, 10%, 10.5%, 49.5%, past the end
            update(value)
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(" after ")[0] for line in lines] == ["case: 10%", "case: 40%", "case: 100%"]
    assert all(line.endswith(" s") or line.endswith(" min") for line in lines)


def test_silent_on_other_ranks_and_when_disabled(capsys):
    for comm, enabled in ((SimpleNamespace(rank=1), True), (SimpleNamespace(rank=0), False)):
        with progress_bar("case", 1.0, comm, enabled=enabled) as update:
            update(1.0)
    assert capsys.readouterr().err == ""
