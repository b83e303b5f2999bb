"""Mesh statistics for summary.json and export of meshes with their tags to XDMF (ParaView).

All numbers are global (reduced over ranks; owned entities only) and identical on every rank.
Quality of a cell: q = V / V_regular(l_rms), the cell volume divided by the volume of the regular cell
of the same type whose edge is the cell's root-mean-square edge length (1 for a regular tetrahedron,
cube, equilateral triangle or square; -> 0 for flat cells). Units: volumes m^3, areas m^2, lengths m.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from mpi4py import MPI

from femiec.meshing.base import MeshData

# Volume (area in 2D, length in 1D) of the regular cell with unit edge.
_REGULAR_MEASURE = {
    "tetrahedron": 1.0 / (6.0 * np.sqrt(2.0)),
    "hexahedron": 1.0,
    "triangle": np.sqrt(3.0) / 4.0,
    "quadrilateral": 1.0,
    "interval": 1.0,
}


def tag_measures(meshdata: MeshData) -> tuple[dict[str, float], dict[str, float]]:
    """Global volume (m^3) of each named cell region and area (m^2) of each named facet region.

    Volumes are assembled (dx); facet areas are summed over owned facets from their vertex coordinates
    (straight-sided facets), so interfaces count once and no ghost cells are needed.
    """
    import ufl
    from dolfinx import fem

    mesh = meshdata.mesh
    one = fem.Constant(mesh, 1.0)
    dx = ufl.Measure("dx", domain=mesh, subdomain_data=meshdata.cell_tags)
    volumes = {
        name: mesh.comm.allreduce(fem.assemble_scalar(fem.form(one * dx(tag))), op=MPI.SUM)
        for name, tag in meshdata.cell_names.items()
    }
    fdim = mesh.topology.dim - 1
    tags = meshdata.facet_tags
    areas = {}
    for name, tag in meshdata.facet_names.items():
        local = 0.0
        if tags is not None:
            facets = tags.indices[tags.values == tag]
            local = float(facet_areas(mesh, facets[facets < mesh.topology.index_map(fdim).size_local]).sum())
        areas[name] = mesh.comm.allreduce(local, op=MPI.SUM)
    return volumes, areas


def facet_areas(mesh, facets: np.ndarray) -> np.ndarray:
    """Areas (m^2; lengths in 2D; 1 for the points of a 1D mesh, whose quantities are per m^2) of
    straight-sided facets: triangles, planar quadrilaterals, segments, points."""
    from dolfinx.mesh import entities_to_geometry

    fdim = mesh.topology.dim - 1
    if len(facets) == 0:  # entities_to_geometry fails on an empty list
        return np.zeros(0)
    if fdim == 0:
        return np.ones(len(facets))
    mesh.topology.create_connectivity(fdim, fdim + 1)
    x = mesh.geometry.x[entities_to_geometry(mesh, fdim, facets.astype(np.int32), False)]
    if fdim == 1:
        return np.linalg.norm(x[:, 1] - x[:, 0], axis=1)
    if x.shape[1] == 3:
        return 0.5 * np.linalg.norm(np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]), axis=1)
    # Quadrilateral with vertices (0,0), (1,0), (0,1), (1,1): half the cross product of the diagonals.
    return 0.5 * np.linalg.norm(np.cross(x[:, 3] - x[:, 0], x[:, 2] - x[:, 1]), axis=1)


def tag_counts(meshdata: MeshData) -> tuple[dict[str, int], dict[str, int]]:
    """Global number of owned cells per named cell region and of owned facets per named facet region."""
    def count(tags, names):
        if tags is None:
            return {name: 0 for name in names}
        owned = tags.indices < meshdata.mesh.topology.index_map(tags.dim).size_local
        values = tags.values[owned]
        return {name: meshdata.comm.allreduce(int(np.count_nonzero(values == tag))) for name, tag in names.items()}

    meshdata.mesh.topology.create_entities(meshdata.dim - 1)
    return count(meshdata.cell_tags, meshdata.cell_names), count(meshdata.facet_tags, meshdata.facet_names)


def cell_quality(mesh) -> tuple[np.ndarray, np.ndarray]:
    """Per owned cell: volume (m^3; m^2 in 2D) and the lengths of its edges (m), shape (cells, edges)."""
    import ufl
    from dolfinx import fem
    from dolfinx.mesh import entities_to_geometry

    tdim = mesh.topology.dim
    num_cells = mesh.topology.index_map(tdim).size_local
    V0 = fem.functionspace(mesh, ("DG", 0))
    volume = fem.assemble_vector(fem.form(ufl.TestFunction(V0) * ufl.dx)).array[:num_cells]
    mesh.topology.create_connectivity(tdim, 1)
    mesh.topology.create_connectivity(1, tdim)
    if num_cells == 0:  # entities_to_geometry fails on an empty list
        return volume, np.zeros((0, 1))
    cell_edges = mesh.topology.connectivity(tdim, 1)
    edges_per_cell = cell_edges.offsets[1] - cell_edges.offsets[0]
    edges = cell_edges.array[: num_cells * edges_per_cell].reshape(num_cells, edges_per_cell)
    unique_edges = np.unique(edges)
    nodes = entities_to_geometry(mesh, 1, unique_edges, False)
    x = mesh.geometry.x
    edge_length = np.linalg.norm(x[nodes[:, 1]] - x[nodes[:, 0]], axis=1)
    return volume, edge_length[np.searchsorted(unique_edges, edges)]


def mesh_statistics(meshdata: MeshData, quality: bool = True) -> dict:
    """Global mesh statistics for summary.json (identical on all ranks).

    Keys: cell_type, num_cells, num_vertices, num_facets, gdim, cells_per_tag, facets_per_tag,
    volume_per_tag_m3, area_per_facet_tag_m2, total_volume_m3, with ``quality``: min/max edge
    length (m), min/max cell volume, min/mean cell quality (module doc), and for a voxel mesh
    (``meshdata.image`` or ``.planes`` set) ``phase_report``: per phase of the whole image, meshed or not,
    its volume fraction, specific surface area (1/m) and percolating fraction along x, y, z
    (:func:`femiec.meshing.tomography.phase_report`, or rank_planes.planes_phase_report from the planes;
    names as the cell tags, else ``phase<value>``).
    """
    mesh = meshdata.mesh
    tdim = mesh.topology.dim
    mesh.topology.create_entities(tdim - 1)
    volumes, areas = tag_measures(meshdata)
    cells_per_tag, facets_per_tag = tag_counts(meshdata)
    stats = {
        "cell_type": mesh.topology.cell_name(),
        "gdim": int(mesh.geometry.dim),
        "num_cells": int(mesh.topology.index_map(tdim).size_global),
        "num_vertices": int(mesh.topology.index_map(0).size_global),
        "num_facets": int(mesh.topology.index_map(tdim - 1).size_global),
        "cells_per_tag": cells_per_tag,
        "facets_per_tag": facets_per_tag,
        "volume_per_tag_m3": volumes,
        "area_per_facet_tag_m2": areas,
        "total_volume_m3": _total_volume(mesh),
    }
    if quality:
        stats.update(_quality_summary(mesh))
    if meshdata.image is not None:
        from femiec.meshing.tomography import phase_report

        names = {value: name for name, value in meshdata.cell_names.items()}
        stats["phase_report"] = phase_report(meshdata.image, meshdata.info["voxel_size_m"], names)
    elif meshdata.planes is not None:  # an image read by planes: the same report from each rank's planes
        from femiec.meshing.rank_planes import planes_phase_report

        names = {value: name for name, value in meshdata.cell_names.items()}
        stats["phase_report"] = planes_phase_report(meshdata.planes, meshdata.comm, meshdata.info["voxel_size_m"],
                                                    names)
    return stats


def _total_volume(mesh) -> float:
    import ufl
    from dolfinx import fem

    return mesh.comm.allreduce(fem.assemble_scalar(fem.form(fem.Constant(mesh, 1.0) * ufl.dx(domain=mesh))))


def quality_values(mesh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per owned cell: quality q (module doc), volume (m^3; m^2 in 2D) and edge lengths (m)."""
    volume, lengths = cell_quality(mesh)
    l_rms = np.sqrt(np.mean(lengths**2, axis=1)) if len(lengths) else np.zeros(0)
    return volume / (_REGULAR_MEASURE[mesh.topology.cell_name()] * l_rms ** mesh.topology.dim), volume, lengths


def poor_cell_fraction(mesh, threshold: float = 0.1) -> float:
    """Global fraction of the cells with quality q < ``threshold`` (identical on all ranks)."""
    q = quality_values(mesh)[0]
    return mesh.comm.allreduce(int(np.count_nonzero(q < threshold))) / mesh.comm.allreduce(len(q))


def _quality_summary(mesh) -> dict:
    comm = mesh.comm
    q, volume, lengths = quality_values(mesh)
    num = comm.allreduce(len(q))
    return {
        "min_edge_length_m": comm.allreduce(float(lengths.min(initial=np.inf)), op=MPI.MIN),
        "max_edge_length_m": comm.allreduce(float(lengths.max(initial=0.0)), op=MPI.MAX),
        "min_cell_volume": comm.allreduce(float(volume.min(initial=np.inf)), op=MPI.MIN),
        "max_cell_volume": comm.allreduce(float(volume.max(initial=0.0)), op=MPI.MAX),
        "min_cell_quality": comm.allreduce(float(q.min(initial=np.inf)), op=MPI.MIN),
        "mean_cell_quality": comm.allreduce(float(q.sum())) / num,
    }


def write_mesh_xdmf(meshdata: MeshData, path) -> Path:
    """Write the mesh, cell tags and facet tags to ``path`` (.xdmf + .h5) for ParaView.

    The tag names are written next to it as ``<path>.tags.json`` (name -> value).
    """
    import json

    from dolfinx.io import XDMFFile

    path = Path(path).with_suffix(".xdmf")
    mesh = meshdata.mesh
    mesh.topology.create_connectivity(mesh.topology.dim - 1, mesh.topology.dim)
    with XDMFFile(mesh.comm, str(path), "w") as xdmf:
        xdmf.write_mesh(mesh)
        for tags, name in ((meshdata.cell_tags, "cell_tags"), (meshdata.facet_tags, "facet_tags")):
            if tags is not None:
                tags.name = name
                xdmf.write_meshtags(tags, mesh.geometry)
    if mesh.comm.rank == 0:
        names = {"cell_names": meshdata.cell_names, "facet_names": meshdata.facet_names}
        path.with_suffix(".tags.json").write_text(json.dumps(names, indent=1))
    return path
