"""Closed-form references of Cahn–Hilliard phase separation with the regular-solution free energy (SI
units; the formulation of :mod:`femiec.forms.cahn_hilliard`).

    g(c) = Omega c (1 - c) + R T [c ln c + (1 - c) ln(1 - c)]        [J/mol of sites], 0 < c < 1
    g'(c) = Omega (1 - 2c) + R T ln(c / (1 - c)),   g''(c) = R T / (c (1 - c)) - 2 Omega

- Critical interaction: g'' >= 0 everywhere iff Omega <= Omega_c = 2 R T (g''(1/2) = 4 R T - 2 Omega).
- Binodal (common tangent, g'(c_a) = g'(c_b) = [g(c_b) - g(c_a)] / (c_b - c_a)): g is symmetric about
  c = 1/2, so c_b = 1 - c_a, the tangent is horizontal and c_a < 1/2 solves
  ln(c / (1 - c)) = (Omega / R T)(2c - 1).
- Spinodal (g'' = 0): c (1 - c) = R T / (2 Omega), c = [1 -+ sqrt(1 - 2 R T / Omega)] / 2.
- Planar equilibrium interface (1D, kappa scalar [J m^2/mol]): mu = const = g'(c_a) and the first
  integral kappa c'^2 / 2 = Delta g(c), Delta g(c) = g(c) - g(c_a) - g'(c_a)(c - c_a) >= 0 the free
  energy above the common tangent, give the profile as x(c) by quadrature,

      x(c) - x(1/2) = int_{1/2}^{c} sqrt(kappa / (2 Delta g(s))) ds              [m],

  and the interfacial energy per unit area (the excess of G = int c_max [g + kappa |c'|^2 / 2] dx over
  the two bulk phases, equipartition kappa c'^2 / 2 = Delta g)

      gamma = c_max int_{c_a}^{c_b} sqrt(2 kappa Delta g(c)) dc                  [J/m^2].

- Linear stability of a uniform c0 (mode exp(i k x + sigma t), k [1/m]):
      sigma(k) = -M0 k^2 (g''(c0) + kappa k^2)   [1/s],   M0 = D c0 (1 - c0) / (R T) [m^2 mol/(J s)],
  unstable (sigma > 0) for 0 < k < k_c = sqrt(-g''(c0) / kappa) inside the spinodal.
- With coherency strain (isotropic stiffness E [Pa], nu [-], isotropic Vegard tensor beta I, molar volume
  V_m = 1 / c_max [m^3/mol]; femiec.forms.coherency) a plane wave of composition in an infinite body (or a
  plane-strain section, or a slab in uniaxial strain) is accommodated by u = u_x(x) alone, with sigma_xx
  = 0 and sigma_yy = sigma_zz = -E beta dc / (1 - nu), so it costs the elastic energy
  W = E beta^2 dc^2 / (1 - nu) per volume: g'' gains the coherency term (Cahn 1961)
      g_el'' = 2 V_m E beta^2 / (1 - nu)      [J/mol],
  sigma(k) = -M0 k^2 (g''(c0) + g_el'' + kappa k^2), and the coherent spinodal g'' + g_el'' = 0 lies
  inside the chemical one (no growth for any k where g''(c0) > -g_el'').
- The same mode under Eyre's convex splitting with step dt, with k^2 replaced by an eigenvalue lambda of
  the (discrete) -Laplacian: one step multiplies its amplitude by
      G = (1 + dt M0 lambda 2 Omega) / (1 + dt M0 lambda (R T / (c0 (1 - c0)) + kappa lambda)),
  and ln(G) / dt -> sigma as dt -> 0 (error dt M0 lambda (R T / (c0 (1-c0)) + kappa lambda + 2 Omega)/2).
  For P1 elements on a uniform 1D mesh of spacing h with no-flux ends, the nodal values of cos(k x),
  k = m pi / L, are an eigenvector of the consistent mass and stiffness matrices, with
      lambda_h = 6 (1 - cos k h) / (h^2 (2 + cos k h)) = k^2 (1 + (k h)^2 / 12 + O((k h)^4)).
"""
from __future__ import annotations

import numpy as np
from scipy import integrate, optimize

from femiec.errors import InputError


def free_energy_density(c, omega: float, RT: float):
    """g(c) [J/mol] of the regular solution (NumPy)."""
    c = np.asarray(c, dtype=float)
    return omega * c * (1 - c) + RT * (c * np.log(c) + (1 - c) * np.log1p(-c))


def potential(c, omega: float, RT: float):
    """g'(c) = Omega (1 - 2c) + R T ln(c / (1 - c)) [J/mol]."""
    c = np.asarray(c, dtype=float)
    return omega * (1 - 2 * c) + RT * (np.log(c) - np.log1p(-c))


def curvature(c, omega: float, RT: float):
    """g''(c) = R T / (c (1 - c)) - 2 Omega [J/mol]."""
    c = np.asarray(c, dtype=float)
    return RT / (c * (1 - c)) - 2 * omega


def critical_interaction(RT: float) -> float:
    """Omega_c = 2 R T [J/mol]: the regular solution phase-separates for Omega > Omega_c."""
    return 2 * RT


def _require_separation(omega: float, RT: float) -> None:
    if not omega > critical_interaction(RT):
        raise InputError("interaction_energy", omega, f"Omega > 2 R T = {critical_interaction(RT):.6g} J/mol "
                         "(no phase separation below)")


def binodal(omega: float, RT: float) -> tuple[float, float]:
    """(c_a, c_b) of the common tangent: c_a < 1/2 solves ln(c/(1-c)) = (Omega/RT)(2c - 1), c_b = 1 - c_a."""
    _require_separation(omega, RT)
    c_a = optimize.brentq(lambda c: np.log(c) - np.log1p(-c) - omega / RT * (2 * c - 1),
                          1e-300, 0.5 - 1e-12, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    return c_a, 1 - c_a


def spinodal(omega: float, RT: float) -> tuple[float, float]:
    """(c_s1, c_s2) where g'' = 0: [1 -+ sqrt(1 - 2 R T / Omega)] / 2."""
    _require_separation(omega, RT)
    root = np.sqrt(1 - 2 * RT / omega)
    return (1 - root) / 2, (1 + root) / 2


def particles_transforming(states, spinodal_interval) -> int:
    """The number of particles transforming at once: those whose state of charge (mean site fraction, -)
    lies strictly inside the spinodal c_s1 < x < c_s2 (``spinodal_interval``, :func:`spinodal`), where the
    homogeneous state is unstable (g'' < 0) and the particle holds, or is splitting into, two phases; 0 when
    ``spinodal_interval`` is None (no phase separation, Omega <= 2 R T)."""
    if spinodal_interval is None:
        return 0
    low, high = spinodal_interval
    return int(sum(low < s < high for s in states))


def excess_free_energy(c, omega: float, RT: float):
    """Delta g(c) = g(c) - g(c_a) [J/mol]: the free energy above the (horizontal) common tangent."""
    c_a, _ = binodal(omega, RT)
    return free_energy_density(c, omega, RT) - free_energy_density(c_a, omega, RT)


def interface_position(c, omega: float, RT: float, kappa: float):
    """x(c) - x(1/2) [m] of the planar equilibrium interface (c rising with x), for c_a < c < c_b:
    int_{1/2}^{c} sqrt(kappa / (2 Delta g(s))) ds."""
    c_a, _ = binodal(omega, RT)
    g_a = free_energy_density(c_a, omega, RT)

    def slope_inverse(s):
        return np.sqrt(kappa / (2 * (free_energy_density(s, omega, RT) - g_a)))

    return np.vectorize(lambda ci: integrate.quad(slope_inverse, 0.5, ci, epsabs=0, epsrel=1e-11, limit=200)[0])(c)


def interfacial_energy(omega: float, RT: float, kappa: float, c_max: float) -> float:
    """gamma = c_max int_{c_a}^{c_b} sqrt(2 kappa Delta g(c)) dc [J/m^2]; kappa [J m^2/mol], c_max [mol/m^3]."""
    c_a, c_b = binodal(omega, RT)
    g_a = free_energy_density(c_a, omega, RT)
    value, _ = integrate.quad(lambda c: np.sqrt(max(2 * kappa * (free_energy_density(c, omega, RT) - g_a), 0.0)),
                              c_a, c_b, epsabs=0, epsrel=1e-13, limit=200)
    return c_max * value


def coherency_curvature(youngs_modulus: float, poisson_ratio: float, vegard: float, c_max: float) -> float:
    """g_el'' = 2 V_m E beta^2 / (1 - nu) [J/mol], V_m = 1 / c_max: the coherency-strain addition to g'' of
    a plane composition wave (isotropic stiffness E [Pa], nu; isotropic Vegard coefficient beta [-])."""
    return 2 * youngs_modulus * vegard ** 2 / ((1 - poisson_ratio) * c_max)


def growth_rate(k, c0: float, omega: float, RT: float, kappa: float, D: float, elastic_curvature: float = 0.0):
    """sigma(k) = -M0 k^2 (g''(c0) + g_el'' + kappa k^2) [1/s], M0 = D c0 (1 - c0) / (R T); k [1/m], D
    [m^2/s], g_el'' [J/mol] of :func:`coherency_curvature` (0: no coherency strain)."""
    k2 = np.asarray(k, dtype=float) ** 2
    return -D * c0 * (1 - c0) / RT * k2 * (curvature(c0, omega, RT) + elastic_curvature + kappa * k2)


def convex_splitting_growth_factor(eigenvalue, dt: float, c0: float, omega: float, RT: float, kappa: float,
                                   D: float):
    """G: the amplitude factor of one convex-splitting step [-] for a mode with -Laplacian eigenvalue
    lambda [1/m^2] (k^2, or the discrete lambda_h of :func:`p1_laplacian_eigenvalue`)."""
    rate = dt * D * c0 * (1 - c0) / RT * np.asarray(eigenvalue, dtype=float)
    return (1 + rate * 2 * omega) / (1 + rate * (RT / (c0 * (1 - c0)) + kappa * eigenvalue))


def p1_laplacian_eigenvalue(k, h: float):
    """lambda_h = 6 (1 - cos k h) / (h^2 (2 + cos k h)) [1/m^2]: the generalised eigenvalue (stiffness over
    consistent mass) of the nodal cos(k x) for P1 elements of spacing h [m] on a uniform 1D mesh."""
    kh = np.asarray(k, dtype=float) * h
    return 6 * (1 - np.cos(kh)) / (h ** 2 * (2 + np.cos(kh)))
