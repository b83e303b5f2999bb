"""Phase submeshes of one mesh, and the integration data of the interfaces between them.

For fields that live on different cell subsets ("phases") of one mesh and meet on interior facets:

- :func:`phase_submesh`: a DOLFINx submesh (codimension 0) of a set of cells, with the maps from the
  parent's cells and vertices to the submesh's (-1 outside);
- :func:`interface_integration_data`: the rows (cell, local facet, cell, local facet) of the owned interior
  facets of an interface, ordered so that the "+" side of a ``dS`` integral is always in the first phase;
- :func:`padded_entity_map`: the parent-to-submesh cell map to give ``dolfinx.fem.form(entity_maps=...)``.
  The assembler of an interior-facet integral looks up both cells of each facet in the submesh of every
  argument, so a cell across the interface (outside the phase) is mapped to the phase's cell on the other
  side of the facet. Only restrictions that the forms never use ("-" of a field of the "+" phase, and the
  reverse) see the padded entries, so they add exact zeros.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PhaseSubmesh:
    """A submesh and the maps from the parent's local cells and vertices to its own (-1: not in it)."""

    mesh: object
    cell_map: np.ndarray
    vertex_map: np.ndarray


def phase_submesh(mesh, cells: np.ndarray, name: str) -> PhaseSubmesh:
    """The submesh of the local ``cells`` (owned and ghost) of ``mesh``, named ``name``."""
    from dolfinx import mesh as dmesh

    tdim = mesh.topology.dim
    submesh, to_parent, vertex_to_parent, _ = dmesh.create_submesh(mesh, tdim, np.asarray(cells, dtype=np.int32))
    submesh.name = name
    cell_index, vertex_index = mesh.topology.index_map(tdim), mesh.topology.index_map(0)
    cell_map = np.full(cell_index.size_local + cell_index.num_ghosts, -1, dtype=np.int32)
    cell_map[to_parent] = np.arange(len(to_parent), dtype=np.int32)
    vertex_map = np.full(vertex_index.size_local + vertex_index.num_ghosts, -1, dtype=np.int32)
    vertex_map[vertex_to_parent] = np.arange(len(vertex_to_parent), dtype=np.int32)
    return PhaseSubmesh(submesh, cell_map, vertex_map)


def interface_integration_data(mesh, facets: np.ndarray, in_first_phase: np.ndarray) -> np.ndarray:
    """Rows (cell0, local facet0, cell1, local facet1) of the owned ``facets`` (interior facets between two
    phases) with cell0 in the first phase (``in_first_phase``: a boolean per local cell). Flattened, it is
    the subdomain data of a ``dS`` measure: ``ufl.Measure("dS", subdomain_data=[(id, rows.ravel())])``."""
    from dolfinx import cpp

    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim - 1, tdim)
    mesh.topology.create_connectivity(tdim, tdim - 1)
    facets = np.asarray(facets, dtype=np.int32)
    owned = facets[facets < mesh.topology.index_map(tdim - 1).size_local]
    rows = np.asarray(cpp.fem.compute_integration_domains(
        cpp.fem.IntegralType.interior_facet, mesh.topology._cpp_object, owned, tdim - 1), dtype=np.int32)
    rows = rows.reshape(-1, 4)
    swap = ~np.asarray(in_first_phase, dtype=bool)[rows[:, 0]]
    rows[swap] = rows[swap][:, [2, 3, 0, 1]]
    return rows


def padded_entity_map(phase: PhaseSubmesh, inside: np.ndarray, across: np.ndarray) -> np.ndarray:
    """``phase.cell_map`` with each cell of ``across`` (outside the phase) mapped to the submesh cell of the
    matching cell of ``inside`` (the two cells of one interface facet, row by row)."""
    padded = phase.cell_map.copy()
    padded[across] = phase.cell_map[inside]
    return padded
