"""The iterative path of the porous MIEC electrode (femiec.problems.miec_electrode) against the direct one.

Image: 8^3 voxels of overlapping MIEC spheres (radius 2 voxels, porosity 0.4; the interior of a 16^3
box, the benchmark's image at N = 8), voxel 0.1 um, Butler-Volmer exchange; the material of
benchmarks/bench_miec_electrode.py.
(a) Steady current at eta = 0.05 V: ``preset="fieldsplit"`` (inexact Newton-Krylov, FGMRES to 1e-4 with
    one BoomerAMG V-cycle per block, Newton on its update to 1e-10) equals the MUMPS Newton's to 1e-6
    relative (both stop on an update below 1e-10; measured 1e-10).
(b) Spectrum about that state (30 frequencies over 6 decades of the diffusion time, 5 per decade):
    ``method="reduced", inner="fieldsplit"`` (inner_rtol 1e-8, reduced_tol 1e-4, the battery electrode's
    settings) equals PRESB with MUMPS inner solves (rtol 1e-12) to 1e-4 in |Z| (relative, at every
    frequency) and in the phase (radians); measured 3e-7 (2e-7 rad).
Tests marked mpi record the same numbers on 1 and 2 ranks.
"""
from __future__ import annotations

import numpy as np
import pytest

from femiec.forms.miec import exchange_resistance
from femiec.homogenization.synthetic import overlapping_spheres
from femiec.materials.defects import DefectChemistry
from femiec.problems.miec_electrode import PorousMIECElectrode, connected_solid
from femiec.studies.impedance import frequencies

pytestmark = pytest.mark.mpi

MATERIAL = DefectChemistry(acceptor=4000.0, reduction_prefactor=2e-7, reduction_enthalpy=0.0,
                           intrinsic_prefactor=1e-8, intrinsic_enthalpy=0.0, vacancy_mobility=2.6e-9,
                           electron_mobility=1e-2, hole_mobility=1e-2, name="electronic MIEC, constant K")
T, PRESSURE, R_S, VOXEL, SIZE = 1000.0, 1e-21, 1e-5, 1e-7, 8


def _electrode(comm, preset):
    spheres = overlapping_spheres([SIZE + 8] * 3, 0.4, 2.0, seed=1)
    image = connected_solid(spheres[4:-4, 4:-4, 4:-4], solid=1, pore=0)
    return PorousMIECElectrode(image, VOXEL, MATERIAL, temperature=T, oxygen_pressure=PRESSURE, comm=comm,
                               exchange_rate=exchange_resistance(R_S, T), preset=preset)


def test_iterative_path_matches_direct(comm, numbers):
    """(a) steady current to 1e-6, (b) |Z| and phase to 1e-4."""
    direct, iterative = _electrode(comm, "direct"), _electrode(comm, "fieldsplit")
    currents = [electrode.solve(0.05) for electrode in (direct, iterative)]
    f = frequencies(1e-3 / direct.problem.diffusion_time(), 1e3 / direct.problem.diffusion_time(), 5)[:30]
    z_direct = direct.impedance(f, method="presb", reuse_decades=0.5).area_specific
    z_iterative = iterative.impedance(f, method="reduced", inner="fieldsplit", inner_rtol=1e-8,
                                      reduced_tol=1e-4).area_specific
    numbers.record("current_density_A_m2", currents[0])
    numbers.record("Z_ohm_m2", np.column_stack([z_direct.real, z_direct.imag]))
    assert abs(currents[1] / currents[0] - 1) < 1e-6, currents
    assert np.all(np.abs(np.abs(z_iterative) / np.abs(z_direct) - 1) < 1e-4), np.abs(z_iterative / z_direct - 1)
    assert np.all(np.abs(np.angle(z_iterative / z_direct)) < 1e-4)


@pytest.mark.parametrize("preset", ["direct", "fieldsplit"])
def test_steady_solve_after_a_spectrum(comm, preset):
    """A spectrum frees the steady solver's preconditioner (PorousMIECElectrode.impedance): the next steady
    solve gives the current of an electrode that ran no spectrum, with the same Newton iterations: to 1e-12
    with the direct preset (measured 0 and 2e-16) and to the Newton tolerance 1e-10 with the fieldsplit
    one, whose FGMRES sums its dot products in an order that depends on where its vectors lie in memory
    (1.6e-11 once in a full-suite run, 0 in this file alone)."""
    electrodes = [_electrode(comm, preset) for _ in range(2)]
    for electrode in electrodes:
        electrode.solve(0.05)
    electrodes[0].impedance([1.0, 10.0], method="presb")
    currents = [electrode.solve(0.06) for electrode in electrodes]
    newton = [electrode.problem.records[-1]["newton_iterations"] for electrode in electrodes]
    assert abs(currents[0] / currents[1] - 1) < (1e-12 if preset == "direct" else 1e-10), currents
    assert newton[0] == newton[1], newton


def test_a_block_without_storage_keeps_its_v_cycle_across_shifts(comm, monkeypatch):
    """The reduced sweep's shift solves with inner fieldsplit: psi_el has no storage, so its diagonal block
    of B = J + s M is J's at every shift s and its BoomerAMG V-cycle is set up once
    (Linearization.static). Against the same sweep with every block set up at every shift (static switched
    off): the same spectrum to 1e-12 (the same hierarchy from the same matrix; measured 0) with fewer
    BoomerAMG set-ups (each converts its block to hypre's format: PETSc's MatConvert events, 21 -> 12 on
    one rank; PCSetUp events do not count the nested sub-solvers' set-ups)."""
    from petsc4py import PETSc

    from femiec.studies import impedance

    electrode = _electrode(comm, "fieldsplit")
    electrode.solve(0.05)
    f = frequencies(1e-3 / electrode.problem.diffusion_time(), 1e3 / electrode.problem.diffusion_time(), 5)[:30]
    PETSc.Log.begin()
    setups = PETSc.Log.Event("MatConvert")
    spectra, counts = [], []
    for keep in (True, False):
        if not keep:
            linearize = impedance.linearize

            def every_block_set_up(*args, **kwargs):
                lin = linearize(*args, **kwargs)
                lin.static = [False] * len(lin.static)
                return lin
            monkeypatch.setattr(impedance, "linearize", every_block_set_up)
        before = setups.getPerfInfo()["count"]
        spectra.append(electrode.impedance(f, method="reduced", inner="fieldsplit", inner_rtol=1e-8,
                                           reduced_tol=1e-4).area_specific)
        counts.append(setups.getPerfInfo()["count"] - before)
    assert np.max(np.abs(spectra[0] / spectra[1] - 1)) < 1e-12
    assert counts[0] < counts[1], counts
