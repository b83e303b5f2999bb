"""3D Nernst–Planck–Poisson on a gmsh mesh: a charged spherical inclusion in an electrolyte cube."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.electrochemistry import debye_length
from femiec.constants import FARADAY, VACUUM_PERMITTIVITY, thermal_voltage
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import FixedConcentration, FixedPotential
from femiec.problems.species import Species

C0, EPS_R, T, D = 1.0, 10.0, 298.15, 1e-9
SIDE, RADIUS = 100e-9, 25e-9
FIXED = -2 * FARADAY * C0  # C/m^3 inside the sphere


@pytest.mark.mpi
def test_npp_charged_sphere_in_cube(comm, numbers):
    """Oracle: a sphere of fixed charge rho = -2 F c0 (radius 25 nm = 7.3 lambda_D) in a 1:1 electrolyte
    cube (side 100 nm, faces at c = c0 and phi = 0), steady PNP with P1 log-concentrations on a gmsh
    tetrahedral mesh. Deep inside the sphere the electrolyte is in Donnan equilibrium: sum z c + rho/F = 0
    with c+- = c0 exp(-+ phi / V_T) gives phi_D = V_T asinh(rho / (2 F c0)) = -0.881 V_T (within 2% at the
    centre), and the screening cloud makes the whole cube nearly neutral (|Q| < 2% of the fixed charge).
    The totals (amounts, charges) are recorded and compared between 1 and 2 ranks.
    """
    from femiec.meshing.gmsh_builders import sphere_in_box

    meshdata = sphere_in_box(RADIUS, [SIDE] * 3, mesh_size=7e-9, comm=comm)
    faces = ["xmin", "xmax", "ymin", "ymax", "zmin", "zmax"]
    species = [Species("cation", 1, D, C0), Species("anion", -1, D, C0)]
    conditions = [FixedConcentration("cation", faces, C0), FixedConcentration("anion", faces, C0),
                  FixedPotential(faces, 0.0)]
    problem = NernstPlanckPoisson(meshdata, species, conditions=conditions, temperature=T,
                                  relative_permittivity=EPS_R, fixed_charge={"sphere": FIXED, "matrix": 0.0},
                                  variables="log")
    records = problem.solve_steady()
    vt = thermal_voltage(T)
    phi = problem.nodal_values()[2]
    x = problem.subspaces[2][0].tabulate_dof_coordinates()
    near_centre = np.linalg.norm(x - SIDE / 2, axis=1) < 3e-9
    local = phi[near_centre]
    centre = comm.allreduce(local.sum()) / comm.allreduce(len(local))
    donnan = vt * np.arcsinh(FIXED / (2 * FARADAY * C0))
    fixed_total = FIXED * 4 / 3 * np.pi * RADIUS ** 3
    totals = {"amount_cation": problem.amount("cation"), "amount_anion": problem.amount("anion"),
              "charge_total": problem.total_charge(), "charge_sphere": problem.total_charge("sphere")}
    for key, value in totals.items():
        numbers.record(key, value)
    numbers.record("debye_length", problem.debye_length())
    numbers.record("centre_potential_over_donnan", centre / donnan)
    assert problem.debye_length() == pytest.approx(debye_length(EPS_R * VACUUM_PERMITTIVITY, T, [C0, C0], [1, -1]))
    assert records[-1]["converged"]
    assert abs(centre / donnan - 1) < 0.02, (centre, donnan)
    assert abs(totals["charge_total"]) < 0.02 * abs(fixed_total)
