"""The full-Poisson MIEC (femiec.problems.miec_poisson) against closed forms and the electroneutral model.

Material (temperature-independent constants, T = 1000 K, initial pO2 = p_ref = 1e5 Pa): A = 1 mol/m^3,
K_e = 0.1 (mol/m^3)^2, K_red = 0.1625 (mol/m^3)^3, so that n = 0.5, p = 0.2, v = 0.65 mol/m^3
(2 v + p = n + A); u_V = 1e-8, u_n = 1e-7, u_p = 5e-8 m^2/(V s); eps_r = 30: lambda_D =
sqrt(eps R T / (F^2 (4 v + n + p))) = 8.48 nm. Every carrier matters in the space charge (v, n and p are
comparable).

(a) Equilibrium space-charge layer at a blocking contact (BlockingContact, phi = phi_0 = 0.1 V = 1.16 R T/F
    at x = 0) in front of the bulk (x = L = 300 nm = 35 lambda_D: an ElectronicContact with the gas at the
    initial pO2, i.e. v, n, p and phi = 0 fixed). No flux anywhere, so every carrier is in Boltzmann
    equilibrium, c_i = c_i,inf exp(-z_i psi), psi = F phi / (R T), and n p = K_e (no net recombination).
    Oracle (the generalised Grahame relation, the first integral of Poisson–Boltzmann): with E = -dphi/dx,
    1D Poisson eps phi'' = -rho(phi), rho = F (sum_i z_i c_i,inf exp(-z_i psi) - A). Multiply by phi' and
    integrate from the bulk (phi = 0, E = 0) to phi:

        (eps/2) E^2 = -int_0^phi rho dphi'
                    = -F sum_i z_i c_i,inf (R T/(-z_i F)) (exp(-z_i psi) - 1) + F A phi
                    = R T sum_i c_i,inf (exp(-z_i psi) - 1) + R T A psi,

        E_s^2 = (2 R T / eps) [ sum_i c_i,inf (exp(-z_i psi_0) - 1) + A psi_0 ]   [V^2/m^2],

    the acceptor's term +A psi_0 is linear (it does not move); bulk electroneutrality sum_i z_i c_i,inf = A
    makes the bracket O(psi_0^2) = (psi_0^2/2) sum_i z_i^2 c_i,inf (the Debye–Hückel limit). The charge on
    the contact per area is sigma = eps E_s sign(phi_0) [C/m^2] (minus the space charge int rho dx), computed
    as the consistent flux of the Poisson residual (``charge_form``). Graded meshes (first cell L/(20 N),
    N = 75, 150, 300 cells): the error falls at second order and is below 1e-4 on the finest.
    Profile: x(phi) = int_phi^phi_0 dphi' / |E(phi')|, |E| from the relation above (adaptive quadrature in
    ln phi; brentq for phi at a node's x); nodal phi at x ~ 0.5, 1, 2, 4 lambda_D within 1e-4 phi_0 on the finest.
(b) Bulk limit: a slab of L = 2 um between two electron-reversible, ion-blocking contacts (ElectronicContact,
    psi_el = 10 mV at x = 0, 0 at x = L; the vacancies' amount conserved), recombination k_r = 1e10
    m^3/(mol s) (recombination length 0.1 nm: local e-h equilibrium). Oracle: the electroneutral
    MixedConductorProblem on the same mesh (DC current, ions blocked: the electronic current with
    stoichiometry polarisation). Relative difference d(lambda_D / L) for eps_r = 300, 30, 3 (lambda_D / L =
    1.3e-2, 4.2e-3, 1.3e-3): |d| <= 0.01 lambda_D / L and d falls in proportion to lambda_D / L (ratios
    within 20 % of the lambda_D ratios): the space-charge layers at the contacts change the resistance by a
    fraction O(lambda_D / L). Charge conservation: the consistent currents into both contacts cancel to
    1e-10 (relative).
(e) Impedance: the same slab at equilibrium (both contacts at psi_el = 0, k_r = 1e10), Z = dV/dI of the
    contact at x = 0 with the terminal current (conduction plus displacement, ``contact_port``). Oracle:
    the electroneutral model's Z on the same mesh, itself the Jamnik–Maier two-rail line
    (tests/verification/test_miec_transport.py). The space-charge layers at the contacts add an ionic
    double-layer capacitance eps/lambda_D at each rail end, which passes the admittance
    omega (eps/lambda_D) against the rail's L/sigma: relative to the line, omega tau_d L/lambda_D =
    (omega tau)(lambda_D/L) with tau_d = eps/sigma = lambda_D^2/D the dielectric relaxation time and
    tau = L^2/D the chemical diffusion time. So at fixed omega tau the relative difference d is
    O(lambda_D/L): over omega tau = 1e-2 .. 10 (tau = L^2 (rho_ion + rho_eon) C_chem), |d| <= 2 lambda_D/L
    for eps_r = 300, 30, 3, and d/(lambda_D/L) agrees within 10 % between eps_r = 30 and 3 at every
    frequency; the DC end is the electronic resistance L rho_eon (1e-3). The case file path (`[study]
    kind = "impedance"` with ``electrostatics = "poisson"``) gives the same Z (1e-8).
(f)-(i) Transient (``run_transient``, the NPP time stepping; the terminal current of each contact): (f) a
    0.1 mV step against the electroneutral transient to O(lambda_D/L); (g) the step response against the
    impedance's moments (late current V/Z(0), excess charge -V Z'(0)/Z(0)^2) and the electroneutral line's
    closed form C_chem L V/12; (h) vacancy conservation and Gauss's law in a 50 mV step; (i) a case file
    with [time]. Oracles in each test's docstring.
Tests marked mpi record the same numbers on 1 and 2 ranks.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from femiec.constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY
from femiec.materials.defects import DefectChemistry
from femiec.meshing.graded import graded_interval
from femiec.problems.base import global_integral
from femiec.problems.miec import MixedConductorProblem
from femiec.problems.miec_conditions import BlockingContact, ElectronicContact, OxygenPressure
from femiec.problems.miec_poisson import contact_current, contact_port, miec_poisson_problem
from femiec.studies.impedance import impedance_spectrum

pytestmark = pytest.mark.mpi

MATERIAL = DefectChemistry(acceptor=1.0, reduction_prefactor=0.1625, reduction_enthalpy=0.0,
                           intrinsic_prefactor=0.1, intrinsic_enthalpy=0.0, vacancy_mobility=1e-8,
                           electron_mobility=1e-7, hole_mobility=5e-8, name="full-Poisson test oxide")
T, PRESSURE, EPS_R = 1000.0, 1e5, 30.0


def _bulk():
    s = MATERIAL.equilibrium(PRESSURE, T)
    return [(float(s.v), 2), (float(s.n), -1), (float(s.p), 1)]


def _field_squared(phi):
    """E^2(phi) [V^2/m^2] of the Grahame relation (module docstring)."""
    psi = FARADAY * phi / (GAS_CONSTANT * T)
    bracket = sum(c * np.expm1(-z * psi) for c, z in _bulk()) + MATERIAL.acceptor * psi
    return 2 * GAS_CONSTANT * T / (EPS_R * VACUUM_PERMITTIVITY) * bracket


def _distance(phi, phi0):
    """x(phi) = int_phi^phi0 dphi' / |E(phi')| [m] (0 < phi <= phi0), in the variable s = ln phi' (smooth:
    |E| ~ phi' near the bulk)."""
    return quad(lambda s: np.exp(s) / np.sqrt(_field_squared(np.exp(s))), np.log(phi), np.log(phi0),
                epsabs=0, epsrel=1e-12, limit=200)[0]


def _nodal_potential(problem):
    """(x, phi) of every node, sorted by x, gathered on all ranks."""
    comm, n = problem.mesh.comm, len(problem.species)
    x = problem.subspaces[n][0].tabulate_dof_coordinates()[:, 0]
    phi = problem.nodal_values()[n]
    x, phi = np.concatenate(comm.allgather(x)), np.concatenate(comm.allgather(phi))
    x, index = np.unique(x, return_index=True)
    return x, phi[index]


def test_grahame_space_charge_layer(comm, numbers):
    length, phi0 = 300e-9, 0.1
    eps = EPS_R * VACUUM_PERMITTIVITY
    oracle = eps * np.sqrt(_field_squared(phi0))
    errors = []
    for cells in (75, 150, 300):
        meshdata = graded_interval(comm, cells, length, length / (20 * cells))
        problem = miec_poisson_problem(
            meshdata, MATERIAL, temperature=T, oxygen_pressure=PRESSURE, relative_permittivity=EPS_R,
            conditions=[BlockingContact("xmin", phi0), ElectronicContact("xmax", 0.0),
                        OxygenPressure("xmax", PRESSURE)], recombination_rate=1e3)
        problem.solve_steady(continuation_steps=4)
        charge = global_integral(problem.charge_form("xmin"), comm)
        errors.append(abs(charge / oracle - 1))
        numbers.record(f"charge_C_m2_{cells}", charge)
    debye = problem.debye_length()
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    numbers.record("charge_oracle_C_m2", oracle)
    numbers.record("charge_relative_errors", errors)
    numbers.record("debye_length_m", debye)
    assert errors[-1] < 1e-4, errors
    assert np.all(orders > 1.8), orders

    x, phi = _nodal_potential(problem)
    profile = []
    for target in (0.5, 1.0, 2.0, 4.0):
        k = int(np.argmin(np.abs(x - target * debye)))
        exact = brentq(lambda p: _distance(p, phi0) - x[k], 1e-4 * phi0, phi0, xtol=1e-16, rtol=1e-14)
        profile.append(abs(phi[k] - exact) / phi0)
    numbers.record("profile_relative_errors", profile)
    assert max(profile) < 1e-4, profile


def test_bulk_limit_against_electroneutral(comm, numbers):
    half, bias = 1e-6, 0.01
    meshdata = graded_interval(comm, 100, half, 2e-10, both=True)
    contacts = [ElectronicContact("xmin", bias), ElectronicContact("xmax", 0.0)]
    neutral = MixedConductorProblem(meshdata, MATERIAL, temperature=T, oxygen_pressure=PRESSURE, conditions=contacts)
    neutral.solve_steady()
    reference = neutral.current("xmin")
    ratios, differences = [], []
    for eps_r in (300.0, 30.0, 3.0):
        problem = miec_poisson_problem(meshdata, MATERIAL, temperature=T, oxygen_pressure=PRESSURE,
                                       relative_permittivity=eps_r, conditions=contacts, recombination_rate=1e10)
        problem.solve_steady(continuation_steps=2)
        into, out = contact_current(problem, "xmin"), contact_current(problem, "xmax")
        assert abs(into + out) <= 1e-10 * abs(into)
        ratios.append(problem.debye_length() / (2 * half))
        differences.append(into / reference - 1)
        numbers.record(f"current_A_m2_eps{eps_r:g}", into)
    numbers.record("electroneutral_current_A_m2", reference)
    numbers.record("debye_over_length", ratios)
    # not recorded: the differences (~1e-5) of currents that agree between partitions to ~1e-12 differ by ~1e-7
    ratios, differences = np.array(ratios), np.abs(differences)
    assert np.all(differences <= 0.01 * ratios), (differences, ratios)
    slopes = (differences[:-1] / differences[1:]) / (ratios[:-1] / ratios[1:])
    assert np.all(np.abs(slopes - 1) < 0.2), slopes


def _slab_impedance(comm):
    """(meshdata, contacts, omega tau grid, frequencies [Hz], the electroneutral Z [Ohm m^2], L rho_eon) of (e)."""
    half = 1e-6
    meshdata = graded_interval(comm, 100, half, 2e-10, both=True)
    contacts = [ElectronicContact("xmin", 0.0), ElectronicContact("xmax", 0.0)]
    neutral = MixedConductorProblem(meshdata, MATERIAL, temperature=T, oxygen_pressure=PRESSURE, conditions=contacts)
    neutral.solve_steady()
    n0 = MATERIAL.equilibrium(PRESSURE, T).n
    rho_ion, rho_eon = 1 / MATERIAL.ionic_conductivity(n0, T), 1 / MATERIAL.electronic_conductivity(n0, T)
    tau = (2 * half) ** 2 * (rho_ion + rho_eon) * MATERIAL.chemical_capacitance(n0, T)
    omega_tau = np.logspace(-2, 1, 7)
    frequency = omega_tau / tau / (2 * np.pi)
    reference = impedance_spectrum(neutral.impedance_port("xmin"), frequency, method="direct").area_specific
    return meshdata, contacts, frequency, reference, 2 * half * rho_eon


def test_impedance_against_electroneutral(comm, numbers):
    """(e) The full-Poisson impedance of an electron-reversible, ion-blocking slab (module docstring)."""
    meshdata, contacts, frequency, reference, dc = _slab_impedance(comm)
    scaled = {}
    for eps_r in (300.0, 30.0, 3.0):
        problem = miec_poisson_problem(meshdata, MATERIAL, temperature=T, oxygen_pressure=PRESSURE,
                                       relative_permittivity=eps_r, conditions=contacts, recombination_rate=1e10)
        problem.solve_steady(continuation_steps=2)
        Z = impedance_spectrum(contact_port(problem, "xmin"), frequency, method="direct").area_specific
        ratio = problem.debye_length() / (2e-6)
        scaled[eps_r] = np.abs(Z / reference - 1) / ratio
        numbers.record(f"Z_ohm_m2_eps{eps_r:g}", np.column_stack([Z.real, Z.imag]))
        assert np.all(scaled[eps_r] <= 2.0), (eps_r, scaled[eps_r])
        assert abs(Z[0].real / dc - 1) < 1e-3
    assert np.all(np.abs(scaled[3.0] / scaled[30.0] - 1) < 0.1), (scaled[30.0], scaled[3.0])


CASE = """
[case]
name = "space_charge"

[mesh]
kind = "box"
lengths = [1.5e-7]
cells = [600]

[model]
kind = "mixed_conductor"
electrostatics = "poisson"
relative_permittivity = 30.0
recombination_rate = 1.0e3
temperature = 1000.0
oxygen_pressure = 1.0e5
conditions = [
  { type = "blocking_contact", facet = "xmin", potential = 0.1 },
  { type = "electronic_contact", facet = "xmax" },
  { type = "oxygen_pressure", facet = "xmax", pressure = 1.0e5 },
]

[model.material]
acceptor = 1.0
reduction_prefactor = 0.1625
intrinsic_prefactor = 0.1
vacancy_mobility = 1.0e-8
electron_mobility = 1.0e-7
hole_mobility = 5.0e-8
"""


def test_poisson_case_with_the_quasi_fermi_preconditioner(tmp_path_factory, comm):
    """(c) The same case with ``[solver] preset = "quasi_fermi"`` (femiec.solvers.quasi_fermi_pc): the same
    charge on the blocking contact as the direct solver's, to 1e-8."""
    import json

    from femiec.cli import main

    tmp = comm.bcast(tmp_path_factory.mktemp("miec_poisson_qf") if comm.rank == 0 else None)
    charges = {}
    for preset in ("direct", "quasi_fermi"):
        if comm.rank == 0:
            (tmp / f"{preset}.toml").write_text(CASE + f'\n[solver]\npreset = "{preset}"\n')
        comm.barrier()
        assert main(["-q", "run", str(tmp / f"{preset}.toml"), "--out", str(tmp / preset)]) == 0
        summary = json.loads((tmp / preset / "summary.json").read_text())["derived"]["poisson"]
        charges[preset] = summary["faces"]["xmin"]["charge_density_C_m2"]
    assert abs(charges["quasi_fermi"] / charges["direct"] - 1) < 1e-8


def test_poisson_case(tmp_path_factory, comm, numbers):
    """(c) The space-charge layer of (a) as a case file (``electrostatics = "poisson"``, `femiec run`, a uniform
    box of 600 cells over 150 nm = 18 lambda_D): summary.json's charge on the blocking contact is the Grahame
    value to 1e-3, and the bulk contact carries none (no field in the bulk: the space charge holds minus the
    blocking contact's charge)."""
    import json

    from femiec.cli import main

    tmp = comm.bcast(tmp_path_factory.mktemp("miec_poisson") if comm.rank == 0 else None)
    if comm.rank == 0:
        (tmp / "case.toml").write_text(CASE)
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    summary = json.loads((tmp / "out" / "summary.json").read_text())["derived"]["poisson"]
    oracle = EPS_R * VACUUM_PERMITTIVITY * np.sqrt(_field_squared(0.1))
    faces = summary["faces"]
    assert abs(faces["xmin"]["charge_density_C_m2"] / oracle - 1) < 1e-3
    assert abs(faces["xmax"]["charge_density_C_m2"]) < 1e-6 * oracle
    assert abs(summary["debye_length_m"] / 8.4788e-9 - 1) < 1e-4
    numbers.record("charge_density_C_m2", faces["xmin"]["charge_density_C_m2"])


# (e) as a case: CASE's material on a 2 um slab between two electronic contacts, with an impedance study
IMPEDANCE_CASE = CASE.replace('name = "space_charge"', 'name = "slab_impedance"').replace(
    "lengths = [1.5e-7]\ncells = [600]", "lengths = [2.0e-6]\ncells = [400]").replace(
    "recombination_rate = 1.0e3", "recombination_rate = 1.0e10").replace(
    '  { type = "blocking_contact", facet = "xmin", potential = 0.1 },\n  { type = "electronic_contact", facet = "xmax" },\n'
    '  { type = "oxygen_pressure", facet = "xmax", pressure = 1.0e5 },\n',
    '  { type = "electronic_contact", facet = "xmin" },\n  { type = "electronic_contact", facet = "xmax" },\n') + """
[study]
kind = "impedance"
electrode = "xmin"
min_frequency = 1.0
max_frequency = 1.0e4
per_decade = 1
drt = false
kramers_kronig = false
"""


def test_poisson_impedance_case(tmp_path_factory, comm, numbers):
    """(e) The impedance study of a full-Poisson case file (`femiec run`): impedance.csv equals
    ``contact_port``'s spectrum on the case's own mesh to 1e-8."""
    from femiec.cli import main
    from femiec.config import load_case
    from femiec.io.impedance import read_impedance_csv
    from femiec.runner import build_mesh

    assert "blocking_contact" not in IMPEDANCE_CASE and "cells = [400]" in IMPEDANCE_CASE
    tmp = comm.bcast(tmp_path_factory.mktemp("miec_poisson_impedance") if comm.rank == 0 else None)
    if comm.rank == 0:
        (tmp / "case.toml").write_text(IMPEDANCE_CASE)
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    f, Z = read_impedance_csv(tmp / "out" / "impedance.csv")
    meshdata = build_mesh(load_case(tmp / "case.toml").mesh, comm)
    problem = miec_poisson_problem(meshdata, MATERIAL, temperature=T, oxygen_pressure=PRESSURE,
                                   relative_permittivity=30.0, conditions=[ElectronicContact("xmin", 0.0),
                                                                           ElectronicContact("xmax", 0.0)],
                                   recombination_rate=1e10)
    problem.solve_steady(continuation_steps=4)
    expected = impedance_spectrum(contact_port(problem, "xmin"), f, method="direct").area_specific
    assert len(f) == 5
    assert np.abs(Z / expected - 1).max() < 1e-8
    numbers.record("Z_ohm_m2", np.column_stack([Z.real, Z.imag]))


@pytest.mark.parametrize("old, new, key", [
    ('electrostatics = "poisson"', 'electrostatics = "full"', "model.electrostatics"),
    ("relative_permittivity = 30.0\n", "", "model.relative_permittivity"),
    ('electrostatics = "poisson"', 'electrostatics = "electroneutral"', "model.relative_permittivity"),
    ("recombination_rate = 1.0e3", "recombination_rate = -1.0", "model.recombination_rate"),
    ('{ type = "electronic_contact", facet = "xmax" },', "", "model.conditions[1].facet"),
    ("potential = 0.1", 'potential = "high"', "model.conditions[0].potential"),
    ('{ type = "electronic_contact", facet = "xmax" },',
     '{ type = "surface_exchange", facet = "xmax", pressure = 1.0e5, resistance = 1.0 },', "model.conditions[1].type"),
])
def test_poisson_case_input_errors(tmp_path, old, new, key):
    """(d) Refused inputs of the Poisson option: one InputError naming the case key when the case is read
    (before any solve): an unknown electrostatics, no permittivity (or one without Poisson), a bad rate, a
    pO2 on a facet without an electronic contact, a bad potential, a condition the option does not take."""
    from femiec.config import load_case
    from femiec.errors import InputError

    assert old in CASE
    path = tmp_path / "case.toml"
    path.write_text(CASE.replace(old, new))
    with pytest.raises(InputError) as error:
        load_case(path)
    assert error.value.key == key, error.value


# ------------------------------------------------------------------------------------------ transient
STEP = 1e-4  # [V]: the small voltage step of (f) and (g) (V / V_T = 1.2e-3)


def _step_slab(comm):
    """(meshdata, L, tau [s], rho_eon [Ohm m], C_chem [F/m^3]) of the 2 um slab of (b), (e)-(h)."""
    half = 1e-6
    meshdata = graded_interval(comm, 100, half, 2e-10, both=True)
    n0 = MATERIAL.equilibrium(PRESSURE, T).n
    rho_ion, rho_eon = 1 / MATERIAL.ionic_conductivity(n0, T), 1 / MATERIAL.electronic_conductivity(n0, T)
    capacitance = MATERIAL.chemical_capacitance(n0, T)
    return meshdata, 2 * half, (2 * half) ** 2 * (rho_ion + rho_eon) * capacitance, rho_eon, capacitance


def _step_contacts(voltage):
    return [ElectronicContact("xmin", voltage), ElectronicContact("xmax", 0.0)]


def _poisson_step(meshdata, eps_r, t_end, dt, scheme, voltage=STEP, **options):
    """The full-Poisson slab after a step to ``voltage`` at x = 0 from equilibrium: (problem, the
    TerminalCurrents by contact) of run_transient with fixed steps ``dt`` (or ``options``)."""
    from femiec.problems.miec_poisson import run_transient

    problem = miec_poisson_problem(meshdata, MATERIAL, temperature=T, oxygen_pressure=PRESSURE,
                                   relative_permittivity=eps_r, conditions=_step_contacts(voltage),
                                   recombination_rate=1e10)
    return problem, run_transient(problem, t_end, dt, scheme=scheme, **({"dt_max": dt} | options))


def test_step_transient_against_electroneutral(comm, numbers):
    """(f) Chronoamperometry of the slab of (b): a step of psi_el at x = 0 from 0 to 0.1 mV at t = 0 (the
    contact at x = L at 0), fixed steps dt = tau/200 (BDF2), tau = L^2 (rho_ion + rho_eon) C_chem. Oracle:
    the electroneutral MixedConductorProblem's transient with the same steps. The terminal current into
    the contact at x = 0 (conduction plus displacement) at t/tau = 0.05, 0.1, 0.25 differs from it by
    d = I/I_neutral - 1 = O(lambda_D/L): the ionic double layers at the contacts (capacitance eps/lambda_D
    at each rail end, charged through the line) add a current decaying with the line's modes. (Earlier, at
    t/tau ~ lambda_D/L, the layers are still charging through the rails and d does not yet scale: at
    t/tau = 0.01 the ratio below is 0.72.) Asserted:
    |d| <= 2 lambda_D/L for lambda_D/L = 4.2e-3 and 1.3e-3 (eps_r = 30, 3), and d falls in proportion to
    lambda_D/L (the ratio of the d's within 15 % of the ratio of the lambda_D's at every time)."""
    meshdata, length, tau, _, _ = _step_slab(comm)
    dt, marks = tau / 200, (10, 20, 50)  # the steps at t/tau = 0.05, 0.1, 0.25
    neutral = MixedConductorProblem(meshdata, MATERIAL, temperature=T, oxygen_pressure=PRESSURE,
                                    conditions=_step_contacts(STEP))
    reference = []
    neutral.run(marks[-1] * dt, dt, scheme="bdf2", dt_max=dt, on_step=lambda t, step: reference.append(
        neutral.current("xmin")))
    reference = np.array(reference)[np.array(marks) - 1]
    ratios, differences = [], []
    for eps_r in (30.0, 3.0):
        problem, currents = _poisson_step(meshdata, eps_r, marks[-1] * dt, dt, "bdf2")
        current = np.array(currents["xmin"].currents[1:])[np.array(marks) - 1]
        ratios.append(problem.debye_length() / length)
        differences.append(current / reference - 1)
        numbers.record(f"current_A_m2_eps{eps_r:g}", current)
        assert np.all(np.abs(differences[-1]) <= 2 * ratios[-1]), (eps_r, differences[-1] / ratios[-1])
    numbers.record("electroneutral_current_A_m2", reference)
    slope = (differences[0] / differences[1]) / (ratios[0] / ratios[1])
    assert np.all(np.abs(slope - 1) < 0.15), slope


def test_step_charge_against_impedance(comm, numbers):
    """(g) The step response against the small-signal impedance of the same slab and model (``contact_port``,
    Z(omega) at omega tau = 1e-3). For a step V at t = 0 the current is the inverse Laplace transform of
    V / (s Z(s)); with I(inf) = V / Z(0) its moment gives the excess charge

        Q_x = int_0^inf (I(t) - V/Z(0)) dt = lim_{s->0} V (1/Z(s) - 1/Z(0)) / s = -V Z'(0) / Z(0)^2  [C/m^2],

    Z'(0) = Im Z(omega) / omega + O(omega^2). Backward Euler (fixed dt = tau/50 to 2 tau) integrates it
    exactly: sum_k dt (I_k - I_inf) of a linear system is the exact integral once the state is steady (the
    steps sum to M (u_N - u_0) = K^-1 ...), so the check is on the model, not the steps. Asserted: the last
    current is V / (L rho_eon) to 1e-6 (the DC end of (e)); Q_x = -V Z'(0)/Z(0)^2 to 1e-3 for eps_r = 3.
    For the electroneutral model (the Jamnik-Maier line with ion-blocking ends, Z(s) = (L rho_eon) [1 - t_ion
    + t_ion tanh(k L/2) / (k L/2)], k^2 = s C_chem (rho_ion + rho_eon): Z'(0) = -C_chem L^3 rho_eon^2 / 12)
    the same integral is Q_x = C_chem L V / 12 (asserted 1e-3): the charge stored in the chemical
    capacitance by the DC stoichiometry polarisation. The full-Poisson Q_x exceeds it by O(lambda_D/L)
    (the double layers' charge; recorded)."""
    meshdata, length, tau, rho_eon, capacitance = _step_slab(comm)
    dt, t_end, dc = tau / 50, 2 * tau, STEP / (length * rho_eon)
    neutral = MixedConductorProblem(meshdata, MATERIAL, temperature=T, oxygen_pressure=PRESSURE,
                                    conditions=_step_contacts(STEP))
    series = []
    neutral.run(t_end, dt, scheme="bdf1", dt_max=dt, on_step=lambda t, step: series.append(neutral.current("xmin")))
    closed_form = capacitance * length * STEP / 12
    excess_neutral = dt * np.sum(np.array(series) - dc)
    assert abs(excess_neutral / closed_form - 1) < 1e-3, excess_neutral / closed_form

    eps_r = 3.0
    port_problem = miec_poisson_problem(meshdata, MATERIAL, temperature=T, oxygen_pressure=PRESSURE,
                                        relative_permittivity=eps_r, conditions=_step_contacts(0.0),
                                        recombination_rate=1e10)
    port_problem.solve_steady(continuation_steps=2)
    omega = 1e-3 / tau
    Z = impedance_spectrum(contact_port(port_problem, "xmin"), [omega / (2 * np.pi)], method="direct").area_specific[0]
    oracle = -STEP * (Z.imag / omega) / Z.real ** 2
    problem, currents = _poisson_step(meshdata, eps_r, t_end, dt, "bdf1")
    current = np.array(currents["xmin"].currents[1:])
    excess = float(np.dot(np.diff(currents["xmin"].times), current - STEP / Z.real))
    numbers.record("excess_charge_C_m2", excess)
    numbers.record("excess_charge_oracle_C_m2", oracle)
    numbers.record("electroneutral_excess_charge_C_m2", excess_neutral)
    numbers.record("last_current_A_m2", current[-1])
    assert abs(current[-1] / dc - 1) < 1e-6, current[-1] / dc
    assert abs(excess / oracle - 1) < 1e-3, excess / oracle
    assert excess / closed_form - 1 < 30 * problem.debye_length() / length


def test_transient_conservation(comm, numbers):
    """(h) A large step (psi_el = 50 mV at x = 0, 0.58 V_T) of the closed slab of (b) (both contacts
    ion-blocking: no vacancy enters or leaves), BDF2 with the local error control of ln n at every node
    (error_tolerance 1e-3) to t = tau. Oracles, after every step: the vacancies' amount int v dx stays its
    initial value to 1e-10 (relative; the storage is tested with test functions that sum to 1, and the
    amount is integrated with the same quadrature); Gauss's law, the charges of the two contacts
    (``charge_form``, eps dphi/dn) sum to minus the space charge int rho dx (``total_charge``) to 1e-8 of
    the contact's charge, and the terminal currents into the two contacts cancel to 1e-8 (relative): the
    interior rows, which sum with the contacts' to these identities, hold to the Newton tolerance (measured
    3.5e-9 and 2.1e-9, in the first, short steps; ~1e-12 later). Those residuals are asserted, not
    recorded: at the Newton tolerance they depend on the partition (1 and 2 ranks: 3.4722e-9, 3.4723e-9)."""
    meshdata, length, tau, _, _ = _step_slab(comm)
    amounts, gauss, currents_sum = [], [], []
    problem = miec_poisson_problem(meshdata, MATERIAL, temperature=T, oxygen_pressure=PRESSURE,
                                   relative_permittivity=30.0, conditions=_step_contacts(0.05),
                                   recombination_rate=1e10)
    charges = [problem.charge_form(face) for face in ("xmin", "xmax")]

    def on_step(t, recorders):
        amounts.append(problem.amount("vacancy"))
        into, out = (recorders[f].currents[-1] for f in ("xmin", "xmax"))
        if into is not None:  # after a step (at the start the state is not yet solved at the applied voltage)
            q = [global_integral(c, comm) for c in charges]
            gauss.append((q[0] + q[1] + problem.total_charge()) / abs(q[0]))
            currents_sum.append((into + out) / abs(into))

    from femiec.problems.miec_poisson import run_transient

    records = run_transient(problem, tau, tau / 1e4, scheme="bdf2", error_tolerance=1e-3, on_step=on_step)
    drift = np.abs(np.array(amounts) / amounts[0] - 1)
    numbers.record("vacancy_amount_mol_m2", amounts[-1])
    numbers.record("steps", len(records["xmin"].times) - 1)
    numbers.record("largest_relative_drift", drift.max())
    assert drift.max() < 1e-10, drift.max()
    assert np.abs(gauss).max() < 1e-8, np.abs(gauss).max()
    assert np.abs(currents_sum).max() < 1e-8, np.abs(currents_sum).max()


# (i) the space-charge layer of (c) charged from equilibrium: CASE with a [time] table (backward Euler)
TRANSIENT_CASE = CASE + """
[time]
t_end = 1.0e-3
dt = 1.0e-9
scheme = "bdf1"
error_tolerance = 1.0e-3
outputs = 4
"""


def test_poisson_transient_case(tmp_path_factory, comm, numbers):
    """(i) `femiec run` of a full-Poisson case with ``[time]``: the blocking contact of (c) stepped to 0.1 V at
    t = 0 from equilibrium (vacancies and holes drain from the layer to the bulk contact 150 nm away,
    t_end = 1 ms = 20 L^2/D_v, steps by the error of ln n, 1e-3). Outputs: current.csv/png (a row per step,
    the contacts' terminal currents and potentials), the four fields, summary.json. Oracles: the final
    charge on the blocking contact is the Grahame value of (a) to 1e-3 (the transient ends in the steady
    layer); the terminal current of a blocking contact is the rate of its charge (no carrier crosses it:
    the species rows tested with its indicator turn the conduction term into minus the rate of the
    space charge it weights), so with backward Euler the charge passed, sum_k dt_k I_k, is the final
    charge to 1e-8; the charges passed through the two contacts cancel (1e-9 relative; measured 1.3e-10)."""
    import csv
    import json

    from femiec.cli import main

    tmp = comm.bcast(tmp_path_factory.mktemp("miec_poisson_transient") if comm.rank == 0 else None)
    if comm.rank == 0:
        (tmp / "case.toml").write_text(TRANSIENT_CASE)
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    out = tmp / "out"
    summary = json.loads((out / "summary.json").read_text())
    for name in ("current.csv", "current.png", "potential.bp", "concentration_vacancy.bp",
                 "concentration_electron.bp", "concentration_hole.bp"):
        assert (out / name).exists(), name
    with (out / "current.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["time_s", "current_xmin_A", "potential_xmin_V", "current_xmax_A", "potential_xmax_V"]
    assert len(rows) - 1 == summary["solver"]["steps"] and float(rows[1][0]) == 1e-9
    assert float(rows[-1][0]) == 1e-3 and float(rows[-1][2]) == 0.1
    faces = summary["derived"]["poisson"]["faces"]
    oracle = EPS_R * VACUUM_PERMITTIVITY * np.sqrt(_field_squared(0.1))
    charge = faces["xmin"]["charge_density_C_m2"]
    assert abs(charge / oracle - 1) < 1e-3, charge / oracle
    assert abs(faces["xmin"]["charge_passed_C"] / charge - 1) < 1e-8
    assert abs(faces["xmin"]["charge_passed_C"] + faces["xmax"]["charge_passed_C"]) < 1e-9 * charge
    numbers.record("charge_density_C_m2", charge)
    numbers.record("steps", summary["solver"]["steps"])


def test_poisson_transient_with_study_refused(tmp_path):
    """(i) ``[time]`` and ``[study]`` together stay refused with ``electrostatics = "poisson"`` (the study
    linearises about the steady state): one InputError naming ``time``."""
    from femiec.config import load_case
    from femiec.errors import InputError

    path = tmp_path / "case.toml"
    path.write_text(TRANSIENT_CASE + '\n[study]\nkind = "impedance"\nelectrode = "xmax"\n')
    with pytest.raises(InputError) as error:
        load_case(path)
    assert error.value.key == "time", error.value
