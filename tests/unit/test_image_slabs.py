"""Images read slab by slab (femiec.meshing.image_source) give exactly the arrays read_image and
read_image_crop give, in every format; the mesh-free outline of an image mesh
(femiec.meshing.image_outline) has the tags and facet counts of the built voxel mesh, on 1 and 2 ranks,
whatever the slab size; `femiec validate` refuses what building the mesh refuses without building it."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.meshing.image_source import open_image, open_image_crop
from femiec.meshing.tomography import read_image, read_image_crop


def _labels(shape=(9, 7, 6), seed=1, high=False):
    """Random labels 0, 1, 2 (or 300, 7, 65535 as uint16 with ``high``)."""
    rng = np.random.default_rng(seed)
    image = (rng.random(shape) < 0.5).astype(np.uint8) + (rng.random(shape) < 0.2).astype(np.uint8)
    return np.array([300, 7, 65535], dtype=np.uint16)[image] if high else image


def _write(kind: str, path, image):
    """``image`` written as ``kind``; returns (path, read keywords)."""
    import tifffile

    if kind == "npy":
        np.save(path / "a.npy", image)
        return path / "a.npy", {}
    if kind in ("raw", "raw_f"):
        order = "F" if kind == "raw_f" else "C"
        image.ravel(order=order).tofile(path / "a.raw")
        return path / "a.raw", {"shape": list(image.shape), "dtype": str(image.dtype), "order": order}
    if kind == "tiff_pages":
        tifffile.imwrite(path / "a.tif", image, photometric="minisblack")
        return path / "a.tif", {}
    if kind == "tiff_pages_zlib":
        with tifffile.TiffWriter(path / "a.tif") as writer:
            for plane in image:
                writer.write(plane, contiguous=False, metadata=None, compression="zlib")
        return path / "a.tif", {}
    if kind == "tiff_3d":
        tifffile.imwrite(path / "a.tif", image)
        return path / "a.tif", {}
    if kind == "tiff_3d_zlib":
        tifffile.imwrite(path / "a.tif", image, compression="zlib")
        return path / "a.tif", {}
    if kind == "folder":
        (path / "s").mkdir()
        for k, plane in enumerate(image):
            tifffile.imwrite(path / "s" / f"slice_{k}.tif", plane)
        return path / "s", {}
    if kind == "h5":
        h5py = pytest.importorskip("h5py")
        with h5py.File(path / "a.h5", "w") as file:
            file.create_dataset("/group/labels", data=image, chunks=(2, 3, 3))
        return path / "a.h5", {"dataset": "/group/labels"}
    if kind == "vti":
        pytest.importorskip("vtk")
        from femiec.meshing.tomography import write_vti

        write_vti(image, path / "a.vti")
        return path / "a.vti", {}
    raise AssertionError(kind)


FORMATS = ["npy", "raw", "raw_f", "tiff_pages", "tiff_pages_zlib", "tiff_3d", "tiff_3d_zlib", "folder", "h5", "vti"]


@pytest.mark.parametrize("kind", FORMATS)
def test_slabs_are_the_image(tmp_path, kind):
    """Concatenated slabs of 1, 2 and 4 planes equal read_image exactly (values, shape, type), and with a
    crop and a remap they equal read_image_crop."""
    image = _labels(high=True)
    path, keys = _write(kind, tmp_path, image)
    whole = read_image(path, **keys)
    source = open_image(path, **keys)
    assert source.shape == whole.shape and source.dtype == whole.dtype
    keys.pop("order", None)  # read_image_crop reads raw files in C order only
    crop, remap = [[1, 8], [2, 7], [0, 5]], {300: 1, 65535: 0}
    cropped = read_image_crop(path, crop=crop, remap=remap, **keys)
    if kind == "raw_f":
        return
    view = open_image_crop(path, crop=crop, remap=remap, **keys)
    assert view.shape == cropped.shape and view.dtype == cropped.dtype
    for planes in (1, 2, 4):
        slabs = [source.read(i0, i1) for i0, i1 in source.slabs(planes)]
        assert np.array_equal(np.concatenate(slabs), whole) and slabs[0].dtype == whole.dtype
        slabs = [view.read(i0, i1) for i0, i1 in view.slabs(planes)]
        assert np.array_equal(np.concatenate(slabs), cropped) and slabs[0].dtype == cropped.dtype


def test_raw_fortran_order_slabs(tmp_path):
    image = _labels()
    path, keys = _write("raw_f", tmp_path, image)
    source = open_image(path, **keys)
    assert np.array_equal(np.concatenate([source.read(i0, i1) for i0, i1 in source.slabs(2)]), image)


@pytest.mark.parametrize("crop, remap, key, expected", [
    ([[0, 10], [0, 7], [0, 6]], None, "crop[0]", "0 <= start < stop <= 9 voxels"),
    (None, {12: 1}, "remap", "values present in the image"),
])
def test_slab_reader_refuses_like_read_image_crop(tmp_path, crop, remap, key, expected):
    from femiec.errors import InputError

    path, _ = _write("npy", tmp_path, _labels())
    with pytest.raises(InputError) as whole:
        read_image_crop(path, crop=crop, remap=remap)
    with pytest.raises(InputError) as slabs:
        open_image_crop(path, crop=crop, remap=remap)
    assert str(slabs.value) == str(whole.value) and slabs.value.key == key and expected in str(slabs.value)


SECTIONS = [
    {"phases": {"a": 1, "b": 2}},
    {"phases": {"a": 1, "b": 2}, "percolating_axis": "x"},
    {"phases": {"a": 1}, "percolating_axis": "y"},
    {"phases": {"p": 0, "a": 1}, "percolating_axis": "z", "crop": [[1, 8], [0, 7], [1, 6]]},
    {"phases": {"a": 1, "b": 2, "s": 3}, "pad": {"face": "xmin", "voxels": 2, "value": 3}},
    {"phases": {"a": 1, "b": 2}, "pad": {"face": "xmax", "voxels": 1, "value": 0}, "percolating_axis": "x"},
    {"phases": {"a": 1}, "pad": {"face": "ymax", "voxels": 2, "value": 1}, "percolating_axis": "x"},
    {"phases": {"a": 1, "b": 2}, "pad": {"face": "xmin", "voxels": 2, "value": 2}, "percolating_axis": "y"},
]


def _section(file, extra):
    from femiec.config.schema import ImageMesh

    return ImageMesh.model_validate({"kind": "image", "file": str(file), "voxel_size": 1e-6, **extra})


def _sparse_image_section(tmp, comm, extra):
    """The image section (with ``extra``) of a random 10 x 7 x 6 image written to ``tmp``/a.npy on rank 0:
    45% phase 1, 10% phase 2, the rest 0 (clusters that do not span for the percolation filter)."""
    if comm.rank == 0:
        rng = np.random.default_rng(3)
        image = (rng.random((10, 7, 6)) < 0.45).astype(np.uint8)
        image[rng.random(image.shape) < 0.1] = 2
        np.save(tmp / "a.npy", image)
    comm.barrier()
    return _section(tmp / "a.npy", extra)


@pytest.mark.mpi
@pytest.mark.parametrize("extra", SECTIONS)
def test_outline_is_the_mesh(tmp_path_factory, comm, extra):
    """The outline's cell and facet tag names equal those of the built mesh; serially each facet count
    equals the mesh's; on 2 ranks the outline is the serial scan's, for any slab size. The sparse image
    (45% of phase 1) leaves clusters that do not span, which the percolation filter removes."""
    from femiec.meshing.image_outline import outline_image_mesh
    from femiec.runner import build_mesh, facet_count

    tmp = comm.bcast(tmp_path_factory.mktemp("outline") if comm.rank == 0 else None)
    section = _sparse_image_section(tmp, comm, extra)
    meshdata = build_mesh(section, comm)
    serial = None
    for planes in (1, 3, 100):
        outline = outline_image_mesh(section, comm, planes=planes)
        assert outline.cell_names == meshdata.cell_names
        assert outline.facet_names == meshdata.facet_names
        if comm.size == 1:
            assert outline.facet_counts == {name: facet_count(meshdata, name) for name in meshdata.facet_names}
        else:
            assert all((outline.facet_count(n) > 0) == (facet_count(meshdata, n) > 0) for n in outline.facet_names)
        assert serial is None or outline.facet_counts == serial
        serial = outline.facet_counts
    assert comm.allgather(serial) == [serial] * comm.size


@pytest.mark.mpi
@pytest.mark.parametrize("extra, key", [
    ({"phases": {"b": 2}, "percolating_axis": "x"}, "phase"),
    ({"phases": {"a": 1, "gone": 7}}, "phases"),
    ({"phases": {"a": 1}, "pad": {"face": "zmin", "voxels": 1, "value": 300}}, "mesh.pad.value"),
    ({"phases": {"a": 1}, "crop": [[0, 3], [0, 9], [0, 3]]}, "mesh.crop[1]"),
])
def test_outline_refuses_what_the_mesh_refuses(tmp_path_factory, comm, extra, key):
    """The same InputError (key, value, expected) from the scan as from building the mesh."""
    from femiec.errors import InputError
    from femiec.meshing.image_outline import outline_image_mesh
    from femiec.runner import build_mesh

    tmp = comm.bcast(tmp_path_factory.mktemp("refuse") if comm.rank == 0 else None)
    if comm.rank == 0:
        image = np.zeros((8, 5, 4), dtype=np.uint8)
        image[:, 1:3, 1:3] = 1
        image[2:4, 4, 0] = 2  # does not span x
        np.save(tmp / "a.npy", image)
    comm.barrier()
    section = _section(tmp / "a.npy", extra)
    with pytest.raises(InputError) as built:
        build_mesh(section, comm)
    with pytest.raises(InputError) as scanned:
        outline_image_mesh(section, comm, planes=3)
    assert str(scanned.value) == str(built.value) and scanned.value.key == key
    with pytest.raises(InputError) as by_planes:
        build_mesh(section, comm, halo=2)
    assert str(by_planes.value) == str(built.value)


def _cells_and_facets(meshdata):
    """(cell centres with their tags, facet midpoints with their tags) of the owned entities of every
    rank, gathered and sorted: independent of the partition."""
    import dolfinx.mesh

    rows = []
    for dim, tags in ((3, meshdata.cell_tags), (2, meshdata.facet_tags)):
        owned = tags.indices < meshdata.mesh.topology.index_map(dim).size_local
        x = dolfinx.mesh.compute_midpoints(meshdata.mesh, dim, tags.indices[owned])
        local = np.column_stack([np.round(x / 0.5e-6), tags.values[owned]]).astype(np.int64)
        whole = np.concatenate(meshdata.comm.allgather(local))
        rows.append(whole[np.lexsort(whole.T[::-1])])
    return rows


@pytest.mark.mpi
@pytest.mark.parametrize("extra", SECTIONS)
def test_mesh_by_planes_is_the_whole_image_mesh(tmp_path_factory, comm, extra):
    """Oracle: build_mesh on the whole image (every rank holds it, MeshData.image). Read by planes (a
    halo), with percolating_axis and pad too, each rank holds exactly the whole filtered and padded image's
    planes (counts and histogram of the whole), the mesh has the same cells and facets with the same tags
    and the same vertices on every rank, and on 2 ranks no rank holds every plane."""
    from femiec.runner import build_mesh

    tmp = comm.bcast(tmp_path_factory.mktemp("planes") if comm.rank == 0 else None)
    section = _sparse_image_section(tmp, comm, extra)
    whole = build_mesh(section, comm)
    planes = build_mesh(section, comm, halo=2)
    assert planes.image is None and whole.image is not None
    held = planes.planes
    assert held.shape == whole.image.shape
    assert np.array_equal(held.data, whole.image[held.start:held.start + len(held.data)])
    assert np.array_equal(held.histogram, np.bincount(whole.image.ravel(), minlength=256))
    assert np.array_equal(held.counts, np.isin(whole.image, list(whole.cell_names.values())).sum(axis=(1, 2)))
    assert comm.size == 1 or len(held.data) < held.shape[0]
    assert planes.cell_names == whole.cell_names and planes.facet_names == whole.facet_names
    for a, b in zip(_cells_and_facets(planes), _cells_and_facets(whole)):
        assert np.array_equal(a, b)
    assert np.array_equal(planes.mesh.geometry.x, whole.mesh.geometry.x)  # the same partition, in order


def test_validate_builds_no_image_mesh(tmp_path, capsys, monkeypatch):
    """`femiec validate` of an image case scans the image and prints the tags of the mesh it would build;
    no voxel mesh is built (``--build`` builds it) and a facet tag without facets is refused as before."""
    import femiec.meshing.voxel
    from femiec.cli import main
    from case_texts import IMAGE_CONDUCTION_CASE

    image = np.zeros((6, 4, 4), dtype=np.uint8)
    image[:, 1:3, 1:3] = 1
    np.save(tmp_path / "img.npy", image)
    (tmp_path / "case.toml").write_text('[case]\nname = "img"\n' + IMAGE_CONDUCTION_CASE.format(
        file=tmp_path / "img.npy", extra=""))
    calls = []
    real = femiec.meshing.voxel.voxel_mesh
    monkeypatch.setattr(femiec.meshing.voxel, "voxel_mesh", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert main(["validate", str(tmp_path / "case.toml")]) == 0 and calls == []
    out = capsys.readouterr().out
    assert "cell tags ['solid'] and facet tags ['phase0|solid', 'xmax', 'xmin', 'ymax', 'ymin', 'zmax', 'zmin']" in out
    assert main(["validate", "--build", str(tmp_path / "case.toml")]) == 0 and calls == [1]
    assert "facet tags ['phase0|solid', 'xmax'" in capsys.readouterr().out
    image[:] = 0
    image[:, 0, 1:3] = 1  # the solid touches ymin, not ymax
    np.save(tmp_path / "img.npy", image)
    text = (tmp_path / "case.toml").read_text().replace('facet = "xmax"', 'facet = "ymax"')
    (tmp_path / "case.toml").write_text(text)
    assert main(["validate", str(tmp_path / "case.toml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: model.boundary[1].facet: 'ymax' (expected a facet tag with facets in the mesh"), err


@pytest.mark.parametrize("phases, remap, status, line", [
    ("[1]", "", 0, None),
    ("[1, 5]", "", 2, "error: model.phases: 5 (expected a voxel value present in the image ([0, 1]))"),
    ("[1]", 'remap = { 1 = 300 }', 2, "error: model.remap.1: 300 (expected a label in 0..255"),
])
def test_validate_scans_a_homogenization_image(tmp_path, capsys, monkeypatch, phases, remap, status, line):
    """`femiec validate` of a homogenization case scans its image slab by slab (the whole image is not
    read) and refuses an absent phase as the run does."""
    import femiec.meshing.tomography
    from femiec.cli import main

    image = np.zeros((6, 4, 4), dtype=np.uint8)
    image[:, 1:3, 1:3] = 1
    np.save(tmp_path / "img.npy", image)
    (tmp_path / "case.toml").write_text(f'[case]\nname = "h"\n[model]\nkind = "homogenization"\nimage = "img.npy"\n'
                                        f'phases = {phases}\nvoxel_size = 1.0e-6\n{remap}\n')
    monkeypatch.setattr(femiec.meshing.tomography, "read_image_crop", None)  # a whole read would fail
    assert main(["validate", str(tmp_path / "case.toml")]) == status
    err = capsys.readouterr().err.strip()
    assert (line is None and err == "") or err.startswith(line), err


NPP_IMAGE_CASE = """[case]
name = "npp_image"
[mesh]
kind = "image"
file = "{file}"
voxel_size = {voxel}
phases = {{ pore = 0 }}
[model]
kind = "nernst_planck_poisson"
relative_permittivity = 78.5
species = [
  {{ name = "Na", charge = 1, diffusivity = 1.3e-9, initial = 100.0 }},
  {{ name = "Cl", charge = -1, diffusivity = 2.0e-9, initial = 100.0 }},
]
conditions = [
  {{ type = "concentration", species = "Na", facets = "{facet}", value = 100.0 }},
  {{ type = "concentration", species = "Cl", facets = "{facet}", value = 100.0 }},
  {{ type = "potential", facets = "{facet}", value = 0.0 }},
  {{ type = "potential", facets = "xmin", value = 0.01 }},
]
"""


@pytest.mark.parametrize("voxel, facet, status, message", [
    ("5.0e-10", "xmax", 0, None),
    ("1.0e-8", "xmax", 0, "the Debye length lambda_D"),
    ("5.0e-10", "pore|phase1", 0, None),
    ("5.0e-10", "ymin", 2, "error: model.conditions[0].facets"),
])
def test_validate_npp_image_case_builds_no_mesh(tmp_path, capsys, caplog, monkeypatch, voxel, facet, status, message):
    """`femiec validate` of a Nernst–Planck–Poisson case on an image mesh scans the image (no voxel mesh is
    built): facet names and counts come from the outline (a facet without facets is refused), the Debye-length
    warning from the voxel size (lambda_D ~ 0.96 nm at 100 mol/m^3: a 10 nm voxel does not resolve it)."""
    import femiec.meshing.voxel
    from femiec.cli import main

    image = np.ones((6, 4, 4), dtype=np.uint8)
    image[:, 1:3, 1:3] = 0  # a pore channel along x, touching neither ymin nor ymax
    np.save(tmp_path / "img.npy", image)
    (tmp_path / "case.toml").write_text(NPP_IMAGE_CASE.format(file=tmp_path / "img.npy", voxel=voxel, facet=facet))
    monkeypatch.setattr(femiec.meshing.voxel, "voxel_mesh", None)  # building the mesh would fail
    assert main(["validate", str(tmp_path / "case.toml")]) == status
    err = capsys.readouterr().err.strip()
    if status:
        assert err.startswith(message), err
    else:
        assert (message is None) == ("Debye length" not in caplog.text + err)


@pytest.mark.parametrize("face", ["xmin", "xmax", "ymin", "zmax"])
def test_padded_image_slabs_are_the_padded_array(tmp_path, face):
    """Oracle: tomography.pad_face of the whole array. PaddedImage gives its planes for any slab, those
    of the layer, of the image and across both; a bad pad is refused as pad_face refuses it."""
    from femiec.errors import InputError
    from femiec.meshing.image_source import PaddedImage
    from femiec.meshing.tomography import pad_face

    image = _labels()
    np.save(tmp_path / "image.npy", image)
    padded = PaddedImage(open_image(tmp_path / "image.npy"), face, 3, 7)
    expected = pad_face(image, face, 3, 7)
    assert padded.shape == expected.shape and padded.dtype == expected.dtype
    n = expected.shape[0]
    for i0, i1 in [(0, 2), (1, 5), (2, n), (0, n), (n - 2, n)]:
        assert np.array_equal(padded.read(i0, i1), expected[i0:i1])
    with pytest.raises(InputError) as bad:
        PaddedImage(open_image(tmp_path / "image.npy"), face, 0, 7, key="mesh.pad")
    assert bad.value.key == "mesh.pad.voxels"
