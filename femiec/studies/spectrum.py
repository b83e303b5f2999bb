"""The one check of a spectrum given as arrays (pure NumPy): frequencies [Hz] and complex Z [Ohm]."""
from __future__ import annotations

import numpy as np

from femiec.errors import InputError


def checked_spectrum(frequency, impedance, min_points: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(f [Hz], Z [Ohm]) as 1-D float and complex arrays sorted by increasing frequency; an
    :class:`~femiec.errors.InputError` (key "spectrum") for unequal lengths, fewer than ``min_points``
    points, a non-positive or non-finite frequency or a non-finite or zero impedance."""
    f = np.asarray(frequency, dtype=float).ravel()
    z = np.asarray(impedance, dtype=complex).ravel()
    if f.size != z.size or f.size < min_points:
        raise InputError("spectrum", f"{f.size} frequencies, {z.size} impedances",
                         f"as many of each, at least {min_points}")
    if not (np.all(np.isfinite(f)) and np.all(f > 0)):
        raise InputError("spectrum", f, "positive finite frequencies [Hz]")
    if not (np.all(np.isfinite(z)) and np.all(z != 0)):
        raise InputError("spectrum", z, "finite non-zero impedances [Ohm]")
    order = np.argsort(f, kind="stable")
    return f[order], z[order]
