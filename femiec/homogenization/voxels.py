"""Voxel images for homogenization: conductivity maps and the clusters that span the sample.

Image arrays are indexed ``image[ix, iy, iz]`` <-> (x, y, z). A cluster is a set of face-connected voxels
(6-connectivity) of the conducting phase(s); only clusters that touch both faces normal to the flux axis
carry a steady current between them (TauFactor's and PuMA's convention). The clusters are labelled once
and reused for the three axes.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from femiec.errors import InputError

AXES: dict[str, int] = {"x": 0, "y": 1, "z": 2}


def phase_conductivities(phases: Sequence[int] | Mapping[int, object]) -> dict[int, np.ndarray]:
    """voxel value -> relative conductivity tensor (3x3): the identity for each value of a list, or the
    mapping's specs (a positive number, a 3x3 matrix or a symmetry table, see femiec.materials.tensors)."""
    from femiec.materials.tensors import tensor_from_spec

    if isinstance(phases, Mapping):
        return {int(k): tensor_from_spec(v, key=f"conductivity of phase {k}") for k, v in phases.items()}
    return {int(p): np.eye(3) for p in phases}


def scalar_conductivities(table: Mapping[int, np.ndarray], method: str) -> dict[int, float]:
    """The isotropic conductivities k of ``table`` (K = k I); InputError for an anisotropic phase."""
    scalars = {}
    for value, tensor in table.items():
        k = float(np.trace(tensor)) / 3.0
        if not np.allclose(tensor, k * np.eye(3), rtol=1e-12, atol=0.0):
            raise InputError(f"conductivity of phase {value}", tensor.tolist(),
                             f"an isotropic (scalar) conductivity for method {method!r}; anisotropic phases "
                             "need 'fe' or 'periodic'")
        scalars[value] = k
    return scalars


def conductivity_map(image: np.ndarray, table: Mapping[int, float]) -> np.ndarray:
    """Relative conductivity of every voxel (float64 array, 0 on voxels of the other phases)."""
    values = np.zeros(image.shape)
    for value, sigma in table.items():
        values[image == value] = sigma
    return values


def spanning_mask(labels: np.ndarray, axis: int) -> np.ndarray:
    """Voxels of the clusters that touch both faces normal to ``axis`` (boolean array)."""
    first = np.unique(np.take(labels, 0, axis=axis))
    last = np.unique(np.take(labels, -1, axis=axis))
    spanning = np.intersect1d(first[first > 0], last[last > 0])
    lookup = np.zeros(int(labels.max()) + 1, dtype=bool)
    lookup[spanning] = True
    return lookup[labels]


def axis_names(axes: Sequence[str | int] | str) -> list[str]:
    """Normalized list of axis names from ``"x"``, ``"all"``, ``["x", "z"]`` or ``[0, 2]``."""
    if isinstance(axes, str):
        axes = list(AXES) if axes == "all" else [axes]
    names = []
    for axis in axes:
        name = "xyz"[axis] if isinstance(axis, (int, np.integer)) and 0 <= axis <= 2 else axis
        if name not in AXES:
            raise InputError("axis", axis, "'x', 'y', 'z' or 'all'")
        if name not in names:
            names.append(name)
    return names


def contact_resistances(spec, phases: Sequence[int]) -> dict[tuple[int, int], float]:
    """{(a, b): R_c} from {(a, b): R_c} or {"a:b": R_c}: specific contact resistances (ohm m^2 for
    conductivities in S/m) between two different conducting phases; InputError for anything else."""
    if not isinstance(spec, Mapping):
        raise InputError("contact_resistance", spec, "a mapping {(a, b): R_c} or {'a:b': R_c}")
    table = {}
    for key, value in spec.items():
        pair = key.split(":") if isinstance(key, str) else key
        try:
            a, b = (int(p) for p in pair)
        except (TypeError, ValueError):
            raise InputError("contact_resistance", key, "a pair of phase values (a, b) or 'a:b'") from None
        name = f"contact_resistance {a}:{b}"
        for p in (a, b):
            if p not in phases:
                raise InputError(name, p, f"a conducting phase value ({sorted(phases)})")
        if a == b:
            raise InputError(name, key, "two different phases")
        try:
            r = float(value)
        except (TypeError, ValueError):
            raise InputError(name, value, "a specific resistance in ohm m^2") from None
        if not (np.isfinite(r) and r >= 0):
            raise InputError(name, value, "a finite specific resistance >= 0 in ohm m^2")
        table[(min(a, b), max(a, b))] = r
    return table
