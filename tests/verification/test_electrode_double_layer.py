"""Double-layer (full Poisson) electrolyte of the electrode model: Gouy–Chapman–Stern equilibrium on a
Debye-resolving mesh with its convergence order, the electroneutral bulk of a planar cell under current,
conservation of anion, lithium and charge, input errors."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.electrochemistry import debye_length, gouy_chapman, gouy_chapman_charge, gouy_chapman_excess
from femiec.constants import FARADAY, thermal_voltage
from femiec.constants import VACUUM_PERMITTIVITY
from femiec.problems.electrode import ElectrodeProblem

T = 298.15
EPS_R, C_STERN, C_REF = 20.0, 0.1, 0.1


def _nodal(problem, field: str, comm):
    """(x, value) of ``field`` (SI) at the distinct node planes x of a column mesh (all ranks)."""
    k = problem.index(field)
    x = problem.spaces[k].tabulate_dof_coordinates()[:, 0]
    values = problem.scales[k] * problem.u[k].x.array
    x, values = np.concatenate(comm.allgather(x)), np.concatenate(comm.allgather(values))
    planes = np.unique(np.round(x, 15))
    return planes, np.array([values[np.abs(x - p) < 1e-15].mean() for p in planes])


def _column(comm, h: float, electrolyte_length: float, active_length: float):
    from femiec.meshing.voxel import voxel_mesh

    n_e, n_a = round(electrolyte_length / h), round(active_length / h)
    image = np.zeros((n_e + n_a, 1, 1), dtype=np.uint8)
    image[n_e:] = 1
    return voxel_mesh(image, voxel_size=h, phase_names={0: "pore", 1: "nmc"}, comm=comm)


def _equilibrium_oracle(problem, electrolyte_length: float, active_length: float) -> dict:
    """Closed-cell equilibrium of the column at zero current (amounts per unit cross-section):

        anion:    c_ref L_e = c_b L_e + Gamma-(c_b, zeta)
        lithium:  c_ref L_e + x0 c_max L_a = c_b L_e + Gamma+(c_b, zeta) + x_s c_max L_a
        eta = 0:  phi_b + V_T ln(c_b / c_ref) = phi_s - U(x_s),   phi_s = 0 (collector)
        Stern:    C_S (phi_s - phi_pzc - phi_b - zeta) = sigma_GC(zeta)

    with the Gouy–Chapman excesses Gamma+- and charge sigma_GC of a semi-infinite diffuse layer (the
    column is 16 Debye lengths long: exp(-16) is below the tolerances)."""
    from scipy.optimize import fsolve

    vt = thermal_voltage(T)
    eps = VACUUM_PERMITTIVITY * EPS_R
    a = problem.active
    x0, c_max, pzc = a.initial_stoichiometry, a.max_concentration, problem.potential_of_zero_charge()

    def state(unknowns):
        log_c, zeta = unknowns
        c_b = C_REF * np.exp(log_c)
        lam = debye_length(eps, T, (c_b, c_b), (1, -1))
        cation, anion = gouy_chapman_excess(c_b, zeta, lam, T)
        x_s = x0 + (C_REF * electrolyte_length - c_b * electrolyte_length - cation) / (c_max * active_length)
        phi_b = -float(problem.ocv(x_s)) - vt * np.log(c_b / C_REF)
        return c_b, lam, anion, x_s, phi_b

    def equations(unknowns):
        c_b, lam, anion, x_s, phi_b = state(unknowns)
        zeta = unknowns[1]
        return [(c_b * electrolyte_length + anion) / (C_REF * electrolyte_length) - 1,
                (C_STERN * (-pzc - phi_b - zeta) - gouy_chapman_charge(zeta, eps, lam, T)) / (C_STERN * vt)]

    solution = fsolve(equations, [0.0, 0.0], xtol=1e-14)
    c_b, lam, _, x_s, phi_b = state(solution)
    return {"c_b": c_b, "zeta": float(solution[1]), "debye": lam, "x_s": x_s, "phi_b": phi_b,
            "voltage": float(problem.ocv(x_s))}


def _relax_to_equilibrium(problem) -> None:
    problem.set_current(0.0)
    for dt in 10.0 ** np.arange(-8, 1):
        stats = problem.step(dt)
        assert stats.converged, stats.reason
        problem._accept(dt)


@pytest.mark.mpi
def test_double_layer_equilibrium_gouy_chapman_stern(comm, numbers):
    """Oracle: Gouy–Chapman diffuse layer behind a Stern layer (Bard & Faulkner, section 13.3; Bazant,
    Thornton & Ajdari 2004), phi(x) - phi_b = 4 V_T artanh(tanh(zeta / (4 V_T)) exp(-d / lambda_D)) at the
    distance d from the interface, with the bulk state (c_b, phi_b, x_s, zeta) of the closed column from
    :func:`_equilibrium_oracle`. Column: 300 nm of 0.1 mol/m^3 electrolyte (lambda_D = 15 nm at c_ref,
    eps_r = 20) on 20 nm of active material; the potential of zero charge is 0.1 V below the initial
    phi_s - phi, so the surface charges positively at zero current until the kinetics are at rest.

    After relaxing to equilibrium (steps of 1e-8 to 1 s; the slowest process, solid diffusion, takes 4e-4 s): on h = 1 nm the potential profile is within
    2e-3 zeta (measured 1.5e-3), zeta within 2e-3, c_b within 1e-3 and the voltage U(x_s) within 2e-4 V
    (measured 9.8e-5 V: the Li reference potential phi + (RT/F) ln c+ is uniform through the discrete
    diffuse layer only to O(h^2)); both errors fall with order >= 1.9 from h = 2 nm to 1 nm (measured 1.97
    and 1.97); the electrolyte's net charge balances the Stern
    charge (1e-10), anion and lithium are conserved to 1e-10 (round-off: in the diffuse layer the drift
    and diffusion fluxes that cancel are about 1e5 times the anion amount per second)."""
    electrolyte_length, active_length = 300e-9, 20e-9
    errors, voltage_errors = {}, {}
    for h in (2e-9, 1e-9):
        meshdata = _column(comm, h, electrolyte_length, active_length)
        problem = ElectrodeProblem(
            meshdata, electrolyte_regions=["pore"], active_regions=["nmc"], temperature=T,
            electrolyte={"concentration": C_REF, "diffusivity": 3e-10, "transference_number": 0.38},
            active={"diffusivity": 1e-12, "conductivity": 100.0},
            double_layer={"relative_permittivity": EPS_R, "stern_capacitance": C_STERN,
                          "potential_of_zero_charge": 4.13 - 0.1}, step_tolerance=1e-12)
        anion0 = problem.salt_in_electrolyte()
        lithium0 = problem.lithium_in_electrolyte() + problem.lithium_in_solid()
        _relax_to_equilibrium(problem)
        oracle = _equilibrium_oracle(problem, electrolyte_length, active_length)
        x, phi = _nodal(problem, "potential_electrostatic", comm)
        _, c_plus = _nodal(problem, "concentration_cation", comm)
        reference, _, _ = gouy_chapman(electrolyte_length - x, oracle["zeta"], oracle["c_b"], oracle["debye"], T)
        errors[h] = float(np.max(np.abs(phi - oracle["phi_b"] - reference)) / oracle["zeta"])
        voltage_errors[h] = abs(problem.voltage() - oracle["voltage"])
        zeta = phi[-1] - phi[0]
        anion = problem.salt_in_electrolyte() / anion0 - 1
        lithium = (problem.lithium_in_electrolyte() + problem.lithium_in_solid()) / lithium0 - 1
        charge = problem.electrolyte_charge() / problem.stern_charge() + 1
        numbers.record(f"h{h:.0e}", [zeta, c_plus[0], problem.voltage(), problem.stern_charge()])
        assert abs(anion) < 1e-10 and abs(lithium) < 1e-10, (anion, lithium)
        assert abs(charge) < 1e-10, charge
    assert errors[1e-9] < 2e-3, errors
    assert zeta / oracle["zeta"] - 1 == pytest.approx(0, abs=2e-3)
    assert c_plus[0] / oracle["c_b"] - 1 == pytest.approx(0, abs=1e-3)
    assert voltage_errors[1e-9] < 2e-4, voltage_errors
    orders = [np.log2(e[2e-9] / e[1e-9]) for e in (errors, voltage_errors)]
    numbers.record("orders", orders)
    assert min(orders) >= 1.9, (errors, voltage_errors, orders)


@pytest.mark.mpi
def test_double_layer_planar_cell_has_an_electroneutral_bulk(comm, numbers):
    """Oracle: the planar cell of test_electrode_separator (porous layer [0, 4] µm, eps = 0.4, b = 1.5;
    free electrolyte [4, 8] µm; active layer [8, 12] µm; 0.5 µm voxels, lambda_D = 0.1 nm unresolved) at 10C
    after 4 steps of 20 s (steady electrolyte). With the anion at rest, N- = 0 gives c = c0 exp(phi F/RT) in
    the electroneutral bulk, and N+ = -2 D+ eps^b grad c = j/F:

        dc/dx = -(1 - t+) j / (F D eps^b)  in the layer,   -(1 - t+) j / (F D)  in the free electrolyte,
        phi_e(b) - phi_e(a) = 2 (RT/F) ln(c(b) / c(a))       (phi_e = phi + (RT/F) ln(c+/c_ref)),

    i.e. the dilute-solution limit, whose conductivity F^2 c (D+ + D-)/(RT) follows c. Checked: slopes and
    drops to 1e-5 on the nodes away from the interface (the lumped charge of the unresolved diffuse layer
    sits on the interface nodes), |c+ - c-| / c below 1e-9 there, the anion amount conserved to 1e-12,
    lithium (electrolyte + solid) gained = charge passed / F to 1e-8, net charge balanced by the Stern
    charge to 1e-8."""
    from femiec.meshing.voxel import voxel_mesh

    h, eps, b, D, t_plus = 0.5e-6, 0.4, 1.5, 3e-9, 0.38
    image = np.zeros((24, 1, 1), dtype=np.uint8)
    image[:8] = 3
    image[16:] = 1
    meshdata = voxel_mesh(image, voxel_size=h, phase_names={0: "pore", 1: "nmc", 3: "separator"}, comm=comm)
    problem = ElectrodeProblem(meshdata, electrolyte_regions=["pore"], active_regions=["nmc"], temperature=T,
                               electrolyte={"diffusivity": D, "transference_number": t_plus},
                               active={"diffusivity": 1e-12, "conductivity": 100.0}, double_layer={},
                               porous_separator={"regions": ["separator"], "porosity": eps,
                                                 "bruggeman_exponent": b}, step_tolerance=1e-12)
    anion0 = problem.salt_in_electrolyte()
    lithium0 = problem.lithium_in_electrolyte() + problem.lithium_in_solid()
    problem.set_current(10 * problem.one_c_current())
    for _ in range(4):
        stats = problem.step(20.0)
        assert stats.converged, stats.reason
        problem._accept(20.0)
    x, c_plus = _nodal(problem, "concentration_cation", comm)
    _, c_minus = _nodal(problem, "concentration_anion", comm)
    _, phi = _nodal(problem, "potential_electrostatic", comm)
    vt = thermal_voltage(T)
    phi_e = phi + vt * np.log(c_plus / 1000.0)
    j = problem.applied_current / (h * h)
    at = lambda position: int(np.argmin(np.abs(x - position)))
    a, m, e = at(0.0), at(4e-6), at(7.5e-6)
    slopes = ((c_plus[m] - c_plus[a]) / 4e-6 / (-(1 - t_plus) * j / (FARADAY * D * eps ** b)) - 1,
              (c_plus[e] - c_plus[m]) / 3.5e-6 / (-(1 - t_plus) * j / (FARADAY * D)) - 1)
    drops = ((phi_e[m] - phi_e[a]) / (2 * vt * np.log(c_plus[m] / c_plus[a])) - 1,
             (phi_e[e] - phi_e[m]) / (2 * vt * np.log(c_plus[e] / c_plus[m])) - 1)
    bulk = np.max(np.abs(c_plus[: e + 1] - c_minus[: e + 1]) / c_plus[: e + 1])
    anion = problem.salt_in_electrolyte() / anion0 - 1
    gained = (problem.lithium_in_electrolyte() + problem.lithium_in_solid() - lithium0) * FARADAY
    lithium = gained / problem.charge_passed - 1
    charge = problem.electrolyte_charge() / problem.stern_charge() + 1
    numbers.record("values", [c_plus[a], c_plus[m], c_plus[e], phi_e[a], phi_e[m], phi_e[e], problem.voltage()])
    assert np.max(np.abs(slopes)) < 1e-5 and np.max(np.abs(drops)) < 1e-5, (slopes, drops)
    assert bulk < 1e-9, bulk
    assert abs(anion) < 1e-12, anion
    assert abs(lithium) < 1e-8, lithium
    assert abs(charge) < 1e-8, charge


def test_double_layer_input_errors(comm):
    """A one-line error naming the key, before any solve."""
    from femiec.errors import InputError

    meshdata = _column(comm, 1e-9, 4e-9, 2e-9)
    build = lambda layer, **electrolyte: ElectrodeProblem(meshdata, electrolyte_regions=["pore"],
                                                           active_regions=["nmc"], double_layer=layer,
                                                           electrolyte=electrolyte or None)
    with pytest.raises(InputError, match=r"model.double_layer.stern_capacitance: -0.1 \(expected a positive"):
        build({"stern_capacitance": -0.1})
    with pytest.raises(InputError, match=r"model.double_layer.relative_permittivity: 'x'"):
        build({"relative_permittivity": "x"})
    with pytest.raises(InputError, match=r"model.double_layer.debye_length"):
        build({"debye_length": 1e-9})
    with pytest.raises(InputError, match=r"model.electrolyte.transference_number: 0.0 \(expected a number in \(0, 1\)"):
        build({}, transference_number=0.0)
    with pytest.raises(InputError, match=r"model.electrolyte.thermodynamic_factor: 1.5"):
        build({}, thermodynamic_factor=1.5)
    with pytest.raises(InputError, match=r"solver.preset: 'fieldsplit' \(expected 'direct' with model.double_layer"):
        ElectrodeProblem(meshdata, electrolyte_regions=["pore"], active_regions=["nmc"], double_layer={},
                         preset="fieldsplit")
