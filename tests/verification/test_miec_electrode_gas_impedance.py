"""Impedance of the porous MIEC electrode with O2 diffusion in its pores (femiec.problems.pore_gas
PoreGasCoupling.small_signal, femiec.studies.coupled_small_signal): the solid and the gas linearised as one
block system across their two meshes.

Geometry and material of test_miec_electrode_gas: straight columns, 4 x 1 x 80 voxels of h = 0.1 um (an MIEC
slab 2h wide between two half pores of h, L = 8 um), the constant-K oxide at 1000 K in air (pO2 = 0.21e5 Pa,
p = 1e5 Pa, x0 = 0.21), linear exchange R_s = (40 h)^2 / (sigma_ion h) on the voxel walls. A slow gas,
D_12 = 1e-7 m^2/s and no Knudsen term, makes a gas arc of ~5 % of Z near 300 Hz (L^2 / D_12 = 0.64 ms).

(1) DC limit: Z(0) A_proj (one linear solve of the coupled Jacobian) equals the ASR of the coupled steady
    (staggered) solves by a central difference at eta = +-1 mV, d eta / d i, to 1e-4 (measured 8e-7: the
    difference's truncation O(step^2)).
(2) A fast gas (D_12 = 1e3 m^2/s: the gas's resistance and holdup vanish) gives the spectrum of the electrode
    with a uniform gas pO2 (no gas mesh) to 1e-6 from 1 MHz to 0.1 Hz (measured ~1e-11).
(3) 1D reference (an independent route): the straight columns reduce to three rails along z, fields uniform
    across x and y (lateral variations O((h / delta)^2) ~ 1e-4), linearised about equilibrium with constant
    coefficients: ionic and electronic potentials phi_i, phi_e [V] of the slab (cross-section A_s = 2 h^2)
    and the O2 mole fraction xi [-] of the pores (A_g = 2 h^2), coupled by the wall exchange on the
    perimeter P = 2 h, per unit input voltage at the collector:

        A_s C_chem i w (phi_i - phi_e) - A_s sigma_ion phi_i'' + P i_x = 0         (ions, A/m)
        sigma_ion phi_i'' + sigma_el phi_e'' = 0                                   (total charge)
        A_g c_t i w xi - A_g c_t D_12 xi'' + P i_x / (4F) = 0                      (O2 in the gas, mol/(m s))
        i_x = (phi_i - phi_e + (R T / (4 F x0)) xi) / R_s                          (exchange, A/m^2)

    with sigma_ion phi_i' = phi_i / R_t, phi_e' = 0, xi' = 0 at z = 0 (electrolyte; electron-blocking; closed
    gas) and phi_e = 1, phi_i' = 0, xi = 0 at z = L (collector; ion-blocking; supply). The first-order system
    y' = A y of y = (phi_i, phi_i', phi_e, phi_e', xi, xi') is solved exactly, y(L) = expm(A L) y(0), the three
    unknowns of y(0) from the three conditions at L; Z A_proj = A_proj / (A_s phi_i'(0) sigma_ion), A_proj =
    4 h^2. The FE spectrum equals it to 1e-3 from 3 kHz to 0.1 Hz (measured 7e-5: the FE's discretisation
    along z and across the slab); the gas part Z - Z(uniform gas), 5 % of Z, is then right to ~1e-3 of
    itself.
(4) The frequency solvers on the block system: presb (GMRES + PRESB, MUMPS inner solves), direct (MUMPS on
    the real 2N system) and the reduced sweep agree to 1e-8 (reduced, built to the tolerance 1e-6: 1e-5).
Tests marked mpi record the same numbers on 1 and 2 ranks.
"""
from __future__ import annotations

import numpy as np
import pytest

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.materials.defects import DefectChemistry
from femiec.problems.miec_electrode import PorousMIECElectrode
from femiec.problems.pore_gas import GasTransport

pytestmark = pytest.mark.mpi

MATERIAL = DefectChemistry(acceptor=4000.0, reduction_prefactor=2e-7, reduction_enthalpy=0.0,
                           intrinsic_prefactor=1e-8, intrinsic_enthalpy=0.0, vacancy_mobility=2.6e-9,
                           electron_mobility=1e-2, hole_mobility=1e-2, name="electronic MIEC, constant K")
T, PRESSURE, VOXEL, GAS_PRESSURE, SLOW_GAS = 1000.0, 0.21e5, 1e-7, 1e5, 1e-7
ELECTRONS = MATERIAL.electrons_at(np.array([PRESSURE]), T)[0]
SIGMA_ION = float(MATERIAL.ionic_conductivity(ELECTRONS, T))
SIGMA_EL = float(MATERIAL.electronic_conductivity(ELECTRONS, T))
CAPACITANCE = float(MATERIAL.chemical_capacitance(ELECTRONS, T))
RESISTANCE, TRANSFER = (40 * VOXEL) ** 2 / (SIGMA_ION * VOXEL), 1e-9
COLUMNS = 80


def _electrode(comm, diffusivity=None):
    image = np.zeros((4, 1, COLUMNS), dtype=np.uint8)
    image[1:3] = 1
    gas = None if diffusivity is None else GasTransport(binary_diffusivity=diffusivity, pressure=GAS_PRESSURE)
    electrode = PorousMIECElectrode(image, VOXEL, MATERIAL, temperature=T, oxygen_pressure=PRESSURE,
                                    surface_resistance=RESISTANCE, transfer_resistance=TRANSFER,
                                    reactive_area="voxel", comm=comm, gas=gas, newton_tolerance=1e-11)
    electrode.solve(0.0)
    return electrode


def _rails_reference(frequency: float, diffusivity: float) -> complex:
    """Z A_proj [Ohm m^2] of the three-rail line of (3) in the module docstring."""
    from scipy.linalg import expm

    h, length = VOXEL, COLUMNS * VOXEL
    solid, gas, perimeter, projected = 2 * h * h, 2 * h * h, 2 * h, 4 * h * h
    omega, x0 = 2 * np.pi * frequency, PRESSURE / GAS_PRESSURE
    total = GAS_PRESSURE / (GAS_CONSTANT * T)
    k = GAS_CONSTANT * T / (4 * FARADAY * x0)  # d Delta / d xi [V]
    exchange = np.array([1, 0, -1, 0, k, 0]) * perimeter / RESISTANCE  # P i_x [A/m] of y
    A = np.zeros((6, 6), dtype=complex)
    A[0, 1] = A[2, 3] = A[4, 5] = 1
    A[1] = (solid * CAPACITANCE * 1j * omega * np.array([1, 0, -1, 0, 0, 0]) + exchange) / (solid * SIGMA_ION)
    A[3] = -SIGMA_ION / SIGMA_EL * A[1]
    A[5] = (gas * total * 1j * omega * np.array([0, 0, 0, 0, 1, 0]) + exchange / (4 * FARADAY)) / (
        gas * total * diffusivity)
    start = np.zeros((6, 3), dtype=complex)  # y(0) = j (sigma R_t, 1, 0, ...) + phi_e(0) e_3 + xi(0) e_5
    start[0, 0], start[1, 0], start[2, 1], start[4, 2] = SIGMA_ION * TRANSFER, 1, 1, 1
    end = expm(A * length) @ start
    slope, _, _ = np.linalg.solve(end[[2, 1, 4]], np.array([1, 0, 0]))
    return projected / (solid * SIGMA_ION * slope)


def test_dc_limit(comm, numbers):
    """(1) of the module docstring."""
    electrode = _electrode(comm, SLOW_GAS)
    dc = electrode.impedance([0.0]).area_specific[0]
    step = 1e-3
    central = 2 * step / (electrode.solve(step) - electrode.solve(-step))
    uniform = _electrode(comm).impedance([0.0]).area_specific[0].real
    numbers.record("asr_ohm_m2", [dc.real, central, uniform])
    assert dc.imag == 0.0
    assert abs(dc.real / central - 1) < 1e-4, (dc, central)
    assert dc.real / uniform - 1 > 0.04, (dc, uniform)  # the gas adds ~5 %


def test_fast_gas_is_uniform(comm, numbers):
    """(2) of the module docstring."""
    frequency = np.logspace(6, -1, 8)
    fast = _electrode(comm, 1e3).impedance(frequency).area_specific
    uniform = _electrode(comm).impedance(frequency).area_specific
    error = np.abs(fast - uniform) / np.abs(uniform)
    numbers.record("z_fast_gas", np.concatenate([fast.real, fast.imag[:4]]))  # Im Z below 1 kHz: ~rounding
    assert error.max() < 1e-6, error


def test_rails_reference(comm, numbers):
    """(3) of the module docstring."""
    frequency = np.array([3e3, 1e3, 3e2, 1e2, 10.0, 0.1])
    Z = _electrode(comm, SLOW_GAS).impedance(frequency).area_specific
    reference = np.array([_rails_reference(f, SLOW_GAS) for f in frequency])
    error = np.abs(Z - reference) / np.abs(reference)
    numbers.record("z_ohm_m2", np.concatenate([Z.real, Z.imag[:-1]]))  # Im Z at 0.1 Hz: 1e-5 of Re Z
    assert error.max() < 1e-3, error


def test_frequency_solvers(comm, numbers):
    """(4) of the module docstring."""
    frequency = np.logspace(5, 0, 6)
    electrode = _electrode(comm, SLOW_GAS)
    presb = electrode.impedance(frequency)
    direct = electrode.impedance(frequency, method="direct").impedance
    reduced = electrode.impedance(frequency, method="reduced", reduced_tol=1e-6).impedance
    numbers.record("z_presb_ohm", np.concatenate([presb.impedance.real, presb.impedance.imag]))
    assert presb.unknowns == 2 * (3 * 2 * 81) + 2 * 4 * 81  # u and psi_el on the slab's nodes, x on the pores'
    np.testing.assert_allclose(direct, presb.impedance, rtol=1e-8)
    np.testing.assert_allclose(reduced, presb.impedance, rtol=1e-5)
