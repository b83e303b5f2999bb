"""Closed-form references for effective transport properties of two-phase microstructures.

Conductivities in any consistent unit (S/m, m^2/s, ...); volume fractions are dimensionless. Laminates
(arithmetic/harmonic means, the rotated laminate tensor) live in :mod:`femiec.analytic.laminates`.

References:
- D. R. McKenzie, R. C. McPhedran, G. H. Derrick, Proc. R. Soc. Lond. A 362 (1978) 211: Rayleigh's method
  for the simple cubic array of spheres (the 1.305 coefficient of the octupole term).
- Z. Hashin, S. Shtrikman, J. Appl. Phys. 33 (1962) 3125: bounds for isotropic two-phase composites.
- D. A. G. Bruggeman, Ann. Phys. 416 (1935) 636; tau = eps^(1 - alpha) as used for porous electrodes
  (e.g. B. Tjaden et al., Curr. Opin. Chem. Eng. 12 (2016) 44).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def rayleigh_simple_cubic(sphere_fraction: float, sphere_conductivity: float = 0.0,
                          matrix_conductivity: float = 1.0) -> float:
    """Effective conductivity of a simple cubic array of spheres in a matrix (Rayleigh's series).

        sigma_eff / sigma_m = 1 - 3 f / (1/b1 + f - 1.305 b3 f^(10/3)),
        b1 = (1 - r) / (2 + r),  b3 = (1 - r) / (4/3 + r),  r = sigma_s / sigma_m

    (dipole and octupole terms; McKenzie, McPhedran & Derrick 1978). For insulating spheres (r = 0) this
    gives 0.85711, 0.72670, 0.60566 at f = 0.1, 0.2, 0.3; the neglected terms are O(f^(14/3)), below
    1e-4 relative for f <= 0.3. Valid for f below the touching limit pi/6.
    """
    f = float(sphere_fraction)
    if not 0.0 <= f < math.pi / 6:
        raise ValueError(f"sphere fraction {f} must lie in [0, pi/6)")
    r = sphere_conductivity / matrix_conductivity
    if r == 1.0 or f == 0.0:
        return float(matrix_conductivity)
    b1 = (1.0 - r) / (2.0 + r)
    b3 = (1.0 - r) / (4.0 / 3.0 + r)
    return matrix_conductivity * (1.0 - 3.0 * f / (1.0 / b1 + f - 1.305 * b3 * f ** (10.0 / 3.0)))


def hashin_shtrikman_bounds(conductivities: Sequence[float], fractions: Sequence[float]) -> tuple[float, float]:
    """(lower, upper) Hashin-Shtrikman bounds of an isotropic mixture of isotropic phases in 3D.

        lower = L(k_min), upper = L(k_max),  L(s) = 1 / sum_i (f_i / (k_i + 2 s)) - 2 s

    (for two phases: upper = k_1 + f_2 / (1/(k_2 - k_1) + f_1/(3 k_1)) with k_1 >= k_2). A phase with
    k_i = 0 makes the lower bound 0.
    """
    k = np.asarray(conductivities, dtype=float)
    f = np.asarray(fractions, dtype=float)
    if k.shape != f.shape or np.any(f < 0) or not np.isclose(f.sum(), 1.0, rtol=0, atol=1e-12):
        raise ValueError(f"volume fractions {fractions} must be non-negative, one per phase, summing to 1")
    present = f > 0
    k, f = k[present], f[present]

    def bound(s: float) -> float:
        if s == 0.0:
            return 0.0 if np.any(k == 0.0) else float(1.0 / np.sum(f / k))
        return float(1.0 / np.sum(f / (k + 2.0 * s)) - 2.0 * s)

    return bound(float(k.min())), bound(float(k.max()))


def hashin_shtrikman_upper_insulating(volume_fraction: float) -> float:
    """Upper bound of D_eff/D0 of a conducting phase (fraction eps) in an insulating one: 2 eps / (3 - eps)."""
    eps = float(volume_fraction)
    return 2.0 * eps / (3.0 - eps)


def bruggeman_ratio(volume_fraction: float, exponent: float = 1.5) -> float:
    """Bruggeman's relation D_eff/D0 = eps^alpha (alpha = 1.5 for spheres); tau = eps^(1 - alpha)."""
    return float(volume_fraction) ** exponent


def bruggeman_exponent(volume_fraction: float, deff_ratio: float) -> float | None:
    """The exponent alpha with eps^alpha = D_eff/D0, i.e. ln(D_eff/D0) / ln(eps).

    None when it is undefined (eps = 1, eps = 0 or D_eff = 0).
    """
    eps = float(volume_fraction)
    if not 0.0 < eps < 1.0 or not deff_ratio > 0.0:
        return None
    return math.log(deff_ratio) / math.log(eps)


def laminate_with_contact_resistance(layers: Sequence[tuple[float, float]], interfaces: Sequence[float]) -> float:
    """Effective conductivity across a laminate of layers (thickness L_i [m], conductivity s_i [S/m]) with
    specific contact resistances R_k [ohm m^2] on its interfaces (len(layers) - 1 of them):

        sigma_eff = sum L_i / (sum L_i / s_i + sum R_k)   (resistances per unit area in series).
    """
    if len(interfaces) != len(layers) - 1:
        raise ValueError(f"{len(layers)} layers have {len(layers) - 1} interfaces, not {len(interfaces)}")
    length = sum(t for t, _ in layers)
    return length / (sum(t / s for t, s in layers) + sum(interfaces))
