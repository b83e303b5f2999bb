"""The electrode's phase fields on face-connected phase meshes (``[mesh] connectivity = "face"``,
femiec.meshing.phase_mesh) against the default DOLFINx submeshes ("vertex").

Oracles:
- edge contact (a one-voxel-thick layer, 1 µm voxels; p pore, A active, C conductor, v an unlisted value,
  inert; separator xmin, collector xmax; x to the right, y down):

      y=0: p p p p A C C C C C      particle P1 and its conductor bar to the collector
      y=1: p p p p p p C v v v
      y=2: p p p p A C v v v v      particle P2 and a conductor voxel touching the bar's
                                    branch (6, 1) only along the edge x = 6 µm, y = 2 µm

  built without the cut-off cluster rules (inert_cells=None), so that P2 is not made inert: with "vertex"
  the Q1 potential of the solid passes through the edge's nodes and P2 takes a share of the current; with
  "face" the solid mesh has two clusters and P2's potential floats: its net reaction current is zero (to
  the Newton tolerance), all of the current goes through P1;
- a straight conductor bar (one voxel across) between a full active slab and the collector, inside an
  inert sleeve: at every step the potential drop along the bar is I L / (sigma A) to round-off (the
  current through the bar is the applied current, and Q1 is exact for the linear potential), with either
  connectivity;
- a checkpoint of the "face" run is refused on another partition (its split nodes share their coordinates,
  the keys of femiec.io.checkpoint's map) and read back on the same one;
- the 8^3 NMC crop of test_electrode_case.py through `femiec run` with `connectivity = "face"`: runs, has
  more solid and electrolyte nodes than "vertex" (1027 / 154 against 1022 / 151: the nodes split at edge
  and corner contacts) and a voltage within 5 mV of it (-3.5e-7 V after 120 s at 1C; the figures are
  recorded); "vertex" is the default and stays bit for bit (test_electrode_case.py, against the baseline).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from femiec.problems.electrode import ElectrodeProblem

H = 1e-6
NAMES = {0: "pore", 1: "nmc", 2: "carbon_binder", 9: "void"}
E = {"diffusivity": 3e-9, "conductivity": 1.0, "transference_number": 0.38}


def _edge_image():
    rows = ["ppppACCCCC", "ppppppCvvv", "ppppACvvvv"]
    code = {"p": 0, "A": 1, "C": 2, "v": 9}
    image = np.array([[code[ch] for ch in row] for row in rows], dtype=np.uint8).T  # [x, y]
    return image[:, :, None]


def _problem(image, connectivity, comm, **kwargs):
    from femiec.meshing.voxel import voxel_mesh

    meshdata = voxel_mesh(image, voxel_size=H, phase_names=NAMES, comm=comm, connectivity=connectivity)
    return ElectrodeProblem(meshdata, electrolyte_regions=["pore"], active_regions=["nmc"],
                            conductor_regions=["carbon_binder"], separator=["xmin"], collector=["xmax"],
                            electrolyte=E, active={"diffusivity": 1e-12, "conductivity": 100.0},
                            conductor_conductivity=10.0, **kwargs)


def _cell_indicator(problem, voxels):
    """DG0 function on the parent: 1 on the cells of the listed voxels (i, j, k), 0 elsewhere."""
    from dolfinx import fem

    mesh = problem.mesh
    imap = mesh.topology.index_map(3)
    nodes = mesh.geometry.dofmap[: imap.size_local + imap.num_ghosts]
    ijk = np.floor(mesh.geometry.x[nodes].mean(axis=1) / H).astype(int)
    marked = np.zeros(len(ijk), dtype=bool)
    for v in voxels:
        marked |= np.all(ijk == np.array(v), axis=1)
    indicator = fem.Function(problem.V0)
    indicator.x.array[problem.V0.dofmap.list[: len(ijk), 0]] = marked.astype(float)
    return indicator


@pytest.mark.mpi
@pytest.mark.parametrize("connectivity", ["vertex", "face"])
def test_an_edge_contact_carries_current_only_between_vertex_connected_voxels(connectivity, comm, numbers):
    from dolfinx import fem

    problem = _problem(_edge_image(), connectivity, comm)
    p2 = _cell_indicator(problem, [(4, 2, 0)])
    current = 0.5 * problem.one_c_current()
    problem.set_current(current)
    stats = problem.step(10.0)
    assert stats.converged, stats.reason
    form = problem.form(p2("-") * problem.reaction_current() * problem.area_weight * problem.gamma)
    share = comm.allreduce(fem.assemble_scalar(form)) / -current
    total = problem.total_reaction_current() / -current
    numbers.record("P2 share of the current", share)
    assert total == pytest.approx(1.0, rel=1e-7)  # Newton tolerance
    if connectivity == "face":
        assert abs(share) < 1e-7
    else:
        assert share > 0.05


@pytest.mark.mpi
def test_a_checkpoint_with_split_nodes_is_refused_on_another_partition(comm, tmp_path_factory):
    """The split nodes of the solid share their coordinates, the keys of a restart on another partition:
    read through the key map (another fingerprint) the checkpoint is refused with one line; on the same
    partition it is read back."""
    from femiec.errors import InputError
    from femiec.io.checkpoint import read_checkpoint

    problem = _problem(_edge_image(), "face", comm)
    directory = comm.bcast(tmp_path_factory.mktemp("checkpoint") if comm.rank == 0 else None)
    problem.checkpoint(directory)
    with pytest.raises(InputError, match="several degrees of freedom at one point"):
        read_checkpoint(directory, "another", comm, spaces=problem._field_spaces())
    assert problem.restart(directory)["time"] == 0.0


@pytest.mark.mpi
@pytest.mark.parametrize("connectivity", ["vertex", "face"])
def test_a_straight_bar_has_the_exact_ohmic_resistance(connectivity, comm, numbers):
    from femiec.problems.electrode_phases import SolidConductor

    image = np.full((12, 3, 3), 9, dtype=np.uint8)
    image[:4] = 0
    image[4:6] = 1
    image[6:, 1, 1] = 2  # the bar: x = 6 .. 12 µm, cross-section 1 µm^2
    problem = _problem(image, connectivity, comm)
    current = problem.one_c_current()
    problem.set_current(current)
    k = problem.index(SolidConductor.potential)
    x = problem.spaces[k].tabulate_dof_coordinates()
    drops = []
    for _ in range(2):
        assert problem.step(30.0).converged
        problem._accept(30.0)
        phi = problem.scales[k] * problem.u[k].x.array
        on_bar = (np.abs(x[:, 0] - 6 * H) < 1e-12 * H) & (np.abs(x[:, 1] - 1.5 * H) <= 0.5 * H * (1 + 1e-9)) & \
            (np.abs(x[:, 2] - 1.5 * H) <= 0.5 * H * (1 + 1e-9))
        values = np.concatenate(comm.allgather(phi[on_bar]))
        assert len(values) >= 4 and np.ptp(values) <= 1e-12 * np.abs(values).max()
        drops.append(float(values[0]))
    exact = current * 6 * H / (10.0 * H * H)  # I L / (sigma A); phi_s = 0 at the collector
    numbers.record("bar drops", drops)
    for drop in drops:
        assert drop == pytest.approx(exact, rel=1e-10)


DEMO = Path(__file__).resolve().parents[2] / "demos" / "nmc_electrode" / "case_12.toml"
IMAGE = DEMO.parents[2].parent / "shared" / "data" / "nmc_electrode_256.tiff"


@pytest.mark.mpi
@pytest.mark.skipif(not IMAGE.is_file(), reason=f"{IMAGE} not found")
def test_nmc_crop_with_face_connected_phases(tmp_path_factory, comm, numbers):
    from femiec.cli import main

    tmp = comm.bcast(tmp_path_factory.mktemp("face") if comm.rank == 0 else None)
    results = {}
    for connectivity in ("vertex", "face"):
        if comm.rank == 0:
            text = DEMO.read_text().replace("crop = [[0, 12], [0, 12], [0, 12]]", "crop = [[0, 8], [0, 8], [0, 8]]")
            text = text.replace("dt_max = 600.0", "t_end = 120.0\ndt = 60.0\ndt_max = 60.0")
            text = text.replace("outputs = 5 ", "outputs = 2 ")
            text = text.replace("[model.discharge]\n", "[model.discharge]\nerror_tolerance = false\n"
                                "dense_output = false\n")
            text = text.replace('file = "../../../shared/data', f'file = "{DEMO.parents[2].parent}/shared/data')
            text = text.replace("[mesh]\n", f'[mesh]\nconnectivity = "{connectivity}"\n')
            (tmp / f"{connectivity}.toml").write_text(text)
        comm.barrier()
        out = tmp / connectivity
        assert main(["-q", "run", str(tmp / f"{connectivity}.toml"), "--out", str(out)]) == 0
        summary = json.loads((out / "summary.json").read_text())
        rows = list(csv.DictReader((out / "voltage.csv").open()))
        results[connectivity] = ([float(r["voltage_V"]) for r in rows], summary)
    vertex, face = results["vertex"][0], results["face"][0]
    numbers.record("face voltages", face)
    numbers.record("face - vertex", list(np.subtract(face, vertex)))
    dofs = {c: results[c][1]["description"]["dofs_per_field"] for c in results}
    numbers.record("face dofs", [dofs["face"][f] - dofs["vertex"][f] for f in sorted(dofs["face"])])
    for field in ("concentration_electrolyte", "potential_solid"):  # nodes split at edge/corner contacts
        assert dofs["face"][field] > dofs["vertex"][field]
    assert face[0] == pytest.approx(vertex[0], abs=1e-12)  # the same open-circuit start
    assert np.max(np.abs(np.subtract(face, vertex))) < 5e-3


def _electrode_solid_deff(crop, connectivity, comm):
    """D_eff/D0 along x of the solid (NMC + carbon-binder, one conductivity sigma) of ``crop`` through the
    electrode's own discretisation: its phi_s space (the solid's phase mesh), its dx of the solid on the
    all-phase mesh with its entity maps, its cut-off clusters (problem_from_section's image rules) and
    its collector condition (phi_s = 0 at xmax), with phi_s = 1 V on the solid's xmin facets:
    I = int sigma |grad phi_s|^2 dx (the Galerkin energy at 1 V), D_eff/D0 = I L / (sigma A)."""
    import ufl
    from dolfinx import fem
    from dolfinx.fem import petsc
    from petsc4py import PETSc

    from femiec.meshing.phase_mesh import PhaseMesh, phase_facets
    from femiec.meshing.voxel import voxel_mesh
    from femiec.problems.electrode_case import cell_voxel_values, image_phase_labels
    from femiec.problems.electrode_phases import SolidConductor

    sigma = 10.0
    names = {0: "pore", 85: "nmc", 170: "carbon_binder"}
    meshdata = voxel_mesh(crop, voxel_size=H, phase_names=names, comm=comm, connectivity=connectivity)
    inert, _ = image_phase_labels(crop, [0], [85], [170], "xmin", "xmax")
    problem = ElectrodeProblem(meshdata, electrolyte_regions=["pore"], active_regions=["nmc"],
                               conductor_regions=["carbon_binder"], separator=["xmin"], collector=["xmax"],
                               electrolyte=E, active={"diffusivity": 1e-12, "conductivity": sigma},
                               conductor_conductivity=sigma,
                               inert_cells=np.flatnonzero(cell_voxel_values(meshdata, inert)).astype(np.int32))
    k = problem.index(SolidConductor.potential)
    V = problem.spaces[k]
    solid = PhaseMesh(problem.submeshes["solid"], problem.cell_maps["solid"])
    tags = meshdata.facet_tags
    inlet = fem.locate_dofs_topological(V, 2, phase_facets(problem.mesh, solid,
                                                           tags.indices[tags.values == meshdata.facet_id("xmin")]))
    bcs = [*problem.bcs, fem.dirichletbc(1.0, inlet, V)]
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    a = problem.form(problem.solid_conductivity * ufl.inner(ufl.grad(u), ufl.grad(v)) * problem.dx_solid)
    L = problem.form(fem.Constant(problem.mesh, 0.0) * v * problem.dx_solid)
    A = petsc.assemble_matrix(a, bcs=bcs)
    A.assemble()
    b = petsc.assemble_vector(L)
    petsc.apply_lifting(b, [a], bcs=[bcs])
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    petsc.set_bc(b, bcs)
    solver = PETSc.KSP().create(comm)
    solver.setOperators(A)
    solver.setType("preonly")
    solver.getPC().setType("lu")
    solver.getPC().setFactorSolverType("mumps")
    phi = fem.Function(V)
    solver.solve(b, phi.x.petsc_vec)
    phi.x.scatter_forward()
    solver.destroy(), A.destroy(), b.destroy()
    energy = problem.form(problem.solid_conductivity * ufl.inner(ufl.grad(phi), ufl.grad(phi)) * problem.dx_solid)
    current = comm.allreduce(fem.assemble_scalar(energy))
    nx, ny, nz = crop.shape
    return current * nx * H / (sigma * ny * nz * H * H)


@pytest.mark.mpi
@pytest.mark.skipif(not IMAGE.is_file(), reason=f"{IMAGE} not found")
def test_solid_conductivity_through_the_electrode_discretisation(comm, numbers):
    """The 24^3 crop of test_meshing_voxel_face_connectivity.py ([100:124, 50:74, 0:24], x): with "face" the
    electrode's solid is homogenize's Q1-face (the same face-connected Q1 mesh of the spanning clusters;
    the clusters cut off from the collector are inert, the others carry no current) to the CG tolerance;
    with "vertex" the electrode lies between Q1-face and Q1-vertex (its submesh shares nodes at edge
    contacts, but the clusters joined to the collector only through them are inert: 6-connected labels);
    fv (two-point fluxes, 6-connected) lies below all of them."""
    from femiec.homogenization import homogenize
    from femiec.meshing.tomography import read_image

    crop = np.ascontiguousarray(read_image(IMAGE)[100:124, 50:74, 0:24])
    solid = {85: 1.0, 170: 1.0}
    reference = {name: homogenize(crop, solid, method=method, comm=comm, rtol=1e-10, **options).axes["x"].deff_ratio
                 for name, method, options in (("Q1-vertex", "fe", {}), ("Q1-face", "fe", {"connectivity": "face"}),
                                               ("fv", "fv", {}))}
    electrode = {c: _electrode_solid_deff(crop, c, comm) for c in ("vertex", "face")}
    numbers.record("electrode vertex, face", [electrode["vertex"], electrode["face"]])
    numbers.record("homogenize Q1-vertex, Q1-face, fv", list(reference.values()))
    assert electrode["face"] == pytest.approx(reference["Q1-face"], rel=1e-8)
    assert reference["Q1-face"] - 1e-8 <= electrode["vertex"] <= reference["Q1-vertex"] + 1e-8
    assert reference["fv"] < reference["Q1-face"]
