"""Diffusion-lag radius of resolved particles (femiec.studies.diffusion_lag) against closed forms: a slab
fed through one face (exact for Q1 on voxels) and a voxelised sphere (converging with its radius)."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.studies.diffusion_lag import diffusion_lag

VOXEL = 1e-6  # m


def _sphere(radius: float):
    """A voxelised sphere of ``radius`` voxels (centre off the grid) in electrolyte: labels, pore mask."""
    n = int(2 * radius) + 4
    x = np.arange(n) + 0.5 - n / 2
    X, Y, Z = np.meshgrid(x - 0.37, x - 0.11, x - 0.23, indexing="ij")
    inside = X ** 2 + Y ** 2 + Z ** 2 < radius ** 2
    return inside.astype(np.int64), ~inside


@pytest.mark.mpi
@pytest.mark.parametrize("connectivity", ["vertex", "face"])
def test_slab_fed_through_one_face(connectivity, numbers):
    """A slab of thickness L = 8 voxels fed through its -x face (4 x 3 voxels across, insulated elsewhere):
    u - u_Gamma = s x (2L - x) / (2D), lag s L^2 / (3D), R_p = sqrt(15 D lag / s) = sqrt(5) L. Q1 on the
    voxels is exact at the nodes of this 1D profile and its integral misses L h^2 / 12, so the lag of every
    surface condition is exactly L^2/3 - h^2/12 (to 1e-10): R_p = sqrt(5 L^2 - 5 h^2 / 4). With linearised
    kinetics (kinetic length l = D/k = 3 voxels) u_Gamma = s L l / D and the lag <u> - s L l / D is the same."""
    L = 8
    labels = np.zeros((L + 2, 4, 3), dtype=np.int64)
    labels[1:L + 1] = 1
    pore = np.zeros(labels.shape, dtype=bool)
    pore[0] = True
    lag = diffusion_lag(labels, pore, labels > 0, VOXEL, connectivity=connectivity, kinetic_length=3 * VOXEL)
    exact = np.sqrt(5 * L ** 2 - 5 / 4) * VOXEL
    for condition in ("flux", "concentration", "kinetics"):
        assert lag[f"radius_{condition}_m"][0] == pytest.approx(exact, rel=1e-10)
        assert lag[f"radius_{condition}_m_overall"] == pytest.approx(exact, rel=1e-10)
        numbers.record(f"{condition}_{connectivity}", lag[f"radius_{condition}_m"][0])
    assert lag["volume_m3"][0] == pytest.approx(L * 12 * VOXEL ** 3, rel=1e-12)


@pytest.mark.mpi
def test_sphere_converges_to_its_radius(numbers):
    """A voxelised sphere of radius R fed over its whole surface: lag s R^2 / (15 D), R_p = R. With a
    uniform flux per smooth area (reactive_area "smooth") R_p/R - 1 = -1.34%, -0.18%, +0.03%, +0.04% at
    R = 4, 8, 12, 16 voxels (per staircase area, "voxel": -1.1%, +0.32%, +0.58%, +0.61%: it stalls); at a
    uniform surface concentration the nodes of the staircase hold u = 0 and R_p = R - 0.75 voxel
    (-18.7%, -9.3%, -6.2%, -4.6%). Checked at R = 6 and 12 voxels."""
    errors = {}
    for radius in (6, 12):
        labels, pore = _sphere(radius)
        lag = diffusion_lag(labels, pore, labels > 0, VOXEL)
        errors[radius] = lag["radius_flux_m"][0] / (radius * VOXEL) - 1
        concentration = lag["radius_concentration_m"][0] / VOXEL
        assert concentration == pytest.approx(radius - 0.75, abs=0.03)
        numbers.record(f"flux_error_R{radius}", errors[radius])
        numbers.record(f"concentration_radius_R{radius}", concentration)
    assert abs(errors[6]) < 0.01 and abs(errors[12]) < 1e-3


@pytest.mark.mpi
def test_sphere_with_linearised_kinetics():
    """Linearised kinetics, -D grad u . n = k u on the surface: u = s R l / (3D) + s (R^2 - r^2) / (6D)
    (l = D/k), the lag <u> - s l V / (D A) = s R^2 / (15 D) for any l. On voxels (smooth area) R_p/R - 1 at
    R = 12 voxels: -4.3% at l = 0.1 voxel (near the uniform-concentration limit and its staircase error),
    -1.4% at l = 1, -0.18% at l = 10, +0.008% at l = 100 (the uniform-flux limit, +0.03%). Checked at
    l = 10 and 100 voxels: within 0.25% of R; at l = 1000 voxels the flux radius (1e-3)."""
    labels, pore = _sphere(12)
    for length, tolerance in ((10, 2.5e-3), (100, 2.5e-3)):
        lag = diffusion_lag(labels, pore, labels > 0, VOXEL, kinetic_length=length * VOXEL)
        assert lag["radius_kinetics_m"][0] == pytest.approx(12 * VOXEL, rel=tolerance)
    lag = diffusion_lag(labels, pore, labels > 0, VOXEL, kinetic_length=1e3 * VOXEL)
    assert lag["radius_kinetics_m"][0] == pytest.approx(lag["radius_flux_m"][0], rel=1e-3)


def test_two_particles_in_parallel():
    """Two separate slabs of thickness 4 and 8 voxels (3 x 3 across), each fed through one face: their own
    radii sqrt(5 L^2 - 5/4), and the electrode's radius of particles in parallel (module docstring of
    femiec.studies.diffusion_lag): uniform concentration R^2 = V / sum_p V_p / R_p^2, uniform flux
    R^2 = V / A^2 sum_p A_p^2 R_p^2 / V_p, kinetics (l = 5 voxels) 15 (V / sum_p V_p / r_p - l V / A), r_p =
    l V_p / A_p + R_p^2 / 15 (staircase area: the smooth weights vary near the gap between the slabs)."""
    labels = np.zeros((12, 7, 3), dtype=np.int64)
    labels[1:5, :3] = 1   # L = 4 (x 1..4), fed at x = 0
    labels[1:9, 4:] = 2   # L = 8, fed at x = 0
    pore = np.zeros(labels.shape, dtype=bool)
    pore[0] = True
    length = 5 * VOXEL
    lag = diffusion_lag(labels, pore, labels > 0, VOXEL, connectivity="face", reactive_area="voxel",
                        kinetic_length=length)
    R = np.sqrt(5 * np.array([4, 8]) ** 2 - 5 / 4) * VOXEL
    V, A = np.array([4 * 9, 8 * 9]) * VOXEL ** 3, np.array([9, 9]) * VOXEL ** 2
    for condition in ("flux", "concentration", "kinetics"):
        assert lag[f"radius_{condition}_m"] == pytest.approx(R, rel=1e-10)
    assert lag["area_m2"] == pytest.approx(A, rel=1e-12)
    assert lag["radius_concentration_m_overall"] == pytest.approx(np.sqrt(V.sum() / np.sum(V / R ** 2)), rel=1e-10)
    assert lag["radius_flux_m_overall"] == pytest.approx(
        np.sqrt(V.sum() / A.sum() ** 2 * np.sum(A ** 2 * R ** 2 / V)), rel=1e-10)
    r = length * V / A + R ** 2 / 15
    assert lag["radius_kinetics_m_overall"] == pytest.approx(
        np.sqrt(15 * (V.sum() / np.sum(V / r) - length * V.sum() / A.sum())), rel=1e-10)
