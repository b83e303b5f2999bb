"""Closed forms for mixed ionic-electronic conductors (MIECs): oxygen permeation, open-circuit voltage, the
surface-exchange length and the Adler-Lane-Steele electrode (NumPy, SI units).

Conventions as in :mod:`femiec.materials.defects`: pO2 in Pa, p_ref = 1e5 Pa, sigma_ion and sigma_el the
ionic and electronic conductivities [S/m], sigma_amb = sigma_ion sigma_el / (sigma_ion + sigma_el),
C_chem the volumetric chemical capacitance [F/m^3], D_chem = sigma_amb / C_chem [m^2/s].

- wagner_flux:        j_O2 = R T / (16 F^2 L) * integral_{ln p_low}^{ln p_high} sigma_amb(pO2) d ln pO2
                      [mol O2/(m^2 s)] (bulk-limited permeation of a dense membrane of thickness L).
- wagner_flux_power_law: the same integral in closed form for sigma_ion constant and
                      sigma_el = s_n (pO2/p_ref)^(-1/4) + s_p (pO2/p_ref)^(+1/4).
- characteristic_thickness, surface_exchange_factor: Bouwmeester's L_c = D_chem / k_chem and the
                      linear-regime reduction j / j_bulk = 1 / (1 + 2 L_c / L).
- open_circuit_voltage: E = R T / (4 F) * integral_{ln p_low}^{ln p_high} t_ion d ln pO2 [V];
  open_circuit_voltage_electron_leakage: t_ion = 1/(1 + (pO2/p_n)^(-1/4)) in closed form,
                      E = (R T / F) [ln(1 + (p_high/p_n)^(1/4)) - ln(1 + (p_low/p_n)^(1/4))].
- Adler-Lane-Steele (ALS) porous MIEC electrode on a dense electrolyte: als_parameters,
  als_parameters_from_rates, gerischer_impedance, als_impedance.

Sources: C. Wagner, Z. Phys. Chem. B 21 (1933) 25 (the permeation integral); H. J. M. Bouwmeester,
H. Kruidhof & A. J. Burggraaf, Solid State Ionics 72 (1994) 185 (L_c = D/k); H. Schmalzried, Z. Phys.
Chem. N.F. 38 (1963) 87 and Lai & Haile (2005) (the open-circuit voltage of a mixed conductor);
S. B. Adler, J. A. Lane & B. C. H. Steele, J. Electrochem. Soc. 143 (1996) 3554 (ALS); J. Maier,
*Physical Chemistry of Ionic Materials*, Wiley (2004), ch. 6 (k_chem = w k*, k* = R0 / c_O).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import quad

from femiec.analytic.impedance import _coth, _positive
from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.errors import InputError
from femiec.materials.defects import P_REF


def _log_integral(function: Callable, p_low, p_high) -> float:
    """integral_{ln p_low}^{ln p_high} f(pO2) d ln pO2 by adaptive Gauss–Kronrod (relative 1e-13)."""
    p_low = float(_positive("p_low", p_low))
    p_high = float(_positive("p_high", p_high))
    value, _ = quad(lambda u: float(function(np.exp(u))), np.log(p_low), np.log(p_high),
                    epsabs=0.0, epsrel=1e-13, limit=500)
    return value


def wagner_flux(sigma_amb: Callable, p_low, p_high, thickness, temperature) -> float:
    """Bulk-limited O2 flux through a dense MIEC membrane (Wagner), from the high- to the low-pO2 side:

        j_O2 = R T / (16 F^2 L) * integral_{ln p_low}^{ln p_high} sigma_amb(pO2) d ln pO2   [mol O2/(m^2 s)]

    sigma_amb: a function pO2 [Pa] -> ambipolar conductivity [S/m] (e.g. of
    :meth:`femiec.materials.defects.DefectChemistry.ambipolar_conductivity` at ``electrons_at(pO2, T)``);
    p_low, p_high [Pa]; thickness L [m]; temperature T [K].
    """
    thickness = float(_positive("thickness", thickness))
    temperature = float(_positive("temperature", temperature))
    integral = _log_integral(sigma_amb, p_low, p_high)
    return GAS_CONSTANT * temperature / (16 * FARADAY ** 2 * thickness) * integral


def wagner_flux_power_law(sigma_ion, s_n, s_p, p_low, p_high, thickness, temperature) -> float:
    """:func:`wagner_flux` in closed form for sigma_ion constant and
    sigma_el = s_n x^(-1/4) + s_p x^(1/4), x = pO2/p_ref (s_n, s_p >= 0 [S/m], not both 0).

    With u = ln x, w = x^(1/4): sigma_amb = sigma_ion - sigma_ion^2 w / (s_p w^2 + sigma_ion w + s_n), so
    integral sigma_amb du = sigma_ion u - 4 sigma_ion^2 G(w), G(w) = integral dw / (s_p w^2 + sigma_ion w + s_n):

        electrons only (s_p = 0): integral = 4 sigma_ion ln[(sigma_ion + sigma_el(p_low)) / (sigma_ion + sigma_el(p_high))]
        holes only (s_n = 0):     integral = 4 sigma_ion ln[(sigma_ion + sigma_el(p_high)) / (sigma_ion + sigma_el(p_low))]
        both, Delta = sigma_ion^2 - 4 s_n s_p:
            Delta > 0: G = ln[(2 s_p w + sigma_ion - sqrt(Delta)) / (2 s_p w + sigma_ion + sqrt(Delta))] / sqrt(Delta)
            Delta < 0: G = 2 atan[(2 s_p w + sigma_ion) / sqrt(-Delta)] / sqrt(-Delta)
            Delta = 0: G = -2 / (2 s_p w + sigma_ion).
    j_O2 = R T / (16 F^2 L) * integral [mol O2/(m^2 s)].
    """
    sigma_ion = float(_positive("sigma_ion", sigma_ion))
    s_n, s_p = (float(value) for value in (s_n, s_p))
    if not (np.isfinite(s_n) and np.isfinite(s_p) and s_n >= 0 and s_p >= 0 and s_n + s_p > 0):
        raise InputError("s_n, s_p", (s_n, s_p), "electronic prefactors >= 0 in S/m, not both 0")
    u = np.log(np.array([float(_positive("p_low", p_low)), float(_positive("p_high", p_high))]) / P_REF)
    w = np.exp(u / 4)
    sigma_el = s_n / w + s_p * w
    if s_p == 0 or s_n == 0:
        total = np.log(sigma_ion + sigma_el)
        integral = 4 * sigma_ion * (total[0] - total[1] if s_p == 0 else total[1] - total[0])
    else:
        delta = sigma_ion ** 2 - 4 * s_n * s_p
        b = 2 * s_p * w + sigma_ion
        if delta > 0:
            root = np.sqrt(delta)
            # b - root = (b^2 - delta)/(b + root), b^2 - delta = 4 s_p (s_p w^2 + sigma_ion w + s_n): no cancellation
            g = np.log(4 * s_p * (s_p * w * w + sigma_ion * w + s_n) / (b + root) ** 2) / root
        elif delta < 0:
            g = 2 * np.arctan(b / np.sqrt(-delta)) / np.sqrt(-delta)
        else:
            g = -2 / b
        integral = sigma_ion * (u[1] - u[0]) - 4 * sigma_ion ** 2 * (g[1] - g[0])
    thickness = float(_positive("thickness", thickness))
    temperature = float(_positive("temperature", temperature))
    return GAS_CONSTANT * temperature / (16 * FARADAY ** 2 * thickness) * float(integral)


def characteristic_thickness(chemical_diffusivity, k_chem):
    """Bouwmeester's characteristic thickness L_c = D_chem / k_chem [m]: below it surface exchange, above it
    bulk diffusion limits the permeation (D_chem [m^2/s], k_chem the chemical surface-exchange coefficient
    [m/s])."""
    return _positive("chemical_diffusivity", chemical_diffusivity) / _positive("k_chem", k_chem)


def surface_exchange_factor(thickness, characteristic_thickness):
    """j / j_bulk = 1 / (1 + 2 L_c / L) (linear regime, equal surface exchange on both faces; dimensionless).

    From the series resistances of the linearised flux: bulk L/D_chem and two surfaces 1/k_chem each;
    -> 1 for L >> L_c (bulk limited), -> L/(2 L_c) for L << L_c (surface limited)."""
    return 1 / (1 + 2 * _positive("characteristic_thickness", characteristic_thickness)
                / _positive("thickness", thickness))


def open_circuit_voltage(ionic_transference: Callable, p_low, p_high, temperature) -> float:
    """Open-circuit voltage of a mixed-conducting electrolyte between two oxygen pressures:

        E = R T / (4 F) * integral_{ln p_low}^{ln p_high} t_ion(pO2) d ln pO2   [V]

    (positive: the high-pO2 side is the positive electrode); ionic_transference: a function pO2 [Pa] ->
    t_ion in [0, 1]; t_ion = 1 gives the Nernst voltage R T/(4 F) ln(p_high/p_low)."""
    temperature = float(_positive("temperature", temperature))
    return GAS_CONSTANT * temperature / (4 * FARADAY) * _log_integral(ionic_transference, p_low, p_high)


def open_circuit_voltage_electron_leakage(p_n, p_low, p_high, temperature) -> float:
    """:func:`open_circuit_voltage` for t_ion = 1 / (1 + (pO2/p_n)^(-1/4)) (ceria-type: constant sigma_ion,
    sigma_el ~ pO2^(-1/4), p_n [Pa] the electrolytic domain boundary where sigma_el = sigma_ion):

        E = (R T / F) [ln(1 + (p_high/p_n)^(1/4)) - ln(1 + (p_low/p_n)^(1/4))]   [V]

    (from integral du / (1 + exp(-(u - u_n)/4)) = 4 ln(1 + exp((u - u_n)/4))).
    """
    p_n = float(_positive("p_n", p_n))
    z = np.log(np.array([float(_positive("p_low", p_low)), float(_positive("p_high", p_high))]) / p_n) / 4
    softplus = np.logaddexp(0.0, z)
    temperature = float(_positive("temperature", temperature))
    return GAS_CONSTANT * temperature / FARADAY * float(softplus[1] - softplus[0])


@dataclass(frozen=True)
class ALSParameters:
    """Adler-Lane-Steele parameters: utilization_length delta [m], resistance R_chem [Ohm m^2],
    time_constant t_chem [s]."""

    utilization_length: float
    resistance: float
    time_constant: float


def surface_exchange_resistance(k_chem, chemical_capacitance):
    """R_s = 1 / (k_chem C_chem) [Ohm m^2]: the area-specific surface-exchange resistance of a chemical
    surface-exchange coefficient k_chem [m/s] on a MIEC of volumetric chemical capacitance C_chem [F/m^3]
    (the linearised exchange i = eta / R_s with eta = psi_ion - psi_el + mu_O,gas/(2F) equals the vacancy
    flux k_chem (v - v_eq) times 2F)."""
    return 1 / (_positive("k_chem", k_chem) * _positive("chemical_capacitance", chemical_capacitance))


def als_parameters(ionic_conductivity, chemical_capacitance, surface_resistance, porosity, tortuosity,
                   specific_surface) -> ALSParameters:
    """ALS parameters of a homogenised porous MIEC electrode with an ideal electronic rail.

    Effective ionic conductivity sigma_eff = (1 - eps) sigma_ion / tau [S/m], volumetric capacitance
    (1 - eps) C_chem [F/m^3], surface exchange R_s [Ohm m^2] per MIEC/gas interface area, specific surface
    a [1/m] (interface area per electrode volume):

        delta  = sqrt(sigma_eff R_s / a)                          [m]
        R_chem = sqrt(R_s / (a sigma_eff)) = delta / sigma_eff     [Ohm m^2]
        t_chem = (1 - eps) C_chem R_s / a                          [s]

    (the line r = 1/sigma_eff, admittance per volume a/R_s + i omega (1 - eps) C_chem; see
    :func:`als_impedance`). ionic_conductivity sigma_ion [S/m] and chemical_capacitance C_chem [F/m^3] of
    the dense MIEC, porosity eps in (0, 1), tortuosity tau >= 1 (use :func:`surface_exchange_resistance`
    for a k_chem)."""
    eps = float(np.asarray(porosity, dtype=float))
    if not 0 < eps < 1:
        raise InputError("porosity", porosity, "a porosity in (0, 1)")
    tau = float(np.asarray(tortuosity, dtype=float))
    if not (np.isfinite(tau) and tau >= 1):
        raise InputError("tortuosity", tortuosity, "a tortuosity >= 1")
    sigma_eff = (1 - eps) * float(_positive("ionic_conductivity", ionic_conductivity)) / tau
    r_s = float(_positive("surface_resistance", surface_resistance))
    a = float(_positive("specific_surface", specific_surface))
    capacitance = (1 - eps) * float(_positive("chemical_capacitance", chemical_capacitance))
    delta = np.sqrt(sigma_eff * r_s / a)
    return ALSParameters(delta, delta / sigma_eff, capacitance * r_s / a)


def als_parameters_from_rates(vacancy_concentration, vacancy_diffusivity, exchange_rate, thermodynamic_factor,
                              porosity, tortuosity, specific_surface, temperature) -> ALSParameters:
    """ALS parameters in ALS's original variables: vacancy concentration c_v [mol/m^3], vacancy diffusivity
    D_v [m^2/s], equilibrium exchange rate r0 [mol O/(m^2 s)], thermodynamic factor
    A = -(1/2) d ln pO2 / d ln c_v, porosity eps, tortuosity tau, specific surface a [1/m], temperature T [K]:

        delta  = sqrt((1 - eps) c_v D_v / (tau a r0))
        R_chem = (R T / (4 F^2)) sqrt(tau / ((1 - eps) c_v D_v a r0))
        t_chem = (1 - eps) c_v / (A a r0)

    obtained from :func:`als_parameters` with sigma_ion = 4 F^2 c_v D_v / (R T) (Nernst–Einstein, z = 2),
    C_chem = 4 F^2 c_v / (R T A) and R_s = R T / (4 F^2 r0). The last takes r0 as the exchange rate of O
    atoms with the linearised net rate r0 Delta mu_O / (R T) (Maier's R0: k* = r0 / c_O, k_chem = A r0 / c_v);
    conventions for r0 (per O or per O2, and its linearisation) differ by factors of 2 between papers --
    compare before using a published r0.
    """
    temperature = float(_positive("temperature", temperature))
    c_v = float(_positive("vacancy_concentration", vacancy_concentration))
    rt_f2 = GAS_CONSTANT * temperature / FARADAY ** 2
    sigma_ion = 4 * c_v * float(_positive("vacancy_diffusivity", vacancy_diffusivity)) / rt_f2
    capacitance = 4 * c_v / (rt_f2 * float(_positive("thermodynamic_factor", thermodynamic_factor)))
    surface_resistance = rt_f2 / (4 * float(_positive("exchange_rate", exchange_rate)))
    return als_parameters(sigma_ion, capacitance, surface_resistance, porosity, tortuosity, specific_surface)


def gerischer_impedance(omega, resistance, time_constant, thickness_ratio=np.inf):
    """Gerischer impedance [unit of R]: Z = R coth(lambda sqrt(1 + i omega t)) / sqrt(1 + i omega t),
    lambda = L/delta the thickness ratio; lambda = inf (default) gives the semi-infinite
    Z = R / sqrt(1 + i omega t). omega [rad/s], resistance R, time_constant t [s]."""
    omega = _positive("omega", omega)
    resistance = _positive("resistance", resistance)
    time_constant = _positive("time_constant", time_constant)
    ratio = _positive("thickness_ratio", thickness_ratio, allow_infinite=True)
    s = np.sqrt(1 + 1j * omega * time_constant)
    z = resistance / s
    return z if np.all(np.isinf(ratio)) else z * _coth(ratio * s)


def als_impedance(omega, parameters: ALSParameters, thickness=np.inf):
    """Impedance [Ohm m^2] of the ALS electrode of thickness L [m] (inf: semi-infinite), blocking for ions
    at its gas side: Z = R_chem coth((L/delta) sqrt(1 + i omega t_chem)) / sqrt(1 + i omega t_chem).

    This is :func:`femiec.analytic.impedance.transmission_line` per unit cross-section, with the ionic rail
    r = 1/sigma_eff and the distributed interface z = 1/(a/R_s + i omega (1 - eps) C_chem) (an impedance
    times volume)."""
    ratio = _positive("thickness", thickness, allow_infinite=True) / parameters.utilization_length
    return gerischer_impedance(omega, parameters.resistance, parameters.time_constant, ratio)

