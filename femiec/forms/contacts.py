"""Metal/semiconductor contacts of a drift-diffusion (Nernst–Planck–Poisson) model of electrons (SI units).

Thermionic emission over a Schottky barrier (Sze & Ng, Physics of Semiconductor Devices, 3rd ed. 2007,
sec. 3.3; Crowell & Sze, Solid-State Electron. 9 (1966) 1035), as the boundary condition of the electron
drift-diffusion equation at the metal (the thermionic recombination-velocity form):

    J_n . n = v_n (n - n_0)                 outward electron flux into the metal [mol/(m^2 s)]
    v_n = A* T^2 / (q N_c)                  thermionic (recombination) velocity [m/s]
    n_0 = N_c exp(-phi_B / V_T) / N_A       equilibrium electron concentration at the interface [mol/m^3]

with the effective Richardson constant A* [A/(m^2 K^2)] (1.20173e6 m*/m_0), the effective density of
states of the conduction band N_c [m^-3], the barrier height phi_B [V] (Schottky–Mott, no image-force
lowering, no tunnelling), V_T = R T / F [V], N_A Avogadro's number. The metal's Fermi level is the
applied potential V [V]; the conduction-band edge at the interface sits phi_B above it, so the
electrostatic potential at the interface is

    phi_s = V - phi_B + V_T ln(N_c / (N_A n_ref))   [V],

with n_ref [mol/m^3] the electron concentration at which the electrons' Fermi level is at phi = 0 (e.g.
an ohmic contact that holds n = n_ref at phi = 0): n_ref exp((phi_s - V) / V_T) = n_0. The anodic
current density into the oxide is i = F J_n . n [A/m^2] (electrons leave into the metal). When drift and
diffusion across the depletion layer are fast, the electrons' quasi-Fermi level is flat up to the
interface, n = n_0 exp(V / V_T) there, and the current is the thermionic-emission law

    i = A* T^2 exp(-phi_B / V_T) (exp(V / V_T) - 1)                  [A/m^2]

(:func:`femiec.analytic.schottky.thermionic_emission_current_density`).

The functions take numbers or UFL expressions.
"""
from __future__ import annotations

import math

from femiec.constants import AVOGADRO, ELEMENTARY_CHARGE, FARADAY, GAS_CONSTANT


def thermionic_velocity(richardson_constant, temperature, effective_density_of_states):
    """v_n = A* T^2 / (q N_c) [m/s]: A* [A/(m^2 K^2)], T [K], N_c [m^-3]."""
    return richardson_constant * temperature ** 2 / (ELEMENTARY_CHARGE * effective_density_of_states)


def interface_equilibrium_concentration(barrier_height, temperature, effective_density_of_states):
    """n_0 = N_c exp(-phi_B F / (R T)) / N_A [mol/m^3]: phi_B [V], T [K] (a number), N_c [m^-3]."""
    return effective_density_of_states * math.exp(-barrier_height * FARADAY / (GAS_CONSTANT * temperature)) / AVOGADRO


def schottky_surface_potential(applied_potential, barrier_height, temperature, effective_density_of_states,
                               reference_concentration):
    """phi_s = V - phi_B + V_T ln(N_c / (N_A n_ref)) [V] (module docstring): V, phi_B [V], T [K] (a number),
    N_c [m^-3], n_ref [mol/m^3]."""
    thermal_voltage = GAS_CONSTANT * temperature / FARADAY
    return applied_potential - barrier_height + thermal_voltage * math.log(
        effective_density_of_states / (AVOGADRO * reference_concentration))


def thermionic_emission_flux(concentration, equilibrium_concentration, velocity):
    """Outward electron flux into the metal J_n . n = v_n (n - n_0) [mol/(m^2 s)]: n, n_0 [mol/m^3], v_n [m/s]."""
    return velocity * (concentration - equilibrium_concentration)
