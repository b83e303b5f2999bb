"""Checkpoint files (femiec.io.checkpoint): two slots switched atomically, refusals of broken ones."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from femiec.errors import InputError


def _space(comm):
    from dolfinx import fem, mesh

    return fem.functionspace(mesh.create_unit_square(comm, 4, 4), ("Lagrange", 1))


def _directory(comm, tmp_path_factory) -> Path:
    return Path(comm.bcast(str(tmp_path_factory.mktemp("checkpoint")) if comm.rank == 0 else None))


@pytest.mark.mpi
def test_checkpoint_slots_survive_a_half_written_slot(comm, tmp_path_factory):
    """Two checkpoints go to the two slots and ``current`` names the newer one. A third one killed while
    writing (its slot emptied, a truncated rank file, no state.json, ``current`` not switched) leaves the
    second one readable; the next complete write goes into that same free slot and is read back."""
    from femiec.io.checkpoint import POINTER, SLOTS, current_slot, partition_fingerprint, read_checkpoint, \
        write_checkpoint

    V = _space(comm)
    fingerprint = partition_fingerprint(V)
    directory = _directory(comm, tmp_path_factory)
    values = np.arange(V.dofmap.index_map.size_local + V.dofmap.index_map.num_ghosts, dtype=float)
    write_checkpoint(directory, {"u": values}, {"n": 1}, fingerprint, comm)
    write_checkpoint(directory, {"u": 2 * values}, {"n": 2}, fingerprint, comm)
    assert current_slot(directory).name == SLOTS[1]
    if comm.rank == 0:  # the third write, killed half-way
        free = directory / SLOTS[0]
        shutil.rmtree(free)
        free.mkdir()
        (free / "rank0.npz").write_bytes(b"PK\x03\x04 truncated")
    comm.barrier()
    arrays, state = read_checkpoint(directory, fingerprint, comm)
    assert state == {"n": 2} and np.array_equal(arrays["u"], 2 * values)
    write_checkpoint(directory, {"u": 3 * values}, {"n": 3}, fingerprint, comm)
    assert (directory / POINTER).read_text().strip() == SLOTS[0]
    arrays, state = read_checkpoint(directory, fingerprint, comm)
    assert state == {"n": 3} and np.array_equal(arrays["u"], 3 * values)


@pytest.mark.mpi
def test_checkpoint_refusals_name_the_broken_file(comm, tmp_path_factory):
    """A truncated rank file of the current slot, another fingerprint and an empty directory are
    InputErrors on every rank (no BadZipFile traceback, no rank left waiting); the one-slot layout of
    earlier versions (state.json in the directory itself) is still read."""
    from femiec.io.checkpoint import STATE, current_slot, partition_fingerprint, read_checkpoint, write_checkpoint

    V = _space(comm)
    fingerprint = partition_fingerprint(V)
    directory = _directory(comm, tmp_path_factory)
    with pytest.raises(InputError, match="restart"):
        read_checkpoint(directory, fingerprint, comm)
    values = np.ones(V.dofmap.index_map.size_local + V.dofmap.index_map.num_ghosts)
    slot = write_checkpoint(directory, {"u": values}, {"n": 1}, fingerprint, comm)
    with pytest.raises(InputError, match="same mesh and partition"):
        read_checkpoint(directory, "another", comm)
    legacy = Path(str(directory) + "_legacy")
    if comm.rank == 0:
        shutil.copytree(slot, legacy)
        path = slot / f"rank{comm.size - 1}.npz"
        path.write_bytes(path.read_bytes()[:40])
    comm.barrier()
    with pytest.raises(InputError, match=f"rank{comm.size - 1}.npz: BadZipFile"):
        read_checkpoint(directory, fingerprint, comm)
    assert current_slot(legacy) == legacy and (legacy / STATE).is_file()
    arrays, state = read_checkpoint(legacy, fingerprint, comm)
    assert state == {"n": 1} and np.array_equal(arrays["u"], values)
    assert json.loads((legacy / STATE).read_text())["ranks"] == comm.size


def _mixed_space(comm, cells: int = 3):
    """P2 vector x P1 on the unit cube: sub-spaces, components and dofs that are not vertices."""
    import basix.ufl
    from dolfinx import fem, mesh

    domain = mesh.create_unit_cube(comm, cells, cells, cells)
    P1 = basix.ufl.element("Lagrange", domain.basix_cell(), 1)
    P2 = basix.ufl.element("Lagrange", domain.basix_cell(), 2, shape=(3,))
    return fem.functionspace(domain, basix.ufl.mixed_element([P2, P1]))


def _field(space):
    """u = ((x + 2y, y z, x^2), 3 - z), exact in P2 x P1 at the dofs."""
    from dolfinx import fem

    u = fem.Function(space)
    u.sub(0).interpolate(lambda x: np.vstack([x[0] + 2 * x[1], x[1] * x[2], x[0] ** 2]))
    u.sub(1).interpolate(lambda x: 3.0 - x[2])
    return u


@pytest.mark.mpi
def test_checkpoint_is_read_on_another_partition_and_number_of_ranks(comm, tmp_path_factory):
    """Oracle: the interpolated field itself. A checkpoint written with its dof keys (P2 vector x P1, on
    ``comm``) is read back on each rank alone (COMM_SELF: another number of ranks when comm has two), and
    on ``comm`` through the key map (forced by another fingerprint): every local value equals the field
    interpolated on the reading space to 1e-14. A mesh of another size is refused with one line (a finer one
    has dofs without a match, a coarser one, whose dofs are all among the written ones, another count)."""
    from mpi4py import MPI

    from femiec.io.checkpoint import partition_fingerprint, read_checkpoint, write_checkpoint

    directory = _directory(comm, tmp_path_factory)
    written = _field(_mixed_space(comm))
    write_checkpoint(directory, {"u": written.x.array}, {"n": 1}, partition_fingerprint(written.function_space),
                     comm, spaces={"u": written.function_space})
    for reader in (MPI.COMM_SELF, comm):
        space = _mixed_space(reader)
        arrays, state = read_checkpoint(directory, "another", reader, spaces={"u": space})
        assert state == {"n": 1}
        assert np.max(np.abs(arrays["u"] - _field(space).x.array)) < 1e-14
    for cells in (4, 1):
        with pytest.raises(InputError, match="a checkpoint of this mesh"):
            read_checkpoint(directory, "another", comm, spaces={"u": _mixed_space(comm, cells=cells)})
