"""Restart files: the local degree-of-freedom arrays of every rank plus a JSON state, in two slots.

Layout of a checkpoint directory: two slot directories ``slot0/`` and ``slot1/``, and ``current``, a one-line
file naming the slot that holds the last complete checkpoint. A slot holds ``state.json`` (rank 0: the
caller's state, the number of ranks and a partition fingerprint) and ``rank<r>.npz`` (each rank's local
arrays, owned and ghost entries). A new checkpoint is written into the other slot (emptied first); only
after every rank has written and flushed its file and rank 0 its state is ``current`` switched to it by an
atomic rename, so a run killed while writing leaves the previous checkpoint readable. (A directory holding
``state.json`` itself, the one-slot layout of earlier versions, is read too.)

Read back on the same mesh with the same number of ranks and the same partition (the fingerprint, a hash of
every rank's local mesh geometry and dof map, is equal), each rank takes its own file. Otherwise, when the
writer gave the function spaces of the arrays (``spaces``), every owned degree of freedom was stored with
its key (:func:`dof_keys`: sub-space, component and coordinates), and the reader finds each of its local
degrees of freedom among those of all the written ranks by that key (a k-d tree per sub-space and
component, coordinates equal to 1e-9 of the mesh's extent): a restart on another partition (a graph
partitioner that gives the parts to the ranks in another order) or another number of ranks reads the same
values. Without keys, or when a degree of freedom has no match (another mesh), it is an InputError, as is
a missing or unreadable file.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np

from femiec.errors import InputError

STATE = "state.json"
POINTER = "current"
SLOTS = ("slot0", "slot1")


def partition_fingerprint(function_space) -> str:
    """Hash of every rank's local geometry and dof map of ``function_space`` (the same on all ranks)."""
    mesh = function_space.mesh
    local = hashlib.sha256()
    local.update(np.ascontiguousarray(mesh.geometry.x).tobytes())
    local.update(np.ascontiguousarray(function_space.dofmap.list).tobytes())
    digests = mesh.comm.allgather(local.hexdigest())
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def current_slot(directory) -> Path | None:
    """The slot directory ``current`` names, the directory itself for the one-slot layout, or None."""
    directory = Path(directory)
    pointer = directory / POINTER
    if pointer.is_file():
        name = pointer.read_text().strip()
        return directory / name if name in SLOTS else None
    return directory if (directory / STATE).is_file() else None


def _write_durably(path: Path, write) -> None:
    """``write(file)`` into ``path`` and flush it to the disk."""
    with path.open("wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def dof_keys(function_space) -> np.ndarray:
    """(n, 5) float keys of the n local degrees of freedom (owned and ghosts, unrolled) of a Lagrange space:
    sub-space index, component, x, y, z [m] (a space without sub-spaces is sub-space 0)."""
    n = (function_space.dofmap.index_map.size_local + function_space.dofmap.index_map.num_ghosts) \
        * function_space.dofmap.index_map_bs
    keys = np.full((n, 5), np.nan)
    count = function_space.num_sub_spaces
    for sub in range(max(count, 1)):
        if count:
            collapsed, parent = function_space.sub(sub).collapse()
            parent = np.asarray(parent)
        else:
            collapsed, parent = function_space, np.arange(n)
        bs = collapsed.dofmap.index_map_bs
        x = collapsed.tabulate_dof_coordinates()
        for component in range(bs):
            rows = parent[component::bs]
            keys[rows, 0], keys[rows, 1], keys[rows, 2:] = sub, component, x
    return keys


def _owned(function_space) -> int:
    return function_space.dofmap.index_map.size_local * function_space.dofmap.index_map_bs


def write_checkpoint(directory, arrays: dict[str, np.ndarray], state: dict, fingerprint: str, comm,
                     spaces: dict | None = None) -> Path:
    """Write this rank's ``arrays`` and (rank 0) ``state`` (JSON-serialisable) into the free slot of
    ``directory`` and switch ``current`` to it once all ranks are done; returns the slot directory.
    ``spaces``: the function space of each array (name -> space); their owned dof keys are written too, so
    the checkpoint can be read on another partition or number of ranks."""
    directory = Path(directory)
    arrays = dict(arrays)
    space_of = {}
    for name, space in (spaces or {}).items():
        index = next((k for k, (other, _) in enumerate(space_of.values()) if other is space), len(space_of))
        if index == len(space_of):
            space_of[f"__keys{index}"] = (space, dof_keys(space)[:_owned(space)])
        arrays[f"__space_{name}"] = np.array(index)
    arrays.update({key: keys for key, (_, keys) in space_of.items()})
    slot = None
    if comm.rank == 0:
        directory.mkdir(parents=True, exist_ok=True)
        previous = current_slot(directory)
        slot = SLOTS[1] if previous is not None and previous.name == SLOTS[0] else SLOTS[0]
        shutil.rmtree(directory / slot, ignore_errors=True)
        (directory / slot).mkdir()
    target = directory / comm.bcast(slot, root=0)
    _write_durably(target / f"rank{comm.rank}.npz", lambda f: np.savez(f, **arrays))
    comm.barrier()
    if comm.rank == 0:
        meta = json.dumps({"ranks": comm.size, "fingerprint": fingerprint, "state": state}, indent=1)
        _write_durably(target / STATE, lambda f: f.write(meta.encode()))
        tmp = directory / (POINTER + ".tmp")
        _write_durably(tmp, lambda f: f.write(f"{target.name}\n".encode()))
        os.replace(tmp, directory / POINTER)
    comm.barrier()
    return target


def read_checkpoint(directory, fingerprint: str, comm, spaces: dict | None = None
                    ) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays of this rank, state) of the last complete checkpoint in ``directory``; InputError (on every
    rank) when it is missing or unreadable, or was written with another number of ranks or partition and
    cannot be mapped to this one (module docstring: ``spaces``, name -> function space of the arrays
    wanted, and keys in the checkpoint)."""
    slot, meta = _last_state(directory)
    if meta["ranks"] == comm.size and meta["fingerprint"] == fingerprint:
        arrays = _read_arrays(slot / f"rank{comm.rank}.npz")
        _raise_if_failed([arrays], slot, comm)
        return {k: v for k, v in arrays.items() if not k.startswith("__")}, meta["state"]
    if spaces is None:
        expected = f"a checkpoint written on {comm.size} ranks (it has {meta['ranks']})" \
            if meta["ranks"] != comm.size else "a checkpoint of the same mesh and partition"
        raise InputError("restart", str(directory), expected)
    files = [_read_arrays(slot / f"rank{r}.npz") for r in range(meta["ranks"])]
    _raise_if_failed(files, slot, comm)
    return _mapped_arrays(files, spaces, directory, comm), meta["state"]


def read_state(directory) -> dict:
    """The caller's state of the last complete checkpoint in ``directory`` (no arrays read); InputError when
    there is none or it is unreadable."""
    return _last_state(directory)[1]["state"]


def _last_state(directory) -> tuple[Path, dict]:
    """(slot, state.json contents) of the last complete checkpoint in ``directory``."""
    directory = Path(directory)
    slot = current_slot(directory)
    if slot is None or not (slot / STATE).is_file():
        raise InputError("restart", str(directory), f"a checkpoint directory with {POINTER} or {STATE}")
    try:
        return slot, json.loads((slot / STATE).read_text())
    except (OSError, ValueError) as exc:
        raise InputError("restart", str(directory), f"a readable {STATE} ({exc})") from None


def _raise_if_failed(files: list, slot: Path, comm) -> None:
    """InputError on every rank when any rank could not read one of its ``files``."""
    reason = next((f for f in files if isinstance(f, str)), None)
    reasons = comm.allgather(reason)
    if any(r is not None for r in reasons):
        raise InputError("restart", str(slot), f"a complete checkpoint ({next(r for r in reasons if r)})")


def _mapped_arrays(files: list[dict], spaces: dict, directory, comm) -> dict[str, np.ndarray]:
    """This rank's arrays of ``spaces`` (name -> function space), each local dof taken from the written owned
    dof with the same key (sub-space, component, coordinates to 1e-9 of the mesh extent); a name the
    checkpoint does not hold is left out (the caller decides whether it was optional)."""
    from scipy.spatial import cKDTree

    from femiec.meshing.base import bounding_box

    spaces = {name: space for name, space in spaces.items() if name in files[0]}
    if any(f"__space_{name}" not in files[0] for name in spaces):
        raise InputError("restart", str(directory), "a checkpoint of the same mesh and partition (this one has "
                         "no dof keys to map it to another partition)")
    arrays, local_keys = {}, {}
    for name, space in spaces.items():
        index = int(files[0][f"__space_{name}"])
        saved = np.concatenate([f[f"__keys{index}"] for f in files])
        values = np.concatenate([f[name][:len(f[f"__keys{index}"])] for f in files])
        owned = comm.allreduce(_owned(space))
        if owned != len(saved):  # e.g. a coarser mesh whose dofs are all among them
            raise InputError("restart", str(directory), f"a checkpoint of this mesh ({len(saved)} degrees of "
                             f"freedom of {name!r}, this problem has {owned})")
        if id(space) not in local_keys:
            local_keys[id(space)] = dof_keys(space)
        local = local_keys[id(space)]
        lower, upper = bounding_box(space.mesh)
        tolerance = 1e-9 * float(np.max(upper - lower))
        out, found = np.empty(len(local)), np.zeros(len(local), dtype=bool)
        for group in np.unique(saved[:, :2], axis=0):
            source = np.all(saved[:, :2] == group, axis=1)
            target = np.all(local[:, :2] == group, axis=1)
            if not target.any():
                continue
            tree = cKDTree(saved[source, 2:])
            if int(source.sum()) > 1 and np.any(tree.query(saved[source, 2:], k=2)[0][:, 1] <= tolerance):
                raise InputError("restart", str(directory), f"a checkpoint of the same partition ({name!r} has "
                                 "several degrees of freedom at one point, e.g. nodes split by "
                                 "mesh.connectivity = 'face': the keys cannot tell them apart)")
            distance, nearest = tree.query(local[target, 2:])
            hit = distance <= tolerance
            rows = np.flatnonzero(target)
            out[rows[hit]] = values[source][nearest[hit]]
            found[rows[hit]] = True
        if not comm.allreduce(bool(found.all()), op=_land()):
            raise InputError("restart", str(directory), f"a checkpoint of this mesh (degrees of freedom of {name!r} "
                             "without a match)")
        arrays[name] = out
    return arrays


def _land():
    from mpi4py import MPI

    return MPI.LAND


def _read_arrays(path: Path) -> dict[str, np.ndarray] | str:
    """The arrays of one rank's file, or why they cannot be read (a truncated or corrupt file)."""
    try:
        with np.load(path) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        return f"{path.name}: {type(exc).__name__}: {exc}"
