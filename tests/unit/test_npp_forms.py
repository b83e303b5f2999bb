"""Unit tests of the Nernst–Planck–Poisson building blocks: forms, kinetics, closed forms."""
from __future__ import annotations

import numpy as np
import pytest
import ufl

from femiec.analytic.electrochemistry import (binary_cell_current, binary_cell_voltage,
                                              butler_volmer_overpotential, debye_length, gouy_chapman,
                                              marcus_hush_chidsey_integral)
from femiec.constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY, thermal_voltage
from femiec.forms.kinetics import (butler_volmer_current, marcus_hush_chidsey_current,
                                   marcus_hush_chidsey_rate)
from femiec.forms.time import bdf2_coefficients

T = 298.15
VT = thermal_voltage(T)


@pytest.mark.parametrize("ratio", [0.0, 0.3, 1.0, 2.0])
def test_bdf2_coefficients_exact_for_quadratics(ratio):
    """Variable-step BDF2 differentiates u = 1 + 2t - 3t^2 exactly at t^{n+1} for any step ratio;
    ratio 0 is backward Euler (exact for linear u)."""
    dt, dt_prev = 0.1, (0.1 / ratio if ratio else None)
    a0, a1, a2 = bdf2_coefficients(ratio)
    assert a0 + a1 + a2 == pytest.approx(0.0, abs=1e-14)
    t1, t0 = 1.0, 0.9
    if ratio == 0:
        u = lambda t: 1 + 2 * t  # noqa: E731
        assert (a0 * u(t1) + a1 * u(t0)) / dt == pytest.approx(2.0)
        return
    u = lambda t: 1 + 2 * t - 3 * t * t  # noqa: E731
    assert (a0 * u(t1) + a1 * u(t0) + a2 * u(t0 - dt_prev)) / dt == pytest.approx(2 - 6 * t1, rel=1e-12)


@pytest.mark.mpi
def test_nernst_planck_flux_scalar_tensor_and_extra_force():
    """J = -D (grad c + z c F/(R T) grad phi + g) for c = 2 + x, phi = 3 y (constant gradients): a scalar
    D and the tensor D I give the same flux, and an extra driving force adds inside the bracket."""
    from mpi4py import MPI

    from dolfinx import fem, mesh

    from femiec.forms.nernst_planck import nernst_planck_flux

    m = mesh.create_unit_square(MPI.COMM_WORLD, 2, 2)
    x = ufl.SpatialCoordinate(m)
    c, phi, D, z = 2 + x[0], 3 * x[1], 1e-9, -2
    g = ufl.as_vector((0.5, 0.0))
    flux_scalar = nernst_planck_flux(c, D, z, phi, T)
    flux_tensor = nernst_planck_flux(c, D * ufl.Identity(2), z, phi, T, extra_driving_forces=[g])

    def integral(e):
        return m.comm.allreduce(fem.assemble_scalar(fem.form(e * ufl.dx)))

    f = FARADAY / (GAS_CONSTANT * T)
    assert integral(flux_scalar[0]) == pytest.approx(-D)
    assert integral(flux_scalar[1]) == pytest.approx(-D * z * 2.5 * f * 3, rel=1e-12)
    assert integral(flux_tensor[0]) == pytest.approx(-D * 1.5)
    assert integral(flux_tensor[1]) == pytest.approx(integral(flux_scalar[1]), rel=1e-12)


def test_butler_volmer_symmetric_and_inverse():
    """alpha = 1/2: i = 2 i0 sinh(eta / (2 V_T)); the analytic inversion returns eta."""
    eta = np.linspace(-0.3, 0.3, 13)
    i = butler_volmer_current(2.0, eta, T)
    assert np.allclose(i, 4.0 * np.sinh(eta / (2 * VT)), rtol=1e-12)
    assert np.allclose(butler_volmer_overpotential(i, 2.0, T), eta, atol=1e-14)
    # concentration dependence: equilibrium (i = 0) at eta = V_T ln(a_O / a_R)
    assert butler_volmer_current(1.0, VT * np.log(3.0), T, oxidized_activity=3.0) == pytest.approx(0, abs=1e-13)


@pytest.mark.parametrize("scaled_lambda, tolerance", [(5.0, 0.08), (10.0, 0.04), (20.0, 0.09)])
def test_marcus_hush_chidsey_closed_form_against_integral(scaled_lambda, tolerance):
    """The Zeng–Bazant closed form k_ox = sqrt(pi lam)/(1 + exp(-e)) erfc((lam - sqrt(1 + sqrt(lam) + e^2))
    / (2 sqrt(lam))) approximates the MHC integral within a few percent for lam = 5-20 (measured: 7.8%,
    3.8%, 8.5%) over e in [-3 lam, 3 lam]."""
    e = np.linspace(-3 * scaled_lambda, 3 * scaled_lambda, 31)
    closed = marcus_hush_chidsey_rate(e, scaled_lambda) / 2  # both normalized to 1 at e -> infinity
    integral = np.array([marcus_hush_chidsey_integral(v, scaled_lambda) for v in e])
    assert np.max(np.abs(closed / integral - 1)) < tolerance


def test_marcus_hush_chidsey_current_properties():
    """Odd in eta for equal activities, slope i0 F/(R T) at eta = 0 like Butler-Volmer (the rate is
    normalized by k(0)), and saturation: i(40 V_T) / i(20 V_T) < 1.5 while Butler-Volmer grows by e^10."""
    lam = 10 * GAS_CONSTANT * T
    eta = np.array([1e-6, 20 * VT, 40 * VT])
    i = marcus_hush_chidsey_current(1.0, eta, T, lam)
    assert marcus_hush_chidsey_current(1.0, -eta, T, lam) == pytest.approx(-i, rel=1e-12)
    assert i[0] / eta[0] == pytest.approx(1 / VT, rel=1e-4)
    assert i[2] / i[1] < 1.5


def test_gouy_chapman_solves_poisson_boltzmann():
    """phi'' = (2 F c0 / eps) sinh(phi / V_T) (Poisson–Boltzmann, 1:1) holds for the closed form
    (second differences, relative residual < 1e-5), and phi(0) = phi0."""
    c0, eps = 10.0, 78.5 * VACUUM_PERMITTIVITY
    lam = debye_length(eps, T, [c0, c0], [1, -1])
    x = np.linspace(0.2, 3, 200) * lam
    h = 1e-4 * lam
    phi, _, _ = gouy_chapman(x, 4 * VT, c0, lam, T)
    phi_p, _, _ = gouy_chapman(x + h, 4 * VT, c0, lam, T)
    phi_m, _, _ = gouy_chapman(x - h, 4 * VT, c0, lam, T)
    lhs = (phi_p - 2 * phi + phi_m) / h ** 2
    rhs = 2 * FARADAY * c0 / eps * np.sinh(phi / VT)
    assert np.max(np.abs(lhs / rhs - 1)) < 1e-5
    assert gouy_chapman(0.0, 4 * VT, c0, lam, T)[0] == pytest.approx(4 * VT, rel=1e-12)


def test_debye_length_and_binary_cell():
    """lambda_D of 0.1 M KCl in water at 25 C is 0.96 nm; the binary-cell curve and its inverse agree."""
    lam = debye_length(78.5 * VACUUM_PERMITTIVITY, T, [100.0, 100.0], [1, -1])
    assert lam == pytest.approx(0.961e-9, rel=5e-3)
    j = np.array([0.1, 0.5, 0.9])
    assert np.allclose(binary_cell_current(binary_cell_voltage(j, T), T), j, rtol=1e-12)
