"""A stand-in defect chemistry for the MIEC transport tests (not a test module).

STAND-IN: to be replaced by femiec.materials.defects.DefectChemistry at merge (it implements the interface
of that class, /work/notes/miec_conventions.md, for fixed constants). Acceptor-doped ceria with dilute
vacancies (constant oxygen-site occupancy), concentrations in mol/m^3:

    reduction    K_red = v n^2 (pO2 / p_ref)^(1/2),   intrinsic   K_e = n p,   neutrality  2 v + p = n + A,

so that with n given: p = K_e / n, v = (n + A - p) / 2, ln(pO2 / p_ref) = 2 ln K_red - 2 ln v - 4 ln n;
sigma_ion = 2 F u_V v, sigma_el = F (u_n n + u_p p). K_red, K_e and the mobilities do not depend on T here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import ufl

from femiec.constants import FARADAY, GAS_CONSTANT

P_REF = 1e5  # Pa


def _ln(x):
    return ufl.ln(x) if isinstance(x, ufl.core.expr.Expr) else np.log(x)


@dataclass(frozen=True)
class DefectState:
    n: np.ndarray
    p: np.ndarray
    v: np.ndarray


@dataclass(frozen=True)
class StandInCeria:
    """Acceptor-doped ceria, 1000 K-like numbers: A [mol/m^3], K_red [(mol/m^3)^3], K_e [(mol/m^3)^2],
    mobilities [m^2/(V s)]. Ionic and electronic conductivities are equal (about 1 S/m) near
    pO2 = 1e-17 Pa."""

    acceptor: float = 4000.0
    reduction_constant: float = 2e-7
    intrinsic_constant: float = 1e-8
    vacancy_mobility: float = 2.6e-9
    electron_mobility: float = 1e-6
    hole_mobility: float = 1e-6

    def holes(self, n, T):
        return self.intrinsic_constant / n

    def vacancies(self, n, T):
        return (n + self.acceptor - self.holes(n, T)) / 2

    def log_oxygen_pressure(self, n, T):
        return 2 * np.log(self.reduction_constant) - 2 * _ln(self.vacancies(n, T)) - 4 * _ln(n)

    def ionic_conductivity(self, n, T):
        return 2 * FARADAY * self.vacancy_mobility * self.vacancies(n, T)

    def electronic_conductivity(self, n, T):
        return FARADAY * (self.electron_mobility * n + self.hole_mobility * self.holes(n, T))

    def log_pressure_slope(self, n, T):
        """d ln(pO2/p_ref) / dn [m^3/mol] (explicit)."""
        dv_dn = (1 + self.intrinsic_constant / n ** 2) / 2
        return -2 * dv_dn / self.vacancies(n, T) - 4 / n

    def chemical_capacitance(self, n, T):
        dv_dn = (1 + self.intrinsic_constant / n ** 2) / 2
        return -8 * FARADAY ** 2 / (GAS_CONSTANT * T) * dv_dn / self.log_pressure_slope(n, T)

    def electrons_at(self, pO2, T):
        """n [mol/m^3] at pO2 [Pa] by bisection in ln n (ln pO2 falls monotonically with n where v > 0)."""
        target = np.log(np.asarray(pO2, dtype=float) / P_REF)
        A, Ke = self.acceptor, self.intrinsic_constant
        n_min = 2 * Ke / (A + np.sqrt(A * A + 4 * Ke))  # v = 0
        lo = np.full_like(target, np.log(n_min) + 1e-12)
        hi = np.full_like(target, np.log(1e8))
        for _ in range(200):
            mid = (lo + hi) / 2
            above = self.log_oxygen_pressure(np.exp(mid), T) > target
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        return np.exp((lo + hi) / 2)

    def equilibrium(self, pO2, T):
        n = self.electrons_at(pO2, T)
        return DefectState(n, self.holes(n, T), self.vacancies(n, T))

    def ambipolar_conductivity(self, n, T):
        s_i, s_e = self.ionic_conductivity(n, T), self.electronic_conductivity(n, T)
        return s_i * s_e / (s_i + s_e)
