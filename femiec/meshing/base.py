"""The mesh container every femiec builder returns, and the tag conventions.

Tag conventions (also listed in docs/tags.md and echoed in summary.json):
- Outer box faces carry facet tags ``BOX_FACETS``: xmin=1, xmax=2, ymin=3, ymax=4, zmin=5, zmax=6.
- Cell tags name phases/particles/grains; facet tags name interfaces and outer faces. Names map to the
  integer values through ``MeshData.cell_names`` and ``MeshData.facet_names``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from femiec.errors import InputError

#: Facet tag values of the six faces of an axis-aligned box.
BOX_FACETS: dict[str, int] = {"xmin": 1, "xmax": 2, "ymin": 3, "ymax": 4, "zmin": 5, "zmax": 6}


class TagNames:
    """Lookups of named tags, shared by :class:`MeshData` and the mesh-free outline of an image mesh
    (:class:`femiec.meshing.image_outline.ImageMeshOutline`): ``cell_names``, ``facet_names`` and
    ``has_facet_tags`` come from the subclass."""

    def cell_tag(self, name: str) -> int:
        """Integer cell tag of region ``name``; InputError naming the known names otherwise."""
        from femiec.errors import InputError

        if name not in self.cell_names:
            raise InputError("cell tag", name, f"one of {sorted(self.cell_names)}")
        return self.cell_names[name]

    def facet_tag(self, name: str, key: str = "facet tag") -> int:
        """Integer facet tag of boundary/interface ``name``; InputError (named ``key``) listing the known
        names otherwise."""
        from femiec.errors import InputError

        if name not in self.facet_names:
            raise InputError(key, name, f"one of the facet tags {sorted(self.facet_names)}")
        return self.facet_names[name]

    def facet_id(self, facet: str | int, key: str | None = None) -> int:
        """Facet tag value of a boundary given by name or integer tag; InputError named ``key`` (default
        "facet tag" for a name, "facet" otherwise) if unknown."""
        from femiec.errors import InputError

        if not self.has_facet_tags:
            raise InputError(key or "facet", facet, "a mesh with facet tags")
        if isinstance(facet, str):
            return self.facet_tag(facet, key or "facet tag")
        known = set(self.facet_names.values())
        if known and int(facet) not in known:
            raise InputError(key or "facet", facet, f"one of the facet tags {sorted(known)}")
        return int(facet)


@dataclass
class MeshData(TagNames):
    """A distributed DOLFINx mesh with named cell and facet tags.

    Attributes:
        mesh: ``dolfinx.mesh.Mesh`` (coordinates in metres).
        cell_tags: ``dolfinx.mesh.MeshTags`` of cells (may be None when the mesh has one region).
        facet_tags: ``dolfinx.mesh.MeshTags`` of facets (may be None).
        cell_names: name -> integer tag value of cell regions.
        facet_names: name -> integer tag value of facet regions.
        info: free-form description (source, voxel size, ...) echoed into summary.json.
        image: the segmented image a voxel mesh was built from (None for other meshes; not written to
            summary.json itself: :func:`femiec.meshing.quality.mesh_statistics` reports its phases).
        planes: this rank's planes of that image instead (femiec.meshing.rank_planes.RankPlanes) when the
            voxel mesh was built from an image read by planes (``image`` is then None).
    """

    mesh: Any
    cell_tags: Any = None
    facet_tags: Any = None
    cell_names: dict[str, int] = field(default_factory=dict)
    facet_names: dict[str, int] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    image: Any = None
    planes: Any = None

    @property
    def comm(self):
        return self.mesh.comm

    @property
    def dim(self) -> int:
        return self.mesh.topology.dim

    @property
    def has_facet_tags(self) -> bool:
        return self.facet_tags is not None

    @property
    def from_image(self) -> bool:
        """True for a voxel mesh built from an image (``image`` or its ``planes`` kept)."""
        return self.image is not None or self.planes is not None

    def smallest_cell_size(self) -> float:
        """The smallest cell diameter h [m] over all ranks. Collective."""
        from femiec.plausibility import smallest_cell_size

        return smallest_cell_size(self.mesh)

    def bounding_box(self):
        """(lower, upper) corners [m] of the whole mesh. Collective."""
        return bounding_box(self.mesh)


def bounding_box(mesh):
    """(lower, upper) corners [m] of the whole mesh (3 components each; all ranks, also ranks without
    vertices)."""
    import numpy as np
    from mpi4py import MPI

    x = mesh.geometry.x
    lower, upper = np.empty(3), np.empty(3)
    mesh.comm.Allreduce(x.min(axis=0) if len(x) else np.full(3, np.inf), lower, op=MPI.MIN)
    mesh.comm.Allreduce(x.max(axis=0) if len(x) else np.full(3, -np.inf), upper, op=MPI.MAX)
    return lower, upper


#: memory of a distributed mesh per cell vertex (geometry, topology, facet tags), bytes; measured on a
#: 40^3 tetrahedral and a 60^3 hexahedral box (DOLFINx 0.9: about 320 and 570 bytes per cell)
MESH_BYTES_PER_VERTEX = 80
VERTICES = {"tetrahedron": 4, "hexahedron": 8, "triangle": 3, "quadrilateral": 4, "interval": 2}


def check_mesh_memory(num_cells: int, cell_type: str, key: str) -> None:
    """InputError naming ``key`` when a mesh of ``num_cells`` cells would not fit in the memory available on
    this machine (psutil): estimate = num_cells x vertices per cell x MESH_BYTES_PER_VERTEX, the mesh
    alone (a solve needs several times more). Called before anything is allocated."""
    from femiec.plausibility import available_memory

    needed = num_cells * VERTICES[cell_type] * MESH_BYTES_PER_VERTEX
    available = available_memory()
    if available is not None and needed > available:
        raise InputError(key, f"{num_cells:.3g} {cell_type} cells",
                         f"a mesh that fits in memory: about {needed / 1e9:.3g} GB for the mesh alone, "
                         f"{available / 1e9:.3g} GB available")
