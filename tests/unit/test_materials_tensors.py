"""Tensor specs, symmetry classes, orientations and their validation errors (pure NumPy)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from femiec.errors import InputError
from femiec.materials.orientation import (check_rotation, rotate_tensor, rotation_from_euler,
                                          rotation_from_quaternion, rotation_from_spec)
from femiec.materials.tensors import (SYMMETRY_VALUES, check_tensor, orientation_table, plane_block,
                                      symmetric_tensor, tensor_from_spec)


def test_scalar_and_matrix_specs():
    assert np.array_equal(tensor_from_spec(2.5), 2.5 * np.eye(3))
    assert np.array_equal(tensor_from_spec(3), 3.0 * np.eye(3))
    M = [[2.0, 0.1, 0.0], [0.1, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert np.array_equal(tensor_from_spec(M), np.array(M))


@pytest.mark.parametrize("symmetry, values, expected", [
    ("cubic", [2.0], np.diag([2.0, 2.0, 2.0])),
    ("tetragonal", [3.0, 1.0], np.diag([3.0, 3.0, 1.0])),
    ("hexagonal", [3.0, 1.0], np.diag([3.0, 3.0, 1.0])),
    ("trigonal", [3.0, 1.0], np.diag([3.0, 3.0, 1.0])),
    ("orthorhombic", [1.0, 2.0, 3.0], np.diag([1.0, 2.0, 3.0])),
    ("monoclinic", [1.0, 2.0, 3.0, 0.5], np.array([[1.0, 0, 0.5], [0, 2.0, 0], [0.5, 0, 3.0]])),
    ("triclinic", [4.0, 5.0, 6.0, 0.1, 0.2, 0.3], np.array([[4.0, 0.3, 0.2], [0.3, 5.0, 0.1], [0.2, 0.1, 6.0]])),
])
def test_symmetry_classes(symmetry, values, expected):
    assert np.array_equal(tensor_from_spec({"symmetry": symmetry, "values": values}), expected)


@pytest.mark.parametrize("symmetry", sorted(SYMMETRY_VALUES))
def test_symmetry_class_refuses_wrong_number_of_values(symmetry):
    n = SYMMETRY_VALUES[symmetry]
    with pytest.raises(InputError, match=rf"k\.values: .*expected {n} number"):
        symmetric_tensor(symmetry, [1.0] * (n + 1), key="k")


def test_unknown_symmetry_and_keys():
    with pytest.raises(InputError, match=r"sigma\.symmetry: 'cubical' \(expected one of cubic"):
        tensor_from_spec({"symmetry": "cubical", "values": [1.0]}, key="sigma")
    with pytest.raises(InputError, match=r"sigma\.value: .*only the keys"):
        tensor_from_spec({"symmetry": "cubic", "value": [1.0]}, key="sigma")
    with pytest.raises(InputError, match=r"sigma: .*'symmetry' and 'values'"):
        tensor_from_spec({"values": [1.0]}, key="sigma")


@pytest.mark.parametrize("spec, expected", [
    (0.0, "positive finite number"),
    (-1.0, "positive finite number"),
    (float("nan"), "positive finite number"),
    (float("inf"), "positive finite number"),
    (True, "positive number"),
    ("1.0", "3x3"),
    ([[1.0, 0.0], [0.0, 1.0]], "3x3 matrix"),
    ([[1.0, 0.0, 0.0], [0.0, 1.0]], "3x3"),
    ([[1.0, 0.5, 0.0], [0.4, 1.0, 0.0], [0.0, 0.0, 1.0]], "symmetric matrix"),
    ([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]], "positive-definite"),
    ([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]], "positive-definite"),
    ([[1.0, 0.0, 0.0], [0.0, float("nan"), 0.0], [0.0, 0.0, 1.0]], "finite entries"),
    ({"symmetry": "tetragonal", "values": [1.0, -1.0]}, "positive-definite"),
    ({"symmetry": "cubic", "values": [float("inf")]}, "finite numbers"),
])
def test_tensor_refusals_name_key_value_and_expectation(spec, expected):
    with pytest.raises(InputError) as err:
        tensor_from_spec(spec, key="materials.gdc.conductivity")
    message = str(err.value)
    assert message.startswith("materials.gdc.conductivity")
    assert expected in message and "\n" not in message


def test_asymmetry_tolerance_is_relative():
    T = np.diag([1e6, 1e6, 1e6])
    T[0, 1] = 1e-7  # relative 1e-13: accepted, symmetrised
    assert check_tensor(T)[0, 1] == pytest.approx(0.5e-7)
    T[0, 1] = 1e-5  # relative 1e-11: refused
    with pytest.raises(InputError, match="relative asymmetry"):
        check_tensor(T)


def test_euler_bunge_matches_scipy_intrinsic_zxz():
    angles = [30.0, 45.0, 60.0]
    expected = Rotation.from_euler("ZXZ", angles, degrees=True).as_matrix()
    assert np.allclose(rotation_from_euler(angles), expected, atol=1e-15)
    assert np.allclose(rotation_from_euler(np.deg2rad(angles), degrees=False), expected, atol=1e-15)
    for convention in ("ZYZ", "XYZ", "ZYX", "YXY"):
        expected = Rotation.from_euler(convention, angles, degrees=True).as_matrix()
        assert np.allclose(rotation_from_euler(angles, convention), expected, atol=1e-15)


def test_rotation_maps_crystal_axis_to_sample():
    """Bunge (0, 90, 0): crystal c axis (z) -> sample -y (rotation of +90 deg about x)."""
    R = rotation_from_euler([0.0, 90.0, 0.0])
    assert np.allclose(R @ [0, 0, 1], [0, -1, 0], atol=1e-15)
    K = rotate_tensor(np.diag([3.0, 3.0, 1.0]), R)
    assert np.allclose(K, np.diag([3.0, 1.0, 3.0]), atol=1e-15)


def test_quaternion_matches_scipy_and_refuses_non_unit():
    q = np.array([0.9, 0.1, -0.3, 0.2])
    q /= np.linalg.norm(q)
    expected = Rotation.from_quat([q[1], q[2], q[3], q[0]]).as_matrix()  # scipy: scalar last
    assert np.allclose(rotation_from_quaternion(q), expected, atol=1e-15)
    with pytest.raises(InputError, match=r"q: .*unit quaternion \(\|q\| = 1\.1"):
        rotation_from_quaternion([1.1, 0.0, 0.0, 0.0], key="q")
    with pytest.raises(InputError, match="four finite numbers"):
        rotation_from_quaternion([1.0, 0.0, 0.0], key="q")


def test_rotation_matrix_checks():
    R = rotation_from_euler([10.0, 20.0, 30.0])
    assert np.array_equal(check_rotation(R), R)
    with pytest.raises(InputError, match=r"m: .*orthonormal matrix"):
        check_rotation(2.0 * R, key="m")
    with pytest.raises(InputError, match=r"m: .*proper rotation"):
        check_rotation(-np.eye(3), key="m")
    with pytest.raises(InputError, match="3x3 matrix"):
        check_rotation(np.eye(2), key="m")


def test_orientation_specs_and_errors():
    R = rotation_from_euler([10.0, 20.0, 30.0])
    q = Rotation.from_matrix(R).as_quat()  # x, y, z, w
    quaternion = [q[3], q[0], q[1], q[2]]
    for spec in ({"euler": [10.0, 20.0, 30.0]}, {"euler": np.deg2rad([10, 20, 30]).tolist(), "degrees": False},
                 {"matrix": R.tolist()}, {"quaternion": quaternion}):
        assert np.allclose(rotation_from_spec(spec), R, atol=1e-14)
    with pytest.raises(InputError, match=r"o\.euler\.convention: 'ZZX' \(expected three upper-case axes"):
        rotation_from_spec({"euler": [1, 2, 3], "convention": "ZZX"}, key="o")
    with pytest.raises(InputError, match=r"o\.euler\.convention: 'zxz'"):
        rotation_from_spec({"euler": [1, 2, 3], "convention": "zxz"}, key="o")
    with pytest.raises(InputError, match="exactly one of"):
        rotation_from_spec({"euler": [1, 2, 3], "matrix": R.tolist()}, key="o")
    with pytest.raises(InputError, match=r"o\.degrees"):
        rotation_from_spec({"euler": [1, 2, 3], "degrees": "yes"}, key="o")
    with pytest.raises(InputError, match=r"o\.convention: .*only the keys"):
        rotation_from_spec({"matrix": R.tolist(), "convention": "ZXZ"}, key="o")
    with pytest.raises(InputError, match=r"o\.euler: .*three finite Euler angles"):
        rotation_from_spec({"euler": [1, 2]}, key="o")


def test_oriented_spec_rotates_crystal_tensor():
    spec = {"symmetry": "hexagonal", "values": [10.0, 0.1],
            "orientation": {"euler": [30.0, 45.0, 0.0], "convention": "ZXZ"}}
    R = Rotation.from_euler("ZXZ", [30.0, 45.0, 0.0], degrees=True).as_matrix()
    K = tensor_from_spec(spec)
    assert np.allclose(K, R @ np.diag([10.0, 10.0, 0.1]) @ R.T, atol=1e-14)
    assert np.allclose(np.linalg.eigvalsh(K), [0.1, 10.0, 10.0])
    with pytest.raises(InputError, match=r"s\.orientation\.quaternion"):
        tensor_from_spec({"symmetry": "cubic", "values": [1.0], "orientation": {"quaternion": [2, 0, 0, 0]}},
                         key="s")


def test_orientation_table_forms():
    eulers = np.array([[0.0, 0.0, 0.0], [90.0, 0.0, 0.0]])
    table = orientation_table(eulers)
    assert np.allclose(table[1] @ [1, 0, 0], [0, 1, 0], atol=1e-15)
    quats = np.array([[1.0, 0, 0, 0], [np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)]])
    assert np.allclose(orientation_table(quats)[1], table[1], atol=1e-15)
    assert np.allclose(orientation_table(np.stack([np.eye(3), table[1]]))[1], table[1])
    assert np.allclose(orientation_table({7: {"euler": [90, 0, 0]}, 8: np.eye(3)})[7], table[1])
    with pytest.raises(InputError, match=r"orientations: "):
        orientation_table(np.zeros((2, 5)))
    with pytest.raises(InputError, match=r"orientations\[1\]"):
        orientation_table(np.array([[1.0, 0, 0, 0], [2.0, 0, 0, 0]]))


def test_plane_block_is_leading_2x2():
    K = tensor_from_spec([[3.0, 1.0, 0.5], [1.0, 2.0, 0.2], [0.5, 0.2, 1.0]])
    assert np.array_equal(plane_block(K, 2), [[3.0, 1.0], [1.0, 2.0]])
    assert check_tensor(plane_block(K, 2)).shape == (2, 2)
