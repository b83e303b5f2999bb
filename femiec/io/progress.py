"""Progress display on rank 0 (rich), silent on other ranks and when disabled (``-q`` or not a TTY)."""
from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def progress_bar(description: str, total: float, comm, enabled: bool = True):
    """Yield ``update(value)`` that moves a bar from 0 to ``total`` (e.g. simulated time in s)."""
    show = enabled and comm.rank == 0 and sys.stderr.isatty()
    if not show:
        yield lambda value: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                  TimeElapsedColumn(), transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda value: bar.update(task, completed=value)
