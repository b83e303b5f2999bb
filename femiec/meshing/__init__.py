"""Meshes for femiec: boxes, gmsh geometries and tomography volumes, all returned as :class:`MeshData`."""
from femiec.meshing.base import BOX_FACETS, MeshData

__all__ = ["BOX_FACETS", "MeshData"]
