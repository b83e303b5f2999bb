"""Closed forms of a Schottky (metal / n-type semiconductor) contact (SI units), the references of the
thermionic-emission contact of :mod:`femiec.forms.contacts`.

Sources: Sze & Ng, *Physics of Semiconductor Devices*, 3rd ed. (2007), sec. 3.2 (depletion layer) and
3.3 (thermionic emission); Crowell & Sze, Solid-State Electron. 9 (1966) 1035 (thermionic-diffusion).
Without image-force lowering and tunnelling.
"""
from __future__ import annotations

import numpy as np

from femiec.constants import ELEMENTARY_CHARGE, thermal_voltage


def thermionic_emission_current_density(voltage, barrier_height, temperature, richardson_constant):
    """J = A* T^2 exp(-phi_B / V_T) (exp(V / V_T) - 1) [A/m^2] (forward bias V > 0 [V] on the metal):
    phi_B [V], T [K], A* [A/(m^2 K^2)]."""
    vt = thermal_voltage(temperature)
    return richardson_constant * temperature ** 2 * np.exp(-barrier_height / vt) * np.expm1(np.asarray(voltage) / vt)


def built_in_potential(barrier_height, temperature, effective_density_of_states, bulk_density):
    """V_bi = phi_B - V_T ln(N_c / n_b) [V]: the band bending at zero bias; N_c, n_b [m^-3]."""
    return barrier_height - thermal_voltage(temperature) * np.log(effective_density_of_states / bulk_density)


def depletion_charge(band_bending, temperature, permittivity, donor_density):
    """Space charge per area Q = q int (N_D - n) dx [C/m^2] of a uniformly doped semi-infinite n-type
    layer (donors N_D [m^-3], electrons in equilibrium n = N_D exp(-psi/V_T)) bent by psi = V_bi - V [V]
    at the contact (exact Poisson–Boltzmann first integral; eps [F/m]):

        Q = sqrt(2 eps q N_D (psi - V_T + V_T exp(-psi / V_T))).
    """
    vt = thermal_voltage(temperature)
    psi = np.asarray(band_bending)
    return np.sqrt(2 * permittivity * ELEMENTARY_CHARGE * donor_density * (psi - vt + vt * np.exp(-psi / vt)))


def depletion_width(band_bending, temperature, permittivity, donor_density):
    """W = sqrt(2 eps (psi - V_T) / (q N_D)) [m]: the depletion approximation with the majority-carrier
    tail correction (Sze & Ng eq. 3.10); equal to Q / (q N_D) of :func:`depletion_charge` up to
    V_T exp(-psi / V_T)."""
    vt = thermal_voltage(temperature)
    return np.sqrt(2 * permittivity * (np.asarray(band_bending) - vt) / (ELEMENTARY_CHARGE * donor_density))

