"""The resolved porous MIEC electrode (femiec.problems.miec_electrode) on a straight-column image.

Geometry: voxels h = 0.1 um, image 4 x 1 x N_z with the MIEC slab in the two middle x-planes (width w = 2h)
between two half pores (h each, mirror faces at x = 0 and 4h): porosity 1/2, walls per volume a = 1/(2h)
exactly (flat walls: smooth weight 1), tortuosity 1 (the femiec.studies.miec_als descriptors find them).
Material: the constant-K acceptor-doped oxide of test_miec_transport with electron mobility 1e-2 m^2/(V s)
(sigma_el / sigma_ion = 3e4 at pO2 = 1e-21 Pa, T = 1000 K: ALS's ideal electronic rail to ~1e-5).
The electrolyte transfer resistance R_t = 1e-9 Ohm m^2 adds R_t / f = 2e-9 Ohm m^2 in series.

(a) ALS: the 1D transmission line with a, tau = 1, sigma_eff = sigma_ion / 2 is the exact homogenised limit:
    ASR_ALS = R_t / f + R_chem coth(L / delta). With delta = 40 h = 20 w and L = 80 h the resolved ASR
    (central difference of the steady current, step 1e-3 V) equals it to 1e-3: the lateral gradient across
    the slab adds O((w / delta)^2 / 12) ~ 2e-4; halving the voxel (the same geometry on 8 x 2 x 160 voxels)
    changes the ASR by < 1e-4 (Q1 error O((h / delta)^2)).
(b) Conservation at eta = 0.05 V with Butler-Volmer exchange (r0 = R T / (4 F^2 R_s)): div i_ion = 0 with
    natural fluxes on every face but the collector, so the ionic current from the electrolyte equals the
    wall exchange current to 1e-10 (Newton to 1e-13). The collector current (the consistent flux of the
    total-charge row) equals the electrolyte's to 1e-8: that row's residual sits at rounding, 1e-16 of
    |psi_el| ~ 1.3 V times the electrolyte term 1/R_t = 1e9 S/m^2 (measured 5e-10 relative).
(c) Impedance (presb, direct inner solves) about equilibrium, delta = 40 h, L = 200 h (L / delta = 5): at
    omega t_chem = 1e-5 Re(Z A_proj) equals the steady ASR to 1e-6 (Z - Z(0) = O(omega t_chem)); at
    omega t_chem = 10, 30, 100 the phase of Z follows the closed-form Gerischer (femiec.analytic.
    mixed_conductors.als_impedance) to 0.5 degrees and is within 1 degree of -45 at omega t_chem = 100 (the
    closed form there: -44.7 degrees): the AC penetration depth delta / (omega t_chem)^(1/4) >= 4 w keeps
    the lateral correction below (w / delta_omega)^2 / 12 ~ 0.5%.
Tests marked mpi record the same numbers on 1 and 2 ranks.
"""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.mixed_conductors import als_impedance
from femiec.forms.miec import exchange_resistance
from femiec.materials.defects import DefectChemistry
from femiec.problems.miec_electrode import PorousMIECElectrode
from femiec.studies.miec_als import als_reference, image_descriptors

pytestmark = pytest.mark.mpi

MATERIAL = DefectChemistry(acceptor=4000.0, reduction_prefactor=2e-7, reduction_enthalpy=0.0,
                           intrinsic_prefactor=1e-8, intrinsic_enthalpy=0.0, vacancy_mobility=2.6e-9,
                           electron_mobility=1e-2, hole_mobility=1e-2, name="electronic MIEC, constant K")
T, PRESSURE, VOXEL, TRANSFER = 1000.0, 1e-21, 1e-7, 1e-9
SIGMA_ION = float(MATERIAL.ionic_conductivity(MATERIAL.electrons_at(np.array([PRESSURE]), T)[0], T))


def _columns(refine: int, cells_z: int) -> np.ndarray:
    image = np.zeros((4 * refine, refine, cells_z * refine), dtype=np.uint8)
    image[refine:3 * refine] = 1
    return image


def _resistance(delta: float) -> float:
    """R_s [Ohm m^2] that gives the utilisation length delta [m]: delta^2 = sigma_ion R_s h (a = 1/(2h))."""
    return delta ** 2 / (SIGMA_ION * VOXEL)


def _electrode(comm, refine, cells_z, **exchange):
    return PorousMIECElectrode(_columns(refine, cells_z), VOXEL / refine, MATERIAL, temperature=T,
                               oxygen_pressure=PRESSURE, transfer_resistance=TRANSFER, comm=comm,
                               newton_tolerance=1e-13, **exchange)


def _reference(comm, image, voxel, resistance):
    return als_reference(image_descriptors(image, voxel, comm), MATERIAL, temperature=T, oxygen_pressure=PRESSURE,
                         surface_resistance=resistance, transfer_resistance=TRANSFER)


def test_columns_match_als(comm, numbers):
    """(a) The resolved ASR of straight columns equals the ALS closed form; mesh convergence."""
    resistance = _resistance(40 * VOXEL)
    asr = []
    for refine in (1, 2):
        electrode = _electrode(comm, refine, 80, surface_resistance=resistance)
        asr.append(electrode.area_specific_resistance())
    als, expected = _reference(comm, electrode.image, VOXEL / 2, resistance)
    assert als.utilization_length == pytest.approx(40 * VOXEL, rel=1e-9)
    errors = np.array(asr) / expected - 1
    numbers.record("asr_ohm_m2", asr)
    numbers.record("als_asr_ohm_m2", expected)  # (their relative error amplifies 1 vs 2 rank rounding: not kept)
    assert np.all(np.abs(errors) < 1e-3), errors
    assert abs(asr[1] / asr[0] - 1) < 1e-4


def test_conservation(comm, numbers):
    """(b) Ionic current from the electrolyte = wall exchange current = collector current (1e-10)."""
    # r0 = R T / (4 F^2 R_s): the same formula as R_s(r0)
    electrode = _electrode(comm, 1, 80, exchange_rate=exchange_resistance(_resistance(40 * VOXEL), T))
    current = electrode.solve(0.05) * electrode.projected_area
    walls, electrolyte = electrode.wall_current(), electrode.electrolyte_current()
    numbers.record("current_A", current)
    numbers.record("utilisation_depth_m", electrode.utilisation_depth())
    assert abs(walls + electrolyte) < 1e-10 * abs(walls)
    assert abs(current - electrolyte) < 1e-8 * abs(current)


def test_impedance_gerischer(comm, numbers):
    """(c) Low-frequency limit = the steady ASR of two steady solves, 2 step / (i(+step) - i(-step)) at
    step = 1 mV (truncation 1.4e-7); Gerischer phase at delta << L."""
    resistance = _resistance(40 * VOXEL)
    electrode = _electrode(comm, 1, 200, surface_resistance=resistance)
    step = 1e-3
    asr = 2 * step / (electrode.solve(step) - electrode.solve(-step))
    electrode.solve(0.0)
    als, _ = _reference(comm, electrode.image, VOXEL, resistance)
    scaled = np.array([100.0, 30.0, 10.0, 1e-5])
    spectrum = electrode.impedance(scaled / (2 * np.pi * als.time_constant), method="presb", reuse_decades=0.0)
    z = spectrum.area_specific
    phase = np.degrees(np.angle(z[:3]))
    closed = np.degrees(np.angle(als_impedance(scaled[:3] / als.time_constant, als, 200 * VOXEL)))
    numbers.record("Z_ohm_m2", np.column_stack([z.real, z.imag]))
    numbers.record("phase_deg", phase)
    assert abs(z[-1].real / asr - 1) < 1e-6, (z[-1], asr)
    assert np.all(np.abs(phase - closed) < 0.5), (phase, closed)
    assert abs(phase[0] + 45) < 1.0
