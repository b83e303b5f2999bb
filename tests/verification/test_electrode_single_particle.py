"""Single spherical NMC-like particle in an electrolyte box under galvanostatic 1C discharge."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.problems.electrode import ElectrodeProblem

T = 298.15
RADIUS, LENGTHS, CENTRE = 5e-6, [20e-6, 12e-6, 12e-6], [10e-6, 6e-6, 6e-6]
D_S, I0_REF, KAPPA = 1e-10, 2.0, 100.0


@pytest.mark.mpi
def test_electrode_single_particle_voltage_and_conservation(comm, numbers):
    """Oracle (hand calculation, every term closed form):

        V = U(x_surf) + (2 R T / F) asinh(i / (2 i0)) - I R_ohm,
        i = -I / A_Gamma,  i0 = i0_ref sqrt(x (1 - x)) / (1/2),
        x_surf = x_mean + j R / (5 D_s c_max)   (j = I / (F A_Gamma); pseudo-steady diffusion in a sphere,
                                                 parabolic profile, e.g. Subramanian et al. 2005),
        R_ohm = (L_x / 2 - R) / (kappa A_separator)   (the slab of electrolyte between separator and particle)

    with x_mean from the discrete amount of lithium and A_Gamma, R = 3 V/A of the meshed (polyhedral)
    particle; the particle itself is held at phi_s = 0 (collector = the particle region). Fast electrolyte
    transport (kappa = 100 S/m, D = 3e-8 m^2/s) makes the ohmic and concentration losses ~1e-7 V, so the
    voltage must match the oracle within 2e-6 V over 20 steps of 50 s at 1C (the losses themselves are
    16-20 mV). Lithium conservation: F (N_Li(t) - N_Li(0)) = integral of I dt to 1e-8 relative.
    """
    from femiec.meshing.gmsh_builders import sphere_in_box

    meshdata = sphere_in_box(RADIUS, LENGTHS, center=CENTRE, mesh_size=2.5e-6, comm=comm)
    problem = ElectrodeProblem(meshdata, electrolyte_regions=["matrix"], active_regions=["sphere"],
                               separator=["xmin"], collector=["sphere"], temperature=T,
                               active={"diffusivity": D_S, "exchange_current_density": I0_REF},
                               electrolyte={"diffusivity": 3e-8, "conductivity": KAPPA})
    lithium_start = problem.lithium_in_solid()
    reason = problem.run(c_rate=1.0, t_end=1000.0, dt=50.0)
    assert reason == "t_end"
    info = problem.describe()
    area, volume = info["interface_area_m2"], info["volume_m3"]["active"]
    c_max = problem.active.max_concentration
    radius = 3 * volume / area
    f = FARADAY / (GAS_CONSTANT * T)
    errors = []
    for rec in problem.records[1:]:
        i = -rec.current / area
        x = rec.stoichiometry
        x_surf = x + rec.current / (FARADAY * area) * radius / (5 * D_S * c_max)
        eta = 2 / f * np.arcsinh(i / (2 * I0_REF * 2 * np.sqrt(x * (1 - x))))
        ohmic = rec.current * (LENGTHS[0] / 2 - RADIUS) / (KAPPA * info["separator_area_m2"])
        errors.append(rec.voltage - (float(problem.ocv(x_surf)) + eta - ohmic))
    conservation = FARADAY * (problem.lithium_in_solid() - lithium_start) / problem.charge_passed - 1
    voltages = [rec.voltage for rec in problem.records]
    numbers.record("voltage_curve", voltages)
    numbers.record("max_voltage_error", max(np.abs(errors)))
    numbers.record("reaction_over_applied", problem.total_reaction_current() / problem.applied_current)
    assert len(voltages) == 21
    assert max(np.abs(errors)) < 2e-6, errors
    assert abs(conservation) < 1e-8, conservation
    assert problem.total_reaction_current() / problem.applied_current == pytest.approx(-1, abs=1e-9)
