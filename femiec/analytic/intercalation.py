"""Closed-form references of an insertion particle with chemical-potential-driven Butler–Volmer kinetics
(femiec.forms.phase_kinetics; regular solution of femiec.analytic.cahn_hilliard; SI units).

Homogeneous particle at site fraction c (mu = g'(c)): the open-circuit voltage V_eq(c) = V0 - g'(c) / F,
non-monotonic inside the spinodal. The common tangent of the symmetric regular solution is horizontal at
mu = g'(c_a) = 0, so a particle holding two phases in equilibrium sits on the plateau V = V0.

Reaction-limited (depth-averaged, ACR) particle: a platelet of thickness H [m], filled through its face at
a uniform inward lithium flux j [mol/(m^2 s)] (j > 0: insertion) fixed by the total current, with
transport along the face by the Cahn–Hilliard mobility M = D c (1 - c) / (R T) (D the in-plane
diffusivity):

    c_max H dc/dt = div(c_max H M grad mu) + j(c, mu, V)
    j = k0 (1 - c) exp(alpha m) [exp(-(1 - alpha) y) - exp(alpha y)],  m = mu / (R T),
        y = F eta / (R T) = F (V - V0) / (R T) + m

(-i / F of femiec.forms.phase_kinetics' Butler–Volmer rate). A mode delta c cos(k x) of the uniformly
filling state (delta mu = (g'' + kappa k^2) delta c; the total current is fixed, so V does not change at
first order for k != 0) grows at (Bai, Cogswell & Bazant, Nano Lett. 11 (2011) 4890, with in-plane
transport added):

    sigma(c, k) = [-j / (1 - c) + (dj/dmu - c_max H M k^2)(g''(c) + kappa k^2)] / (c_max H)   [1/s]

with dj/dc = -j / (1 - c) at fixed mu (only the vacancy factor depends on c) and
dj/dmu = k0 (1 - c) exp(alpha m) [alpha f(y) + f'(y)] / (R T) < 0, f(y) = exp(-(1 - alpha) y) - exp(alpha y).
Inside the spinodal (g'' < 0) the reaction destabilises (a fuller region has lower mu and attracts more
lithium) and the insertion itself stabilises (-j / (1 - c)); as j grows, |dj/dmu| falls (V drops, the
extraction term dies). The critical flux j* is the smallest j for which sigma(c, k) <= 0 for every c:
above it the particle fills homogeneously, below it phase separates. With k = 0 (a population of
identical particles sharing one voltage) the same sigma governs the mosaic instability.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize

from femiec.analytic.cahn_hilliard import binodal, curvature, potential, spinodal
from femiec.constants import FARADAY


def open_circuit_voltage(c, omega: float, RT: float, standard_potential: float):
    """V_eq(c) = V0 - g'(c) / F [V] of a homogeneous particle; V0 [V]."""
    return standard_potential - potential(c, omega, RT) / FARADAY


def plateau_voltage(omega: float, RT: float, standard_potential: float) -> float:
    """V0 - g'(c_a) / F [V]: the voltage of two coexisting phases (= V0 for the symmetric solution)."""
    return float(open_circuit_voltage(binodal(omega, RT)[0], omega, RT, standard_potential))


def _scaled_overpotential(flux: float, c: float, m: float, rate_constant: float, alpha: float) -> float:
    """y = F eta / (R T) at which the homogeneous particle takes the inward flux j [mol/(m^2 s)]."""
    target = flux / (rate_constant * (1 - c) * np.exp(alpha * m))
    return optimize.brentq(lambda y: np.exp(-(1 - alpha) * y) - np.exp(alpha * y) - target, -200.0, 200.0,
                           xtol=1e-14, rtol=4 * np.finfo(float).eps)


def reaction_growth_rate(c: float, k: float, flux: float, *, omega: float, RT: float, kappa: float,
                         diffusivity: float, thickness: float, site_density: float, rate_constant: float,
                         alpha: float = 0.5) -> float:
    """sigma(c, k) [1/s] of the module docstring; k [1/m], flux j [mol/(m^2 s)], kappa [J m^2/mol],
    diffusivity (in-plane) [m^2/s], thickness H [m], site_density c_max [mol/m^3], k0 [mol/(m^2 s)]."""
    m = potential(c, omega, RT) / RT
    y = _scaled_overpotential(flux, c, m, rate_constant, alpha)
    f = np.exp(-(1 - alpha) * y) - np.exp(alpha * y)
    df = -(1 - alpha) * np.exp(-(1 - alpha) * y) - alpha * np.exp(alpha * y)
    dj_dmu = rate_constant * (1 - c) * np.exp(alpha * m) * (alpha * f + df) / RT
    capacity = site_density * thickness
    transport = capacity * diffusivity * c * (1 - c) / RT * k ** 2
    return (-flux / (1 - c) + (dj_dmu - transport) * (curvature(c, omega, RT) + kappa * k ** 2)) / capacity


def most_unstable_composition(k: float, flux: float, **parameters) -> tuple[float, float]:
    """(c, sigma_max): the largest sigma(c, k) over the spinodal (bounded scalar search)."""
    c_lo, c_hi = spinodal(parameters["omega"], parameters["RT"])
    result = optimize.minimize_scalar(lambda c: -reaction_growth_rate(c, k, flux, **parameters),
                                      bounds=(c_lo, c_hi), method="bounded", options={"xatol": 1e-10})
    return float(result.x), float(-result.fun)


def critical_flux(k: float, **parameters) -> float:
    """j* [mol/(m^2 s)]: the inward flux above which sigma(c, k) < 0 at every c (homogeneous filling)."""
    def margin(flux):
        return most_unstable_composition(k, flux, **parameters)[1]

    upper = parameters["rate_constant"]
    while margin(upper) > 0:
        upper *= 2
    return optimize.brentq(margin, 1e-6 * parameters["rate_constant"], upper, xtol=1e-14, rtol=1e-12)
