"""Read a gmsh ``.msh`` file into :class:`MeshData` with the physical-group names as tag names."""
from __future__ import annotations

from pathlib import Path

from femiec.errors import InputError
from femiec.meshing.base import MeshData


def physical_names(model, dim: int) -> dict[str, int]:
    """name -> physical tag of the physical groups of dimension ``dim`` in a gmsh model."""
    names = {}
    for d, tag in model.getPhysicalGroups(dim):
        names[model.getPhysicalName(d, tag) or f"tag{tag}"] = tag
    return names


def model_to_meshdata(model, comm, gdim: int = 3, rank: int = 0, info: dict | None = None) -> MeshData:
    """Distribute the gmsh model held on ``rank`` as MeshData (cell/facet names from physical groups)."""
    from femiec._compat import model_to_mesh

    tdim = gdim
    names = (physical_names(model, tdim), physical_names(model, tdim - 1)) if comm.rank == rank else None
    cell_names, facet_names = comm.bcast(names, root=rank)
    if not cell_names:
        raise InputError("mesh", "gmsh model", f"at least one physical group of dimension {tdim}")
    mesh, cell_tags, facet_tags = model_to_mesh(model, comm, rank, gdim)
    return MeshData(mesh, cell_tags, facet_tags, cell_names, facet_names, info or {})


def read_msh(path: Path | str, comm, gdim: int = 3, scale: float = 1.0) -> MeshData:
    """Read ``path`` on rank 0 and distribute it; coordinates are multiplied by ``scale`` (to metres)."""
    import gmsh

    path = Path(path)
    initialized_here = False
    error = None
    if comm.rank == 0:
        if not gmsh.isInitialized():
            gmsh.initialize(["-noenv"], readConfigFiles=False)
            initialized_here = True
        gmsh.option.setNumber("General.Terminal", 0)
        try:
            gmsh.open(str(path))
        except Exception as exc:  # gmsh raises a bare Exception carrying its last error
            error = (str(exc).splitlines() or ["unreadable"])[0]
    error = comm.bcast(error, root=0)
    try:
        if error is not None:
            raise InputError("mesh.file", str(path), f"a mesh file gmsh can read ({error})")
        data = model_to_meshdata(gmsh.model, comm, gdim, info={"source": "gmsh", "file": str(path)})
    finally:
        if comm.rank == 0 and initialized_here:
            gmsh.finalize()
    if scale != 1.0:
        data.mesh.geometry.x[:] *= scale
    return data
