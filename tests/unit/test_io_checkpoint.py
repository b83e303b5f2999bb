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
