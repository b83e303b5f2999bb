"""Kröger–Vink defect chemistry (femiec.materials.defects): Brouwer slopes, mass action and electroneutrality at
the solved states, the n-parameterisation round trip, the UFL path against NumPy, C_chem against a finite
difference, and refusals."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.errors import InputError
from femiec.materials.defects import P_REF, DefectChemistry, defect_chemistry

pytestmark = pytest.mark.mpi  # the numbers recorded here are compared between 1 and 2 ranks

PRESSURES = np.logspace(-30, 10, 81)  # Pa: 40 decades
TEMPERATURES = (673.15, 873.15, 1073.15, 1273.15)


def _slope(chemistry, quantity, log_p, T, h=1e-3):
    """d ln(quantity)/d ln pO2 by centred differences in ln pO2 with step h (truncation ~h^2 f''' < 1e-9 here;
    ln n carries ~1e-15 absolute error, so roundoff ~1e-12)."""
    up = chemistry.equilibrium(P_REF * np.exp(log_p + h), T)
    down = chemistry.equilibrium(P_REF * np.exp(log_p - h), T)
    return (np.log(getattr(up, quantity)) - np.log(getattr(down, quantity))) / (2 * h)


def test_brouwer_fixed_acceptor_regime(numbers):
    """A = 1e3 mol/m^3, K_red chosen so that n = 1e-5 mol/m^3 (1e-8 A) at pO2 = 1e-10 Pa, K_e = 1e-16: over
    1e-10..1e10 Pa (20 decades) n <= 1e-8 A and p = K_e/n <= 1e-6 mol/m^3, so the exact slope
    -1/(4 + (n + p)/v) is -1/4 to (n + p)/(4 v) <= 5e-9. Both finite-difference slopes to 1e-6."""
    A, n_low, p_low = 1e3, 1e-5, 1e-10
    k_red = A / 2 * n_low ** 2 * np.sqrt(p_low / P_REF)
    chem = DefectChemistry(A, k_red, 0.0, 1e-16, 0.0, 1e-8, 1e-7, 1e-7)
    log_p = np.log(np.logspace(-10, 10, 41) / P_REF)
    slope_n = _slope(chem, "n", log_p, 1000.0)
    slope_p = _slope(chem, "p", log_p, 1000.0)
    error = max(np.abs(slope_n / -0.25 - 1).max(), np.abs(slope_p / 0.25 - 1).max())
    assert error < 1e-6
    numbers.record("max_relative_slope_error", error)


def test_brouwer_intrinsic_reduction_regime(numbers):
    """Nearly undoped (A = 1e-7 mol/m^3), K_e = 1e-8, K_red = v n^2 (pO2/p_ref)^(1/2) with n = 2v = 1 at 1 Pa:
    over 1e-20..1 Pa (20 decades) n rises from 1 to 2154, so A/n <= 1e-7, p/n <= 1e-8 and the exact slope
    -1/(4 + (n + p)/v) is -1/6 to ~1e-7. The finite-difference slope of n and of v to 1e-6."""
    k_red = 0.5 * np.sqrt(1.0 / P_REF)
    chem = DefectChemistry(1e-7, k_red, 0.0, 1e-8, 0.0, 1e-8, 1e-7, 1e-7)
    log_p = np.log(np.logspace(-20, 0, 41) / P_REF)
    slope_n = _slope(chem, "n", log_p, 1000.0)
    slope_v = _slope(chem, "v", log_p, 1000.0)
    error = max(np.abs(slope_n * -6 - 1).max(), np.abs(slope_v * -6 - 1).max())
    assert error < 1e-6
    numbers.record("max_relative_slope_error", error)


@pytest.mark.parametrize("name", ["gdc10", "holes"])
def test_mass_action_and_electroneutrality_at_the_solved_states(name, numbers):
    """Over 40 decades of pO2 and 673..1273 K: v n^2 (pO2/p_ref)^(1/2) = K_red, n p = K_e and 2v + p = n + A
    to 1e-12 relative; ``holes``: A = 100 with a large K_e = 1e4 (v down to 1e-5 A at 1e10 Pa, holes dominant),
    where v comes without cancellation from the solve."""
    chem = defect_chemistry("gdc10") if name == "gdc10" else DefectChemistry(100.0, 1e3, 0.0, 1e4, 0.0, 1e-8,
                                                                               1e-7, 1e-7)
    worst = 0.0
    for T in TEMPERATURES:
        state = chem.equilibrium(PRESSURES, T)
        n, p, v = state.n, state.p, state.v
        worst = max(worst,
                    np.abs(v * n ** 2 * np.sqrt(PRESSURES / P_REF) / chem.reduction_constant(T) - 1).max(),
                    np.abs(n * p / chem.intrinsic_constant(T) - 1).max(),
                    np.abs((2 * v + p) / (n + chem.acceptor) - 1).max())
    assert worst < 1e-12
    numbers.record("worst_relative_residual", worst)


def test_log_oxygen_pressure_round_trip(numbers):
    """log_oxygen_pressure(electrons_at(pO2)) = ln(pO2/p_ref) to 1e-12 (absolute) over 40 decades (gdc10)."""
    chem = defect_chemistry("gdc10")
    worst = max(np.abs(chem.log_oxygen_pressure(chem.electrons_at(PRESSURES, T), T) - np.log(PRESSURES / P_REF)).max()
                for T in TEMPERATURES)
    assert worst < 1e-12
    scalar = chem.electrons_at(1e3, 1073.15)
    assert isinstance(scalar, float) and scalar == chem.electrons_at(np.array([1e3]), 1073.15)[0]
    numbers.record("worst_log_pO2_error", worst)
    numbers.record("gdc10_n_1073K_1e3Pa", scalar)


def test_chemical_capacitance_and_thermodynamic_factor_against_finite_differences(numbers):
    """C_chem = -(8 F^2/(R T)) dv/d ln pO2 and A_th = -(1/2) d ln pO2/d ln v from the solved v(ln pO2): centred
    differences with h = 1e-2 and 5e-3, Richardson-extrapolated (error O(h^4) ~ 1e-9), against the explicit
    forms; D_chem = D_V A_th t_el."""
    chem = defect_chemistry("gdc10")
    T = 1073.15
    log_p = np.log(np.logspace(-25, 5, 13) / P_REF)

    def derivative(h):
        return (chem.equilibrium(P_REF * np.exp(log_p + h), T).v
                - chem.equilibrium(P_REF * np.exp(log_p - h), T).v) / (2 * h)

    dv = (4 * derivative(5e-3) - derivative(1e-2)) / 3
    state = chem.equilibrium(P_REF * np.exp(log_p), T)
    n, v = state.n, state.v
    c_chem = chem.chemical_capacitance(n, T)
    c_error = np.abs(-8 * FARADAY ** 2 / (GAS_CONSTANT * T) * dv / c_chem - 1).max()
    a_error = np.abs(-0.5 * v / dv / chem.thermodynamic_factor(n, T) - 1).max()
    assert c_error < 1e-8 and a_error < 1e-8
    u_v = chem.mobilities(T)[0]
    t_el = 1 - chem.ionic_transference_number(n, T)
    d_identity = u_v * GAS_CONSTANT * T / (2 * FARADAY) * chem.thermodynamic_factor(n, T) * t_el
    assert chem.chemical_diffusivity(n, T) == pytest.approx(d_identity, rel=1e-13)
    numbers.record("c_chem_fd_error", c_error)
    numbers.record("gdc10_c_chem_F_m3", c_chem[[0, 6, 12]])
    numbers.record("gdc10_d_chem_m2_s", chem.chemical_diffusivity(n, T)[[0, 6, 12]])


def test_gdc10_conductivities_and_domain_boundary(numbers):
    """gdc10: sigma_ion = 1 S/m at 500 C in air (its library ionic conductivity, v ~ A/2); the electrolytic
    domain boundary (t_ion = 1/2) at 800 C near 1e-8 Pa, as stated in the library docstring."""
    from scipy.optimize import brentq

    chem = defect_chemistry("gdc10")
    n_air = chem.electrons_at(21e3, 773.15)
    assert chem.ionic_conductivity(n_air, 773.15) == pytest.approx(1.0, rel=1e-4)
    boundary = brentq(lambda x: chem.ionic_transference_number(chem.electrons_at(10 ** x, 1073.15), 1073.15) - 0.5,
                      -20, 0, xtol=1e-12)
    assert -9 < boundary < -7
    numbers.record("log10_domain_boundary_Pa_1073K", boundary)


def test_ufl_path_equals_numpy_path(numbers):
    """Every method of (n, T) evaluated as UFL (n and T dolfinx Constants, assembled over a one-cell interval of
    length 1 on each rank's own communicator) equals its NumPy value to 1e-12 relative."""
    from mpi4py import MPI

    import dolfinx
    import ufl

    chem = defect_chemistry("gdc10")
    mesh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, 1)
    n_c = dolfinx.fem.Constant(mesh, 1.0)
    t_c = dolfinx.fem.Constant(mesh, 1000.0)
    methods = ["holes", "vacancies", "log_oxygen_pressure", "ionic_conductivity", "electronic_conductivity",
               "chemical_capacitance", "thermodynamic_factor", "ambipolar_conductivity", "chemical_diffusivity",
               "ionic_transference_number"]
    forms = {m: dolfinx.fem.form(getattr(chem, m)(n_c, t_c) * ufl.dx(domain=mesh)) for m in methods}
    worst = 0.0
    for T in (873.15, 1073.15):
        n_values = chem.electrons_at(np.array([1e-20, 1e-8, 1e3, 1e8]), T)
        t_c.value = T
        for n in n_values:
            n_c.value = n
            for m in methods:
                expected = getattr(chem, m)(n, T)
                value = dolfinx.fem.assemble_scalar(forms[m])
                worst = max(worst, abs(value - expected) / abs(expected))
    assert worst < 1e-12
    numbers.record("worst_ufl_numpy_difference", worst)


def test_refusals():
    chem = defect_chemistry("gdc10")
    with pytest.raises(InputError, match=r"^acceptor: -1.0 \(expected"):
        DefectChemistry(-1.0, 1.0, 0.0, 1.0, 0.0, 1e-8, 1e-7, 1e-7)
    with pytest.raises(InputError, match=r"^reduction_prefactor: 0.0"):
        DefectChemistry(1.0, 0.0, 0.0, 1.0, 0.0, 1e-8, 1e-7, 1e-7)
    with pytest.raises(InputError, match=r"^intrinsic_enthalpy: -1.0"):
        DefectChemistry(1.0, 1.0, 0.0, 1.0, -1.0, 1e-8, 1e-7, 1e-7)
    with pytest.raises(InputError, match=r"^electron_mobility: 0"):
        DefectChemistry(1.0, 1.0, 0.0, 1.0, 0.0, 1e-8, 0, 1e-7)
    with pytest.raises(InputError, match=r"^pO2: \[1.0, 0.0\]"):
        chem.electrons_at([1.0, 0.0], 1000.0)
    with pytest.raises(InputError, match=r"^temperature: "):
        chem.electrons_at(1.0, -5.0)
    with pytest.raises(InputError, match=r"^electrons: "):
        chem.holes(-1.0, 1000.0)
    with pytest.raises(InputError, match=r"^defect_chemistry: 'lscf' \(expected one of \['gdc10'\]\)"):
        defect_chemistry("lscf")
