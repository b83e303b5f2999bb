"""Second-rank transport tensors (conductivity, diffusivity, permittivity, thermal conductivity).

A property is a symmetric positive-definite 3x3 tensor K in the sample frame; flux = -K grad u. Its form in
the crystal frame follows the crystal symmetry (Neumann's principle, Nye, *Physical Properties of
Crystals*, 1957, ch. 1):

============== ======= =====================================================================
symmetry       values  crystal-frame tensor
============== ======= =====================================================================
cubic          1       [a]: a I
tetragonal     2       [a, c]: diag(a, a, c), c along the crystal z axis (the c axis)
hexagonal      2       same as tetragonal
trigonal       2       same as tetragonal
orthorhombic   3       [a, b, c]: diag(a, b, c) along crystal x, y, z
monoclinic     4       [xx, yy, zz, xz]: unique (2-fold) axis along crystal y ("unique axis b"),
                       so xy = yz = 0
triclinic      6       [xx, yy, zz, yz, xz, xy] (Voigt order)
============== ======= =====================================================================

The crystal-frame tensor is rotated to the sample frame by the orientation R (crystal -> sample, see
:mod:`femiec.materials.orientation`): K_sample = R K_crystal R^T.

Spec accepted by :func:`tensor_from_spec` (Python and case files alike)::

    2.5                                       # isotropic, K = 2.5 I
    [[2, 0.1, 0], [0.1, 1, 0], [0, 0, 1]]     # full symmetric matrix, sample frame
    {symmetry = "hexagonal", values = [10.0, 0.1], orientation = {euler = [30, 45, 0]}}

Two-dimensional meshes (x, y) use the leading 2x2 block of the 3x3 tensor (:func:`plane_block`). This is
exact for a body that is invariant along z (no gradient along z): the in-plane flux is then
K[:2, :2] grad u whatever K_xz, K_yz are; the out-of-plane flux K_zx u_x + K_zy u_y has zero divergence.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from femiec.errors import InputError
from femiec.materials.orientation import (check_rotation, numeric_array, rotate_tensor, rotation_from_euler,
                                          rotation_from_quaternion, rotation_from_spec, shown)

#: Largest relative asymmetry max|K - K^T| / max|K| accepted.
SYMMETRY_TOLERANCE = 1e-12

#: Number of independent values of each symmetry class (crystal frame).
SYMMETRY_VALUES: dict[str, int] = {
    "cubic": 1, "tetragonal": 2, "hexagonal": 2, "trigonal": 2, "orthorhombic": 3, "monoclinic": 4,
    "triclinic": 6,
}

_SYMMETRY_LAYOUT = {
    "cubic": "[a]",
    "tetragonal": "[a, c] (in-plane, along the c axis)",
    "hexagonal": "[a, c] (in-plane, along the c axis)",
    "trigonal": "[a, c] (in-plane, along the c axis)",
    "orthorhombic": "[a, b, c]",
    "monoclinic": "[xx, yy, zz, xz] (unique axis y)",
    "triclinic": "[xx, yy, zz, yz, xz, xy]",
}


def check_tensor(T: object, key: str = "tensor") -> np.ndarray:
    """Return ``T`` as a float array if it is a finite, symmetric, positive-definite 2x2 or 3x3 matrix.

    Symmetric means max|T - T^T| <= SYMMETRY_TOLERANCE * max|T|; the returned array is (T + T^T)/2.
    """
    a = numeric_array(T)
    if a is None or a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] not in (2, 3):
        raise InputError(key, shown(T), "a 3x3 (or 2x2) matrix of numbers")
    if not np.all(np.isfinite(a)):
        raise InputError(key, shown(T), "finite entries (no nan or inf)")
    scale = float(np.max(np.abs(a)))
    asymmetry = float(np.max(np.abs(a - a.T)))
    if asymmetry > SYMMETRY_TOLERANCE * scale:
        raise InputError(key, shown(T), f"a symmetric matrix (relative asymmetry {asymmetry / scale:.3g} > "
                                 f"{SYMMETRY_TOLERANCE:g})")
    sym = 0.5 * (a + a.T)
    smallest = float(np.linalg.eigvalsh(sym)[0]) if scale > 0 else 0.0
    if smallest <= 0:
        raise InputError(key, shown(T), f"a positive-definite matrix (smallest eigenvalue {smallest:.6g})")
    return sym


def symmetric_tensor(symmetry: str, values: object, key: str = "tensor") -> np.ndarray:
    """Crystal-frame 3x3 tensor of a symmetry class from its independent values (table in module doc)."""
    if symmetry not in SYMMETRY_VALUES:
        raise InputError(f"{key}.symmetry", symmetry, f"one of {', '.join(SYMMETRY_VALUES)}")
    n = SYMMETRY_VALUES[symmetry]
    v = numeric_array(values)
    if v is None or v.shape != (n,):
        raise InputError(f"{key}.values", shown(values),
                         f"{n} number{'s' if n > 1 else ''} for {symmetry} symmetry: {_SYMMETRY_LAYOUT[symmetry]}")
    if not np.all(np.isfinite(v)):
        raise InputError(f"{key}.values", shown(values), "finite numbers (no nan or inf)")
    if n == 1:
        T = v[0] * np.eye(3)
    elif n == 2:
        T = np.diag([v[0], v[0], v[1]])
    elif n == 3:
        T = np.diag(v)
    elif n == 4:
        T = np.diag(v[:3])
        T[0, 2] = T[2, 0] = v[3]
    else:
        xx, yy, zz, yz, xz, xy = v
        T = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    try:
        return check_tensor(T, key)
    except InputError as err:
        raise InputError(f"{key}.values", shown(values), err.expected) from None


def tensor_from_spec(spec: object, key: str = "tensor") -> np.ndarray:
    """Validated sample-frame 3x3 tensor of a property spec (a positive number, a 3x3 matrix or a
    symmetry-class table with optional orientation; see the module docstring). InputError names ``key``."""
    if isinstance(spec, bool):
        raise InputError(key, spec, "a positive number, a 3x3 matrix or a table with 'symmetry' and 'values'")
    if isinstance(spec, (int, float, np.integer, np.floating)):
        value = float(spec)
        if not np.isfinite(value) or value <= 0:
            raise InputError(key, spec, "a positive finite number")
        return value * np.eye(3)
    if isinstance(spec, Mapping):
        return _tensor_from_table(dict(spec), key)
    a = check_tensor(spec, key)
    if a.shape != (3, 3):
        raise InputError(key, shown(spec), "a 3x3 matrix")
    return a


def _tensor_from_table(spec: dict, key: str) -> np.ndarray:
    unknown = sorted(set(spec) - {"symmetry", "values", "orientation"})
    if unknown:
        raise InputError(f"{key}.{unknown[0]}", shown(spec[unknown[0]]), "only the keys symmetry, values, orientation")
    if "symmetry" not in spec or "values" not in spec:
        raise InputError(key, spec, "a table with 'symmetry' and 'values' (and optional 'orientation')")
    T = symmetric_tensor(spec["symmetry"], spec["values"], key)
    if "orientation" in spec:
        T = rotate_tensor(T, rotation_from_spec(spec["orientation"], key=f"{key}.orientation"))
    return T


def plane_block(T: np.ndarray, gdim: int) -> np.ndarray:
    """The leading gdim x gdim block of a 3x3 tensor (the x-y block on 2D meshes; see module doc), as a
    C-contiguous array (what ``dolfinx.fem.Constant`` takes)."""
    return np.ascontiguousarray(np.asarray(T, dtype=float)[:gdim, :gdim])


def orientation_table(orientations: object, key: str = "orientations", convention: str = "ZXZ",
                      degrees: bool = True) -> dict[int, np.ndarray]:
    """Rotation matrix (crystal -> sample) of each grain id.

    ``orientations`` is either a mapping grain id -> orientation spec (a table accepted by
    :func:`femiec.materials.orientation.rotation_from_spec`, or a 3x3 rotation matrix), or an array whose
    row i belongs to grain i: shape (n, 3) Euler angles (``convention``, ``degrees``), (n, 4) unit
    quaternions [w, x, y, z] or (n, 3, 3) rotation matrices.
    """
    if isinstance(orientations, Mapping):
        table = {}
        for gid, spec in orientations.items():
            k = f"{key}[{gid}]"
            table[int(gid)] = rotation_from_spec(spec, k) if isinstance(spec, Mapping) else check_rotation(spec, k)
        return table
    a = numeric_array(orientations)
    if a is not None and a.ndim == 2 and a.shape[1] == 3:
        return {i: rotation_from_euler(row, convention, degrees, key=f"{key}[{i}]") for i, row in enumerate(a)}
    if a is not None and a.ndim == 2 and a.shape[1] == 4:
        return {i: rotation_from_quaternion(row, key=f"{key}[{i}]") for i, row in enumerate(a)}
    if a is not None and a.shape[1:] == (3, 3):
        return {i: check_rotation(row, key=f"{key}[{i}]") for i, row in enumerate(a)}
    raise InputError(key, shown(orientations), "a mapping grain id -> orientation, or an array of shape (n, 3) Euler "
                                        "angles, (n, 4) quaternions or (n, 3, 3) rotation matrices")


# ------------------------------------------------------------------------------------ DOLFINx coefficients
def tensor_coefficient(meshdata, values_by_tag: Mapping, name: str = "tensor"):
    """DG0 tensor Function (shape (gdim, gdim)) equal to ``values_by_tag[tag]`` on the cells with that tag.

    Keys are integer cell tags or cell-region names of ``meshdata``; values are anything
    :func:`tensor_from_spec` accepts (SI units of the property). A mesh without cell tags takes a single
    entry, used on every cell. Every cell must receive a tensor and every key must exist in the mesh
    (InputError otherwise, on all ranks).
    """
    mesh = meshdata.mesh
    gdim = mesh.geometry.dim
    tensors = {}
    for tag, spec in values_by_tag.items():
        value = meshdata.cell_tag(tag) if isinstance(tag, str) else int(tag)
        tensors[value] = plane_block(tensor_from_spec(spec, key=f"{name}[{tag}]"), gdim)
    if meshdata.cell_tags is None:
        if len(tensors) != 1:
            raise InputError(name, sorted(tensors), "a single value (the mesh has no cell tags)")
        labels = np.full(_num_cells(mesh), next(iter(tensors)), dtype=np.int64)
    else:
        labels = np.full(_num_cells(mesh), -1, dtype=np.int64)
        labels[meshdata.cell_tags.indices] = meshdata.cell_tags.values
        absent = sorted(set(tensors) - _global_labels(mesh.comm, labels[: _num_owned(mesh)]))
        if absent:
            raise InputError(name, absent, "cell tags present in the mesh")
    return _dg0_tensor_function(mesh, labels, tensors, name, what="cell tag")


def grain_tensor_field(meshdata, grains: object, orientations: object, principal: object,
                       name: str = "tensor", voxel_size=None, origin=None, convention: str = "ZXZ",
                       degrees: bool = True):
    """DG0 tensor Function R_g K R_g^T on each cell, with g the cell's grain (EBSD/DCT-like input).

    Args:
        meshdata: the mesh (``MeshData``).
        grains: grain id of each cell, given as one of
            - a labelled volume: integer array of shape (nx, ny, nz) (or (nx, ny) on 2D meshes) indexed
              image[ix, iy, iz] <-> (x, y, z); a cell takes the label of the voxel containing its midpoint;
            - a ``MeshTags`` of cells whose values are grain ids (e.g. ``meshdata.cell_tags``);
            - a 1-D integer array with one grain id per local cell (owned, optionally followed by ghosts).
        orientations: rotation of each grain id (see :func:`orientation_table`).
        principal: crystal-frame tensor of the phase (any :func:`tensor_from_spec` spec, SI units).
        voxel_size: voxel edge lengths [m] (scalar or per axis) of a labelled volume; default: the mesh
            bounding box divided by the array shape.
        origin: sample coordinates [m] of the corner of voxel (0, 0, 0); default: the mesh's lower corner.
        convention, degrees: Euler convention of an (n, 3) orientation array.
    """
    mesh = meshdata.mesh
    gdim = mesh.geometry.dim
    K = tensor_from_spec(principal, key=f"{name}.principal")
    labels = _cell_grain_ids(mesh, grains, voxel_size, origin)
    rotations = orientation_table(orientations, key=f"{name}.orientations", convention=convention,
                                  degrees=degrees)
    tensors = {gid: plane_block(rotate_tensor(K, R), gdim) for gid, R in rotations.items()}
    return _dg0_tensor_function(mesh, labels, tensors, name, what="grain id")


def _num_owned(mesh) -> int:
    return mesh.topology.index_map(mesh.topology.dim).size_local


def _num_cells(mesh) -> int:
    imap = mesh.topology.index_map(mesh.topology.dim)
    return imap.size_local + imap.num_ghosts


def _global_labels(comm, labels: np.ndarray) -> set[int]:
    local = {int(v) for v in np.unique(labels)}
    return set().union(*comm.allgather(local))


def _cell_grain_ids(mesh, grains, voxel_size, origin) -> np.ndarray:
    """Grain id of every local cell (owned then ghosts; -1 where unknown)."""
    n_owned, n_all = _num_owned(mesh), _num_cells(mesh)
    if hasattr(grains, "indices") and hasattr(grains, "values"):
        labels = np.full(n_all, -1, dtype=np.int64)
        labels[grains.indices] = grains.values
        return labels
    a = np.asarray(grains)
    if a.dtype.kind not in "iu":
        raise InputError("grains", f"array of dtype {a.dtype}", "integer grain ids (a labelled volume, cell MeshTags or a per-cell array)")
    if a.ndim == 1 and a.size in (n_owned, n_all):
        labels = np.full(n_all, -1, dtype=np.int64)
        labels[: a.size] = a
        return labels
    if a.ndim == mesh.geometry.dim:
        return _labels_from_volume(mesh, a, voxel_size, origin)
    raise InputError("grains", f"array of shape {a.shape}", f"a labelled volume of dimension "
                     f"{mesh.geometry.dim} or one id per local cell ({n_owned})")


def _labels_from_volume(mesh, volume: np.ndarray, voxel_size, origin) -> np.ndarray:
    """Label of the voxel containing each local cell's midpoint."""
    from dolfinx.mesh import compute_midpoints

    from femiec.meshing.base import bounding_box

    gdim = mesh.geometry.dim
    lower, upper = (corner[:gdim] for corner in bounding_box(mesh))
    shape = np.array(volume.shape)
    corner = lower if origin is None else np.broadcast_to(np.asarray(origin, dtype=float), (gdim,))
    h = (upper - lower) / shape if voxel_size is None else np.broadcast_to(np.asarray(voxel_size, float), (gdim,))
    if np.any(h <= 0):
        raise InputError("voxel_size", shown(voxel_size), "positive voxel edge lengths [m]")
    cells = np.arange(_num_cells(mesh), dtype=np.int32)
    mid = compute_midpoints(mesh, mesh.topology.dim, cells)[:, :gdim]
    index = np.clip(np.floor((mid - corner) / h).astype(np.int64), 0, shape - 1)
    return volume[tuple(index.T)].astype(np.int64)


def _dg0_tensor_function(mesh, labels: np.ndarray, tensors: dict[int, np.ndarray], name: str, what: str):
    """DG0 (gdim, gdim) Function with tensors[labels[c]] on local cell c; InputError (all ranks) if an
    owned cell's label has no tensor."""
    from dolfinx import fem

    n_owned = _num_owned(mesh)
    missing = sorted(_global_labels(mesh.comm, labels[:n_owned]) - set(tensors))
    if missing:
        raise InputError(name, f"{what}s {missing[:10]}", f"a tensor for every {what} of the mesh")
    gdim = mesh.geometry.dim
    V = fem.functionspace(mesh, ("DG", 0, (gdim, gdim)))
    f = fem.Function(V, name=name)
    values = np.zeros((n_owned, gdim * gdim))
    for label, T in tensors.items():
        values[labels[:n_owned] == label] = np.asarray(T).ravel()
    dofs = V.dofmap.list[:n_owned, 0]
    f.x.array.reshape(-1, gdim * gdim)[dofs] = values
    f.x.scatter_forward()
    return f
