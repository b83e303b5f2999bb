"""Voxel images for homogenization: conductivity maps and the clusters that span the sample.

Image arrays are indexed ``image[ix, iy, iz]`` <-> (x, y, z). A cluster is a set of face-connected voxels
(6-connectivity) of the conducting phase(s); only clusters that touch both faces normal to the flux axis
carry a steady current between them (TauFactor's and PuMA's convention). The clusters are labelled once
and reused for the three axes.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import ndimage

from femiec.errors import InputError
from femiec.meshing.voxel import selected_voxels

AXES: dict[str, int] = {"x": 0, "y": 1, "z": 2}


def phase_conductivities(phases: Sequence[int] | Mapping[int, float]) -> dict[int, float]:
    """voxel value -> relative conductivity: 1 for each value of a list, or the mapping's (> 0) values."""
    table = {int(k): float(v) for k, v in phases.items()} if isinstance(phases, Mapping) else {
        int(p): 1.0 for p in phases}
    for value, sigma in table.items():
        if not sigma > 0:
            raise InputError(f"conductivity of phase {value}", sigma, "a positive number")
    return table


def conductivity_map(image: np.ndarray, table: Mapping[int, float]) -> np.ndarray:
    """Relative conductivity of every voxel (float64 array, 0 on voxels of the other phases)."""
    selected_voxels(image, list(table))  # validates the image and that every phase is present
    values = np.zeros(image.shape)
    for value, sigma in table.items():
        values[image == value] = sigma
    return values


def label_clusters(mask: np.ndarray) -> np.ndarray:
    """Face-connected (6-connectivity) cluster labels of a boolean mask (0 outside the mask)."""
    labels, _ = ndimage.label(mask)
    return labels


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
