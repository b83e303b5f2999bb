"""Particles distributed over the MPI ranks (``[model] distribution`` of intercalation_particles;
femiec.meshing.particles.assign_particles, femiec.models.intercalation_particles.particle_meshes,
femiec.problems.intercalation.IntercalationCell with ``comm`` and ``index``)."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from mpi4py import MPI

import femiec
from femiec.config import load_case
from femiec.errors import InputError
from femiec.meshing.particles import assign_particles
from femiec.models.intercalation_particles import particle_meshes

CASE = """
[case]
name = "split_particles"

[model]
kind = "intercalation_particles"
site_density = 22800.0
interaction_energy = 11157.0
gradient_coefficient = 2.789e-13
diffusivity = 1.0e-14
standard_potential = 3.42
rate_constant = 1.0e-6
scheme = "implicit"
initial = 0.6
initial_spread = 0.002
voltage_min = 3.2
distribution = "{distribution}"
particles = [{{ lengths = [1.0e-8], cells = [4], surface = ["xmax"], count = 3 }},
             {{ lengths = [1.5e-8], cells = [6], surface = ["xmax"] }}]
control = {{ kind = "current", c_rate = 4.0, direction = "lithiation" }}

[time]
t_end = 300.0
dt = 20.0
dt_max = 100.0
outputs = 2
"""


def test_assign_particles_balances_the_cells():
    """Oracle: greedy longest-processing-time by hand. Six equal particles on two ranks: 3 and 3
    (alternating); weights 8, 2, 2, 2, 2 on two ranks: the heavy one alone (load 8 against 8); 5, 3, 3, 1
    on three ranks: {5}, {3, 1}, {3}; one rank: every particle in its group; fewer particles than ranks:
    one particle per group, ranks in proportion to the weights (3 and 1 on four ranks for 30 and 10,
    consecutive ranks per group); no or non-positive weights are refused."""
    assert assign_particles([1] * 6, 2) == ([0, 1, 0, 1, 0, 1], [0, 1])
    assert assign_particles([8, 2, 2, 2, 2], 2)[0] == [0, 1, 1, 1, 1]
    assert assign_particles([5, 3, 3, 1], 3)[0] == [0, 1, 2, 1]
    assert assign_particles([2, 7, 1], 1) == ([0, 0, 0], [0])
    assert assign_particles([30, 10], 4) == ([0, 1], [0, 0, 0, 1])
    assert assign_particles([1, 1], 3) == ([0, 1], [0, 0, 1])
    for weights in ([], [1, 0]):
        with pytest.raises(InputError):
            assign_particles(weights, 2)


def _boxes(counts_and_cells):
    from femiec.models.intercalation_particles import ParticleBox

    return [ParticleBox(lengths=[1e-8 * cells], cells=[cells], count=count) for count, cells in counts_and_cells]


@pytest.mark.mpi
def test_split_meshes_live_on_their_ranks(comm):
    """Oracle: the assignment above, per rank. Six equal 1D particles split over the ranks: each rank
    holds 6 / size of them (3/3 on two ranks), each on a one-rank communicator, every particle on
    exactly one rank; 8, 2, 2, 2, 2 cells: the big particle alone on rank 0 (two ranks); shared: all
    six on every rank over the whole communicator; one particle split over two ranks: a group of both."""
    count, index, meshes = particle_meshes(_boxes([(6, 4)]), comm, "split")
    assert count == 6 and (len(index) == 6 // comm.size or 6 % comm.size)
    assert sorted(sum(comm.allgather(index), [])) == list(range(6))
    assert all(m.mesh.comm.size == 1 for m in meshes)
    if comm.size == 2:
        _, index, _ = particle_meshes(_boxes([(1, 8), (4, 2)]), comm, "split")
        assert index == ([0] if comm.rank == 0 else [1, 2, 3, 4])
        _, index, meshes = particle_meshes(_boxes([(1, 4)]), comm, "split")
        assert index == [0] and meshes[0].mesh.comm.size == 2
    count, index, meshes = particle_meshes(_boxes([(6, 4)]), comm, "shared")
    assert index == list(range(6)) and all(m.mesh.comm.size == comm.size for m in meshes)


def _run(tmp, distribution, comm, case=CASE):
    """Run ``case`` with ``distribution`` over ``comm`` in ``tmp/<distribution>_np<size>``: (summary
    entries, voltage.csv rows as float arrays by column)."""
    directory = tmp / f"{distribution}_np{comm.size}"
    if comm.rank == 0:
        directory.mkdir()
        (directory / "case.toml").write_text(case.format(distribution=distribution))
    comm.barrier()
    summary = femiec.run(load_case(directory / "case.toml"), directory / "out", comm=comm)
    result = json.loads(summary.read_text())["intercalation"]
    with (directory / "out" / "voltage.csv").open() as f:
        rows = list(csv.DictReader(f))
    return result, {name: np.array([float(r[name]) for r in rows]) for name in rows[0]}


@pytest.mark.mpi
def test_split_population_equals_shared_and_serial(tmp_path_factory, comm, numbers):
    """Oracle: the distribution changes where each particle is solved, not the problem. Four 1D particles
    (three of 10 nm, one of 15 nm, c_max = 22800 mol/m^3) lithiated at 4C for 300 s, run with
    distribution "shared" and "split" over all ranks and, on rank 0 alone, serially: every column of
    voltage.csv (voltage, current, charge, lithium, state of charge of the cell and of each particle,
    phase-boundary area, Newton iterations) agrees between shared and split to a relative 1e-8, and the
    split run equals the serial run (each particle is then solved alone on its rank, as serially, and the
    sums over particles are taken in the same order) to a relative 1e-12; the field files of every
    particle are written by the split run."""
    tmp = comm.bcast(tmp_path_factory.mktemp("distribution") if comm.rank == 0 else None)
    shared, shared_rows = _run(tmp, "shared", comm)
    split, split_rows = _run(tmp, "split", comm)
    serial = _run(tmp, "split", MPI.COMM_SELF) if comm.rank == 0 and comm.size > 1 else (split, split_rows)
    serial, serial_rows = comm.bcast(serial if comm.rank == 0 else None)
    assert shared["particles"] == split["particles"] == 4 and shared["unknowns"] == split["unknowns"]
    assert split["steps"] == shared["steps"] and list(split_rows) == list(shared_rows)
    for name in shared_rows:
        assert split_rows[name] == pytest.approx(shared_rows[name], rel=1e-8, abs=1e-300), name
        assert split_rows[name] == pytest.approx(serial_rows[name], rel=1e-12, abs=1e-300), name
    out = tmp / f"split_np{comm.size}" / "out"
    for k in range(1, 5):
        assert (out / f"site_fraction_{k}.bp").exists() and (out / f"chemical_potential_{k}.bp").exists()
    numbers.record("voltage", split_rows["voltage_V"])
    numbers.record("particle_states", split["particle_states"])


@pytest.mark.mpi
def test_one_particle_over_a_group_of_ranks(tmp_path_factory, comm):
    """Oracle: with fewer particles than ranks a particle is solved by a group of ranks, here every rank:
    one 1D particle (15 nm, 6 cells) at 4C for 100 s split and shared gives the same voltage.csv to a
    relative 1e-8 (the same partition; test_split_meshes_live_on_their_ranks checks the group)."""
    case = CASE.replace("t_end = 300.0", "t_end = 100.0")
    one = 'particles = [{{ lengths = [1.5e-8], cells = [6], surface = ["xmax"] }}]'
    case = case[:case.index("particles = [")] + one + case[case.index("\ncontrol = "):]
    tmp = comm.bcast(tmp_path_factory.mktemp("group") if comm.rank == 0 else None)
    shared, shared_rows = _run(tmp, "shared", comm, case)
    split, split_rows = _run(tmp, "split", comm, case)
    assert split["particles"] == 1 and split["steps"] == shared["steps"]
    for name in shared_rows:
        assert split_rows[name] == pytest.approx(shared_rows[name], rel=1e-8, abs=1e-300), name


@pytest.mark.mpi
@pytest.mark.parametrize("distribution", ["shared", "split"])
def test_xdmf_output_keeps_every_particle(tmp_path_factory, comm, distribution):
    """Oracle: XDMF holds one mesh per file, so each particle's fields go to their own fields_<k>.xdmf
    (before, every particle's writer wrote fields.xdmf and the last one opened won): four particles give
    four files, each naming its own particle's fields at the output times t = 0, 150 and 300 s."""
    import xml.etree.ElementTree as ET

    tmp = comm.bcast(tmp_path_factory.mktemp("xdmf") if comm.rank == 0 else None)
    case = CASE.replace("outputs = 2", 'outputs = 2\n\n[output]\nformats = ["xdmf"]')
    _run(tmp, distribution, comm, case)
    out = tmp / f"{distribution}_np{comm.size}" / "out"
    assert not (out / "fields.xdmf").exists()
    for k in range(1, 5):
        tree = ET.parse(out / f"fields_{k}.xdmf")
        names = {g.get("Name") for g in tree.iter("Attribute")}
        times = {float(t.get("Value")) for t in tree.iter("Time")}
        assert names == {f"site_fraction_{k}", f"chemical_potential_{k}"}, names
        assert times == {0.0, 150.0, 300.0}, times
