"""Unit tests of femiec.meshing.voxel: names, tags, bad input, export to XDMF (write_mesh_xdmf)."""
import numpy as np
import pytest

from femiec.errors import InputError
from femiec.meshing.base import BOX_FACETS
from femiec.meshing.voxel import interface_tag, voxel_mesh


def test_names_and_tag_values():
    image = np.zeros((3, 2, 2), dtype=np.uint8)
    image[2] = 85
    data = voxel_mesh(image, voxel_size=1e-6, phase_names={0: "pore", 85: "nmc"})
    assert data.cell_names == {"pore": 0, "nmc": 85}
    assert data.facet_names == {**BOX_FACETS, "pore|nmc": interface_tag(0, 85)}
    assert interface_tag(85, 0) == 1000 + 85
    assert sorted(np.unique(data.cell_tags.values)) == [0, 85]
    pore_only = voxel_mesh(image, phases=[0])
    assert pore_only.cell_names == {"phase0": 0}
    assert "phase0|phase85" in pore_only.facet_names


@pytest.mark.mpi
@pytest.mark.parametrize(
    "image, phases, voxel_size, key",
    [
        (np.zeros((2, 2, 2), np.uint8), [85], 1.0, "phases"),
        (np.zeros((2, 2), np.uint8), None, 1.0, "image"),
        (np.zeros((2, 2, 2)), None, 1.0, "image"),
        (np.full((2, 2, 2), 300, np.int32), None, 1.0, "image values"),
        (np.zeros((2, 2, 2), np.uint8), None, (1.0, -1.0, 1.0), "voxel_size"),
    ],
)
def test_bad_input_is_one_line_error(comm, image, phases, voxel_size, key):
    """The same one-line InputError on every rank (raised before any collective call: no hang)."""
    try:
        voxel_mesh(image, phases, voxel_size, comm=comm)
        error = None
    except InputError as exc:
        error = exc
    messages = comm.allgather(None if error is None else str(error))
    assert error is not None and error.key == key and "\n" not in messages[0]
    assert all(m == messages[0] for m in messages), messages


@pytest.mark.mpi
def test_write_mesh_xdmf_round_trip(tmp_path_factory, comm, numbers):
    """write_mesh_xdmf then dolfinx.io.XDMFFile read_mesh/read_meshtags give back the mesh and its tags.
    Oracle (exact counts): 4 x 3 x 2 voxels, 6 of value 85 in the plane x = 3 and 18 of value 0: 24 cells,
    cell tags 0 x 18 and 85 x 6; facet tags: box faces xmin, xmax 6 each, ymin, ymax 8 each, zmin, zmax 12
    each, and the 6 faces of the plane x = 2.5 tagged interface_tag(0, 85) = 1085."""
    import json

    import ufl
    from dolfinx import fem
    from dolfinx.io import XDMFFile

    from femiec.meshing.quality import write_mesh_xdmf

    image = np.zeros((4, 3, 2), dtype=np.uint8)
    image[3] = 85
    data = voxel_mesh(image, voxel_size=(1e-6, 2e-6, 3e-6), comm=comm, phase_names={0: "pore", 85: "nmc"})
    tmp = comm.bcast(tmp_path_factory.mktemp("xdmf") if comm.rank == 0 else None)
    path = write_mesh_xdmf(data, tmp / "voxels")
    comm.barrier()
    assert path == tmp / "voxels.xdmf" and path.with_suffix(".h5").is_file()
    assert json.loads(path.with_suffix(".tags.json").read_text()) == {"cell_names": data.cell_names,
                                                                       "facet_names": data.facet_names}
    with XDMFFile(comm, str(path), "r") as xdmf:
        mesh = xdmf.read_mesh(name="mesh")
        cell_tags = xdmf.read_meshtags(mesh, name="cell_tags")
        mesh.topology.create_entities(2)
        mesh.topology.create_connectivity(2, 3)
        facet_tags = xdmf.read_meshtags(mesh, name="facet_tags")

    def global_counts(tags):
        owned = tags.values[tags.indices < mesh.topology.index_map(tags.dim).size_local]
        values, counts = np.unique(owned, return_counts=True)
        local = dict(zip(values.tolist(), counts.tolist()))
        merged = {}
        for part in comm.allgather(local):
            for value, count in part.items():
                merged[value] = merged.get(value, 0) + count
        return dict(sorted(merged.items()))

    num_cells = mesh.topology.index_map(3).size_global
    cells, facets = global_counts(cell_tags), global_counts(facet_tags)
    assert num_cells == 24 and mesh.topology.cell_name() == "hexahedron"
    assert cells == {0: 18, 85: 6}
    assert facets == {1: 6, 2: 6, 3: 8, 4: 8, 5: 12, 6: 12, interface_tag(0, 85): 6}
    volume = comm.allreduce(fem.assemble_scalar(fem.form(fem.Constant(mesh, 1.0) * ufl.dx(domain=mesh))))
    assert volume == pytest.approx(4e-6 * 6e-6 * 6e-6, rel=1e-12)  # coordinates in metres
    numbers.record("num_cells", num_cells)
    numbers.record("volume", volume)
    numbers.record("cells_per_tag", list(cells.values()))
    numbers.record("facets_per_tag", list(facets.values()))
