"""homogenize(method="fe", mesh="conforming") from each rank's planes of the image against the whole-image
path it replaced (every rank the whole array: scipy's 26-connected clusters of the whole image, the
non-conducting values merged into one phase on the whole array, conforming_mesh of that array)."""
from __future__ import annotations

import numpy as np
import pytest
from test_meshing_conforming_distributed import assert_same_mesh

from femiec.homogenization.fe import INSULATOR

PHASES = {1: 1.0, 3: 0.25}


def _image() -> np.ndarray:
    """44 x 9 x 8 (longer than the halo of the conforming mesher, 17 planes): a channel of phase 1 along x (across the ranks' planes) touching a channel of phase 3
    along y, a blob of phase 1 that spans nothing, in a matrix of the non-conducting values 2 and 0;
    nothing spans z."""
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
