"""Porous separator layer of the electrode model: steady planar closed form, salt conservation, and the
first step on an NMC crop whose separator face has a one-voxel dead-end pore."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.problems.electrode import ElectrodeProblem

T = 298.15
IMAGE = Path(__file__).resolve().parents[3] / "shared" / "data" / "nmc_electrode_256.tiff"


def _plane_values(problem, field: str, x_planes, comm):
    """Mean nodal value of ``field`` (SI) on each plane x = x_p (all ranks)."""
    k = problem.index(field)
    x = problem.spaces[k].tabulate_dof_coordinates()[:, 0]
    values = problem.scales[k] * problem.u[k].x.array
    x, values = np.concatenate(comm.allgather(x)), np.concatenate(comm.allgather(values))
    return [float(np.mean(values[np.abs(x - xp) < 1e-12])) for xp in x_planes]


@pytest.mark.mpi
def test_porous_separator_steady_planar_cell(comm, numbers):
    """Oracle: a planar cell along x (voxel column, 0.5 µm voxels): porous separator layer [0, 4] µm
    (porosity eps = 0.4, Bruggeman b = 1.5), free electrolyte [4, 8] µm, active layer [8, 12] µm, collector at
    x = 12 µm. At the steady state of the electrolyte under the applied current density j (all of it
    crosses both electrolyte layers; the anion does not move), N_- = 0 gives

        dc/dx = -(1 - t+) j / (F D eps^b)   in the separator,   -(1 - t+) j / (F D)   in the free electrolyte,
        phi_e(4 µm) - phi_e(0) = -j L_s / (kappa eps^b) + (2RT/F)(1 - t+) ln(c(4 µm) / c(0)),

    and the salt amount int eps c dx keeps its initial value. Checked after 4 backward-Euler steps of 20 s
    at 10C (diffusion time 0.09 s, so the transient has decayed to ~1e-10): slopes to 1e-6, the separator
    potential drop to 1e-4 (P1 potential against the logarithm), salt to 1e-12."""
    from femiec.meshing.voxel import voxel_mesh

    h = 0.5e-6
    image = np.zeros((24, 1, 1), dtype=np.uint8)
    image[:8] = 3
    image[16:] = 1
    meshdata = voxel_mesh(image, voxel_size=h, phase_names={0: "pore", 1: "nmc", 3: "separator"}, comm=comm)
    eps, b = 0.4, 1.5
    e = {"diffusivity": 3e-9, "conductivity": 1.0, "transference_number": 0.38}
    problem = ElectrodeProblem(meshdata, electrolyte_regions=["pore"], active_regions=["nmc"], separator=["xmin"],
                               collector=["xmax"], temperature=T, electrolyte=e,
                               active={"diffusivity": 1e-12, "conductivity": 100.0},
                               porous_separator={"regions": ["separator"], "porosity": eps, "bruggeman_exponent": b})
    salt0 = problem.salt_in_electrolyte()
    assert salt0 == pytest.approx(1000.0 * (eps * 4e-6 + 4e-6) * h * h, rel=1e-12)
    problem.set_current(10 * problem.one_c_current())
    for _ in range(4):
        stats = problem.step(20.0)
        assert stats.converged, stats.reason
        problem._accept(20.0)
    j = problem.applied_current / (h * h)
    c0, c4, c8 = _plane_values(problem, "concentration_electrolyte", [0.0, 4e-6, 8e-6], comm)
    phi0, phi4 = _plane_values(problem, "potential_electrolyte", [0.0, 4e-6], comm)
    slope_separator, slope_free = (c4 - c0) / 4e-6, (c8 - c4) / 4e-6
    t_plus, D, kappa = e["transference_number"], e["diffusivity"], e["conductivity"]
    exact_separator = -(1 - t_plus) * j / (FARADAY * D * eps ** b)
    exact_free = -(1 - t_plus) * j / (FARADAY * D)
    drop = phi4 - phi0
    exact_drop = -j * 4e-6 / (kappa * eps ** b) + 2 * GAS_CONSTANT * T / FARADAY * (1 - t_plus) * np.log(c4 / c0)
    salt_error = abs(problem.salt_in_electrolyte() / salt0 - 1)
    numbers.record("slopes", [slope_separator, slope_free])
    numbers.record("separator_drop", drop)
    assert slope_separator == pytest.approx(exact_separator, rel=1e-6)
    assert slope_free == pytest.approx(exact_free, rel=1e-6)
    assert drop == pytest.approx(exact_drop, rel=1e-4)
    assert salt_error < 1e-12, salt_error


def test_porous_separator_input_errors(comm):
    """A one-line error naming the key, before any solve."""
    from femiec.errors import InputError
    from femiec.meshing.voxel import voxel_mesh

    image = np.zeros((6, 1, 1), dtype=np.uint8)
    image[:2], image[4:] = 3, 1
    meshdata = voxel_mesh(image, voxel_size=1e-6, phase_names={0: "pore", 1: "nmc", 3: "separator"}, comm=comm)
    build = lambda layer: ElectrodeProblem(meshdata, electrolyte_regions=["pore"], active_regions=["nmc"],
                                           porous_separator=layer)
    with pytest.raises(InputError, match=r"model.porous_separator.porosity: 1.5 \(expected a number in \(0, 1\]\)"):
        build({"regions": ["separator"], "porosity": 1.5})
    with pytest.raises(InputError, match=r"model.porous_separator.regions: 'pore' \(expected a region that is not"):
        build({"regions": ["pore"]})
    with pytest.raises(InputError, match=r"model.porous_separator.bruggeman_exponent"):
        build({"regions": ["separator"], "bruggeman_exponent": -1})
    with pytest.raises(InputError, match=r"model.porous_separator.thickness"):
        build({"regions": ["separator"], "thickness": 1e-6})


@pytest.mark.skipif(not IMAGE.exists(), reason="needs ../shared/data/nmc_electrode_256.tiff")
def test_separator_layer_spreads_the_current_of_a_dead_end_pore(comm):
    """The crop [0:24, 30:54, 0:24] of the NMC image has a one-voxel pore on its separator face that only
    touches one NMC face. With the current entering uniformly at that face, the pocket must carry the
    separator current density into that face: the first 60 s step at 1C needs 21 Newton iterations with
    MUMPS, and with the fieldsplit preset Newton does not converge in 25 (docs/electrode.md). A 4-voxel
    porous separator layer in front of the face spreads the current: the first two steps converge in at
    most 6 iterations with fieldsplit, and the voltage stays within the open-circuit range."""
    from femiec.meshing.tomography import pad_face, read_image
    from femiec.meshing.voxel import voxel_mesh
    from femiec.models.electrode import ElectrodeModel
    from femiec.problems.electrode_case import problem_from_section

    image = pad_face(np.ascontiguousarray(read_image(IMAGE)[:24, 30:54, :24]), "xmin", 4, 255)
    names = {0: "pore", 85: "nmc", 170: "carbon_binder", 255: "separator"}
    meshdata = voxel_mesh(image, voxel_size=1e-6, phase_names=names, comm=comm)
    model = ElectrodeModel(kind="electrode", conductor_regions=["carbon_binder"],
                           porous_separator={"regions": ["separator"]})
    problem = problem_from_section(model, meshdata, preset="fieldsplit")
    problem.set_current(problem.one_c_current())
    for _ in range(2):
        stats = problem.step(60.0)
        assert stats.converged and stats.newton_iterations <= 6, stats
        problem._accept(60.0)
    assert 3.5 < problem.voltage() < 4.2
