"""Meshes for femiec: boxes, gmsh geometries and tomography volumes, all returned as :class:`MeshData`.

gmsh is imported only inside the functions that need it.
"""
from femiec.meshing.base import BOX_FACETS, MeshData
from femiec.meshing.box import box_mesh
from femiec.meshing.conforming import conforming_mesh
from femiec.meshing.gmsh_builders import (Refinement, ellipsoid_packing, pillar_electrode, sandwich_cell,
                                          sphere_in_box, sphere_packing)
from femiec.meshing.gmsh_file import read_msh
from femiec.meshing.quality import mesh_statistics, write_mesh_xdmf
from femiec.meshing.tomography import phase_report, read_image
from femiec.meshing.voxel import interface_tag, voxel_mesh

__all__ = ["BOX_FACETS", "MeshData", "Refinement", "box_mesh", "conforming_mesh", "ellipsoid_packing",
           "interface_tag", "mesh_statistics", "phase_report", "pillar_electrode", "read_image", "read_msh",
           "sandwich_cell", "sphere_in_box", "sphere_packing", "voxel_mesh", "write_mesh_xdmf"]
