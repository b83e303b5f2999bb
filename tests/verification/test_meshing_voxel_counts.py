"""Verification of the direct voxel mesh against exact voxel counts (serial and 2 ranks).

Oracles (exact by construction of the voxel mesh):
- volume of the cells tagged v = (number of voxels of value v) x dx dy dz;
- area of the facets tagged a|b = sum over axes of (number of faces between voxels a and b normal to that
  axis) x (face area on that axis); box face area = number of meshed voxels touching the face x face area;
- global numbers of cells, vertices (corners of meshed voxels) and tagged facets equal the counts on
  the image; they do not depend on the number of ranks.
"""
from pathlib import Path

import numpy as np
import pytest

from femiec.meshing.base import BOX_FACETS
from femiec.meshing.quality import mesh_statistics
from femiec.meshing.tomography import read_image
from femiec.meshing.voxel import voxel_mesh

NMC = Path(__file__).resolve().parents[3] / "shared" / "data" / "nmc_electrode_256.tiff"
SPACING = np.array([0.4e-6, 0.5e-6, 0.6e-6])


def _expected(image, phases):
    """Counts and measures computed directly on the image (NumPy only)."""
    selected = np.ones(image.shape, bool) if phases is None else np.isin(image, phases)
    face_area = np.array([SPACING[1] * SPACING[2], SPACING[0] * SPACING[2], SPACING[0] * SPACING[1]])
    volumes = {int(v): int((image[selected] == v).sum()) * np.prod(SPACING) for v in np.unique(image[selected])}
    areas, counts = {}, {}
    for axis in range(3):
        lo = np.take(image, range(image.shape[axis] - 1), axis=axis)
        up = np.take(image, range(1, image.shape[axis]), axis=axis)
        s_lo = np.take(selected, range(image.shape[axis] - 1), axis=axis)
        s_up = np.take(selected, range(1, image.shape[axis]), axis=axis)
        unlike = (lo != up) & (s_lo | s_up)
        pairs = np.stack([np.minimum(lo, up)[unlike], np.maximum(lo, up)[unlike]], axis=1)
        for (a, b), n in zip(*np.unique(pairs, axis=0, return_counts=True)):
            key = f"phase{a}|phase{b}"
            areas[key] = areas.get(key, 0.0) + n * face_area[axis]
            counts[key] = counts.get(key, 0) + int(n)
        for side, name in ((0, "min"), (-1, "max")):
            n = int(np.take(selected, side, axis=axis).sum())
            areas["xyz"[axis] + name] = n * face_area[axis]
            counts["xyz"[axis] + name] = n
    padded = np.pad(selected, 1)
    used = np.zeros(np.array(image.shape) + 1, bool)
    for di in (0, 1):
        for dj in (0, 1):
            for dk in (0, 1):
                used |= padded[di : di + used.shape[0], dj : dj + used.shape[1], dk : dk + used.shape[2]]
    return volumes, areas, counts, int(selected.sum()), int(used.sum())


def _check(image, phases, numbers, partitioner="slab"):
    data = voxel_mesh(image, phases, voxel_size=SPACING, partitioner=partitioner)
    stats = mesh_statistics(data, quality=False)
    volumes, areas, counts, num_cells, num_vertices = _expected(image, phases)
    assert stats["num_cells"] == num_cells and stats["num_vertices"] == num_vertices
    for name, value in data.cell_names.items():
        assert stats["volume_per_tag_m3"][name] == pytest.approx(volumes[value], rel=1e-12)
        assert stats["cells_per_tag"][name] == round(volumes[value] / np.prod(SPACING))
    for name in data.facet_names:
        assert stats["area_per_facet_tag_m2"][name] == pytest.approx(areas.get(name, 0.0), rel=1e-12, abs=0)
        assert stats["facets_per_tag"][name] == counts.get(name, 0)
    assert set(data.facet_names) == set(BOX_FACETS) | {k for k in areas if "|" in k}
    numbers.record("num_cells", stats["num_cells"])
    numbers.record("num_vertices", stats["num_vertices"])
    numbers.record("num_facets", stats["num_facets"])
    numbers.record("facets_per_tag", [stats["facets_per_tag"][k] for k in sorted(data.facet_names)])
    numbers.record("volume_per_tag", [stats["volume_per_tag_m3"][k] for k in sorted(data.cell_names)])
    numbers.record("area_per_tag", [stats["area_per_facet_tag_m2"][k] for k in sorted(data.facet_names)])
    return stats


@pytest.fixture(scope="module")
def nmc_crop():
    if not NMC.is_file():
        pytest.skip(f"{NMC} not found")
    return read_image(NMC)[100:124, 50:74, 0:24]


@pytest.mark.mpi
@pytest.mark.parametrize("phases", [None, [0], [85, 170]], ids=["all", "pore", "solid"])
def test_nmc_crop_voxel_mesh_counts(nmc_crop, phases, numbers):
    stats = _check(nmc_crop, phases, numbers)
    assert stats["num_cells"] > 1000


@pytest.mark.mpi
@pytest.mark.parametrize("partitioner", ["slab", "graph"])
def test_random_image_voxel_mesh_counts(partitioner, numbers):
    rng = np.random.default_rng(7)
    image = rng.choice(np.array([0, 1, 2, 5], dtype=np.uint8), size=(9, 7, 8), p=[0.4, 0.3, 0.2, 0.1])
    _check(image, [0, 2, 5], numbers, partitioner)


@pytest.mark.mpi
def test_thin_image_with_more_ranks_than_planes(numbers):
    """Two x-planes only: on 2 ranks one slab is a single plane; counts must still be exact."""
    image = np.zeros((2, 4, 3), dtype=np.uint8)
    image[1, 1:3, :] = 3
    _check(image, None, numbers)


@pytest.mark.mpi
def test_phase_in_one_plane_leaves_a_rank_without_cells(numbers):
    """All meshed voxels in the first x-plane: on 2 ranks the second slab is empty; counts stay exact."""
    image = np.zeros((3, 4, 3), dtype=np.uint8)
    image[0] = 1
    stats = _check(image, [1], numbers)
    assert stats["num_cells"] == 12


def _report_image():
    """8 x 4 x 4 voxels: value 1 fills x >= 4; value 2 is a rod along y at (x, z) = (1, 1) (4 voxels) and
    one isolated voxel (2, 1, 3); value 0 is the rest of x < 4 (59 voxels)."""
    image = np.zeros((8, 4, 4), dtype=np.uint8)
    image[4:] = 1
    image[1, :, 1] = 2
    image[2, 1, 3] = 2
    return image


def _expected_report():
    """Closed forms for _report_image (faces on the outer box are not counted):
    - volume fractions 59/128, 64/128, 5/128;
    - value 1: the 16 faces of the plane x = 4 (normal x): a = 16 dy dz / V = 1 / (8 dx) (V = 128 voxels);
    - value 2: rod 4 voxels x (2 x-faces + 2 z-faces), isolated voxel 2 x + 2 y + 1 z faces (its +z face is
      on the box): a = (10/dx + 2/dy + 9/dz) / 128; value 0 meets both: a = (26/dx + 2/dy + 9/dz) / 128;
    - percolation: 0 and 1 span y and z, not x (1 never reaches x = 0, 0 never x = 7); 2 spans y only,
      with the rod: 4/5 of its voxels."""
    dx, dy, dz = SPACING
    return {
        "pore": (59 / 128, (26 / dx + 2 / dy + 9 / dz) / 128, {"x": 0.0, "y": 1.0, "z": 1.0}),
        "phase1": (64 / 128, 1 / (8 * dx), {"x": 0.0, "y": 1.0, "z": 1.0}),
        "rod": (5 / 128, (10 / dx + 2 / dy + 9 / dz) / 128, {"x": 0.0, "y": 0.8, "z": 0.0}),
    }


def _check_report(report, numbers):
    expected = _expected_report()
    assert sorted(report) == sorted(expected)
    for name, (fraction, surface, percolating) in expected.items():
        assert report[name]["volume_fraction"] == pytest.approx(fraction, rel=1e-14)
        assert report[name]["specific_surface_area_per_m"] == pytest.approx(surface, rel=1e-12)
        assert report[name]["percolating_fraction"] == pytest.approx(percolating, rel=1e-14)
        numbers.record(f"{name}_specific_surface_area", report[name]["specific_surface_area_per_m"])
        numbers.record(f"{name}_percolating_fraction", [report[name]["percolating_fraction"][a] for a in "xyz"])


@pytest.mark.mpi
def test_phase_report_in_mesh_statistics(numbers):
    """Oracle: _expected_report (closed forms). mesh_statistics of a voxel mesh reports every phase of the
    image, meshed (pore, rod) or not (phase1), identically on every rank."""
    data = voxel_mesh(_report_image(), [0, 2], voxel_size=SPACING, phase_names={0: "pore", 2: "rod"})
    report = mesh_statistics(data, quality=False)["phase_report"]
    _check_report(report, numbers)
    assert data.comm.allgather(report) == [report] * data.comm.size


IMAGE_CASE = """
[case]
name = "report"

[mesh]
kind = "image"
file = "image.npy"
phases = {{ pore = 0, rod = 2 }}
voxel_size = [{dx}, {dy}, {dz}]

[materials.m]
conductivity = 1.0

[regions]
pore = "m"
rod = "m"

[model]
kind = "conduction"
boundary = [{{ facet = "ymin", value = 0.0 }}, {{ facet = "ymax", value = 1.0 }}]
"""


@pytest.mark.mpi
def test_phase_report_in_summary_json(tmp_path_factory, comm, numbers):
    """Oracle: _expected_report. `femiec run` on an image case writes the same report to summary.json
    (mesh.statistics.phase_report)."""
    import json
    import textwrap

    from femiec.cli import main

    tmp = comm.bcast(tmp_path_factory.mktemp("report") if comm.rank == 0 else None)
    if comm.rank == 0:
        np.save(tmp / "image.npy", _report_image())
        dx, dy, dz = SPACING
        (tmp / "case.toml").write_text(textwrap.dedent(IMAGE_CASE.format(dx=dx, dy=dy, dz=dz)))
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    report = json.loads((tmp / "out" / "summary.json").read_text())["mesh"]["statistics"]["phase_report"]
    _check_report(report, numbers)
