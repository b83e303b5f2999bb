"""The voxel finite volumes' two-level preconditioner: 2 x 2 x 2 voxel aggregates below BoomerAMG."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.homogenization import homogenize
from femiec.homogenization.aggregation import BLOCK
from femiec.homogenization.fv import VoxelFiniteVolume, VoxelSystem
from femiec.homogenization.synthetic import overlapping_spheres


def _three_phases(shape, seed):
    rng = np.random.default_rng(seed)
    return np.where(rng.random(shape) < 0.75, rng.integers(1, 4, shape), 0).astype(np.uint8)


def _system(image, comm, axis=0):
    problem = VoxelFiniteVolume(image, {1: 0.5, 2: 1.0, 3: 2.0}, (1.0, 0.5, 2.0), comm,
                                contact_resistance={(1, 3): 0.25})
    clusters = problem._clusters()
    mask = problem._spanning_voxels(clusters, clusters.spanning(axis))
    return VoxelSystem(problem.planes, problem.lut, problem.resistance, None, mask, problem.spacing, comm)


@pytest.mark.mpi
def test_aggregates_are_the_occupied_blocks_of_each_rank(comm):
    """Oracle: the definition. Every unknown lies in exactly one aggregate of its rank; two unknowns share
    an aggregate exactly when they lie in the same 2 x 2 x 2 block counted from the rank's first layer;
    P x gathers and P^T x sums by aggregate."""
    system = _system(_three_phases((11, 7, 5), 4), comm)
    P = system.interpolation
    index = P.getPythonContext().index
    local = system.aggregates.local
    coordinates = np.stack([system.coordinate(d) for d in range(3)], axis=1)
    assert len(index) == len(coordinates) and np.all((index >= 0) & (index < local))
    assert P.getOwnershipRangeColumn() == (system.aggregates.offset, system.aggregates.offset + local)
    blocks = (coordinates.astype(np.int64) - [system.layers[0], 0, 0]) // BLOCK
    distinct, block_of_unknown = np.unique(blocks, axis=0, return_inverse=True)
    assert local == len(distinct)
    assert len(set(zip(block_of_unknown.ravel().tolist(), index.tolist()))) == local  # one to one
    assert P.getSize()[1] == comm.allreduce(len(distinct))
    fine, coarse = P.createVecLeft(), P.createVecRight()
    coarse.array[:] = np.arange(local) + 1.0
    P.mult(coarse, fine)
    assert np.array_equal(fine.array, index + 1.0)
    fine.array[:] = 1.0
    P.multTranspose(fine, coarse)
    assert np.array_equal(coarse.array, np.bincount(index, minlength=local))
    system.destroy()


@pytest.mark.mpi
def test_coarse_operator_is_the_galerkin_product_on_every_axis(comm):
    """Oracle: A_c v = P^T (A (P v)) for random v, with A the operator of each axis in turn (the coarse
    diagonal follows the Dirichlet faces), on three phases with a contact resistance."""
    system = _system(_three_phases((13, 9, 6), 5), comm)
    P, A_c = system.interpolation, system.coarse
    rng = np.random.default_rng(comm.rank)
    v, fine, product, expected = A_c.createVecRight(), P.createVecLeft(), P.createVecLeft(), A_c.createVecLeft()
    phi = system.matrix.createVecRight()
    for axis in (0, 2, 1):
        system.set_axis(axis, phi)
        v.array[:] = rng.random(v.getLocalSize())
        P.mult(v, fine)
        system.matrix.mult(fine, product)
        P.multTranspose(product, expected)
        result = A_c.createVecLeft()
        A_c.mult(v, result)
        assert np.allclose(result.array, expected.array, rtol=1e-12, atol=1e-12 * np.abs(expected.array).max())
    system.destroy()


@pytest.mark.mpi
def test_two_level_preconditioner_gives_boomeramgs_tensor_in_as_few_iterations(comm, numbers):
    """Oracle: the same linear system solved with BoomerAMG on the voxels (``pc_type hypre``): the
    tensors agree to the solve tolerance, on three phases with a 4x conductivity contrast and a contact
    resistance (two levels asked for with ``pc_type mg``). The two-level cycle must also converge like a
    multigrid method: at most 1.8x BoomerAMG's CG iterations at the default tolerance (12-13 against 9
    here; aggregates of 6 x 6 x 6 voxels take 22, 2.4x)."""
    image = _three_phases((24, 20, 16), 7)
    image[overlapping_spheres(image.shape, 0.6, 3.0, 1) == 1] = 0
    sigma = {1: 0.5, 2: 1.0, 3: 2.0}
    common = dict(axes="all", method="fv", comm=comm, contact_resistance={(1, 3): 0.5})
    two_level = homogenize(image, sigma, rtol=1e-11, petsc_options={"pc_type": "mg"}, **common)
    boomeramg = homogenize(image, sigma, rtol=1e-11, **common)
    assert two_level.solver["petsc_options"]["pc_type"] == "mg"
    assert boomeramg.solver["petsc_options"]["pc_type"] == "hypre"  # the default for several conductivities
    assert np.allclose(two_level.tensor, boomeramg.tensor, rtol=1e-8, atol=1e-10)
    numbers.record("tensor", two_level.tensor)
    default = homogenize(image, sigma, petsc_options={"pc_type": "mg"}, **common)
    reference = homogenize(image, sigma, **common)
    for axis in "xyz":
        assert default.axes[axis].iterations <= 1.8 * reference.axes[axis].iterations, axis
        assert abs(default.axes[axis].deff_ratio / two_level.axes[axis].deff_ratio - 1) < 1e-5
    numbers.record("iterations", [default.axes[a].iterations for a in "xyz"])


@pytest.mark.mpi
def test_a_single_conductivity_gets_two_levels_by_default(comm, numbers):
    """Oracle: BoomerAMG on the voxels (``pc_type hypre``) at rtol 1e-11, tau to 1e-8; the default for one
    conductivity (tortuosity) is the two-level cycle, for several BoomerAMG (previous test)."""
    image = overlapping_spheres((20, 18, 16), 0.5, 2.5, 3)
    default = homogenize(image, [0], axes="x", method="fv", comm=comm, rtol=1e-11)
    reference = homogenize(image, [0], axes="x", method="fv", comm=comm, rtol=1e-11,
                           petsc_options={"pc_type": "hypre"})
    assert default.solver["petsc_options"]["pc_type"] == "mg"
    assert abs(default.tau["x"] / reference.tau["x"] - 1) < 1e-8
    numbers.record("tau_x", default.tau["x"])
