"""``[mesh] kind = "image"`` with ``mesher = "conforming"``: the keys of each mesher, the phases it needs,
the mesh it builds from a case file and the facet-connected cell clusters the electrode labels it with."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.config import parse_case
from femiec.errors import InputError

MODEL = {"kind": "conduction", "boundary": [{"facet": "xmin", "value": 0.0}, {"facet": "xmax", "value": 1.0}]}


def _image(tmp_path, comm=None):
    """6^3 image: value 0 for x < 3 voxels, 7 beyond (two slabs), one file for all ranks."""
    image = np.zeros((6, 6, 6), dtype=np.uint8)
    image[3:] = 7
    path = tmp_path / "image.npy"
    if comm is None or comm.rank == 0:
        np.save(path, image)
    if comm is not None:
        comm.barrier()
    return path


def _mesh(path, **keys):
    return {"kind": "image", "file": str(path), "phases": {"a": 0, "b": 7}, "voxel_size": 1e-6, **keys}


@pytest.mark.parametrize("keys, message", [
    ({"mesher": "tets"}, "mesh.mesher: 'tets' (expected 'voxel' or 'conforming')"),
    ({"mesh_size": 2.0}, "mesh.mesh_size: 2.0 (expected no 'mesh_size' with mesher = 'voxel'"),
    ({"smoothing": 0.5}, "mesh.smoothing: 0.5 (expected no 'smoothing' with mesher = 'voxel'"),
    ({"mesher": "conforming", "connectivity": "face"},
     "mesh.connectivity: 'face' (expected no 'connectivity' with mesher = 'conforming'"),
    ({"mesher": "conforming", "percolating_axis": "x"},
     "mesh.percolating_axis: 'x' (expected no 'percolating_axis' with mesher = 'conforming'"),
    ({"mesher": "conforming", "max_size": 3.0}, "mesh.max_size: 3.0 (expected no 'max_size' with backend = 'grid'"),
    ({"mesher": "conforming", "smoothing": -1.0}, "mesh.smoothing: -1.0 (expected a number >= 0"),
    ({"mesher": "conforming", "mesh_size": 0.0}, "mesh.mesh_size: 0.0 (expected a positive number"),
    ({"mesher": "conforming", "backend": "tetgen"}, "mesh.backend: 'tetgen' (expected 'grid' or 'gmsh')"),
])
def test_keys_of_the_other_mesher_are_refused(tmp_path, keys, message):
    with pytest.raises(InputError) as err:
        parse_case({"mesh": _mesh(_image(tmp_path), **keys), "model": MODEL})
    assert str(err.value).startswith(message), str(err.value)


@pytest.mark.mpi
def test_conforming_case_mesh_has_the_voxel_mesh_tag_names(tmp_path_factory, comm, numbers):
    """The same section with only ``mesher`` changed gives the voxel mesh's cell names, box faces and
    interface name; a planar interface between two slabs stays planar, so each phase volume equals its
    voxel count x voxel volume (to 1e-9) and the interface area is the box cross-section (to 1e-9); an
    unnamed image value is refused by the build and by validate's outline (one line, every rank)."""
    from femiec.meshing.image_outline import outline_image_mesh
    from femiec.meshing.quality import mesh_statistics
    from femiec.runner import build_mesh

    tmp = comm.bcast(tmp_path_factory.mktemp("conforming") if comm.rank == 0 else None)
    path = _image(tmp, comm)
    voxel = build_mesh(parse_case({"mesh": _mesh(path), "model": MODEL}).mesh, comm)
    section = parse_case({"mesh": _mesh(path, mesher="conforming"), "model": MODEL}).mesh
    data = build_mesh(section, comm)
    assert data.cell_names == voxel.cell_names == {"a": 0, "b": 7}
    assert set(data.facet_names) == set(voxel.facet_names) == {"xmin", "xmax", "ymin", "ymax", "zmin", "zmax", "a|b"}
    assert data.mesh.topology.cell_name() == "tetrahedron" and not data.from_image
    stats = mesh_statistics(data)
    for name in ("a", "b"):
        assert stats["volume_per_tag_m3"][name] == pytest.approx(108e-18, rel=1e-9)
    assert stats["area_per_facet_tag_m2"]["a|b"] == pytest.approx(36e-12, rel=1e-9)
    outline = outline_image_mesh(section, comm)
    assert not outline.from_image and set(outline.facet_names) == set(data.facet_names)
    numbers.record("cells", stats["num_cells"])
    lone = parse_case({"mesh": {**_mesh(path, mesher="conforming"), "phases": {"a": 0}}, "model": MODEL}).mesh
    for build in (build_mesh, outline_image_mesh):
        with pytest.raises(InputError, match=r"mesh.phases: \['a'\] \(expected a name for every image value .*\[7\]"):
            build(lone, comm)


@pytest.mark.mpi
def test_cell_components_are_the_same_on_every_rank(comm, numbers):
    """Cells of x < 1/4 and of x > 1/2 of a 8x4x4 hexahedral box (two slabs apart): exactly two components
    whose ids are the smallest global index of their cells, identical on owned and ghost cells of every
    rank (oracle: the slabs by construction); cells outside the mask get -1."""
    from mpi4py import MPI

    from femiec.meshing.box import box_mesh
    from femiec.meshing.cell_components import cell_components, global_ids

    data = box_mesh([2.0, 1.0, 1.0], [8, 4, 4], cell_type="hexahedron", comm=comm)
    mesh = data.mesh
    imap = mesh.topology.index_map(3)
    local = np.arange(imap.size_local + imap.num_ghosts, dtype=np.int32)
    x = mesh.geometry.x[mesh.geometry.dofmap[local]].mean(axis=1)[:, 0]
    mask = (x < 0.5) | (x > 1.0)
    ids = cell_components(mesh, mask)
    assert np.all(ids[~mask] == -1)
    found = global_ids(comm, ids[mask])
    assert len(found) == 2
    index = imap.local_to_global(local)
    for left in (True, False):
        cells = mask & ((x < 0.5) == left)
        smallest = comm.allreduce(int(index[cells].min()) if cells.any() else 1 << 62, op=MPI.MIN)
        assert np.all(ids[cells] == smallest)
    numbers.record("components", len(found))


@pytest.mark.mpi
def test_electrode_clusters_on_a_staircase_conforming_mesh_match_the_voxel_labels(comm, numbers):
    """8x6x6 image: pore (0) with two active (1) blocks on the collector face xmax, a floating active block
    and a pore pocket closed inside one block. Meshed by the conforming mesher with smoothing = 0 (every
    tetrahedron takes the voxel of its centroid; tetrahedra of face-sharing voxels share facets, of edge-
    or corner-sharing voxels do not), the mesh's facet-connected clusters are the image's 6-connected
    ones. Oracle: electrode_case.image_phase_labels on the image, read at each cell's voxel: the same
    inert cells (the floating block and the pocket) and the same two particles up to their numbering."""
    from femiec.meshing.conforming import conforming_mesh
    from femiec.problems.electrode_case import cell_voxel_values, image_phase_labels
    from femiec.problems.electrode_clusters import mesh_phase_labels

    image = np.zeros((8, 6, 6), dtype=np.uint8)
    image[4:, 0:3, 0:3] = 1  # particle on the collector
    image[5, 1, 1] = 0  # a pore pocket closed inside it
    image[4:, 4:, 4:] = 1  # a second particle on the collector
    image[1:3, 4:, 0:2] = 1  # a floating block
    data = conforming_mesh(image, voxel_size=1e-6, smoothing=0.0, phase_names={0: "pore", 1: "nmc"}, comm=comm)
    inert, particles = mesh_phase_labels(data, [0], [1], [], ["xmin"], ["xmax"])
    inert_voxels, particle_voxels = image_phase_labels(image, [0], [1], [], "xmin", "xmax")
    assert np.array_equal(inert, cell_voxel_values(data, inert_voxels))
    voxel_labels = cell_voxel_values(data, particle_voxels)
    pairs = set().union(*comm.allgather(set(zip(particles.tolist(), voxel_labels.tolist()))))
    assert pairs == {(0, 0), (1, 1), (2, 2)} or pairs == {(0, 0), (1, 2), (2, 1)}
    numbers.record("inert_cells", comm.allreduce(int(inert[: data.mesh.topology.index_map(3).size_local].sum())))
