"""Two-rail (mixed ionic/electronic) conduction with an interface exchange current (pure UFL, SI units).

Two potentials, phi1 (the ionic phase) and phi2 (the electronic phase) [V], each carried by Ohm's law,
exchange charge through the interface between the phases. Linearised kinetics: a charge-transfer
resistance R_ct [Ohm m^2] in parallel with a double-layer capacitance C_dl [F/m^2], so the interface
current density from the electronic into the ionic phase is

    i = eta / R_ct + C_dl d eta / dt   [A/m^2],     eta = phi2 - phi1.

Resolved: each potential lives on its own phase, i1 = -sigma1 grad phi1, i2 = -sigma2 grad phi2,
div i1 = 0, div i2 = 0 inside the phases, and on the interface Gamma (normal n1 out of phase 1)
i1 . n1 = -i and i2 . n2 = i. Weak form (test functions v1, v2):

    F1 = int_1 sigma1 grad phi1 . grad v1 dx - int_Gamma i v1 dS
    F2 = int_2 sigma2 grad phi2 . grad v2 dx + int_Gamma i v2 dS

Homogenised: both potentials on the whole domain with effective conductivities, and the exchange spread
over the volume with the specific interface area a [1/m] (interface area per volume):

    div i1 = a i,   div i2 = -a i;
    F1 = int sigma1 grad phi1 . grad v1 dx - int a i v1 dx
    F2 = int sigma2 grad phi2 . grad v2 dx + int a i v2 dx

(the line phi1' = -rho1 i1, phi2' = -rho2 i2, i1' = -i2' = (phi2 - phi1)/z_f of
femiec.analytic.impedance.mixed_conduction_line with rho_k = 1/sigma_k and z_f = z_interface / a).
Currents fed through contact faces enter as outward normal fluxes (femiec.forms.conduction).
"""
from __future__ import annotations

from femiec.forms.conduction import conduction_residual


def faradaic_current(eta, charge_transfer_resistance):
    """The charge-transfer part of the interface current, eta / R_ct [A/m^2] from the electronic into the
    ionic phase: eta = phi2 - phi1 [V], R_ct [Ohm m^2] (linearised Butler–Volmer about equilibrium)."""
    return eta / charge_transfer_resistance


def capacitive_current(eta_rate, double_layer_capacitance):
    """The double-layer part of the interface current, C_dl d eta/dt [A/m^2]: eta_rate [V/s], C_dl [F/m^2]
    (the storage term; the interface current is faradaic_current + capacitive_current)."""
    return double_layer_capacitance * eta_rate


def exchange_terms(current, v1, v2, measure) -> list:
    """[-current v1, +current v2] integrated with ``measure``: the exchange ``current`` (into phase 1, out
    of phase 2; per area on dS, per volume on dx) in the residuals of phase 1 and phase 2."""
    return [-current * v1 * measure, current * v2 * measure]


def homogenised_residual(sigma1, sigma2, phi1, phi2, v1, v2, dx, exchange, ds1=None, ds2=None,
                         outward_fluxes1=None, outward_fluxes2=None) -> list:
    """[F1, F2] of the homogenised two-rail medium: effective conductivities sigma1, sigma2 [S/m] (scalar
    or tensor), ``exchange`` the volumetric exchange current a i [A/m^3] (UFL), optional outward normal
    fluxes [A/m^2] on the facets of ``ds1`` / ``ds2`` (a facet tag -> flux mapping per rail)."""
    terms = exchange_terms(exchange, v1, v2, dx)
    return [conduction_residual(sigma1, phi1, v1, dx, ds=ds1, outward_fluxes=outward_fluxes1) + terms[0],
            conduction_residual(sigma2, phi2, v2, dx, ds=ds2, outward_fluxes=outward_fluxes2) + terms[1]]


def resolved_residual(sigma1, sigma2, phi1, phi2, v1, v2, dx1, dx2, dS, exchange, ds1=None, ds2=None,
                      outward_fluxes1=None, outward_fluxes2=None) -> list:
    """[F1, F2] of the resolved two-phase medium: phi1 integrated over ``dx1`` (phase 1 cells), phi2 over
    ``dx2``; ``exchange`` the interface current density i [A/m^2] on the interface measure ``dS`` (UFL,
    restricted: phase 1 on the "+" side, phase 2 on "-"); optional outward normal fluxes as in
    :func:`homogenised_residual`."""
    terms = exchange_terms(exchange, v1("+"), v2("-"), dS)
    return [conduction_residual(sigma1, phi1, v1, dx1, ds=ds1, outward_fluxes=outward_fluxes1) + terms[0],
            conduction_residual(sigma2, phi2, v2, dx2, ds=ds2, outward_fluxes=outward_fluxes2) + terms[1]]
