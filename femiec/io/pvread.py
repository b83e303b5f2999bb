"""Read femiec output back with ParaView's own Python (pvpython), as our users' client does."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from femiec.errors import MissingDependencyError

_PROBE = Path(__file__).with_name("pv_probe.py")


def pvpython_executable() -> str:
    """Path of ``pvpython``; MissingDependencyError when ParaView is not installed."""
    exe = shutil.which("pvpython")
    if exe is None:
        raise MissingDependencyError("pvpython not found: install ParaView (Debian: apt install paraview)")
    return exe


def probe(*paths: Path | str, timeout: float = 300) -> dict:
    """What ParaView reads from ``.bp``/``.xdmf`` files: arrays, times, points and values (last time)."""
    cmd = [pvpython_executable(), "--force-offscreen-rendering", str(_PROBE), *map(str, paths)]
    # pvpython is an MPI program: started from inside an mpirun job it would try to join that job, so
    # it gets an environment without the launcher's variables.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "PMI_", "PRTE_"))}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"pvpython failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)
