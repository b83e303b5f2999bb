"""Verification of the gmsh path of the conforming image mesh (``conforming_mesh(..., mesher="gmsh")``).

The convergence of the sphere volume and area (V = 4/3 pi R^3, A = 4 pi R^2) is checked for both
meshers in test_meshing_conforming.py::test_sphere_volume_and_area_converge. Oracles here:
- box faces planar and the surfaces watertight: the phase volumes add up to the box volume exactly;
- cell quality q = V / V_regular(l_rms) (femiec.meshing.quality): gmsh's Delaunay + optimization of the
  volumes gives a larger minimum than the snapped grid (same surfaces, same spacing);
- NMC cathode crop (three touching, percolating phases): phase volumes = voxel counts x voxel volume to
  the sub-voxel accuracy of volume preservation (< 1 %), positive cells, box filled exactly, interface
  areas assembled as dS integrals equal the facet sums on any number of ranks.
"""
import numpy as np
import pytest
from test_meshing_conforming import L, NMC_NAMES, interface_integral, min_signed_volume, nmc_crop, voxel_sphere

from femiec.errors import InputError
from femiec.meshing.conforming import conforming_mesh
from femiec.meshing.quality import mesh_statistics, poor_cell_fraction


@pytest.mark.mpi
@pytest.mark.parametrize("case", ["sphere24", "nmc16"])
def test_gmsh_cells_better_than_snapped_grid(numbers, case):
    """Same image, same spacing and interfaces: quality of the grid path and of the gmsh path.

    gmsh's cells away from the surfaces are near-regular, so the fraction of poor cells (q < 0.1) drops
    and the mean rises. The smallest q is not asserted: in both paths it is a sliver whose four vertices
    lie on the (same) snapped surfaces (gmsh keeps the surface triangles), recorded for the docs.
    """
    if case == "sphere24":
        image, dx, kwargs = voxel_sphere(24), L / 24, {"mesh_size": 1.5 * L / 24, "preserve_volume": False}
    else:
        image, dx, kwargs = nmc_crop(16), 0.4e-6, {"phase_names": NMC_NAMES}
    quality = {}
    for mesher in ("grid", "gmsh"):
        data = conforming_mesh(image, voxel_size=dx, mesher=mesher, **kwargs)
        stats = mesh_statistics(data, quality=True)
        quality[mesher] = [stats["min_cell_quality"], stats["mean_cell_quality"], poor_cell_fraction(data.mesh)]
    grid, gmsh = quality["grid"], quality["gmsh"]
    assert gmsh[1] > 0.99 * grid[1]  # mean quality
    assert gmsh[2] < 0.5 * grid[2]  # fraction of cells with q < 0.1
    numbers.record("grid_min_mean_quality_fraction_below_0.1", grid)
    numbers.record("gmsh_min_mean_quality_fraction_below_0.1", gmsh)


@pytest.mark.mpi
def test_gmsh_nmc_crop_three_touching_phases(numbers):
    """16^3 crop of the NMC cathode: every phase crosses the box faces and touches the two others."""
    image = nmc_crop(16)
    dx = 0.4e-6
    data = conforming_mesh(image, voxel_size=dx, phase_names=NMC_NAMES, mesher="gmsh")
    stats = mesh_statistics(data, quality=True)
    assert data.cell_names == {"pore": 0, "nmc": 85, "cbd": 170}
    assert set(data.facet_names) == {"pore|nmc", "pore|cbd", "nmc|cbd", "xmin", "xmax", "ymin", "ymax", "zmin",
                                     "zmax"}
    assert data.facet_tag("nmc|cbd") == 1000 + 256 * 85 + 170
    assert min_signed_volume(data) > 0
    assert stats["total_volume_m3"] == pytest.approx((16 * dx) ** 3, rel=1e-10)
    for face in ("xmin", "ymax", "zmax"):
        assert stats["area_per_facet_tag_m2"][face] == pytest.approx((16 * dx) ** 2, rel=1e-12)
    deviation = {name: stats["volume_per_tag_m3"][name] / (np.count_nonzero(image == v) * dx**3) - 1
                 for v, name in NMC_NAMES.items()}
    assert max(abs(d) for d in deviation.values()) < 0.01
    interfaces = sorted(k for k in data.facet_names if "|" in k)
    for name in interfaces:  # interior-facet integrals work on any number of ranks (shared-facet ghosts)
        assert interface_integral(data, name) == pytest.approx(stats["area_per_facet_tag_m2"][name], rel=1e-10)
    numbers.record("cells", stats["num_cells"])
    numbers.record("volume_deviation_vs_voxels_pore_nmc_cbd", list(deviation.values()))
    numbers.record("interface_areas_m2", [stats["area_per_facet_tag_m2"][k] for k in interfaces])
    numbers.record("min_mean_cell_quality", [stats["min_cell_quality"], stats["mean_cell_quality"]])


@pytest.mark.mpi
def test_gmsh_grading_coarsens_inside_the_phases(numbers):
    """max_size > mesh_size: fewer cells, same interfaces (the surface triangles are kept)."""
    n = 16
    counts, areas = [], []
    for max_size in (None, 4 * L / n):
        data = conforming_mesh(voxel_sphere(n), voxel_size=L / n, preserve_volume=False, mesher="gmsh",
                               max_size=max_size)
        stats = mesh_statistics(data, quality=False)
        counts.append(stats["num_cells"])
        areas.append(stats["area_per_facet_tag_m2"]["phase0|phase2"])
        assert sum(stats["volume_per_tag_m3"].values()) == pytest.approx(L**3, rel=1e-12)
    assert counts[1] < 0.8 * counts[0]
    assert areas[1] == pytest.approx(areas[0], rel=1e-12)
    numbers.record("cells_uniform_graded", counts)


def test_gmsh_bad_input_is_one_line_error():
    with pytest.raises(InputError, match="mesher"):
        conforming_mesh(voxel_sphere(6), mesher="tetgen")
    with pytest.raises(InputError, match="max_size"):
        conforming_mesh(voxel_sphere(6), mesher="gmsh", max_size=-1.0)
