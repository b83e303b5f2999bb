"""Unit tests of femiec.meshing.tomography: readers, segmentation helpers, phase analysis, bad input."""
import numpy as np
import pytest
import tifffile

from femiec.errors import InputError
from femiec.meshing import tomography as tomo


@pytest.fixture
def image():
    rng = np.random.default_rng(3)
    return rng.choice(np.array([0, 85, 170], dtype=np.uint8), size=(6, 5, 4))


def test_read_tiff_npy_raw_vti_round_trip(tmp_path, image):
    tifffile.imwrite(tmp_path / "a.tiff", image)
    np.save(tmp_path / "a.npy", image)
    image.tofile(tmp_path / "a.raw")
    image.ravel(order="F").tofile(tmp_path / "f.raw")
    assert np.array_equal(tomo.read_image(tmp_path / "a.tiff"), image)
    assert np.array_equal(tomo.read_image(tmp_path / "a.npy"), image)
    assert np.array_equal(tomo.read_image(tmp_path / "a.raw", shape=image.shape, dtype="uint8"), image)
    assert np.array_equal(tomo.read_image(tmp_path / "f.raw", image.shape, np.uint8, order="F"), image)
    pytest.importorskip("vtk")
    tomo.write_vti(image, tmp_path / "a.vti", voxel_size=1e-6)
    assert np.array_equal(tomo.read_image(tmp_path / "a.vti"), image)


def _error_on_every_rank(comm, function, *args, **kwargs) -> InputError:
    """Call ``function``; assert that it raises InputError with the same one-line message on every rank."""
    try:
        function(*args, **kwargs)
        error = None
    except InputError as exc:
        error = exc
    messages = comm.allgather(None if error is None else str(error))
    assert messages[0] is not None and all(m == messages[0] for m in messages), messages
    assert "\n" not in messages[0]
    return error


@pytest.mark.mpi
def test_raw_of_wrong_size_is_one_line_error(tmp_path_factory, comm, image):
    tmp = comm.bcast(tmp_path_factory.mktemp("raw") if comm.rank == 0 else None)
    if comm.rank == 0:
        image.tofile(tmp / "a.raw")
    comm.barrier()
    error = _error_on_every_rank(comm, tomo.read_image, tmp / "a.raw", shape=(6, 5, 5), dtype="uint8")
    assert error.key == "size of a.raw" and "120 bytes" in str(error) and "150 bytes" in str(error)
    assert "shape" in str(_error_on_every_rank(comm, tomo.read_image, tmp / "a.raw"))
    assert "existing file" in str(_error_on_every_rank(comm, tomo.read_image, tmp / "missing.tiff"))


def test_threshold_otsu_remap_crop_downsample():
    grey = np.linspace(0.0, 1.0, 64).reshape(4, 4, 4)
    seg = tomo.threshold(grey, [0.25, 0.75], [0, 85, 170])
    assert set(np.unique(seg)) == {0, 85, 170} and seg.dtype == np.uint8
    two = tomo.otsu(grey)
    assert two.min() == 0 and two.max() == 1 and abs(two.mean() - 0.5) < 0.1
    assert np.array_equal(np.unique(tomo.remap_labels(seg, {85: 1, 170: 2})), [0, 1, 2])
    assert tomo.crop(seg, (1, 0, 0), (3, 4, 2)).shape == (2, 4, 2)
    blocks = np.kron(np.array([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], dtype=np.uint8), np.ones((2, 2, 2), np.uint8))
    blocks[0, 0, 0] = 9  # one outlier per block does not change the majority
    assert np.array_equal(tomo.downsample(blocks, 2), np.arange(1, 9).reshape(2, 2, 2))
    with pytest.raises(InputError):
        tomo.threshold(grey, [0.5, 0.2])
    with pytest.raises(InputError):
        tomo.crop(seg, (0, 0, 0), (5, 4, 4))
    with pytest.raises(InputError):
        tomo.remap_labels(seg, {7: 1})


def test_volume_fraction_and_specific_surface_of_a_half_split_box():
    """Two slabs along x (n = 4 voxels each of size h): eps = 1/2, one interface of area (ny h)(nz h) in a
    volume 8 ny nz h^3 -> a = 1/(8 h)."""
    image = np.zeros((8, 3, 5), dtype=np.uint8)
    image[4:] = 1
    h = 2e-6
    assert tomo.volume_fraction(image, 1) == 0.5
    assert tomo.specific_surface_area(image, 1, voxel_size=h) == pytest.approx(1 / (8 * h), rel=1e-14)
    assert tomo.unlike_face_counts(image).tolist() == [15, 0, 0]


@pytest.mark.mpi
def test_percolation_and_bad_phase(comm):
    image = np.zeros((6, 6, 6), dtype=np.uint8)
    image[:, 2, 2] = 1  # a rod along x: percolates along x only
    image[1:3, 4, 4] = 1  # an isolated blob
    assert tomo.percolating_fraction(image, 1, "x") == pytest.approx(6 / 8)
    assert tomo.percolating_fraction(image, 1, "y") == 0.0
    assert tomo.keep_percolating(image == 1, 0).sum() == 6
    error = _error_on_every_rank(comm, tomo.keep_percolating, image == 1, "z", phase=1)
    assert error.key == "phase" and error.value == 1
    assert str(error) == "phase: 1 (expected a 6-connected cluster of its 8 voxels connecting the faces zmin and zmax)"
    assert _error_on_every_rank(comm, tomo.keep_percolating, image == 1, "y", phase=[1]).value == 1
    assert str(_error_on_every_rank(comm, tomo.keep_percolating, image == 1, 2)).startswith("phase: '8 voxels' (")
    error = _error_on_every_rank(comm, tomo.volume_fraction, image, 7)
    assert error.key == "phase" and error.value == 7
    report = tomo.phase_report(image, 1e-6, names={1: "rod"})
    assert report["rod"]["percolating_fraction"] == pytest.approx({"x": 0.75, "y": 0.0, "z": 0.0})
    assert report["phase0"]["volume_fraction"] == pytest.approx(1 - 8 / 216)
    assert report["phase0"]["percolating_fraction"] == {"x": 1.0, "y": 1.0, "z": 1.0}


def test_pad_face_adds_a_constant_layer_on_the_named_face():
    """pad_face puts `voxels` layers of `value` before (min faces) or after (max faces) the image along the
    face's axis (x = first array axis) and refuses a value outside the image type with a one-line error."""
    image = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    padded = tomo.pad_face(image, "xmin", 2, 255)
    assert padded.shape == (4, 3, 4) and np.all(padded[:2] == 255) and np.array_equal(padded[2:], image)
    padded = tomo.pad_face(image, "zmax", 1, 7)
    assert padded.shape == (2, 3, 5) and np.all(padded[:, :, 4] == 7) and np.array_equal(padded[:, :, :4], image)
    assert padded.dtype == np.uint8
    with pytest.raises(InputError, match=r"pad.value: 256 \(expected a value of the image type uint8 \(0..255\)\)"):
        tomo.pad_face(image, "ymin", 1, 256)
    with pytest.raises(InputError, match=r"pad.face: 'top'"):
        tomo.pad_face(image, "top", 1, 0)
    with pytest.raises(InputError, match=r"pad.voxels: 0"):
        tomo.pad_face(image, "xmax", 0, 0)


def test_chord_lengths_of_slabs_and_channels():
    """Parallel pore slabs of width w = 3 voxels (period 7, three whole periods starting in the solid):
    chords w along x and none along y, z (inf); square channels of side w along z: w along x and y.
    Closed forms, exact; the mean over the axes is 3 / sum(1/l_k) for cubic voxels."""
    h = 2e-7
    slabs = np.ones((21, 5, 6), dtype=np.uint8)
    for start in (2, 9, 16):
        slabs[start:start + 3] = 0
    assert tomo.chord_lengths(slabs, 0, h).tolist() == [3 * h, np.inf, np.inf]
    assert tomo.mean_chord_length(slabs, 0, h) == pytest.approx(9 * h, rel=1e-15)
    assert tomo.chord_lengths(slabs, 1, h)[0] == pytest.approx(4 * h, rel=1e-15)  # solid: 4 between slabs
    channels = np.ones((14, 14, 5), dtype=np.uint8)
    for i in (2, 9):
        for j in (2, 9):
            channels[i:i + 3, j:j + 3] = 0
    assert tomo.chord_lengths(channels, [0], h).tolist() == [3 * h, 3 * h, np.inf]
    assert tomo.mean_chord_length(channels, 0, h) == pytest.approx(4.5 * h, rel=1e-15)
    assert tomo.chord_lengths(channels, 0, [h, 2 * h, h]).tolist() == [3 * h, 6 * h, np.inf]
    with pytest.raises(InputError):
        tomo.chord_lengths(channels, 7)


def test_chord_length_of_spheres_against_cauchy():
    """Overlapping spheres (radius 4 voxels, porosity 0.5, 64^3): the mean chord of either phase equals the
    stereological (Cauchy) 4 eps / S_v, S_v the smooth specific surface of femiec.meshing.interface_area,
    to 3 % (measured 1.7 %; 0.7 % at radius 6 on 96^3, 3.3 % at radius 3: the smooth area estimate's error
    grows as the spheres get fewer voxels), and each axis's chord the mean to 3 % (isotropy)."""
    from femiec.homogenization.synthetic import overlapping_spheres
    from femiec.meshing.interface_area import interface_areas

    h = 5e-8
    image = overlapping_spheres((64, 64, 64), 0.5, 4.0, seed=1)
    solid = image == 1
    area = interface_areas(solid, h)[1] / (solid.size * h ** 3)
    for phase, fraction in ((0, 1 - solid.mean()), (1, solid.mean())):
        mean = tomo.mean_chord_length(image, phase, h)
        assert abs(mean / (4 * fraction / area) - 1) < 0.03, (phase, mean, 4 * fraction / area)
        np.testing.assert_allclose(tomo.chord_lengths(image, phase, h), mean, rtol=0.03)
