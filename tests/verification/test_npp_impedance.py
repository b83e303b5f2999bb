"""Impedance of Nernst–Planck–Poisson cells (NernstPlanckPoisson.impedance_port + femiec.studies.impedance):
diffuse charge between blocking electrodes against the linearised PNP closed form, Butler–Volmer electrodes
against the slope of the steady current, and the two frequency solvers and partitions against each other."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.electrochemistry import debye_length, rc_charging_time
from femiec.analytic.impedance import blocking_electrolyte_impedance
from femiec.constants import VACUUM_PERMITTIVITY, thermal_voltage
from femiec.forms.poisson import stern_charge_density
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import Electrode, FixedConcentration, FixedPotential, Reaction
from femiec.problems.species import Species
from femiec.studies.impedance import impedance_spectrum

from npp_support import box_mesh, graded_interval

C0, EPS_R, T, D = 1.0, 78.5, 298.15, 1e-9
EPS = EPS_R * VACUUM_PERMITTIVITY
VT = thermal_voltage(T)
LAMBDA = debye_length(EPS, T, [C0, C0], [1, -1])


def blocking_closed_form(omega, half_gap, stern_capacitance=None):
    """The linearised PNP impedance [Ohm m^2] of the cells below (gap 2L; Macdonald 1953, BTA04):
    :func:`femiec.analytic.impedance.blocking_electrolyte_impedance`."""
    return blocking_electrolyte_impedance(omega, D, LAMBDA, 2 * half_gap, EPS, stern_capacitance=stern_capacitance)


def blocking_cell(comm, ratio, cells, first, stern_capacitance=None):
    """1D cell [-L, L], L = lambda_D / ratio, 1:1 electrolyte c0 = 1 mol/m^3 (eps_r = 78.5, D = 1e-9
    m^2/s), blocking electrodes at both ends at 0 V (a closed system), P2, ``cells`` cells per half graded
    geometrically from ``first`` lambda_D at each wall; steady (uniform) state solved. Returns (problem, L)."""
    half_gap = LAMBDA / ratio
    meshdata = graded_interval(comm, cells, half_gap, first * LAMBDA, both=True)
    electrodes = [Electrode("left", "xmin", voltage=0.0, stern_capacitance=stern_capacitance),
                  Electrode("right", "xmax", voltage=0.0, stern_capacitance=stern_capacitance)]
    species = [Species("cation", 1, D, C0), Species("anion", -1, D, C0)]
    problem = NernstPlanckPoisson(meshdata, species, electrodes=electrodes, temperature=T,
                                  relative_permittivity=EPS_R, degree=2)
    problem.solve_steady()
    return problem, half_gap


def rc_omegas(half_gap, per_decade=4):
    """Angular frequencies [rad/s] from 1e3 down to 1e-3 times 1/tau_c, tau_c = lambda_D L/D (BTA04 eq. 36)."""
    return np.logspace(3, -3, 6 * per_decade + 1) / rc_charging_time(LAMBDA, half_gap, D)


def spectrum(problem, omegas, electrode="left", counter=None, **options):
    """The impedance spectrum of ``electrode``'s port at the angular frequencies ``omegas`` [rad/s]; GMRES
    to a relative residual of 1e-12 (1e-10, the default, leaves Z within ~5e-9 of the direct solve: too
    close to the 1e-8 at which partitions and solvers are compared)."""
    return impedance_spectrum(problem.impedance_port(electrode, counter=counter), omegas / (2 * np.pi),
                              **{"rtol": 1e-12, **options})


def well_conditioned(Z):
    """Re Z and Im Z at omega tau_c = 1e3 and 1, and Im Z at 1e-3, of a spectrum on ``rc_omegas`` (4 per
    decade). Not Re Z at 1e-3: there it is 1e-3 of |Z| and set only to ~1e-5 of itself by round-off (a
    closed cell's J is singular, its amounts; the round-off of their conservation is divided by omega),
    which 1 and 2 ranks do not reproduce to 1e-8."""
    return np.array([Z[0].real, Z[0].imag, Z[12].real, Z[12].imag, Z[24].imag])


@pytest.mark.mpi
@pytest.mark.parametrize("ratio", [1e-1, 1e-2, 1e-3])
def test_npp_blocking_cell_impedance(comm, numbers, ratio):
    """Oracle (Macdonald, Phys. Rev. 92 (1953) 4; Bazant, Thornton & Ajdari, Phys. Rev. E 70 (2004)
    021506): the linearised PNP impedance of a 1:1 electrolyte with equal diffusivities between blocking
    electrodes (Z = V/J [Ohm m^2], closed form above) at lambda_D/L = 0.1, 0.01, 1e-3, over omega tau_c =
    1e-3 .. 1e3 (tau_c = lambda_D L/D, BTA04 eq. 36; 4 per decade). Z is the voltage-driven port of the
    left electrode (the right one held), output the displacement current dQ/dt with Q the discrete flux
    of the Poisson residual. P2 on two meshes graded toward both walls: 50 cells per half from 0.2
    lambda_D and 100 cells from 0.1 lambda_D; max relative error <= 1e-3 on both and smaller on the finer
    one (measured 1.1e-6, 2.3e-6, 4.5e-6 and 6.9e-8, 1.5e-7, 3.0e-7). The RC time is visible: for
    lambda_D/L <= 0.01 the phase of Z is -45 degrees at omega tau_c within 1 +- 4 lambda_D/L (measured
    1.027 and 1.0026; the ideal circuit R_b + 2 lambda_D/(i omega eps) has it at omega tau_c = 1; at 0.1
    the RC arc merges with the bulk's geometric one, -45 degrees at omega tau_c = 1.42). Recorded: Z / R_b
    (fine mesh, :func:`well_conditioned`) and the -45 degree frequency.
    """
    errors = []
    for cells, first in ((50, 0.2), (100, 0.1)):
        problem, half_gap = blocking_cell(comm, ratio, cells, first)
        omegas = rc_omegas(half_gap)
        result = spectrum(problem, omegas)
        errors.append(np.max(np.abs(result.impedance / blocking_closed_form(omegas, half_gap) - 1)))
    tau = rc_charging_time(LAMBDA, half_gap, D)
    bulk = 2 * half_gap * LAMBDA ** 2 / (EPS * D)  # R_b of the gap 2L [Ohm m^2]
    Z = result.impedance / bulk
    phase = np.angle(Z)
    k = np.flatnonzero((phase[:-1] > -np.pi / 4) & (phase[1:] <= -np.pi / 4))[0]  # omegas decrease
    crossing = np.exp(np.interp(-np.pi / 4, [phase[k + 1], phase[k]], np.log(omegas[[k + 1, k]] * tau)))
    numbers.record("impedance_over_bulk_resistance", well_conditioned(Z))
    numbers.record("phase_crossing_omega_tau", crossing)
    assert result.area == 1.0
    assert errors[1] <= 1e-3 and errors[0] <= 1e-3 and errors[1] < errors[0], errors
    if ratio <= 1e-2:  # at lambda_D/L = 0.1 the RC arc merges with the geometric one (Z not R-C-like)
        assert abs(crossing - 1) < 4 * ratio, crossing
    assert np.all(Z.real > 0)


@pytest.mark.mpi
def test_npp_blocking_cell_stern_layer_impedance(comm, numbers):
    """Oracle: as above with a Stern layer of capacitance C_S = eps/lambda_D (the diffuse layer's) at both
    electrodes, which adds 2/(i omega C_S) in series (the Robin condition eps dphi/dn = C_S (V - phi) is
    linear); lambda_D/L = 0.01, P2, 100 cells per half from 0.1 lambda_D: max relative error <= 1e-3. The
    electrode potential now enters the forms (the Stern term), not a Dirichlet condition, and the charge is
    the Stern charge int C_S (V - phi) ds.
    """
    capacitance = EPS / LAMBDA
    problem, half_gap = blocking_cell(comm, 1e-2, 100, 0.1, stern_capacitance=capacitance)
    omegas = rc_omegas(half_gap)
    result = spectrum(problem, omegas)
    error = np.max(np.abs(result.impedance / blocking_closed_form(omegas, half_gap, capacitance) - 1))
    numbers.record("impedance", well_conditioned(result.impedance))
    assert error <= 1e-3, error


@pytest.mark.mpi
def test_npp_blocking_cell_impedance_2d_units(comm, numbers):
    """Oracle: the same closed form for a 2D cell, rectangle 2L x W (W = 0.3 L, lambda_D/L = 0.1, P2 on a
    uniform 80 x 2 mesh): the port's Z is per unit depth [Ohm m], its ``area`` is the electrode's length W
    [m], and Z * area = Z_1D [Ohm m^2] to 1e-5 (measured 2.3e-6; 3.6e-5 on 40 x 2).
    """
    half_gap = LAMBDA / 0.1
    width = 0.3 * half_gap
    electrodes = [Electrode("left", "xmin", voltage=0.0), Electrode("right", "xmax", voltage=0.0)]
    species = [Species("cation", 1, D, C0), Species("anion", -1, D, C0)]
    problem = NernstPlanckPoisson(box_mesh(comm, [80, 2], [2 * half_gap, width]), species, electrodes=electrodes,
                                  temperature=T, relative_permittivity=EPS_R, degree=2)
    problem.solve_steady()
    omegas = rc_omegas(half_gap, per_decade=2)
    result = spectrum(problem, omegas)
    error = np.max(np.abs(result.area_specific / blocking_closed_form(omegas, half_gap) - 1))
    numbers.record("area_over_width", result.area / width)
    numbers.record("impedance_ohm_m", [result.impedance[0].real, result.impedance[6].real, result.impedance[6].imag])
    assert result.area == pytest.approx(width, rel=1e-12)
    assert error < 1e-5, error


def kinetics_cell(comm, closure):
    """A cation-reducing Butler–Volmer electrode (i0 = 1 A/m^2, alpha = 1/2) at x = 0 of a 1D cell of
    1 um with a reservoir (c = c0, phi = 0) at x = L, 1:1 electrolyte c0 = 1 mol/m^3, biased at V0 =
    -2 V_T (cathodic, nonlinear kinetics). ``poisson``: PNP with a Stern layer of 0.2 F/m^2, P1 graded from
    0.1 lambda_D (80 cells); ``electroneutrality``: 40 uniform cells. Steady state solved at V0."""
    length = 1e-6
    reaction = Reaction(1.0, oxidized={"cation": 1}, reference_concentration=C0)
    species = [Species("cation", 1, D, C0), Species("anion", -1, D, C0)]
    conditions = [FixedConcentration("cation", "xmax", C0), FixedPotential("xmax", 0.0)]
    common = dict(temperature=T, step_tolerance=1e-12)
    if closure == "poisson":
        meshdata = graded_interval(comm, 80, length, 0.1 * LAMBDA)
        conditions.append(FixedConcentration("anion", "xmax", C0))
        electrode = Electrode("cathode", "xmin", voltage=-2 * VT, reactions=[reaction], stern_capacitance=0.2)
        common["relative_permittivity"] = EPS_R
    else:
        meshdata = graded_interval(comm, 40, length, length / 40)
        electrode = Electrode("cathode", "xmin", voltage=-2 * VT, reactions=[reaction])
        common["closure"] = "electroneutrality"
    problem = NernstPlanckPoisson(meshdata, species, conditions=conditions, electrodes=[electrode], **common)
    problem.solve_steady(continuation_steps=2)
    return problem


@pytest.mark.mpi
@pytest.mark.parametrize("closure", ["poisson", "electroneutrality"])
def test_npp_butler_volmer_impedance_dc_limit(comm, numbers, closure):
    """Oracle: Z(omega -> 0) of a voltage-driven electrode is the slope dV/dI of its steady current, here
    the central difference (I(V0 + dV) - I(V0 - dV)) / (2 dV) of two steady solves (dV = 1e-3 V_T,
    truncation ~1e-7) of the Butler–Volmer cell above (with Stern layer and Poisson closure, and
    electroneutral): Z(0) (the frequency solve at omega = 0) and Z at omega = 1e-6 D/L^2 equal it to 1e-6
    (relative), and Re Z > 0 over omega = 1e-2 .. 1e6 D/L^2. With the Stern layer, the steady charge form
    (the flux of the Poisson residual) equals the Stern charge C_S (V - phi) to 1e-10.
    """
    problem = kinetics_cell(comm, closure)
    V0, step = -2 * VT, 1e-3 * VT
    if closure == "poisson":
        electrode = problem.electrodes[0]
        stern = problem._integrate(stern_charge_density(0.2, problem.electrode_voltage["cathode"],
                                                        problem.state(problem.u).potential)
                                   * problem._facet_measure(electrode.facets))
        assert problem._integrate(problem.charge_form("cathode")) == pytest.approx(stern, rel=1e-10)
    rate = D / 1e-12  # D / L^2 [1/s]
    omegas = np.concatenate([[0.0, 1e-6 * rate], np.logspace(6, -2, 17) * rate])
    result = spectrum(problem, omegas, electrode="cathode")
    currents = []
    for V in (V0 + step, V0 - step):
        problem.set_voltage("cathode", V)
        problem.solve_steady()
        currents.append(problem.electrode_current("cathode"))
    slope = 2 * step / (currents[0] - currents[1])
    numbers.record("dc_impedance", result.impedance[0].real)
    numbers.record("finite_difference_slope", slope)
    assert abs(result.impedance[0] / slope - 1) < 1e-6, (result.impedance[0], slope)
    assert abs(result.impedance[1] / slope - 1) < 1e-6, (result.impedance[1], slope)
    assert np.all(result.impedance.real > 0)


@pytest.mark.mpi
def test_npp_impedance_solvers_and_ports_agree(comm, numbers):
    """Oracle: the same linear system solved two ways: PRESB-preconditioned GMRES and MUMPS on the real
    2N x 2N system agree to 1e-8 (relative, every frequency) on the blocking cell (lambda_D/L = 0.01) and
    on the Butler–Volmer cell with Stern layer; and on the blocking cell, whose potential is fixed only by
    its two electrodes, driving the left electrode against the right one (counter: +dV/2, -dV/2, output
    the mean of the two currents) gives the same Z as driving it alone.
    """
    problem, half_gap = blocking_cell(comm, 1e-2, 50, 0.2)
    omegas = rc_omegas(half_gap, per_decade=2)
    presb = spectrum(problem, omegas)
    direct = spectrum(problem, omegas, method="direct")
    counter = spectrum(problem, omegas, counter="right")
    kinetics = kinetics_cell(comm, "poisson")
    k_omegas = np.logspace(6, -2, 9) * D / 1e-12
    k_presb = spectrum(kinetics, k_omegas, electrode="cathode")
    k_direct = spectrum(kinetics, k_omegas, electrode="cathode", method="direct")
    assert np.max(np.abs(presb.impedance / direct.impedance - 1)) < 1e-8
    assert np.max(np.abs(k_presb.impedance / k_direct.impedance - 1)) < 1e-8
    assert np.max(np.abs(counter.impedance / presb.impedance - 1)) < 1e-8


def test_npp_impedance_port_input_errors(comm):
    """Bad ports are refused with an InputError naming the key: an unknown electrode, a counter equal to
    the electrode, and a blocking electrode under the electroneutral closure (it carries no current)."""
    from femiec.errors import InputError

    problem, _ = blocking_cell(comm, 1e-1, 10, 0.5)
    port = problem.impedance_port("left")
    assert port.drive == "voltage" and port.sign == 1.0 and port.output is None
    with pytest.raises(InputError, match="electrode"):
        problem.impedance_port("middle")
    with pytest.raises(InputError, match="counter"):
        problem.impedance_port("left", counter="left")
    neutral = NernstPlanckPoisson(graded_interval(comm, 4, 1e-6, 2.5e-7), [Species("cation", 1, D, C0),
                                                                           Species("anion", -1, D, C0)],
                                  closure="electroneutrality", temperature=T,
                                  conditions=[FixedConcentration("cation", "xmax", C0), FixedPotential("xmax", 0.0)],
                                  electrodes=[Electrode("wall", "xmin", voltage=0.0)])
    with pytest.raises(InputError, match="wall"):
        neutral.impedance_port("wall")
