"""Distribution of relaxation times (DRT) of an impedance spectrum by Tikhonov-regularised non-negative
least squares (pure NumPy/SciPy).

Model (Z = Z' + i Z'' [Ohm], capacitor 1/(i omega C), omega = 2 pi f)::

    Z(omega) = R_inf [+ i omega L] [+ 1/(i omega C)] + integral gamma(ln tau) / (1 + i omega tau) d ln tau

gamma [Ohm per unit ln tau] >= 0; the area of a peak, integral gamma d ln tau [Ohm], is the resistance of
that process, and an ideal RC element R || C is a peak of area R at tau = R C.

Discretisation: gamma is piecewise linear in ln tau on a log-spaced grid (hat functions; ``points_per_decade``
nodes per decade) that reaches one decade beyond 1/(2 pi f_max) .. 1/(2 pi f_min) on each side and is zero
outside it; the integrals of the hats against 1/(1 + i omega tau) are done by 6-point Gauss–Legendre
quadrature on each grid interval. Non-negative node values give gamma >= 0 everywhere.

Fit: real and imaginary parts jointly, each point weighted by 1/|Z(omega)| (relative residuals), with the
penalty lambda * integral (d^2 gamma / d(ln tau)^2)^2 d ln tau (``penalty="second"``; "first": the first
derivative), gamma scaled by the median |Z| so lambda is dimensionless; R_inf, L, 1/C >= 0 are not
penalised. The stacked system is solved by ``scipy.optimize.nnls``. lambda is chosen, unless given, by
generalised cross-validation: GCV(lambda) = n |r|^2 / (n - tr H)^2 with n = 2 N the number of real
residuals and H the influence matrix of the regularised least-squares problem restricted to the
coefficients that are positive in the solution (where the non-negative solution is a linear function
of the data); minimised over lambda in 1e-8 .. 1e1 (grid of 4 per decade, then a bounded refinement).

Blocking (capacitive) spectra, whose -Z'' grows without bound as f -> 0, need ``capacitance=True``: the
series term 1/(i omega C) takes the low-frequency capacitive branch that no finite gamma can represent.
``inductance=True`` adds i omega L for the high-frequency inductive tail of measured cells. With noisy
data R_inf and L are the least certain results: gamma on the decade of the grid beyond f_max can take
part of R_inf (1 % noise with a 1 uH tail gave R_inf 30 % and L 13 % off, the peak within 0.5 %).
The GCV minimum of noise-free spectra lies at the lower end of the lambda range.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femiec.errors import InputError
from femiec.studies.spectrum import checked_spectrum

_QUADRATURE_POINTS = 6
_LAMBDA_RANGE = (1e-8, 1e1)


@dataclass(frozen=True)
class Peak:
    """One peak of a DRT: ``tau`` [s] its maximum (parabola through the three highest nodes in ln tau),
    ``area`` [Ohm] the integral of gamma d ln tau between the neighbouring minima, ``height`` [Ohm] the
    largest node value."""

    tau: float
    area: float
    height: float


@dataclass(frozen=True)
class DRT:
    """A fitted distribution of relaxation times.

    ``tau`` [s] the grid, ``gamma`` [Ohm per unit ln tau] its node values, ``R_inf`` [Ohm], ``L`` [H]
    (0 when not fitted), ``C`` [F] (None when not fitted, inf when fitted as absent), ``regularization``
    the lambda used, ``residual`` the relative RMS misfit sqrt(mean |Z_fit - Z|^2 / |Z|^2).
    """

    tau: np.ndarray
    gamma: np.ndarray
    R_inf: float
    L: float
    C: float | None
    regularization: float
    residual: float

    def impedance(self, frequency) -> np.ndarray:
        """Z [Ohm] of the fitted model at ``frequency`` [Hz]."""
        f = np.asarray(frequency, dtype=float)
        omega = 2 * np.pi * f
        z = self.R_inf + 1j * omega * self.L + _kernel(f, np.log(self.tau)) @ self.gamma
        if self.C is not None and np.isfinite(self.C):
            z = z + 1.0 / (1j * omega * self.C)
        return z

    def polarization_resistance(self) -> float:
        """integral gamma d ln tau [Ohm]: the sum of all peak areas."""
        return float(np.trapezoid(self.gamma, np.log(self.tau)))

    def peaks(self, min_height: float = 0.02) -> list[Peak]:
        """The peaks of gamma (local maxima above ``min_height`` times the highest), in increasing tau.

        Each peak spans from the local minimum (or zero) on its left to the one on its right; the areas of
        all peaks therefore add up to :meth:`polarization_resistance` when no maximum is left out.
        """
        g, y = self.gamma, np.log(self.tau)
        if g.max() <= 0:
            return []
        peaks = []
        for j in range(len(g)):
            left = g[j - 1] if j > 0 else 0.0
            right = g[j + 1] if j + 1 < len(g) else 0.0
            if not (g[j] > left and g[j] >= right and g[j] >= min_height * g.max()):
                continue
            lo = j
            while lo > 0 and 0 < g[lo - 1] <= g[lo]:
                lo -= 1
            hi = j
            while hi + 1 < len(g) and 0 < g[hi + 1] <= g[hi]:
                hi += 1
            lo, hi = max(lo - 1, 0), min(hi + 1, len(g) - 1)  # include the minimum (or zero) node
            area = float(np.trapezoid(g[lo:hi + 1], y[lo:hi + 1]))
            peaks.append(Peak(tau=float(np.exp(_vertex(y, g, j))), area=area, height=float(g[j])))
        return peaks


def fit_drt(frequency, impedance, regularization="gcv", penalty: str = "second",
            points_per_decade: int = 10, inductance: bool = False, capacitance: bool = False) -> DRT:
    """Fit the DRT of the spectrum ``impedance`` [Ohm] at ``frequency`` [Hz] (model and method: module
    docstring).

    ``regularization``: "gcv" (generalised cross-validation) or a fixed lambda >= 0; ``penalty``: "second"
    or "first" derivative of gamma in ln tau; ``inductance``/``capacitance``: add the series i omega L /
    1/(i omega C) terms.
    """
    f, z = checked_spectrum(frequency, impedance)
    if penalty not in ("first", "second"):
        raise InputError("penalty", penalty, "'first' or 'second'")
    if not (isinstance(points_per_decade, (int, np.integer)) and 2 <= points_per_decade <= 100):
        raise InputError("points_per_decade", points_per_decade, "an integer 2 .. 100")
    y = _grid(f, points_per_decade)
    weight = 1.0 / np.abs(z)
    scale = float(np.median(np.abs(z)))
    omega = 2 * np.pi * f
    columns = [_kernel(f, y) * scale, np.ones_like(z)]
    if inductance:
        columns.append(1j * omega / omega.max())
    if capacitance:
        columns.append(-1j * omega.min() / omega)
    design = np.column_stack(columns) * weight[:, None]
    a = np.vstack([design.real, design.imag])
    b = np.concatenate([(z * weight).real, (z * weight).imag])
    m = len(y)
    roughness = np.zeros((m - (2 if penalty == "second" else 1), a.shape[1]))
    dy = y[1] - y[0]
    roughness[:, :m] = (np.diff(np.eye(m), n=2, axis=0) / dy**2 if penalty == "second"
                        else np.diff(np.eye(m), axis=0) / dy) * np.sqrt(dy)

    if isinstance(regularization, str):
        if regularization != "gcv":
            raise InputError("regularization", regularization, "'gcv' or a fixed lambda >= 0")
        lam = _gcv_lambda(a, b, roughness)
    else:
        lam = float(regularization)
        if not (np.isfinite(lam) and lam >= 0):
            raise InputError("regularization", regularization, "'gcv' or a fixed lambda >= 0")
    x = _solve(a, b, roughness, lam)

    gamma, R_inf = x[:m] * scale, float(x[m])
    L = float(x[m + 1] / omega.max()) if inductance else 0.0
    C = None
    if capacitance:  # the last column: coefficient 1/(C omega_min)
        C = float(1.0 / (x[-1] * omega.min())) if x[-1] > 0 else np.inf
    drt = DRT(tau=np.exp(y), gamma=gamma, R_inf=R_inf, L=L, C=C, regularization=lam, residual=0.0)
    residual = float(np.sqrt(np.mean(np.abs(drt.impedance(f) - z) ** 2 / np.abs(z) ** 2)))
    return DRT(tau=drt.tau, gamma=gamma, R_inf=R_inf, L=L, C=C, regularization=lam, residual=residual)



def _grid(f: np.ndarray, points_per_decade: int) -> np.ndarray:
    """ln tau nodes: log-spaced from 1/(2 pi f_max)/10 to 10/(2 pi f_min)."""
    lo = np.log10(1.0 / (2 * np.pi * f.max())) - 1.0
    hi = np.log10(1.0 / (2 * np.pi * f.min())) + 1.0
    n = int(np.ceil((hi - lo) * points_per_decade)) + 1
    return np.log(10.0) * np.linspace(lo, hi, n)


def _kernel(f: np.ndarray, y: np.ndarray) -> np.ndarray:
    """K[i, j] = integral h_j(y') / (1 + i omega_i e^y') dy' for the hat functions h_j on the nodes ``y``."""
    t, w = np.polynomial.legendre.leggauss(_QUADRATURE_POINTS)
    t, w = (t + 1) / 2, w / 2  # on [0, 1]
    dy = np.diff(y)
    points = y[:-1, None] + dy[:, None] * t[None, :]  # (segments, quadrature points)
    kern = 1.0 / (1.0 + 1j * (2 * np.pi * np.asarray(f, dtype=float))[:, None, None] * np.exp(points)[None])
    kern = kern * (dy[:, None] * w[None, :])[None]
    out = np.zeros((kern.shape[0], len(y)), dtype=complex)
    out[:, :-1] += kern @ (1 - t)
    out[:, 1:] += kern @ t
    return out


def _solve(a, b, roughness, lam: float) -> np.ndarray:
    from scipy.optimize import nnls

    stacked = np.vstack([a, np.sqrt(lam) * roughness])
    rhs = np.concatenate([b, np.zeros(roughness.shape[0])])
    return nnls(stacked, rhs, maxiter=50 * stacked.shape[1])[0]


def _gcv(a, b, roughness, log_lam: float) -> float:
    lam = 10.0**log_lam
    x = _solve(a, b, roughness, lam)
    free = x > 0
    n = len(b)
    r = a @ x - b
    if not free.any():
        return float(n * (r @ r) / n**2)
    ap, rp = a[:, free], roughness[:, free]
    normal = ap.T @ ap
    trace = np.trace(np.linalg.solve(normal + lam * rp.T @ rp, normal))
    return float(n * (r @ r) / max(n - trace, 1e-12) ** 2)


def _gcv_lambda(a, b, roughness) -> float:
    from scipy.optimize import minimize_scalar

    lo, hi = np.log10(_LAMBDA_RANGE[0]), np.log10(_LAMBDA_RANGE[1])
    grid = np.linspace(lo, hi, int(round((hi - lo) * 4)) + 1)
    scores = [_gcv(a, b, roughness, g) for g in grid]
    k = int(np.argmin(scores))
    bracket = (grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)])
    best = minimize_scalar(lambda g: _gcv(a, b, roughness, g), bounds=bracket, method="bounded",
                           options={"xatol": 0.05})
    return float(10.0 ** (best.x if best.fun <= scores[k] else grid[k]))


def _vertex(y: np.ndarray, g: np.ndarray, j: int) -> float:
    """ln tau of the vertex of the parabola through the nodes j-1, j, j+1 (the node itself at an end)."""
    if j == 0 or j == len(g) - 1:
        return float(y[j])
    g0, g1, g2 = g[j - 1], g[j], g[j + 1]
    curvature = g0 - 2 * g1 + g2
    if curvature >= 0:
        return float(y[j])
    return float(y[j] + 0.5 * (y[1] - y[0]) * (g0 - g2) / curvature)
