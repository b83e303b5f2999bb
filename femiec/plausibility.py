"""Plausibility warnings before a solve: inputs that are allowed but probably not meant.

Each check logs one line with ``logging.warning`` naming the case key and the run goes on (``femiec
validate`` shows them too): a temperature below 150 K (given in Celsius?), a Debye length the mesh does not
resolve, a mesh or image larger than the memory available. The refusals (exit 2) are InputErrors raised
where the input is read; this module never refuses. No DOLFINx at import.
"""
from __future__ import annotations

import logging
import math

from femiec.sections import is_number

log = logging.getLogger(__name__)

#: temperatures below this [K] are warned about: no electrochemical cell runs there, 25 (Celsius) is < 150
LOWEST_PLAUSIBLE_TEMPERATURE = 150.0

#: peak memory per mesh cell [bytes] of a voxel or box mesh with its cell and facet tags: the full
#: 256^3 NMC image meshed as 16.8 M hexahedra peaked at 10.4-10.9 GB on 1-2 ranks, ~650 B per cell
#: (benchmarks/README.md, bench_voxel_mesh.py); the solve comes on top
MESH_BYTES_PER_CELL = 650.0

#: peak memory per voxel [bytes] of the finite-volume homogenization (benchmarks/README.md,
#: bench_tortuosity.py: 221-236 B per voxel on 1 rank, interpreter included)
FV_BYTES_PER_VOXEL = 236.0


#: peak memory per unknown [bytes] of the resolved electrode's Newton solve: 17.2 GB for 5.2 M unknowns
#: (128^3 crop, fieldsplit, 1 rank; benchmarks/README.md, bench_electrode.py), ~3.3 kB
ELECTRODE_BYTES_PER_UNKNOWN = 3300.0


def warn_low_temperatures(data, key: str = "") -> None:
    """Warn for every temperature [K] in ``data`` (a case as nested tables, e.g. ``case.model_dump()``)
    below :data:`LOWEST_PLAUSIBLE_TEMPERATURE`: the keys ``temperature`` and ``T_inf`` anywhere, and
    ``value`` / ``initial`` inside a ``temperature`` table (a constant or solved temperature)."""
    for sub_key, value in _temperatures(data, key, inside=False):
        warn_low_temperature(sub_key, value)


def warn_low_temperature(key: str, value: float) -> None:
    """Warn when the temperature ``value`` [K] of ``key`` is below :data:`LOWEST_PLAUSIBLE_TEMPERATURE`."""
    if value < LOWEST_PLAUSIBLE_TEMPERATURE:
        log.warning("%s: %g K is below %g K: is it in Celsius? (temperatures are in kelvin, "
                    "25 degC = 298.15 K)", key, value, LOWEST_PLAUSIBLE_TEMPERATURE)


def _temperatures(data, key: str, inside: bool):
    """(key, value) of the temperatures in ``data`` (see :func:`warn_low_temperatures`)."""
    if isinstance(data, dict):
        for name, value in data.items():
            sub_key = f"{key}.{name}" if key else str(name)
            if is_number(value) and (name in ("temperature", "T_inf") or (inside and name in ("value", "initial"))):
                yield sub_key, float(value)
            else:
                yield from _temperatures(value, sub_key, name == "temperature")
    elif isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            yield from _temperatures(value, f"{key}[{i}]", False)


def warn_unresolved_debye_length(key: str, debye_length: float, mesh=None, h: float | None = None) -> None:
    """Warn when the smallest cell of ``mesh`` (a dolfinx Mesh; its size h = the cell diameter; or ``h``
    [m] given instead of the mesh) is larger than the Debye length lambda_D [m]: the double layer, whose
    potential decays as exp(-x / lambda_D), then falls inside one cell, and the interface charge and the
    potential drop across it are not resolved. The smallest cell is used so that a mesh graded towards the
    interfaces is not warned about. Collective."""
    h = smallest_cell_size(mesh) if h is None else h
    if h > debye_length:
        log.warning("%s: the Debye length lambda_D = %.3g m is not resolved by the mesh (smallest cell h = "
                    "%.3g m > lambda_D): refine the mesh near the charged interfaces to h < lambda_D",
                    key, debye_length, h)


def smallest_cell_size(mesh) -> float:
    """The smallest cell diameter h [m] of a dolfinx mesh over all ranks. Collective."""
    import numpy as np
    from mpi4py import MPI

    tdim = mesh.topology.dim
    cells = np.arange(mesh.topology.index_map(tdim).size_local, dtype=np.int32)
    local = float(mesh.h(tdim, cells).min()) if cells.size else math.inf
    return mesh.comm.allreduce(local, op=MPI.MIN)


def warn_memory(key: str, count: int, items: str, bytes_each: float) -> None:
    """Warn when ``count`` ``items`` (a plural: "tetrahedron cells", "voxels") at ``bytes_each`` [B] (a
    measured peak, see the constants above) need more than the memory available on this machine now (all
    ranks on one node; a run spread over several nodes has more). Called before the allocation."""
    available = available_memory()
    need = count * bytes_each
    if available is not None and need > available:
        log.warning("%s: %d %s need about %.3g GB (%.0f B each, measured) but %.3g GB are available: "
                    "the run will probably run out of memory; crop or coarsen, or use more nodes",
                    key, count, items, need / 1e9, bytes_each, available / 1e9)


def available_memory() -> float | None:
    """Memory available for new processes [bytes] (psutil, else /proc/meminfo MemAvailable), or None."""
    try:
        import psutil

        return float(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    return None
