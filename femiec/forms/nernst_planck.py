"""Nernst–Planck transport of a charged species (pure UFL, SI units).

Strong form for species i with concentration c_i [mol/m^3], charge number z_i, diffusivity D_i [m^2/s]
(scalar or tensor), potential phi [V] and temperature T [K]:

    J_i = -D_i (grad c_i + z_i c_i F/(R T) grad phi + sum_k g_k)      molar flux [mol/(m^2 s)]
    dc_i/dt + div J_i = s_i                                            s_i [mol/(m^3 s)]
    J_i . n = j_i                                                      on flux facets [mol/(m^2 s)]

``g_k`` are further driving forces written as equivalent concentration gradients [mol/m^4]; the Soret
term is one of them: g = alpha_T c grad(ln T) (alpha_T the Soret coefficient, dimensionless). They all
enter through :func:`nernst_planck_flux`, the one place where the flux is built.
"""
from __future__ import annotations

import ufl

from femiec.constants import FARADAY, GAS_CONSTANT


def apply_tensor(K, vector):
    """K . vector for a (gdim, gdim) tensor K, or K * vector for a scalar K (both UFL)."""
    if ufl.shape(K) == ():
        return K * vector
    return ufl.dot(K, vector)


def nernst_planck_flux(c, D, z, phi, T, extra_driving_forces=()):
    """Molar flux J = -D (grad c + z c F/(R T) grad phi + sum(extra_driving_forces)) [mol/(m^2 s)].

    Args:
        c: concentration [mol/m^3] (UFL; may be an expression such as c_ref * exp(w)).
        D: diffusivity [m^2/s], scalar or (gdim, gdim) tensor.
        z: charge number (number or UFL constant).
        phi: electric potential [V].
        T: temperature [K] (number or UFL).
        extra_driving_forces: vectors [mol/m^4] added to the concentration gradient (e.g. the Soret term
            alpha_T c grad ln T).
    """
    driving = ufl.grad(c) + z * c * FARADAY / (GAS_CONSTANT * T) * ufl.grad(phi)
    for force in extra_driving_forces:
        driving = driving + force
    return -apply_tensor(D, driving)


def nernst_planck_residual(rate, flux, v, dx, source=None):
    """Weak residual of dc/dt + div J = s without boundary terms [mol/s per unit test function]:

        F = int rate v dx - int J . grad(v) dx - int s v dx,

    with ``rate`` the discrete time derivative dc/dt [mol/(m^3 s)] (None for a steady problem). Add
    :func:`outward_flux_term` for facets with a prescribed normal flux; facets without one are blocking.
    """
    F = -ufl.inner(flux, ufl.grad(v)) * dx
    if rate is not None:
        F += rate * v * dx
    if source is not None:
        F -= source * v * dx
    return F


def outward_flux_term(outward_flux, v, ds):
    """Boundary term int j v ds of a prescribed outward normal flux j = J . n [mol/(m^2 s)].

    A species produced at the surface into the domain at rate r [mol/(m^2 s)] has j = -r.
    """
    return outward_flux * v * ds
