"""Contact (interface) resistance between phases in the finite-volume mode: laminates in closed form."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.homogenization import laminate_with_contact_resistance
from femiec.homogenization import homogenize

TIGHT = 1e-12


@pytest.mark.mpi
def test_contact_resistance_adds_in_series_across_a_laminate(comm, numbers):
    """Oracle: layers normal to x, thicknesses L_i and conductivities s_i (S/m), with a specific contact
    resistance R_ab (ohm m^2) on each interface between phases a and b: the series resistance per unit
    area is R = sum L_i / s_i + sum over interfaces R_ab exactly, so sigma_eff,x = L / R
    (femiec.analytic.homogenization.laminate_with_contact_resistance). Along the layers (y, z) the
    potential is uniform on every cross-section, no current crosses an interface, and the arithmetic mean
    sum f_i s_i is unaffected. The two-point flux with the resistance in series reproduces both exactly."""
    h = 1e-6
    thickness = [3, 2, 4, 1, 2]  # voxels; phases 1 | 2 | 3 | 1 | 2: interfaces 1|2, 2|3, 3|1, 1|2
    phases = [1, 2, 3, 1, 2]
    sigma = {1: 1.0, 2: 4.0, 3: 0.5}
    resistance = {(1, 2): 2e-6, (2, 3): 5e-7}  # none between 3 and 1
    image = np.repeat(np.array(phases, dtype=np.uint8), thickness)[:, None, None] * np.ones((1, 5, 4), np.uint8)
    result = homogenize(image, sigma, axes="all", voxel_size=h, comm=comm, rtol=TIGHT,
                        contact_resistance={"1:2": 2e-6, "3:2": 5e-7})
    layers = [(t * h, sigma[p]) for t, p in zip(thickness, phases)]
    interfaces = [resistance.get((min(a, b), max(a, b)), 0.0) for a, b in zip(phases, phases[1:])]
    across = laminate_with_contact_resistance(layers, interfaces)
    along = sum(t * sigma[p] for t, p in zip(thickness, phases)) / sum(thickness)
    numbers.record("sigma_eff", np.diag(result.tensor))
    assert result.axes["x"].deff_ratio == pytest.approx(across, rel=1e-10)
    assert result.tensor == pytest.approx(np.diag([across, along, along]), rel=1e-10, abs=1e-12)
    without = homogenize(image, sigma, axes="x", voxel_size=h, comm=comm, rtol=TIGHT).axes["x"].deff_ratio
    assert without == pytest.approx(laminate_with_contact_resistance(layers, [0.0] * 4), rel=1e-10)
    assert across < 0.8 * without  # the resistances matter at this voxel size


@pytest.mark.mpi
def test_contact_resistance_between_particles_and_matrix_lowers_a_sphere_packing(comm, numbers):
    """Oracle (bounds): with a contact resistance between two phases the effective conductivity lies
    between the value with no resistance (R_c = 0) and the value with the second phase insulating
    (R_c -> infinity), and decreases monotonically with R_c."""
    from femiec.homogenization.synthetic import overlapping_spheres

    image = overlapping_spheres((16, 16, 16), 0.5, 2.5, seed=4)  # 0 = matrix, 1 = spheres
    sigma = {0: 1.0, 1: 10.0}
    values = [homogenize(image, sigma, voxel_size=1e-6, comm=comm, rtol=TIGHT,
                         contact_resistance={(0, 1): r} if r else None).axes["x"].deff_ratio
              for r in (0.0, 1e-7, 1e-6, 1e-5)]
    insulating = homogenize(image, [0], comm=comm, rtol=TIGHT).axes["x"].deff_ratio
    numbers.record("deff", values)
    assert values[0] > values[1] > values[2] > values[3] > insulating
