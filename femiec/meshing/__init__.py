"""Meshes for femiec: boxes, gmsh geometries and tomography volumes, all returned as :class:`MeshData`.

gmsh is imported only inside the functions that need it.
"""
from femiec._compat import require_dolfinx

require_dolfinx()  # an ImportError saying how to install DOLFINx, before any submodule needs it

from femiec.meshing.base import BOX_FACETS, MeshData  # noqa: E402
from femiec.meshing.box import box_mesh  # noqa: E402
from femiec.meshing.conforming import conforming_mesh  # noqa: E402
from femiec.meshing.gmsh_builders import (Refinement, ellipsoid_packing, pillar_electrode, sandwich_cell,  # noqa: E402
                                          sphere_in_box, sphere_packing)
from femiec.meshing.gmsh_file import read_msh  # noqa: E402
from femiec.meshing.quality import mesh_statistics, write_mesh_xdmf  # noqa: E402
from femiec.meshing.tomography import phase_report, read_image  # noqa: E402
from femiec.meshing.voxel import interface_tag, voxel_mesh  # noqa: E402

__all__ = ["BOX_FACETS", "MeshData", "Refinement", "box_mesh", "conforming_mesh", "ellipsoid_packing",
           "interface_tag", "mesh_statistics", "phase_report", "pillar_electrode", "read_image", "read_msh",
           "sandwich_cell", "sphere_in_box", "sphere_packing", "voxel_mesh", "write_mesh_xdmf"]
