"""The electrochemical-potential (quasi-Fermi) block preconditioner of the Nernst–Planck–Poisson Newton
system (``preset = "quasi_fermi"``, femiec.solvers.quasi_fermi_pc).

Case: a 200 nm box of a 1:1 electrolyte (D = 1e-9 m^2/s, log-concentration unknowns, P1 tetrahedra), the
potential V_T at x = 0 and 0 at x = L, both concentrations fixed at c0 at x = L (the benchmark of
benchmarks/bench_npp.py). The Debye length lambda_D = sqrt(eps R T / (2 F^2 c0)) is set by c0 to
lambda_D / L = 1e-1 .. 1e-4.

(a) Oracle: the preconditioner changes the linear solves, not the problem: the steady state equals the
    direct (MUMPS) solve's to 1e-8 in every dimensionless unknown, with the same Newton iterations. Its
    Krylov iterations per Newton iteration stay at most 20 and within a factor 1.6 of each other over the
    four Debye lengths (measured on 8^3 cubes: 9.8-10.2 serially, 11.3-16.3 on 2 ranks; on the
    benchmark's 16^3-48^3 cubes 13-17.7, benchmarks/README.md), while the (c, phi) fieldsplit takes more
    than 5 times as many at lambda_D/L = 1e-3 (its Poisson block misses the screening sum_i z_i^2 c_i,
    which the Schur complement of the electrochemical-potential variables holds).
(b) Oracle: transient steps from the uniform state (backward Euler from the first step, dt = 1e-4 and 1e-2
    of L^2/D) equal the direct solver's to 1e-8, with no step redone.
(c) Refused inputs name their key before any solve.
"""
from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI

from femiec.constants import thermal_voltage
from femiec.errors import InputError
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import FixedConcentration, FixedPotential
from femiec.problems.species import Species
from npp_support import box_mesh

SIDE, EPS_R, T, D = 200e-9, 78.5, 298.15, 1e-9
DEBYE_AT_1 = 9.6e-9  # lambda_D [m] at c0 = 1 mol/m^3 (eps_r 78.5, 298.15 K)


def _problem(meshdata, preset, ratio=0.05, variables="log", damkoehler=None):
    """The module's case; with ``damkoehler`` Da the pair also recombines and is generated in the bulk,
    s = k (c0^2 - c+ c-) for both species with k = Da D / (c0 L^2)."""
    c0 = (DEBYE_AT_1 / (ratio * SIDE)) ** 2
    species = [Species("cation", 1, D, c0), Species("anion", -1, D, c0)]
    conditions = [FixedPotential("xmin", thermal_voltage(T)), FixedPotential("xmax", 0.0),
                  FixedConcentration("cation", "xmax", c0), FixedConcentration("anion", "xmax", c0)]
    sources = None
    if damkoehler is not None:
        rate = damkoehler * D / (c0 * SIDE ** 2)

        def recombination(c, temperature):
            return rate * (c0 ** 2 - c["cation"] * c["anion"])

        sources = {"cation": recombination, "anion": recombination}
    return NernstPlanckPoisson(meshdata, species, conditions=conditions, temperature=T, relative_permittivity=EPS_R,
                               variables=variables, preset=preset, sources=sources)


def _largest(comm, values) -> float:
    return comm.allreduce(float(np.max(np.abs(values))) if values.size else 0.0, op=MPI.MAX)


@pytest.mark.mpi
def test_steady_solves_equal_direct_with_iterations_flat_in_the_debye_length(comm, numbers):
    """(a) of the module docstring."""
    meshdata = box_mesh(comm, [8, 8, 8], [SIDE] * 3)
    per_newton = {}
    for ratio in (1e-1, 1e-2, 1e-3, 1e-4):
        solves = {}
        for preset in ("direct", "quasi_fermi") + (("fieldsplit",) if ratio == 1e-3 else ()):
            problem = _problem(meshdata, preset, ratio)
            records = problem.solve_steady()
            newton = sum(r["newton_iterations"] for r in records)
            solves[preset] = (problem.u.x.array.copy(), newton, sum(r["krylov_iterations"] for r in records))
        assert _largest(comm, solves["quasi_fermi"][0] - solves["direct"][0]) < 1e-8
        assert solves["quasi_fermi"][1] == solves["direct"][1]
        per_newton[ratio] = solves["quasi_fermi"][2] / solves["quasi_fermi"][1]
        if "fieldsplit" in solves:
            assert solves["fieldsplit"][2] / solves["fieldsplit"][1] > 5 * per_newton[ratio]
        numbers.record(f"newton_iterations_{ratio:g}", solves["quasi_fermi"][1])
    counts = np.array(list(per_newton.values()))
    assert counts.max() <= 20 and counts.max() <= 1.6 * counts.min(), per_newton


@pytest.mark.mpi
@pytest.mark.parametrize("fraction", [1e-4, 1e-2])
def test_transient_steps_equal_direct(comm, fraction):
    """(b) of the module docstring."""
    meshdata = box_mesh(comm, [6, 6, 6], [SIDE] * 3)
    dt = fraction * SIDE ** 2 / D
    states = {}
    for preset in ("direct", "quasi_fermi"):
        problem = _problem(meshdata, preset)
        records = problem.run(3 * dt, dt=dt, dt_max=dt, scheme="bdf1")
        assert len(records) == 3 and all(r["rejected_attempts"] == 0 for r in records)
        states[preset] = problem.u.x.array.copy()
    assert _largest(comm, states["quasi_fermi"] - states["direct"]) < 1e-8


@pytest.mark.mpi
def test_reacting_species_equal_direct(comm):
    """(a) with a homogeneous reaction that couples the species (recombination and generation of the pair,
    Damkoehler number 100): the steady state equals the direct solver's to 1e-8 with the same Newton
    iterations; the species share one V-cycle and the back-substitution, and the Krylov iterations per
    Newton iteration stay at most 20 (measured on 8^3 cubes: 5.7 serially, 7.7 on 2 ranks; with one
    V-cycle per species and no back-substitution, as for species that do not react: 24.3 and 27.3)."""
    meshdata = box_mesh(comm, [8, 8, 8], [SIDE] * 3)
    solves = {}
    for preset in ("direct", "quasi_fermi"):
        problem = _problem(meshdata, preset, damkoehler=100.0)
        records = problem.solve_steady()
        solves[preset] = (problem.u.x.array.copy(), sum(r["newton_iterations"] for r in records),
                          sum(r["krylov_iterations"] for r in records))
    assert _largest(comm, solves["quasi_fermi"][0] - solves["direct"][0]) < 1e-8
    assert solves["quasi_fermi"][1] == solves["direct"][1]
    assert solves["quasi_fermi"][2] / solves["quasi_fermi"][1] <= 20, solves["quasi_fermi"][1:]


def test_the_preconditioner_survives_a_new_linear_solver(comm):
    """(b) After ``release()`` (a new KSP, e.g. to free memory between solves) the Newton solver's PC is still
    the quasi-Fermi one (not the preset's BoomerAMG)."""
    meshdata = box_mesh(comm, [4, 4, 4], [SIDE] * 3)
    problem = _problem(meshdata, "quasi_fermi")
    problem.solve_steady()
    problem.solver.release()
    pc = problem.solver.snes.getKSP().getPC()
    assert pc.getType() == "python" and type(pc.getPythonContext()).__name__ == "QuasiFermiPC"


def test_quasi_fermi_needs_log_concentrations(comm):
    """(c) Concentration unknowns: the electrochemical potentials are not linear in them."""
    meshdata = box_mesh(comm, [2, 2, 2], [SIDE] * 3)
    with pytest.raises(InputError) as error:
        _problem(meshdata, "quasi_fermi", variables="concentration")
    assert error.value.key == "model.variables"


def test_quasi_fermi_case_refusals(tmp_path):
    """(c) In a case file: another model kind (the mixed-conductor membrane demo), or the NPP electrode-slab
    demo with concentration unknowns."""
    from pathlib import Path

    from femiec.config import load_case

    demos = Path(__file__).resolve().parents[2] / "demos"
    membrane = (demos / "mixed_conductor_membrane" / "membrane.toml").read_text() + \
        '\n[solver]\npreset = "quasi_fermi"\n'
    slab = (demos / "electrode_slab" / "case.toml").read_text()
    assert 'preset = "direct"' in slab and 'variables = "log"' in slab
    slab = slab.replace('preset = "direct"', 'preset = "quasi_fermi"')
    for text, key in ((membrane, "solver.preset"), (slab.replace('variables = "log"', 'variables = "concentration"'),
                                                    "model.variables")):
        path = tmp_path / "case.toml"
        path.write_text(text)
        with pytest.raises(InputError) as error:
            load_case(path)
        assert error.value.key == key, error.value
    path.write_text(slab)
    assert load_case(path).solver.preset == "quasi_fermi"
