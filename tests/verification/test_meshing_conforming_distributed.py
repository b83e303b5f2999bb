"""The distributed build of the conforming "grid" mesh is the mesh of the whole-grid build on rank 0.

Oracle: ``conforming_mesh(..., distributed=False)`` builds the whole snapped-and-smoothed grid on rank 0
and distributes it with gmsh's reader (the reference path); the distributed build (every rank its slab
of the grid, ghost planes refreshed from their owners after every step, volume sums continued from rank
to rank in cell order) does the same arithmetic on every vertex, so on any number of ranks it must give
the same mesh: the same global numbers of cells and vertices, the same cell and facet names, the same
sorted cell centroids and volumes per cell tag and the same facet areas per facet tag (to 1e-12
relative; measured: centroids and volumes bitwise equal on 1, 2 and 3 ranks, facet areas within 1e-15,
the facets' vertices being numbered in another order).
"""
import numpy as np
import pytest

from femiec.meshing.conforming import _Slab, conforming_halo, conforming_mesh
from femiec.meshing.rank_planes import read_rank_planes

L = 1e-5


def sphere(n: int, value: int = 2) -> np.ndarray:
    c = (np.arange(n) + 0.5) / n
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    return np.where((x - 0.5) ** 2 + (y - 0.5) ** 2 + (z - 0.5) ** 2 < 0.3**2, value, 0).astype(np.uint8)


def three_phases(n: int) -> np.ndarray:
    """A sphere (2) cut by a slab of phase 1 through its middle (triple lines), in a matrix (0)."""
    image = sphere(n)
    image[:, :, n // 2 - 1: n // 2 + 1] = 1
    image[: n // 4] = 0
    return image


def nmc_crop(n: int) -> np.ndarray:
    from pathlib import Path

    from femiec.meshing.tomography import read_image

    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "nmc_electrode_256.tiff"
    if not path.exists():
        pytest.skip(f"{path} not available")
    return read_image(path)[:n, :n, :n]


def gathered_cells(data):
    """Per cell tag: sorted (centroid x, y, z, volume) rows of all owned cells of all ranks (rank 0)."""
    mesh = data.mesh
    owned = mesh.topology.index_map(3).size_local
    x = mesh.geometry.x[mesh.geometry.dofmap[:owned]]
    e = x[:, 1:] - x[:, :1]
    volume = np.einsum("ij,ij->i", e[:, 0], np.cross(e[:, 1], e[:, 2])) / 6
    tags = np.full(owned, -1)
    keep = data.cell_tags.indices < owned
    tags[data.cell_tags.indices[keep]] = data.cell_tags.values[keep]
    rows = np.column_stack([x.mean(axis=1), volume, tags])
    rows = np.concatenate(data.comm.allgather(rows))
    return {int(t): rows[rows[:, 4] == t][np.lexsort(rows[rows[:, 4] == t][:, :4].T[::-1])][:, :4]
            for t in np.unique(rows[:, 4])}


def facet_areas(data):
    """Per facet tag: the sorted areas of the owned tagged facets of all ranks."""
    from dolfinx.mesh import entities_to_geometry

    mesh = data.mesh
    owned = mesh.topology.index_map(2).size_local
    keep = data.facet_tags.indices < owned
    facets, tags = data.facet_tags.indices[keep], data.facet_tags.values[keep]
    x = mesh.geometry.x[entities_to_geometry(mesh, 2, facets, False)]
    area = 0.5 * np.linalg.norm(np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]), axis=1)
    rows = np.concatenate(data.comm.allgather(np.column_stack([area, tags])))
    return {int(t): np.sort(rows[rows[:, 1] == t][:, 0]) for t in np.unique(rows[:, 1])}


def assert_same_mesh(reference, distributed):
    for index_dim in (0, 3):
        assert (distributed.mesh.topology.index_map(index_dim).size_global
                == reference.mesh.topology.index_map(index_dim).size_global)
    assert list(distributed.cell_names.items()) == list(reference.cell_names.items())
    assert list(distributed.facet_names.items()) == list(reference.facet_names.items())
    assert distributed.info == reference.info
    cells, cells_ref = gathered_cells(distributed), gathered_cells(reference)
    assert cells.keys() == cells_ref.keys()
    scale = L
    for tag in cells:
        assert cells[tag].shape == cells_ref[tag].shape
        np.testing.assert_allclose(cells[tag][:, :3], cells_ref[tag][:, :3], rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(cells[tag][:, 3], cells_ref[tag][:, 3], rtol=1e-12)
        assert cells[tag][:, 3].sum() == pytest.approx(cells_ref[tag][:, 3].sum(), rel=1e-12)
    areas, areas_ref = facet_areas(distributed), facet_areas(reference)
    assert areas.keys() == areas_ref.keys()
    for tag in areas:
        np.testing.assert_allclose(areas[tag], areas_ref[tag], rtol=1e-12)
        assert areas[tag].sum() == pytest.approx(areas_ref[tag].sum(), rel=1e-12)


CASES = {
    "sphere_smooth_preserve": (lambda: sphere(12), {"mesh_size": 1.5 * L / 12}),
    "sphere_smooth_plain": (lambda: sphere(12), {"preserve_volume": False}),
    "sphere_staircase": (lambda: sphere(10), {"smoothing": 0.0}),
    "three_phases_preserve": (lambda: three_phases(12), {}),
    "three_phases_plain_anisotropic": (lambda: three_phases(12)[:, :10], {"preserve_volume": False,
                                                                          "mesh_size": 0.8 * L / 12}),
    "nmc_crop_preserve": (lambda: nmc_crop(12), {"phase_names": {0: "pore", 85: "nmc", 170: "cbd"}}),
    "nmc_crop_staircase": (lambda: nmc_crop(8), {"smoothing": 0.0}),
    "one_cube_layer_empty_slab": (lambda: sphere(8)[3:5], {"mesh_size": 2 * L / 12}),  # 2 ranks: one empty
    # long along x: on 2 or 3 ranks each rank's phase field holds only part of the planes (field_planes)
    "long_three_phases": (lambda: np.concatenate([three_phases(12)] * 3), {}),
    "long_coarse_grid": (lambda: np.concatenate([three_phases(12)] * 3), {"mesh_size": 1.5 * L / 12}),
    "long_fine_grid_staircase": (lambda: np.concatenate([sphere(8)] * 4), {"mesh_size": 0.7 * L / 12,
                                                                          "smoothing": 0.0}),
    "inclusion_in_one_slab": (lambda: np.where(sphere(12)[::-1] * (np.arange(12) < 5)[:, None, None], 7, 0)
                              .astype(np.uint8), {"preserve_volume": False}),
}


@pytest.mark.mpi
@pytest.mark.parametrize("case", sorted(CASES))
def test_distributed_build_is_the_rank0_build(case, numbers):
    make, options = CASES[case]
    image = make()
    reference = conforming_mesh(image, voxel_size=L / 12, distributed=False, **options)
    distributed = conforming_mesh(image, voxel_size=L / 12, **options)
    assert_same_mesh(reference, distributed)
    numbers.record("cells", distributed.mesh.topology.index_map(3).size_global)


@pytest.mark.mpi
def test_rank_builds_only_its_slab(comm):
    """Each rank's build holds its share of the 16 cube layers plus one ghost layer (6 tetrahedra per
    cube) and its vertex planes plus one ghost plane on each side; the slabs tile the grid in rank order."""
    from femiec.meshing.conforming import _PhaseField, _phase_mesh

    image = three_phases(16)[:, :8, :8]
    slab = _Slab(comm, np.array([16, 8, 8]))
    field = _PhaseField(read_rank_planes(image, comm, None), [0, 1, 2], np.full(3, 1 / 16), 1.0, slab,
                        np.array([1.0, 0.5, 0.5]))
    x, cells, labels = _phase_mesh(field, slab, np.array([1.0, 0.5, 0.5]), True)
    share = -(-16 // comm.size)
    ghost_layers = 1 if comm.size > 1 else 0
    assert len(cells) == len(labels) <= 6 * 8 * 8 * (share + ghost_layers)
    assert len(x) <= 9 * 9 * (share + 1 + 2 * ghost_layers)
    layers = comm.allgather((slab.first, slab.stop))
    assert layers[0][0] == 0 and layers[-1][1] == 16
    assert all(stop == first for (_, stop), (first, _) in zip(layers, layers[1:]))


@pytest.mark.mpi
@pytest.mark.parametrize("smoothing", [1.0, 1.7])
def test_phase_field_of_the_planes_is_the_whole_image_field(comm, numbers, smoothing):
    """Oracle: scipy.ndimage.gaussian_filter of the whole indicator (mode "reflect", truncate 4) and its
    np.gradient. Each rank computes phi_p from its planes and the Gaussian's radius plus one plane
    (field_planes: fewer planes than the image's on 2 ranks of a 48-plane image), the same values bit for
    bit, and the trilinear values at points of its planes are those of the whole field."""
    from mpi4py import MPI
    from scipy.ndimage import gaussian_filter

    from femiec.meshing.conforming import _PhaseField, field_planes, gaussian_radius

    image = np.concatenate([three_phases(12)] * 4)  # 48 x 12 x 12
    spacing, lengths, cubes = np.full(3, 1 / 48), np.array([1.0, 0.25, 0.25]), np.array([48, 12, 12])
    slab = _Slab(comm, cubes)
    field = _PhaseField(read_rank_planes(image, comm, None), [0, 1, 2], spacing, smoothing, slab, lengths)
    a, b = field_planes(slab, lengths, spacing, 48)
    assert (field.start, field.stop) == (a, b)
    if comm.size > 1:
        assert b - a < 48
    assert gaussian_radius(smoothing) == int(4 * smoothing + 0.5)
    difference = 0.0
    for k, p in enumerate([0, 1, 2]):
        whole = gaussian_filter((image == p).astype(np.float32), smoothing, mode="reflect")
        grads = [g / h for g, h in zip(np.gradient(whole), spacing)]
        difference = max(difference, float(np.abs(field.phi[k] - whole[a:b]).max()),
                         *(float(np.abs(field.grad[k][i] - grads[i][a:b]).max()) for i in range(3)))
    rng = np.random.default_rng(comm.rank)
    points = np.column_stack([rng.uniform(max(a + 0.5, slab.first), min(b - 1.5, slab.stop), 50) / 48,
                              rng.uniform(0, 0.25, (50, 2))])
    whole_field = _PhaseField(read_rank_planes(image, MPI.COMM_SELF, None), [0, 1, 2], spacing, smoothing,
                              _Slab(MPI.COMM_SELF, cubes), lengths)
    difference = max(difference, float(np.abs(field.values(points) - whole_field.values(points)).max()),
                     float(np.abs(field.gradients(points) - whole_field.gradients(points)).max()))
    difference = comm.allreduce(difference, op=MPI.MAX)
    assert difference == 0.0
    numbers.record("max_abs_difference_planes_vs_whole", difference)


@pytest.mark.mpi
@pytest.mark.parametrize("halo", ["conforming_halo", 1])
def test_mesh_of_the_planes_is_the_mesh_of_the_array(comm, numbers, tmp_path, halo):
    """Oracle: the mesh of the whole array (every rank the same array, cut into planes as views). The
    image is read from a file by planes (each rank its x-planes and ``halo`` planes: fewer than the
    image's 48 on 2 ranks), its interfaces crossing the ranks' plane boundary (a sphere centred on plane
    24 and a layer through all planes); with a halo of 1 plane the planes the phase field needs come from
    the neighbour. The same cells bit for bit (sorted centroids and volumes per tag), facets and names."""
    from femiec.meshing.image_source import open_image_crop

    image = np.concatenate([three_phases(16)] * 3)[:, :12, :12]  # 48 x 12 x 12, a sphere across plane 24
    options = {"voxel_size": L / 12, "phase_names": {0: "matrix", 1: "layer", 2: "sphere"}}
    halo = conforming_halo(L / 12, L / 12, 1.0) if halo == "conforming_halo" else halo
    np.save(tmp_path / "image.npy", image)
    planes = read_rank_planes(open_image_crop(tmp_path / "image.npy"), comm, None, halo=halo)
    held = comm.allgather(len(planes.data))
    if comm.size > 1:
        assert max(held) < image.shape[0]
    reference = conforming_mesh(image, **options)
    meshed = conforming_mesh(planes, **options)
    assert_same_mesh(reference, meshed)
    cells, cells_ref = gathered_cells(meshed), gathered_cells(reference)
    assert all(np.array_equal(cells[tag], cells_ref[tag]) for tag in cells)
    numbers.record("cells", meshed.mesh.topology.index_map(3).size_global)


def test_more_ranks_than_cube_layers():
    """A slab may be empty (more ranks than cube layers): the last rank with cubes owns the last plane."""
    class Fake:
        size, rank = 3, 0

    slab = _Slab(Fake(), np.array([2, 2, 2]))
    assert slab.local_cubes[0] == 0 and slab.owned_vertices == slice(0, 0)
