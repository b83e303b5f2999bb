"""Resolved electrode with Cahn–Hilliard particles (``particle_model = "cahn_hilliard"``, issue 21).

Geometry: a 1D-like voxel cell (68 x 1 x 1 voxels): 4 voxels of electrolyte (separator at x = 0) in front
of a box particle of length L = 32 ell (64 voxels, h = ell / 2) reacting on its face to the electrolyte and
held at phi_s = 0 at x = xmax. Regular solution as tests/verification/test_intercalation.py: Omega = 3 R T,
ell = sqrt(kappa / R T) = 10 nm, c_max = 2.29e4 mol/m^3, V0 = 3.42 V, Butler–Volmer k0 = 1e-6 mol/(m^2 s);
solid diffusivity D = 1e-17 m^2/s (L^2 / D = 1e4 s, so the particle is filled 670 times slower than
lithium crosses it and the surface flux seeds the phase separation).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mpi4py import MPI

from femiec.analytic import intercalation as ic
from femiec.analytic.cahn_hilliard import binodal
from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.errors import InputError
from femiec.problems.electrode import ElectrodeProblem

T = 298.15
RT = GAS_CONSTANT * T
ELL, OMEGA, C_MAX, V0, K0, D = 1e-8, 3 * RT, 2.29e4, 3.42, 1e-6, 1e-17
N_PORE, N_ACTIVE, SECTION = 4, 64, 1e-7  # voxels, voxels, m (the y and z size of a voxel)
MATERIAL = {"interaction_energy": OMEGA, "gradient_coefficient": RT * ELL ** 2, "standard_potential": V0,
            "rate_constant": K0}
ACTIVE = {"max_concentration": C_MAX, "diffusivity": D, "conductivity": 1e7, "initial_stoichiometry": 0.04,
          "stoichiometry_window": (0.04, 0.96)}
FLUX = 1e-3 * K0  # mol/(m^2 s) into the particle


def _slab(comm, particle_model="cahn_hilliard", **options):
    from femiec.meshing.voxel import voxel_mesh

    image = np.zeros((N_PORE + N_ACTIVE, 1, 1), dtype=np.uint8)
    image[N_PORE:] = 1
    meshdata = voxel_mesh(image, voxel_size=(32 * ELL / N_ACTIVE, SECTION, SECTION),
                          phase_names={0: "pore", 1: "lfp"}, comm=comm)
    material = {"cahn_hilliard": MATERIAL} if particle_model == "cahn_hilliard" else {}
    # the currents are ~1e-19 A: the residual of the first iterate lies below the default absolute floor
    # snes_atol = 1e-13, so only the update test may end Newton
    return ElectrodeProblem(meshdata, electrolyte_regions=["pore"], active_regions=["lfp"], separator=["xmin"],
                            collector=["xmax"], temperature=T, active=ACTIVE, particle_model=particle_model,
                            petsc_options={"snes_atol": 0.0}, **material, **options)


_RUNS = {}


def _discharge(comm):
    """The slab discharged at the inward flux FLUX through the whole stoichiometry window (BDF2, local error
    control 0.5 mV); per accepted step: (mean x, V, lowest and highest nodal x). Cached per communicator size."""
    if comm.size not in _RUNS:
        problem = _slab(comm)
        start = problem.lithium_in_solid()
        states = []

        def on_step(record):
            x = problem.u[problem.index("concentration_solid")].x.array
            n = problem.spaces[problem.index("concentration_solid")].dofmap.index_map.size_local
            lo = comm.allreduce(float(x[:n].min()) if n else np.inf, op=MPI.MIN)
            hi = comm.allreduce(float(x[:n].max()) if n else -np.inf, op=MPI.MAX)
            states.append((record.stoichiometry, record.voltage, lo, hi))

        reason = problem.run(current=FARADAY * FLUX * SECTION ** 2, scheme="bdf2", error_tolerance=5e-4,
                             dt_max=1e6, voltage_min=3.0, on_step=on_step)
        _RUNS[comm.size] = (problem, start, reason, np.array(states))
    return _RUNS[comm.size]


@pytest.mark.mpi
def test_electrode_ch_particle_sits_on_the_plateau_while_it_phase_separates(comm, numbers):
    """Oracle: a particle holding two phases sits on the plateau of the regular solution, V0 - g'(x_a)/F = V0
    (femiec.analytic.intercalation.plateau_voltage: the common tangent is horizontal at mu = 0), shifted by the
    Butler–Volmer overpotential of the lithium-rich surface (x = x_b, mu = 0, alpha = 1/2):

        V = V0 - (2 R T / F) asinh(j / (2 k0 (1 - x_b)))       (-0.37 mV at j = 1e-3 k0)

    The electrolyte's losses are ~1e-10 V; the rest is the diffusion overpotential of the growing lithium-rich
    layer, j d / (c_max M(x_b)) <= 25.7 mV / (670 x_b (1 - x_b)) = 0.6 mV. So |V - plateau| < 1 mV at every
    step while 0.3 < x < 0.7, where the particle holds both phases (lowest nodal x within 0.02 of x_a =
    0.0707, highest within 0.02 of x_b); before that the homogeneous particle follows V0 - g'(x)/F through the
    spinodal (more than 10 mV below V0). The run ends at the top of the stoichiometry window."""
    problem, _, reason, states = _discharge(comm)
    x_a, x_b = binodal(OMEGA, RT)
    plateau = ic.plateau_voltage(OMEGA, RT, V0) - 2 * RT / FARADAY * np.arcsinh(FLUX / (2 * K0 * (1 - x_b)))
    middle = states[(states[:, 0] > 0.3) & (states[:, 0] < 0.7)]
    # the voltages themselves: their differences from the plateau (~1e-4 V) would magnify the partition's
    # Newton-tolerance differences (~1e-10 V) to 5e-8 relative
    numbers.record("voltages_on_the_plateau_V", middle[:, 1])
    numbers.record("lowest_voltage_V", float(states[:, 1].min()))
    assert reason == "stoichiometry_window"
    assert len(middle) >= 3
    assert np.max(np.abs(middle[:, 1] - plateau)) < 1e-3
    assert np.all(middle[:, 2] < x_a + 0.02) and np.all(middle[:, 3] > x_b - 0.02)
    assert states[:, 1].min() < V0 - 0.01  # the spinodal excursion of the homogeneous particle


@pytest.mark.mpi
def test_electrode_ch_particle_conserves_lithium(comm, numbers):
    """Oracle: lithium enters the particle only through the reaction, so F (N_Li(t) - N_Li(0)) equals the
    charge passed int I dt (discharge positive) to 1e-9 relative, and int_Gamma i dS = -I."""
    problem, start, _, _ = _discharge(comm)
    conservation = FARADAY * (problem.lithium_in_solid() - start) / problem.charge_passed - 1
    # the values, not their round-off-sized mismatch (which differs between rank counts)
    numbers.record("lithium_change_mol", problem.lithium_in_solid() - start)
    numbers.record("charge_passed_C", problem.charge_passed)
    assert abs(conservation) < 1e-9, conservation
    assert problem.total_reaction_current() / problem.applied_current == pytest.approx(-1, abs=1e-9)
    soc = problem.particle_stoichiometry()
    assert list(soc) == [1] and soc[1] == pytest.approx(problem.mean_stoichiometry(), rel=1e-12)


@pytest.mark.mpi
def test_electrode_ch_output_fields_and_checkpoint(comm, tmp_path_factory):
    """The chemical potential is an output field in J/mol (mu = R T x its unknown), the initial state is the
    homogeneous one (mu = g'(x0)), and a checkpoint restores both fields."""
    from femiec.analytic.cahn_hilliard import potential

    directory = Path(comm.bcast(str(tmp_path_factory.mktemp("checkpoint")) if comm.rank == 0 else None))
    problem = _slab(comm)
    fields = problem.output_fields()
    mu, unit = fields["chemical_potential_solid"]
    assert unit == "J/mol"
    assert np.allclose(mu.x.array, potential(0.04, OMEGA, RT), rtol=1e-12, atol=0)
    problem.set_current(FARADAY * FLUX * SECTION ** 2)
    assert problem.voltage() == pytest.approx(float(ic.open_circuit_voltage(0.04, OMEGA, RT, V0)), abs=1e-12)
    assert problem.step(1e4).converged
    problem._accept(1e4)
    problem.checkpoint(directory)
    again = _slab(comm)
    again.restart(directory)
    for a, b in zip(problem.u, again.u):
        assert np.array_equal(a.x.array, b.x.array)


CUBE_MATERIAL = {"interaction_energy": 3 * RT, "gradient_coefficient": RT * 1e-12, "standard_potential": 3.9,
                 "rate_constant": 2e-5}


def _cube_run(comm, n, preset, **options):
    """Three 1C steps of 60 s (backward Euler, then BDF2) on an 8 um cube of n^3 voxels: a 6 x 6 x 6 um
    particle behind 2 um of electrolyte, 1 um from the y and z faces (interface length 1 um). Returns the
    voltages and the (Newton, Krylov) iterations of each step."""
    from femiec.meshing.voxel import voxel_mesh

    image = np.zeros((n, n, n), dtype=np.uint8)
    k = n // 8
    image[2 * k:, k:7 * k, k:7 * k] = 1
    meshdata = voxel_mesh(image, voxel_size=8e-6 / n, phase_names={0: "pore", 1: "nmc"}, comm=comm)
    problem = ElectrodeProblem(meshdata, electrolyte_regions=["pore"], active_regions=["nmc"],
                               separator=["xmin"], collector=["xmax"], temperature=T,
                               active={"initial_stoichiometry": 0.05, "stoichiometry_window": (0.05, 0.95)},
                               particle_model="cahn_hilliard", cahn_hilliard=CUBE_MATERIAL, preset=preset, **options)
    problem.run(c_rate=1.0, t_end=180.0, dt=60.0, dt_max=60.0, grow=1.0)
    assert len(problem.records) == 4
    return (np.array([r.voltage for r in problem.records]),
            np.array([(r.newton_iterations, r.krylov_iterations) for r in problem.records[1:]]))


@pytest.mark.mpi
def test_electrode_ch_fieldsplit_preset_keeps_the_krylov_count_bounded(comm, numbers):
    """With ``preset = "fieldsplit"`` and ``pair_preconditioner = "schur"`` the (c_s, mu) pair is one split,
    a nested Schur-complement fieldsplit that eliminates mu (femiec.solvers.presets.schur_pair_split): on an
    8^3-voxel cell (a 6 x 6 x 6-voxel particle behind 2 voxels of electrolyte, 1 um voxels, interface length
    1 voxel) three 1C steps of 60 s converge with at most 150 Krylov iterations per step and the voltages
    of the direct solver to 1e-9 V. Measured: 113, 72, 75 serial (253, 149, 158 with the pair's fields as
    two AMG splits of the sweep)."""
    direct, _ = _cube_run(comm, 8, "direct")
    voltages, iterations = _cube_run(comm, 8, "fieldsplit", pair_preconditioner="schur")
    numbers.record("voltages", voltages)
    assert 0 < iterations[:, 1].max() <= 150
    assert np.max(np.abs(direct - voltages)) < 1e-9


@pytest.mark.mpi
def test_electrode_ch_block_preconditioner_gives_the_direct_voltages(comm, numbers):
    """The default pair preconditioner of the fieldsplit preset, the block factorisation of
    femiec.solvers.cahn_hilliard_pc (``pair_preconditioner = "block"``), on the 8^3 cell of the Schur test:
    the voltages of the direct solver to 1e-9 V (Newton's update tolerance 1e-9 of x and phi / V_T; measured
    4e-15 V) with at most 80 Krylov iterations per step (measured 48, 32, 32 serial, 62, 41, 40 on 2 ranks;
    Schur: 113, 72, 75 serial)."""
    direct, _ = _cube_run(comm, 8, "direct")
    voltages, iterations = _cube_run(comm, 8, "fieldsplit")
    numbers.record("voltages", voltages)
    assert 0 < iterations[:, 1].max() <= 80
    assert np.max(np.abs(direct - voltages)) < 1e-9


@pytest.mark.mpi
def test_electrode_ch_block_preconditioner_iterations_do_not_grow_with_the_mesh(comm):
    """The block preconditioner's Krylov iterations per Newton iteration on the 8 um cube at 16^3 voxels are
    within 1.3 times those at 8^3 (the same particle, half the voxel; counts, not times). Measured serial:
    8.6 at 8^3, 9.7 at 16^3; the Schur pair split takes 20, 32.5:
    benchmarks/bench_electrode_ch_pc.py, docs/cahn_hilliard.md."""
    per_newton = {}
    for n in (8, 16):
        _, iterations = _cube_run(comm, n, "fieldsplit")
        per_newton[n] = iterations[:, 1].sum() / iterations[:, 0].sum()
    assert per_newton[16] <= 1.3 * per_newton[8], per_newton


def test_electrode_ch_problem_refusals(comm):
    """Refused: the Cahn–Hilliard model without its table, a table with the Fickian model, a gradient
    coefficient per axis of the wrong length, a missing key of the table, an unknown pair preconditioner, a
    BDF3 run (the pair's block preconditioner takes the BDF2 rate)."""
    with pytest.raises(InputError, match="model.cahn_hilliard"):
        ElectrodeProblem(_mesh(comm), electrolyte_regions=["pore"], active_regions=["lfp"], active=ACTIVE,
                         particle_model="cahn_hilliard")
    with pytest.raises(InputError, match="model.cahn_hilliard"):
        ElectrodeProblem(_mesh(comm), electrolyte_regions=["pore"], active_regions=["lfp"], active=ACTIVE,
                         cahn_hilliard=MATERIAL)
    with pytest.raises(InputError, match="model.cahn_hilliard.gradient_coefficient"):
        ElectrodeProblem(_mesh(comm), electrolyte_regions=["pore"], active_regions=["lfp"], active=ACTIVE,
                         particle_model="cahn_hilliard", cahn_hilliard={**MATERIAL, "gradient_coefficient": [1e-13] * 2})
    with pytest.raises(InputError, match="model.cahn_hilliard.rate_constant"):
        ElectrodeProblem(_mesh(comm), electrolyte_regions=["pore"], active_regions=["lfp"], active=ACTIVE,
                         particle_model="cahn_hilliard",
                         cahn_hilliard={k: v for k, v in MATERIAL.items() if k != "rate_constant"})
    with pytest.raises(InputError, match="solver.pair_preconditioner"):
        ElectrodeProblem(_mesh(comm), electrolyte_regions=["pore"], active_regions=["lfp"], active=ACTIVE,
                         particle_model="cahn_hilliard", cahn_hilliard=MATERIAL, pair_preconditioner="ilu")
    problem = ElectrodeProblem(_mesh(comm), electrolyte_regions=["pore"], active_regions=["lfp"], active=ACTIVE,
                               particle_model="cahn_hilliard", cahn_hilliard=MATERIAL)
    with pytest.raises(InputError, match="model.discharge.scheme"):
        problem.run(c_rate=0.1, scheme="bdf3", error_tolerance=5e-4)
    assert problem.time == 0.0 and len(problem.records) == 0


def _mesh(comm):
    from femiec.meshing.voxel import voxel_mesh

    image = np.zeros((4, 2, 2), dtype=np.uint8)
    image[2:] = 1
    return voxel_mesh(image, voxel_size=1e-7, phase_names={0: "pore", 1: "lfp"}, comm=comm)


def _model(**changes):
    return {"kind": "electrode", "electrolyte_regions": ["pore"], "active_regions": ["lfp"],
            "particle_model": "cahn_hilliard", "cahn_hilliard": dict(MATERIAL), "active_material": dict(ACTIVE),
            "discharge": {"c_rate": 0.1, "voltage_min": 3.3}, **changes}


@pytest.mark.parametrize("changes, key", [
    ({"cahn_hilliard": None}, "model.cahn_hilliard"),
    ({"particle_model": "fickian"}, "model.cahn_hilliard"),
    ({"particle_model": "spectral"}, "model.particle_model"),
    ({"cahn_hilliard": {**MATERIAL, "scheme": "implicit"}}, "model.cahn_hilliard.scheme"),
    ({"cahn_hilliard": {k: v for k, v in MATERIAL.items() if k != "interaction_energy"}},
     "model.cahn_hilliard.interaction_energy"),
    ({"cahn_hilliard": {**MATERIAL, "interaction_energy": -1.0}}, "model.cahn_hilliard.interaction_energy"),
    ({"cahn_hilliard": {**MATERIAL, "rate_law": "ciet"}}, "model.cahn_hilliard.reorganization_energy"),
    ({"active_material": {**ACTIVE, "exchange_current_density": 2.0}}, "model.active_material.exchange_current_density"),
    ({"discharge": {"c_rate": 0.1, "voltage_min": 3.5}}, None),
])
def test_electrode_ch_case_refusals(changes, key):
    """A [model] section with particle_model = "cahn_hilliard" is refused naming the key: a missing or
    superfluous [model.cahn_hilliard] table, a missing, unknown or out-of-range key in it, a Fickian-only key
    of the active material; the cut-off must lie below the regular solution's V_eq(x0) = 3.4307 V (checked
    with the mesh: femiec.problems.electrode_case.check_section)."""
    from femiec.models.electrode import ElectrodeModel
    from femiec.problems.electrode_case import check_section

    model = {k: v for k, v in _model(**changes).items() if v is not None}
    if key is None:
        with pytest.raises(InputError, match="model.discharge.voltage_min"):
            check_section(ElectrodeModel.parse(model, "model"), _mesh(MPI.COMM_SELF))
        return
    with pytest.raises(InputError) as error:
        ElectrodeModel.parse(model, "model")
    assert error.value.key == key, str(error.value)


DEMO = Path(__file__).resolve().parents[2] / "demos" / "nmc_electrode" / "case_12.toml"


def demo_cahn_hilliard_case(gradient_coefficient: float) -> tuple[str, str]:
    """(case text, [model.cahn_hilliard] table) of the NMC demo case (DEMO) on an 8^3 crop, with the shared
    image's absolute path, particle_model = "cahn_hilliard" and the Fickian-only exchange_current_density
    removed; the table: Omega = 3 R T, kappa ``gradient_coefficient`` [J m^2/mol], V0 = 3.9 V, k0 = 2e-5."""
    text = DEMO.read_text().replace("crop = [[0, 12], [0, 12], [0, 12]]", "crop = [[0, 8], [0, 8], [0, 8]]")
    text = text.replace('file = "../../../shared/data', f'file = "{DEMO.parents[2].parent}/shared/data')
    lines = [line for line in text.splitlines() if not line.startswith("exchange_current_density")]
    text = "\n".join(lines).replace("[model.electrolyte]", 'particle_model = "cahn_hilliard"\n\n'
                                    "[model.electrolyte]")
    table = (f"\n[model.cahn_hilliard]\ninteraction_energy = 7436.0\ngradient_coefficient = {gradient_coefficient!r}\n"
             "standard_potential = 3.9\nrate_constant = 2e-5\n")
    return text, table


@pytest.mark.skipif(not (DEMO.parents[2].parent / "shared" / "data" / "nmc_electrode_256.tiff").is_file(),
                    reason="the shared NMC image is not there")
def test_validate_accepts_a_cahn_hilliard_case(tmp_path, capsys):
    """`femiec validate` of the demo case on an 8^3 crop with particle_model = "cahn_hilliard" and its table
    (the Fickian-only exchange_current_density removed) answers ok; without the table it names the key."""
    from femiec.cli import main

    text, table = demo_cahn_hilliard_case(gradient_coefficient=2.48e-13)
    (tmp_path / "case.toml").write_text(text + table)
    assert main(["validate", str(tmp_path / "case.toml")]) == 0
    assert capsys.readouterr().out.startswith("ok: ")
    (tmp_path / "bad.toml").write_text(text)
    assert main(["validate", str(tmp_path / "bad.toml")]) != 0
    assert "model.cahn_hilliard" in capsys.readouterr().err
