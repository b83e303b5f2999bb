"""Closed-form references of non-isothermal transport (SI units).

- Soret closed cell: a neutral species (or any species with no electric field) in a closed cell with a
  fixed temperature profile T(x) and blocking walls reaches J = -D (c' + alpha_T c T'/T) = 0, i.e.
  c T^alpha_T = const, and with the amount fixed by the mean concentration c_mean over [0, L]:

      c(x) = c_mean L T(x)^(-alpha_T) / int_0^L T(s)^(-alpha_T) ds

  (de Groot & Mazur, Non-equilibrium Thermodynamics, ch. XI; e.g. Wuerger, Rep. Prog. Phys. 73 (2010)
  126601). For a linear T from T0 to T1 the integral is closed-form (:func:`soret_closed_cell_linear`).
- Joule-heated slab: a slab 0 <= x <= L of conductivity sigma under a voltage V, thermal conductivity k,
  faces held at T_left and T_right. The heat source q = sigma (V/L)^2 is uniform and

      T(x) = T_left + (T_right - T_left) x / L + q x (L - x) / (2 k),

  the outward heat fluxes through the faces are k (T_right - T_left)/L + q L/2 (x = 0) and
  -k (T_right - T_left)/L + q L/2 (x = L); their sum is the Joule power q L per unit area (energy balance).
"""
from __future__ import annotations

import numpy as np


def linear_temperature_integral(alpha_T: float, length: float, T0: float, T1: float) -> float:
    """int_0^L T(x)^(-alpha_T) dx for T(x) = T0 + (T1 - T0) x / L [m K^-alpha_T]."""
    if T1 == T0:
        return length * T0 ** (-alpha_T)
    scale = length / (T1 - T0)
    if alpha_T == 1:
        return scale * np.log(T1 / T0)
    return scale * (T1 ** (1 - alpha_T) - T0 ** (1 - alpha_T)) / (1 - alpha_T)


def soret_closed_cell_linear(x, length: float, T0: float, T1: float, alpha_T: float, c_mean: float):
    """Steady Soret profile c(x) [mol/m^3] in a closed cell [0, L] with linear T from T0 (x = 0) to T1 (x = L)."""
    T = T0 + (T1 - T0) * np.asarray(x, dtype=float) / length
    return c_mean * length * T ** (-alpha_T) / linear_temperature_integral(alpha_T, length, T0, T1)


def joule_slab_temperature(x, length: float, sigma: float, voltage: float, k: float, T_left: float,
                           T_right: float):
    """Temperature [K] in the Joule-heated slab of the module docstring at positions x [m]."""
    x = np.asarray(x, dtype=float)
    q = sigma * (voltage / length) ** 2
    return T_left + (T_right - T_left) * x / length + q * x * (length - x) / (2 * k)


def joule_slab_mean_temperature(t, length: float, sigma: float, voltage: float, k: float, rho_cp: float,
                                T_face: float, terms: int = 200):
    """Mean temperature [K] over the Joule-heated slab (both faces at T_face [K], uniformly at T_face at
    t = 0) at times t [s] while it heats, rho c_p dT/dt = k T'' + q with q = sigma (V/L)^2 [W/m^3]:

        T_mean(t) = T_face + q L^2/(12 k) - sum_{n odd} 8 q L^2/(k pi^4 n^4) exp(-n^2 t / tau),
        tau = rho_cp L^2 / (pi^2 k)

    (the sine series of the steady parabola q x (L - x)/(2 k), each mode decaying with its own time;
    Carslaw & Jaeger, *Conduction of Heat in Solids*, 1959, section 3.3). ``terms`` odd modes."""
    t = np.asarray(t, dtype=float)
    q = sigma * (voltage / length) ** 2
    tau = rho_cp * length ** 2 / (np.pi ** 2 * k)
    n = np.arange(1, 2 * terms, 2).reshape((-1,) + (1,) * t.ndim)
    modes = 8 * q * length ** 2 / (k * np.pi ** 4 * n ** 4) * np.exp(-n ** 2 * t / tau)
    return T_face + q * length ** 2 / (12 * k) - modes.sum(axis=0)


def joule_slab_face_outflows(length: float, sigma: float, voltage: float, k: float, T_left: float,
                             T_right: float) -> tuple[float, float]:
    """Outward heat fluxes [W/m^2] through the faces x = 0 and x = L of the Joule-heated slab."""
    q = sigma * (voltage / length) ** 2
    conducted = k * (T_right - T_left) / length
    return conducted + q * length / 2, -conducted + q * length / 2
