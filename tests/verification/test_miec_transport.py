"""Transport in the electroneutral MIEC (femiec.problems.miec) on a 1D slab 0 <= x <= L, L = 1 mm, T = 1000 K,
with an acceptor-doped ceria of femiec.materials.defects with temperature-independent constants
(A = 4000 mol/m^3, K_red = 2e-7 (mol/m^3)^3, K_e = 1e-8 (mol/m^3)^2; sigma_ion = sigma_el near pO2 = 1e-17 Pa).

(a) Jamnik-Maier: ion-blocking, electron-reversible contacts at both faces (psi_el = V at x = 0, 0 at x = L),
    linearised about uniform equilibrium at pO2 = 1e-17 Pa (the slab -L/2..L/2, graded towards both contacts:
    first cell 0.05 L/N of N cells per half). Oracle: the two-rail line of
    femiec.analytic.impedance.mixed_conduction_line, configuration II (current into the electronic rail at
    the front, electronic rail held at the back, ions blocked at both faces) with rho1 = 1/sigma_ion,
    rho2 = 1/sigma_el and z_f = 1/(i omega C_chem) (the chemical capacitance per volume), frequencies
    1e-3..1e5 omega*, omega* = 1/(L^2 (rho1 + rho2) C_chem) (the whole arc from L/(sigma_ion + sigma_el), to
    1.5%, to L/sigma_el). P1: error of second order in h, <= 1e-3 on 2 x 100 cells (direct solves; PRESB-GMRES,
    rtol 1e-12, agrees to 1e-8 in fewer than 40 iterations per frequency although J is not symmetric).
(b) Wagner: fixed pO2 on both faces (1e-10 and 1e-22 Pa: 12 decades, sigma_amb varies by a factor 150),
    open circuit (one face grounded). Oracle: j_O2 = R T / (16 F^2 L) int sigma_amb d ln pO2
    (femiec.analytic.mixed_conductors.wagner_flux, adaptive quadrature in ln pO2 with sigma_amb at the
    defect equilibrium of each pO2). The consistent flux is of second order; <= 1e-4 on 100 cells.
(c) Bouwmeester: linear surface exchange (R_s) on both faces, pO2 1e-17 and 1.01e-17 Pa. Oracle: the Wagner
    flux times 1/(1 + 2 L_c/L), L_c = D_chem/k_chem = sigma_amb R_s (k_chem = 1/(R_s C_chem)), at the
    mean state (to O(Delta ln pO2) = 1e-2 of the deviation); R_s = L/(2 sigma_amb): the flux halves.
    Agreement to 1e-3. The Butler-Volmer exchange with r0 = R T/(4 F^2 R_s) (its linearisation) gives the
    same flux to 1e-3 (Delta at the surfaces ~ 1e-4 V << R T/(2F)).
(d) Conservation: a pO2 step at x = L (fixed pO2, 1e-17 -> 1e-15 Pa) with linear surface exchange at x = 0,
    backward Euler: the change of the oxygen content -int v dx / 2 equals the time integral of the O2 fluxes
    out through both faces to 1e-10 (relative), and the total current through the faces is zero (relative
    to the ionic current, 1e-10): div(i_ion + i_el) = 0 with electroneutrality exact in the variables.
(e) MMS with the nonlinear coefficients (manufactured u and psi_el, sources added to both rows): L2 errors of
    order 2 (P1) and 3 (P2).
Tests marked mpi record the same numbers on 1 and 2 ranks.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from femiec.analytic.impedance import mixed_conduction_line
from femiec.analytic.mixed_conductors import wagner_flux
from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.problems.miec import MixedConductorProblem
from femiec.problems.miec_conditions import ElectronicContact, OxygenPressure, SurfaceExchange
from femiec.studies.impedance import impedance_spectrum

sys.path.insert(0, str(Path(__file__).resolve().parent))
from miec_support import CERIA, T_CERIA  # noqa: E402
from npp_support import box_mesh, graded_interval  # noqa: E402

pytestmark = pytest.mark.mpi

MATERIAL, T = CERIA, T_CERIA
LENGTH = 1e-3


def _problem(comm, cells, pressure, conditions, meshdata=None, **options):
    meshdata = box_mesh(comm, [cells], [LENGTH]) if meshdata is None else meshdata
    return MixedConductorProblem(meshdata, MATERIAL, temperature=T, oxygen_pressure=pressure,
                                 conditions=conditions, **options)


def _electrons(*pressures):
    return MATERIAL.electrons_at(np.array(pressures), T)


def _wagner_flux(p_high, p_low):
    """R T / (16 F^2 L) int_{ln p_low}^{ln p_high} sigma_amb d ln pO2 [mol/(m^2 s)] of the defect model."""
    return wagner_flux(lambda p: MATERIAL.ambipolar_conductivity(MATERIAL.electrons_at(p, T), T), p_low, p_high,
                       LENGTH, T)


def test_jamnik_maier_impedance(comm, numbers):
    """(a) The linearised MIEC between electron-reversible, ion-blocking contacts is the two-rail line."""
    pressure = 1e-17
    n0 = _electrons(pressure)[0]
    rho1, rho2 = 1 / MATERIAL.ionic_conductivity(n0, T), 1 / MATERIAL.electronic_conductivity(n0, T)
    capacitance = MATERIAL.chemical_capacitance(n0, T)
    omega = np.logspace(5, -3, 33) / (LENGTH ** 2 * (rho1 + rho2) * capacitance)
    closed = mixed_conduction_line(rho1, rho2, 1 / (1j * omega * capacitance), LENGTH, "II")
    errors = []
    for cells in (25, 50, 100):
        meshdata = graded_interval(comm, cells, LENGTH / 2, 0.05 * LENGTH / cells, both=True)
        problem = _problem(comm, cells, pressure, [ElectronicContact("xmin"), ElectronicContact("xmax")], meshdata)
        Z = impedance_spectrum(problem.impedance_port("xmin"), omega / (2 * np.pi), method="direct").area_specific
        errors.append(np.abs(Z / closed - 1).max())
        # Z itself (1 and 2 ranks agree to ~1e-12): the errors, 3e-5 .. 5e-4, amplify its round-off beyond 1e-8
        numbers.record(f"{cells}.Z_ohm_m2", np.column_stack([Z.real, Z.imag]))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    presb = impedance_spectrum(problem.impedance_port("xmin"), omega / (2 * np.pi), rtol=1e-12)
    assert np.abs(presb.area_specific / Z - 1).max() < 1e-8
    assert max(s.iterations for s in presb.stats) < 40
    assert errors[-1] < 1e-3, errors
    assert np.all((orders > 1.9) & (orders < 2.1)), orders
    assert abs(closed[0].real / (LENGTH * rho1 * rho2 / (rho1 + rho2)) - 1) < 0.02  # the whole arc: rails in
    assert abs(closed[-1].real / (LENGTH * rho2) - 1) < 1e-6  # parallel at the top, electrons only at the bottom


def test_wagner_permeation(comm, numbers):
    """(b) Open-circuit permeation between fixed pO2 over 12 decades: the Wagner flux."""
    p_high, p_low = 1e-10, 1e-22
    expected = _wagner_flux(p_high, p_low)
    errors = []
    for cells in (25, 50, 100):
        problem = _problem(comm, cells, p_high, [ElectronicContact("xmin"), OxygenPressure("xmin", p_high),
                                                 OxygenPressure("xmax", p_low)])
        problem.solve_steady()
        flux_out, flux_in = problem.oxygen_flux("xmax"), -problem.oxygen_flux("xmin")
        errors.append(abs(flux_out / expected - 1))
        assert abs(flux_in / flux_out - 1) < 1e-10
        assert abs(problem.current("xmin")) < 1e-10 * 4 * FARADAY * flux_out  # open circuit
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    numbers.record("wagner_flux", expected)
    numbers.record("relative_error", errors)
    numbers.record("order", orders)
    assert errors[-1] < 1e-4, errors
    assert np.all(orders > 1.9), orders


@pytest.mark.parametrize("kinetics", ["linear", "butler_volmer"])
def test_bouwmeester_surface_exchange(comm, numbers, kinetics):
    """(c) Surface exchange on both faces, small pO2 difference: the flux is reduced by 1/(1 + 2 L_c/L)."""
    p1, p2 = 1e-17, 1.01e-17
    n_mean = _electrons(np.sqrt(p1 * p2))[0]
    sigma_amb = MATERIAL.ambipolar_conductivity(n_mean, T)
    resistance = 0.5 * LENGTH / sigma_amb  # L_c = D_chem / k_chem = sigma_amb R_s = L/2
    characteristic = sigma_amb * resistance
    rate = GAS_CONSTANT * T / (4 * FARADAY ** 2 * resistance)
    kind = {"resistance": resistance} if kinetics == "linear" else {"exchange_rate": rate}
    problem = _problem(comm, 100, p2, [ElectronicContact("xmin"), SurfaceExchange("xmin", p2, **kind),
                                       SurfaceExchange("xmax", p1, **kind)])
    problem.solve_steady()
    expected = _wagner_flux(p2, p1) / (1 + 2 * characteristic / LENGTH)
    error = abs(problem.oxygen_flux("xmax") / expected - 1)
    numbers.record("oxygen_flux_mol_s", problem.oxygen_flux("xmax"))  # (its error of ~7e-8 is rank rounding)
    assert error < 1e-3


def test_conservation_after_pressure_step(comm, numbers):
    """(d) Oxygen content against the time integral of the boundary O2 fluxes; zero total current."""
    p1, p2 = 1e-17, 1e-15
    n0 = _electrons(p1)[0]
    resistance = 0.5 * LENGTH / MATERIAL.ambipolar_conductivity(n0, T)
    problem = _problem(comm, 50, p1, [ElectronicContact("xmin"), SurfaceExchange("xmin", p1, resistance=resistance),
                                      OxygenPressure("xmax", p1)])
    start = problem.oxygen_content()
    problem.set_oxygen_pressure("xmax", p2)
    totals = {"released": 0.0, "ionic": 0.0, "total_current": 0.0}

    def on_step(t, dt):
        totals["released"] += dt * (problem.oxygen_flux("xmin") + problem.oxygen_flux("xmax"))
        totals["ionic"] = max(totals["ionic"], abs(problem.ionic_current("xmax")))
        totals["total_current"] = max(totals["total_current"], abs(problem.current("xmin") + problem.current("xmax")))

    tau = problem.diffusion_time()
    records = problem.run(0.2 * tau, 1e-4 * tau, scheme="bdf1", on_step=on_step)
    change = problem.oxygen_content() - start
    balance = abs(change + totals["released"]) / abs(change)
    numbers.record("oxygen_content_change", change)
    numbers.record("steps", len(records))
    assert change > 0  # oxidised from x = L
    assert balance < 1e-10, balance
    assert totals["total_current"] < 1e-10 * totals["ionic"], totals


def test_exchange_linearisation():
    """The Butler-Volmer exchange's slope at equilibrium is 1/R_s with R_s = R T/(4 F^2 r0) (any alpha), and
    R_s = 1/(k_chem C_chem) is the linear exchange of the rate constant k_chem."""
    from femiec.forms import miec

    rate, delta = 2e-3, 1e-7
    for alpha in (0.3, 0.5, 0.8):
        slope = (miec.butler_volmer_exchange_current(delta, rate, alpha, T)
                 - miec.butler_volmer_exchange_current(-delta, rate, alpha, T)) / (2 * delta)
        assert abs(slope * miec.exchange_resistance(rate, T) - 1) < 1e-9
    n0 = _electrons(1e-17)[0]
    capacitance = MATERIAL.chemical_capacitance(n0, T)
    resistance = miec.exchange_resistance_from_rate_constant(1e-6, capacitance)
    assert abs(miec.surface_exchange_current(1e-3, resistance) - 1e-3 * 1e-6 * capacitance) < 1e-15


def test_fieldsplit_preset_and_output_fields(comm, tmp_path_factory):
    """The Wagner membrane as a 3D box (8 x 2 x 2 tetrahedral cells): the fieldsplit preset (one BoomerAMG
    V-cycle per block u, psi_el) gives the direct solver's flux; the output fields hold the local
    equilibrium (2 v + p = n + A at every node) and are written for ParaView."""
    from femiec.io.fields import FieldWriter

    p_high, p_low = 1e-10, 1e-22
    fluxes = []
    for preset in ("direct", "fieldsplit"):
        problem = _problem(comm, None, p_high, [ElectronicContact("xmin"), OxygenPressure("xmin", p_high),
                                                OxygenPressure("xmax", p_low)],
                           box_mesh(comm, [8, 2, 2], [LENGTH, LENGTH / 4, LENGTH / 4]), preset=preset)
        problem.solve_steady()
        fluxes.append(problem.oxygen_flux("xmax"))
    assert abs(fluxes[1] / fluxes[0] - 1) < 1e-8
    fields = problem.output_fields()
    assert sorted(fields) == sorted(["electrons", "vacancies", "holes", "log_oxygen_pressure", "ionic_potential",
                                     "electronic_potential", "ionic_current", "electronic_current"])
    n, v, p = (fields[name][0].x.array for name in ("electrons", "vacancies", "holes"))
    assert np.abs(2 * v + p - n - MATERIAL.acceptor).max() < 1e-9 * MATERIAL.acceptor
    directory = comm.bcast(str(tmp_path_factory.mktemp("miec")) if comm.rank == 0 else None)
    with FieldWriter(directory, fields, formats=("xdmf",)) as writer:
        writer.write(0.0)


def test_failed_steady_solve_is_reported(comm):
    """A Newton solve that does not converge raises a SolverError that names the reason and the prefix."""
    from femiec.errors import SolverError

    problem = _problem(comm, 20, 1e-10, [ElectronicContact("xmin"), OxygenPressure("xmin", 1e-10),
                                         OxygenPressure("xmax", 1e-22)], petsc_options={"snes_max_it": 1})
    with pytest.raises(SolverError, match="MIEC steady solve did not converge.*femiec_miec_"):
        problem.solve_steady()


@pytest.mark.parametrize("conditions, key", [
    ([OxygenPressure("xmin", -1.0)], "conditions.xmin.pressure"),
    ([SurfaceExchange("xmin", 1e-17)], "conditions.xmin.resistance"),
    ([OxygenPressure("xmin", 1e-17), SurfaceExchange("xmin", 1e-17, resistance=1.0)], "conditions.xmin"),
    ([ElectronicContact("nowhere")], "conditions.nowhere"),
])
def test_input_errors(comm, conditions, key):
    """Bad conditions are refused with the key that names them, before anything is built."""
    from femiec.errors import InputError

    with pytest.raises(InputError) as error:
        _problem(comm, 4, 1e-17, conditions)
    assert error.value.key == key


@pytest.mark.parametrize("degree", [1, 2])
def test_manufactured_solution(comm, numbers, degree):
    """(e) MMS with the nonlinear coefficients: u = ln(n/n_ref) and psi_el [V] given on [0, L],

        u = u_a + (u_b - u_a) x/L + sin(pi x/L),   psi_el = 0.05 x/L + 0.02 sin(2 pi x/L)   [V],

    u spanning 1e-17 .. 1e-21 Pa plus a bump of one e-fold (sigma_el, sigma_ion and ln pO2 vary along x),
    the sources f_ion = div i_ion, f_tot = div(i_ion + i_el) of the exact fields added to the residual, u
    and psi_el held at both faces. Expected: L2 errors of order degree + 1 (16, 32, 64 cells)."""
    import ufl

    from femiec.forms import miec
    from femiec.problems.base import global_integral

    p_a, p_b = 1e-17, 1e-21
    errors = []
    for cells in (16, 32, 64):
        conditions = [OxygenPressure("xmin", p_a), OxygenPressure("xmax", p_b), ElectronicContact("xmin", 0.0),
                      ElectronicContact("xmax", 0.05)]
        problem = _problem(comm, cells, p_a, conditions, degree=degree)
        u_a, u_b = (problem._log_electrons(p) for p in (p_a, p_b))
        x = ufl.SpatialCoordinate(problem.mesh)[0] / LENGTH
        u_exact = u_a + (u_b - u_a) * x + ufl.sin(ufl.pi * x)
        psi_exact = 0.05 * x + 0.02 * ufl.sin(2 * ufl.pi * x)
        q = problem.local(u_exact)
        psi_ion = miec.ionic_potential(psi_exact, q["lnp"], problem.T)
        i_ion = miec.ionic_current(q["sigma_ion"], psi_ion)
        i_el = miec.electronic_current(q["sigma_el"], psi_exact)
        w1, w2 = problem.tests
        problem.residual[0] -= ufl.div(i_ion) * w1 * problem.dx
        problem.residual[1] -= ufl.div(i_ion + i_el) * w2 * problem.dx
        problem.build("solver")
        problem.solve_steady()
        dx = ufl.dx(domain=problem.mesh, metadata={"quadrature_degree": 10})
        norms = [np.sqrt(global_integral((f - g) ** 2 * dx, comm) / global_integral(g ** 2 * dx, comm))
                 for f, g in zip(problem.u, (u_exact, psi_exact))]
        errors.append(norms)
    errors = np.array(errors)
    orders = np.log2(errors[:-1] / errors[1:])
    numbers.record("relative_l2_errors", errors)
    numbers.record("orders", orders)
    assert np.all(np.abs(orders[-1] - (degree + 1)) < 0.15), orders
