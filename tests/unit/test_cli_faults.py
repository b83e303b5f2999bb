"""Faults on the way from the command line to the output directory: each one is one line `error: ...` on
stderr with exit status 2 (bad input, before any solve), never a traceback; the output directory is
checked, locked against a second run and cleared of an earlier run's outputs (femiec.io.output_dir);
`femiec validate` does not build the model's problem unless `--build` is given."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from case_texts import ELECTRODE_DEMO as DEMO
from case_texts import SLAB_CASE as CASE
from femiec.cli import main
from femiec.io.output_dir import LOCK, PREVIOUS

TIFF = DEMO.parents[2].parent / "shared" / "data" / "nmc_electrode_256.tiff"


def _case(tmp_path, text=CASE, name="case.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _error_line(capsys, key):
    """The one stderr line: `error: <key>: ...`, no traceback."""
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"error: {key}: ") and "Traceback" not in err[0], err[0]
    return err[0]


def _image(tmp_path):
    path = tmp_path / "image.npy"
    image = np.zeros((6, 4, 4), dtype=np.uint8)
    image[:, 1:3, 1:3] = 1
    np.save(path, image)
    return path


# ------------------------------------------------------------------------------------- readers
def test_binary_case_file(tmp_path, capsys):
    path = tmp_path / "case.toml"
    path.write_bytes(bytes(range(128, 256)) * 4)
    assert main(["validate", str(path)]) == 2
    assert "UTF-8" in _error_line(capsys, "case file")


@pytest.mark.parametrize("content", [b"\x8a\x01garbage" * 50, "truncated"])
def test_unreadable_tiff(tmp_path, capsys, content):
    """Random bytes and a TIFF stack cut in half: refused by `homogenize` and by an image-mesh case."""
    path = tmp_path / "image.tif"
    if content == "truncated":
        import tifffile

        tifffile.imwrite(path, np.zeros((20, 16, 16), dtype=np.uint8))
        content = path.read_bytes()[:3000]
    path.write_bytes(content)
    assert main(["homogenize", str(path), "--phase", "0"]) == 2
    assert "a readable TIFF stack" in _error_line(capsys, "image file")
    case = CASE.replace('kind = "box"\nlengths = [2.0e-3, 1.0e-3, 1.0e-3]\ncells = [6, 3, 3]',
                        f'kind = "image"\nfile = "{path}"\nphases = {{ domain = 0 }}\nvoxel_size = 1e-6')
    assert main(["validate", str(_case(tmp_path, case))]) == 2
    assert "a readable TIFF stack" in _error_line(capsys, "image file")


def test_corrupt_npy(tmp_path, capsys):
    path = tmp_path / "image.npy"
    path.write_bytes(b"\x93NUMPY garbage")
    assert main(["homogenize", str(path), "--phase", "0"]) == 2
    _error_line(capsys, "image file")


def test_garbage_msh(tmp_path, capsys):
    (tmp_path / "mesh.msh").write_text("this is not a mesh\n")
    case = CASE.replace('kind = "box"\nlengths = [2.0e-3, 1.0e-3, 1.0e-3]\ncells = [6, 3, 3]',
                        'kind = "gmsh"\nfile = "mesh.msh"')
    assert main(["validate", str(_case(tmp_path, case))]) == 2
    assert "gmsh can read" in _error_line(capsys, "mesh.file")


def test_unknown_dtype(tmp_path, capsys):
    """raw `--dtype uint9` on the command line, and `dtype = "uint9"` in a case file."""
    raw = tmp_path / "image.raw"
    raw.write_bytes(bytes(96))
    assert main(["homogenize", str(raw), "--shape", "6", "4", "4", "--dtype", "uint9", "--phase", "0"]) == 2
    _error_line(capsys, "--dtype")
    case = CASE.replace('kind = "box"\nlengths = [2.0e-3, 1.0e-3, 1.0e-3]\ncells = [6, 3, 3]',
                        f'kind = "image"\nfile = "{raw}"\nphases = {{ domain = 0 }}\nvoxel_size = 1e-6\n'
                        'shape = [6, 4, 4]\ndtype = "uint9"')
    assert main(["validate", str(_case(tmp_path, case))]) == 2
    _error_line(capsys, "mesh.dtype")


def test_box_too_large_for_memory(tmp_path, capsys):
    """10^15 cells: refused from an estimate before DOLFINx allocates (std::bad_alloc before)."""
    case = CASE.replace("cells = [6, 3, 3]", "cells = [100000, 100000, 100000]")
    assert main(["validate", str(_case(tmp_path, case))]) == 2
    assert "fits in memory" in _error_line(capsys, "mesh.cells")


# ---------------------------------------------------------------------------- homogenize options
@pytest.mark.parametrize("options, key, text", [
    (["--phase", "0", "--phase", "0:5"], "--phase", "given twice"),
    (["--phase", "1", "--phase", "1"], "--phase", "given twice"),
    (["--phase", "0", "--shape", "6", "4", "4"], "--shape", "raw files only"),
    (["--phase", "0", "--dtype", "uint8"], "--dtype", "raw files only"),
])
def test_homogenize_conflicting_options(tmp_path, capsys, options, key, text):
    assert main(["homogenize", str(_image(tmp_path)), *options]) == 2
    assert text in _error_line(capsys, key)


@pytest.mark.parametrize("option", ["--out", "--json"])
def test_homogenize_output_checked_before_solving(tmp_path, capsys, monkeypatch, option):
    """A file where the output directory should be (and a folder below a file): refused before the solve."""
    import femiec.homogenization

    def solve(*args, **kwargs):
        raise AssertionError("solved before the output was checked")

    monkeypatch.setattr(femiec.homogenization, "homogenize", solve)
    blocker = tmp_path / "file"
    blocker.write_text("")
    target = str(blocker) if option == "--out" else str(blocker / "result.json")
    assert main(["homogenize", str(_image(tmp_path)), "--phase", "1", option, target]) == 2
    assert "a directory (this path is a file)" in _error_line(capsys, option)


# ------------------------------------------------------------------------------ output directory
@pytest.mark.parametrize("where", ["file", "below a file"])
def test_run_output_not_a_writable_directory(tmp_path, capsys, monkeypatch, where):
    import femiec.runner

    monkeypatch.setattr(femiec.runner, "build_problem", lambda *a: pytest.fail("built before the check"))
    blocker = tmp_path / "out"
    blocker.write_text("")
    out = blocker if where == "file" else blocker / "sub"
    assert main(["run", str(_case(tmp_path)), "--out", str(out)]) == 2
    line = _error_line(capsys, "--out")
    assert ("a directory" if where == "file" else "a writable directory") in line


def test_lock_of_a_running_process(tmp_path, capsys):
    """A lock held by a live process: the second run is one line naming the directory, PID and host; the
    lock is left alone."""
    out = tmp_path / "out"
    out.mkdir()
    holder = {"pid": os.getppid(), "host": socket.gethostname(), "started": "2026-01-01T00:00:00"}
    (out / LOCK).write_text(json.dumps(holder))
    assert main(["run", str(_case(tmp_path)), "--out", str(out)]) == 2
    line = _error_line(capsys, "--out")
    assert str(out) in line and f"PID {os.getppid()} on host {socket.gethostname()}" in line
    assert json.loads((out / LOCK).read_text()) == holder and not (out / "summary.json").exists()


def test_lock_of_another_host_is_not_taken(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK).write_text(json.dumps({"pid": 1, "host": "some-other-node"}))
    assert main(["run", str(_case(tmp_path)), "--out", str(out)]) == 2
    assert "on host some-other-node" in _error_line(capsys, "--out")


def test_stale_lock_is_taken_over(tmp_path, capsys, caplog):
    """A lock of a dead PID on this host: taken over with a warning; the run completes and removes it."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    assert main(["-q", "run", str(_case(tmp_path)), "--out", str(out)]) == 0
    assert "stale lock" in caplog.text and str(dead.pid) in caplog.text
    assert (out / "summary.json").is_file() and not (out / LOCK).exists()


def test_lock_is_released_after_a_failed_run(tmp_path, capsys):
    case = CASE.replace('facet = "xmax"', 'facet = "right"')
    out = tmp_path / "out"
    assert main(["run", str(_case(tmp_path, case)), "--out", str(out)]) == 2
    _error_line(capsys, "model.boundary[1].facet")
    assert out.is_dir() and not (out / LOCK).exists()


def test_earlier_outputs_are_moved_to_previous(tmp_path, capsys):
    """A second run into the same directory moves the first run's files (fields, summary.json) and a
    stray CSV/PNG/checkpoint into previous/<time stamp>/; other files stay; summary.json is new."""
    out = tmp_path / "out"
    case = _case(tmp_path)
    assert main(["-q", "run", str(case), "--out", str(out)]) == 0
    first = sorted(p.name for p in out.iterdir())
    assert "summary.json" in first and any(name.endswith(".bp") for name in first)
    for name in ("voltage.csv", "voltage.png"):
        (out / name).write_text("old")
    (out / "checkpoint").mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["-q", "run", str(case), "--out", str(out)]) == 0
    (moved,) = list((out / PREVIOUS).iterdir())
    assert sorted(p.name for p in moved.iterdir()) == sorted(first + ["voltage.csv", "voltage.png", "checkpoint"])
    assert sorted(p.name for p in out.iterdir()) == sorted(first + ["notes.txt", PREVIOUS])
    assert json.loads((out / "summary.json").read_text())["wall_time_s"] > 0


# ------------------------------------------------------------------------------------- validate
def test_validate_does_not_build_the_problem(tmp_path, capsys, monkeypatch):
    """`femiec validate` builds the mesh and checks the tags but not the model's problem; `--build` does."""
    import dataclasses

    from femiec.models.registry import MODELS

    built = []
    monkeypatch.setitem(MODELS, "conduction",
                        dataclasses.replace(MODELS["conduction"], build=lambda *a: built.append(a)))
    path = _case(tmp_path)
    assert main(["validate", str(path)]) == 0 and built == []
    assert main(["validate", "--build", str(path)]) == 0 and len(built) == 1
    assert capsys.readouterr().out.count("ok: ") == 2


@pytest.mark.skipif(not TIFF.is_file(), reason=f"{TIFF} not found")
def test_truncated_checkpoint(tmp_path, capsys):
    """An electrode run (8^3 crop, two steps) writes its checkpoint; with rank0.npz cut in half a restart
    from it is one line naming the checkpoint (zipfile.BadZipFile before)."""
    text = DEMO.read_text().replace("crop = [[0, 12], [0, 12], [0, 12]]", "crop = [[0, 8], [0, 8], [0, 8]]")
    text = text.replace("dt_max = 600.0", "t_end = 120.0\ndt = 60.0\ndt_max = 60.0")
    text = text.replace('file = "../../../shared/data', f'file = "{DEMO.parents[2].parent}/shared/data')
    case = _case(tmp_path, text)
    assert main(["-q", "run", str(case), "--out", str(tmp_path / "first")]) == 0
    from femiec.io.checkpoint import current_slot

    checkpoint = tmp_path / "first" / "checkpoint"
    rank0 = current_slot(checkpoint) / "rank0.npz"
    rank0.write_bytes(rank0.read_bytes()[: rank0.stat().st_size // 2])
    restart = text.replace("every = 10 ", f'every = 10\nrestart = "{checkpoint}" ').replace(
        "t_end = 120.0", "t_end = 240.0")
    assert main(["run", str(_case(tmp_path, restart, "restart.toml")), "--out", str(tmp_path / "second")]) == 2
    assert "a complete checkpoint" in _error_line(capsys, "restart")


# ------------------------------------------------------------------------------- on every rank
def _shared_dir(comm, tmp_path_factory):
    return comm.bcast(tmp_path_factory.mktemp("faults") if comm.rank == 0 else None)


def _rank0_line(comm, capsys, key):
    if comm.rank == 0:
        return _error_line(capsys, key)
    assert capsys.readouterr().err.strip() == ""
    return None


@pytest.mark.mpi
def test_faults_on_every_rank(comm, tmp_path_factory, capsys):
    """Rank 0 checks the file system; every rank raises the same error, rank 0 prints it, nothing hangs:
    a garbage .msh, an output path that is a file, a locked output directory."""
    tmp = _shared_dir(comm, tmp_path_factory)
    if comm.rank == 0:
        (tmp / "mesh.msh").write_text("this is not a mesh\n")
        _case(tmp, CASE.replace('kind = "box"\nlengths = [2.0e-3, 1.0e-3, 1.0e-3]\ncells = [6, 3, 3]',
                                'kind = "gmsh"\nfile = "mesh.msh"'), "msh.toml")
        _case(tmp)
        (tmp / "file").write_text("")
        (tmp / "locked").mkdir()
        (tmp / "locked" / LOCK).write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    comm.barrier()
    assert main(["validate", str(tmp / "msh.toml")]) == 2
    _rank0_line(comm, capsys, "mesh.file")
    assert main(["run", str(tmp / "case.toml"), "--out", str(tmp / "file")]) == 2
    _rank0_line(comm, capsys, "--out")
    assert main(["run", str(tmp / "case.toml"), "--out", str(tmp / "locked")]) == 2
    line = _rank0_line(comm, capsys, "--out")
    assert line is None or "locked by PID" in line


@pytest.mark.mpi
def test_second_run_moves_the_first_on_every_rank(comm, tmp_path_factory, capsys):
    tmp = _shared_dir(comm, tmp_path_factory)
    if comm.rank == 0:
        _case(tmp)
    comm.barrier()
    for _ in range(2):
        assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    comm.barrier()
    (moved,) = list((tmp / "out" / PREVIOUS).iterdir())
    assert (moved / "summary.json").is_file() and (tmp / "out" / "summary.json").is_file()
    assert not (tmp / "out" / LOCK).exists()
