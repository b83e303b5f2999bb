"""The resolved electrode on an image read by planes (femiec.problems.electrode_planes): each rank keeps its
x-planes and a halo; the cut-off clusters, the particles, the reactive-area weights and the voltages are
those of the electrode on the whole image."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from femiec.meshing.image_source import open_image
from femiec.meshing.rank_planes import read_rank_planes
from femiec.problems.electrode_case import image_phase_labels
from femiec.problems.electrode_planes import electrode_halo, planes_phase_labels

DEMO = Path(__file__).resolve().parents[2] / "demos" / "nmc_electrode" / "case_12.toml"
IMAGE = DEMO.parents[2].parent / "shared" / "data" / "nmc_electrode_256.tiff"


def _image(shape=(22, 7, 6), seed=3):
    """Pore 0, active 1, conductor 2 at random: many small clusters, some cut off."""
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([0, 1, 2], dtype=np.uint8), size=shape, p=[0.45, 0.4, 0.15])


def test_electrode_halo_is_the_filter_reach():
    """Cubic voxels, sigma = 1 voxel: round(4 sigma) + 2 for the Gaussian and the central differences, + 1
    for the ghost plane; voxels 4 times thinner along x need 4 times the reach there."""
    assert electrode_halo(1e-6) == 7
    assert electrode_halo((0.25e-6, 1e-6, 1e-6)) == 1 + 16 + 2


@pytest.mark.mpi
@pytest.mark.parametrize("faces", [("xmin", "xmax"), ("xmax", "ymin")])
def test_planes_phase_labels_are_the_image_labels(comm, tmp_path_factory, faces):
    """Oracle: image_phase_labels on the whole array (scipy.ndimage.label). Read from a file by planes with
    the electrode's halo, every rank gets the same inert voxels and the same particles on the planes it
    keeps (the same partition, and the same numbering: first voxel in C order); on 2 ranks no rank keeps
    the whole image."""
    tmp = comm.bcast(tmp_path_factory.mktemp("labels") if comm.rank == 0 else None)
    image = _image()
    if comm.rank == 0:
        np.save(tmp / "image.npy", image)
    comm.barrier()
    planes = read_rank_planes(open_image(tmp / "image.npy"), comm, [0, 1, 2], halo=electrode_halo(1e-6))
    lo, hi = planes.held(comm.rank)
    if comm.size > 1:
        assert hi - lo < image.shape[0] and len(planes.data) == hi - lo
    inert, particles = image_phase_labels(image, [0], [1], [2], *faces)
    inert_p, particles_p = planes_phase_labels(planes, comm, [0], [1], [2], *faces)
    assert np.array_equal(inert_p, inert[lo:hi])
    kept = particles[lo:hi] > 0
    assert np.array_equal(particles_p > 0, kept)
    pairs = np.unique(np.stack([particles[lo:hi][kept], particles_p[kept]]), axis=1)
    assert len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]  # a bijection
    assert np.array_equal(particles_p, particles[lo:hi])
    assert inert.any() and particles.max() > 3


def _case(tmp: Path, crop: str):
    """demos/nmc_electrode/case_12.toml on ``crop`` (4 separator planes added in front)."""
    from femiec.config.loader import load_case

    text = DEMO.read_text().replace("crop = [[0, 12], [0, 12], [0, 12]]", f"crop = {crop}")
    text = text.replace('file = "../../../shared/data', f'file = "{DEMO.parents[2].parent}/shared/data')
    (tmp / "case.toml").write_text(text)
    return load_case(tmp / "case.toml")


@pytest.mark.mpi
@pytest.mark.skipif(not IMAGE.is_file(), reason=f"{IMAGE} not found")
def test_electrode_read_by_planes_is_the_whole_image_electrode(comm, tmp_path_factory, numbers):
    """Oracle: the electrode of the same case on the whole image (build_mesh without a halo). Built from the
    image read by planes (the case path: femiec.models.electrode.image_halo), the mesh has the same cells on
    every rank, and the problem the same inert cells, particle labels and reactive-area weights (to
    round-off), and two 60 s steps at 1C the same voltages (1e-10 relative); on 2 ranks no rank keeps the
    whole image."""
    from femiec.models import model_spec
    from femiec.problems.electrode_case import problem_from_section, run_arguments
    from femiec.runner import build_mesh

    tmp = comm.bcast(tmp_path_factory.mktemp("electrode") if comm.rank == 0 else None)
    case = _case(tmp, "[[0, 24], [40, 48], [40, 48]]") if comm.rank == 0 else None
    case = comm.bcast(case)
    halo = model_spec("electrode").image_halo(case.mesh)
    assert halo == 7
    whole = build_mesh(case.mesh, comm)
    planes = build_mesh(case.mesh, comm, halo)
    assert whole.image is not None and whole.planes is None and planes.image is None
    lo, hi = planes.planes.held(comm.rank)
    assert planes.planes.shape == whole.image.shape == (28, 8, 8)
    if comm.size > 1:
        assert hi - lo < planes.planes.shape[0]
    assert np.array_equal(planes.mesh.geometry.x, whole.mesh.geometry.x)
    voltages = {}
    for name, meshdata in (("whole", whole), ("planes", planes)):
        problem = problem_from_section(case.model, meshdata)
        if name == "whole":
            reference = problem
        else:
            assert np.array_equal(problem.phase, reference.phase)
            assert np.array_equal(problem.particle_label, reference.particle_label)
            assert np.array_equal(problem.particle_ids, reference.particle_ids)
            assert np.allclose(problem.face_weights.x.array, reference.face_weights.x.array, rtol=1e-14, atol=0)
        arguments = run_arguments(case.model.discharge, problem)
        arguments.update(t_end=120.0, dt=60.0, dt_max=60.0, error_tolerance=None, dense_output=None)
        problem.run(**arguments)
        voltages[name] = [r.voltage for r in problem.records]
    assert np.allclose(voltages["planes"], voltages["whole"], rtol=1e-10, atol=0)
    numbers.record("voltages", voltages["planes"])
    numbers.record("particles", len(reference.particle_ids))


@pytest.mark.mpi
def test_phase_report_of_planes_is_the_whole_image_report(comm):
    """Oracle: tomography.phase_report of the whole array. From the planes (one halo plane) every rank gets
    the same report: volume fractions, specific surface areas and percolating fractions, exactly."""
    from femiec.meshing.rank_planes import planes_phase_report
    from femiec.meshing.tomography import phase_report

    image = _image((17, 6, 5), seed=8)
    spacing = (1e-6, 2e-6, 0.5e-6)
    names = {0: "pore", 1: "nmc"}
    assert planes_phase_report(read_rank_planes(image[:], comm, None, halo=1), comm, spacing, names) == \
        phase_report(image, spacing, names)
