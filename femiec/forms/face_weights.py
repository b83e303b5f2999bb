"""Per-face weights of a voxel mesh picked on a facet (pure UFL).

A DG0 vector W with one value per cell face (6 components: -x, +x, -y, +y, -z, +z) gives on a facet with
the cell's outward unit normal n (an axis direction on a voxel mesh) the weight of that face:

    w = sum_k W_(2k+1) max(n_k, 0) + W_(2k) max(-n_k, 0)                        [-]

(femiec.meshing.interface_area: w |f| sums to the smooth area of the surface the voxels sample).
"""
from __future__ import annotations

import ufl


def picked_face_weight(W, n, tdim: int = 3):
    """The weight w (module doc) of the face with outward normal ``n`` from the per-face values ``W``."""
    return sum(W[2 * k + 1] * ufl.max_value(n[k], 0) + W[2 * k] * ufl.max_value(-n[k], 0) for k in range(tdim))
