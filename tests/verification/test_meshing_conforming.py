"""Verification of the conforming ("snap and smooth") tetrahedral image mesh.

Oracles:
- sphere of radius R = 0.3 L in a cube of side L voxelized on n^3 voxels (voxel in the sphere when its
  centre is): V = 4/3 pi R^3, A = 4 pi R^2, matrix + sphere = L^3 exactly. Without volume preservation
  the Gaussian smoothing (1 voxel) moves the level set inward by about sigma^2 h^2 / R, so the errors
  should fall like h^2 until the voxelization noise (about 1 %) dominates;
- no smoothing on the voxel grid: every tetrahedron lies in one voxel, so the phase volumes are the
  voxel counts x voxel volume and the interface areas the counts of unlike voxel faces x face area,
  exactly (as for the voxel mesh);
- any image: the tetrahedra fill the box (total volume = box volume) with positive orientation; with
  volume preservation each phase keeps its voxel volume up to the sub-voxel accuracy of the snapped
  interfaces (measured on the NMC cathode crop, docs/meshing.md).
"""
import math
from pathlib import Path

import numpy as np
import pytest

from femiec.errors import InputError
from femiec.meshing.conforming import conforming_mesh
from femiec.meshing.quality import mesh_statistics
from femiec.meshing.tomography import read_image

L, R = 1e-5, 0.3e-5
NMC = Path(__file__).resolve().parents[3] / "shared" / "data" / "nmc_electrode_256.tiff"
NMC_NAMES = {0: "pore", 85: "nmc", 170: "cbd"}


def voxel_sphere(n: int, value: int = 2) -> np.ndarray:
    c = (np.arange(n) + 0.5) / n
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    return np.where((x - 0.5) ** 2 + (y - 0.5) ** 2 + (z - 0.5) ** 2 < (R / L) ** 2, value, 0).astype(np.uint8)


def nmc_crop(n: int) -> np.ndarray:
    if not NMC.exists():
        pytest.skip(f"{NMC} not available")
    return read_image(NMC)[:n, :n, :n]


def min_signed_volume(data) -> float:
    """Smallest signed volume (m^3) of the owned cells, in the vertex order of the input cells."""
    from mpi4py import MPI

    mesh = data.mesh
    x = mesh.geometry.x[mesh.geometry.dofmap[: mesh.topology.index_map(3).size_local]]
    e = x[:, 1:] - x[:, :1]
    local = np.einsum("ij,ij->i", e[:, 0], np.cross(e[:, 1], e[:, 2])).min(initial=np.inf) / 6
    return mesh.comm.allreduce(local, op=MPI.MIN)


def interface_integral(data, name: str) -> float:
    """Area of interface ``name`` (m^2) assembled as an interior-facet integral of 1."""
    import ufl
    from dolfinx import fem
    from mpi4py import MPI

    dS = ufl.Measure("dS", domain=data.mesh, subdomain_data=data.facet_tags)
    form = fem.form(fem.Constant(data.mesh, 1.0) * dS(data.facet_tag(name)))
    return data.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)


@pytest.mark.mpi
@pytest.mark.parametrize("mesher", ["grid", "gmsh"])
def test_sphere_volume_and_area_converge(numbers, mesher):
    """Both meshers have the same interfaces (gmsh keeps the snapped surface triangles, up to edge
    collapses): volume and area errors fall like h^2 (order >= 1.5 asserted)."""
    errors = []
    for n in (12, 24):
        data = conforming_mesh(voxel_sphere(n), voxel_size=L / n, mesh_size=1.5 * L / n, preserve_volume=False,
                               mesher=mesher)
        stats = mesh_statistics(data, quality=False)
        assert data.cell_names == {"phase0": 0, "phase2": 2}
        assert sum(stats["volume_per_tag_m3"].values()) == pytest.approx(L**3, rel=1e-12)
        assert stats["area_per_facet_tag_m2"]["xmin"] == pytest.approx(L**2, rel=1e-12)
        errors.append([stats["volume_per_tag_m3"]["phase2"] / (4 / 3 * math.pi * R**3) - 1,
                       stats["area_per_facet_tag_m2"]["phase0|phase2"] / (4 * math.pi * R**2) - 1])
    errors = np.abs(errors)
    order = np.log2(errors[0] / errors[1])
    assert np.all(errors[1] < 0.1) and np.all(order > 1.5)
    numbers.record("relative_errors_n12_n24", errors)
    numbers.record("observed_order", order)


@pytest.mark.mpi
def test_sphere_with_volume_preservation(numbers):
    n = 24
    image = voxel_sphere(n)
    data = conforming_mesh(image, voxel_size=L / n, mesh_size=1.5 * L / n)
    stats = mesh_statistics(data, quality=False)
    voxel_volume = np.count_nonzero(image) * (L / n) ** 3
    errors = [stats["volume_per_tag_m3"]["phase2"] / voxel_volume - 1,
              stats["area_per_facet_tag_m2"]["phase0|phase2"] / (4 * math.pi * R**2) - 1]
    assert abs(errors[0]) < 0.02 and abs(errors[1]) < 0.02
    numbers.record("relative_errors_volume_vs_voxels_area_vs_sphere", errors)


@pytest.mark.mpi
def test_nmc_crop_three_touching_phases(numbers):
    """16^3 crop of the NMC cathode: every phase crosses the box faces and touches the two others."""
    image = nmc_crop(16)
    dx = 0.4e-6
    data = conforming_mesh(image, voxel_size=dx, phase_names=NMC_NAMES)
    stats = mesh_statistics(data, quality=True)
    assert data.cell_names == {"pore": 0, "nmc": 85, "cbd": 170}
    assert {"pore|nmc", "pore|cbd", "nmc|cbd"} <= set(data.facet_names)
    assert set(data.facet_names) >= {"xmin", "xmax", "ymin", "ymax", "zmin", "zmax"}
    assert min_signed_volume(data) > 0
    assert stats["total_volume_m3"] == pytest.approx((16 * dx) ** 3, rel=1e-10)
    deviation = {name: stats["volume_per_tag_m3"][name] / (np.count_nonzero(image == v) * dx**3) - 1
                 for v, name in NMC_NAMES.items()}
    assert max(abs(d) for d in deviation.values()) < 0.03
    for face in ("xmin", "ymax", "zmax"):
        assert stats["area_per_facet_tag_m2"][face] == pytest.approx((16 * dx) ** 2, rel=1e-12)
    numbers.record("cells", stats["num_cells"])
    interfaces = sorted(k for k in data.facet_names if "|" in k)
    for name in interfaces:  # interior-facet integrals work on any number of ranks (shared-facet ghosts)
        assert interface_integral(data, name) == pytest.approx(stats["area_per_facet_tag_m2"][name], rel=1e-10)
    numbers.record("facets_per_tag", [stats["facets_per_tag"][k] for k in sorted(data.facet_names)])
    numbers.record("volume_deviation_vs_voxels_pore_nmc_cbd", list(deviation.values()))
    numbers.record("interface_areas_m2", [stats["area_per_facet_tag_m2"][k] for k in interfaces])
    numbers.record("min_cell_quality", stats["min_cell_quality"])


@pytest.mark.mpi
def test_no_smoothing_gives_voxel_volumes_and_face_counts(numbers):
    image = nmc_crop(8)
    dx = 1e-6
    data = conforming_mesh(image, voxel_size=dx, smoothing=0.0, phase_names=NMC_NAMES)
    stats = mesh_statistics(data, quality=False)
    for v, name in NMC_NAMES.items():
        assert stats["volume_per_tag_m3"][name] == pytest.approx(np.count_nonzero(image == v) * dx**3, rel=1e-12)
    for a, b in (("pore", "nmc"), ("pore", "cbd"), ("nmc", "cbd")):
        va, vb = data.cell_names[a], data.cell_names[b]
        faces = sum(np.count_nonzero((np.take(image, range(7), axis=k) == va) & (np.take(image, range(1, 8), axis=k) == vb))
                    + np.count_nonzero((np.take(image, range(7), axis=k) == vb) & (np.take(image, range(1, 8), axis=k) == va))
                    for k in range(3))
        assert stats["area_per_facet_tag_m2"][f"{a}|{b}"] == pytest.approx(faces * dx**2, rel=1e-12)
    numbers.record("facets_per_tag", [stats["facets_per_tag"][k] for k in sorted(data.facet_names)])


def test_bad_input_is_one_line_error():
    with pytest.raises(InputError, match="smoothing"):
        conforming_mesh(voxel_sphere(6), smoothing=-1.0)
    with pytest.raises(InputError, match="mesh_size"):
        conforming_mesh(voxel_sphere(6), mesh_size=0.0)
    with pytest.raises(InputError, match="3D array"):
        conforming_mesh(np.zeros((4, 4), dtype=np.uint8))
