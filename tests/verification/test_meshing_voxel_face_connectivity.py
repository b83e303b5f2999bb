"""Face-connected voxel meshes (``voxel_mesh(connectivity="face")``) against the 6-connected labelling.

Oracles:
- hand-made images (vertex counts by hand): two voxels touching along an edge only have 16 mesh vertices
  (two separate cubes), 14 when vertices are shared; at a corner only 16 and 15; the 2x2x2 checkerboard's
  4 voxels of one value 32 (four cubes) and 23 (the 27 grid points less the 4 corners of the other value); an L of 3 face-connected voxels 16 either
  way. The mesh's connected components (graph of cells joined through shared vertices) are the clusters of
  scipy.ndimage.label with its default (6-connected) structure; with "vertex", the 26-connected ones.
- several meshed phases: faces between voxels of two meshed phases keep their nodes (interfaces stay
  conforming): a two-value checkerboard meshed whole has the 27 grid vertices and its 12 interface facets.
- conduction: a staircase of voxels touching only along edges carries no current with "face" (as the finite
  volumes); a face-connected bar with a voxel touching it along an edge conducts as the bar alone
  (D_eff/D0 = its area fraction).
- a 24^3 crop of the NMC image: Q1 on the face-connected mesh lies between the finite volumes (the same
  6-connected clusters, a two-point flux that underestimates) and Q1 on the vertex-connected mesh, and
  closer to the finite volumes; serial and 2 ranks give the same figures.
"""
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from femiec.errors import InputError
from femiec.homogenization import homogenize
from femiec.meshing.tomography import read_image
from femiec.meshing.voxel import interface_tag, voxel_mesh
from mesh_support import mesh_components

NMC = Path(__file__).resolve().parents[3] / "shared" / "data" / "nmc_electrode_256.tiff"
TIGHT = 1e-10


def _image(*voxels, shape=(2, 2, 2), value=1):
    image = np.zeros(shape, dtype=np.uint8)
    for v in voxels:
        image[v] = value
    return image


CHECKER = (np.indices((2, 2, 2)).sum(axis=0) % 2 == 0).astype(np.uint8)
IMAGES = {  # name -> (image, vertices with "face", vertices with "vertex")
    "edge": (_image((0, 0, 0), (1, 1, 0)), 16, 14),
    "corner": (_image((0, 0, 0), (1, 1, 1)), 16, 15),
    "checkerboard": (CHECKER, 32, 23),
    "L": (_image((0, 0, 0), (1, 0, 0), (1, 1, 0)), 16, 16),
    "L and a corner": (_image((0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 1), shape=(2, 2, 3)), 24, 21),
}


def tagged_facets(data) -> list[int]:
    """Global number of owned facets per tag value (sorted by tag)."""
    owned = data.mesh.topology.index_map(2).size_local
    tags = data.facet_tags
    values = tags.values[tags.indices < owned]
    return [data.mesh.comm.allreduce(int(np.sum(values == v))) for v in sorted(set(data.facet_names.values()))]


@pytest.mark.mpi
@pytest.mark.parametrize("partitioner", ["slab", "graph"])
@pytest.mark.parametrize("name", list(IMAGES))
def test_hand_made_images_have_the_six_connected_clusters(name, partitioner, numbers):
    image, face_vertices, vertex_vertices = IMAGES[name]
    face = voxel_mesh(image, [1], connectivity="face", partitioner=partitioner)
    vertex = voxel_mesh(image, [1], partitioner=partitioner)
    assert face.mesh.topology.index_map(0).size_global == face_vertices
    assert vertex.mesh.topology.index_map(0).size_global == vertex_vertices
    assert mesh_components(face.mesh) == ndimage.label(image)[1]
    assert mesh_components(vertex.mesh) == ndimage.label(image, structure=np.ones((3, 3, 3)))[1]
    for a, b in zip(tagged_facets(face), tagged_facets(vertex)):  # the same box faces and interfaces
        assert a == b
    numbers.record("face_vertices", face_vertices)


@pytest.mark.mpi
def test_meshed_phases_stay_conforming_across_their_interfaces(numbers):
    """Two values in a checkerboard, both meshed: every vertex's 8 voxels are face-connected through the
    other value, so nothing splits and the 12 faces between them are interior facets tagged 1|2. With one
    value meshed, its 4 voxels are 4 cubes."""
    two = np.where(CHECKER == 1, 1, 2).astype(np.uint8)
    data = voxel_mesh(two, [1, 2], connectivity="face")
    comm, tdim = data.mesh.comm, 3
    assert data.mesh.topology.index_map(0).size_global == 27
    data.mesh.topology.create_connectivity(tdim - 1, tdim)
    f2c = data.mesh.topology.connectivity(tdim - 1, tdim)
    owned = data.mesh.topology.index_map(tdim - 1).size_local
    facets = data.facet_tags.find(interface_tag(1, 2))
    facets = facets[facets < owned]
    assert comm.allreduce(len(facets)) == 12
    assert all(len(f2c.links(f)) == 2 for f in facets)
    assert mesh_components(data.mesh) == 1
    one = voxel_mesh(two, [1], connectivity="face")
    assert one.mesh.topology.index_map(0).size_global == 32 and mesh_components(one.mesh) == 4
    numbers.record("interface_facets", comm.allreduce(len(facets)))


@pytest.mark.mpi
def test_no_current_through_edge_contacts_and_an_exact_bar(comm, numbers):
    staircase = np.zeros((6, 6, 3), dtype=np.uint8)
    for i in range(6):
        staircase[i, i, 1] = 1
    face = homogenize(staircase, [1], method="fe", comm=comm, rtol=TIGHT, connectivity="face").axes["x"]
    vertex = homogenize(staircase, [1], method="fe", comm=comm, rtol=TIGHT).axes["x"]
    assert face.deff_ratio == 0.0 and vertex.deff_ratio > 0.0
    bar = np.zeros((8, 5, 5), dtype=np.uint8)
    bar[:, 1:3, 2] = 1
    bar[3, 3, 3] = 1  # touches the bar along an edge only: no current with "face"
    axis = homogenize(bar, [1], method="fe", comm=comm, rtol=TIGHT, connectivity="face").axes["x"]
    numbers.record("bar_deff", axis.deff_ratio)
    assert axis.deff_ratio == pytest.approx(2 / 25, rel=1e-9)  # the bar's 2 of 25 voxels per x-plane
    assert axis.spanning_fraction == pytest.approx(16 / 17, rel=1e-12)


def test_bad_connectivity_is_an_input_error():
    with pytest.raises(InputError, match="connectivity"):
        voxel_mesh(CHECKER, [1], connectivity="edge")
    with pytest.raises(InputError, match="connectivity"):
        homogenize(CHECKER, [1], method="fv", connectivity="face")


# serial figures (rtol 1e-10): D_eff/D0 along x of the crop's pore (0) and solid (85, 170) phases
NMC_DEFF = {"pore": {"vertex": 0.18437932413405853, "face": 0.16678252090401666, "fv": 0.13397866913278056},
            "solid": {"vertex": 0.19947360781203777, "face": 0.19416168781520532, "fv": 0.1776433174264169}}


@pytest.mark.mpi
@pytest.mark.parametrize("phase, values", [("pore", [0]), ("solid", [85, 170])])
def test_nmc_crop_face_connected_q1_is_closer_to_fv(comm, numbers, phase, values):
    if not NMC.is_file():
        pytest.skip(f"{NMC} not found")
    crop = read_image(NMC)[100:124, 50:74, 0:24]
    deff = {"vertex": homogenize(crop, values, method="fe", comm=comm, rtol=TIGHT).axes["x"].deff_ratio,
            "face": homogenize(crop, values, method="fe", comm=comm, rtol=TIGHT,
                               connectivity="face").axes["x"].deff_ratio,
            "fv": homogenize(crop, values, method="fv", comm=comm, rtol=TIGHT).axes["x"].deff_ratio}
    for key, value in deff.items():
        numbers.record(f"deff_{key}", value)
    assert deff["fv"] < deff["face"] < deff["vertex"]
    for key, value in NMC_DEFF[phase].items():
        assert deff[key] == pytest.approx(value, rel=1e-7)
