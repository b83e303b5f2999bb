"""Heat equation with Joule, ionic and reaction heat sources (pure UFL, SI units).

Strong form, with k the thermal conductivity [W/(m K)] (scalar or (gdim, gdim) tensor), rho c_p the
volumetric heat capacity [J/(m^3 K)] and q the volumetric heat source [W/m^3]:

    rho c_p dT/dt + div(q_heat) = q,      q_heat = -k grad(T)                      q_heat [W/m^2]
    T = T_D                               on fixed-temperature facets
    q_heat . n = g                        on heat-flux facets (g outward [W/m^2])
    q_heat . n = h (T - T_inf)            on convective facets (h [W/(m^2 K)], T_inf [K])
    q_heat . n = -q_s                     on facets carrying a surface heat source q_s [W/m^2]

Heat sources:
- Joule heating of electronic conduction: q = grad(phi) . sigma grad(phi) = sigma |grad phi|^2 (scalar
  sigma) [W/m^3], sigma the electronic conductivity [S/m], phi the potential [V].
- Ionic current: q = i . E = -i . grad(phi), i = F sum_k z_k J_k the ionic current density [A/m^2].
- Electrode reaction at a Butler–Volmer interface (anodic current i [A/m^2] positive, overpotential eta
  [V]): q_s = eta i (irreversible, >= 0 for Butler–Volmer) - i T dS/(n F) (reversible Peltier heat, dS
  [J/(mol K)] the entropy change of the oxidation R -> O + n e-); each part can be switched off.
"""
from __future__ import annotations

import ufl

from femiec.constants import FARADAY
from femiec.errors import InputError
from femiec.forms.nernst_planck import apply_tensor


def heat_flux(k, T):
    """Conductive heat flux q_heat = -k grad(T) [W/m^2], k scalar or tensor [W/(m K)]."""
    return -apply_tensor(k, ufl.grad(T))


def heat_residual(rho_cp, k, T, rate, v, dx, source=None):
    """Weak residual of rho c_p dT/dt - div(k grad T) = q without boundary terms [W per unit test function]:

        F = int rho_cp rate v dx + int k grad(T) . grad(v) dx - int q v dx

    ``rate`` is the discrete dT/dt [K/s] (e.g. from :mod:`femiec.forms.time`), None for a steady problem
    (then ``rho_cp`` is unused and may be None). Facets without a boundary term are insulating.
    """
    F = -ufl.inner(heat_flux(k, T), ufl.grad(v)) * dx
    if rate is not None:
        F += rho_cp * rate * v * dx
    if source is not None:
        F -= source * v * dx
    return F


def joule_heating(sigma, phi):
    """Joule heat of electronic conduction grad(phi) . sigma grad(phi) [W/m^3] (sigma |grad phi|^2 for a
    scalar sigma [S/m]; a symmetric tensor sigma gives the same as -i . grad(phi) with i = -sigma grad phi)."""
    grad_phi = ufl.grad(phi)
    return ufl.inner(grad_phi, apply_tensor(sigma, grad_phi))


def ionic_current_density(fluxes, charges):
    """Ionic current density i = F sum_k z_k J_k [A/m^2] from molar fluxes J_k [mol/(m^2 s)]."""
    return sum(FARADAY * z * J for J, z in zip(fluxes, charges))


def ionic_heating(current_density, phi):
    """Heat i . E = -i . grad(phi) [W/m^3] dissipated by a current density i [A/m^2] in the field E."""
    return -ufl.inner(current_density, ufl.grad(phi))


def reaction_heat(current_density, overpotential, temperature=None, reaction_entropy=0.0, electrons=1,
                  irreversible=True, reversible=True):
    """Surface heat source of an electrode reaction [W/m^2] (numbers, arrays or UFL):

        q_s = eta i  (irreversible)  -  i T dS/(n F)  (reversible, Peltier)

    Args:
        current_density: anodic-positive current density i [A/m^2] (e.g. Butler–Volmer).
        overpotential: eta [V]; temperature: T [K] (needed for the reversible part).
        reaction_entropy: dS [J/(mol K)] of the oxidation R -> O + n e- (Peltier coefficient T dS/(n F)).
        electrons: n; irreversible, reversible: switch each part on or off.
    """
    if reversible and temperature is None:
        raise InputError("temperature", None, "a temperature in K for the reversible (Peltier) reaction heat")
    q = 0.0
    if irreversible:
        q = q + overpotential * current_density
    if reversible:
        q = q - current_density * temperature * reaction_entropy / (electrons * FARADAY)
    return q


def convective_heat_term(h, T, T_inf, v, ds):
    """Boundary term int h (T - T_inf) v ds of the convective condition q_heat . n = h (T - T_inf)."""
    return h * (T - T_inf) * v * ds


def heat_flux_term(outward_flux, v, ds):
    """Boundary term int g v ds of a prescribed outward heat flux g = q_heat . n [W/m^2]."""
    return outward_flux * v * ds


def surface_heat_source_term(q_s, v, ds):
    """Boundary term -int q_s v ds of heat q_s [W/m^2] generated on a facet and conducted into the body."""
    return -q_s * v * ds
