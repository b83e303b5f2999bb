"""Impedance of the mixed-conduction transmission line (Gomadam configurations I, II, III) from the
small-signal solve of femiec.problems.mixed_conduction, homogenised and resolved.

Oracle: femiec.analytic.impedance.mixed_conduction_line(rho1, rho2, z_f, d, configuration), the closed form
of the two-rail line phi1' = -rho1 i1, phi2' = -rho2 i2, i1' = -i2' = (phi2 - phi1)/z_f with the boundary
conditions of each configuration, z_f = z_interface / a and z_interface = 1/(i omega C_dl + 1/R_ct)
(femiec.analytic.impedance.interface_impedance). Characteristic frequency omega* = 1/(d^2 (rho1 + rho2) a C_dl)
(the penetration depth 1/|beta| of the capacitive line equals d); frequencies 1e-3..1e3 omega* (homogenised)
and 1e-3..1e2 omega* (laminate), the interface frequency 1/(R_ct C_dl) = 1.33 omega* inside.

(a) Homogenised line on an interval mesh, P1: relative error against the closed form at second order in the
    cell size (the nodal values of P1 on a 1D line), <= 1e-3 on 100 cells; the DC resistance of a steady
    solve equals the closed form with z_f = R_ct / a (to 2e-4); PRESB-GMRES (rtol 1e-12) and the direct
    solve agree to 1e-8.
(b) Resolved 3D laminate: slabs of the ionic and electronic phase (equal thickness t = p/2, period p, P2
    hexahedra) alternating across y, parallel to the current direction x, the interface facets between the
    slabs carrying R_ct || C_dl. Homogenised parameters: rho_k = 1/(sigma_k f_k), f_k = 1/2, a = 2/p (two
    interfaces per period), z_f = z_interface / a. The homogenisation error: the current exchanged at an
    interface crosses the half-slab h = t/2 transversally, which adds h/(3 sigma_1) + h/(3 sigma_2) in series
    with z_interface (linear transverse current, mean-to-interface potential drop j h/(3 sigma)), a relative
    change of z_f of delta = (|beta| p)^2/48 (equal slab thicknesses). Expected: |Z/Z_closed - 1| is the
    first-order change of the closed form under z_interface -> z_interface + h/(3 sigma_1) + h/(3 sigma_2)
    (to within 10%), bounded by max delta = 5.2e-3 at p = d/20 and omega <= 1e2 omega* (|beta p| <= 0.5);
    the closed form with that correction matches to O(delta^2) + discretisation (<= 1e-4).
1 and 2 ranks record the same numbers (tests marked mpi).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from femiec.analytic.impedance import interface_impedance, mixed_conduction_line
from femiec.problems.mixed_conduction import MixedConductionProblem
from femiec.studies.impedance import impedance_spectrum

sys.path.insert(0, str(Path(__file__).resolve().parent))
from npp_support import box_mesh as line_mesh  # noqa: E402

pytestmark = pytest.mark.mpi

THICKNESS = 100e-6                              # d [m]
SIGMA_EFF = (1.0, 3.0)                          # effective sigma1, sigma2 [S/m]: rho1 = 1, rho2 = 1/3 Ohm m
SPECIFIC_AREA = 1e5                             # a [1/m] of the homogenised line
Z_RESISTANCE, Z_CAPACITANCE = 1e-8, 1e4         # R_ct / a [Ohm m^3], a C_dl [F/m^3]
RHO = tuple(1 / s for s in SIGMA_EFF)
OMEGA_STAR = 1 / (THICKNESS ** 2 * sum(RHO) * Z_CAPACITANCE)


def _closed_form(omega, configuration, extra_resistance=0.0, area=SPECIFIC_AREA):
    """mixed_conduction_line at omega with z_f = (z_interface + extra_resistance) / a [Ohm m^2]."""
    z_interface = interface_impedance(omega, Z_CAPACITANCE / area, Z_RESISTANCE * area)
    return mixed_conduction_line(*RHO, (z_interface + extra_resistance) / area, THICKNESS, configuration)


def _sweep(port, omega, method="presb"):
    """(Z [Ohm m^2], GMRES iterations per frequency). GMRES rtol 1e-12: the recorded errors (>= 1e-6) then
    move by less than 1e-8 of themselves between 1 and 2 ranks."""
    spectrum = impedance_spectrum(port, omega / (2 * np.pi), method=method, rtol=1e-12)
    return spectrum.area_specific, [s.iterations for s in spectrum.stats]


@pytest.mark.parametrize("configuration", ["I", "II", "III"])
def test_homogenised_line(comm, numbers, configuration):
    """(a) P1 on 25, 50, 100 cells: error against the closed form, its order (2), the steady DC resistance,
    presb against direct."""
    omega = OMEGA_STAR * np.logspace(3, -3, 25)
    errors = []
    for cells in (25, 50, 100):
        problem = MixedConductionProblem(line_mesh(comm, [cells], [THICKNESS]), ionic_conductivity=SIGMA_EFF[0],
                                         electronic_conductivity=SIGMA_EFF[1],
                                         charge_transfer_resistance=Z_RESISTANCE * SPECIFIC_AREA,
                                         double_layer_capacitance=Z_CAPACITANCE / SPECIFIC_AREA,
                                         specific_area=SPECIFIC_AREA, configuration=configuration)
        Z, iterations = _sweep(problem.impedance_port(), omega)
        errors.append(np.abs(Z / _closed_form(omega, configuration) - 1).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    Z_direct, _ = _sweep(problem.impedance_port(), omega, method="direct")
    presb_vs_direct = np.abs(Z / Z_direct - 1).max()
    dc = problem.steady_voltage(1.0)  # V at 1 A/m^2: Ohm m^2
    dc_closed = mixed_conduction_line(*RHO, Z_RESISTANCE, THICKNESS, configuration).real
    dc_error = abs(dc / dc_closed - 1)
    numbers.record("relative_error", errors)
    numbers.record("order", orders)
    numbers.record("gmres_iterations", iterations)
    numbers.record("dc_resistance", dc)
    numbers.record("Z_ohm_m2", np.column_stack([Z.real, Z.imag])[::6])
    assert np.all((orders > 1.9) & (orders < 2.1)), orders
    assert errors[-1] < 1e-3, errors
    assert presb_vs_direct < 1e-8
    assert dc_error < 2e-4


def _laminate(comm, period, periods, cells_x, cells_per_half_slab):
    """MeshData of the laminate [0, d] x [0, periods p] x [0, p/2] (hexahedra): cell regions "ionic" (slabs
    |y - k p| < p/4, half slabs at the walls y = 0 and y = periods p, symmetry planes of an infinite
    laminate) and "electronic" (the slabs between), box facet tags."""
    from dolfinx import mesh as dmesh

    from femiec.meshing.base import MeshData
    from femiec.meshing.box import box_mesh

    box = box_mesh([THICKNESS, periods * period, period / 2], [cells_x, 4 * cells_per_half_slab * periods, 1],
                   "hexahedron", comm=comm)
    mesh, tdim = box.mesh, box.mesh.topology.dim
    index = mesh.topology.index_map(tdim)
    cells = np.arange(index.size_local + index.num_ghosts, dtype=np.int32)
    y = dmesh.compute_midpoints(mesh, tdim, cells)[:, 1]
    phase = np.where((y / period + 0.25) % 1.0 < 0.5, 1, 2).astype(np.int32)
    return MeshData(mesh, dmesh.meshtags(mesh, tdim, cells, phase), box.facet_tags,
                    {"ionic": 1, "electronic": 2}, box.facet_names)


def test_resolved_laminate(comm, numbers):
    """(b) The 3D laminate (p = d/20, two periods, 40 x 8 x 1 P2 hexahedra) against the homogenised closed
    form in configurations I, II, III: the error is the predicted homogenisation error; presb = direct."""
    period = THICKNESS / 20
    area = 2 / period
    phase_sigma = [2 * s for s in SIGMA_EFF]  # f = 1/2
    meshdata = _laminate(comm, period, 2, 40, 1)
    problem = MixedConductionProblem(meshdata, ionic_conductivity=phase_sigma[0],
                                     electronic_conductivity=phase_sigma[1],
                                     charge_transfer_resistance=Z_RESISTANCE * area,
                                     double_layer_capacitance=Z_CAPACITANCE / area, ionic_regions=["ionic"],
                                     electronic_regions=["electronic"], degree=2)
    omega = OMEGA_STAR * np.logspace(2, -3, 21)
    z_interface = interface_impedance(omega, Z_CAPACITANCE / area, Z_RESISTANCE * area)
    delta = np.abs(np.sqrt(sum(RHO) * area / z_interface) * period) ** 2 / 48
    transverse = sum(period / 4 / (3 * s) for s in phase_sigma)  # h/(3 sigma1) + h/(3 sigma2) [Ohm m^2]
    numbers.record("delta_max", delta.max())
    for configuration in ("I", "II", "III"):
        Z, iterations = _sweep(problem.impedance_port(configuration), omega)
        closed = _closed_form(omega, configuration, area=area)
        corrected = _closed_form(omega, configuration, transverse, area=area)
        error = np.abs(Z / closed - 1).max()
        predicted = np.abs(corrected / closed - 1).max()
        residual = np.abs(Z / corrected - 1).max()
        numbers.record(f"{configuration}.relative_error", error)
        numbers.record(f"{configuration}.predicted_error", predicted)
        numbers.record(f"{configuration}.error_after_correction", residual)
        numbers.record(f"{configuration}.gmres_iterations", iterations)
        numbers.record(f"{configuration}.Z_ohm_m2", np.column_stack([Z.real, Z.imag])[::5])
        assert error < delta.max()
        assert abs(error / predicted - 1) < 0.1, (error, predicted)
        assert residual < 1e-4
        if configuration == "I":
            Z_direct, _ = _sweep(problem.impedance_port(), omega, method="direct")
            presb_vs_direct = np.abs(Z / Z_direct - 1).max()
            assert presb_vs_direct < 1e-8


@pytest.mark.parametrize("options, key", [
    ({"configuration": "IV"}, "configuration"),
    ({"specific_area": None}, "model.specific_area"),
    ({"charge_transfer_resistance": -1.0}, "model.charge_transfer_resistance"),
    ({"ionic_regions": ["domain"]}, "model.electronic_regions"),
    ({"front": "zmin"}, "model.front"),
    ({"degree": 3}, "model.degree"),
])
def test_input_errors(comm, options, key):
    """Bad input is refused with the key that names it, before anything is built."""
    from femiec.errors import InputError

    meshdata = line_mesh(comm, [4], [THICKNESS])
    meshdata.cell_names["domain"] = 1
    kwargs = dict(ionic_conductivity=1.0, electronic_conductivity=1.0, charge_transfer_resistance=1.0,
                  double_layer_capacitance=1.0, specific_area=1.0)
    kwargs.update(options)
    with pytest.raises(InputError) as error:
        MixedConductionProblem(meshdata, **kwargs)
    assert error.value.key == key
