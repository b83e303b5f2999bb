"""The one place that knows DOLFINx version differences.

femiec supports DOLFINx 0.9 and is written to move to 0.10/0.11 by changing only this module. Features
are detected (``hasattr``/import probes), never by comparing version strings elsewhere in the code.

The packages that need DOLFINx (femiec.forms, .problems, .meshing, .homogenization, .io, .solvers) call
:func:`require_dolfinx` when imported, so a machine without it gets an ImportError that says how to install
it; femiec.config and femiec.errors import without DOLFINx.

Known differences handled here:
- gmsh reader: ``dolfinx.io.gmshio`` (0.9) was renamed ``dolfinx.io.gmsh`` (0.10+), and ``model_to_mesh``
  returns a named tuple (with physical names) from 0.10 on.
- ``create_submesh`` returns ``(mesh, entity_map, vertex_map, geom_map)`` in 0.9; 0.10+ returns an
  ``EntityMap`` object in place of the array.
"""
from __future__ import annotations

import importlib
from typing import Any

from femiec.errors import MissingDependencyError

MIN_DOLFINX = (0, 9)

_INSTALL_HINT = (
    "DOLFINx >= 0.9 is required and is not on PyPI: run `make setup` (scripts/setup.sh; Debian/Ubuntu), "
    "use environment.yml (conda-forge) or the container in docker/"
)


def require_dolfinx():
    """Import and return the ``dolfinx`` module, or raise MissingDependencyError with install advice."""
    try:
        dolfinx = importlib.import_module("dolfinx")
    except ImportError as exc:  # pragma: no cover - tested in a subprocess that hides dolfinx
        raise MissingDependencyError(f"cannot import dolfinx ({exc}); {_INSTALL_HINT}") from None
    if dolfinx_version(dolfinx) < MIN_DOLFINX:
        raise MissingDependencyError(f"DOLFINx {dolfinx.__version__} is too old; {_INSTALL_HINT}")
    return dolfinx


def dolfinx_version(module: Any | None = None) -> tuple[int, int]:
    """(major, minor) of the installed DOLFINx."""
    mod = module if module is not None else importlib.import_module("dolfinx")
    major, minor = (int(p) for p in mod.__version__.split(".")[:2])
    return major, minor


def gmsh_io():
    """The DOLFINx gmsh reader module (``dolfinx.io.gmshio`` in 0.9, ``dolfinx.io.gmsh`` later)."""
    io = importlib.import_module("dolfinx.io")
    if hasattr(io, "gmshio"):
        return io.gmshio
    return importlib.import_module("dolfinx.io.gmsh")  # pragma: no cover - DOLFINx >= 0.10


def model_to_mesh(model, comm, rank: int, gdim: int):
    """Convert the gmsh model on ``rank`` to ``(mesh, cell_tags, facet_tags)`` on ``comm``.

    Cells sharing a facet with another rank are ghosted (``GhostMode.shared_facet``), so interior-facet
    integrals (``dS`` on interfaces) work in parallel.
    """
    from dolfinx.mesh import GhostMode, create_cell_partitioner

    partitioner = create_cell_partitioner(GhostMode.shared_facet)
    result = gmsh_io().model_to_mesh(model, comm, rank, gdim=gdim, partitioner=partitioner)
    if hasattr(result, "cell_tags"):  # pragma: no cover - DOLFINx >= 0.10 named tuple
        return result.mesh, result.cell_tags, result.facet_tags
    return result[0], result[1], result[2]


def create_submesh(mesh, dim: int, entities):
    """Sub-mesh of ``entities`` (dimension ``dim``) and the map sub-mesh entity -> parent entity.

    Returns ``(submesh, entity_map)`` where ``entity_map`` is a NumPy array of parent indices (0.9
    semantics); this is what ``entity_maps`` arguments of ``dolfinx.fem.form`` expect in 0.9.
    """
    from dolfinx.mesh import create_submesh as _create_submesh

    result = _create_submesh(mesh, dim, entities)
    submesh, entity_map = result[0], result[1]
    if hasattr(entity_map, "sub_topology_to_topology"):  # pragma: no cover - DOLFINx >= 0.10
        import numpy as np

        n = submesh.topology.index_map(dim).size_local + submesh.topology.index_map(dim).num_ghosts
        entity_map = entity_map.sub_topology_to_topology(np.arange(n, dtype=np.int32), inverse=False)
    return submesh, entity_map


def has_adios2() -> bool:
    """True when DOLFINx was built with ADIOS2 (VTXWriter available)."""
    dolfinx = require_dolfinx()
    return bool(getattr(dolfinx, "has_adios2", False))


def interpolation_points(space):
    """Reference interpolation points of ``space``'s element (a method in 0.9, a property from 0.10)."""
    points = space.element.interpolation_points
    return points() if callable(points) else points
