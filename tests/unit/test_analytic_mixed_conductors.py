"""Closed forms of femiec.analytic.mixed_conductors: Wagner permeation (quadrature against the exact power-law
integral), the open-circuit voltage of a mixed conductor, Bouwmeester's surface-exchange factor, and the
Adler-Lane-Steele electrode (two parameterisations; the finite Gerischer against the transmission line)."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.impedance import transmission_line
from femiec.analytic.mixed_conductors import (P_REF, als_impedance, als_parameters, als_parameters_from_rates,
                                              characteristic_thickness, gerischer_impedance, open_circuit_voltage,
                                              open_circuit_voltage_electron_leakage, surface_exchange_factor,
                                              surface_exchange_resistance, wagner_flux, wagner_flux_power_law)
from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.errors import InputError
from femiec.materials.defects import defect_chemistry

pytestmark = pytest.mark.mpi  # the numbers recorded here are compared between 1 and 2 ranks

T = 1073.15
L = 1e-3


@pytest.mark.parametrize("s_n, s_p", [(10.0, 0.0), (0.0, 3.0), (1.0, 0.02), (10.0, 5.0)],
                         ids=["electrons", "holes", "both-real-roots", "both-complex-roots"])
def test_wagner_quadrature_matches_the_power_law_integral(s_n, s_p, numbers):
    """sigma_ion = 2 S/m, sigma_el = s_n x^(-1/4) + s_p x^(1/4) between 1e-15 Pa and 1e5 Pa (20 decades): the
    adaptive quadrature of wagner_flux equals the exact integral to 1e-10 (Delta = sigma_ion^2 - 4 s_n s_p > 0
    and < 0 for the two-carrier cases)."""
    sigma_ion = 2.0

    def sigma_amb(p):
        sigma_el = s_n * (p / P_REF) ** -0.25 + s_p * (p / P_REF) ** 0.25
        return sigma_ion * sigma_el / (sigma_ion + sigma_el)

    quadrature = wagner_flux(sigma_amb, 1e-15, 1e5, L, T)
    exact = wagner_flux_power_law(sigma_ion, s_n, s_p, 1e-15, 1e5, L, T)
    assert quadrature == pytest.approx(exact, rel=1e-10)
    numbers.record("j_O2_mol_m2_s", exact)


def test_wagner_electron_limit_hand_value():
    """Electrons only, sigma_el >> sigma_ion over the range: j -> R T sigma_ion/(16 F^2 L) ln(p_high/p_low)
    (ion-limited); here with the exact log form 4 sigma_ion ln[(sigma_ion + sigma_el(p_low))/(sigma_ion + sigma_el(p_high))]."""
    exact = wagner_flux_power_law(1.0, 1e6, 0.0, 1e-5, 1e5, L, T)
    limit = GAS_CONSTANT * T / (16 * FARADAY ** 2 * L) * np.log(1e10)
    assert exact == pytest.approx(limit, rel=1e-4)


def test_wagner_flux_of_gdc10(numbers):
    """Permeation of a 1 mm gdc10 membrane at 800 C between 1e-15 Pa and air: sigma_amb of the defect chemistry."""
    chem = defect_chemistry("gdc10")
    flux = wagner_flux(lambda p: chem.ambipolar_conductivity(chem.electrons_at(p, T), T), 1e-15, 21e3, L, T)
    assert flux > 0
    numbers.record("gdc10_j_O2_mol_m2_s", flux)


def test_open_circuit_voltage_quadrature_and_closed_form(numbers):
    """t_ion = 1/(1 + (pO2/p_n)^(-1/4)), p_n = 1e-8 Pa, between 1e-15 Pa and 2.1e4 Pa: quadrature = closed form to
    1e-10; p_n -> 0 gives the Nernst voltage R T/(4F) ln(p_high/p_low)."""
    p_n = 1e-8
    closed = open_circuit_voltage_electron_leakage(p_n, 1e-15, 2.1e4, T)
    quadrature = open_circuit_voltage(lambda p: 1 / (1 + (p / p_n) ** -0.25), 1e-15, 2.1e4, T)
    assert quadrature == pytest.approx(closed, rel=1e-10)
    nernst = GAS_CONSTANT * T / (4 * FARADAY) * np.log(2.1e4 / 1e-15)
    assert open_circuit_voltage_electron_leakage(1e-60, 1e-15, 2.1e4, T) == pytest.approx(nernst, rel=1e-10)
    assert closed < nernst
    numbers.record("E_ocv_V", closed)


def test_open_circuit_voltage_of_gdc10(numbers):
    """gdc10 at 800 C between 1e-15 Pa and air: the OCV from its t_ion lies below the Nernst voltage."""
    chem = defect_chemistry("gdc10")
    voltage = open_circuit_voltage(lambda p: chem.ionic_transference_number(chem.electrons_at(p, T), T),
                                   1e-15, 21e3, T)
    assert 0 < voltage < GAS_CONSTANT * T / (4 * FARADAY) * np.log(21e3 / 1e-15)
    numbers.record("gdc10_E_ocv_V", voltage)


def test_surface_exchange_factor_against_series_resistances():
    """Linear steady diffusion through a slab with exchange k on both faces: k (c_a - c_0) = D (c_0 - c_L)/L =
    k (c_L - c_b), solved as a linear system; its flux over the bulk flux D (c_a - c_b)/L equals
    1/(1 + 2 L_c/L), L_c = D/k; limits 1 (L >> L_c) and L/(2 L_c) (L << L_c)."""
    D, k, c_a, c_b = 1e-9, 1e-6, 2.0, 1.0
    l_c = characteristic_thickness(D, k)
    assert l_c == pytest.approx(1e-3, rel=1e-15)
    for thickness in (1e-6, 1e-3, 1.0):
        matrix = np.array([[k + D / thickness, -D / thickness], [D / thickness, -(D / thickness + k)]])
        c_0, c_l = np.linalg.solve(matrix, [k * c_a, -k * c_b])
        flux = k * (c_a - c_0)
        assert flux / (D * (c_a - c_b) / thickness) == pytest.approx(surface_exchange_factor(thickness, l_c),
                                                                     rel=1e-12)
    assert surface_exchange_factor(1e3, l_c) == pytest.approx(1, rel=1e-5)
    assert surface_exchange_factor(1e-9, l_c) == pytest.approx(1e-9 / (2 * l_c), rel=1e-5)


def _als_from_defects():
    """ALS inputs of a gdc10-like porous electrode at 800 C in air from the defect chemistry: both routes."""
    chem = defect_chemistry("gdc10")
    n = chem.electrons_at(21e3, T)
    k_chem = 1e-7  # m/s
    eps, tau, a = 0.3, 2.0, 1e6
    c_chem = chem.chemical_capacitance(n, T)
    conventions = als_parameters(chem.ionic_conductivity(n, T), c_chem, surface_exchange_resistance(k_chem, c_chem),
                                 eps, tau, a)
    v, factor = chem.vacancies(n, T), chem.thermodynamic_factor(n, T)
    d_v = chem.mobilities(T)[0] * GAS_CONSTANT * T / (2 * FARADAY)
    original = als_parameters_from_rates(v, d_v, k_chem * v / factor, factor, eps, tau, a, T)
    return conventions, original, (chem.ionic_conductivity(n, T), c_chem, k_chem, eps, tau, a)


def test_als_parameterisations_agree(numbers):
    """sigma_eff, (1-eps) C_chem, R_s = 1/(k_chem C_chem) against ALS's c_v, D_v = u_V R T/(2F), r0 = k_chem c_v/A,
    A: the same delta, R_chem, t_chem to 1e-13."""
    conventions, original, _ = _als_from_defects()
    for name in ("utilization_length", "resistance", "time_constant"):
        assert getattr(original, name) == pytest.approx(getattr(conventions, name), rel=1e-13)
    numbers.record("delta_m", conventions.utilization_length)
    numbers.record("R_chem_ohm_m2", conventions.resistance)
    numbers.record("t_chem_s", conventions.time_constant)


def test_finite_gerischer_equals_the_transmission_line(numbers):
    """ALS finite electrode (L = 0.3, 1, 3 delta) at 1e-3..1e3 / t_chem against transmission_line with
    r = 1/sigma_eff and z = 1/(a/R_s + i omega (1-eps) C_chem): 1e-12 relative."""
    params, _, (sigma_ion, c_chem, k_chem, eps, tau, a) = _als_from_defects()
    omega = np.logspace(-3, 3, 13) / params.time_constant
    sigma_eff = (1 - eps) * sigma_ion / tau
    r_s = surface_exchange_resistance(k_chem, c_chem)
    worst = 0.0
    for ratio in (0.3, 1.0, 3.0):
        thickness = ratio * params.utilization_length
        line = transmission_line(1 / sigma_eff, 1 / (a / r_s + 1j * omega * (1 - eps) * c_chem), thickness)
        z = als_impedance(omega, params, thickness)
        worst = max(worst, np.abs(z / line - 1).max())
    assert worst < 1e-12
    numbers.record("worst_relative_difference", worst)
    numbers.record("Z_re_at_1_over_t_ohm_m2", als_impedance(1 / params.time_constant, params, params.utilization_length).real)


def test_gerischer_limits():
    """Semi-infinite: Z(0) = R_chem; high frequency R_chem/sqrt(i omega t); thick finite electrode -> semi-infinite;
    thin electrode at omega -> 0: R_chem coth(L/delta) -> R_chem delta/L = R_s/(a L) (every surface in parallel)."""
    r, t = 2e-5, 0.1
    assert gerischer_impedance(1e-12, r, t) == pytest.approx(r, rel=1e-12)
    omega = 1e11  # R/sqrt(1 + i w t) = R/sqrt(i w t) (1 + 1/(i w t))^(-1/2): relative error 1/(2 w t) = 5e-11
    assert gerischer_impedance(omega, r, t) == pytest.approx(r / np.sqrt(1j * omega * t), rel=1e-9)
    assert gerischer_impedance(1.0, r, t, 50.0) == pytest.approx(gerischer_impedance(1.0, r, t), rel=1e-15)
    params, _, (sigma_ion, c_chem, k_chem, eps, tau, a) = _als_from_defects()
    thin = 1e-4 * params.utilization_length
    parallel = surface_exchange_resistance(k_chem, c_chem) / (a * thin)
    assert als_impedance(1e-12 / params.time_constant, params, thin).real == pytest.approx(parallel, rel=1e-7)


def test_refusals():
    with pytest.raises(InputError, match=r"^p_low: 0.0"):
        wagner_flux(lambda p: 1.0, 0.0, 1.0, L, T)
    with pytest.raises(InputError, match=r"^s_n, s_p: "):
        wagner_flux_power_law(1.0, 0.0, 0.0, 1.0, 2.0, L, T)
    with pytest.raises(InputError, match=r"^porosity: 1.0"):
        als_parameters(1.0, 1.0, 1.0, 1.0, 1.5, 1e6)
    with pytest.raises(InputError, match=r"^tortuosity: 0.5"):
        als_parameters(1.0, 1.0, 1.0, 0.3, 0.5, 1e6)
    with pytest.raises(InputError, match=r"^k_chem: -1.0"):
        characteristic_thickness(1e-9, -1.0)
