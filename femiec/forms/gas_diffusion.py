"""O2 transport in the gas of the pores of an electrode: binary O2-N2 diffusion with a Knudsen correction
(pure UFL where a field enters, plain numbers otherwise; SI units).

Unknown: the O2 mole fraction x [-] of an isothermal, isobaric O2-N2 gas; total molar concentration
c_t = p / (R T) [mol/m^3]. Diffusivities [m^2/s]:

    Knudsen (gas molecules hit the pore walls more often than each other; d_pore the pore diameter [m],
    M_O2 the molar mass [kg/mol]):      D_K = (d_pore / 3) sqrt(8 R T / (pi M_O2))
    binary molecular O2-N2, Fuller, Schettler & Giddings (1966) as given by Poling, Prausnitz & O'Connell,
    "The Properties of Gases and Liquids", 5th ed. (2001), eq. 11-4.4 and Table 11-1:
        D_12 [cm^2/s] = 0.00143 T^1.75 / (p[bar] sqrt(M_12) (V_O2^(1/3) + V_N2^(1/3))^2),
        M_12 = 2 / (1/M_O2 + 1/M_N2) [g/mol], diffusion volumes V_O2 = 16.3, V_N2 = 18.5;
    or a given D_12 at (T_ref, p_ref) scaled as D_12 (T / T_ref)^1.75 (p_ref / p) (the same T, p law);
    Bosanquet (resistances of molecule-molecule and molecule-wall collisions in series):
        D_eff = 1 / (1 / D_12 + 1 / D_K).

Flux laws for the O2 molar flux N [mol/(m^2 s)]:

    "fick":       N = -c_t D_eff grad x                         (dilute O2 or equimolar counter-diffusion)
    "dusty_gas":  N = -c_t grad x / ((1 - x) / D_12 + 1 / D_K)  (dusty-gas model, isobaric, N2 stagnant)

The second is the dusty-gas model -c_t grad x_1 = (x_2 N_1 - x_1 N_2) / D_12 + N_1 / D_K1 of a binary
mixture in a dead-end electrode, where N2 is not consumed and its flux N_2 is 0 (Mason & Malinauskas, "Gas
Transport in Porous Media: The Dusty-Gas Model", 1983). Without walls (D_K -> infinity) it is Stefan's
flux N = -c_t D_12 grad x / (1 - x) (the O2 is carried by the bulk flow that it drives itself), and for
x -> 0 it is Fick's with the Bosanquet D_eff. The Stefan factor 1 / (1 - x) is 1.27 in air and diverges
in pure O2 (where no molecular diffusion limits the flux, only Knudsen).

Steady balance in the pores, weak form with the test function q and the outward normal O2 flux g
[mol/(m^2 s)] on facets (g > 0: O2 leaves the gas), a volumetric O2 sink s [mol/(m^3 s)]:

    div N = -s,     F = -int N . grad q dx + int s q dx + sum int g q ds.

Transient (the small signal of the electrode's impedance): the gas holds eps c_t x mol/m^3 of O2 (eps the
gas's volume fraction: 1 in a mesh of the pores themselves), so

    eps c_t dx/dt + div N = -s,     storage form  int eps c_t (dx/dt) q dx   (:func:`gas_storage`)

[mol/(m^3 s)]. With "dusty_gas" the flux law keeps the N2 stagnant also in the transient (the N2 flux that
the changing composition drives, div N_N2 = c_t dx/dt, is neglected): exact for "fick" and at steady
state, an approximation of the small signal at frequencies where the gas's holdup matters.

At a pore wall the surface exchange of femiec.forms.miec consumes O2 at g = i_x / (4 F), i_x [A/m^2] the
outward ionic current density of the solid (> 0: oxygen incorporated; femiec.problems.miec_conditions):
(:func:`wall_oxygen_flux`).
"""
from __future__ import annotations

import math

import ufl

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.errors import InputError

#: molar masses [kg/mol] of O2 and N2
MOLAR_MASS_O2, MOLAR_MASS_N2 = 31.998e-3, 28.014e-3
#: Fuller diffusion volumes [-] of O2 and N2 (Poling, Prausnitz & O'Connell, Table 11-1)
DIFFUSION_VOLUME_O2, DIFFUSION_VOLUME_N2 = 16.3, 18.5
#: the flux laws of the module docstring
FLUX_LAWS = ("fick", "dusty_gas")


def total_concentration(pressure, temperature):
    """c_t = p / (R T) [mol/m^3] of an ideal gas: p [Pa], T [K]."""
    return pressure / (GAS_CONSTANT * temperature)


def knudsen_diffusivity(pore_diameter, temperature, molar_mass=MOLAR_MASS_O2):
    """D_K = (d_pore / 3) sqrt(8 R T / (pi M)) [m^2/s]: d_pore [m], T [K], M [kg/mol] (O2 by default)."""
    return pore_diameter / 3 * (8 * GAS_CONSTANT * temperature / (math.pi * molar_mass)) ** 0.5


def fuller_diffusivity(temperature, pressure):
    """Binary O2-N2 diffusivity D_12 [m^2/s] of Fuller, Schettler & Giddings (module docstring): T [K],
    p [Pa]. About 1.96e-4 m^2/s at 1073 K and 1 bar (0.20 cm^2/s at 293 K)."""
    reduced_mass = 2 / (1 / (1e3 * MOLAR_MASS_O2) + 1 / (1e3 * MOLAR_MASS_N2))  # g/mol
    volumes = (DIFFUSION_VOLUME_O2 ** (1 / 3) + DIFFUSION_VOLUME_N2 ** (1 / 3)) ** 2
    cm2_per_s = 0.00143 * temperature ** 1.75 / (pressure / 1e5 * reduced_mass ** 0.5 * volumes)
    return 1e-4 * cm2_per_s


def scaled_diffusivity(diffusivity, temperature, pressure, reference_temperature, reference_pressure):
    """D_12 (T / T_ref)^1.75 (p_ref / p) [m^2/s]: a binary diffusivity given at (T_ref [K], p_ref [Pa])
    carried to (T, p) with the Fuller temperature and pressure law."""
    return diffusivity * (temperature / reference_temperature) ** 1.75 * (reference_pressure / pressure)


def bosanquet_diffusivity(binary_diffusivity, knudsen_diffusivity):
    """D_eff = 1 / (1 / D_12 + 1 / D_K) [m^2/s]: D_12, D_K [m^2/s]."""
    return 1 / (1 / binary_diffusivity + 1 / knudsen_diffusivity)


def oxygen_flux(mole_fraction, total_concentration, binary_diffusivity, knudsen_diffusivity, law="fick"):
    """The O2 molar flux N [mol/(m^2 s)] of the flux ``law`` (module docstring) for the O2 mole fraction x
    (UFL), c_t [mol/m^3], D_12 and D_K [m^2/s] (D_K = math.inf: no walls, "dusty_gas" is then Stefan's
    flux -c_t D_12 grad x / (1 - x))."""
    if law not in FLUX_LAWS:
        raise InputError("flux_law", law, f"one of {list(FLUX_LAWS)}")
    wall = 0.0 if math.isinf(knudsen_diffusivity) else 1 / knudsen_diffusivity
    resistance = (1 if law == "fick" else 1 - mole_fraction) / binary_diffusivity + wall
    return -total_concentration / resistance * ufl.grad(mole_fraction)


def wall_oxygen_flux(exchange_current):
    """g = i_x / (4 F) [mol/(m^2 s)]: the O2 leaving the gas through a pore wall whose solid side carries
    the outward ionic current density i_x [A/m^2] of the surface exchange (4 electrons per O2)."""
    return exchange_current / (4 * FARADAY)


def gas_storage(total_concentration, rate, test, dx, porosity=1.0):
    """int eps c_t (dx/dt) q dx [mol/s] (module docstring): c_t [mol/m^3], ``rate`` the rate dx/dt [1/s]
    (UFL), q the test function, eps the gas's volume fraction [-] (1 in a mesh of the pores)."""
    return porosity * total_concentration * rate * test * dx


def gas_residual(flux, test, dx, sink=None, ds=None, outward_fluxes=None):
    """F = -int N . grad q dx + int s q dx + sum_tag int g_tag q ds(tag) of div N = -s (module docstring):
    N the O2 flux (UFL, :func:`oxygen_flux`), q the test function, s [mol/(m^3 s)] the volumetric sink
    (None: 0), g_tag [mol/(m^2 s)] the outward normal O2 flux on the facets ``tag`` of ``ds``."""
    F = -ufl.inner(flux, ufl.grad(test)) * dx
    if sink is not None:
        F += sink * test * dx
    for tag, g in (outward_fluxes or {}).items():
        F += g * test * ds(tag)
    return F
