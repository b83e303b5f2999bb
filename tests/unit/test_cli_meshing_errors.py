"""`femiec validate` on image-mesh case files with bad images: exit 2 and one error line, on 1 and 2 ranks
(the error is raised on every rank, rank 0 prints it, nothing hangs)."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from femiec.cli import main

CASE = """
[case]
name = "image"

[mesh]
kind = "image"
file = "{file}"
phases = {{ {phases} }}
voxel_size = 1.0e-6
{extra}

[materials.m]
conductivity = 1.0

[regions]
{regions}

[model]
kind = "conduction"
boundary = [{{ facet = "xmin", value = 0.0 }}, {{ facet = "xmax", value = 1.0 }}]
"""


def _image():
    """6 x 4 x 4 voxels of value 0 with a blob of value 1 that touches x = 0 but not x = 5."""
    image = np.zeros((6, 4, 4), dtype=np.uint8)
    image[0:3, 1:3, 1:3] = 1
    return image


def _validate(comm, tmp_path_factory, phases, extra="", raw=False):
    """Write the image (.npy, or .raw with ``extra`` giving shape/dtype) and the case on rank 0, run
    `femiec validate` on every rank; return the exit status."""
    tmp = comm.bcast(tmp_path_factory.mktemp("image") if comm.rank == 0 else None)
    file = tmp / ("image.raw" if raw else "image.npy")
    names = ", ".join(f"{name} = {value}" for name, value in phases.items())
    regions = "\n".join(f'{name} = "m"' for name in phases)
    if comm.rank == 0:
        if raw:
            _image().tofile(file)
        else:
            np.save(file, _image())
        text = CASE.format(file=file, phases=names, extra=extra, regions=regions)
        (tmp / "case.toml").write_text(textwrap.dedent(text))
    comm.barrier()
    return main(["validate", str(tmp / "case.toml")])


def _error_line(comm, capsys):
    """The one error line printed by rank 0 (other ranks print nothing)."""
    err = capsys.readouterr().err.strip().splitlines()
    if comm.rank != 0:
        assert err == []
        return None
    assert len(err) == 1, err  # exactly one line, no traceback
    return err[0]


@pytest.mark.mpi
def test_good_image_case_validates(tmp_path_factory, comm, capsys):
    assert _validate(comm, tmp_path_factory, {"pore": 0, "blob": 1}, 'percolating_axis = "x"') == 0


@pytest.mark.mpi
def test_phase_that_does_not_percolate(tmp_path_factory, comm, capsys):
    """The blob (12 voxels) does not connect xmin to xmax: refused with the phase named."""
    assert _validate(comm, tmp_path_factory, {"blob": 1}, 'percolating_axis = "x"') == 2
    line = _error_line(comm, capsys)
    if line is not None:
        assert line == ("error: phase: 1 (expected a 6-connected cluster of its 12 voxels connecting the faces "
                        "xmin and xmax)"), line


@pytest.mark.mpi
def test_raw_file_of_wrong_size(tmp_path_factory, comm, capsys):
    """96 bytes on disk for a declared 6 x 4 x 5 uint8 volume (120 bytes)."""
    extra = 'shape = [6, 4, 5]\ndtype = "uint8"'
    assert _validate(comm, tmp_path_factory, {"pore": 0}, extra, raw=True) == 2
    line = _error_line(comm, capsys)
    if line is not None:
        assert line == "error: size of image.raw: '96 bytes' (expected 120 bytes for shape (6, 4, 5) of uint8)", line


@pytest.mark.mpi
def test_phase_absent_from_the_image(tmp_path_factory, comm, capsys):
    assert _validate(comm, tmp_path_factory, {"pore": 0, "gone": 7}) == 2
    line = _error_line(comm, capsys)
    if line is not None:
        assert line == "error: phases: [0, 7] (expected values present in the image [0, 1])", line


@pytest.mark.mpi
def test_connectivity_key(tmp_path_factory, comm, capsys):
    """mesh.connectivity: "face" validates, any other word than "vertex"/"face" is one error line."""
    assert _validate(comm, tmp_path_factory, {"pore": 0, "blob": 1}, 'connectivity = "face"') == 0
    capsys.readouterr()
    assert _validate(comm, tmp_path_factory, {"pore": 0, "blob": 1}, 'connectivity = "edge"') == 2
    line = _error_line(comm, capsys)
    if line is not None:
        assert line.startswith("error: mesh.connectivity: 'edge'") or line.startswith("error: mesh.connectivity: edge")
        assert "vertex" in line and "face" in line
