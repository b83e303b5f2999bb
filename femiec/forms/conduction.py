"""Steady conduction / diffusion with a scalar or tensor coefficient (pure UFL).

Strong form, with K a scalar or a symmetric positive-definite tensor:

    flux = -K grad(u),        div(flux) = f  in the domain,
    flux . n = g  on facets with a prescribed outward normal flux g.

Units: for K = conductivity sigma [S/m] and u = potential phi [V], flux is the current density [A/m^2],
f a volumetric current source [A/m^3] and g [A/m^2]; for K = diffusivity D [m^2/s] and u = concentration
[mol/m^3], flux is the molar flux [mol/(m^2 s)], f [mol/(m^3 s)] and g [mol/(m^2 s)].
"""
from __future__ import annotations

from collections.abc import Mapping

import ufl

from femiec.forms.nernst_planck import apply_tensor


def ohmic_flux(sigma, phi):
    """Flux -sigma grad(phi) for a scalar or a (gdim, gdim) tensor ``sigma`` (Ohm's/Fick's law)."""
    return -apply_tensor(sigma, ufl.grad(phi))


def conduction_residual(sigma, phi, v, dx, source=None, ds=None, outward_fluxes: Mapping | None = None):
    """Weak residual F(phi; v) of div(-sigma grad phi) = source with prescribed outward normal fluxes:

        F = int sigma grad(phi) . grad(v) dx - int source v dx + sum_tag int g_tag v ds(tag).

    Args:
        sigma: scalar or tensor coefficient (UFL).
        phi: unknown (Function or TrialFunction); v: test function.
        dx: cell measure (may carry subdomain data); source: volumetric source f (UFL or None).
        ds: exterior facet measure with facet-tag subdomain data (needed with ``outward_fluxes``).
        outward_fluxes: facet tag -> outward normal flux density g (UFL or number). Facets with neither a
            flux nor a Dirichlet condition are insulating (g = 0).
    """
    F = ufl.inner(-ohmic_flux(sigma, phi), ufl.grad(v)) * dx
    if source is not None:
        F -= source * v * dx
    for tag, g in (outward_fluxes or {}).items():
        F += g * v * ds(tag)
    return F
