"""Unit tests of femiec.meshing.box."""
import numpy as np
import pytest

from femiec.errors import InputError
from femiec.meshing.base import BOX_FACETS
from femiec.meshing.box import box_mesh


@pytest.mark.parametrize("cell_type", ["tetrahedron", "hexahedron"])
def test_box_tags(cell_type):
    data = box_mesh([1e-6, 2e-6, 3e-6], [2, 2, 3], cell_type)
    assert data.cell_names == {"domain": 1} and data.facet_names == BOX_FACETS
    assert set(np.unique(data.facet_tags.values)) <= set(BOX_FACETS.values())
    assert np.all(data.cell_tags.values == 1)


def test_rectangle_and_bad_input():
    data = box_mesh([1.0, 2.0], [2, 3], "quadrilateral")
    assert data.dim == 2 and set(data.facet_names) == {"xmin", "xmax", "ymin", "ymax"}
    with pytest.raises(InputError):
        box_mesh([1.0, 2.0], [2, 3], "tetrahedron")
    with pytest.raises(InputError):
        box_mesh([1.0, -2.0, 1.0], [2, 3, 1])
