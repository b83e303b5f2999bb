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
