"""Unit tests of femiec.meshing.voxel: names, tags, bad input."""
import numpy as np
import pytest

from femiec.errors import InputError
from femiec.meshing.base import BOX_FACETS
from femiec.meshing.voxel import interface_tag, voxel_mesh


def test_names_and_tag_values():
    image = np.zeros((3, 2, 2), dtype=np.uint8)
    image[2] = 85
    data = voxel_mesh(image, voxel_size=1e-6, phase_names={0: "pore", 85: "nmc"})
    assert data.cell_names == {"pore": 0, "nmc": 85}
    assert data.facet_names == {**BOX_FACETS, "pore|nmc": interface_tag(0, 85)}
    assert interface_tag(85, 0) == 1000 + 85
    assert sorted(np.unique(data.cell_tags.values)) == [0, 85]
    pore_only = voxel_mesh(image, phases=[0])
    assert pore_only.cell_names == {"phase0": 0}
    assert "phase0|phase85" in pore_only.facet_names


@pytest.mark.parametrize(
    "image, phases, voxel_size, key",
    [
        (np.zeros((2, 2, 2), np.uint8), [85], 1.0, "phases"),
        (np.zeros((2, 2), np.uint8), None, 1.0, "image"),
        (np.zeros((2, 2, 2)), None, 1.0, "image"),
        (np.full((2, 2, 2), 300, np.int32), None, 1.0, "image values"),
        (np.zeros((2, 2, 2), np.uint8), None, (1.0, -1.0, 1.0), "voxel_size"),
    ],
)
def test_bad_input_is_one_line_error(image, phases, voxel_size, key):
    with pytest.raises(InputError) as err:
        voxel_mesh(image, phases, voxel_size)
    assert err.value.key == key and "\n" not in str(err.value)
