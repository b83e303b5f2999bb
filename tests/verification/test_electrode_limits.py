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
