"""Poisson equation of the electric potential and the electroneutrality closure (pure UFL, SI units).

    -div(eps grad phi) = rho,     rho = F sum_i z_i c_i + rho_fixed

phi [V], eps = eps_0 eps_r [F/m] (scalar or tensor), c_i [mol/m^3], rho_fixed [C/m^3] (fixed background
charge: dopants, host-lattice charge). A Stern (compact) layer of capacitance C_S [F/m^2] between an
electrode at potential V and the domain gives the Robin condition eps grad(phi) . n = C_S (V - phi),
n the outward normal (the electrode's surface charge density [C/m^2]).
"""
from __future__ import annotations

import ufl

from femiec.constants import FARADAY
from femiec.forms.nernst_planck import apply_tensor


def charge_density(concentrations, charges, fixed_charge=None):
    """rho = F sum_i z_i c_i + rho_fixed [C/m^3]."""
    rho = sum(FARADAY * z * c for c, z in zip(concentrations, charges))
    if fixed_charge is not None:
        rho = rho + fixed_charge
    return rho


def poisson_residual(phi, v, eps, rho, dx, charge_dx=None):
    """Weak residual int eps grad(phi) . grad(v) dx - int rho v dx [C per unit test function].

    ``charge_dx``: the measure of the charge term (default ``dx``); a vertex quadrature (lumped charge)
    keeps the discrete potential free of oscillations where the mesh does not resolve the Debye length.
    """
    return ufl.inner(apply_tensor(eps, ufl.grad(phi)), ufl.grad(v)) * dx - rho * v * (charge_dx or dx)


def stern_charge_density(capacitance, electrode_potential, phi):
    """Surface charge q = C_S (V - phi) [C/m^2] of the electrode side of a Stern layer of capacitance C_S
    [F/m^2] between the electrode potential V [V] and the potential phi [V] at the diffuse layer's edge."""
    return capacitance * (electrode_potential - phi)


def stern_layer_term(capacitance, electrode_potential, phi, v, ds):
    """Boundary term -int C_S (V - phi) v ds of the Stern-layer Robin condition eps dphi/dn = C_S (V - phi)."""
    return -stern_charge_density(capacitance, electrode_potential, phi) * v * ds


def electroneutrality_residual(concentrations, charges, v, dx, fixed_charge=None):
    """Weak form of local electroneutrality sum_i z_i c_i + rho_fixed / F = 0 [mol per unit test function].

    Used in place of one species' transport equation when the Debye length is negligible (macroscale
    models); the potential is then fixed by charge conservation, the charge-weighted sum of the
    Nernst–Planck residuals.
    """
    rho = charge_density(concentrations, charges, fixed_charge)
    return rho / FARADAY * v * dx
