"""Verification of the conforming (marching cubes + gmsh) image mesh on a voxelized sphere in a box.

Oracle: sphere of radius R = 0.3 L in a cube of side L voxelized on n^3 voxels (voxel in the sphere when
its centre is): V = 4/3 pi R^3, A = 4 pi R^2, matrix + sphere = L^3 exactly. The Gaussian smoothing
(1 voxel) moves the level set inward by about sigma^2 h^2 / R, so the error should fall like h^2 until
the voxelization noise (about 1 % at n = 48..64, measured, see docs/meshing.md) dominates.
"""
import math

import numpy as np
import pytest

from femiec.errors import InputError
from femiec.meshing.conforming import conforming_mesh
from femiec.meshing.quality import mesh_statistics

L, R = 1e-5, 0.3e-5


def voxel_sphere(n: int, value: int = 2) -> np.ndarray:
    c = (np.arange(n) + 0.5) / n
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    return np.where((x - 0.5) ** 2 + (y - 0.5) ** 2 + (z - 0.5) ** 2 < (R / L) ** 2, value, 0).astype(np.uint8)


@pytest.mark.mpi
def test_sphere_volume_and_area_converge(numbers):
    errors = []
    for n in (12, 24):
        data = conforming_mesh(voxel_sphere(n), voxel_size=L / n, mesh_size=1.5 * L / n)
        stats = mesh_statistics(data, quality=False)
        assert data.cell_names == {"phase0": 0, "phase2": 2}
        assert sum(stats["volume_per_tag_m3"].values()) == pytest.approx(L**3, rel=1e-12)
        assert stats["area_per_facet_tag_m2"]["xmin"] == pytest.approx(L**2, rel=1e-12)
        errors.append([stats["volume_per_tag_m3"]["phase2"] / (4 / 3 * math.pi * R**3) - 1,
                       stats["area_per_facet_tag_m2"]["phase0|phase2"] / (4 * math.pi * R**2) - 1])
    errors = np.abs(errors)
    order = np.log2(errors[0] / errors[1])
    assert np.all(errors[1] < 0.1) and np.all(order > 1.3)
    numbers.record("relative_errors_n12_n24", errors)
    numbers.record("observed_order", order)


@pytest.mark.mpi
def test_two_inclusion_phases_get_their_tags(numbers):
    image = np.zeros((16, 12, 12), dtype=np.uint8)
    image[3:7, 3:8, 3:8] = 85
    image[10:14, 4:9, 4:9] = 170
    data = conforming_mesh(image, voxel_size=1e-6, phase_names={0: "pore", 85: "nmc", 170: "cbd"})
    stats = mesh_statistics(data, quality=False)
    assert data.cell_names == {"pore": 0, "nmc": 85, "cbd": 170}
    assert {"pore|nmc", "pore|cbd"} <= set(data.facet_names)
    assert set(np.unique(data.cell_tags.values)) <= {0, 85, 170}
    volumes = [stats["volume_per_tag_m3"][n] for n in ("nmc", "cbd")]
    # Small boxes smoothed by 1 voxel lose edges and corners: about half the voxel volume remains.
    assert 0.3 * 100e-18 < volumes[0] < 100e-18 and 0.3 * 100e-18 < volumes[1] < 100e-18
    numbers.record("volumes", volumes)


def test_unsupported_images_are_one_line_errors():
    touching = np.zeros((8, 8, 8), dtype=np.uint8)
    touching[0:3, 2:5, 2:5] = 1
    with pytest.raises(InputError, match="one matrix phase"):
        conforming_mesh(touching)
    contact = np.zeros((10, 10, 10), dtype=np.uint8)
    contact[2:5, 2:5, 2:5] = 1
    contact[5:7, 2:5, 2:5] = 2
    with pytest.raises(InputError, match="in contact"):
        conforming_mesh(contact)
    with pytest.raises(InputError, match="inclusion"):
        conforming_mesh(np.zeros((4, 4, 4), dtype=np.uint8))
