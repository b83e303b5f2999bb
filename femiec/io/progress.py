"""Progress display on rank 0, silent on other ranks and with ``-q``.

On a terminal: a rich progress bar. Otherwise (a batch job's log file, a pipe): one plain line on stderr
each time another tenth of the run is done, ``<name>: 30% after 4.2 min`` (or ``after 12 s``), so a long cluster run shows
that it advances.
"""
from __future__ import annotations

import contextlib
import sys
import time

LOG_STEPS = 10  # plain-text lines per run when stderr is not a terminal


@contextlib.contextmanager
def progress_bar(description: str, total: float, comm, enabled: bool = True):
    """Yield ``update(value)`` that moves the display from 0 to ``total`` (e.g. simulated time in s)."""
    if not enabled or comm.rank != 0:
        yield lambda value: None
        return
    if not sys.stderr.isatty():
        yield _log_lines(description, total)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                  TimeElapsedColumn(), transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda value: bar.update(task, completed=value)


def _log_lines(description: str, total: float):
    """``update(value)`` that prints a line whenever value / total passes the next 1/LOG_STEPS."""
    start = time.perf_counter()
    done = [0]  # tenths already printed

    def update(value: float) -> None:
        tenths = int(LOG_STEPS * min(value / total, 1.0) + 1e-9)
        if tenths > done[0]:
            done[0] = tenths
            seconds = time.perf_counter() - start
            elapsed = f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f} min"
            print(f"{description}: {100 * tenths // LOG_STEPS}% after {elapsed}", file=sys.stderr, flush=True)

    return update
