"""Anisotropic steady conduction: closed-form fluxes, rotation invariance, laminates, polycrystal bounds."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.laminates import arithmetic_mean, harmonic_mean, laminate_tensor, reuss_bound, voigt_bound
from femiec.materials.orientation import rotate_tensor, rotation_from_euler, rotation_from_quaternion
from femiec.materials.tensors import grain_tensor_field, tensor_from_spec
from femiec.meshing.base import BOX_FACETS, MeshData
from femiec.meshing.box import box_mesh
from femiec.problems.conduction import ConductionProblem

HEXAGONAL = {"symmetry": "hexagonal", "values": [10.0, 1.0], "orientation": {"euler": [30.0, 45.0, 60.0]}}


def box(comm, n, lengths=(1.0, 1.0, 1.0), label=None, hexahedra=True) -> MeshData:
    """box_mesh with BOX_FACETS facet tags; cell tags label(midpoints) when ``label`` is given."""
    from dolfinx import mesh

    meshdata = box_mesh(lengths, n, cell_type="hexahedron" if hexahedra else "tetrahedron", comm=comm)
    if label is not None:
        m = meshdata.mesh
        imap = m.topology.index_map(m.topology.dim)
        cells = np.arange(imap.size_local + imap.num_ghosts, dtype=np.int32)
        labels = label(mesh.compute_midpoints(m, m.topology.dim, cells).T).astype(np.int32)
        meshdata.cell_tags = mesh.meshtags(m, m.topology.dim, cells, labels)
        meshdata.cell_names = {f"layer{v}": int(v) for v in (1, 2)}
    return meshdata


def rotate_mesh(meshdata: MeshData, R: np.ndarray) -> None:
    """Rotate the mesh coordinates x -> R x about the origin (tags move with the mesh)."""
    x = meshdata.mesh.geometry.x
    x[:] = x @ R.T


def effective_tensor_mixed(meshdata, coefficient, R=np.eye(3)) -> np.ndarray:
    """K_eff = -J G^-1 from three solves: u = 0 / 1 on the min / max face of box axis i, other faces
    insulating; columns of G and J are the volume-averaged gradient and flux (sample frame)."""
    G, J = np.zeros((3, 3)), np.zeros((3, 3))
    for i, (lo, hi) in enumerate((("xmin", "xmax"), ("ymin", "ymax"), ("zmin", "zmax"))):
        problem = ConductionProblem(meshdata, coefficient)
        problem.set_value(lo, 0.0)
        problem.set_value(hi, 1.0)
        problem.solve("direct")
        G[:, i], J[:, i] = problem.average_gradient(), problem.average_flux()
    return -J @ np.linalg.inv(G)


@pytest.mark.mpi
def test_homogeneous_flux_equals_minus_sigma_grad_phi(comm, numbers):
    """Oracle: for constant K and u = a . x imposed on all faces, u = a . x is the exact solution (P1 holds
    it), so the flux is -K a everywhere: the volume average and the outward flux through every face
    (-K a . n |face|) must match to 1e-10; -K a is not parallel to a (angle > 20 degrees)."""
    a = np.array([1.0, -2.0, 0.5])
    K = tensor_from_spec(HEXAGONAL)
    meshdata = box(comm, (3, 4, 5), hexahedra=False)
    problem = ConductionProblem(meshdata, HEXAGONAL)
    for face in BOX_FACETS:
        problem.set_value(face, lambda x: a @ x)
    problem.solve("direct")
    expected = -K @ a
    flux = problem.average_flux()
    error = np.max(np.abs(flux - expected)) / np.max(np.abs(expected))
    face_errors = []
    for face, tag in BOX_FACETS.items():
        axis, sign = (tag - 1) // 2, (1.0 if tag % 2 == 0 else -1.0)
        face_errors.append(abs(problem.outward_flux(face) - sign * expected[axis]) / np.linalg.norm(expected))
    angle = np.degrees(np.arccos(-(flux @ a) / (np.linalg.norm(flux) * np.linalg.norm(a))))
    numbers.record("flux", flux)
    numbers.record("angle_deg", angle)
    assert error < 1e-10 and max(face_errors) < 1e-10
    assert angle > 20.0


@pytest.mark.mpi
def test_rotation_invariance_of_total_current(comm, numbers):
    """Oracle: the discrete problem is invariant when mesh and tensor rotate together (x -> R x,
    K -> R K R^T): the current through xmax (u = 0 on xmin, 1 on xmax, other faces insulating) must be
    unchanged to 1e-10, while rotating the tensor alone changes it (the test can fail)."""
    R = rotation_from_euler([20.0, 35.0, -50.0])
    K = tensor_from_spec(HEXAGONAL)

    def current(rotate_mesh_too: bool, tensor) -> float:
        meshdata = box(comm, (4, 3, 3), lengths=(1.0, 0.6, 0.5), hexahedra=False)
        if rotate_mesh_too:
            rotate_mesh(meshdata, R)
        problem = ConductionProblem(meshdata, tensor)
        problem.set_value("xmin", 0.0)
        problem.set_value("xmax", 1.0)
        problem.solve("direct")
        return problem.outward_flux("xmax")

    reference = current(False, K)
    rotated = current(True, rotate_tensor(K, R))
    tensor_only = current(False, rotate_tensor(K, R))
    numbers.record("current", reference)
    numbers.record("current_rotated", rotated)
    assert abs(rotated - reference) < 1e-10 * abs(reference)
    assert abs(tensor_only - reference) > 1e-3 * abs(reference)


def _two_layers(x):
    """Cell tag 1 (conductivity 10) for x < 0.5, 2 (conductivity 1) above."""
    return np.where(x[0] < 0.5, 1, 2)


@pytest.mark.mpi
def test_laminate_harmonic_across_arithmetic_along(comm, numbers):
    """Oracle (Wiener 1912): two equal layers of conductivity 10 and 1 normal to x have effective
    conductivity 1 / (0.5/10 + 0.5/1) = 1.8181818... across and (10 + 1)/2 = 5.5 along the layers. With a
    potential difference across two opposite faces and the other faces insulating, the exact solution is
    piecewise linear with kinks on mesh facets (layer interface at x = 0.5), so P1 reproduces it and the
    whole tensor must match to 1e-10."""
    meshdata = box(comm, (4, 2, 2), label=_two_layers)
    K = effective_tensor_mixed(meshdata, {1: 10.0, 2: 1.0})
    across, along = harmonic_mean([10.0, 1.0], [0.5, 0.5]), arithmetic_mean([10.0, 1.0], [0.5, 0.5])
    assert across == pytest.approx(1.8181818181818181, rel=1e-15) and along == 5.5
    numbers.record("K_eff_diagonal", np.diag(K))  # off-diagonal entries are round-off (~1e-16)
    assert np.max(np.abs(K - np.diag([across, along, along]))) < 1e-10


@pytest.mark.mpi
@pytest.mark.parametrize("layers", ["isotropic", "orthorhombic"])
def test_rotated_laminate_gives_rotated_tensor(comm, numbers, layers):
    """Oracle: laminate_tensor (Milton 2002, sec. 9.3) with normal R e_x equals R diag(K_across, K_along,
    K_along) R^T; the computed effective tensor must match it to 1e-10.

    Boundary conditions: the laminate box is built aligned (layers normal to its x axis), then the mesh is
    rotated by R (x -> R x) and each layer's tensor is rotated with it (R K R^T, through the orientation
    of the tensor spec). The three solves apply a potential difference across each pair of opposite
    (rotated) faces with the other faces insulating: in the laminate frame the exact solution is
    piecewise linear with kinks on mesh facets when the layers' tensors have the laminate axes as
    principal axes (isotropic or orthorhombic layers here), so P1 is exact and the only error is
    round-off. Affine potential on all faces would not be exact (boundary layers at the faces the layers
    cut), and periodic conditions would need the layers aligned with a periodic box.
    K_eff = -J G^-1 from the volume-averaged fluxes J and gradients G in the sample frame.
    """
    R = rotation_from_euler([25.0, 60.0, 110.0])
    euler = {"euler": [25.0, 60.0, 110.0]}
    if layers == "isotropic":
        crystal = [10.0 * np.eye(3), np.eye(3)]
        specs = {1: 10.0, 2: 1.0}  # rotation-invariant
    else:
        crystal = [np.diag([10.0, 4.0, 2.0]), np.diag([1.0, 3.0, 5.0])]
        specs = {1: {"symmetry": "orthorhombic", "values": [10.0, 4.0, 2.0], "orientation": euler},
                 2: {"symmetry": "orthorhombic", "values": [1.0, 3.0, 5.0], "orientation": euler}}
    meshdata = box(comm, (4, 2, 2), label=_two_layers)
    rotate_mesh(meshdata, R)
    K = effective_tensor_mixed(meshdata, specs)
    expected = laminate_tensor([rotate_tensor(T, R) for T in crystal], [0.5, 0.5], normal=R[:, 0])
    aligned = laminate_tensor(crystal, [0.5, 0.5])
    assert np.allclose(expected, R @ aligned @ R.T, rtol=0, atol=1e-13)
    numbers.record("K_eff", K)
    assert np.max(np.abs(K - expected)) < 1e-10 * np.max(np.abs(expected))


def _grain_volume(n: int = 8, grains: int = 4) -> np.ndarray:
    """n^3 labelled volume of ``grains`` Voronoi grains (seeded; the same on every rank)."""
    rng = np.random.default_rng(7)
    seeds = rng.random((grains, 3))
    centres = (np.indices((n, n, n)).reshape(3, -1).T + 0.5) / n
    distance = np.linalg.norm(centres[:, None, :] - seeds[None, :, :], axis=2)
    return distance.argmin(axis=1).reshape(n, n, n).astype(np.int32)


@pytest.mark.mpi
def test_polycrystal_between_voigt_and_reuss(comm, numbers):
    """Oracle: Hill/Huet hierarchy: the apparent tensor under affine boundary potential u = a . x
    satisfies Reuss <K^-1>^-1 <= K_app <= Voigt <K> (Loewner order; the upper bound because the FE space
    contains the affine field, the lower by the complementary-energy principle). Four Voronoi grains in an
    8^3 labelled volume, hexagonal crystals (10, 1) with random orientations, CG + BoomerAMG
    (rtol 1e-12). K_app = -J (three solves a = e_i; the average gradient is exactly e_i). The same
    numbers on 1 and 2 ranks are checked by the numbers comparison."""
    volume = _grain_volume()
    rng = np.random.default_rng(11)
    quaternions = rng.normal(size=(4, 4))
    quaternions /= np.linalg.norm(quaternions, axis=1, keepdims=True)
    principal = {"symmetry": "hexagonal", "values": [10.0, 1.0]}
    meshdata = box(comm, (8, 8, 8))
    K_field = grain_tensor_field(meshdata, volume, quaternions, principal, name="conductivity")
    J = np.zeros((3, 3))
    for i in range(3):
        problem = ConductionProblem(meshdata, K_field)
        for face in BOX_FACETS:
            problem.set_value(face, lambda x, i=i: x[i])
        problem.solve("iterative")
        J[:, i] = problem.average_flux()
        assert np.allclose(problem.average_gradient(), np.eye(3)[i], atol=1e-12)
    K_app = -J
    crystal = tensor_from_spec(principal)
    tensors = [rotate_tensor(crystal, rotation_from_quaternion(q)) for q in quaternions]
    fractions = np.bincount(volume.ravel(), minlength=4) / volume.size
    voigt, reuss = voigt_bound(tensors, fractions), reuss_bound(tensors, fractions)
    sym = 0.5 * (K_app + K_app.T)
    below_voigt = np.linalg.eigvalsh(voigt - sym).min()
    above_reuss = np.linalg.eigvalsh(sym - reuss).min()
    numbers.record("K_app", K_app)
    numbers.record("eig_voigt_minus_K", below_voigt)
    numbers.record("eig_K_minus_reuss", above_reuss)
    assert np.max(np.abs(K_app - K_app.T)) < 1e-8 * np.max(np.abs(K_app))
    assert below_voigt > 0 and above_reuss > 0
    # not trivially at a bound: the grains interact
    assert np.linalg.norm(voigt - sym) > 1e-2 and np.linalg.norm(sym - reuss) > 1e-2


@pytest.mark.mpi
def test_source_and_flux_condition_p2_exact(comm, numbers):
    """Oracle: K = diag(2, 5, 3) (orthorhombic), source f = 6, u = 0 on xmin, outward flux g = 1.5 on xmax,
    other faces insulating: u = -f x^2/(2 K_xx) + (f L - g) x / K_xx (quadratic, exact in P2). The outward
    flux through xmax is g A and through xmin f V - g A (conservation: sum of outward fluxes = f V),
    both to 1e-10; u(L) = (f L^2 / 2 - g L) / K_xx checked through the average gradient f L/2 - g over K_xx."""
    from dolfinx import fem

    L, f, g = 1.0, 6.0, 1.5
    meshdata = box(comm, (3, 2, 2), lengths=(L, 0.5, 0.4), hexahedra=False)
    problem = ConductionProblem(meshdata, {"symmetry": "orthorhombic", "values": [2.0, 5.0, 3.0]}, degree=2,
                                source=fem.Constant(meshdata.mesh, f))
    problem.set_value("xmin", 0.0)
    problem.set_flux("xmax", g)
    problem.solve("direct")
    area, volume = 0.5 * 0.4, L * 0.5 * 0.4
    out_max, out_min = problem.outward_flux("xmax"), problem.outward_flux("xmin")
    numbers.record("outward_xmax", out_max)
    numbers.record("outward_xmin", out_min)
    assert abs(out_max - g * area) < 1e-10 * g * area
    assert abs(out_min - (f * volume - g * area)) < 1e-10 * f * volume
    assert np.allclose(problem.average_gradient(), [(f * L / 2 - g) / 2.0, 0.0, 0.0], atol=1e-10)
