"""Image inputs users have: folders of 2D TIFF slices, datasets of HDF5 files, label remapping (case files
and `femiec homogenize`), each with its one-line refusals."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest
import tifffile

from case_texts import IMAGE_CONDUCTION_CASE as CASE

from femiec.cli import main
from femiec.errors import InputError
from femiec.meshing import tomography as tomo


def _labels():
    """6 x 4 x 5 uint16 labels: 300 in x < 3, 65535 elsewhere (a 16-bit segmentation)."""
    image = np.full((6, 4, 5), 65535, dtype=np.uint16)
    image[:3] = 300
    return image


def _write_slices(folder, image, name="slice_{}.tif"):
    folder.mkdir(parents=True, exist_ok=True)
    for k, plane in enumerate(image):
        tifffile.imwrite(folder / name.format(k), plane)


def test_tiff_folder_in_natural_order_equals_the_multipage_stack(tmp_path):
    image = np.arange(12 * 3 * 2, dtype=np.uint16).reshape(12, 3, 2)  # 12 slices: slice_2 < slice_10
    _write_slices(tmp_path / "slices", image)
    tifffile.imwrite(tmp_path / "stack.tif", image)
    (tmp_path / "slices" / "notes.txt").write_text("not a slice")
    from_folder = tomo.read_image(tmp_path / "slices")
    assert np.array_equal(from_folder, image) and from_folder.dtype == np.uint16
    assert np.array_equal(from_folder, tomo.read_image(tmp_path / "stack.tif"))


@pytest.mark.parametrize("bad", ["shape", "dtype", "empty"])
def test_tiff_folder_refusals_name_the_slice(tmp_path, bad):
    image = np.zeros((3, 4, 5), dtype=np.uint8)
    _write_slices(tmp_path / "s", image)
    if bad == "shape":
        tifffile.imwrite(tmp_path / "s" / "slice_10.tif", np.zeros((4, 6), np.uint8))
    elif bad == "dtype":
        tifffile.imwrite(tmp_path / "s" / "slice_10.tif", np.zeros((4, 5), np.uint16))
    else:
        for f in (tmp_path / "s").iterdir():
            f.unlink()
    with pytest.raises(InputError) as info:
        tomo.read_image(tmp_path / "s")
    line = str(info.value)
    assert "\n" not in line
    if bad == "empty":
        assert "has none" in line
    else:
        assert info.value.key == "image slice" and info.value.value.endswith("slice_10.tif")
        assert "slice_0.tif" in line and "(4, 5)" in line


def test_hdf5_dataset_and_refusals(tmp_path):
    h5py = pytest.importorskip("h5py")
    image = _labels()
    with h5py.File(tmp_path / "volume.h5", "w") as f:
        f["segmentation"] = image
        f["meta/profile"] = np.arange(4.0)
    assert np.array_equal(tomo.read_image(tmp_path / "volume.h5", dataset="/segmentation"), image)
    assert np.array_equal(tomo.read_image(tmp_path / "volume.h5", dataset="segmentation"), image)
    assert np.array_equal(tomo.read_image(tmp_path / "volume.h5"), image)  # the only 3D dataset
    for dataset in ("/missing", "/meta/profile"):
        with pytest.raises(InputError, match=r"^dataset: .* \(expected a 3D dataset of volume.h5 \(datasets: "
                                             r"/meta/profile \(4,\) float64, /segmentation \(6, 4, 5\) uint16\)\)$"):
            tomo.read_image(tmp_path / "volume.h5", dataset=dataset)
    with pytest.raises(InputError, match="no dataset for a.npy"):
        np.save(tmp_path / "a.npy", image)
        tomo.read_image(tmp_path / "a.npy", dataset="/segmentation")
    (tmp_path / "garbage.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(InputError, match="readable HDF5 or NetCDF-4 file") as info:
        tomo.read_image(tmp_path / "garbage.h5")
    assert "raw" not in str(info.value)


def test_remap_labels_to_a_small_type_and_refusals():
    image = _labels()
    out = tomo.remap_labels(image, {300: 1, 65535: 0}, key="mesh.remap")
    assert out.dtype == np.uint8 and out.sum() == 3 * 4 * 5
    with pytest.raises(InputError,
                       match=r"^mesh.remap: \[7\] \(expected values present in the image \(\[300, 65535\]\)\)$"):
        tomo.remap_labels(image, {7: 1}, key="mesh.remap")
    from femiec.meshing.voxel import check_labels

    with pytest.raises(InputError, match=r"^mesh.file: \[300, 65535\] \(expected labels in 0..255 \(map them "
                                         r"with mesh.remap\)\)$"):
        check_labels(image, "mesh.file", "map them with mesh.remap")


def _case(comm, tmp_path_factory, kind, extra):
    """The 16-bit labels as a folder of slices or an HDF5 dataset, and a case meshing label 1 (value 300)."""
    tmp = comm.bcast(tmp_path_factory.mktemp("inputs") if comm.rank == 0 else None)
    file = tmp / ("slices" if kind == "folder" else "volume.h5")
    if comm.rank == 0:
        if kind == "folder":
            _write_slices(file, _labels())
        else:
            import h5py

            with h5py.File(file, "w") as f:
                f["segmentation"] = _labels()
        (tmp / "case.toml").write_text(textwrap.dedent(CASE.format(file=file.name, extra=extra)))
    comm.barrier()
    return tmp / "case.toml"


def _error_line(comm, capsys):
    err = capsys.readouterr().err.strip().splitlines()
    if comm.rank != 0:
        assert err == []
        return None
    assert len(err) == 1, err
    return err[0]


@pytest.mark.mpi
@pytest.mark.parametrize("kind", ["folder", "hdf5"])
def test_case_meshes_a_remapped_folder_or_dataset(tmp_path_factory, comm, numbers, kind):
    """Label 1 = the 3 x 4 x 5 voxels of value 300: volume 60 (1 µm)^3 on 1 and 2 ranks."""
    if kind == "hdf5":
        pytest.importorskip("h5py")
    from femiec.config import load_case
    from femiec.meshing.quality import mesh_statistics
    from femiec.runner import build_mesh

    extra = "remap = { 300 = 1, 65535 = 0 }" + ('\ndataset = "/segmentation"' if kind == "hdf5" else "")
    case = load_case(_case(comm, tmp_path_factory, kind, extra))
    stats = mesh_statistics(build_mesh(case.mesh, comm), quality=False)
    assert stats["volume_per_tag_m3"]["solid"] == pytest.approx(60e-18, rel=1e-12)
    numbers.record(f"solid_volume_m3_{kind}", stats["volume_per_tag_m3"]["solid"])


@pytest.mark.mpi
@pytest.mark.parametrize("extra, key, expected", [
    ("", "mesh.file", "[300, 65535] (expected labels in 0..255 (map them with mesh.remap"),
    ('remap = { 300 = 1, 0300 = 2, 65535 = 0 }', "mesh.remap.0300", "each image value once (300 is also given"),
    ('remap = { 300 = 1, 65535 = 256 }', "mesh.remap.65535", "a label in 0..255"),
    ('remap = { 300 = 1, 12 = 0 }', "mesh.remap", "values present in the image ([300, 65535])"),
])
def test_case_remap_refusals_are_one_line(tmp_path_factory, comm, capsys, extra, key, expected):
    path = _case(comm, tmp_path_factory, "folder", extra)
    assert main(["validate", str(path)]) == 2
    line = _error_line(comm, capsys)
    if line is not None:
        assert line.startswith(f"error: {key}: ") and expected in line, line


def test_case_refuses_a_missing_dataset_and_a_dataset_of_a_folder(tmp_path_factory, comm, capsys):
    pytest.importorskip("h5py")
    path = _case(comm, tmp_path_factory, "hdf5", 'remap = { 300 = 1, 65535 = 0 }\ndataset = "/labels"')
    assert main(["validate", str(path)]) == 2
    line = _error_line(comm, capsys)
    assert line == ("error: mesh.dataset: '/labels' (expected a 3D dataset of volume.h5 (datasets: "
                    "/segmentation (6, 4, 5) uint16))")
    path = _case(comm, tmp_path_factory, "folder", 'remap = { 300 = 1, 65535 = 0 }\ndataset = "/labels"')
    assert main(["validate", str(path)]) == 2
    assert _error_line(comm, capsys).startswith("error: mesh.dataset: '/labels' (expected no dataset for slices")


def test_homogenize_a_folder_with_remap(tmp_path, capsys):
    """Value 300 (x < 3) and 65535 (x >= 3) as two slabs across x: along y the pore (label 1) conducts
    through half the section, so D_eff/D0 = eps = 0.5 and tau = 1."""
    _write_slices(tmp_path / "slices", _labels())
    folder = str(tmp_path / "slices")
    assert main(["homogenize", folder, "--phase", "1", "--axis", "y", "--remap", "300:1", "--remap", "65535:0",
                 "--json", str(tmp_path / "r.json")]) == 0
    import json

    y = json.loads((tmp_path / "r.json").read_text())["axes"]["y"]
    assert y["deff_ratio"] == pytest.approx(0.5, rel=1e-10) and y["tau"] == pytest.approx(1.0, rel=1e-10)
    capsys.readouterr()
    for args, expected in (
        ([], "error: image values: [300, 65535] (expected labels in 0..255 (map them with --remap VALUE:LABEL))"),
        (["--remap", "300:1", "--remap", "300:1"], "error: --remap: '300:1' (expected each image value once (300 is "
                                                   "already mapped to 1))"),
        (["--remap", "300:1", "--remap", "300:2"], "error: --remap: '300:2' (expected each image value once"),
        (["--remap", "300"], "error: --remap: '300' (expected VALUE:LABEL"),
        (["--remap", "300:1", "--shape", "6", "4", "5"], "error: --shape: [6, 4, 5] (expected no --shape for a "
                                                         "folder of TIFF slices"),
    ):
        assert main(["homogenize", folder, "--phase", "1", *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(expected), err
