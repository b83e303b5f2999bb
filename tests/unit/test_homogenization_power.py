"""D_eff of the voxel finite volumes from the dissipated power, and CG stopped on its estimated error
(femiec.homogenization.ksp.minimize_power)."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.homogenization import homogenize
from femiec.homogenization.ksp import POWER_ERROR_SAFETY
from femiec.homogenization.synthetic import overlapping_spheres


def _three_phases(shape):
    image = overlapping_spheres(shape, 0.4, 3.0, seed=1)  # 0 pore, 1 solid spheres
    small = overlapping_spheres(shape, 0.8, 1.5, seed=2)
    image[(image == 0) & (small == 1)] = 2  # small inclusions in the pore
    return image


CASES = {
    "one conductivity (two levels)": (lambda: overlapping_spheres((40, 36, 32), 0.4, 4.0, seed=3), {0: 1.0}),
    "contrast 1e4 (BoomerAMG)": (lambda: _three_phases((32, 30, 28)), {0: 1e-4, 1: 1.0, 2: 1e4}),
}


@pytest.mark.mpi
@pytest.mark.parametrize("case", list(CASES))
def test_power_bounds_deff_from_above_within_rtol(comm, numbers, case):
    """Oracle: the power identity P(x* + e) = P(x*) + e^T A e. D_eff from the power of any CG iterate is
    an upper bound of the converged value (rtol 1e-13), its true relative error stays below each rtol
    from 1e-2 to 1e-8 (the estimate times the safety factor 2 is below rtol, and the estimate was within
    0.6-1.6x of the true error on these images), and the inlet/outlet mismatch m obeys m^2 <= rtol."""
    make, phases = CASES[case]
    image = make()
    exact = homogenize(image, phases, axes="x", comm=comm, rtol=1e-13).axes["x"]
    numbers.record("deff_exact", exact.deff_ratio)
    iterations = []
    for rtol in (1e-2, 1e-4, 1e-6, 1e-8):
        axis = homogenize(image, phases, axes="x", comm=comm, rtol=rtol).axes["x"]
        error = axis.deff_ratio / exact.deff_ratio - 1.0
        assert -1e-12 <= error <= rtol, (rtol, error)
        assert POWER_ERROR_SAFETY * axis.deff_error <= rtol
        assert axis.flux_mismatch**2 <= rtol
        iterations.append(axis.iterations)
    assert iterations == sorted(iterations) and iterations[0] >= 3
    result = homogenize(image, phases, axes="x", comm=comm, rtol=1e-8)
    header, row = result.report().splitlines()[1:3]
    assert header.split()[-2:] == ["D_eff", "err"]
    assert float(row.split()[-1]) == pytest.approx(result.axes["x"].deff_error, rel=0.05)


@pytest.mark.mpi
def test_straight_channel_is_exact_without_iterating(comm):
    """Oracle: a straight channel of one conductivity conducts D_eff/D0 = its area fraction, and the
    linear initial guess is its exact potential: CG has nothing to gain (at most one step, stopped on
    the round-off rule) and reports a zero error estimate at machine precision."""
    image = np.ones((12, 9, 8), dtype=np.uint8)
    image[:, 2:6, 3:7] = 0
    axis = homogenize(image, [0], axes="x", comm=comm).axes["x"]
    assert axis.iterations <= 1
    assert abs(axis.deff_ratio - 16 / 72) <= 1e-14
    assert axis.deff_error <= 1e-15


@pytest.mark.mpi
def test_tensor_and_fields_also_converge_the_currents(comm, tmp_path):
    """Oracle: the transverse entries come from the boundary currents, which err linearly in the error
    of the potential: with the three axes (or fields) CG also meets the residual criterion, so the
    current mismatch of every axis is of the order of rtol, not of sqrt(rtol) as for one axis."""
    image = overlapping_spheres((24, 22, 20), 0.45, 3.0, seed=5)
    one = homogenize(image, [0], axes="x", comm=comm, rtol=1e-8)
    tensor = homogenize(image, [0], axes="all", comm=comm, rtol=1e-8)
    assert "unpreconditioned residual" in tensor.solver["criterion"]
    assert "unpreconditioned residual" not in one.solver["criterion"]
    assert max(a.flux_mismatch for a in tensor.axes.values()) < 1e-6
    assert tensor.axes["x"].iterations >= one.axes["x"].iterations
    fields = homogenize(image, [0], axes="x", comm=comm, rtol=1e-8, out_dir=tmp_path / "fields")
    assert fields.axes["x"].iterations == tensor.axes["x"].iterations
