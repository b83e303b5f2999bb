"""Finite-volume homogenization: assembly, partitioning, input checks, JSON and field output."""
from __future__ import annotations

import json

import numpy as np
import pytest

from femiec.errors import InputError
from femiec.homogenization import homogenize
from femiec.homogenization.fv import VoxelFiniteVolume, VoxelSystem
from femiec.homogenization.voxels import spanning_mask
from femiec.meshing.rank_planes import balanced_planes, read_rank_planes
from femiec.meshing.tomography import face_clusters


def test_partition_balances_unknowns_over_whole_layers():
    counts = np.array([5, 0, 5, 5, 0, 5, 5, 5])
    offsets = np.concatenate([[0], np.cumsum(counts)])
    bounds = balanced_planes(counts, 3)
    assert bounds[0] == 0 and bounds[-1] == len(counts) and np.all(np.diff(bounds) >= 0)
    owned = [offsets[b] - offsets[a] for a, b in zip(bounds[:-1], bounds[1:])]
    assert max(owned) - min(owned) <= 5
    assert balanced_planes(np.array([4]), 2).tolist() in ([0, 1, 1], [0, 0, 1])


def test_matrix_is_symmetric_with_boundary_conductances_on_the_diagonal(comm):
    """Serial only (not marked mpi): it reads the whole assembled matrix as one dense array."""
    if comm.size > 1:
        pytest.skip("inspects the serial matrix")
    rng = np.random.default_rng(3)
    image = np.where(rng.random((6, 5, 4)) < 0.7, rng.integers(1, 4, (6, 5, 4)), 0).astype(np.uint8)
    problem = VoxelFiniteVolume(image, {1: 0.5, 2: 1.0, 3: 2.0}, (1.0, 2.0, 0.5), comm)
    spacing = problem.spacing
    sigma = problem.lut[image]
    active = spanning_mask(face_clusters(sigma > 0)[0], 1)
    system = VoxelSystem(problem.planes, problem.lut, None, None, active, spacing, comm)
    phi = system.matrix.createVecRight()
    system.set_axis(1, phi)
    A = system.matrix.convert("dense").getDenseArray()
    assert np.allclose(A, A.T)
    row_sums = A.sum(axis=1)
    # only rows on the inlet/outlet faces keep a positive row sum: 2 sigma A_y / h_y
    inlet, g_in, outlet, g_out = system.boundary[1]
    boundary = np.zeros(len(row_sums))
    boundary[inlet] += g_in
    boundary[outlet] += g_out
    assert np.allclose(row_sums, boundary)
    face_area, distance = spacing[0] * spacing[2], spacing[1]
    inlet_sigma = sigma[:, 0, :][active[:, 0, :]]
    assert np.allclose(g_in, 2 * inlet_sigma * face_area / distance)
    # the next axis changes the diagonal only
    system.set_axis(2, phi)
    B = system.matrix.convert("dense").getDenseArray()
    off = ~np.eye(len(A), dtype=bool)
    assert np.array_equal(A[off], B[off])
    inlet, g_in, outlet, g_out = system.boundary[2]
    assert np.allclose(B.sum(axis=1)[inlet], g_in)
    phi.destroy()
    system.destroy()



@pytest.mark.mpi
@pytest.mark.parametrize("two_levels", [True, False])
def test_rows_are_the_face_conductances_of_the_definition(comm, two_levels):
    """Oracle: the module docstring, face by face in plain Python: between face neighbours i, j
    1/g = h_d / (2 sigma_i A_d) + R_c / A_d + h_d / (2 sigma_j A_d), entry -g, the diagonal the sum of a
    row's g plus 2 sigma A_x / h_x on the inlet and outlet faces of x. The compiled row kernel's matrix
    (PETSc AIJ from its split CSR arrays for the two levels, hypre's arrays for BoomerAMG) must equal it
    to round-off on every rank count, the ranks' rows gathered."""
    rng = np.random.default_rng(11)
    shape, spacing = (9, 6, 5), np.array([1.0, 2.0, 0.5])
    image = np.where(rng.random(shape) < 0.8, rng.integers(1, 4, shape), 0).astype(np.uint8)
    sigma = {1: 0.5, 2: 1.0, 3: 2.0}
    resistance = {(1, 3): 0.25, (3, 1): 0.25}
    problem = VoxelFiniteVolume(image, sigma, spacing, comm, contact_resistance={(1, 3): 0.25})
    clusters = problem._clusters()
    mask = problem._spanning_voxels(clusters, clusters.spanning(0))
    system = VoxelSystem(problem.planes, problem.lut, problem.resistance, None, mask, spacing, comm, two_levels)
    phi = system.matrix.createVecRight()
    system.set_axis(0, phi)
    matrix = system.matrix if system.matrix.getType() != "hypre" else system.matrix.convert("aij")
    starts, columns, values = matrix.getValuesCSR()
    counts = np.concatenate(comm.allgather(np.diff(starts)))
    columns, values = np.concatenate(comm.allgather(columns)), np.concatenate(comm.allgather(values))
    size = len(counts)
    assembled = np.zeros((size, size))
    assembled[np.repeat(np.arange(size), counts), columns] = values

    active = spanning_mask(face_clusters(problem.lut[image] > 0)[0], 0)
    number = np.full(shape, -1)
    number[active] = np.arange(np.count_nonzero(active))
    assert size == np.count_nonzero(active)
    area = np.prod(spacing) / spacing
    expected = np.zeros((size, size))
    for voxel in zip(*np.nonzero(active)):
        for d in range(3):
            other = list(voxel)
            other[d] += 1
            if other[d] == shape[d] or not active[tuple(other)]:
                continue
            a, b = image[voxel], image[tuple(other)]
            g = 1.0 / (spacing[d] / (2 * sigma[a] * area[d]) + resistance.get((a, b), 0.0) / area[d]
                       + spacing[d] / (2 * sigma[b] * area[d]))
            i, j = number[voxel], number[tuple(other)]
            expected[i, j] = expected[j, i] = -g
            expected[i, i] += g
            expected[j, j] += g
        if voxel[0] in (0, shape[0] - 1):
            expected[number[voxel], number[voxel]] += 2 * sigma[image[voxel]] * area[0] / spacing[0]
    assert np.allclose(assembled, expected, rtol=1e-13, atol=0.0)
    assert np.array_equal(assembled != 0, expected != 0)
    phi.destroy()
    system.destroy()

@pytest.mark.mpi
def test_channel_potential_is_linear(comm, numbers):
    """Oracle: a straight one-voxel channel carries a uniform flux, so phi = 1 - (i + 1/2)/8 at the voxel
    centres (exact for the two-point flux); voxels outside the channel get NaN."""
    image = np.zeros((8, 3, 3), dtype=np.uint8)
    image[:, 1, 1] = 1
    problem = VoxelFiniteVolume(image, {1: 1.0}, (1.0, 1.0, 1.0), comm)
    solution = problem.solve(0, rtol=1e-12, keep_field=True)
    voxels = np.array([[i, 1, 1] for i in range(8)] + [[0, 0, 0]])
    phi = solution.potential(voxels)
    assert np.allclose(phi[:8], 1.0 - (np.arange(8) + 0.5) / 8)
    assert np.isnan(phi[8])
    numbers.record("phi", phi[:8])
    assert solution.flux_mismatch < 1e-10
    solution.phi.destroy()
    solution.system.destroy()


@pytest.mark.parametrize("kwargs, key", [
    ({"phases": [7]}, "phases"),
    ({"phases": {1: -1.0}}, "conductivity of phase 1"),
    ({"method": "lbm"}, "method"),
    ({"axes": "w"}, "axis"),
    ({"voxel_size": -1.0}, "voxel_size"),
    ({"rtol": 2.0}, "rtol"),
])
def test_bad_input_is_refused_before_solving(kwargs, key):
    image = np.zeros((4, 4, 4), dtype=np.uint8)
    image[:, :2] = 1
    arguments = {"phases": [1], **kwargs}
    with pytest.raises(InputError) as error:
        homogenize(image, **arguments)
    assert error.value.key == key


@pytest.mark.mpi
def test_json_and_paraview_fields(tmp_path, comm, numbers):
    tmp_path = comm.bcast(tmp_path if comm.rank == 0 else None)  # one output directory for all ranks
    image = np.zeros((6, 5, 4), dtype=np.uint8)
    image[:, 1:4, 1:3] = 1
    image[2, 0, 0] = 1  # an isolated voxel: meshed, NaN potential
    out = tmp_path / "fields"
    json_path = tmp_path / "result.json"
    result = homogenize(image, [1], axes=["x", "y"], voxel_size=2e-6, comm=comm, out_dir=out,
                        json_path=json_path)
    if comm.rank == 0:
        document = json.loads(json_path.read_text())
        assert document["axes"]["x"]["tau"] == pytest.approx(result.axes["x"].tau)
        assert document["axes"]["y"]["tau"] is None
        assert document["voxel_size_m"] == [2e-6] * 3
        assert document["tensor"] is None
        assert {"criterion", "petsc_options"} <= set(document["solver"])
        for name in ("potential_x", "flux_x", "potential_y", "flux_y"):
            assert (out / f"{name}.bp").is_dir()
    numbers.record("tau_x", result.axes["x"].tau)


@pytest.mark.parametrize("kwargs, key", [
    ({"contact_resistance": {(1, 2): -1.0}}, "contact_resistance 1:2"),
    ({"contact_resistance": {"1:7": 1.0}}, "contact_resistance 1:7"),
    ({"contact_resistance": {(1, 1): 1.0}}, "contact_resistance 1:1"),
    ({"contact_resistance": {"1-2": 1.0}}, "contact_resistance"),
    ({"contact_resistance": {(1, 2): float("inf")}}, "contact_resistance 1:2"),
    ({"contact_resistance": {(1, 2): 1.0}, "method": "fe"}, "contact_resistance"),
    ({"mesh": "conforming"}, "mesh"),
    ({"mesh": "tets", "method": "fe"}, "mesh"),
])
def test_bad_contact_resistance_and_mesh_are_refused(kwargs, key):
    image = np.ones((4, 4, 4), dtype=np.uint8)
    image[:, :2] = 2
    with pytest.raises(InputError) as error:
        homogenize(image, {1: 1.0, 2: 2.0}, **kwargs)
    assert error.value.key == key


@pytest.mark.mpi
def test_flux_field_with_contact_resistance_is_uniform_across_a_laminate(tmp_path, comm):
    """Across layers with a contact resistance the cell current density is the same in every voxel."""
    tmp_path = comm.bcast(tmp_path if comm.rank == 0 else None)
    from femiec.homogenization.fv import solve_axes
    from femiec.homogenization.output import _cell_fields
    from femiec.homogenization.voxels import phase_conductivities

    image = np.ones((6, 3, 3), dtype=np.uint8)
    image[2:4] = 2
    problem = VoxelFiniteVolume(image, {1: 1.0, 2: 3.0}, (1.0, 1.0, 1.0), comm, {(1, 2): 0.7})
    solution = problem.solve(0, rtol=1e-12, keep_field=True)
    voxels = np.array([[i, 1, 1] for i in range(6)])
    whole = read_rank_planes(image, comm, [1, 2], halo=image.shape[0])  # every rank asks for every voxel
    _, flux = _cell_fields(solution, voxels, whole, problem.lut, np.ones(3), problem.resistance)
    assert np.allclose(flux[:, 0], solution.flux_in / 9)
    solution.phi.destroy()
    solution.system.destroy()
    solve_axes(image, phase_conductivities({1: 1.0, 2: 3.0}), ["x"], np.ones(3), comm, out_dir=tmp_path,
               contact_resistance={(1, 2): 0.7})
    if comm.rank == 0:
        assert (tmp_path / "flux_x.bp").is_dir()


@pytest.mark.mpi
def test_command_line_phases_contact_resistance_and_errors(tmp_path, capsys, comm):
    from femiec.cli import main

    image = np.ones((6, 3, 3), dtype=np.uint8)
    image[3:] = 2
    tmp = comm.bcast(tmp_path if comm.rank == 0 else None)
    path = tmp / "image.npy"
    out = tmp / "r.json"
    if comm.rank == 0:
        np.save(path, image)
    comm.barrier()
    common = ["homogenize", str(path), "--phase", "1", "--phase", "2:4", "--voxel-size", "1e-6"]
    assert main(common + ["--contact-resistance", "2:1:1e-6", "--rtol", "1e-12", "--json", str(out)]) == 0
    if comm.rank == 0:
        document = json.loads(out.read_text())
        assert document["contact_resistance"] == {"1:2": 1e-6}
        # R = 3 h / 1 + 3 h / 4 + R_c, sigma_eff = 6 h / R
        assert document["axes"]["x"]["deff_ratio"] == pytest.approx(6 / (3 + 0.75 + 1), rel=1e-9)
    capsys.readouterr()
    for bad in (["--contact-resistance", "1:2:-1"], ["--contact-resistance", "1:3:1e-6"],
                ["--contact-resistance", "1:2"], ["--phase", "x:1"]):
        assert main(common + bad) == 2
        if comm.rank == 0:
            assert len(capsys.readouterr().err.strip().splitlines()) == 1
    # contact resistance (ohm m^2) without a voxel size has no length scale to compare with
    assert main(["homogenize", str(path), "--phase", "1", "--phase", "2", "--contact-resistance", "1:2:1e-6"]) == 2
    if comm.rank == 0:
        assert "--voxel-size" in capsys.readouterr().err
