"""O2 diffusion in the pores of the resolved porous MIEC electrode (femiec.problems.pore_gas, gas=GasTransport)
on the straight columns of test_miec_electrode (voxel 0.1 um, 4 x 1 x 80 voxels: an MIEC slab 0.2 um wide
between two half pores, L = 8 um), in air (pO2 = 0.21e5 Pa at p = 1e5 Pa, x0 = 0.21) at 1000 K, linear
exchange with delta = 40 voxels (R_s = delta^2 / (sigma_ion h)).

(a) A gas without resistance (D_12 = 1e3 m^2/s, no Knudsen term: x varies by ~1e-11) gives the uniform-pO2
    electrode's ASR: the coupled central difference (step 1 mV) equals the uniform electrode's central
    difference to 1e-9 (measured 3e-12) and its zero-frequency impedance to 1e-6 (the difference's own
    truncation, 6e-7).
(b) Gas-limited ASR: with the Fuller D_12 (1.75e-4 m^2/s at 1000 K) and pores of d = 1 um, 100 nm, 10 nm
    (Bosanquet D_eff = 1.06e-4, 2.35e-5, 2.67e-6 m^2/s) the ASR rises monotonically above the uniform one.
    Bound: if all the O2 crossed the whole L, the gas would add R_gas = (R T)^2 L / (16 F^2 p D_eff x0 eps)
    (eps = 1/2 the pore fraction of the cross-section) = 1.3e-7 Ohm m^2 at 10 nm, 7.9e-3 of the ASR
    1.67e-5 Ohm m^2; measured 2.2e-3, 2.5e-4, 5.5e-5 (the O2 is taken up over the depth), asserted in
    (1e-3, 1e-2) at 10 nm.
(c) O2 conservation at eta = 0.05 V, d = 100 nm: the O2 supplied at z = L (the consistent flux of the gas's
    supply row) equals the O2 through the walls on the gas side (Newton of the gas, 1e-12 in x) and the
    solid's wall exchange current / (4F) (the same i_x of the same nodal values at the same quadrature
    points, to the pass tolerance 1e-12 in x) to 1e-10.
Tests marked mpi record the same numbers on 1 and 2 ranks.
"""
from __future__ import annotations

import numpy as np
import pytest

from femiec.constants import FARADAY
from femiec.materials.defects import DefectChemistry
from femiec.problems.miec_electrode import PorousMIECElectrode
from femiec.problems.pore_gas import GasTransport

pytestmark = pytest.mark.mpi

MATERIAL = DefectChemistry(acceptor=4000.0, reduction_prefactor=2e-7, reduction_enthalpy=0.0,
                           intrinsic_prefactor=1e-8, intrinsic_enthalpy=0.0, vacancy_mobility=2.6e-9,
                           electron_mobility=1e-2, hole_mobility=1e-2, name="electronic MIEC, constant K")
T, PRESSURE, VOXEL = 1000.0, 0.21e5, 1e-7
SIGMA_ION = float(MATERIAL.ionic_conductivity(MATERIAL.electrons_at(np.array([PRESSURE]), T)[0], T))
RESISTANCE = (40 * VOXEL) ** 2 / (SIGMA_ION * VOXEL)


def _electrode(comm, gas=None):
    image = np.zeros((4, 1, 80), dtype=np.uint8)
    image[1:3] = 1
    return PorousMIECElectrode(image, VOXEL, MATERIAL, temperature=T, oxygen_pressure=PRESSURE,
                               surface_resistance=RESISTANCE, comm=comm, gas=gas,
                               newton_tolerance=1e-13 if gas is None else 1e-11)


def _central_asr(electrode, step=1e-3):
    return 2 * step / (electrode.solve(step) - electrode.solve(-step))


def test_gas_limited_asr(comm, numbers):
    """(a) and (b) of the module docstring."""
    uniform = _electrode(comm)
    impedance_asr, uniform_asr = uniform.area_specific_resistance(), _central_asr(uniform)
    free = _electrode(comm, GasTransport(binary_diffusivity=1e3)).area_specific_resistance()
    assert abs(free / uniform_asr - 1) < 1e-9, (free, uniform_asr)
    assert abs(free / impedance_asr - 1) < 1e-6, (free, impedance_asr)
    rises = np.array([_electrode(comm, GasTransport(pore_diameter=d)).area_specific_resistance() / uniform_asr - 1
                      for d in (1e-6, 1e-7, 1e-8)])
    numbers.record("asr_ohm_m2", [impedance_asr, uniform_asr, free])
    numbers.record("asr_rise", rises)
    assert np.all(rises > 0) and np.all(np.diff(rises) > 0), rises
    assert 1e-3 < rises[-1] < 1e-2, rises


def test_gas_oxygen_conservation(comm, numbers):
    """(c) of the module docstring."""
    electrode = _electrode(comm, GasTransport(pore_diameter=1e-7))
    electrode.solve(0.05)
    supplied, walls = electrode.gas.supplied_oxygen(), electrode.gas.wall_oxygen()
    solid = electrode.wall_current() / (4 * FARADAY)
    numbers.record("oxygen_mol_s", [supplied, walls, solid])
    numbers.record("passes", electrode.gas.passes)
    assert abs(supplied / walls - 1) < 1e-10, (supplied, walls)
    assert abs(solid / walls - 1) < 1e-10, (solid, walls)
