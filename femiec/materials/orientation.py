"""Crystal orientations as rotation matrices, and the rotation of second-rank tensors.

Convention (one for the whole of femiec): a rotation matrix ``R`` is *active* and maps crystal-frame
components to sample-frame components,

    v_sample = R v_crystal,        T_sample = R T_crystal R^T.

The columns of ``R`` are the crystal axes a1, a2, a3 written in sample coordinates. EBSD software often
stores the *passive* orientation matrix g (sample -> crystal, v_crystal = g v_sample); then R = g^T (pass
``g.T``, or the conjugate quaternion [w, -x, -y, -z]).

Euler angles use intrinsic rotations: for the convention "ZXZ" (Bunge: phi1, Phi, phi2)

    R = Rz(phi1) Rx(Phi) Rz(phi2),

with Rz, Rx the active right-handed rotations about the sample axes. This is the matrix whose transpose is
Bunge's orientation matrix g, and equals ``scipy.spatial.transform.Rotation.from_euler("ZXZ", angles,
degrees=True).as_matrix()``. Any of the 12 intrinsic sequences ("ZXZ", "ZYZ", "XYZ", "ZYX", ...) is
accepted, written in upper case.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from femiec.errors import InputError

#: Largest max |R R^T - I| accepted for a user-given rotation matrix (matrices typed with ~9 digits pass).
ORTHONORMAL_TOLERANCE = 1e-8
#: Largest | |q| - 1 | accepted for a user-given quaternion (it is then normalised exactly).
UNIT_QUATERNION_TOLERANCE = 1e-6

_AXES = {"X": 0, "Y": 1, "Z": 2}


def axis_rotation(axis: str, angle: float) -> np.ndarray:
    """Active right-handed rotation by ``angle`` [rad] about sample axis ``axis`` ("X", "Y" or "Z")."""
    c, s = np.cos(angle), np.sin(angle)
    i = _AXES[axis]
    j, k = (i + 1) % 3, (i + 2) % 3
    R = np.eye(3)
    R[j, j], R[j, k], R[k, j], R[k, k] = c, -s, s, c
    return R


def _valid_convention(convention: object) -> bool:
    return (isinstance(convention, str) and len(convention) == 3 and set(convention) <= set(_AXES)
            and convention[0] != convention[1] and convention[1] != convention[2])


def rotation_from_euler(angles: Sequence[float], convention: str = "ZXZ", degrees: bool = True,
                        key: str = "orientation.euler") -> np.ndarray:
    """Rotation matrix (crystal -> sample) of three intrinsic Euler angles.

    R = R_a(angles[0]) R_b(angles[1]) R_c(angles[2]) for convention "abc" (default "ZXZ" = Bunge
    phi1, Phi, phi2). Angles in degrees unless ``degrees=False`` (radians).
    """
    if not _valid_convention(convention):
        raise InputError(f"{key}.convention", convention,
                         "three upper-case axes from X, Y, Z with no two neighbours equal, e.g. 'ZXZ' (Bunge)")
    a = numeric_array(angles)
    if a is None or a.shape != (3,) or not np.all(np.isfinite(a)):
        raise InputError(key, shown(angles), "three finite Euler angles [phi1, Phi, phi2]")
    if degrees:
        a = np.deg2rad(a)
    return axis_rotation(convention[0], a[0]) @ axis_rotation(convention[1], a[1]) @ axis_rotation(
        convention[2], a[2])


def rotation_from_quaternion(q: Sequence[float], key: str = "orientation.quaternion") -> np.ndarray:
    """Rotation matrix (crystal -> sample) of the unit quaternion q = [w, x, y, z] (scalar first).

    Active convention: v_sample = q v_crystal q*. |q| must be 1 within UNIT_QUATERNION_TOLERANCE; q is
    then normalised exactly. q and -q give the same rotation.
    """
    a = numeric_array(q)
    if a is None or a.shape != (4,) or not np.all(np.isfinite(a)):
        raise InputError(key, shown(q), "four finite numbers [w, x, y, z]")
    norm = float(np.linalg.norm(a))
    if abs(norm - 1.0) > UNIT_QUATERNION_TOLERANCE:
        raise InputError(key, shown(q), f"a unit quaternion (|q| = {norm:.6g}, tolerance {UNIT_QUATERNION_TOLERANCE:g})")
    w, x, y, z = a / norm
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def check_rotation(R: object, key: str = "orientation.matrix") -> np.ndarray:
    """Return ``R`` as a 3x3 float array if it is a proper rotation (R R^T = I, det R = +1)."""
    a = numeric_array(R)
    if a is None or a.shape != (3, 3) or not np.all(np.isfinite(a)):
        raise InputError(key, shown(R), "a 3x3 matrix of finite numbers")
    deviation = float(np.max(np.abs(a @ a.T - np.eye(3))))
    if deviation > ORTHONORMAL_TOLERANCE:
        raise InputError(key, shown(R), f"an orthonormal matrix (max |R R^T - I| = {deviation:.3g}, "
                                 f"tolerance {ORTHONORMAL_TOLERANCE:g})")
    if np.linalg.det(a) < 0:
        raise InputError(key, shown(R), "a proper rotation (det R = +1, not a reflection)")
    return a


def rotate_tensor(T: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Sample-frame tensor R T R^T of the crystal-frame tensor ``T`` (R maps crystal -> sample)."""
    T_sample = R @ np.asarray(T, dtype=float) @ R.T
    return 0.5 * (T_sample + T_sample.T)


def rotation_from_spec(spec: object, key: str = "orientation") -> np.ndarray:
    """Rotation matrix of an orientation table, exactly one of::

        {"euler": [phi1, Phi, phi2], "convention": "ZXZ", "degrees": true}   # convention/degrees optional
        {"matrix": [[...], [...], [...]]}                                     # crystal -> sample
        {"quaternion": [w, x, y, z]}
    """
    if not isinstance(spec, dict):
        raise InputError(key, spec, "a table with one of 'euler', 'matrix' or 'quaternion'")
    kinds = [k for k in ("euler", "matrix", "quaternion") if k in spec]
    if len(kinds) != 1:
        raise InputError(key, spec, "exactly one of 'euler', 'matrix' or 'quaternion'")
    kind = kinds[0]
    allowed = {"euler", "convention", "degrees"} if kind == "euler" else {kind}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise InputError(f"{key}.{unknown[0]}", shown(spec[unknown[0]]), f"only the keys {sorted(allowed)}")
    if kind == "euler":
        degrees = spec.get("degrees", True)
        if not isinstance(degrees, bool):
            raise InputError(f"{key}.degrees", degrees, "true (degrees) or false (radians)")
        return rotation_from_euler(spec["euler"], spec.get("convention", "ZXZ"), degrees, key=f"{key}.euler")
    if kind == "matrix":
        return check_rotation(spec["matrix"], key=f"{key}.matrix")
    return rotation_from_quaternion(spec["quaternion"], key=f"{key}.quaternion")


def shown(value: object) -> object:
    """``value`` for an error message: arrays become (one-line) nested lists."""
    return value.tolist() if isinstance(value, np.ndarray) else value


def numeric_array(value: object) -> np.ndarray | None:
    """``value`` as a float array if it is a (nested, rectangular) sequence of real numbers, else None.

    Strings, booleans and ragged lists give None, so callers can raise an InputError naming the key.
    """
    if isinstance(value, np.ndarray):
        return value.astype(float) if value.dtype.kind in "iuf" else None
    if not isinstance(value, (list, tuple)) or not _all_real(value):
        return None
    try:
        return np.asarray(value, dtype=float)
    except ValueError:  # ragged nesting
        return None


def _all_real(value) -> bool:
    return all(_all_real(v) if isinstance(v, (list, tuple)) else
               isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in value)


def read_orientation_csv(path) -> dict[int, dict]:
    """Grain orientations from a CSV file with rows ``grain_id, phi1, Phi, phi2`` (Bunge ZXZ, degrees).

    Lines starting with ``#`` and a non-numeric header line are skipped. Returns grain id ->
    ``{"euler": [phi1, Phi, phi2]}`` (the orientation spec of :func:`rotation_from_spec`).
    """
    import csv

    from femiec.errors import InputError

    table: dict[int, dict] = {}
    with open(path, newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or row[0].lstrip().startswith("#"):
                continue
            try:
                gid, *angles = (float(x) for x in row)
            except ValueError:
                if number == 1:
                    continue  # header
                raise InputError(f"{path}:{number}", ",".join(row), "grain_id, phi1, Phi, phi2 (numbers)") from None
            if len(angles) != 3 or not all(map(math.isfinite, (gid, *angles))) or gid != int(gid):
                raise InputError(f"{path}:{number}", ",".join(row), "grain_id, phi1, Phi, phi2 (4 finite numbers)")
            table[int(gid)] = {"euler": angles}
    if not table:
        raise InputError("grains.orientations", str(path), "at least one row grain_id, phi1, Phi, phi2")
    return table
