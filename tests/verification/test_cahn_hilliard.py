"""Cahn–Hilliard with the regular-solution free energy (issue 21): binodal, equilibrium interface and its
energy, linear-stability growth and decay, the energy law and lithium conservation, the surface-flux hook.

Parameters: LiFePO4-like c_max, Omega = 3 R T (Omega_c = 2 R T), interface length ell = sqrt(kappa / R T)
= 10 nm, D = 1e-14 m^2/s (time scale ell^2 / D = 10 ms).
"""
from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI

from femiec.analytic import cahn_hilliard as ch
from femiec.errors import InputError
from femiec.meshing import box_mesh
from femiec.problems.cahn_hilliard import CahnHilliardProblem

from cahn_hilliard_support import C_MAX, D, ELL, KAPPA, OMEGA, RT, T
from npp_support import box_mesh as line_mesh



def problem(meshdata, initial, **options):
    return CahnHilliardProblem(meshdata, site_density=C_MAX, interaction_energy=OMEGA, gradient_coefficient=options.pop(
        "kappa", KAPPA), diffusivity=options.pop("D", D), temperature=T, initial=initial, **options)


def global_max(comm, values) -> float:
    return comm.allreduce(float(np.max(values)) if len(values) else -np.inf, op=MPI.MAX)


def test_binodal_common_tangent():
    """Oracle: the common tangent g'(c_a) = g'(c_b) = (g(c_b) - g(c_a)) / (c_b - c_a) of the regular
    solution (checked on the closed-form binodal, ln(c/(1-c)) = (Omega/RT)(2c - 1)), g''= 0 at the spinodal,
    and no phase separation at or below Omega_c = 2 R T."""
    c_a, c_b = ch.binodal(OMEGA, RT)
    g = ch.free_energy_density(np.array([c_a, c_b]), OMEGA, RT)
    slopes = ch.potential(np.array([c_a, c_b]), OMEGA, RT)
    chord = (g[1] - g[0]) / (c_b - c_a)
    assert abs(slopes[0] - chord) < 1e-10 * RT and abs(slopes[1] - chord) < 1e-10 * RT
    assert abs(np.log(c_a / (1 - c_a)) - OMEGA / RT * (2 * c_a - 1)) < 1e-13
    assert c_a == pytest.approx(0.0707201816799, abs=1e-12)
    assert np.all(np.abs(ch.curvature(np.array(ch.spinodal(OMEGA, RT)), OMEGA, RT)) < 1e-10 * RT)
    assert ch.critical_interaction(RT) == 2 * RT
    with pytest.raises(InputError):
        ch.binodal(2 * RT, RT)


@pytest.mark.mpi
def test_equilibrium_interface(comm, numbers):
    """Oracle: the planar equilibrium interface between the binodal phases (femiec.analytic.cahn_hilliard):
    x(c) - x(1/2) = int_{1/2}^c sqrt(kappa / (2 Delta g)) ds and gamma = c_max int sqrt(2 kappa Delta g) dc.

    A smoothed step of mean 1/2 on [0, 16 ell] (no-flux ends; by symmetry the interface sits at 8 ell)
    relaxes by backward-Euler steps growing threefold until the free energy is stationary to 1e-14. The
    excess energy G_h - c_max L g(c_a) (the common tangent is horizontal) matches gamma to 1e-4 on 512
    P1 cells, converging at order 2 (energy error of P1, O(h^2)); the nodes of the profile lie within
    3e-4 ell of x(c) there.
    """
    length = 16 * ELL
    gamma = ch.interfacial_energy(OMEGA, RT, KAPPA, C_MAX)
    c_a, c_b = ch.binodal(OMEGA, RT)
    energy_errors, position_errors = [], []
    for cells in (128, 256, 512):
        p = problem(line_mesh(comm, [cells], [length]), lambda x: 0.5 + 0.4 * np.tanh((x[0] - length / 2) / (2 * ELL)),
                    scheme="implicit", update_tolerance=1e-12)
        dt, energies = 1e-4, [p.free_energy()]
        while len(energies) < 3 or abs(energies[-1] - energies[-2]) > 1e-14 * abs(energies[-1]):
            p.step(dt)
            energies.append(p.free_energy())
            dt *= 3
        excess = p.free_energy() - C_MAX * length * ch.free_energy_density(c_a, OMEGA, RT)
        energy_errors.append(abs(excess / gamma - 1))
        owned = p.space.dofmap.index_map.size_local
        c, x = p.c.x.array[:owned], p.space.tabulate_dof_coordinates()[:owned, 0]
        inside = (c > c_a + 0.02) & (c < c_b - 0.02)
        exact = length / 2 + ch.interface_position(c[inside], OMEGA, RT, KAPPA)
        position_errors.append(global_max(comm, np.abs(x[inside] - exact)) / ELL)
    orders = np.log2(np.array(energy_errors[:-1]) / energy_errors[1:])
    numbers.record("gamma_relative_error", energy_errors)
    numbers.record("profile_position_error_over_ell", position_errors)
    assert energy_errors[-1] < 1e-4
    assert np.all(np.abs(orders - 2) < 0.05), orders
    assert position_errors[-1] < 3e-4 and position_errors[0] > position_errors[1] > position_errors[2]


@pytest.mark.mpi
@pytest.mark.parametrize("mode, dt", [(1, 1e-6), (2, 2e-7)])
def test_linear_stability(comm, numbers, mode, dt):
    """Oracle: sigma(k) = -M0 k^2 (g''(c0) + kappa k^2), M0 = D c0 (1 - c0) / RT, for c0 = 0.45 inside the
    spinodal; mode 1 (k = pi / L = 1/ell, unstable) grows, mode 2 (k = 2/ell > k_c = 1.40/ell) decays.

    A cosine of amplitude 1e-6 on [0, L] (no-flux ends are symmetry planes of cos(k x), k = m pi / L), 256
    P1 cells, 10 convex-splitting steps of dt. Two oracles: (1) exact for the discretisation: the nodal
    cosine is an eigenvector of the P1 mass and stiffness matrices (eigenvalue lambda_h) and one step
    multiplies it by G(lambda_h, dt) (femiec.analytic.cahn_hilliard.convex_splitting_growth_factor): the
    measured rate ln(a_n / a_0) / (n dt) equals ln(G) / dt to 1e-6 (the rest: nonlinear terms O(1e-6) and
    round-off); (2) the continuous sigma(k) to 1e-3: dt and h are small enough that the time error
    dt M0 lambda (RT/(c0(1-c0)) + kappa lambda + 2 Omega) / 2 <= 1.5e-4 and the space error (lambda_h / k^2 - 1
    = (kh)^2 / 12, amplified <= 3x in sigma) <= 1.5e-4.
    """
    from dolfinx import fem

    c0, length, cells, steps = 0.45, np.pi * ELL, 256, 10
    k = mode * np.pi / length
    p = problem(line_mesh(comm, [cells], [length]), lambda x: c0 + 1e-6 * np.cos(k * x[0]), update_tolerance=1e-13)
    shape = fem.Function(p.space)
    shape.interpolate(lambda x: np.cos(k * x[0]))
    amplitude = fem.form((p.c - c0) * shape * p.dx)

    def measure():
        return comm.allreduce(fem.assemble_scalar(amplitude))

    first = measure()
    for _ in range(steps):
        p.step(dt)
    rate = np.log(measure() / first) / (steps * dt)
    discrete = np.log(ch.convex_splitting_growth_factor(ch.p1_laplacian_eigenvalue(k, length / cells), dt, c0,
                                                        OMEGA, RT, KAPPA, D)) / dt
    sigma = ch.growth_rate(k, c0, OMEGA, RT, KAPPA, D)
    numbers.record("rate", rate)
    assert np.sign(sigma) == (1 if mode == 1 else -1)
    assert abs(rate / discrete - 1) < 1e-6
    assert abs(rate / sigma - 1) < 1e-3


def spinodal_mixture(lengths):
    """c(x) = 0.5 + 0.01 sum of five products of cosines (a deterministic 'noise', the same on any partition)."""
    def initial(x):
        c = np.full(x.shape[1], 0.5)
        for m1, m2, m3, phase in ((1, 2, 1, 0.3), (3, 1, 2, 1.1), (2, 5, 0, 2.0), (4, 3, 1, 0.7), (5, 4, 3, 2.9)):
            term = np.cos(m1 * np.pi * x[0] / lengths[0] + phase) * np.cos(m2 * np.pi * x[1] / lengths[1] + phase / 2)
            if len(lengths) == 3:
                term *= np.cos(m3 * np.pi * x[2] / lengths[2] + phase / 3)
            c += 0.01 * term
        return c
    return initial


@pytest.mark.mpi
@pytest.mark.parametrize("dim, cells, dt, grow", [(2, 32, 1e-3, 1.6), (2, 32, 10.0, 1.0), (3, 8, 1e-3, 3.0)])
def test_energy_law_and_conservation(comm, numbers, dim, cells, dt, grow):
    """Oracle: convex splitting is unconditionally energy stable, G(c^{n+1}) <= G(c^n) for every dt
    (Eyre 1998; proof in femiec.forms.cahn_hilliard), and closed walls conserve lithium exactly (each Newton
    direction conserves it, so up to round-off).

    Spinodal decomposition of c0 = 0.5 in a closed box of 24 ell: growing steps from 1 ms (time scale 10
    ms) through phase separation into coarsening; the same with 10 s steps from the start (1000 time
    scales per step); and a 3D box with an anisotropic mobility and gradient energy (tensors, b-axis
    fastest). Every step lowers G (dG <= 1e-12 |G|, the allowance for the Newton tolerance) and the lithium
    stays the same to 1e-12 relative.
    """
    lengths = [24 * ELL] * dim
    tensors = {} if dim == 2 else {"D": np.diag([0.1, 1.0, 0.1]) * D, "kappa": np.diag([2.0, 1.0, 2.0]) * KAPPA}
    p = problem(box_mesh(lengths, [cells] * dim, "triangle" if dim == 2 else "tetrahedron", comm=comm),
                spinodal_mixture(lengths), update_tolerance=1e-12, **tensors)
    energies, lithium = [p.free_energy()], p.lithium()
    for _ in range(12 if dim == 2 else 6):
        p.step(dt)
        energies.append(p.free_energy())
        dt *= grow
    changes = np.diff(energies)
    drift = abs(p.lithium() / lithium - 1)
    numbers.record("free_energy", energies)
    assert np.all(changes <= 1e-12 * np.abs(energies[1:])), changes
    assert energies[-1] < energies[0]
    assert drift < 1e-12
    lo, hi = p._range(p.c)
    assert 0 < lo and hi < 1


@pytest.mark.mpi
def test_fieldsplit_matches_direct(comm):
    """Oracle: the direct (MUMPS) solution. Two steps with the fieldsplit (Schur, BoomerAMG) solver at
    Krylov rtol 1e-10 give the same state to 1e-8."""
    lengths = [24 * ELL] * 2
    meshdata = box_mesh(lengths, [16, 16], "triangle", comm=comm)
    states = []
    for solver in ("direct", "fieldsplit"):
        p = problem(meshdata, spinodal_mixture(lengths), solver=solver, update_tolerance=1e-11)
        for dt in (1e-3, 1e-2):
            p.step(dt)
        states.append(p.c.x.array.copy())
    assert global_max(comm, np.abs(states[0] - states[1])) < 1e-8


@pytest.mark.mpi
@pytest.mark.parametrize("dt", [1e-3, 10.0])
def test_block_preconditioner_mesh_independent(comm, numbers, dt):
    """Oracle: the direct (MUMPS) solution, and the mesh independence of the block preconditioner
    (femiec.solvers.cahn_hilliard_pc: S^ approximates the Schur complement within a factor 2 for every h).

    Two steps of dt (0.1 and 1000 diffusion times ell^2 / D) of the spinodal mixture on 16, 32 and 64 cells
    per side with ``solver="block"`` at Krylov rtol 1e-10: the Krylov iterations per Newton iteration vary by
    at most 1.5x over the meshes (measured 10.7-14 serial, 16-22 on 2 ranks on 32-128 cells, docs) and stay
    below 30, and the state equals the direct solve's to 1e-8 on every mesh.
    """
    lengths = [24 * ELL] * 2
    per_newton, energies = [], []
    for cells in (16, 32, 64):
        meshdata = box_mesh(lengths, [cells, cells], "triangle", comm=comm)
        states = {}
        for solver in ("direct", "block"):
            p = problem(meshdata, spinodal_mixture(lengths), solver=solver, update_tolerance=1e-11)
            newton = krylov = 0
            for _ in range(2):
                stats = p.step(dt)
                newton, krylov = newton + stats.newton_iterations, krylov + stats.krylov_iterations
            states[solver] = p.c.x.array.copy(), p.w.x.array.copy()
        per_newton.append(krylov / newton)
        energies.append(p.free_energy())
        for direct, block in zip(states["direct"], states["block"]):
            assert global_max(comm, np.abs(direct - block)) < 1e-8
    numbers.record("free_energy", energies)
    assert max(per_newton) / min(per_newton) <= 1.5 and max(per_newton) < 30, per_newton


@pytest.mark.mpi
def test_surface_flux_fills_particle(comm, numbers):
    """Oracle: the lithium balance int c_max dc/dt dx = int j_in ds. A constant inward flux j_in through the
    xmax face of a closed 2D box raises the lithium by j_in * area * dt per step (to 1e-12 relative), the
    free-energy hook a reaction flux will use."""
    lengths = [8 * ELL, 4 * ELL]
    p = problem(box_mesh(lengths, [16, 8], "triangle", comm=comm), 0.1, update_tolerance=1e-12)
    inflow = 1e-3  # mol/(m^2 s)
    p.add_surface_flux("xmax", inflow)
    before = p.lithium()
    for dt in (1e-3, 2e-3):
        p.step(dt)
    gained = p.lithium() - before
    expected = inflow * lengths[1] * 3e-3
    numbers.record("lithium_gained", gained)
    assert abs(gained / expected - 1) < 1e-12


@pytest.mark.mpi
def test_run_writes_history_and_fields(comm, tmp_path):
    """Oracle: the run's own records. An adaptive run to t_end writes c and mu for ParaView (VTX) and
    history.csv with one row per accepted step, whose free energy falls and whose lithium stays put."""
    lengths = [8 * ELL, 4 * ELL]
    p = problem(box_mesh(lengths, [8, 4], "triangle", comm=comm), lambda x: 0.5 + 0.01 * np.cos(np.pi * x[0] / lengths[0]))
    out = comm.bcast(str(tmp_path) if comm.rank == 0 else None, root=0)
    records = p.run(0.1, 1e-3, output_dir=out, output_times=[0.05], progress=False)
    assert records[-1].time == pytest.approx(0.1, rel=1e-12)
    if comm.rank == 0:
        rows = (tmp_path / "history.csv").read_text().splitlines()
        assert rows[0].startswith("step,time_s,dt_s,free_energy_J_per_m,lithium_mol_per_m")
        assert len(rows) == len(records) + 1
        assert (tmp_path / "site_fraction.bp").is_dir() and (tmp_path / "chemical_potential.bp").is_dir()
    energies = [r.free_energy for r in records]
    assert np.all(np.diff(energies) <= 0)
    assert abs(records[-1].lithium / records[0].lithium - 1) < 1e-12


def test_initial_state_outside_unit_interval(comm):
    """Oracle: the logarithms of g need 0 < c < 1; an initial c = 1 is refused with a one-line InputError."""
    with pytest.raises(InputError, match="initial"):
        problem(line_mesh(comm, [4], [ELL]), 1.0)


def spinodal_line(length):
    """c(x) = 0.5 + a sum of six cosines of amplitude 0.0033 on [0, L] (deterministic, the same on any
    partition)."""
    def initial(x):
        c = np.full(x.shape[1], 0.5)
        for m, phase in ((1, 0.3), (3, 1.1), (5, 2.0), (7, 0.7), (9, 2.9), (4, 1.7)):
            c += 0.01 / 3 * np.cos(m * np.pi * x[0] / length + phase)
        return c
    return initial


@pytest.mark.mpi
def test_error_controlled_spinodal_matches_tight_tolerance(comm, numbers):
    """Oracle: the same run at a 100 times tighter tolerance (1e-6: 2117 steps; its own error ~3e-5 of G,
    from the tol^(1/2) convergence of backward Euler under local error control measured at 1e-2 .. 1e-5).

    Spinodal decomposition of c0 = 0.5 (+ 0.3% cosines) on a closed line of 48 ell (192 cells) to 10 s
    (1000 time scales ell^2 / D): the free energy falls from 1.55 to 0.050 J/m^2 between 0.1 and 1 s
    (ten interfaces form), then barely moves. Backward Euler (scheme "implicit") with error_tolerance =
    1e-4 (local error of c per step, at every node; 235 steps, measured): every step lowers G (backward
    Euler is energy stable only for short steps; the controlled steps are), G at 10 s within 1e-3 of the
    reference's (measured 4.5e-4) and within it on the whole run after the burst (t >= 1 s), c at 10 s
    within 0.03 at every node (measured 0.012), lithium conserved to 1e-12. The same run with the default
    Newton-count steps (x 1.5 after easy solves; 48 steps) misses G by more than the bound (6.3e-3):
    the bound tells them apart. Convex splitting with a tolerance is refused (its splitting error is not
    the backward-Euler local error the estimate assumes)."""
    length = 48 * ELL

    def run(**options):
        p = problem(line_mesh(comm, [192], [length]), spinodal_line(length), scheme="implicit", update_tolerance=1e-12)
        lithium, energy = p.lithium(), p.free_energy()
        records = p.run(10.0, 1e-5, progress=False, **options)
        times = np.array([0.0] + [r.time for r in records])
        energies = np.array([energy] + [r.free_energy for r in records])
        return p, records, times, energies, abs(p.lithium() / lithium - 1)

    reference, _, t_ref, g_ref, _ = run(error_tolerance=1e-6)
    p, records, times, energies, drift = run(error_tolerance=1e-4)
    rejected = sum(r.rejected_attempts for r in records)
    after = times >= 1.0
    energy_error = np.abs(energies - np.interp(times, t_ref, g_ref))[after].max() / g_ref[-1]
    field_error = global_max(comm, np.abs(p.site_fractions() - reference.site_fractions()))
    _, _, _, default_energies, _ = run()
    default_error = abs(default_energies[-1] / g_ref[-1] - 1)
    numbers.record("steps_rejected", [len(records), rejected])
    numbers.record("free_energy_error_after_burst", energy_error)
    numbers.record("site_fraction_error_at_end", field_error)
    assert np.all(np.diff(energies) <= 0), np.diff(energies).max()
    assert energy_error < 1e-3, energy_error
    assert field_error < 0.03, field_error
    assert drift < 1e-12, drift
    assert default_error > 1e-3, default_error
    assert len(records) < 500
    with pytest.raises(InputError, match="time.error_tolerance"):
        problem(line_mesh(comm, [8], [length]), 0.5).run(1.0, 1e-3, error_tolerance=1e-4, progress=False)
