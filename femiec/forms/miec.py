"""Electroneutral mixed ionic-electronic conductor (MIEC): oxygen vacancies and electrons (pure UFL, SI units).

Variables (docs/mixed_conductors.md; the conventions of femiec.materials.defects): the unknowns are
u = ln(n / n_ref) (electron concentration n [mol/m^3], the log keeps it positive) and the electronic
potential psi_el [V]. Local defect equilibrium and electroneutrality give every other quantity as an
explicit function of n and T (vacancies v, holes p, ln(pO2/p_ref)), and the ionic potential

    psi_ion = psi_el - (R T / (4 F)) ln(pO2 / p_ref)   [V].

Currents [A/m^2]:  i_ion = -sigma_ion grad psi_ion,  i_el = -sigma_el grad psi_el.
Balances [A/m^3]:  2 F dv/dt + div i_ion = 0 (vacancies, ionic charge),
                  -2 F dv/dt + div i_el = 0 (electrons and holes, electronic charge).

Weak form (test functions w1, w2; g_ion, g_tot given outward normal fluxes [A/m^2] on facets):

    F_ion = int 2F dv/dt w1 dx - int i_ion . grad w1 dx + sum int g_ion w1 ds
    F_tot = -int (i_ion + i_el) . grad w2 dx + sum int g_tot w2 ds

F_tot is the sum of the ionic and the electronic balance tested with w2 (the storage cancels): the
total-charge balance div(i_ion + i_el) = 0. It is the second row (rather than the electronic balance
alone) so that each Dirichlet condition replaces the balance whose boundary flux it leaves free: fixed pO2
(u given) frees the ionic flux and keeps (i_ion + i_el) . n = 0 (no external current at a gas face, the
electrons for the surface reaction come from the bulk); an electron-reversible contact (psi_el given)
frees the total current and keeps the ionic flux (0: ion-blocking).

Boundary fluxes (outward normal n, out of the MIEC):
- ion-blocking: g_ion = 0 (nothing to add);
- surface exchange with a gas, 1/2 O2 + V_O + 2 e' <=> O_O: the reaction turns the electronic current
  arriving at the surface into ionic current, g_ion = i_x, i_el . n = -i_x, so g_tot = 0, with
  i_x = 2 F r [A/m^2] and r [mol O/(m^2 s)] the rate of oxygen incorporation (:func:`surface_exchange_current`,
  :func:`butler_volmer_exchange_current`);
- oxide-ion transfer into an electrolyte: g_ion = g_tot = (psi_ion - V_electrolyte) / R_transfer
  (:func:`electrolyte_transfer_current`).

Homogenised porous MIEC (Adler-Lane-Steele): the same exchange on the pore walls, spread over the volume
with the specific surface a [1/m], is the volumetric ionic sink q_x = a i_x [A/m^3] (oxygen incorporated
from the pores annihilates vacancies and consumes electrons):

    2F dv/dt + div i_ion = -q_x,   -2F dv/dt + div i_el = +q_x,

so F_ion gains + int q_x w1 dx and F_tot is unchanged (``exchange`` of :func:`miec_residual`); the
effective conductivities and the storage carry the solid fraction and the tortuosity
(femiec.problems.miec_conditions.PorousElectrode).
"""
from __future__ import annotations

from collections.abc import Mapping

import ufl

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.forms.conduction import conduction_residual, ohmic_flux


def electron_concentration(u, reference_concentration):
    """n = n_ref exp(u) [mol/m^3] from the log unknown u = ln(n / n_ref); n_ref [mol/m^3]."""
    return reference_concentration * ufl.exp(u)


def ionic_potential(electronic_potential, log_oxygen_pressure, temperature):
    """psi_ion = psi_el - (R T / (4 F)) ln(pO2 / p_ref) [V] (local equilibrium of the reduction reaction):
    psi_el [V], ln(pO2 / p_ref) [-], T [K]."""
    return electronic_potential - GAS_CONSTANT * temperature / (4 * FARADAY) * log_oxygen_pressure


def ionic_current(ionic_conductivity, ionic_potential):
    """i_ion = -sigma_ion grad psi_ion [A/m^2]: sigma_ion [S/m], psi_ion [V]."""
    return ohmic_flux(ionic_conductivity, ionic_potential)


def electronic_current(electronic_conductivity, electronic_potential):
    """i_el = -sigma_el grad psi_el [A/m^2]: sigma_el [S/m] (electrons + holes), psi_el [V]."""
    return ohmic_flux(electronic_conductivity, electronic_potential)


def oxygen_potential_difference(log_oxygen_pressure, gas_log_oxygen_pressure, temperature):
    """Delta = (psi_ion - psi_el) - (psi_ion - psi_el)_gas = -(R T / (4 F)) (ln pO2 - ln pO2_gas) [V]
    = (mu_O,gas - mu_O) / (2 F): the oxygen chemical-potential difference between the gas and the solid
    at the surface, as a voltage (> 0: the gas is more oxidising, oxygen is incorporated). The pressures
    enter as ln(pO2 / p_ref), T [K]."""
    return -GAS_CONSTANT * temperature / (4 * FARADAY) * (log_oxygen_pressure - gas_log_oxygen_pressure)


def surface_exchange_current(potential_difference, resistance):
    """Linear surface exchange i_x = Delta / R_s [A/m^2] (outward ionic current of the incorporation):
    Delta [V] from :func:`oxygen_potential_difference`, R_s [Ohm m^2]. With the chemical rate constant
    k_chem [m/s] (oxygen flux into the solid r = k_chem (v - v_gas), v_gas the vacancy concentration in
    equilibrium with the gas): R_s = 1 / (k_chem C_chem) (:func:`exchange_resistance_from_rate_constant`)."""
    return potential_difference / resistance


def butler_volmer_exchange_current(potential_difference, exchange_rate, transfer_coefficient, temperature):
    """Nonlinear surface exchange i_x = 2 F r [A/m^2] with the incorporation rate [mol O/(m^2 s)]

        r = r0 [exp(alpha 2 F Delta / (R T)) - exp(-(1 - alpha) 2 F Delta / (R T))],

    i.e. Butler-Volmer in the oxygen chemical-potential difference per O atom, 2 F Delta = mu_O,gas - mu_O
    [J/mol]: Delta [V], exchange rate r0 [mol/(m^2 s)], transfer coefficient alpha [-], T [K]. Its
    linearisation at Delta = 0 is :func:`surface_exchange_current` with R_s = R T / (4 F^2 r0)
    (:func:`exchange_resistance`)."""
    x = 2 * FARADAY * potential_difference / (GAS_CONSTANT * temperature)
    return 2 * FARADAY * exchange_rate * (ufl.exp(transfer_coefficient * x) - ufl.exp(-(1 - transfer_coefficient) * x))


def exchange_resistance(exchange_rate, temperature):
    """R_s = R T / (4 F^2 r0) [Ohm m^2]: the slope d Delta / d i_x at equilibrium of
    :func:`butler_volmer_exchange_current` (exchange rate r0 [mol/(m^2 s)], T [K])."""
    return GAS_CONSTANT * temperature / (4 * FARADAY ** 2 * exchange_rate)


def exchange_resistance_from_rate_constant(rate_constant, chemical_capacitance):
    """R_s = 1 / (k_chem C_chem) [Ohm m^2] from the chemical surface rate constant k_chem [m/s] and the
    chemical capacitance C_chem [F/m^3]. Derivation: near equilibrium mu_O,gas - mu_O = -(d mu_O/dv)
    (v - v_gas) = (4 F^2 / C_chem) (v - v_gas) (C_chem = -4 F^2 dv/d mu_O), so i_x = 2 F r = Delta / R_s with
    Delta = (mu_O,gas - mu_O) / (2F) gives r = (v - v_gas) / (R_s C_chem) = k_chem (v - v_gas)."""
    return 1 / (rate_constant * chemical_capacitance)


def electrolyte_transfer_current(ionic_potential, electrolyte_potential, resistance):
    """Outward ionic current into an oxide-ion electrolyte, i_ion . n = (psi_ion - V_e) / R_transfer
    [A/m^2]: psi_ion [V] at the interface, V_e [V] the electrolyte's ionic potential, R_transfer [Ohm m^2]."""
    return (ionic_potential - electrolyte_potential) / resistance


def electron_hole_generation(rate_constant, intrinsic_constant, electrons, holes):
    """Net generation of electron-hole pairs r = k_r (K_e - n p) [mol/(m^3 s)] (nil <=> e' + h^., mass
    action, zero at n p = K_e): k_r [m^3/(mol s)], K_e [(mol/m^3)^2], n, p [mol/m^3]. The source of both the
    electrons and the holes of the full-Poisson MIEC (femiec.problems.miec_poisson)."""
    return rate_constant * (intrinsic_constant - electrons * holes)


def miec_residual(sigma_ion, sigma_el, psi_ion, psi_el, vacancy_rate, w1, w2, dx, ds=None,
                  ionic_fluxes: Mapping | None = None, total_fluxes: Mapping | None = None,
                  exchange=None) -> list:
    """[F_ion, F_tot] of the module docstring: sigma_ion, sigma_el [S/m] (scalar or tensor), psi_ion,
    psi_el [V], vacancy_rate dv/dt [mol/(m^3 s)] (UFL, or None for the steady residual), test functions
    w1, w2, the cell measure dx, the facet measure ds with facet-tag data and the outward normal fluxes
    [A/m^2] per facet tag: ``ionic_fluxes`` g_ion (ionic row), ``total_fluxes`` g_tot (total-charge row);
    ``exchange`` the volumetric exchange q_x = a i_x [A/m^3] of a porous MIEC (UFL or None)."""
    source = None if vacancy_rate is None else -2 * FARADAY * vacancy_rate
    if exchange is not None:
        source = -exchange if source is None else source - exchange
    F_ion = conduction_residual(sigma_ion, psi_ion, w1, dx, source=source, ds=ds, outward_fluxes=ionic_fluxes)
    current = ionic_current(sigma_ion, psi_ion) + electronic_current(sigma_el, psi_el)
    F_tot = -ufl.inner(current, ufl.grad(w2)) * dx
    for tag, g in (total_fluxes or {}).items():
        F_tot += g * w2 * ds(tag)
    return [F_ion, F_tot]
