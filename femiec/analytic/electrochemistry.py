"""Closed-form references of electrochemical transport (SI units), shared by tests, docs and benchmarks.

Sources:
- Debye length and Gouy–Chapman double layer: e.g. Bard & Faulkner, *Electrochemical Methods*, 2nd ed.
  (2001), section 13.3; Bazant, Thornton & Ajdari, Phys. Rev. E 70 (2004) 021506 (BTA04), section II.
- Limiting current and current–voltage curve of a binary electrolyte between two cation-reversible
  electrodes (thin double layers, fast kinetics): Bazant, Chu & Bayly, SIAM J. Appl. Math. 65 (2005)
  1463, eq. (3.8)-(3.10); Newman & Thomas-Alyea, *Electrochemical Systems*, 3rd ed., ch. 19.
- RC charging time of a blocking cell: BTA04, eq. (36): tau_c = lambda_D L / D for a gap 2L.
- Butler–Volmer inversion for alpha = 1/2: Bard & Faulkner, eq. (3.4.11).
"""
from __future__ import annotations

import numpy as np

from femiec.constants import FARADAY, GAS_CONSTANT, thermal_voltage


def debye_length(permittivity, temperature, concentrations, charges):
    """lambda_D = sqrt(eps R T / (F^2 sum_i z_i^2 c_i)) [m]; eps [F/m], c_i [mol/m^3]."""
    ionic = sum(z * z * c for z, c in zip(charges, concentrations))
    return float(np.sqrt(permittivity * GAS_CONSTANT * temperature / (FARADAY ** 2 * ionic)))


def gouy_chapman(x, wall_potential, bulk_concentration, debye, temperature):
    """Gouy–Chapman double layer of a 1:1 electrolyte at a wall at ``wall_potential`` [V] (bulk phi = 0).

    phi(x) = 4 V_T artanh(tanh(phi0 / (4 V_T)) exp(-x / lambda_D)),  c+- = c0 exp(-+ phi / V_T).
    Returns (phi [V], c_plus, c_minus [mol/m^3]) at distances ``x`` [m] from the wall.
    """
    vt = thermal_voltage(temperature)
    phi = 4 * vt * np.arctanh(np.tanh(wall_potential / (4 * vt)) * np.exp(-np.asarray(x) / debye))
    return phi, bulk_concentration * np.exp(-phi / vt), bulk_concentration * np.exp(phi / vt)


def gouy_chapman_charge(zeta, permittivity, debye, temperature):
    """Diffuse-layer charge per area sigma = 2 eps V_T / lambda_D sinh(zeta / (2 V_T)) [C/m^2] balancing a
    wall at zeta [V] above the bulk (1:1 electrolyte; -sigma is the charge in the solution)."""
    vt = thermal_voltage(temperature)
    return 2 * permittivity * vt / debye * np.sinh(np.asarray(zeta) / (2 * vt))


def gouy_chapman_excess(bulk_concentration, zeta, debye, temperature):
    """Surface excess of cation and anion in a Gouy–Chapman layer at zeta [V] above the bulk (1:1):
    Gamma+- = int (c+- - c0) dx = 2 c0 lambda_D (exp(-+zeta / (2 V_T)) - 1) [mol/m^2] (the integral of
    the profile of :func:`gouy_chapman`; BTA04, section II)."""
    vt = thermal_voltage(temperature)
    scale = 2 * bulk_concentration * debye
    return scale * (np.exp(-zeta / (2 * vt)) - 1), scale * (np.exp(zeta / (2 * vt)) - 1)


def limiting_current(diffusivity, bulk_concentration, length):
    """i_lim = 4 F D c0 / L [A/m^2]: binary 1:1 electrolyte, equal D, cation reacting at both electrodes
    of a closed cell of length L, anion blocked (mean concentration c0)."""
    return 4 * FARADAY * diffusivity * bulk_concentration / length


def binary_cell_voltage(relative_current, temperature):
    """V = 2 V_T ln((1 + j) / (1 - j)) [V] at j = i / i_lim (thin double layers, fast kinetics)."""
    j = np.asarray(relative_current)
    return 2 * thermal_voltage(temperature) * np.log((1 + j) / (1 - j))


def binary_cell_current(voltage, temperature):
    """Inverse of :func:`binary_cell_voltage`: j = i / i_lim = tanh(V / (4 V_T))."""
    return np.tanh(np.asarray(voltage) / (4 * thermal_voltage(temperature)))


def binary_cell_concentration(x, relative_current, bulk_concentration, length):
    """Linear steady profile c(x) = c0 (1 + j (1 - 2 x / L)) [mol/m^3] (cation enters at x = 0)."""
    return bulk_concentration * (1 + relative_current * (1 - 2 * np.asarray(x) / length))


def butler_volmer_overpotential(current_density, exchange_current_density, temperature, electrons=1):
    """eta = 2 R T / (n F) asinh(i / (2 i0)) [V]: Butler–Volmer with alpha_a = alpha_c = 1/2 inverted."""
    vt = thermal_voltage(temperature) / electrons
    return 2 * vt * np.arcsinh(np.asarray(current_density) / (2 * exchange_current_density))


def rc_charging_time(debye, half_gap, diffusivity):
    """tau_c = lambda_D L / D [s]: charging time of a blocking cell of gap 2L after a small voltage step."""
    return debye * half_gap / diffusivity


def marcus_hush_chidsey_integral(scaled_eta, scaled_lambda):
    """Full MHC oxidation rate by quadrature (reference for the Zeng–Bazant closed form, dimensionless):

    k_ox(e) = int exp(-(x - lam + e)^2 / (4 lam)) / (1 + exp(x)) dx over the electrode's electron energies
    x (in units of k T), e = n F eta / (R T), lam = lambda / (R T) (Chidsey, Science 251 (1991) 919).
    Divided by sqrt(4 pi lam) so that it tends to 1 at large e.
    """
    from scipy.integrate import quad
    from scipy.special import expit

    lam = scaled_lambda
    center = lam - scaled_eta  # peak of the Gaussian; the Fermi factor moves the peak to center - 2 lam
    lo, hi = min(center - 2 * lam, center) - 40 * np.sqrt(lam), center + 40 * np.sqrt(lam)
    value, _ = quad(lambda x: np.exp(-(x - center) ** 2 / (4 * lam)) * expit(-x), lo, hi,
                    points=sorted({center - 2 * lam, 0.0, center}), limit=400, epsabs=0, epsrel=1e-12)
    return value / np.sqrt(4 * np.pi * scaled_lambda)
