"""Graded intervals (femiec.meshing.graded). Oracle: the cells of a geometric sequence, first * r^i for
i = 0..n-1, sum to the length asked for; the mesh's cells are those cells."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.errors import InputError
from femiec.meshing.graded import geometric_ratio, graded_interval


@pytest.mark.parametrize("n, length, first", [(200, 1e-7, 1e-12), (2000, 1e-7, 1e-12), (400, 1e-6, 1e-15),
                                              (10, 1.0, 0.15), (3, 1.0, 0.5), (50, 1.0, 1.0 / 50)])
def test_the_cells_sum_to_the_length_without_overflow(n, length, first):
    r = geometric_ratio(n, length, first)
    cells = first * r ** np.arange(n)
    assert cells.sum() == pytest.approx(length, rel=1e-9)
    assert (r > 1) == (first * n < length * (1 - 1e-12)) or r == 1.0


@pytest.mark.mpi
def test_the_mesh_cells_grow_from_the_wall(comm):
    meshdata = graded_interval(comm, 400, 1e-7, 1e-12)
    x = comm.allgather(meshdata.mesh.geometry.x[:, 0])
    x = np.unique(np.concatenate(x))
    assert x[0] == 0.0 and x[-1] == pytest.approx(1e-7, rel=1e-12)
    assert x[1] - x[0] == pytest.approx(1e-12, rel=1e-6)
    assert np.all(np.diff(np.diff(x)) > 0)


@pytest.mark.parametrize("n, first", [(10, 0.0), (10, -1.0), (10, 2.0), (1, 0.5)])
def test_impossible_cells_are_refused_with_the_key(n, first):
    with pytest.raises(InputError, match="first_cell"):
        geometric_ratio(n, 1.0, first)
