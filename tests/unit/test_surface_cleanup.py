"""Edge collapses of the snapped grid and marching-tetrahedra surfaces (gmsh path of the conforming mesh)."""
import numpy as np
from mpi4py import MPI
import pytest

from femiec.meshing import conforming
from femiec.meshing.conforming_gmsh import region_surfaces
from femiec.meshing.rank_planes import read_rank_planes
from femiec.meshing.surface_cleanup import _strata, collapse_short_edges, surface_triangles, triangle_quality


def snapped_grid(n: int = 10):
    """Snap-and-smooth mesh (unit box) of a sphere of radius 0.3 touching nothing, plus a slab on xmin."""
    c = (np.arange(n) + 0.5) / n
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    image = np.where((x - 0.5) ** 2 + (y - 0.5) ** 2 + (z - 0.5) ** 2 < 0.09, 2, 0).astype(np.uint8)
    image[:2] = 1
    slab = conforming._Slab(MPI.COMM_SELF, np.array(image.shape))
    field = conforming._PhaseField(read_rank_planes(image, MPI.COMM_SELF, None), [0, 1, 2], np.ones(3) / n, 1.0,
                                   slab, np.ones(3))
    return conforming._phase_mesh(field, slab, np.ones(3), True)


def test_collapse_keeps_a_valid_conforming_filling_and_removes_needles():
    x, cells, labels = snapped_grid()
    h = 0.1
    _, planes = _strata(x, cells, labels, np.ones(3))
    q_before = triangle_quality(x, surface_triangles(cells, labels, planes))
    x2, cells2, labels2 = collapse_short_edges(x, cells, labels, np.ones(3), h, 0.02 * h**3 / 6)
    assert len(cells2) < len(cells)
    volumes = conforming._volumes(x2, cells2)
    assert volumes.min() > 0 and volumes.sum() == pytest.approx(1.0, rel=1e-12)
    faces = np.sort(np.concatenate([cells2[:, [1, 2, 3]], cells2[:, [0, 2, 3]], cells2[:, [0, 1, 3]],
                                    cells2[:, [0, 1, 2]]]), axis=1)
    _, count = np.unique(faces, axis=0, return_counts=True)
    assert count.max() == 2  # manifold: a face bounds at most two cells
    q_after = triangle_quality(x2, surface_triangles(cells2, labels2, planes))
    assert q_after.min() >= q_before.min()
    for p in range(3):  # every phase keeps its volume to a fraction of the collapsed cells
        before = conforming._volumes(x, cells[labels == p]).sum()
        assert conforming._volumes(x2, cells2[labels2 == p]).sum() == pytest.approx(before, rel=0.02)


def test_region_surfaces_are_closed_and_shared():
    x, cells, labels = snapped_grid()
    region_phase, surfaces = region_surfaces(x, cells, labels, np.ones(3))
    assert set(region_phase.tolist()) == {0, 1, 2}  # (the matrix may have small face-disconnected pieces)
    assert np.count_nonzero(region_phase == 2) == 1
    for region in range(len(region_phase)):
        triangles = np.concatenate([t for key, t in surfaces.items() if region in key])
        edges = np.sort(np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]), axis=1)
        _, count = np.unique(edges, axis=0, return_counts=True)
        assert np.all(count % 2 == 0)  # watertight: every edge bounds an even number of triangles (2, or 4
        # where the region touches itself along an edge)
    sphere = int(np.flatnonzero(region_phase == 2)[0])
    assert not any(key[1] < 0 for key in surfaces if key[0] == sphere)  # the sphere touches no box face
