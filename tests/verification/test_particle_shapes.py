"""Particles of any shape for the ``intercalation_particles`` model (femiec.meshing.particles): ellipsoids
meshed with gmsh and the 6-connected particles of a segmented image on voxel meshes, run from a case file."""
from __future__ import annotations

import json

import dolfinx
import numpy as np
import pytest
import ufl

from femiec.cli import main
from femiec.constants import FARADAY
from femiec.meshing.particles import SURFACE_TAG, ellipsoid_particle, image_particles, watershed_particles
from femiec.problems.base import global_integral

VOXEL = 2e-9


def _image() -> np.ndarray:
    """Three particles of value 1 (4 x 3 x 5 = 60 voxels, an L of 20 voxels, one cut by the border) and a
    particle of value 2 touching the first one only at an edge."""
    image = np.zeros((12, 10, 10), np.uint8)
    image[2:6, 2:5, 2:7] = 1
    image[7:10, 5:8, 3:5] = 1
    image[7:8, 5:7, 5:6] = 1
    image[0:2, 0:2, 0:2] = 1
    image[6:8, 0:2, 7:9] = 2
    return image


def _volume_and_area(data) -> tuple[float, float]:
    one = dolfinx.fem.Constant(data.mesh, 1.0)
    ds = ufl.Measure("ds", data.mesh, subdomain_data=data.facet_tags)
    volume = global_integral(dolfinx.fem.form(one * ufl.dx(data.mesh)), data.comm)
    return volume, global_integral(dolfinx.fem.form(one * ds(SURFACE_TAG)), data.comm)


@pytest.mark.mpi
def test_image_particles_are_the_face_connected_clusters(comm, numbers):
    """Oracle: voxel counting. The particles of value 1 not cut by the border are the 4 x 3 x 5 box (60
    voxels, surface 2 (12 + 20 + 15) = 94 voxel faces) and the L (18 + 2 = 20 voxels: a 3 x 3 x 2 block with a
    1 x 2 x 1 bar on top, 2 (9 + 6 + 6) + 10 - 4 = 48 faces), largest first; the border particle joins with
    keep_border (8 voxels, 24 faces); each mesh's volume and reacting area are those counts times the voxel
    volume and face area to round-off, and its coordinates sit where the voxels are in the image."""
    meshes = image_particles(_image(), 1, VOXEL, comm=comm)
    assert [m.info["voxels"] for m in meshes] == [60, 20]
    for data, voxels, faces in zip(meshes, (60, 20), (94, 48)):
        volume, area = _volume_and_area(data)
        assert volume / VOXEL**3 == pytest.approx(voxels, rel=1e-12, abs=0)
        assert area / VOXEL**2 == pytest.approx(faces, rel=1e-12, abs=0)
        assert data.facet_names == {"surface": SURFACE_TAG} and data.cell_names == {"particle": 1}
        numbers.record(f"area_{voxels}", area / VOXEL**2)
    low = np.min(np.vstack(comm.allgather(meshes[0].mesh.geometry.x)), axis=0)
    assert np.allclose(low, [2 * VOXEL, 2 * VOXEL, 2 * VOXEL], rtol=0, atol=1e-9 * VOXEL)
    every = image_particles(_image(), 1, VOXEL, keep_border=True, comm=comm)
    assert [m.info["voxels"] for m in every] == [60, 20, 8]
    assert [m.info["voxels"] for m in image_particles(_image(), 1, VOXEL, count=1, comm=comm)] == [60]


def test_watershed_splits_touching_spheres_at_their_neck():
    """Oracle: mirror symmetry. Two digital spheres of radius 8 voxels centred at x = 12 and x = 27 (mirror
    images in the plane x = 19.5) overlap in a neck: 6-connected labelling sees one particle, the watershed
    of the distance map two, each holding the voxels of its own sphere up to the neck (every voxel with x <=
    17 in the first, x >= 22 in the second) and equal in size to 1% (ties at the neck may go either way). A
    single sphere stays one particle."""
    x = np.mgrid[0:40, 0:25, 0:25]
    first = (x[0] - 12) ** 2 + (x[1] - 12) ** 2 + (x[2] - 12) ** 2 <= 64
    second = (x[0] - 27) ** 2 + (x[1] - 12) ** 2 + (x[2] - 12) ** 2 <= 64
    labels, count = watershed_particles(first | second, min_radius=3)
    assert count == 2
    a, b = labels[12, 12, 12], labels[27, 12, 12]
    assert a != b and a > 0 and b > 0
    assert np.all(labels[:18][first[:18]] == a) and np.all(labels[22:][second[22:]] == b)
    sizes = np.bincount(labels.ravel())[[a, b]]
    assert sizes[0] + sizes[1] == (first | second).sum()
    assert abs(sizes[0] / sizes[1] - 1) < 1e-2
    assert watershed_particles(first, min_radius=3)[1] == 1


@pytest.mark.mpi
def test_ellipsoid_particle_converges_to_its_volume_and_area(comm, numbers):
    """Oracle: a sphere of radius 10 nm has volume 4/3 pi R^3 and area 4 pi R^2; the tetrahedral mesh's
    errors fall as the mesh is refined (second order for a polyhedral surface: at least 3x per halving),
    and a platelet (20, 20, 5 nm) has volume 4/3 pi a b c within 1%."""
    radius = 1e-8
    errors = []
    for size in (4e-9, 2e-9):
        volume, area = _volume_and_area(ellipsoid_particle([radius] * 3, size, points_per_circle=0, comm=comm))
        errors.append((abs(volume / (4 / 3 * np.pi * radius**3) - 1), abs(area / (4 * np.pi * radius**2) - 1)))
    assert errors[1][0] < errors[0][0] / 3 and errors[1][1] < errors[0][1] / 3
    assert errors[1][0] < 2e-2 and errors[1][1] < 2e-2
    volume, _ = _volume_and_area(ellipsoid_particle([2e-8, 2e-8, 5e-9], 2e-9, comm=comm))
    assert volume / (4 / 3 * np.pi * 2e-8 * 2e-8 * 5e-9) == pytest.approx(1, rel=1e-2, abs=0)
    numbers.record("sphere_volume_error", errors[1][0])
    numbers.record("sphere_area_error", errors[1][1])


CASE = """
[case]
name = "shaped_particles"

[model]
kind = "intercalation_particles"
site_density = 22800.0
interaction_energy = 11157.0
gradient_coefficient = 2.789e-13
diffusivity = 1.0e-14
standard_potential = 3.42
rate_constant = 1.0e-6
scheme = "implicit"
initial = 0.6
initial_spread = 0.002
voltage_min = 3.2
particles = [{ kind = "image", image = "particles.npy", voxel_size = 2e-9, phase = 1 },
             { kind = "ellipsoid", semi_axes = [6e-9, 4e-9, 3e-9], mesh_size = 2e-9 }]
control = { kind = "current", c_rate = 4.0, direction = "lithiation" }

[time]
t_end = 120.0
dt = 20.0
dt_max = 100.0
outputs = 2
"""


@pytest.mark.mpi
def test_shaped_particles_case_runs_end_to_end(tmp_path_factory, comm, numbers):
    """Oracle: the lithium balance. Two image particles (60 and 20 voxels of 2 nm) and an ellipsoid
    (6, 4, 3 nm) lithiated at 4C from c = 0.6: the capacity is F c_max (80 voxel volumes + the ellipsoid
    mesh's volume) to 1e-12, the charge passed equals the applied current times the time (1e-9), and the
    final state of charge equals the initial lithium less charge / F over the capacity (1e-9) at t_end =
    120 s (a few steps: every particle solve is a parallel solve on 2 ranks)."""
    tmp = comm.bcast(tmp_path_factory.mktemp("shaped") if comm.rank == 0 else None)
    if comm.rank == 0:
        np.save(tmp / "particles.npy", _image())
        (tmp / "case.toml").write_text(CASE)
    comm.barrier()
    out = tmp / "out"
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(out)]) == 0
    result = json.loads((out / "summary.json").read_text())["intercalation"]
    ellipsoid, _ = _volume_and_area(ellipsoid_particle([6e-9, 4e-9, 3e-9], 2e-9, comm=comm))
    capacity = FARADAY * 22800.0 * (80 * VOXEL**3 + ellipsoid)
    assert result["particles"] == 3
    assert result["capacity_C"] / capacity == pytest.approx(1, rel=1e-12, abs=0)
    assert result["charge_passed_C"] / (result["applied_current_A"] * result["time_s"]) == pytest.approx(
        1, rel=1e-9, abs=0)
    initial = 0.6 + 0.002 * (np.arange(3) / 2 - 0.5)
    lithium0 = 22800.0 * np.dot(initial, [60 * VOXEL**3, 20 * VOXEL**3, ellipsoid])
    assert result["final_state_of_charge"] == pytest.approx(
        (FARADAY * lithium0 - result["charge_passed_C"]) / capacity, rel=1e-9, abs=0)
    assert result["stop_reason"] == "t_end" and result["time_s"] == pytest.approx(120.0, rel=1e-12)
    numbers.record("final_state_of_charge", result["final_state_of_charge"])


def test_shaped_particle_refusals(tmp_path, capsys):
    """Refused by ``femiec validate``, one line naming the key: an unknown particle kind, more image
    particles than the image holds, a phase without particles, boxes mixed with image particles."""
    np.save(tmp_path / "particles.npy", _image())
    cases = {
        "model.particles[1].kind": CASE.replace('kind = "ellipsoid"', 'kind = "sphere"'),
        "model.particles[0].count": CASE.replace("phase = 1 }", "phase = 1, count = 3 }"),
        "model.particles[0].phase": CASE.replace("phase = 1 }", "phase = 3 }"),
        "model.particles[0].split": CASE.replace("phase = 1 }", 'phase = 1, split = "erode" }'),
        "model.particles[1].kind ": CASE.replace('particles = [{ kind = "image"',
                                                 'particles = [{ lengths = [1e-8], cells = [4] }, { kind = "image"'),
    }
    for key, text in cases.items():
        path = tmp_path / "case.toml"
        path.write_text(text)
        assert main(["validate", str(path)]) == 2, key
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert line.startswith(f"error: {key.strip()}: "), line
