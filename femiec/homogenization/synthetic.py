"""Synthetic voxel microstructures for tests and benchmarks (NumPy/SciPy only, deterministic).

``overlapping_spheres`` is a Boolean model: solid spheres of one radius with uniformly random centres
(they overlap freely); the pore is what is left. The sphere radius is adjusted so that the pore fraction
equals ``porosity`` up to the discreteness of the voxel distances.

This module imports nothing from femiec, so scripts/taufactor_reference.py can load it by file path in a
separate Python environment.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

PORE, SOLID = 0, 1


def overlapping_spheres(shape, porosity: float, radius: float, seed: int) -> np.ndarray:
    """uint8 image (0 = pore, 1 = solid) of overlapping solid spheres of about ``radius`` voxels.

    The number of spheres is that of a Boolean model with the given porosity,
    n = -ln(porosity) V / (4/3 pi r^3); the final radius is the distance quantile (to the nearest centre) that
    leaves ``porosity`` of the voxels in the pore. Centres are drawn with
    ``numpy.random.default_rng(seed)``.
    """
    shape = tuple(int(n) for n in shape)
    if not 0.0 < porosity < 1.0:
        raise ValueError(f"porosity {porosity} must lie in (0, 1)")
    rng = np.random.default_rng(seed)
    count = max(1, int(round(-np.log(porosity) * np.prod(shape) / (4.0 / 3.0 * np.pi * radius**3))))
    centres = np.floor(rng.random((count, 3)) * shape).astype(np.int64)
    outside = np.ones(shape, dtype=bool)
    outside[tuple(centres.T)] = False
    distance = ndimage.distance_transform_edt(outside)
    distance += 1e-3 * rng.random(shape)  # breaks ties between equal voxel distances (gaps are >= 0.01)
    return np.where(distance > np.quantile(distance, 1.0 - porosity), PORE, SOLID).astype(np.uint8)
