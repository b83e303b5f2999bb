"""Periodic pieces of voxel images, and the field output of the finite-element methods."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.homogenization import homogenize
from femiec.homogenization.periodic import periodic_components


def test_pieces_join_across_periodic_faces_and_drop_inclusions():
    mask = np.zeros((8, 8, 8), dtype=bool)
    mask[0, 2, 2] = mask[7, 3, 3] = True  # one piece through the x faces (shared corner after wrapping)
    mask[3:5, 0, 5] = True  # touches the y = 0 face: a piece of its own
    mask[4, 4, 1] = True  # finite inclusion inside the cell: dropped
    pieces = periodic_components(mask)
    assert pieces[0, 2, 2] == pieces[7, 3, 3] > 0
    assert pieces[3, 0, 5] > 0 and pieces[3, 0, 5] != pieces[0, 2, 2]
    assert pieces[4, 4, 1] == 0
    assert set(np.unique(pieces)) == {0, 1, 2}


@pytest.mark.parametrize("method, names", [("fe", ["potential_x", "flux_x"]),
                                           ("periodic", ["chi_x", "chi_y", "chi_z"])])
def test_fields_are_written_for_paraview(tmp_path, comm, method, names):
    image = np.zeros((6, 5, 4), dtype=np.uint8)
    image[:, 1:4, 1:3] = 1
    result = homogenize(image, [1], axes="x", method=method, voxel_size=1e-6, comm=comm, out_dir=tmp_path)
    assert result.axes["x"].deff_ratio == pytest.approx(6 / 20, rel=1e-5)
    if comm.rank == 0:
        for name in names:
            assert (tmp_path / f"{name}.bp").is_dir()
