"""homogenize(method="fe", mesh="conforming") and homogenize(method="periodic") from each rank's planes of
the image against the whole-image paths they replaced (every rank the whole array: scipy's 26-connected
clusters of the whole image; fe: the non-conducting values merged into one phase on the whole array,
conforming_mesh of that array; periodic: the pieces joined across the periodic faces on the whole array,
the voxel mesh of that array)."""
from __future__ import annotations

import numpy as np
import pytest
from test_meshing_conforming_distributed import assert_same_mesh

from femiec.homogenization.fe import INSULATOR

PHASES = {1: 1.0, 3: 0.25}


def _image() -> np.ndarray:
    """44 x 9 x 8 (longer than the conforming mesher's halo, 17 planes): a channel of phase 1 along x
    (across the ranks' planes) touching a channel of phase 3 along y, a blob of phase 1 that spans nothing,
    in a matrix of the non-conducting values 2 and 0; nothing spans z."""
    image = np.full((44, 9, 8), 2, dtype=np.uint8)
    image[:, :, 7] = 0
    image[:, 2:5, 2:5] = 1
    image[20:23, :, 5:7] = 3
    image[30:33, 6:8, 1:3] = 1
    return image


def _whole_image_reference(image: np.ndarray, comm):
    """(mesh, conductivities, spanning voxels per axis) of the whole-image path: 26-connected clusters of
    the conducting voxels, the other values merged into 0 (conductivity INSULATOR), the mesh of that array
    in voxel units."""
    from scipy import ndimage

    from femiec.homogenization.voxels import spanning_mask
    from femiec.meshing.conforming import conforming_mesh

    mask = np.isin(image, list(PHASES))
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3, 3)))
    spanning = [int(spanning_mask(labels, axis).sum()) for axis in range(3)]
    mesh = conforming_mesh(np.where(mask, image, 0).astype(np.uint8), voxel_size=1.0, comm=comm)
    conductivities = {v: k * np.eye(3) for v, k in PHASES.items()} | {0: INSULATOR * np.eye(3)}
    return mesh, conductivities, spanning


@pytest.mark.mpi
def test_conforming_fe_read_by_planes_is_the_whole_image_path(comm, tmp_path_factory, numbers):
    """Oracle: the whole-image path (module doc). The image is read from a file by planes (each rank its
    x-planes and the conforming mesher's halo), the clusters labelled by planes and joined over the ranks;
    the mesh is the whole array's (global cells and vertices, names, sorted centroids and volumes per tag
    and facet areas per tag to 1e-12), and D_eff/D0 on each axis is that of the same solve on the
    whole-image mesh (CG to 1e-12: to 1e-9; on 2 ranks the partition of the mesh, hence the order of the
    unknowns and the round-off of CG, differs between any two builds, two builds of the whole-image path
    included: measured up to 7e-12), with the blob left out of the spanning fraction and 0 along z."""
    from femiec.homogenization import homogenize
    from femiec.homogenization.api import planes_halo
    from femiec.homogenization.fe import _conforming_mesh, applied_potential
    from femiec.meshing.image_source import open_image
    from femiec.meshing.rank_planes import read_rank_planes

    image = _image()
    tmp = comm.bcast(tmp_path_factory.mktemp("conforming_planes") if comm.rank == 0 else None)
    if comm.rank == 0:
        np.save(tmp / "image.npy", image)
    comm.barrier()
    reference, conductivities, spanning = _whole_image_reference(image, comm)
    planes = read_rank_planes(open_image(tmp / "image.npy"), comm, list(PHASES),
                              halo=planes_halo("fe", "conforming"))
    if comm.size > 1:
        assert len(planes.data) < len(image)
    tensors = {v: k * np.eye(3) for v, k in PHASES.items()}
    assert_same_mesh(reference, _conforming_mesh(planes, tensors, np.ones(3), 1.0, {}, comm))
    assert tensors.keys() == conductivities.keys()

    result = homogenize(open_image(tmp / "image.npy"), PHASES, axes="all", method="fe", mesh="conforming",
                        voxel_size=1e-6, comm=comm, rtol=1e-12)
    deff = []
    for axis, name in enumerate("xyz"):
        column = result.axes[name]
        assert column.spanning_fraction == pytest.approx(spanning[axis] / np.isin(image, list(PHASES)).sum(),
                                                         rel=1e-15)
        if spanning[axis] == 0:
            assert column.deff_ratio == 0.0
            continue
        mean_flux, _, problem = applied_potential(reference, conductivities, axis, rtol=1e-12,
                                                  cell_volume=float(image.size))
        problem.solver.destroy()
        assert column.deff_ratio == pytest.approx(mean_flux[axis], rel=1e-9)
        deff.append(column.deff_ratio)
    assert 0 < spanning[0] == spanning[1] < np.isin(image, list(PHASES)).sum()  # the blob left out
    numbers.record("deff_ratio", deff)


def _whole_image_pieces(mask: np.ndarray) -> np.ndarray:
    """The whole-image path's periodic pieces: labels 1, 2, ... of the 26-connected pieces of ``mask``
    joined across the periodic faces (shifts of one voxel along the face, wrapping round), 0 outside
    ``mask`` and on pieces that touch no face."""
    from scipy import ndimage
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    labels, count = ndimage.label(mask, structure=np.ones((3, 3, 3)))
    pairs = [np.zeros((0, 2), dtype=np.int64)]
    for axis in range(3):
        last, first = np.take(labels, -1, axis=axis), np.take(labels, 0, axis=axis)
        for shift in ((a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)):
            partner = np.roll(first, shift, axis=(0, 1))
            both = (last > 0) & (partner > 0)
            pairs.append(np.column_stack([last[both], partner[both]]))
    pairs = np.concatenate(pairs)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(count + 1, count + 1))
    _, piece = connected_components(graph, directed=False)
    on_face = np.zeros(count + 1, dtype=bool)
    for axis in range(3):
        on_face[np.take(labels, 0, axis=axis)] = on_face[np.take(labels, -1, axis=axis)] = True
    on_face[0] = False
    kept = np.unique(piece[on_face])
    renumber = np.zeros(piece.max() + 1, dtype=np.int64)
    renumber[kept] = np.arange(1, kept.size + 1)
    return np.where(on_face, renumber[piece], 0)[labels]


def _periodic_image() -> np.ndarray:
    """12 x 8 x 8, conducting phases 1 and 3 in 0 and 2: a channel along x bending at plane 6 (corner
    contact, across the ranks' planes), two voxels of phase 3 joined only across the x faces (a corner
    after wrapping), a channel of phase 3 along y joined to itself across the y faces through an edge one
    plane further along x, an inclusion of phase 1 touching no face."""
    image = np.zeros((12, 8, 8), dtype=np.uint8)
    image[:, :, 7] = 2
    image[:6, 2, 2] = image[6:, 3, 3] = 1
    image[11, 5, 5] = image[0, 6, 6] = 3
    image[4, :7, 5] = image[5, 7, 5] = 3
    image[9:11, 5:7, 2:4] = 1
    return image


@pytest.mark.mpi
def test_periodic_read_by_planes_is_the_whole_image_path(comm, tmp_path_factory, numbers):
    """Oracle: the whole-image path (module doc). The image is read from a file by planes (each rank its
    x-planes and two halo planes), the pieces labelled by planes, joined over the ranks and across the
    periodic faces from the gathered face planes (femiec.homogenization.periodic.periodic_pieces): the same
    pieces as the whole array's, the same number of unknowns, the same fraction of the conducting voxels
    and the same tensor (CG to 1e-12: to 1e-9, columns included)."""
    from dolfinx.mesh import compute_midpoints

    from femiec.homogenization import homogenize
    from femiec.homogenization.periodic import periodic_pieces, periodic_tensor
    from femiec.meshing.image_source import open_image
    from femiec.meshing.rank_planes import read_rank_planes
    from femiec.meshing.voxel import voxel_mesh

    image = _periodic_image()
    tmp = comm.bcast(tmp_path_factory.mktemp("periodic_planes") if comm.rank == 0 else None)
    if comm.rank == 0:
        np.save(tmp / "image.npy", image)
    comm.barrier()
    mask = np.isin(image, list(PHASES))
    pieces = _whole_image_pieces(mask)
    planes = read_rank_planes(open_image(tmp / "image.npy"), comm, list(PHASES), halo=2)
    owned, count = periodic_pieces(planes, list(PHASES), comm)
    assert count == pieces.max() == 3  # the two channels and the pair
    i0, i1 = planes.own
    assert np.array_equal(owned > 0, pieces[i0:i1] > 0)
    assert np.array_equal(np.unique(np.column_stack([owned.ravel(), pieces[i0:i1].ravel()]), axis=0)[:, 0],
                          np.unique(owned))  # one planes piece per whole-image piece
    assert not pieces[9, 5, 2] and pieces[11, 5, 5] == pieces[0, 6, 6] != pieces[0, 2, 2]

    reference = voxel_mesh(np.where(pieces > 0, image, 0).astype(np.uint8), list(PHASES), np.ones(3), comm)
    mesh = reference.mesh
    local = mesh.topology.index_map(3).size_local + mesh.topology.index_map(3).num_ghosts
    voxel = np.floor(compute_midpoints(mesh, 3, np.arange(local, dtype=np.int32))).astype(np.int64)
    expected = periodic_tensor(reference, {v: k * np.eye(3) for v, k in PHASES.items()}, rtol=1e-12,
                               cell_components=pieces[tuple(voxel.T)] - 1, bounds=(np.zeros(3), image.shape))
    result = homogenize(open_image(tmp / "image.npy"), PHASES, method="periodic", voxel_size=1e-6, comm=comm,
                        rtol=1e-12)
    assert result.axes["x"].unknowns == expected.unknowns
    assert result.axes["x"].spanning_fraction == pytest.approx(np.count_nonzero(pieces) / mask.sum(), rel=1e-15)
    np.testing.assert_allclose(result.tensor, expected.tensor, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose([result.axes[a].deff_ratio for a in "xyz"], np.diag(expected.tensor), rtol=1e-9)
    assert min(np.diag(result.tensor)[:2]) > 1e-3 and abs(result.tensor[2, 2]) < 1e-12
    numbers.record("tensor_diagonal", np.diag(result.tensor))
