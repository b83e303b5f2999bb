"""Meshes from other tools, read with meshio (.vtu, .inp (Abaqus), .xdmf, .med, .mesh, ...), into MeshData.

The file is read on rank 0; its cells of the highest dimension (one type: tetrahedron, hexahedron, triangle
or quadrilateral) become the mesh, distributed with ``dolfinx.mesh.create_mesh`` and shared-facet ghosts;
its cells of one dimension less become facet tags. Tags, in this order of preference:

- integer cell data under one of ``TAG_KEYS`` ("gmsh:physical", "CellEntityIds", "medium", "cell_tags"):
  the values are the tag values, named from meshio's ``field_data`` ({name: [id, dim]}) when it names
  them, else ``region<id>`` (cells) and ``boundary<id>`` (facets);
- else named cell sets (Abaqus ``*ELSET``, XDMF sets): set k (by sorted name) gets tag k + 1;
- else one region ``domain`` = 1 and no facet tags.
A facet cell that is not a facet of the mesh (a stray surface element) is not tagged. Coordinates are
multiplied by ``scale`` to give metres.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from femiec.errors import InputError
from femiec.meshing.base import MeshData

#: cell-data names meshio gives to region ids (gmsh, VTK/ParaView "CellEntityIds", Medit, MED families)
TAG_KEYS = ("gmsh:physical", "CellEntityIds", "medium", "cell_tags")
#: meshio cell type -> (DOLFINx cell type name, topological dimension)
CELL_TYPES = {"tetra": ("tetrahedron", 3), "hexahedron": ("hexahedron", 3), "triangle": ("triangle", 2),
              "quad": ("quadrilateral", 2), "line": ("interval", 1)}


def read_meshio(path: Path | str, comm, gdim: int = 3, scale: float = 1.0) -> MeshData:
    """Read ``path`` with meshio on rank 0 and distribute it (module doc); errors on every rank."""
    path = Path(path)
    payload, error = None, None
    if comm.rank == 0:
        try:
            payload = _blocks(path, gdim)
        except InputError as exc:
            error = (exc.key, exc.value, exc.expected)  # InputError itself does not pickle
    error = comm.bcast(error, root=0)
    if error is not None:
        raise InputError(*error)
    header = comm.bcast(None if payload is None else {k: v for k, v in payload.items()
                                                         if k in ("cell_type", "nodes", "facet_nodes",
                                                                  "cell_names", "facet_names")}, root=0)
    return _distribute(path, comm, gdim, scale, header, payload)


def _blocks(path: Path, gdim: int) -> dict:
    """Rank 0: the points, cells, facets and tags of the file as plain arrays (module doc)."""
    import contextlib
    import io

    import meshio

    messages = io.StringIO()  # meshio prints its errors and warnings to stderr: kept for the one line
    try:
        with contextlib.redirect_stderr(messages):
            data = meshio.read(path)
    except (Exception, SystemExit) as exc:  # ReadError, KeyError, ...; the VTU reader calls exit()
        lines = [line.strip() for line in messages.getvalue().splitlines() if line.strip()]
        text = (str(exc).splitlines() or lines or [type(exc).__name__])[0]
        if isinstance(exc, SystemExit) and lines:
            text = lines[0].removeprefix("Error: ")
        raise InputError("mesh.file", str(path), f"a mesh file meshio can read ({text})") from None
    types = {block.type for block in data.cells if block.type in CELL_TYPES}
    if not types:
        raise InputError("mesh.file", str(path), f"cells of a type {sorted(CELL_TYPES)} (found: "
                                                 f"{sorted({b.type for b in data.cells}) or 'none'})")
    tdim = max(CELL_TYPES[t][1] for t in types)
    volume_types = sorted(t for t in types if CELL_TYPES[t][1] == tdim)
    if len(volume_types) > 1 or tdim < 2:
        raise InputError("mesh.file", str(path), f"cells of one type of dimension 2 or 3 (found {volume_types})")
    if data.points.shape[1] < gdim:
        raise InputError("mesh.gdim", gdim, f"at most the {data.points.shape[1]} coordinates of {path.name}")
    facet_types = [t for t in types if CELL_TYPES[t][1] == tdim - 1]
    ids, cell_names, facet_names = _tags(data, tdim)
    pick = {"cells": [], "cell_values": [], "facets": [], "facet_values": []}
    for k, block in enumerate(data.cells):
        key = "cells" if block.type == volume_types[0] else "facets" if block.type in facet_types[:1] else None
        if key is not None:
            pick[key].append(block.data.astype(np.int64))
            pick["cell_values" if key == "cells" else "facet_values"].append(ids[k])
    cells, cell_values = np.vstack(pick["cells"]), np.concatenate(pick["cell_values"])
    nodes = cells.shape[1]
    facets = np.vstack(pick["facets"]) if pick["facets"] else np.empty((0, 0), np.int64)
    facet_values = np.concatenate(pick["facet_values"]) if pick["facets"] else np.empty(0, np.int32)
    if (cell_values == 0).any() and cell_names:
        raise InputError("mesh.file", str(path), f"a tag on every cell of dimension {tdim} "
                                                 f"({int((cell_values == 0).sum())} cells have none)")
    if not cell_names:
        cell_values[:] = 1
        cell_names = {"domain": 1}
    keep = facet_values > 0
    return {"cell_type": CELL_TYPES[volume_types[0]][0], "nodes": nodes, "facet_nodes": facets.shape[1],
            "cell_names": cell_names, "facet_names": facet_names if keep.any() else {},
            "points": np.ascontiguousarray(data.points[:, :gdim], dtype=np.float64), "cells": cells,
            "cell_values": cell_values.astype(np.int32), "facets": facets[keep],
            "facet_values": facet_values[keep].astype(np.int32)}


def _tags(data, tdim: int) -> tuple[list[np.ndarray], dict[str, int], dict[str, int]]:
    """Per cell block the tag of each cell (0: none), and the names of the cell and facet tags."""
    sizes = [len(block.data) for block in data.cells]
    dims = [CELL_TYPES.get(block.type, (None, -1))[1] for block in data.cells]
    key = next((k for k in TAG_KEYS if k in data.cell_data), None)
    if key is not None:
        ids = [np.asarray(values, dtype=np.int64).reshape(-1) for values in data.cell_data[key]]
        named = {dim: {int(v[0]): name for name, v in data.field_data.items() if len(v) > 1 and int(v[1]) == dim}
                 for dim in (tdim, tdim - 1)}
        names = []
        for dim, default in ((tdim, "region"), (tdim - 1, "boundary")):
            used = sorted({int(v) for i, d in zip(ids, dims) if d == dim for v in np.unique(i) if v > 0})
            names.append({named[dim].get(v, f"{default}{v}"): v for v in used})
        return ids, names[0], names[1]
    ids = [np.zeros(n, dtype=np.int64) for n in sizes]
    names = ({}, {})
    for tag, (name, blocks) in enumerate(sorted(data.cell_sets.items()), start=1):
        for k, members in enumerate(blocks):
            members = np.asarray(members, dtype=np.int64).reshape(-1)
            if members.size and dims[k] in (tdim, tdim - 1):
                ids[k][members] = tag
                names[0 if dims[k] == tdim else 1][name] = tag
    return ids, names[0], names[1]


def _distribute(path: Path, comm, gdim: int, scale: float, header: dict, payload: dict | None) -> MeshData:
    """create_mesh from rank 0's arrays, then the cell and facet tags (as DOLFINx's gmsh reader does)."""
    import basix.ufl
    import ufl
    from dolfinx.cpp.graph import AdjacencyList_int32
    from dolfinx.cpp.io import perm_vtk
    from dolfinx.io import distribute_entity_data
    from dolfinx.cpp.mesh import cell_entity_type
    from dolfinx.mesh import (CellType, GhostMode, create_cell_partitioner, create_mesh,
                              meshtags, meshtags_from_entities)

    cell_type = CellType[header["cell_type"]]
    nodes, facet_nodes = header["nodes"], header["facet_nodes"]
    if payload is None:
        payload = {"points": np.empty((0, gdim)), "cells": np.empty((0, nodes), np.int64),
                   "cell_values": np.empty(0, np.int32), "facets": np.empty((0, facet_nodes), np.int64),
                   "facet_values": np.empty(0, np.int32)}
    cells = payload["cells"][:, perm_vtk(cell_type, nodes)]
    domain = ufl.Mesh(basix.ufl.element("Lagrange", header["cell_type"], 1, shape=(gdim,)))
    mesh = create_mesh(comm, cells, payload["points"] * scale, domain,
                       create_cell_partitioner(GhostMode.shared_facet))
    tdim = mesh.topology.dim
    entities, values = distribute_entity_data(mesh, tdim, cells, payload["cell_values"])
    mesh.topology.create_connectivity(tdim, 0)
    cell_tags = meshtags_from_entities(mesh, tdim, AdjacencyList_int32(entities), values.astype(np.int32))
    mesh.topology.create_connectivity(tdim - 1, tdim)
    if header["facet_names"]:
        facet_type = cell_entity_type(cell_type, tdim - 1, 0)
        facets = payload["facets"][:, perm_vtk(facet_type, facet_nodes)]
        entities, values = distribute_entity_data(mesh, tdim - 1, facets, payload["facet_values"])
        facet_tags = meshtags_from_entities(mesh, tdim - 1, AdjacencyList_int32(entities), values.astype(np.int32))
    else:
        facet_tags = meshtags(mesh, tdim - 1, np.empty(0, np.int32), np.empty(0, np.int32))
    return MeshData(mesh, cell_tags, facet_tags, header["cell_names"], header["facet_names"],
                    {"source": "meshio", "file": str(path)})
