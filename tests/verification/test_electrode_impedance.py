"""Impedance of the resolved electrode (ElectrodeProblem.impedance_port) and its double-layer capacitance."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.impedance import (charge_transfer_resistance, randles_particle,
                                       spherical_diffusion_impedance)
from femiec.constants import FARADAY
from femiec.errors import InputError
from femiec.problems.electrode import ElectrodeProblem

T = 298.15
RADIUS, BOX = 1e-6, 3e-6
C_MAX, X0, C_DL, I0_REF = 100.0, 0.525, 0.25, 2.0
KAPPA, D_E = 10.0, 1e-6


def _ocv_slope(ocv) -> float:
    """dU/dc_s [V m^3/mol] at the bias stoichiometry X0 from an OCV table (X0 lies inside a table interval,
    where the PCHIP curve is a cubic: the central difference is exact to rounding)."""
    step = 1e-6
    return float(ocv(X0 + step) - ocv(X0 - step)) / (2 * step) / C_MAX


def _active(diffusivity):
    return {"diffusivity": diffusivity, "exchange_current_density": I0_REF, "max_concentration": C_MAX,
            "initial_stoichiometry": X0}


def _particle(comm, mesh_size, surface_size, **kwargs):
    from femiec.materials.electrochemistry import active_material
    from femiec.meshing.gmsh_builders import Refinement, sphere_in_box

    refine = Refinement(["matrix|sphere"], surface_size * RADIUS, 0.02 * RADIUS, 0.3 * RADIUS)
    meshdata = sphere_in_box(RADIUS, [BOX] * 3, mesh_size=mesh_size * RADIUS, refine=refine, points_per_circle=0,
                             comm=comm)
    i0 = I0_REF * 2 * np.sqrt(X0 * (1 - X0))  # i0_ref sqrt(c/c_ref) sqrt(x(1-x))/(1/2) at c = c_ref
    r_ct = float(charge_transfer_resistance(i0, T))
    # D_s such that the diffusion resistance (-dU/dc_s) R/(F D_s) is 0.3 R_ct
    slope = _ocv_slope(active_material(_active(1.0), "active").open_circuit_voltage())
    diffusivity = -slope * RADIUS / (FARADAY * 0.3 * r_ct)
    problem = ElectrodeProblem(meshdata, electrolyte_regions=["matrix"], active_regions=["sphere"],
                               separator=["xmin"], collector=["sphere"], temperature=T,
                               active=_active(diffusivity),
                               electrolyte={"diffusivity": D_E, "conductivity": KAPPA}, **kwargs)
    return problem, r_ct, diffusivity


def _series_resistance(problem) -> float:
    """R_s [Ohm]: the electrolyte between the separator face and Gamma for a uniform current density on
    both (kappa grad^2 phi = 0, -kappa dphi/dn = -I/A_sep at the separator, I/A_Gamma into Gamma):
    R_s = (<phi>_separator - <phi>_Gamma) / I, area averages. At Wagner numbers kappa |z|/R >= 1e3
    (z the interface impedance per area) the current on Gamma is uniform to that order."""
    import ufl
    from dolfinx import fem
    from dolfinx.fem import petsc as fem_petsc
    from mpi4py import MPI
    from petsc4py import PETSc

    V = problem.spaces[problem.index("potential_electrolyte")]
    phi, q = ufl.TrialFunction(V), ufl.TestFunction(V)
    a_sep, a_gamma, dx = problem.separator_area(), problem.interface_area(), problem.dx_electrolyte
    # a tiny mass term fixes the constant of the Neumann problem (the right-hand side has zero mean)
    a = problem.form(KAPPA * ufl.inner(ufl.grad(phi), ufl.grad(q)) * dx + 1e-10 * KAPPA / problem.length ** 2
                     * phi * q * dx)
    rhs = problem.form(q / a_sep * problem.ds_separator - q("+") / a_gamma * problem.gamma)
    A = fem_petsc.assemble_matrix(a)
    A.assemble()
    b = fem_petsc.assemble_vector(rhs)
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    ksp = PETSc.KSP().create(problem.mesh.comm)
    ksp.setOperators(A)
    ksp.setType("preonly")
    ksp.getPC().setType("lu")
    ksp.getPC().setFactorSolverType("mumps")
    potential = fem.Function(V)
    ksp.solve(b, potential.x.petsc_vec)
    potential.x.scatter_forward()

    def mean(value, measure, area):
        return problem.mesh.comm.allreduce(fem.assemble_scalar(problem.form(value * measure)), op=MPI.SUM) / area

    result = mean(potential, problem.ds_separator, a_sep) - mean(potential("+"), problem.gamma, a_gamma)
    for obj in (ksp, A, b):
        obj.destroy()
    return result


def _randles_errors(comm, mesh_size, surface_size):
    """(relative errors, spectrum, analytic Z, low-frequency capacitance error, f / f_c) on one mesh."""
    from femiec.studies.impedance import impedance_spectrum

    problem, r_ct, diffusivity = _particle(comm, mesh_size, surface_size, double_layer_capacitance=C_DL)
    info = problem.describe()
    area, volume = info["interface_area_m2"], info["volume_m3"]["active"]
    radius = 3 * volume / area  # the meshed (polyhedral) particle's volume/area radius
    slope = _ocv_slope(problem.ocv)
    f_c = diffusivity / (2 * np.pi * RADIUS ** 2)
    frequency = f_c * np.logspace(4, -4, 17)
    spectrum = impedance_spectrum(problem.impedance_port(), frequency)
    omega = 2 * np.pi * frequency
    diffusion = spherical_diffusion_impedance(omega, radius, diffusivity, slope)
    exact = _series_resistance(problem) + randles_particle(omega, 0.0, C_DL, r_ct, diffusion) / area
    errors = np.abs(spectrum.impedance / exact - 1)
    # Z -> 1/(i omega C) as omega -> 0 with C = F V_p/(-dU/dc_s) + C_dl A_Gamma (the double layer in
    # parallel); at f = 1e-4 f_c the O(omega) corrections are ~1e-8 of C
    low = -1 / (omega[-1] * spectrum.impedance[-1].imag) - C_DL * area
    chemical = FARADAY * volume / (-slope)
    return errors, spectrum, exact, low / chemical - 1, frequency / f_c


@pytest.mark.mpi
def test_electrode_randles_particle_impedance(comm, numbers):
    """Oracle: the Randles particle (Randles 1947; finite-space spherical diffusion, Jacobsen & West,
    Electrochim. Acta 40 (1995) 255):

        Z = R_s + [1/(i omega C_dl + 1/(R_ct + Z_D))] / A_Gamma,   R_ct = R T/(F i0),
        Z_D = (-dU/dc_s) R/(F D_s) tanh(s)/(s - tanh(s)),   s = sqrt(i omega R^2/D_s)

    (femiec.analytic.impedance) for one spherical particle (R = 1 um, gmsh sphere in a 3 um box of
    electrolyte, phi_s = 0 on the particle) with Butler-Volmer kinetics at open circuit, a double-layer
    capacitance C_dl = 0.25 F/m^2 and solid diffusion; i0 = 2 i0_ref sqrt(x0(1-x0)) at the bias x0 = 0.525,
    c = c_ref; dU/dc_s from the problem's OCV table at x0; A_Gamma and R = 3 V_p/A_Gamma of the meshed
    particle. D_s makes the diffusion resistance 0.3 R_ct; the charge-transfer arc lies at 11.8 f_c,
    f_c = D_s/(2 pi R^2); c_max = 100 mol/m^3 brings the chemical capacitance per area down to 12 C_dl so that
    both arcs lie in the window). R_s: the electrolyte resistance for uniform current densities on the separator
    and Gamma (a separate Laplace solve, 1.4% of |Z| at the top frequency); kappa = 10 S/m, D = 1e-6 m^2/s
    make the concentration polarisation of the electrolyte < 1e-5 of Z.
    Measured over 1e-4 ... 1e4 f_c (17 frequencies): max relative error 1.5e-3 on the mesh of size R/2.5
    (R/5 at the particle surface) and 3.6e-4 on R/5 (R/10): ratio 4.2, second order; the low-frequency
    capacitance minus C_dl A_Gamma equals F V_p/(-dU/dc_s) within 5e-7 on both. PRESB-GMRES (rtol 1e-12,
    one factorization per half decade): 2-21 iterations per frequency.
    """
    results = [_randles_errors(comm, h, h / 2) for h in (0.4, 0.2)]
    (coarse, _, _, _, _), (fine, spectrum, exact, capacitance, f_over_fc) = results
    iterations = [s.iterations for s in spectrum.stats]
    # below f_c, Re Z falls to 1e-4 |Z| and J + i omega M nears the singular J (charge and salt
    # conservation): Z there is reproducible to ~1e-7 |Z| only (1 vs 2 ranks), so the numbers kept are Z
    # and the iteration counts down to f_c and the errors to 3 digits
    kept = f_over_fc >= 1 - 1e-9
    numbers.record("max_error_coarse", float(f"{coarse.max():.3g}"))
    numbers.record("max_error_fine", float(f"{fine.max():.3g}"))
    numbers.record("impedance_real_fine", spectrum.impedance.real[kept])
    numbers.record("impedance_imag_fine", spectrum.impedance.imag[kept])
    numbers.record("iterations_fine", np.asarray(iterations)[kept])
    assert fine.max() < 1e-3, (f_over_fc, fine)
    assert fine.max() < coarse.max() / 2, (coarse.max(), fine.max())
    assert max(abs(r[3]) for r in results) < 1e-3, [r[3] for r in results]
    assert max(iterations) <= 25, iterations
    assert np.all(spectrum.impedance.real > 0)


@pytest.mark.mpi
def test_electrode_reduced_sweep_matches_presb(comm, numbers):
    """Oracle: the per-frequency complex solves (PRESB-GMRES, rtol 1e-12). The reduced sweep
    (femiec.studies.reduced_sweep: one Galerkin system on a space of real-shift solutions) gives the same Z
    for the Randles particle of the test above (coarse mesh, 1e-4 ... 1e4 f_c, 17 frequencies, four
    coupled fields) to 1e-6 from f_c up at reduced_tol = 1e-6 (measured 3e-9 serial; below f_c, where Z is
    reproducible to ~1e-7 only, to 1e-5), with fewer factorizations than
    frequencies (9 shifts at one per two decades, plus bisection and the exact check)."""
    from femiec.studies.impedance import impedance_spectrum

    problem, _, diffusivity = _particle(comm, 0.4, 0.2, double_layer_capacitance=C_DL)
    f_c = diffusivity / (2 * np.pi * RADIUS ** 2)
    frequency = f_c * np.logspace(4, -4, 17)
    reference = impedance_spectrum(problem.impedance_port(), frequency, reuse_decades=0.0)
    reduced = impedance_spectrum(problem.impedance_port(), frequency, method="reduced", reduced_tol=1e-6)
    difference = np.abs(reduced.impedance / reference.impedance - 1)
    sweep = reduced.cost
    kept = frequency >= f_c * (1 - 1e-9)  # (as above: below f_c Z is reproducible to ~1e-7 only)
    assert difference[kept].max() < 1e-6, difference
    # below f_c, J + i omega M nears the singular J and the difference grows as the frequency falls: at
    # 2 ranks, 8.8e-8 at 10^-3.5 f_c in a run of this file alone, 1.1e-6 at 1e-4 f_c after the rest of the suite
    assert difference.max() < 1e-5, difference
    assert sweep["factorizations"] < len(frequency), sweep
    assert sweep["checks"][-1]["relative_error"] <= 1e-6, sweep
    numbers.record("impedance_real", reduced.impedance.real[kept])
    numbers.record("impedance_imag", reduced.impedance.imag[kept])


@pytest.mark.mpi
def test_electrode_double_layer_discharge(comm, numbers):
    """A short 1C discharge of the single particle with C_dl = 0.25 F/m^2. Oracle: charge balance of
    backward Euler (exact, telescoping): the charge passed equals the lithium the particle gained plus the
    charge of the double layer, Q = F (N_Li(t) - N_Li(0)) - C_dl int_Gamma (Delta(phi_s - phi_e)) dS, to
    1e-8 relative; the double layer takes a visible part of the first steps' charge (its time constant
    R_ct C_dl = 3.2 ms against steps of 1 ms)."""
    from dolfinx import fem
    from mpi4py import MPI

    problem, _, _ = _particle(comm, 0.5, 0.5, double_layer_capacitance=C_DL)
    fields = problem.field_map()
    gap = problem.form((fields["potential_solid"]("-") - fields["potential_electrolyte"]("+")) * problem.gamma)

    def charge_gap():
        return comm.allreduce(fem.assemble_scalar(gap), op=MPI.SUM)

    start_lithium, start_gap = problem.lithium_in_solid(), charge_gap()
    reason = problem.run(c_rate=1.0, t_end=0.005, dt=1e-3, dt_max=1e-3)
    assert reason == "t_end"
    layer = -C_DL * (charge_gap() - start_gap)
    faradaic = FARADAY * (problem.lithium_in_solid() - start_lithium)
    balance = (faradaic + layer) / problem.charge_passed - 1
    numbers.record("voltage_curve", [rec.voltage for rec in problem.records])
    numbers.record("double_layer_share", layer / problem.charge_passed)
    assert abs(balance) < 1e-8, balance
    assert 0.05 < layer / problem.charge_passed < 0.95


def test_electrode_double_layer_capacitance_refused_with_poisson_electrolyte(comm):
    """C_dl > 0 with the full Poisson electrolyte (which resolves its own double layer) is an input error,
    as is a negative capacitance."""
    with pytest.raises(InputError, match="double_layer_capacitance"):
        _particle(comm, 0.8, 0.8, double_layer_capacitance=0.1, double_layer={})
    with pytest.raises(InputError, match="double_layer_capacitance"):
        _particle(comm, 0.8, 0.8, double_layer_capacitance=-0.1)
