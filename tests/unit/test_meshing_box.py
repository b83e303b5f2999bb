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


def test_interval_and_default_cell_types():
    """A 1D box: intervals, facet tags xmin and xmax (points of unit area in the mesh statistics); None picks
    the dimension's first cell type."""
    from femiec.meshing.quality import mesh_statistics

    data = box_mesh([2e-3], [4], None)
    assert data.dim == 1 and data.facet_names == {"xmin": 1, "xmax": 2}
    assert data.mesh.topology.cell_name() == "interval"
    stats = mesh_statistics(data)
    assert stats["area_per_facet_tag_m2"] == {"xmin": 1.0, "xmax": 1.0}
    assert box_mesh([1.0, 1.0], [1, 1], None).mesh.topology.cell_name() == "triangle"
    with pytest.raises(InputError):
        box_mesh([1.0], [2], "quadrilateral")
