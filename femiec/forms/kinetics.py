"""Electrode kinetics: current density of an electron-transfer reaction O + n e- <-> R (SI units).

Sign convention: i [A/m^2] is positive for the anodic (oxidation) direction, i.e. current flowing from
the electrode into the electrolyte; eta [V] is the overpotential, eta = V_electrode - phi_surface - E_eq.
``reduced_activity`` and ``oxidized_activity`` are the concentration factors of the forward and backward
terms (e.g. c_O / c_ref), 1 for pure phases (a metal electrode).

Every function works on UFL expressions (inside a residual) and on NumPy arrays (tests, post-processing).

- Butler–Volmer:
      i = i0 [a_R exp(alpha_a n F eta / (R T)) - a_O exp(-alpha_c n F eta / (R T))]
- Marcus–Hush–Chidsey, with the closed-form approximation of Zeng, Smith, Bai & Bazant,
  J. Electroanal. Chem. 735 (2014) 77–83 (dimensionless lam = lambda/(R T), e = n F eta/(R T)):
      k_ox(e) = sqrt(pi lam) / (1 + exp(-e)) erfc((lam - sqrt(1 + sqrt(lam) + e^2)) / (2 sqrt(lam))),
      k_red(e) = k_ox(-e),
      i = i0 [a_R k_ox(e) - a_O k_red(e)] / k_ox(0)
  so that i0 is the exchange current density as for Butler–Volmer. The rate saturates at large |eta|
  (curved Tafel plot) instead of growing exponentially.
"""
from __future__ import annotations

import numpy as np
import ufl

from femiec.constants import FARADAY, GAS_CONSTANT


def _is_ufl(*values) -> bool:
    return any(isinstance(v, ufl.core.expr.Expr) for v in values)


def _exp(x):
    return ufl.exp(x) if _is_ufl(x) else np.exp(x)


def _log(x):
    return ufl.ln(x) if _is_ufl(x) else np.log(x)


def _sqrt(x):
    return ufl.sqrt(x) if _is_ufl(x) else np.sqrt(x)


def _erfc(x):
    if _is_ufl(x):
        return 1 - ufl.erf(x)
    from scipy.special import erfc

    return erfc(x)


def butler_volmer_current(i0, eta, temperature, alpha_anodic=0.5, alpha_cathodic=None, electrons=1,
                          reduced_activity=1.0, oxidized_activity=1.0):
    """Butler–Volmer current density [A/m^2], anodic positive.

    Args:
        i0: exchange current density [A/m^2]; eta: overpotential [V]; temperature [K].
        alpha_anodic, alpha_cathodic: transfer coefficients (alpha_cathodic defaults to 1 - alpha_anodic).
        electrons: n, electrons transferred; reduced_activity, oxidized_activity: a_R, a_O (see module).
    """
    if alpha_cathodic is None:
        alpha_cathodic = 1 - alpha_anodic
    f = electrons * FARADAY / (GAS_CONSTANT * temperature)
    return i0 * (reduced_activity * _exp(alpha_anodic * f * eta)
                 - oxidized_activity * _exp(-alpha_cathodic * f * eta))


def marcus_hush_chidsey_rate(scaled_eta, scaled_lambda):
    """Zeng–Bazant oxidation rate k_ox(e) / sqrt(pi lam) (dimensionless; e = n F eta/(R T), lam = lambda/(R T))."""
    root = _sqrt(scaled_lambda)
    return _erfc((scaled_lambda - _sqrt(1 + root + scaled_eta ** 2)) / (2 * root)) / (1 + _exp(-scaled_eta))


def marcus_hush_chidsey_current(i0, eta, temperature, reorganization_energy, electrons=1,
                                reduced_activity=1.0, oxidized_activity=1.0):
    """Marcus–Hush–Chidsey current density [A/m^2] (Zeng–Bazant closed form), anodic positive.

    Args:
        i0: exchange current density [A/m^2]; eta: overpotential [V]; temperature [K].
        reorganization_energy: lambda [J/mol] (1 eV per molecule = 96485 J/mol); typically 10-40 R T.
        electrons, reduced_activity, oxidized_activity: as for :func:`butler_volmer_current`.
    """
    RT = GAS_CONSTANT * temperature
    e = electrons * FARADAY * eta / RT
    lam = reorganization_energy / RT
    k0 = marcus_hush_chidsey_rate(0.0, lam)
    return i0 * (reduced_activity * marcus_hush_chidsey_rate(e, lam)
                 - oxidized_activity * marcus_hush_chidsey_rate(-e, lam)) / k0
