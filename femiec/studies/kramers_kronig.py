"""Linear Kramers–Kronig test (lin-KK) of an impedance spectrum, after M. Schönleber, D. Klotz and
E. Ivers-Tiffée, Electrochim. Acta 131 (2014) 20–27 (pure NumPy).

A spectrum that satisfies the Kramers–Kronig relations (causal, linear, stable) is represented to within
its noise by a chain of M Voigt elements with fixed time constants::

    Z_fit(omega) = R_0 [+ i omega L] [+ 1/(i omega C)] + sum_k R_k / (1 + i omega tau_k)

tau_k log-spaced from 1/(2 pi f_max) to 1/(2 pi f_min) (k = 1..M). The parameters are linear, so they
come from one weighted linear least-squares fit of the real and imaginary parts together, each point
weighted by 1/|Z| (Schönleber's complex fit). The R_k may take either sign. M is either given
(``M``) or chosen by Schönleber's mu criterion: M grows from 1 until
mu = 1 - sum_{R_k < 0} |R_k| / sum_{R_k >= 0} |R_k| falls to ``c`` (0.85) or below (negative R_k: the
fit begins to follow noise), or M reaches ``max_M``. The test's residuals are::

    Delta_re = (Z' - Z'_fit) / |Z|,   Delta_im = (Z'' - Z''_fit) / |Z|

and a spectrum passes when max |Delta| is at the level of its noise (1e-3 for a computed spectrum).
``capacitance=True`` adds the series 1/(i omega C) that a blocking (capacitive) spectrum needs;
``inductance=True`` the series i omega L of a measured inductive tail.

Which M: the mu criterion is meant for measured (noisy) spectra and works on smooth distributions of
time constants (a noise-free two-ZARC spectrum: M = 43, max |Delta| = 2e-5). It stops far too early
on spectra with a sharp feature, an ideal R || C between two of the fixed tau_k or a blocking
(series-C) spectrum: interpolating such a feature on a coarse tau grid already needs negative R_k, so
mu drops below c while the fit is still poor (Randles circuit with a finite Warburg, 10 points per
decade: M = 7, max |Delta| = 0.29; with M = 5 per decade, 35: 4e-5). For computed (noise-free)
spectra give ``M`` explicitly, e.g. 5 per decade of the data, at most the number of frequencies; with
2 N real equations for M + 1 (+ 1 per series term) unknowns the fit still cannot follow a spectrum that
violates Kramers–Kronig (imaginary part times 1.3 above the middle frequency: max |Delta| = 0.12 at
M = 35; a resistance drifting by 6 % of Z(0) over the sweep: 0.018).

impedance.py 1.7.1 has ``impedance.validation.linKK``, but it fails on this machine (NumPy 2.2, Python
3.13): it rebuilds the circuit as a string from the repr of NumPy scalars ("np.float64(...)") and
evaluates it without ``np`` in scope, a NameError inside its ``eval``. Hence this implementation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femiec.errors import InputError
from femiec.studies.spectrum import checked_spectrum


@dataclass(frozen=True)
class KramersKronig:
    """Result of :func:`lin_kk`: ``frequency`` [Hz] (increasing), ``residual_real``/``residual_imag`` the
    relative residuals Delta_re, Delta_im, ``max_residual`` their largest magnitude, ``M`` the number of
    Voigt elements, ``mu`` the criterion at M, ``tau`` [s] and ``R`` [Ohm] of the elements, ``R_0``
    [Ohm], ``L`` [H] (0 when not fitted), ``C`` [F] (None when not fitted), ``impedance_fit`` [Ohm]."""

    frequency: np.ndarray
    residual_real: np.ndarray
    residual_imag: np.ndarray
    max_residual: float
    M: int
    mu: float
    tau: np.ndarray
    R: np.ndarray
    R_0: float
    L: float
    C: float | None
    impedance_fit: np.ndarray


def lin_kk(frequency, impedance, M: int | None = None, c: float = 0.85, max_M: int | None = None,
           capacitance: bool = False, inductance: bool = False, extend_decades: float = 0.0) -> KramersKronig:
    """Kramers–Kronig test of ``impedance`` [Ohm] at ``frequency`` [Hz] (method: module docstring).

    ``M``: the number of Voigt elements (None: chosen by the mu criterion with threshold ``c`` in (0, 1),
    trying 1 .. ``max_M``, default the number of frequencies); ``capacitance``/``inductance``: add the
    series 1/(i omega C) / i omega L; ``extend_decades``: the time constants reach this many decades
    beyond 1/(2 pi f_max) and 1/(2 pi f_min) (Schönleber et al. 2014, section 3: time constants outside the
    measured range represent the parts of arcs that lie beyond it).
    """
    f, z = checked_spectrum(frequency, impedance)
    if not (np.isfinite(extend_decades) and 0 <= extend_decades <= 3):
        raise InputError("extend_decades", extend_decades, "0 .. 3 decades")
    if not 0 < c < 1:
        raise InputError("c", c, "a mu threshold between 0 and 1 (Schönleber et al. use 0.85)")
    max_M = len(f) if max_M is None else int(max_M)
    if not 1 <= max_M <= len(f):
        raise InputError("max_M", max_M, f"1 .. {len(f)} (the number of frequencies)")
    if M is not None:
        if not (isinstance(M, (int, np.integer)) and 1 <= M <= len(f)):
            raise InputError("M", M, f"a number of Voigt elements 1 .. {len(f)} (the number of frequencies)")
        candidates = [int(M)]
    else:
        candidates = range(1, max_M + 1)
    for M in candidates:
        fit = _fit(f, z, M, capacitance, inductance, extend_decades)
        mu = _mu(fit["R"])
        if mu <= c:
            break
    z_fit = fit["impedance"]
    scale = np.abs(z)
    res_re, res_im = (z.real - z_fit.real) / scale, (z.imag - z_fit.imag) / scale
    return KramersKronig(frequency=f, residual_real=res_re, residual_imag=res_im,
                         max_residual=float(max(np.abs(res_re).max(), np.abs(res_im).max())), M=M, mu=mu,
                         tau=fit["tau"], R=fit["R"], R_0=fit["R_0"], L=fit["L"], C=fit["C"],
                         impedance_fit=z_fit)


def _fit(f: np.ndarray, z: np.ndarray, M: int, capacitance: bool, inductance: bool, extend: float = 0.0) -> dict:
    """Weighted linear least squares of R_0, R_1..R_M (and 1/C, L) for M log-spaced time constants from
    1/omega_max to 1/omega_min, each end moved out by ``extend`` decades."""
    omega = 2 * np.pi * f
    tau = (np.array([1.0 / omega.max()]) if M == 1
           else np.logspace(np.log10(1 / omega.max()) - extend, np.log10(1 / omega.min()) + extend, M))
    columns = [np.ones_like(z)] + [1.0 / (1.0 + 1j * omega * t) for t in tau]
    if capacitance:
        columns.append(-1j * omega.min() / omega)  # coefficient 1/(C omega_min)
    if inductance:
        columns.append(1j * omega / omega.max())  # coefficient L omega_max
    weight = 1.0 / np.abs(z)
    design = np.column_stack(columns) * weight[:, None]
    a = np.vstack([design.real, design.imag])
    b = np.concatenate([(z * weight).real, (z * weight).imag])
    norm = np.linalg.norm(a, axis=0)
    x = np.linalg.lstsq(a / norm, b, rcond=None)[0] / norm
    k = M + 1
    C = None
    if capacitance:
        C = float(1.0 / (x[k] * omega.min())) if x[k] != 0 else np.inf
        k += 1
    L = float(x[k] / omega.max()) if inductance else 0.0
    return {"tau": tau, "R": x[1:M + 1], "R_0": float(x[0]), "C": C, "L": L,
            "impedance": np.column_stack(columns) @ x}


def _mu(R: np.ndarray) -> float:
    positive = np.abs(R[R >= 0]).sum()
    if positive == 0:
        return -np.inf
    return float(1.0 - np.abs(R[R < 0]).sum() / positive)
