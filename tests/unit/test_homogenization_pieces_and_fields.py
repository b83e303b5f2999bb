"""Periodic pieces of voxel images, and the field output of the finite-element methods."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.homogenization import homogenize
from femiec.homogenization.periodic import periodic_pieces
from femiec.meshing.rank_planes import read_rank_planes


@pytest.mark.mpi
def test_pieces_join_across_periodic_faces_and_drop_inclusions(comm):
    """Oracle: the pieces drawn by hand; the same from each rank's planes (pieces gathered in rank order)."""
    mask = np.zeros((8, 8, 8), dtype=bool)
    mask[0, 2, 2] = mask[7, 3, 3] = True  # one piece through the x faces (shared corner after wrapping)
    mask[3:5, 0, 5] = True  # touches the y = 0 face: a piece of its own
    mask[4, 4, 1] = True  # finite inclusion inside the cell: dropped
    planes = read_rank_planes(mask.astype(np.uint8), comm, [1], halo=2)
    owned, count = periodic_pieces(planes, [1], comm)
    pieces = np.concatenate(comm.allgather(owned))
    assert pieces[0, 2, 2] == pieces[7, 3, 3] > 0
    assert pieces[3, 0, 5] > 0 and pieces[3, 0, 5] != pieces[0, 2, 2]
    assert pieces[4, 4, 1] == 0
    assert set(np.unique(pieces)) == {0, 1, 2} and count == 2


@pytest.mark.mpi
@pytest.mark.parametrize("method, names", [("fe", ["potential_x", "flux_x"]),
                                           ("periodic", ["chi_x", "chi_y", "chi_z"])])
def test_fields_are_written_for_paraview(tmp_path, comm, numbers, method, names):
    """Oracle: a straight 3 x 2 voxel channel in a 5 x 4 cross-section: D_eff/D0 = 6/20 along x."""
    tmp_path = comm.bcast(tmp_path if comm.rank == 0 else None)  # one output directory for all ranks
    image = np.zeros((6, 5, 4), dtype=np.uint8)
    image[:, 1:4, 1:3] = 1
    result = homogenize(image, [1], axes="x", method=method, voxel_size=1e-6, comm=comm, out_dir=tmp_path,
                        rtol=1e-12)  # tight, so that 1 and 2 ranks agree to 1e-8
    assert result.axes["x"].deff_ratio == pytest.approx(6 / 20, rel=1e-5)
    numbers.record("deff_ratio", result.axes["x"].deff_ratio)
    if comm.rank == 0:
        for name in names:
            assert (tmp_path / f"{name}.bp").is_dir()
