"""Images held by planes per rank (femiec.meshing.rank_planes), clusters joined across slabs and ranks
(femiec.meshing.slab_clusters), and the voxel mesh and finite-volume homogenization built from them."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.errors import InputError
from femiec.meshing.image_source import open_image
from femiec.meshing.rank_planes import read_rank_planes
from femiec.meshing.slab_clusters import SlabClusters
from femiec.meshing.tomography import percolating_mask


def _image(shape=(13, 7, 6), seed=5):
    rng = np.random.default_rng(seed)
    image = (rng.random(shape) < 0.5).astype(np.uint8)
    image[rng.random(shape) < 0.15] = 2
    return image


@pytest.fixture
def saved(tmp_path_factory, comm):
    """The test image saved as .npy (rank 0 writes, every rank reads)."""
    tmp = comm.bcast(tmp_path_factory.mktemp("planes") if comm.rank == 0 else None)
    if comm.rank == 0:
        np.save(tmp / "image.npy", _image())
    comm.barrier()
    return tmp / "image.npy"


@pytest.mark.mpi
@pytest.mark.parametrize("halo", [1, 2])
def test_each_rank_keeps_its_planes_and_halo(comm, saved, halo):
    """Oracle: the array itself. The owned ranges tile the x axis in rank order; each rank keeps its range
    and ``halo`` planes on each side (fewer at the ends), equal to the array's planes whether read from
    the file or taken from the array; counts and histogram are those of the whole image."""
    image = _image()
    for source in (open_image(saved), image):
        planes = read_rank_planes(source, comm, [1], halo=halo)
        bounds = planes.bounds
        assert bounds[0] == 0 and bounds[-1] == image.shape[0] and np.all(np.diff(bounds) >= 0)
        i0, i1 = planes.own
        lo, hi = max(i0 - halo, 0), min(i1 + halo, image.shape[0])
        assert planes.start == lo and len(planes.data) == hi - lo
        assert np.array_equal(planes.data, image[lo:hi])
        assert np.array_equal(planes.counts, (image == 1).sum(axis=(1, 2)))
        assert np.array_equal(planes.histogram, np.bincount(image.ravel(), minlength=256))
        # a per-voxel array of the owned planes, completed from the neighbours
        full = np.full(planes.data.shape, -1, dtype=np.int32)
        full[i0 - lo:i1 - lo] = np.arange(i0, i1)[:, None, None]
        planes.fill_halo(full, comm)
        assert np.array_equal(full[:, 0, 0], np.arange(lo, hi))


def test_planes_refuse_what_the_mesh_refuses(comm, tmp_path):
    """The InputErrors of an image array (not 3D, not integer, labels beyond 0..255, phases absent), from a
    file too."""
    image = _image()
    with pytest.raises(InputError) as missing:
        read_rank_planes(image, comm, [1, 7])
    assert missing.value.key == "phases" and "[0, 1, 2]" in str(missing.value)
    large = image.astype(np.uint16)
    large[0, 0, 0] = 300
    np.save(tmp_path / "large.npy", large)
    with pytest.raises(InputError) as labels:
        read_rank_planes(open_image(tmp_path / "large.npy"), comm, [1])
    assert "300" in str(labels.value)
    with pytest.raises(InputError) as kind:
        read_rank_planes(image.astype(float), comm, [1])
    assert "integer" in str(kind.value)


@pytest.mark.mpi
@pytest.mark.parametrize("method", ["fv", "fe", "periodic"])
def test_homogenize_refuses_what_the_planes_refuse(comm, method):
    """Oracle: read_rank_planes's InputErrors. homogenize gives the same one-line message for an image not
    3D, not integer, with a label beyond 0..255 or without a phase, whatever the method (every method reads
    the image by planes)."""
    from femiec.homogenization import homogenize

    image = _image()
    large = image.astype(np.uint16)
    large[0, 0, 0] = 300
    for bad, phases in ((image[0], [1]), (image.astype(float), [1]), (large, [1]), (image, [1, 7])):
        with pytest.raises(InputError) as planes:
            read_rank_planes(bad, comm, phases)
        with pytest.raises(InputError) as homogenized:
            homogenize(bad, phases, method=method, comm=comm)
        assert str(homogenized.value) == str(planes.value)


@pytest.mark.mpi
@pytest.mark.parametrize("connectivity", ["face", "vertex"])
@pytest.mark.parametrize("planes_per_slab", [1, 3, 100])
def test_slab_clusters_are_the_whole_image_clusters(comm, planes_per_slab, connectivity):
    """Oracle: scipy.ndimage.label of the whole mask (6-connected, or with the 3x3x3 structure for
    "vertex"). Labelling slabs of any thickness on each rank and joining them gives the same partition of
    the voxels into clusters, and the clusters spanning each axis are those of the whole labels (for
    "face" percolating_mask)."""
    from scipy import ndimage

    from femiec.meshing.slab_clusters import slab_labels

    image = _image((17, 9, 8), seed=11)
    for mask in (image == 1, image == 2):  # about half the voxels, and a sparse phase (edge/corner joins)
        structure = np.ones((3, 3, 3)) if connectivity == "vertex" else None
        whole, count = ndimage.label(mask, structure=structure)
        nx = mask.shape[0]
        i0, i1 = nx * comm.rank // comm.size, nx * (comm.rank + 1) // comm.size
        clusters = SlabClusters(comm, connectivity)
        pieces = []
        for a in range(i0, i1, planes_per_slab):
            b = min(a + planes_per_slab, i1)
            labels, n = slab_labels(mask[a:b], connectivity)
            clusters.add(labels, n)
            pieces.append((a, labels))
        clusters.join()
        assert clusters.voxels == int(mask.sum())
        shift = clusters.offsets[0] if clusters.offsets else 0  # this rank's numbering -> global labels
        mine = np.zeros((i1 - i0, *mask.shape[1:]), dtype=np.int64)
        for a, labels in pieces:
            mine[a - i0:a - i0 + len(labels)] = np.where(labels > 0, labels + shift, 0)
        glued = np.concatenate(comm.allgather(mine))  # global labels of the whole image
        assert np.array_equal(glued > 0, mask)
        component = clusters.component[glued[mask]]
        pairs = np.unique(np.stack([whole[mask], component]), axis=1)  # a bijection between the two labellings
        assert len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1] == count
        for axis in range(3):
            ends = np.intersect1d(np.take(whole, 0, axis=axis), np.take(whole, -1, axis=axis))
            expected = np.isin(whole, ends[ends > 0])
            assert np.array_equal(clusters.spanning(axis)[glued], expected)
            if connectivity == "face":
                assert np.array_equal(expected, percolating_mask(mask, axis))
    if connectivity == "vertex":  # the sparse phase has clusters joined through edges and corners only
        assert ndimage.label(image == 2)[1] > ndimage.label(image == 2, structure=np.ones((3, 3, 3)))[1]


@pytest.mark.mpi
def test_voxel_mesh_from_planes_is_the_array_mesh(comm, saved):
    """Oracle: the mesh of the array every rank holds. Read by planes (two halo planes per rank) the voxel
    mesh has the same cells and vertices, the same number of cells per cell tag and of facets per facet
    tag, and keeps no image."""
    from femiec.meshing.voxel import voxel_mesh
    from femiec.runner import facet_count

    image = _image()
    reference = voxel_mesh(image, [1, 2], 1e-6, comm, connectivity="face")
    planes = voxel_mesh(open_image(saved), [1, 2], 1e-6, comm, connectivity="face")
    assert planes.image is None and reference.image is not None
    for dim in (0, 3):
        assert reference.mesh.topology.index_map(dim).size_global == planes.mesh.topology.index_map(dim).size_global
    assert reference.cell_names == planes.cell_names and reference.facet_names == planes.facet_names
    for name in reference.facet_names:
        assert facet_count(reference, name) == facet_count(planes, name)
    for tag in reference.cell_names.values():
        for meshdata in (reference, planes):
            owned = meshdata.cell_tags.indices < meshdata.mesh.topology.index_map(3).size_local
            assert comm.allreduce(int(np.count_nonzero(meshdata.cell_tags.values[owned] == tag))) == (image == tag).sum()
    with pytest.raises(InputError) as graph:
        voxel_mesh(open_image(saved), [1], 1e-6, comm, partitioner="graph")
    assert graph.value.key == "partitioner"


@pytest.mark.mpi
def test_fv_homogenization_read_by_planes(comm, saved, tmp_path_factory, numbers):
    """Oracle: the same solve on the array. homogenize(method="fv") of the image read by planes gives the
    array's effective conductivities (the same layers per rank, so to round-off) and writes the same
    fields."""
    from femiec.homogenization import homogenize

    out = comm.bcast(tmp_path_factory.mktemp("fields") if comm.rank == 0 else None)
    table = {1: 1.0, 2: 0.25}
    array = homogenize(_image(), table, axes="all", method="fv", voxel_size=1e-6, comm=comm, rtol=1e-10)
    planes = homogenize(open_image(saved), table, axes="all", method="fv", voxel_size=1e-6, comm=comm,
                        rtol=1e-10, out_dir=out)
    for axis in "xyz":
        assert planes.axes[axis].deff_ratio == pytest.approx(array.axes[axis].deff_ratio, rel=1e-12)
        assert planes.axes[axis].volume_fraction == array.axes[axis].volume_fraction
    assert np.allclose(planes.tensor, array.tensor, rtol=1e-12, atol=0)
    numbers.record("deff_ratio", [planes.axes[a].deff_ratio for a in "xyz"])
    assert (out / "fields.bp").exists() or any(out.iterdir())


@pytest.mark.mpi
@pytest.mark.parametrize("connectivity", ["vertex", "face"])
def test_fe_homogenization_read_by_planes(comm, tmp_path_factory, numbers, connectivity):
    """Oracle: the clusters spanning each axis labelled on the whole image by scipy (26- or 6-connected),
    the other voxels removed, then solved. homogenize(method="fe") of the image read by planes (each rank
    its slab of x-planes and two halo planes; the clusters joined over the ranks) solves the same voxels
    and gives the same D_eff/D0 on every axis. The image: a channel along x (crossing the ranks' planes),
    one along y, a staircase along z whose voxels touch only at corners (spans z for "vertex", nothing for
    "face") and a blob that spans nothing, so each axis has its own mesh."""
    from scipy import ndimage

    from femiec.homogenization import homogenize
    from femiec.homogenization.voxels import spanning_mask

    image = np.zeros((14, 9, 8), dtype=np.uint8)
    image[:, 1, 1] = 1
    image[7, :, 5] = 1
    image[3:5, 5:7, 3] = 1
    for k in range(8):
        image[11 + k % 2, 4 + k % 2, k] = 1
    tmp = comm.bcast(tmp_path_factory.mktemp("fe_planes") if comm.rank == 0 else None)
    if comm.rank == 0:
        np.save(tmp / "image.npy", image)
    comm.barrier()
    structure = np.ones((3, 3, 3)) if connectivity == "vertex" else None
    labels, _ = ndimage.label(image == 1, structure=structure)
    result = homogenize(open_image(tmp / "image.npy"), [1], axes="all", method="fe", comm=comm, rtol=1e-12,
                        connectivity=connectivity)
    deff, kept = [], []
    for axis, name in enumerate("xyz"):
        spanning = spanning_mask(labels, axis)
        kept.append(int(spanning.sum()))
        assert result.axes[name].spanning_fraction == pytest.approx(spanning.sum() / np.count_nonzero(image))
        if not spanning.any():
            assert result.axes[name].deff_ratio == 0.0
            continue
        alone = homogenize(spanning.astype(np.uint8), [1], axes=name, method="fe", comm=comm, rtol=1e-12,
                           connectivity=connectivity).axes[name]
        assert result.axes[name].deff_ratio == pytest.approx(alone.deff_ratio, rel=1e-9)
        deff.append(result.axes[name].deff_ratio)
    assert len(set(kept)) == 3 and max(kept) < np.count_nonzero(image)  # per-axis meshes, the blob removed
    numbers.record("deff_ratio", deff)
