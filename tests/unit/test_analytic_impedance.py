"""Closed-form impedances of femiec.analytic.impedance against numerical solutions of their 1D equations.

Each closed form is checked against the box (midpoint) finite-difference solution of the underlying
linear two-point boundary-value problem y' = A(x) y, written here from the physics (not from the closed
form), on two meshes h and h/2 with Richardson extrapolation (the box scheme's error is even in h), at
frequencies from 1e-3 to 1e3 times the characteristic frequency; and against its limits.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from femiec.analytic.electrochemistry import butler_volmer_overpotential, debye_length, rc_charging_time
from femiec.analytic.impedance import (blocking_electrolyte_impedance, charge_transfer_resistance, de_levie_pore,
                                       interface_impedance, mixed_conduction_line, randles_particle,
                                       randles_sphere, spherical_diffusion_impedance, transmission_line,
                                       warburg_finite)
from femiec.constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY
from femiec.errors import InputError

SPAN = np.array([1e-3, 1e-2, 1e-1, 1.0, 10.0, 1e2, 1e3])  # multiples of the characteristic frequency


def _box_solve(matrix_at, left, right, mesh):
    """Solve y' = A(x) y on the nodes ``mesh`` by the box scheme (y_{j+1} - y_j = h A(x_{j+1/2}) (y_j + y_{j+1})/2).

    ``matrix_at(x)`` gives A at the midpoints, shape (n, m, m); ``left = (B0, g0)``: B0 y(x_0) = g0 (k rows),
    ``right = (B1, g1)``: B1 y(x_n) = g1 (m - k rows). The sparse system is equilibrated (rows and columns
    scaled) before the direct solve, so the unknowns may be in their SI units. Returns y, shape (n + 1, m).
    """
    h = np.diff(mesh)
    a = matrix_at((mesh[:-1] + mesh[1:]) / 2)
    n, m = len(h), a.shape[1]
    (b0, g0), (b1, g1) = ((np.atleast_2d(b), g) for b, g in (left, right))
    k = b0.shape[0]
    j, p, q = np.meshgrid(np.arange(n), np.arange(m), np.arange(m), indexing="ij")
    interval = (k + j * m + p).ravel()
    rows = np.concatenate([np.repeat(np.arange(k), m), interval, interval, np.repeat(k + n * m + np.arange(m - k), m)])
    cols = np.concatenate([np.tile(np.arange(m), k), (j * m + q).ravel(), ((j + 1) * m + q).ravel(),
                           np.tile(n * m + np.arange(m), m - k)])
    half = h[:, None, None] * a / 2
    vals = np.concatenate([b0.ravel(), (-np.eye(m) - half).ravel(), (np.eye(m) - half).ravel(), b1.ravel()])
    size = (n + 1) * m
    matrix = sp.csr_matrix((vals.astype(complex), (rows, cols)), shape=(size, size))
    rhs = np.zeros(size, dtype=complex)
    rhs[:k], rhs[k + n * m:] = g0, g1
    row_scale, col_scale = np.ones(size), np.ones(size)
    for _ in range(4):
        r = 1 / np.sqrt(abs(matrix).max(axis=1).toarray().ravel())
        c = 1 / np.sqrt(abs(sp.diags(r) @ matrix).max(axis=0).toarray().ravel())
        matrix = sp.diags(r) @ matrix @ sp.diags(c)
        row_scale, col_scale = row_scale * r, col_scale * c
    return (col_scale * spsolve(matrix.tocsc(), row_scale * rhs)).reshape(n + 1, m)


def _extrapolated(solve, n):
    """Richardson extrapolation (4 Z_{2n} - Z_n)/3 of a second-order result on n and 2n intervals."""
    return (4 * solve(2 * n) - solve(n)) / 3


def _relative(a, b):
    return np.abs(np.asarray(a) - b) / np.abs(b)


# --- de Levie pore and finite Warburg ---------------------------------------------------------------------------

PORE = dict(conductivity=1.0, area=np.pi * 1e-12, perimeter=2 * np.pi * 1e-6, length=100e-6, capacitance=0.2)


def _pore_numeric(omega, n, charge_transfer_resistance=np.inf, conductivity=1.0, area=np.pi * 1e-12,
                  perimeter=2 * np.pi * 1e-6, length=100e-6, capacitance=0.2):
    """Ionic current I and electrolyte potential phi in the pore (solid at 0 V): phi' = -I/(kappa A),
    I' = -P (i omega C_dl + 1/R_ct) phi; I(0) = 1 A, I(L) = 0; Z = phi(0)."""
    wall = perimeter * (1j * omega * capacitance + 1 / charge_transfer_resistance)

    def matrix_at(x):
        a = np.zeros((len(x), 2, 2), dtype=complex)
        a[:, 0, 1], a[:, 1, 0] = -1 / (conductivity * area), -wall
        return a

    y = _box_solve(matrix_at, ([0, 1], [1]), ([0, 1], [0]), np.linspace(0, length, n + 1))
    return y[0, 0]


def _pore_frequency():
    """omega_c = 1/(R C_total) of PORE [rad/s]."""
    resistance = PORE["length"] / (PORE["conductivity"] * PORE["area"])
    return 1 / (resistance * PORE["capacitance"] * PORE["perimeter"] * PORE["length"]), resistance


def test_de_levie_pore_matches_the_pore_equations(numbers):
    omega_c, _ = _pore_frequency()
    for r_ct in (np.inf, 0.05):
        for omega in omega_c * SPAN:
            closed = de_levie_pore(omega, **PORE, charge_transfer_resistance=r_ct)
            numeric = _extrapolated(lambda n: _pore_numeric(omega, n, r_ct), 500)
            assert _relative(numeric, closed) < 1e-7, (r_ct, omega / omega_c)
    z = de_levie_pore(omega_c * np.array([0.1, 1.0, 10.0]), **PORE)
    numbers.record("Z_re_ohm", z.real)
    numbers.record("Z_im_ohm", z.imag)


def test_de_levie_pore_limits():
    omega_c, resistance = _pore_frequency()
    c_total = PORE["capacitance"] * PORE["perimeter"] * PORE["length"]
    low = omega_c * np.array([1e-5, 1e-3])
    z = de_levie_pore(low, **PORE)
    # coth(s)/s = 1/s^2 + 1/3 - s^2/45 + 2 s^4/945: the next terms are s^4 (real) and s^2 (imaginary)
    assert np.all(_relative(z.real, resistance / 3) < 1e-8)
    assert np.all(_relative(-1 / (low * z.imag), c_total) < (low / omega_c) ** 2 / 40)
    high = omega_c * np.array([1e4, 1e6])
    r = 1 / (PORE["conductivity"] * PORE["area"])
    line = np.sqrt(r / (1j * high * PORE["capacitance"] * PORE["perimeter"]))
    z = de_levie_pore(high, **PORE)
    assert np.all(_relative(z, line) < 1e-12)
    assert np.allclose(np.angle(z), -np.pi / 4, rtol=0, atol=1e-12)
    assert np.allclose(-z.imag, z.real, rtol=1e-12)
    # the pore is the line with r = 1/(kappa A), z = z_interface/P; the capacitive pore is a reflective Warburg
    omega = omega_c * SPAN
    wall = interface_impedance(omega, PORE["capacitance"]) / PORE["perimeter"]
    assert np.allclose(transmission_line(r, wall, PORE["length"]), de_levie_pore(omega, **PORE), rtol=1e-13)
    assert np.allclose(warburg_finite(omega, resistance, 1 / omega_c, "reflective"), de_levie_pore(omega, **PORE),
                       rtol=1e-12)


def test_warburg_finite_matches_bounded_diffusion_and_its_limits():
    """c' = -j/D, j' = -i omega c on [0, L], j(0) = 1; far end c(L) = 0 (transmissive) or j(L) = 0
    (reflective); Z = c(0)/j(0) = R tanh(s)/s or R coth(s)/s with R = L/D, tau = L^2/D."""
    length, diffusivity = 1e-5, 1e-10
    resistance, tau = length / diffusivity, length ** 2 / diffusivity

    def numeric(omega, n, kind):
        def matrix_at(x):
            a = np.zeros((len(x), 2, 2), dtype=complex)
            a[:, 0, 1], a[:, 1, 0] = -1 / diffusivity, -1j * omega
            return a

        far = [1, 0] if kind == "transmissive" else [0, 1]
        return _box_solve(matrix_at, ([0, 1], [1]), (far, [0]), np.linspace(0, length, n + 1))[0, 0]

    for kind in ("transmissive", "reflective"):
        for omega in SPAN / tau:
            closed = warburg_finite(omega, resistance, tau, kind)
            assert _relative(_extrapolated(lambda n: numeric(omega, n, kind), 500), closed) < 1e-7, (kind, omega)
    low = np.array([1e-6, 1e-4]) / tau
    assert np.all(_relative(warburg_finite(low, resistance, tau, "transmissive"), resistance) < 1e-4)
    reflective = warburg_finite(low, resistance, tau, "reflective")
    assert np.all(_relative(reflective, resistance / 3 + resistance / (1j * low * tau)) < 1e-9)
    high = np.array([1e4, 1e6]) / tau
    for kind in ("transmissive", "reflective"):
        assert np.all(_relative(warburg_finite(high, resistance, tau, kind), resistance / np.sqrt(1j * high * tau))
                      < 1e-12)


# --- Randles particle with spherical diffusion ------------------------------------------------------------------

SPHERE = dict(radius=5e-6, diffusivity=1e-14, ocv_slope=-2e-5)
KINETICS = dict(exchange_current_density=1.0, double_layer_capacitance=0.2, temperature=298.15)


def _sphere_numeric(omega, n, r_ct=None, c_dl=0.0):
    """Linearised diffusion in the sphere, y = (c, q), q = -D r^2 c' (r^2 times the outward molar flux):
    c' = -q/(D r^2), q' = -i omega r^2 c; q(0) = 0. Without r_ct: a unit anodic current density, q(R) =
    R^2/F, and Z_D = dU/dc c(R). With r_ct: delta V = 1, i_F = (1 - dU/dc c(R))/R_ct, q(R) = R^2 i_F/F,
    and the particle impedance 1/(i_F + i omega C_dl) / (4 pi R^2) [Ohm]."""
    radius, diffusivity, slope = SPHERE["radius"], SPHERE["diffusivity"], SPHERE["ocv_slope"]

    def matrix_at(r):
        a = np.zeros((len(r), 2, 2), dtype=complex)
        a[:, 0, 1], a[:, 1, 0] = -1 / (diffusivity * r ** 2), -1j * omega * r ** 2
        return a

    mesh = np.linspace(0, radius, n + 1)
    if r_ct is None:
        y = _box_solve(matrix_at, ([0, 1], [0]), ([0, 1], [radius ** 2 / FARADAY]), mesh)
        return slope * y[-1, 0]
    surface = radius ** 2 / (FARADAY * r_ct)
    y = _box_solve(matrix_at, ([0, 1], [0]), ([surface * slope, 1], [surface]), mesh)
    faradaic = (1 - slope * y[-1, 0]) / r_ct
    return 1 / (faradaic + 1j * omega * c_dl) / (4 * np.pi * radius ** 2)


def test_spherical_diffusion_matches_the_diffusion_equation(numbers):
    omega_c = SPHERE["diffusivity"] / SPHERE["radius"] ** 2
    for omega in omega_c * SPAN:
        closed = spherical_diffusion_impedance(omega, **SPHERE)
        assert _relative(_extrapolated(lambda n: _sphere_numeric(omega, n), 500), closed) < 1e-7, omega / omega_c
    z = spherical_diffusion_impedance(omega_c * np.array([0.1, 1.0, 10.0]), **SPHERE)
    numbers.record("Z_D_re_ohm_m2", z.real)
    numbers.record("Z_D_im_ohm_m2", z.imag)


def test_spherical_diffusion_limits():
    """omega -> 0: R/(5 F D) (-dU/dc) in series with C_chem = F (R/3)/(-dU/dc); omega -> inf: Warburg."""
    radius, diffusivity, slope = SPHERE["radius"], SPHERE["diffusivity"], SPHERE["ocv_slope"]
    omega_c = diffusivity / radius ** 2
    low = omega_c * np.array([1e-5, 1e-3])
    z = spherical_diffusion_impedance(low, **SPHERE)
    assert np.all(z.real > 0)
    assert np.all(_relative(z.real, -slope * radius / (5 * FARADAY * diffusivity)) < 1e-5)
    assert np.all(_relative(-1 / (low * z.imag), FARADAY * radius / 3 / -slope) < 1e-6)
    high = omega_c * np.array([1e6, 1e8])
    warburg = -slope / (FARADAY * np.sqrt(1j * high * diffusivity))
    assert np.all(_relative(spherical_diffusion_impedance(high, **SPHERE), warburg) < 1.1 / np.sqrt(high / omega_c))
    # n electrons: the same impedance divided by n
    assert np.allclose(spherical_diffusion_impedance(low, **SPHERE, electrons=2), z / 2, rtol=1e-14)


def test_charge_transfer_resistance_is_the_butler_volmer_slope():
    i0, temperature, step = 3.0, 310.0, 1e-4
    for n in (1, 2):
        slope = (butler_volmer_overpotential(step, i0, temperature, n)
                 - butler_volmer_overpotential(-step, i0, temperature, n)) / (2 * step)
        assert charge_transfer_resistance(i0, temperature, n) == pytest.approx(slope, rel=1e-9)
    assert charge_transfer_resistance(1.0, 298.15) == pytest.approx(GAS_CONSTANT * 298.15 / FARADAY, rel=1e-15)


def test_randles_sphere_matches_the_particle_equations(numbers):
    omega_c = SPHERE["diffusivity"] / SPHERE["radius"] ** 2
    r_ct = charge_transfer_resistance(KINETICS["exchange_current_density"], KINETICS["temperature"])
    c_dl = KINETICS["double_layer_capacitance"]
    frequencies = omega_c * np.logspace(-3, 9, 9)  # past the double-layer arc at 1/(R_ct C_dl) ~ 5e5 omega_c
    for omega in frequencies:
        closed = randles_sphere(omega, **SPHERE, **KINETICS)
        numeric = _extrapolated(lambda n: _sphere_numeric(omega, n, r_ct, c_dl), 500)
        assert _relative(numeric, closed) < 1e-7, omega / omega_c
    # area-specific composition: R_s + 1/(i omega C_dl + 1/(R_ct + Z_D))
    z_d = spherical_diffusion_impedance(frequencies, **SPHERE)
    per_area = randles_particle(frequencies, 0.0, c_dl, r_ct, z_d)
    sphere = randles_sphere(frequencies, **SPHERE, **KINETICS)
    assert np.allclose(per_area / (4 * np.pi * SPHERE["radius"] ** 2), sphere, rtol=1e-14)
    assert np.allclose(randles_particle(frequencies, 0.01, c_dl, r_ct, z_d) - per_area, 0.01, rtol=1e-12)
    # limits: omega -> inf, R_s; omega -> 0, R_ct + R_D in series with the chemical capacitor
    high = 1e18
    z = randles_particle(high, 0.01, c_dl, r_ct, spherical_diffusion_impedance(high, **SPHERE))
    assert np.abs(z) == pytest.approx(0.01, rel=1e-6)
    low = omega_c * 1e-4
    z = randles_particle(low, 0.0, c_dl, r_ct, spherical_diffusion_impedance(low, **SPHERE))
    r_d = -SPHERE["ocv_slope"] * SPHERE["radius"] / (5 * FARADAY * SPHERE["diffusivity"])
    c_chem = FARADAY * SPHERE["radius"] / 3 / -SPHERE["ocv_slope"]
    assert z.real == pytest.approx(r_ct + r_d, rel=4 * c_dl / c_chem)  # the double layer shifts it by O(C_dl/C_chem)
    assert -1 / (low * z.imag) == pytest.approx(c_chem + c_dl, rel=1e-6)
    z = randles_sphere(omega_c * np.array([1e-2, 1.0, 1e2]), **SPHERE, **KINETICS)
    numbers.record("Z_re_ohm", z.real)
    numbers.record("Z_im_ohm", z.imag)


# --- mixed-conduction line (Gomadam configurations) -------------------------------------------------------------

ELECTRODE = dict(thickness=50e-6, specific_area=1e6, capacitance=0.1, charge_transfer_resistance=0.05)


def _electrode_interface(omega):
    """z_f = (area-specific double layer || R_ct) / a [Ohm m^3]."""
    return interface_impedance(omega, ELECTRODE["capacitance"], ELECTRODE["charge_transfer_resistance"]) \
        / ELECTRODE["specific_area"]


def _line_numeric(rho1, rho2, z_f, configuration, n):
    """y = (phi1, phi2, i1, i2): phi1' = -rho1 i1, phi2' = -rho2 i2, i1' = -i2' = (phi2 - phi1)/z_f on
    [0, d]; a unit current I = i1 + i2; three current conditions and the gauge of the potentials."""
    d = ELECTRODE["thickness"]

    def matrix_at(x):
        a = np.zeros((len(x), 4, 4), dtype=complex)
        a[:, 0, 2], a[:, 1, 3] = -rho1, -rho2
        a[:, 2, :2] = [-1 / z_f, 1 / z_f]
        a[:, 3, :2] = [1 / z_f, -1 / z_f]
        return a

    eye = np.eye(4)
    if configuration == "I":  # ions in at 0, electrons out at d
        left, right = (eye[[2, 3, 0]], [1, 0, 0]), (eye[[2]], [0])
    elif configuration == "II":  # electrons in at 0 and out at d
        left, right = (eye[[2, 3, 1]], [0, 1, 0]), (eye[[2]], [0])
    else:  # ions in at 0 and out at d
        left, right = (eye[[2, 3, 0]], [1, 0, 0]), (eye[[3]], [0])
    y = _box_solve(matrix_at, left, right, np.linspace(0, d, n + 1))
    entering, leaving = {"I": (0, 1), "II": (1, 1), "III": (0, 0)}[configuration]
    return y[0, entering] - y[-1, leaving]


def test_mixed_conduction_line_matches_the_two_rail_equations(numbers):
    d, a, c_dl = ELECTRODE["thickness"], ELECTRODE["specific_area"], ELECTRODE["capacitance"]
    recorded = {}
    for rho1, rho2 in ((10.0, 1.0), (2.0, 6.0)):
        omega_c = 1 / ((rho1 + rho2) * d ** 2 * c_dl * a)
        for configuration in ("I", "II", "III"):
            for omega in omega_c * SPAN:
                z_f = _electrode_interface(omega)
                closed = mixed_conduction_line(rho1, rho2, z_f, d, configuration)
                numeric = _extrapolated(lambda n: _line_numeric(rho1, rho2, z_f, configuration, n), 500)
                assert _relative(numeric, closed) < 1e-7, (rho1, rho2, configuration, omega / omega_c)
            if rho1 == 10.0:
                recorded[configuration] = mixed_conduction_line(rho1, rho2, _electrode_interface(omega_c), d,
                                                                configuration)
    for configuration, z in recorded.items():
        numbers.record(f"Z_{configuration}_re_ohm_m2", z.real)
        numbers.record(f"Z_{configuration}_im_ohm_m2", z.imag)


def test_mixed_conduction_line_limits():
    rho1, rho2, d = 10.0, 1.0, ELECTRODE["thickness"]
    parallel = d * rho1 * rho2 / (rho1 + rho2)
    tiny = (rho1 + rho2) * d ** 2 * 1e-14 * (1 + 1j)  # beta d ~ 1e7: corrections ~ (rho1/rho2)/(beta d)
    huge = (rho1 + rho2) * d ** 2 * 1e6 * (1 - 1j)  # beta d ~ 1e-3
    for configuration in ("I", "II", "III"):
        assert _relative(mixed_conduction_line(rho1, rho2, tiny, d, configuration), parallel) < 1e-5
    limit_one = mixed_conduction_line(rho1, rho2, huge, d, "I") - huge / d
    assert _relative(limit_one, d * (rho1 + rho2) / 3) < 1e-6
    assert _relative(mixed_conduction_line(rho1, rho2, huge, d, "II"), d * rho2) < 1e-6
    assert _relative(mixed_conduction_line(rho1, rho2, huge, d, "III"), d * rho1) < 1e-6
    # no electronic resistance: configuration I is the one-rail (de Levie) line; II and III swap the rails
    z_f = _electrode_interface(np.logspace(0, 6, 7))
    assert np.allclose(mixed_conduction_line(rho1, 1e-12 * rho1, z_f, d), transmission_line(rho1, z_f, d), rtol=1e-9)
    swapped = mixed_conduction_line(rho2, rho1, z_f, d, "III")
    assert np.allclose(mixed_conduction_line(rho1, rho2, z_f, d, "II"), swapped, rtol=1e-14)
    assert np.allclose(mixed_conduction_line(rho1, rho2, z_f, d, "I"), mixed_conduction_line(rho2, rho1, z_f, d, "I"),
                       rtol=1e-14)


# --- diffuse charge between blocking electrodes -----------------------------------------------------------------

PERMITTIVITY = 78.5 * VACUUM_PERMITTIVITY
CELL = dict(temperature=298.15, concentration=1.0, valence=1, diffusivity=1e-9)


def _cell_debye_length():
    return debye_length(PERMITTIVITY, CELL["temperature"], [CELL["concentration"]] * 2,
                        [CELL["valence"], -CELL["valence"]])


def _cell_numeric(omega, gap, n, stern_capacitance=None):
    """Linearised Nernst–Planck for each ion and Poisson, y = (c+, N+, c-, N-, phi, E) (perturbations,
    E = phi'): c+-' = -N+-/D -+ (z F/(R T)) c0 E, N+-' = -i omega c+-, E' = -z F (c+ - c-)/eps on [0, g];
    N+- = 0 at both walls, phi -+ (eps/C_S) E = +-1/2 V (Stern layer, or phi = +-1/2 without one).
    The current into the cell is the wall's displacement current J = -i omega eps E(0); Z = 1/J.
    Mesh: tanh-graded towards both walls."""
    diffusivity, c0, valence = CELL["diffusivity"], CELL["concentration"], CELL["valence"]
    drift = valence * FARADAY / (GAS_CONSTANT * CELL["temperature"]) * c0

    def matrix_at(x):
        a = np.zeros((len(x), 6, 6), dtype=complex)
        a[:, 0, 1], a[:, 0, 5], a[:, 1, 0] = -1 / diffusivity, -drift, -1j * omega
        a[:, 2, 3], a[:, 2, 5], a[:, 3, 2] = -1 / diffusivity, drift, -1j * omega
        a[:, 4, 5] = 1
        a[:, 5, 0], a[:, 5, 2] = -valence * FARADAY / PERMITTIVITY, valence * FARADAY / PERMITTIVITY
        return a

    stern = 0.0 if stern_capacitance is None else PERMITTIVITY / stern_capacitance
    left = np.zeros((3, 6))
    left[0, 1], left[1, 3], left[2, 4], left[2, 5] = 1, 1, 1, -stern
    right = left.copy()
    right[2, 5] = stern
    xi = np.linspace(0, 1, n + 1)
    mesh = gap / 2 * (1 + np.tanh(2 * (2 * xi - 1)) / np.tanh(2))  # wall spacing 0.14 of the uniform one
    y = _box_solve(matrix_at, (left, [0, 0, 0.5]), (right, [0, 0, -0.5]), mesh)
    return 1 / (-1j * omega * PERMITTIVITY * y[0, 5])


@pytest.mark.parametrize("ratio", [0.1, 0.01, 1e-3])
def test_blocking_electrolyte_matches_linearised_pnp(ratio, numbers):
    debye, diffusivity = _cell_debye_length(), CELL["diffusivity"]
    gap = debye / ratio
    omega_c = 1 / rc_charging_time(debye, gap / 2, diffusivity)
    for omega in omega_c * SPAN:
        closed = blocking_electrolyte_impedance(omega, diffusivity, debye, gap, PERMITTIVITY)
        numeric = _extrapolated(lambda n: _cell_numeric(omega, gap, n), 200)
        assert _relative(numeric, closed) < 1e-6, omega / omega_c  # round-off ~1e-8 at omega << omega_c
    z = blocking_electrolyte_impedance(omega_c * np.array([0.1, 1.0, 10.0]), diffusivity, debye, gap, PERMITTIVITY)
    numbers.record("Z_re_ohm_m2", z.real)
    numbers.record("Z_im_ohm_m2", z.imag)


def test_blocking_electrolyte_stern_layer_and_area():
    debye, diffusivity = _cell_debye_length(), CELL["diffusivity"]
    gap, stern = 100 * debye, 0.2
    omega_c = 1 / rc_charging_time(debye, gap / 2, diffusivity)
    for omega in omega_c * np.array([1e-2, 1.0, 1e2]):
        closed = blocking_electrolyte_impedance(omega, diffusivity, debye, gap, PERMITTIVITY, stern_capacitance=stern)
        numeric = _extrapolated(lambda n: _cell_numeric(omega, gap, n, stern), 200)
        assert _relative(numeric, closed) < 1e-6
        plain = blocking_electrolyte_impedance(omega, diffusivity, debye, gap, PERMITTIVITY)
        assert closed - plain == pytest.approx(2 / (1j * omega * stern), rel=1e-9)
    area_specific = blocking_electrolyte_impedance(omega_c, diffusivity, debye, gap, PERMITTIVITY)
    assert blocking_electrolyte_impedance(omega_c, diffusivity, debye, gap, PERMITTIVITY, area=4e-6) \
        == pytest.approx(area_specific / 4e-6, rel=1e-15)


def test_blocking_electrolyte_limits():
    """Thin layers: R_b = g lambda^2/(eps D) in series with eps/(2 lambda), corner at 1/tau_c; omega -> 0: the
    capacitor eps/(2 lambda tanh(g/(2 lambda))); omega -> inf: the geometric capacitor eps/g."""
    debye, diffusivity = _cell_debye_length(), CELL["diffusivity"]
    for ratio in (1e-3, 1e-4):
        gap = debye / ratio
        tau = rc_charging_time(debye, gap / 2, diffusivity)
        omega = np.array([0.1, 1.0, 10.0]) / tau
        bulk = gap * debye ** 2 / (PERMITTIVITY * diffusivity)
        z = blocking_electrolyte_impedance(omega, diffusivity, debye, gap, PERMITTIVITY)
        # corrections O(omega lambda^2/D) = O(omega tau_c lambda/g) and O(lambda/g)
        assert np.all(_relative(z, bulk + 2 * debye / (1j * omega * PERMITTIVITY)) < 3 * ratio * (1 + omega * tau))
        assert bulk * PERMITTIVITY / (2 * debye) == pytest.approx(tau, rel=1e-14)
        assert abs(z[1].real + z[1].imag) / z[1].real < 6 * ratio  # Re Z = -Im Z at omega = 1/tau_c
    gap = 3 * debye
    omega_c = 1 / rc_charging_time(debye, gap / 2, diffusivity)
    low = omega_c * np.array([1e-6, 1e-4])
    capacitance = PERMITTIVITY / (2 * debye * np.tanh(gap / (2 * debye)))
    z = blocking_electrolyte_impedance(low, diffusivity, debye, gap, PERMITTIVITY)
    assert np.all(_relative(-1 / (low * z.imag), capacitance) < 1e-6)
    high = diffusivity / debye ** 2 * np.array([1e4, 1e6])
    z = blocking_electrolyte_impedance(high, diffusivity, debye, gap, PERMITTIVITY)
    assert np.all(_relative(z, gap / (1j * high * PERMITTIVITY)) < 1e-3)


# --- input errors -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, key", [
    (lambda: de_levie_pore(-1.0, **PORE), "omega"),
    (lambda: de_levie_pore(1.0, **{**PORE, "conductivity": 0.0}), "conductivity"),
    (lambda: de_levie_pore(1.0, **PORE, charge_transfer_resistance=-1.0), "charge_transfer_resistance"),
    (lambda: transmission_line(1.0, -1.0 + 0j, 1.0), "interface_impedance"),
    (lambda: warburg_finite(1.0, 1.0, 1.0, kind="open"), "kind"),
    (lambda: mixed_conduction_line(1.0, 1.0, 1.0, 1.0, configuration="IV"), "configuration"),
    (lambda: mixed_conduction_line(1.0, -1.0, 1.0, 1.0), "electronic_resistivity"),
    (lambda: spherical_diffusion_impedance(1.0, 1e-6, 1e-14, ocv_slope=1e-5), "ocv_slope"),
    (lambda: spherical_diffusion_impedance(1.0, 0.0, 1e-14, ocv_slope=-1e-5), "radius"),
    (lambda: charge_transfer_resistance(0.0, 298.15), "exchange_current_density"),
    (lambda: randles_particle(1.0, -0.1, 0.2, 1.0, 1.0), "solution_resistance"),
    (lambda: blocking_electrolyte_impedance(1.0, 1e-9, 1e-8, 0.0, 7e-10), "gap"),
    (lambda: blocking_electrolyte_impedance(1.0, 1e-9, 1e-8, 1e-6, 7e-10, stern_capacitance=0.0), "stern_capacitance"),
])
def test_bad_parameters_are_one_line_input_errors(call, key):
    with pytest.raises(InputError) as caught:
        call()
    assert caught.value.key == key and "\n" not in str(caught.value)
