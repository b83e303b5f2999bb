"""Limit of the electrode model: fast electrolyte transport -> independent particles."""
from __future__ import annotations

import numpy as np
import pytest
import ufl

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.problems.electrode import ElectrodeProblem

T, I0_REF, D_S = 298.15, 2.0, 1e-10


@pytest.mark.mpi
def test_electrode_independent_particles_at_fast_electrolyte_transport(comm, numbers):
    """Oracle: with kappa = 1e4 S/m and D = 3e-6 m^2/s the electrolyte is equipotential and uniform, so
    each particle k (both held at phi_s = 0) is a single-particle model at the common voltage V:

        V = U(x_k,surf) + (2RT/F) asinh(i_k / (2 i0(x_k))),   i_k = -F c_max V_k (dx_k/dt) / A_k,
        x_k,surf = x_k - (i_k / F) R_k / (5 D_s c_max),  R_k = 3 V_k / A_k  (pseudo-steady sphere)

    (x_k, V_k, A_k: mean stoichiometry, volume and surface of particle k on the mesh; dx_k/dt by the same
    backward difference the solver uses). Two particles of radii 4 and 2.5 µm at 2C: the residual of that
    relation must stay below 1e-6 V for both (the kinetic losses are ~20-30 mV), while the smaller particle (larger A/V) lithiates faster (x_small > x_large).
    """
    from dolfinx import fem

    from femiec.meshing.gmsh_builders import particle_packing

    particles = [((8e-6, 7e-6, 7e-6), (4e-6,) * 3, None), ((17e-6, 7e-6, 7e-6), (2.5e-6,) * 3, None)]
    meshdata = particle_packing(particles, [22e-6, 14e-6, 14e-6], mesh_size=2.5e-6, comm=comm)
    names = ["particle1", "particle2"]
    problem = ElectrodeProblem(meshdata, electrolyte_regions=["matrix"], active_regions=names, separator=["xmin"],
                               collector=names, temperature=T,
                               active={"diffusivity": D_S, "exchange_current_density": I0_REF},
                               electrolyte={"diffusivity": 3e-6, "conductivity": 1e4})
    mesh = meshdata.mesh
    dS = ufl.Measure("dS", domain=mesh, subdomain_data=meshdata.facet_tags)
    dx = ufl.Measure("dx", domain=mesh, subdomain_data=meshdata.cell_tags)
    total = lambda expr: comm.allreduce(fem.assemble_scalar(fem.form(expr)))
    one = fem.Constant(mesh, 1.0)
    tags = [meshdata.cell_tag(n) for n in names]
    areas = [total(one * dS(meshdata.facet_tag(f"matrix|{n}"))) for n in names]
    volumes = [total(one * dx(t)) for t in tags]
    history = [problem.particle_stoichiometry()]
    problem.run(c_rate=2.0, t_end=600.0, dt=60.0, dt_max=60.0, grow=1.0,
                on_step=lambda rec: history.append(problem.particle_stoichiometry()))
    f = FARADAY / (GAS_CONSTANT * T)
    c_max = problem.active.max_concentration
    residuals = []
    for k, rec in enumerate(problem.records[1:], start=1):
        for j, tag in enumerate(tags):
            x, x_old = history[k][tag], history[k - 1][tag]
            i = -FARADAY * c_max * volumes[j] * (x - x_old) / (rec.time - problem.records[k - 1].time) / areas[j]
            i0 = I0_REF * 2 * np.sqrt(x * (1 - x))
            x_surf = x - i / FARADAY * (3 * volumes[j] / areas[j]) / (5 * D_S * c_max)
            residuals.append(rec.voltage - float(problem.ocv(x_surf)) - 2 / f * np.arcsinh(i / (2 * i0)))
    final = history[-1]
    numbers.record("max_residual", max(np.abs(residuals)))
    numbers.record("final_stoichiometry", [final[t] for t in tags])
    assert len(problem.records) == 11
    assert max(np.abs(residuals)) < 1e-6, residuals
    assert final[tags[1]] > final[tags[0]] + 0.005


def _reaction_profile_case(comm, kappa: float, i0: float, nx: int = 80):
    """A straight pore beside a flat active layer (voxel mesh nx x 2 x 1: row y = 0 electrolyte of
    thickness h_e, row y = 1 active material), separator at x = 0, collector at x = L. One short step at a
    small current from equilibrium; returns (left ends of the interface cells [m], computed interface
    current density per cell [A/m^2, cathodic positive], mean applied current density j_mean [A/m^2],
    penetration depth delta [m])."""
    from dolfinx import fem
    from dolfinx.la import InsertMode
    from dolfinx.mesh import compute_midpoints

    from femiec.constants import thermal_voltage
    from femiec.meshing.voxel import voxel_mesh
    from femiec.problems.electrode import ELECTROLYTE

    length, h_e, width = 40e-6, 0.25e-6, 1e-6
    dx = length / nx
    image = np.zeros((nx, 2, 1), dtype=np.uint8)
    image[:, 1, :] = 1
    meshdata = voxel_mesh(image, voxel_size=(dx, h_e, width), phase_names={0: "pore", 1: "nmc"}, comm=comm)
    problem = ElectrodeProblem(meshdata, electrolyte_regions=["pore"], active_regions=["nmc"], separator=["xmin"],
                               collector=["xmax"], temperature=T,
                               active={"diffusivity": 1e-10, "conductivity": 1e7, "exchange_current_density": i0},
                               electrolyte={"diffusivity": 3e-6, "conductivity": kappa})
    vt = thermal_voltage(T)
    x0 = problem.active.initial_stoichiometry
    i0_local = i0 * 2 * np.sqrt(x0 * (1 - x0))  # i0 = i0_ref at x = 1/2; at x0 (c = c_ref)
    delta = np.sqrt(kappa * h_e * vt / i0_local)  # Newman's penetration depth of a pore of thickness h_e
    nu = length / delta
    # current such that the largest overpotential is 0.02 V_T (linear kinetics to 2e-5)
    current = 0.02 * i0_local * width * length / (nu / np.tanh(nu))
    problem.set_current(current)
    stats = problem.step(1e-3)
    assert stats.converged, stats.reason
    mesh = meshdata.mesh
    V0 = fem.functionspace(mesh, ("DG", 0))
    v = ufl.TestFunction(V0)
    # each interface facet adds int i dS to both of its cells: read it on the electrolyte cells
    per_cell = fem.assemble_vector(problem.form(problem.reaction_current() * (v("+") + v("-")) * problem.gamma))
    per_cell.scatter_reverse(InsertMode.add)
    n_owned = mesh.topology.index_map(3).size_local
    cells = np.flatnonzero(problem.phase[:n_owned] == ELECTROLYTE).astype(np.int32)
    left = compute_midpoints(mesh, 3, cells)[:, 0] - dx / 2
    numeric = -per_cell.array[V0.dofmap.list[cells, 0]] / (dx * width)
    gather = lambda a: np.concatenate(comm.allgather(a))
    left, numeric = gather(left), gather(numeric)
    order = np.argsort(left)
    return left[order], numeric[order], current / (width * length), delta


def _penetration_cell_means(left, dx, length, j_mean, delta):
    """Means over [x, x + dx] of j(x) = j_mean nu cosh(nu (1 - x/L)) / sinh(nu), nu = L/delta."""
    nu = length / delta
    return j_mean * nu / np.sinh(nu) * delta / dx * (np.sinh((length - left) / delta)
                                                     - np.sinh((length - left - dx) / delta))


@pytest.mark.mpi
def test_electrode_reaction_penetration_depth_at_fast_kinetics(comm, numbers):
    """Oracle (Newman & Tobias 1962, ohmic-limited porous electrode with linear kinetics and a perfectly
    conducting solid): along a pore of thickness h_e beside the active material, the interface current
    density decays from the separator as

        j(x) = (I / (W L)) nu cosh(nu (1 - x/L)) / sinh(nu),   nu = L / delta,
        delta = sqrt(kappa h_e (RT/F) / i0)   (penetration depth; i0 at the initial stoichiometry),

    so faster kinetics (larger i0) confine the reaction to a thinner zone, delta ~ i0^(-1/2). Two cases
    (delta = 8 and 4 µm in a 40 µm electrode, i0 x 4): the cell means of the computed interface current
    must match the closed form to 2e-3 everywhere, the decay length fitted to them must be delta to 1% (so it
    halves when i0 quadruples), and the reaction current integrates to the applied current (1e-10)."""
    from scipy.optimize import minimize_scalar

    kappa, length, dx = 0.01, 40e-6, 40e-6 / 80
    vt = GAS_CONSTANT * T / FARADAY
    i0_slow = kappa * 0.25e-6 * vt / (8e-6) ** 2 / (2 * np.sqrt(0.4 * 0.6))  # delta = 8 µm at x0 = 0.4
    fitted, errors = [], []
    for i0 in (i0_slow, 4 * i0_slow):
        left, numeric, j_mean, delta = _reaction_profile_case(comm, kappa, i0)
        exact = _penetration_cell_means(left, dx, length, j_mean, delta)
        errors.append(float(np.max(np.abs(numeric / exact - 1))))
        assert np.sum(numeric) == pytest.approx(np.sum(exact), rel=1e-10)
        misfit = lambda d: np.sum(np.log(numeric / _penetration_cell_means(left, dx, length, j_mean, d)) ** 2)
        fitted.append(minimize_scalar(misfit, bounds=(0.5 * delta, 2 * delta), method="bounded",
                                      options={"xatol": 1e-12}).x)
    numbers.record("profile_errors", errors)
    numbers.record("fitted_decay_lengths", fitted)
    assert max(errors) < 2e-3, errors
    assert fitted[0] == pytest.approx(8e-6, rel=0.01) and fitted[1] == pytest.approx(4e-6, rel=0.01), fitted
    assert fitted[0] / fitted[1] == pytest.approx(2.0, rel=0.01), fitted
