"""Soret thermodiffusion: the temperature-gradient driving force of the Nernst–Planck flux (pure UFL).

With the Soret term the molar flux of species i reads (SI units)

    J_i = -D_i (grad c_i + z_i c_i F/(R T) grad phi + alpha_T,i c_i grad(ln T))

alpha_T [-] is the dimensionless thermal diffusion ratio (Soret coefficient times T); alpha_T > 0 drives the
species towards the cold side. Given a heat of transport Q* [J per particle], alpha_T = Q*/(k_B T)
(equivalently Q*_molar/(R T) with Q*_molar [J/mol]).

The term enters :func:`femiec.forms.nernst_planck.nernst_planck_flux` as an extra driving force (an
equivalent concentration gradient [mol/m^4]) so that the flux is built in one place::

    J = nernst_planck_flux(c, D, z, phi, T, extra_driving_forces=[soret_driving_force(alpha_T, c, T)])
"""
from __future__ import annotations

import ufl

from femiec.constants import BOLTZMANN
from femiec.forms.nernst_planck import apply_tensor


def soret_driving_force(alpha_T, c, T):
    """Equivalent concentration gradient alpha_T c grad(ln T) = alpha_T c grad(T) / T [mol/m^4].

    Args:
        alpha_T: thermal diffusion ratio [-] (number or UFL, may depend on T).
        c: concentration [mol/m^3] (UFL).
        T: temperature [K], a UFL object with a domain (Constant, Function or expression of the
            coordinates); a spatially constant T gives a zero force.
    """
    return alpha_T * c * ufl.grad(T) / T


def soret_flux(D, alpha_T, c, T):
    """Soret part of the molar flux, -D alpha_T c grad(ln T) [mol/(m^2 s)], D scalar or tensor [m^2/s]."""
    return -apply_tensor(D, soret_driving_force(alpha_T, c, T))


def alpha_from_heat_of_transport(Q_star, T):
    """Thermal diffusion ratio alpha_T = Q*/(k_B T) [-] from the heat of transport Q* [J per particle]
    at temperature T [K] (numbers, NumPy arrays or UFL)."""
    return Q_star / (BOLTZMANN * T)
