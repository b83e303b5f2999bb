"""Effective conductivity of laminates and the Voigt/Reuss (Wiener) bounds of composites.

All functions take layer/phase properties in any consistent unit (S/m, m^2/s, ...) and volume fractions
that sum to 1, and return the effective property in the same unit.

References:
- O. Wiener, Abh. Math.-Phys. Kl. Königl. Sächs. Ges. Wiss. 32 (1912) 509: arithmetic/harmonic bounds.
- G. W. Milton, *The Theory of Composites*, Cambridge University Press (2002), sections 9.1-9.3
  (laminates of anisotropic phases) and 13.3 (arithmetic/harmonic mean bounds).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _fractions(fractions: Sequence[float], n: int) -> np.ndarray:
    f = np.asarray(fractions, dtype=float)
    if f.shape != (n,) or np.any(f < 0) or not np.isclose(f.sum(), 1.0, rtol=0, atol=1e-12):
        raise ValueError(f"volume fractions {fractions} must be {n} non-negative numbers summing to 1")
    return f


def arithmetic_mean(values: Sequence[float], fractions: Sequence[float]) -> float:
    """sum_i f_i k_i: effective conductivity of a laminate along its layers (parallel connection)."""
    return float(np.dot(_fractions(fractions, len(values)), values))


def harmonic_mean(values: Sequence[float], fractions: Sequence[float]) -> float:
    """1 / sum_i (f_i / k_i): effective conductivity of a laminate across its layers (series connection)."""
    return float(1.0 / np.dot(_fractions(fractions, len(values)), 1.0 / np.asarray(values, dtype=float)))


def voigt_bound(tensors: Sequence[np.ndarray], fractions: Sequence[float]) -> np.ndarray:
    """Voigt (upper, arithmetic) bound <K> = sum_i f_i K_i of the effective tensor (Loewner order)."""
    f = _fractions(fractions, len(tensors))
    return np.einsum("i,ijk->jk", f, np.asarray(tensors, dtype=float))


def reuss_bound(tensors: Sequence[np.ndarray], fractions: Sequence[float]) -> np.ndarray:
    """Reuss (lower, harmonic) bound <K^-1>^-1 of the effective tensor (Loewner order)."""
    f = _fractions(fractions, len(tensors))
    return np.linalg.inv(np.einsum("i,ijk->jk", f, np.linalg.inv(np.asarray(tensors, dtype=float))))


def laminate_tensor(tensors: Sequence[np.ndarray], fractions: Sequence[float],
                    normal: Sequence[float] = (1.0, 0.0, 0.0)) -> np.ndarray:
    """Exact effective tensor of a laminate of (possibly anisotropic) layers with unit normal ``normal``.

    In a frame whose first axis is the normal (index 1 = normal, t = the tangential axes), the tangential
    gradient and the normal flux are the same in every layer, which gives (Milton 2002, sec. 9.3)

        K*_11 = 1 / <1/K_11>,
        K*_1t = <K_1t / K_11> / <1/K_11>,
        K*_tt = <K_tt - K_t1 K_1t / K_11> + <K_t1 / K_11> <K_1t / K_11> / <1/K_11>,

    with <.> the volume average over the layers. For isotropic layers k_i this is harmonic_mean across and
    arithmetic_mean along the layers. Works in 2D (2x2 tensors, 2-vector normal) and 3D.
    """
    K = np.asarray(tensors, dtype=float)
    f = _fractions(fractions, len(K))
    n = np.asarray(normal, dtype=float)
    n = n / np.linalg.norm(n)
    Q = _frame_with_first_axis(n)  # rows: n, t1 (, t2)
    Kl = np.einsum("ab,ibc,dc->iad", Q, K, Q)  # layer tensors in the laminate frame
    k11 = Kl[:, 0, 0]
    k1t = Kl[:, 0, 1:]
    ktt = Kl[:, 1:, 1:]
    across = 1.0 / np.dot(f, 1.0 / k11)
    ratio = np.tensordot(f, k1t / k11[:, None], axes=1)
    mixed = ratio * across
    along = np.tensordot(f, ktt - np.einsum("ia,ib->iab", k1t, k1t) / k11[:, None, None], axes=1) + np.outer(
        ratio, mixed)
    eff = np.empty_like(Kl[0])
    eff[0, 0] = across
    eff[0, 1:] = eff[1:, 0] = mixed
    eff[1:, 1:] = along
    return Q.T @ eff @ Q


def _frame_with_first_axis(n: np.ndarray) -> np.ndarray:
    """Orthonormal matrix whose first row is the unit vector ``n`` (QR of [n | I])."""
    Q = np.linalg.qr(np.column_stack([n, np.eye(n.size)]))[0]
    Q[:, 0] *= np.sign(Q[:, 0] @ n)
    return Q.T
