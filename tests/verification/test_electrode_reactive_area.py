"""The resolved electrode's reactive area on a voxel mesh: ``reactive_area = "smooth"`` weights the
interface facets to the smooth surface's area (femiec.meshing.interface_area), "voxel" keeps the staircase."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.errors import InputError

H = 1e-6  # voxel edge [m]


def _sphere_image() -> np.ndarray:
    """A 12^3 image (1 um voxels): a sphere of radius 4 voxels (value 1, "nmc") at a generic centre in
    electrolyte (0, "pore")."""
    x = np.meshgrid(*[np.arange(12) + 0.5] * 3, indexing="ij")
    centre = (6.2, 5.9, 6.1)
    return (sum((xi - ci) ** 2 for xi, ci in zip(x, centre)) < 16).astype(np.uint8)


def _problem(meshdata, reactive_area):
    from femiec.problems.electrode import ElectrodeProblem

    # fast solid diffusion, electrolyte transport and conduction: the particle's surface follows its mean
    # and the potentials are uniform, so the voltage loss is the charge-transfer overpotential alone
    return ElectrodeProblem(meshdata, electrolyte_regions=["pore"], active_regions=["nmc"], separator=["xmin"],
                            collector=["nmc"], active={"diffusivity": 1e-8, "conductivity": 1e5},
                            electrolyte={"diffusivity": 1e-6, "conductivity": 1e5}, reactive_area=reactive_area)


@pytest.mark.mpi
def test_smooth_reactive_area_scales_the_kinetics(comm, numbers):
    """A voxelised sphere of radius 4 um as one particle. Areas: int_Gamma dS is the image's staircase area
    and int_Gamma w dS its corrected area (femiec.meshing.interface_area.interface_areas on the same image,
    both to 1e-12 relative, on any number of ranks); summary keys report both and the option used.
    Kinetics: one 10 s step at C/100 from equilibrium; in the linear Butler–Volmer regime with the transport
    fast, the overpotential U(x_mean) - V = I R T / (F i0 A_reactive), so eta_voxel / eta_smooth =
    A_smooth / A_staircase (1e-5 relative; measured 1.7e-6, the rest being the surface-concentration
    excess and ohmic drops, which are 100x larger with D_s = 1e-10 m^2/s); int_Gamma i w dS carries the
    applied current in both runs (1e-10)."""
    from femiec.meshing.interface_area import interface_areas
    from femiec.meshing.voxel import voxel_mesh

    image = _sphere_image()
    meshdata = voxel_mesh(image, voxel_size=H, phase_names={0: "pore", 1: "nmc"}, comm=comm)
    staircase, smooth = interface_areas(image == 1, H)
    overpotential = {}
    for option in ("voxel", "smooth"):
        problem = _problem(meshdata, option)
        description = problem.describe()
        assert description["reactive_area"] == option
        assert description["interface_area_m2"] == pytest.approx(staircase, rel=1e-12)
        assert description["interface_area_smooth_m2"] == pytest.approx(smooth, rel=1e-12)
        problem.run(c_rate=0.01, t_end=10.0, dt=10.0, dt_max=10.0, grow=1.0)
        assert problem.total_reaction_current() == pytest.approx(-problem.applied_current, rel=1e-10)
        overpotential[option] = float(problem.ocv(problem.mean_stoichiometry())) - problem.records[-1].voltage
    ratio = overpotential["voxel"] / overpotential["smooth"]
    assert ratio == pytest.approx(smooth / staircase, rel=1e-5)
    assert smooth / staircase == pytest.approx(0.66, abs=0.01)
    numbers.record("areas_m2", [staircase, smooth])
    numbers.record("overpotentials_V", [overpotential["voxel"], overpotential["smooth"]])


@pytest.mark.mpi
def test_reactive_area_refusals(comm):
    """"smooth" needs a voxel mesh (a box mesh has no image: its facets are the interface); an unknown value
    is refused; "voxel" is accepted on any mesh."""
    from femiec.meshing.box import box_mesh
    from femiec.meshing.voxel import voxel_mesh
    from femiec.problems.electrode_geometry import check_reactive_area

    box = box_mesh([1e-6] * 3, [2] * 3, "hexahedron", comm=comm)
    with pytest.raises(InputError, match="model.reactive_area.*not a voxel mesh"):
        check_reactive_area("smooth", box)
    check_reactive_area("voxel", box)
    voxels = voxel_mesh(_sphere_image(), voxel_size=H, phase_names={0: "pore", 1: "nmc"}, comm=comm)
    check_reactive_area("smooth", voxels)
    with pytest.raises(InputError, match="model.reactive_area"):
        _problem(voxels, "staircase")
