"""Kröger–Vink defect chemistry of an acceptor-doped oxide in local equilibrium with O2 (SI units).

Species (concentrations in mol/m^3): oxygen vacancies V_O^.. (charge +2) v, electrons e' n, holes h^. p,
and a fixed acceptor A' of concentration A (a number >= 0). Reactions and mass-action laws:

    reduction   O_O^x <=> V_O^.. + 2 e' + 1/2 O2(g):   K_red(T) = v n^2 (pO2/p_ref)^(1/2)   [(mol/m^3)^3]
    intrinsic   nil <=> e' + h^.:                      K_e(T) = n p                         [(mol/m^3)^2]
    electroneutrality                                  2 v + p = n + A

with p_ref = 1e5 Pa. The oxygen-site occupancy is taken as constant (dilute vacancies: v << oxygen sites),
so the mass-action laws hold with concentrations instead of site fractions. Both constants follow
van 't Hoff: K(T) = K0 exp(-dH/(R T)) (:func:`femiec.materials.temperature_dependence.arrhenius`);
with site densities N and the standard reaction entropy dS, K0_red = N_O N_e^2 exp(dS_red/R)
(:func:`site_prefactor`).

Parameterisation by the electron concentration n (explicit, also in UFL):

    p = K_e / n,   v = (n + A - p) / 2,   ln(pO2/p_ref) = 2 ln K_red - 2 ln v - 4 ln n    (where v > 0).

Transport: sigma_ion = 2 F u_V v, sigma_el = F (u_n n + u_p p) [S/m], u the electrical mobilities
[m^2/(V s)] (numbers or functions of T). Derived quantities (all closed forms in n):

    chemical capacitance  C_chem = -(8 F^2/(R T)) dv/d ln pO2 = (4 F^2/(R T)) / (1/v + 4/(n + p))   [F/m^3]
    thermodynamic factor  A_th = -(1/2) d ln pO2 / d ln v = 1 + 4 v/(n + p)       (Adler–Lane–Steele's A;
                          in terms of the oxygen content c_O = N_O - v: (1/2) d ln pO2/d ln c_O = A_th c_O/v)
    ambipolar conductivity sigma_amb = sigma_ion sigma_el / (sigma_ion + sigma_el)   [S/m]
    chemical diffusivity  D_chem = sigma_amb / C_chem = D_V A_th t_el,  D_V = u_V R T/(2 F)   [m^2/s]
    ionic transference number t_ion = sigma_ion / (sigma_ion + sigma_el)

Brouwer regimes: fixed acceptor (2 v = A): n ~ pO2^(-1/4), p ~ pO2^(+1/4); intrinsic reduction
(n = 2 v >> A, p): n ~ pO2^(-1/6); hole-compensated acceptor (p = A, at high pO2 and large K_e): v ~ pO2^(-1/2).

The methods of (n, T) accept numbers, NumPy arrays and UFL expressions; :meth:`DefectChemistry.electrons_at`
and :meth:`DefectChemistry.equilibrium` solve for n at a given pO2 [Pa] (NumPy). Library entries:
:data:`DEFECT_LIBRARY`, :func:`defect_chemistry`; docs/defect_chemistry.md.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import ufl

from femiec.constants import AVOGADRO, FARADAY, GAS_CONSTANT
from femiec.errors import InputError
from femiec.materials.temperature_dependence import _is_ufl, arrhenius, check_temperature

#: reference pressure p_ref [Pa] of ln(pO2/p_ref)
P_REF = 1.0e5


def _ln(x):
    return ufl.ln(x) if _is_ufl(x) else np.log(x)


def _positive_number(key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value <= 0:
        raise InputError(key, value, "a positive finite number (SI units)")
    return float(value)


def _check_electrons(n) -> None:
    if not _is_ufl(n) and not np.all(np.asarray(n, dtype=float) > 0):
        raise InputError("electrons", n, "an electron concentration n > 0 in mol/m^3")


@dataclass(frozen=True)
class DefectState:
    """Equilibrium state: electrons n, holes p, vacancies v [mol/m^3] at ``pO2`` [Pa] and ``temperature`` [K]
    (broadcast arrays)."""

    n: np.ndarray
    p: np.ndarray
    v: np.ndarray
    pO2: np.ndarray
    temperature: np.ndarray


@dataclass(frozen=True)
class DefectChemistry:
    """Acceptor-doped oxide (see module docstring).

    Attributes:
        acceptor: A [mol/m^3] (>= 0; 0 is the undoped oxide).
        reduction_prefactor: K0_red [(mol/m^3)^3] and reduction_enthalpy dH_red [J/mol]:
            K_red(T) = K0_red exp(-dH_red/(R T)).
        intrinsic_prefactor: K0_e [(mol/m^3)^2] and intrinsic_enthalpy dH_e [J/mol] (band gap times N_A e):
            K_e(T) = K0_e exp(-dH_e/(R T)).
        vacancy_mobility, electron_mobility, hole_mobility: u_V, u_n, u_p [m^2/(V s)], positive numbers or
            functions T -> u (e.g. ``lambda T: arrhenius(u0, Ea, T)``) that accept UFL temperatures.
        name: a label.
    """

    acceptor: float
    reduction_prefactor: float
    reduction_enthalpy: float
    intrinsic_prefactor: float
    intrinsic_enthalpy: float
    vacancy_mobility: float | Callable
    electron_mobility: float | Callable
    hole_mobility: float | Callable
    name: str = ""

    def __post_init__(self):
        a = self.acceptor
        if isinstance(a, bool) or not isinstance(a, (int, float, np.integer, np.floating)) \
                or not np.isfinite(a) or a < 0:
            raise InputError("acceptor", a, "an acceptor concentration A >= 0 in mol/m^3")
        _positive_number("reduction_prefactor", self.reduction_prefactor)
        _positive_number("intrinsic_prefactor", self.intrinsic_prefactor)
        for key in ("reduction_enthalpy", "intrinsic_enthalpy"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
                raise InputError(key, value, "an enthalpy >= 0 in J/mol")
        for key in ("vacancy_mobility", "electron_mobility", "hole_mobility"):
            value = getattr(self, key)
            if not callable(value):
                _positive_number(key, value)

    # --- equilibrium constants and mobilities ---------------------------------------------------------------
    def reduction_constant(self, T):
        """K_red(T) = K0_red exp(-dH_red/(R T)) [(mol/m^3)^3]."""
        return arrhenius(self.reduction_prefactor, self.reduction_enthalpy, T)

    def intrinsic_constant(self, T):
        """K_e(T) = K0_e exp(-dH_e/(R T)) [(mol/m^3)^2]."""
        return arrhenius(self.intrinsic_prefactor, self.intrinsic_enthalpy, T)

    def _log_reduction_constant(self, T):
        return np.log(self.reduction_prefactor) - self.reduction_enthalpy / (GAS_CONSTANT * T)

    @staticmethod
    def _mobility(value, T):
        return value(T) if callable(value) else value

    def mobilities(self, T):
        """(u_V, u_n, u_p) at T [m^2/(V s)]."""
        return tuple(self._mobility(u, T) for u in (self.vacancy_mobility, self.electron_mobility,
                                                     self.hole_mobility))

    # --- the n-parameterisation (numbers, arrays, UFL) -------------------------------------------------------
    def holes(self, n, T):
        """p = K_e(T) / n [mol/m^3]."""
        _check_electrons(n)
        return self.intrinsic_constant(T) / n

    def vacancies(self, n, T):
        """v = (n + A - p) / 2 [mol/m^3] (electroneutrality; positive only for n above the minimum n_min,
        see :meth:`electrons_at`; ill-conditioned where v << A, the hole-compensated regime)."""
        return (n + self.acceptor - self.holes(n, T)) / 2

    def log_oxygen_pressure(self, n, T):
        """ln(pO2/p_ref) = 2 ln K_red - 2 ln v - 4 ln n (dimensionless)."""
        check_temperature(T)
        return 2 * self._log_reduction_constant(T) - 2 * _ln(self.vacancies(n, T)) - 4 * _ln(n)

    def ionic_conductivity(self, n, T):
        """sigma_ion = 2 F u_V v [S/m]."""
        return 2 * FARADAY * self._mobility(self.vacancy_mobility, T) * self.vacancies(n, T)

    def electronic_conductivity(self, n, T):
        """sigma_el = F (u_n n + u_p p) [S/m] (electrons and holes)."""
        _, u_n, u_p = self.mobilities(T)
        return FARADAY * (u_n * n + u_p * self.holes(n, T))

    def thermodynamic_factor(self, n, T):
        """A_th = -(1/2) d ln pO2 / d ln v = 1 + 4 v / (n + p) (dimensionless, >= 1)."""
        return 1 + 4 * self.vacancies(n, T) / (n + self.holes(n, T))

    def chemical_capacitance(self, n, T):
        """C_chem = -(8 F^2/(R T)) dv/d ln pO2 = (4 F^2/(R T)) / (1/v + 4/(n + p)) [F/m^3] (> 0).

        From dv/dn = (1 + p/n)/2 and d ln pO2/dn = -(1 + p/n)/v - 4/n (the explicit derivative)."""
        return 4 * FARADAY ** 2 / (GAS_CONSTANT * T) / (1 / self.vacancies(n, T) + 4 / (n + self.holes(n, T)))

    def ambipolar_conductivity(self, n, T):
        """sigma_amb = sigma_ion sigma_el / (sigma_ion + sigma_el) [S/m]."""
        s_ion, s_el = self.ionic_conductivity(n, T), self.electronic_conductivity(n, T)
        return s_ion * s_el / (s_ion + s_el)

    def chemical_diffusivity(self, n, T):
        """D_chem = sigma_amb / C_chem [m^2/s] (= D_V A_th t_el with D_V = u_V R T/(2 F))."""
        return self.ambipolar_conductivity(n, T) / self.chemical_capacitance(n, T)

    def ionic_transference_number(self, n, T):
        """t_ion = sigma_ion / (sigma_ion + sigma_el) (dimensionless)."""
        s_ion = self.ionic_conductivity(n, T)
        return s_ion / (s_ion + self.electronic_conductivity(n, T))

    # --- the equilibrium at a given pO2 (NumPy) -------------------------------------------------------------
    def electrons_at(self, pO2, T):
        """n [mol/m^3] at pO2 [Pa] and T [K] (arrays broadcast; numbers in, a float out).

        The root of f = 2 ln K_red - 2 ln v - 4 ln n - ln(pO2/p_ref), solved for s = ln(n - n_min), with
        n_min = 2 K_e/(A + sqrt(A^2 + 4 K_e)) the electron concentration at which v = 0: then
        v = (n - n_min)(n + A + n_min)/(2 n) without cancellation and f falls monotonically from +inf to
        -inf in s. Newton steps safeguarded by bisection inside an explicit bracket, until the step in s
        (the relative change of n - n_min) is below 1e-15.
        """
        n = self._solve(pO2, T)[0]
        return float(n) if np.ndim(pO2) == 0 and np.ndim(T) == 0 else n

    def equilibrium(self, pO2, T) -> DefectState:
        """The equilibrium :class:`DefectState` at pO2 [Pa] and T [K] (arrays broadcast; v from the
        cancellation-free form of :meth:`electrons_at`, accurate also where v << A)."""
        n, K_e, v, pO2, T = self._solve(pO2, T)
        return DefectState(n, K_e / n, v, pO2, T)

    def _solve(self, pO2, T, tolerance: float = 1e-15, max_iterations: int = 200):
        """(n, K_e, v, pO2, T) as broadcast arrays (see :meth:`electrons_at`)."""
        pO2 = np.asarray(pO2, dtype=float)
        if pO2.size == 0 or not np.all(np.isfinite(pO2) & (pO2 > 0)):
            raise InputError("pO2", pO2, "an oxygen partial pressure > 0 in Pa")
        check_temperature(T)
        pO2, T = np.broadcast_arrays(pO2, np.asarray(T, dtype=float))
        A = self.acceptor
        K_e = self.intrinsic_constant(T)
        log_K = self._log_reduction_constant(T)
        target = np.log(pO2 / P_REF)
        n_min = 2 * K_e / (A + np.sqrt(A * A + 4 * K_e))

        def state(s):
            y = np.exp(s)
            n = n_min + y
            return n, y * (n + A + n_min) / (2 * n)

        # bracket: f > 0 at s_lo (v <= y (3 n_min + A)/(2 n_min) for y <= n_min), f < 0 at s_hi (v >= 3n/8
        # for n >= 2 sqrt(K_e))
        s_lo = np.minimum(np.log(n_min), log_K - np.log((3 * n_min + A) / (2 * n_min)) - 2 * np.log(2 * n_min)
                          - target / 2) - np.log(2)
        s_hi = np.maximum.reduce([np.log(2 * np.sqrt(K_e)), np.log(n_min),
                                  (2 * log_K - 2 * np.log(3 / 8) - target) / 6]) + np.log(2)
        s = (s_lo + s_hi) / 2
        for _ in range(max_iterations):
            n, v = state(s)
            f = 2 * log_K - 2 * np.log(v) - 4 * np.log(n) - target
            slope = -2 * n * (1 + K_e / n ** 2) / (n + A + n_min) - 4 * (n - n_min) / n  # df/ds
            s_lo = np.where(f > 0, s, s_lo)
            s_hi = np.where(f < 0, s, s_hi)
            newton = s - f / slope
            step = np.where((newton > s_lo) & (newton < s_hi), newton, (s_lo + s_hi) / 2) - s
            s = s + step
            if np.all((np.abs(step) <= tolerance * np.maximum(1, np.abs(s))) | (f == 0)):
                break
        n, v = state(s)
        return n, K_e, v, pO2, T


def site_prefactor(oxygen_sites: float, electron_sites: float, entropy: float) -> float:
    """K0_red = N_O N_e^2 exp(dS_red/R) [(mol/m^3)^3]: the prefactor of a reduction constant written in site
    fractions, [V] [e]^2 (pO2/p_ref)^(1/2) = exp(dS_red/R) exp(-dH_red/(R T)), converted to concentrations
    with the oxygen-site density N_O and the electron-site density N_e [mol/m^3]; entropy dS_red [J/(mol K)]."""
    return oxygen_sites * electron_sites ** 2 * np.exp(entropy / GAS_CONSTANT)


_EV = FARADAY  # J/mol per eV per particle
_K_B_EV = GAS_CONSTANT / FARADAY  # Boltzmann constant [eV/K]
# fluorite CeO2, lattice parameter a = 5.41e-10 m: 4 cation and 8 oxygen sites per cubic cell [mol/m^3]
_CERIA_CATIONS = 4 / ((5.41e-10) ** 3 * AVOGADRO)


def _hopping_mobility(value, temperature_ref, activation_ev):
    """T -> u(T) = (u0/T) exp(-Ea/(k T)) [m^2/(V s)] with u(T_ref) = value (the "sigma T" hopping law)."""
    prefactor = value * temperature_ref * np.exp(activation_ev / (_K_B_EV * temperature_ref))
    return lambda T: arrhenius(prefactor, activation_ev * _EV, T) / T


def _gdc10() -> DefectChemistry:
    acceptor = 0.1 * _CERIA_CATIONS  # Gd'_Ce
    return DefectChemistry(
        acceptor=acceptor,
        reduction_prefactor=site_prefactor(2 * _CERIA_CATIONS, _CERIA_CATIONS, 116.0),
        reduction_enthalpy=4.0 * _EV,
        intrinsic_prefactor=_CERIA_CATIONS ** 2,
        intrinsic_enthalpy=3.0 * _EV,
        # sigma_ion = 1 S/m at 500 C with v = A/2 (the femiec.materials.library entry "gdc10")
        vacancy_mobility=_hopping_mobility(1.0 / (FARADAY * acceptor), 773.15, 0.64),
        electron_mobility=_hopping_mobility(1e-6, 1273.15, 0.40),
        hole_mobility=_hopping_mobility(1e-6, 1273.15, 0.40),
        name="gdc10")


#: Library of defect chemistries by name; every value is representative (rounded), not a fit of one
#: data set -- check the sources before quantitative use.
#:
#: "gdc10": Ce0.9Gd0.1O1.95-d. Lattice parameter 5.41e-10 m (N_Ce = 4.19e4 mol/m^3, A = 0.1 N_Ce,
#:   N_O = 2 N_Ce). Reduction in site fractions [V_O][Ce'_Ce]^2 (pO2/bar)^(1/2) = exp(dS/R - dH/(R T)) with
#:   dH_red = 4.0 eV and dS_red = 116 J/(mol K) (1.2 meV/K): the magnitude reported for 10-20 mol%
#:   Gd/Sm-doped ceria by S. Wang, H. Inaba, H. Tagawa, M. Dokiya & T. Hashimoto, Solid State Ionics 107
#:   (1998) 73 (Ce0.9Gd0.1O1.95-x, thermogravimetry, 700-1100 C) and W. Lai & S. M. Haile, J. Am. Ceram.
#:   Soc. 88 (2005) 2979 (Sm0.15Ce0.85O1.925-d, impedance, 500-650 C); with the mobilities below it puts
#:   the electrolytic domain boundary (sigma_el = sigma_ion) near 1e-8 Pa at 800 C; v exceeds 5 % of the
#:   oxygen sites (dilute limit) below about 1e-14 Pa at 800 C, 1e-22 Pa at 600 C. Ionic mobility from
#:   sigma_ion = 1 S/m at 500 C and the "sigma T" activation energy 0.64 eV (B. C. H. Steele, Solid State
#:   Ionics 129 (2000) 95, the femiec.materials.library entry "gdc10"). Electrons: small polarons,
#:   u_n = (u0/T) exp(-0.40 eV/(k T)) with u_n(1000 C) = 1e-6 m^2/(V s) (H. L. Tuller & A. S. Nowick,
#:   J. Phys. Chem. Solids 38 (1977) 859, reduced CeO2). Holes: band gap (O 2p -> Ce 4f) 3.0 eV with
#:   N_c = N_v = N_Ce, u_p = u_n -- placeholders (hole conduction in ceria is minor and poorly known).
#:
#: No perovskite (LSCF/LSF) entry: their oxygen nonstoichiometry is large and follows itinerant-electron
#: rather than dilute mass-action laws (M. H. R. Lankhorst & H. J. M. Bouwmeester, J. Electrochem. Soc. 144
#: (1997) 1268), outside the dilute model of this module.
DEFECT_LIBRARY: dict[str, Callable[[], DefectChemistry]] = {"gdc10": _gdc10}


def defect_chemistry(name: str) -> DefectChemistry:
    """The library :class:`DefectChemistry` called ``name`` (see :data:`DEFECT_LIBRARY`)."""
    if name not in DEFECT_LIBRARY:
        raise InputError("defect_chemistry", name, f"one of {sorted(DEFECT_LIBRARY)}")
    return DEFECT_LIBRARY[name]()
