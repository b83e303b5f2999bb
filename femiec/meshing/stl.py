"""A closed triangulated surface (STL, e.g. from segmentation software) meshed into a tetrahedral volume.

Method (gmsh, rank 0, then distributed as every gmsh model: :func:`femiec.meshing.gmsh_builders.build_and_load`):
1. the STL is merged and checked closed: every triangle edge must belong to exactly two triangles
   (an open or non-manifold surface is one InputError counting the offending edges);
2. ``classifySurfaces`` splits the surface into patches at edges sharper than 40 degrees and into pieces
   that can be parametrized, ``createGeometry`` makes them gmsh surfaces, and the surfaces are remeshed
   with element size ``h``;
3. a surface loop of all the surfaces bounds one volume, filled with tetrahedra of size ``h`` (Delaunay).

Tags: region ``domain`` = 1, boundary facets ``surface`` = 1. Coordinates (and ``h``) in metres after
multiplying the file's coordinates by ``scale``. The volume equals the enclosed volume of the STL up to
the remeshing of curved surfaces (planar faces are kept exactly).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from femiec.errors import InputError
from femiec.meshing.base import MeshData

#: dihedral angle (degrees) above which an edge of the STL is kept as a sharp edge of the geometry
FEATURE_ANGLE = 40.0


def stl_volume_mesh(path: Path | str, h: float, comm, scale: float = 1.0) -> MeshData:
    """Tetrahedral mesh of the volume bounded by the closed STL surface ``path`` (module doc); ``h`` is the
    element size in metres, ``scale`` converts the file's coordinates to metres."""
    from femiec.meshing.gmsh_builders import build_and_load

    path = Path(path)
    if not (h > 0 and math.isfinite(h)):
        raise InputError("mesh.h", h, "a positive element size in metres")

    def build(model):
        import gmsh

        try:
            gmsh.merge(str(path))
        except Exception as exc:  # gmsh raises a bare Exception carrying its last error
            raise InputError("mesh.file", str(path), f"an STL file gmsh can read ({_first_line(exc)})") from None
        _check_closed(model, path)
        model.mesh.classifySurfaces(math.radians(FEATURE_ANGLE), True, True, math.pi)
        model.mesh.createGeometry()
        surfaces = [tag for _, tag in model.getEntities(2)]
        loop = model.geo.addSurfaceLoop(surfaces)
        volume = model.geo.addVolume([loop])
        model.geo.synchronize()
        model.addPhysicalGroup(3, [volume], 1, name="domain")
        model.addPhysicalGroup(2, surfaces, 1, name="surface")
        gmsh.option.setNumber("Mesh.MeshSizeMax", h / scale)
        gmsh.option.setNumber("Mesh.MeshSizeMin", 0.0)
        gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
        model.mesh.generate(3)

    return build_and_load(comm, build, {"domain": 1}, scale,
                          {"source": "stl", "geometry": "stl", "file": str(path), "h_m": h, "scale": scale})


def _check_closed(model, path: Path) -> None:
    """InputError unless every edge of the merged triangles belongs to exactly two of them."""
    triangles = []
    for dim, tag in model.getEntities(2):
        types, _, nodes = model.mesh.getElements(dim, tag)
        triangles += [np.asarray(n).reshape(-1, 3) for t, n in zip(types, nodes) if t == 2]
    if not triangles:
        raise InputError("mesh.file", str(path), "an STL surface with triangles (found none)")
    tri = np.vstack(triangles)
    edges = np.sort(np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    open_edges, shared = int((counts == 1).sum()), int((counts > 2).sum())
    if open_edges or shared:
        raise InputError("mesh.file", str(path), f"a closed surface: every edge in exactly two triangles "
                                                 f"({open_edges} edges in one triangle, {shared} in more than two)")


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]
