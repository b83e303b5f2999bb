"""Cahn–Hilliard with coherency strain (issue 21): linear stability with the elastic term (Cahn 1961), the
coherent spinodal, homogeneous Vegard expansion of a free particle, the energy law and conservation.

Parameters of cahn_hilliard_support (Omega = 3 RT, ell = 10 nm, D = 1e-14 m^2/s, c_max = 2.29e4 mol/m^3,
V_m = 1 / c_max), E = 100 GPa, nu = 0.3.
"""
from __future__ import annotations

import numpy as np
import pytest
import ufl

from femiec.analytic import cahn_hilliard as ch
from femiec.errors import InputError
from femiec.meshing import box_mesh
from femiec.problems.cahn_hilliard import CahnHilliardProblem
from femiec.problems.coherency import CoherencyStrain, rigid_body_pins

from cahn_hilliard_support import C_MAX, D, ELL, KAPPA, OMEGA, RT, T
from npp_support import box_mesh as line_mesh

E, NU = 1e11, 0.3


def problem(meshdata, initial, elasticity, **options):
    return CahnHilliardProblem(meshdata, site_density=C_MAX, interaction_energy=OMEGA, gradient_coefficient=KAPPA,
                               diffusivity=D, temperature=T, initial=initial, elasticity=elasticity, **options)


def global_sum(comm, value) -> float:
    """The sum of ``value`` over the ranks."""
    return comm.allreduce(value)


@pytest.mark.mpi
@pytest.mark.parametrize("dim, beta, dt", [(1, 0.01, 1e-6), (2, 0.01, 1e-6), (1, 0.02, 1e-6)])
def test_coherent_linear_stability(comm, numbers, dim, beta, dt):
    """Oracle: sigma(k) = -M0 k^2 (g''(c0) + g_el'' + kappa k^2), g_el'' = 2 V_m E beta^2 / (1 - nu)
    (Cahn 1961), M0 = D c0 (1 - c0) / RT, c0 = c_ref = 0.45, k = pi / L = 1 / ell.

    Derivation (isotropic stiffness, Vegard tensor beta I, perturbation dc = a cos(k x)): in an infinite body
    the plane wave is accommodated by u = (u_x(x), 0, 0), so eps = diag(u_x', 0, 0) and the elastic strain is
    e = diag(u_x' - beta dc, -beta dc, -beta dc). Equilibrium: sigma_xx is constant, and zero (no load):
    (lambda + 2G) u_x' = (3 lambda + 2G) beta dc, u_x' = beta dc (1 + nu) / (1 - nu). Then
    sigma_yy = sigma_zz = -2G beta dc + lambda (u_x' - 3 beta dc) = -E beta dc / (1 - nu), the energy density
    W = sigma : e / 2 = E beta^2 dc^2 / (1 - nu), and mu_el = -V_m sigma : (beta I) = 2 V_m E beta^2 dc /
    (1 - nu): linear in dc, it adds g_el'' to g''(c0) in the linearised c_t = div(M0 grad mu). (The uniform
    part c0 = c_ref is stress-free.) The same field is the exact solution of the two bounded settings used
    here: a 1D slab in uniaxial strain (eps_yy = eps_zz = 0 is the wave's own lateral strain) with
    traction-free ends (sigma_xx = 0), and a 2D plane-strain strip [0, L] x [0, 2h] with rollers on all
    four faces (u . n = 0, zero shear traction): u_y = 0 everywhere, sigma_xy = 0, and u_x ~ sin(k x)
    vanishes at x = 0 and L for k = m pi / L; no-flux walls are symmetry planes of cos(k x) as before.

    Numbers: beta = 0.01 gives g_el'' = 0.51 RT (mode 1 grows, slower than without strain: g'' = -1.96 RT);
    beta = 0.02 gives g_el'' = 2.03 RT > -g''(c0): c0 = 0.45 lies inside the chemical spinodal but outside
    the coherent one, sigma(k) < 0 for every k, and mode 1 (the least stable one) decays.
    Amplitude 1e-6, 256 P1 cells along x, 10 convex-splitting steps of 1 us: the measured rate
    ln(a_n / a_0) / (n dt) matches sigma(k) to 1e-3 (time error ~1.5e-4 as in test_cahn_hilliard, space
    error O((kh)^2) ~ 1e-4).
    """
    from dolfinx import fem

    c0, length, cells, steps = 0.45, np.pi * ELL, 256, 10
    k = np.pi / length
    if dim == 1:
        meshdata, support = line_mesh(comm, [cells], [length]), "free"
    else:
        meshdata, support = box_mesh([length, 2 * length / cells], [cells, 2], "triangle", comm=comm), "rollers"
    p = problem(meshdata, lambda x: c0 + 1e-6 * np.cos(k * x[0]), CoherencyStrain(E, NU, beta, c0, support),
                update_tolerance=1e-13)
    shape = fem.Function(p.space)
    shape.interpolate(lambda x: np.cos(k * x[0]))
    amplitude = fem.form((p.c - c0) * shape * p.dx)

    def measure():
        return global_sum(comm, fem.assemble_scalar(amplitude))

    first = measure()
    for _ in range(steps):
        p.step(dt)
    rate = np.log(measure() / first) / (steps * dt)
    elastic = ch.coherency_curvature(E, NU, beta, C_MAX)
    sigma = ch.growth_rate(k, c0, OMEGA, RT, KAPPA, D, elastic)
    numbers.record("rate", rate)
    numbers.record("rate_over_sigma", rate / sigma)
    assert ch.growth_rate(k, c0, OMEGA, RT, KAPPA, D) > 0  # chemically unstable
    if beta == 0.02:
        assert ch.curvature(c0, OMEGA, RT) + elastic > 0 and sigma < 0 and rate < 0  # coherently stable
    else:
        assert sigma > 0
    assert abs(rate / sigma - 1) < 1e-3


def rigid_motion_residual(points, displacement):
    """The max deviation of ``displacement`` (n, 3) from the best infinitesimal rigid motion a + W x
    (W skew), by least squares on the nodes."""
    rows = []
    for x in points:
        rows.append(np.array([[1, 0, 0, 0, x[2], -x[1]], [0, 1, 0, -x[2], 0, x[0]], [0, 0, 1, x[1], -x[0], 0]]))
    A = np.concatenate(rows) if rows else np.zeros((0, 6))
    b = displacement.reshape(-1)
    coefficients = np.linalg.lstsq(A, b, rcond=None)[0] if len(b) else np.zeros(6)
    return np.abs(A @ coefficients - b).max() if len(b) else 0.0


@pytest.mark.mpi
@pytest.mark.parametrize("dim, vegard", [(3, [0.05, 0.036, -0.019]), (2, [0.05, 0.036, 0.0])])
def test_homogeneous_vegard_expansion(comm, numbers, dim, vegard):
    """Oracle: a uniform c in a traction-free particle expands freely, u = (c - c_ref) B x up to a rigid
    motion, with zero stress (eps(u) = eps0 is compatible and sigma = C : 0), and mu_el = 0.

    LiFePO4-like anisotropic misfits B = diag(0.05, 0.036, -0.019) in a 3D box particle (free support: the
    rigid modes pinned at vertices) and B = diag(0.05, 0.036, 0) in a 2D plane-strain section (the
    out-of-plane misfit would stress a plane-strain section). c = 0.6, c_ref = 0.2: the stress is zero to
    round-off (|sigma| / (E |eps0|) < 1e-10 in L2), and u - (c - c_ref) B (x - p1) is a rigid motion to
    1e-10 of the expansion (p1 the pinned vertex).
    """
    from dolfinx import fem
    from mpi4py import MPI

    lengths = [4 * ELL, 3 * ELL, 2 * ELL][:dim]
    cells = [4, 3, 2][:dim]
    meshdata = box_mesh(lengths, cells, "tetrahedron" if dim == 3 else "triangle", comm=comm)
    p = problem(meshdata, 0.6, CoherencyStrain(E, NU, vegard, 0.2))
    eps0 = 0.4 * np.diag(vegard)
    sigma = p.stress()
    volume = global_sum(comm, fem.assemble_scalar(fem.form(1.0 * p.dx)))
    stress = np.sqrt(global_sum(comm, fem.assemble_scalar(fem.form(ufl.inner(sigma, sigma) * p.dx))) / volume)
    owned = p.displacement_space.dofmap.index_map.size_local
    x = np.zeros((owned, 3))
    x[:, :dim] = p.displacement_space.tabulate_dof_coordinates()[:owned, :dim]
    u = np.zeros((owned, 3))
    u[:, :dim] = p.u.x.array.reshape(-1, dim)[:owned]
    p1 = np.zeros(3)
    p1[:dim] = rigid_body_pins(p.displacement_space)[0][0][:dim]
    expansion = np.abs(eps0).max() * max(lengths)
    # gather the nodes on every rank to fit one rigid motion
    points = np.concatenate(comm.allgather(x - p1)) / max(lengths)  # O(1) columns for the fit
    difference = np.concatenate(comm.allgather(u - (x - p1) @ eps0.T))
    deviation = rigid_motion_residual(points, difference) / expansion
    mu_el = comm.allreduce(float(np.abs(p.mu.x.array[:owned] - p.mu.x.array[0]).max()) if owned else 0.0, op=MPI.MAX)
    numbers.record("displacement_max", comm.allreduce(float(np.abs(u).max()) if owned else 0.0, op=MPI.MAX))
    assert stress / (E * np.abs(eps0).max()) < 1e-10
    assert deviation < 1e-10
    assert mu_el < 1e-9 * RT  # uniform mu: no elastic contribution varies in space


@pytest.mark.mpi
@pytest.mark.parametrize("support", ["free", "clamped"])
def test_energy_law_with_strain(comm, numbers, support):
    """Oracle: convex splitting with the (convex) elastic energy taken at the new step stays energy stable
    (proof in femiec.forms.coherency): G = int c_max (g + kappa |grad c|^2 / 2) + W dx never increases,
    and the closed particle conserves lithium (each Newton direction conserves it) to 1e-12.

    Spinodal decomposition of c0 = 0.5 in a 2D box of 24 ell (16 x 16 cells), isotropic Vegard 0.01
    (g_el'' = 0.51 RT: still unstable) with c_ref = 0.5, traction-free (free) or clamped; 8 steps growing
    1.6x from 1 ms. Each step lowers G (dG <= 1e-12 |G|); the elastic energy is part of G and grows from 0.
    """
    from dolfinx import fem

    from test_cahn_hilliard import spinodal_mixture

    lengths = [24 * ELL] * 2
    p = problem(box_mesh(lengths, [16, 16], "triangle", comm=comm), spinodal_mixture(lengths),
                CoherencyStrain(E, NU, 0.01, 0.5, support), update_tolerance=1e-12)
    from femiec.forms.coherency import elastic_energy_density

    elastic_form = fem.form(elastic_energy_density(*p._elastic_args(), *p._material()) * p.dx)
    energies, lithium, dt = [p.free_energy()], p.lithium(), 1e-3
    for _ in range(8):
        p.step(dt)
        energies.append(p.free_energy())
        dt *= 1.6
    elastic = global_sum(comm, fem.assemble_scalar(elastic_form))
    changes = np.diff(energies)
    drift = abs(p.lithium() / lithium - 1)
    numbers.record("free_energy", energies)
    numbers.record("elastic_energy", elastic)
    assert np.all(changes <= 1e-12 * np.abs(energies[1:])), changes
    assert energies[-1] < energies[0] and elastic > 0
    assert drift < 1e-12


def test_coherency_input_errors(comm):
    """Oracle: bad coherency parameters and a non-direct solver are refused with one-line InputErrors."""
    meshdata = line_mesh(comm, [4], [ELL])
    for bad, key in ((CoherencyStrain(-1.0, NU, 0.01), "youngs_modulus"),
                     (CoherencyStrain(E, 0.5, 0.01), "poisson_ratio"),
                     (CoherencyStrain(E, NU, [0.01, 0.02]), "vegard"),
                     (CoherencyStrain(E, NU, 0.01, 2.0), "reference"),
                     (CoherencyStrain(E, NU, 0.01, support="glued"), "support")):
        with pytest.raises(InputError, match=key):
            problem(meshdata, 0.5, bad)
    with pytest.raises(InputError, match="solver"):
        problem(meshdata, 0.5, CoherencyStrain(E, NU, 0.01), solver="block")


COHERENCY = """
[model.coherency]
youngs_modulus = 1.0e11
poisson_ratio = 0.3
vegard = [0.05, 0.036, -0.019]
reference = 0.6
"""


def coherency_case(table: str = COHERENCY) -> str:
    """The 1D three-particle case of test_intercalation_case, 100 s long, with a [model.coherency] table."""
    from test_intercalation_case import CASE

    return CASE.replace("t_end = 900.0", "t_end = 100.0").replace("\n[time]", table + "\n[time]")


@pytest.mark.mpi
def test_particle_case_with_coherency(tmp_path_factory, comm, numbers):
    """Oracle: the lithium balance. The intercalation case with LiFePO4-like misfits (1D slabs in uniaxial
    strain, traction-free ends) runs 100 s at 4C: the final state of charge equals 0.6 - charge / Q (1e-9),
    the run writes the displacement field next to c and mu."""
    import json

    from femiec.cli import main
    from femiec.constants import FARADAY

    tmp = comm.bcast(tmp_path_factory.mktemp("coherent") if comm.rank == 0 else None)
    if comm.rank == 0:
        (tmp / "case.toml").write_text(coherency_case())
    comm.barrier()
    out = tmp / "out"
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(out)]) == 0
    result = json.loads((out / "summary.json").read_text())["intercalation"]
    capacity = 3 * FARADAY * 22800.0 * 1e-8
    assert result["final_state_of_charge"] == pytest.approx(0.6 - result["charge_passed_C"] / capacity, rel=1e-9)
    numbers.record("final_state_of_charge", result["final_state_of_charge"])
    if comm.rank == 0:
        assert all((out / f"displacement_{k}.bp").is_dir() for k in (1, 2, 3))


def test_particle_case_coherency_refusals(tmp_path, capsys):
    """Oracle: bad [model.coherency] values are refused before solving, one line naming the key."""
    from femiec.cli import main

    cases = {
        "model.coherency.poisson_ratio": COHERENCY.replace("0.3", "0.5"),
        "model.coherency.vegard": COHERENCY.replace("[0.05, 0.036, -0.019]", "[0.05, 0.036]"),
        "model.coherency.youngs_modulus": COHERENCY.replace("1.0e11", "-1.0"),
        "model.coherency.support": COHERENCY + 'support = "glued"\n',
    }
    for key, table in cases.items():
        path = tmp_path / "case.toml"
        path.write_text(coherency_case(table))
        assert main(["validate", str(path)]) == 2, key
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert line.startswith(f"error: {key}: "), line
