"""preview.png of a run's main field and `femiec plot`: the picture is a real, non-blank PNG beside the
other outputs, its samples are the field's values (gathered from every rank), `femiec plot` draws the
pictures again from the files, and a broken preview leaves the run green with one warning."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from case_texts import ELECTRODE_DEMO as DEMO
from case_texts import SLAB_CASE as CASE
from femiec.cli import main

IMAGE = DEMO.parents[2].parent / "shared" / "data" / "nmc_electrode_256.tiff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _shared_dir(tmp_path_factory, comm, name) -> Path:
    """A temporary folder common to every rank."""
    return Path(comm.bcast(str(tmp_path_factory.mktemp(name)) if comm.rank == 0 else None))


def _write_case(directory: Path, text: str, comm) -> Path:
    path = directory / "case.toml"
    if comm.rank == 0:
        path.write_text(text)
    comm.barrier()
    return path


def _electrode_case() -> str:
    """demos/nmc_electrode/case_12.toml on an 8^3 crop with the image path made absolute."""
    text = DEMO.read_text().replace("crop = [[0, 12], [0, 12], [0, 12]]", "crop = [[0, 8], [0, 8], [0, 8]]")
    return text.replace('file = "../../../shared/data', f'file = "{DEMO.parents[2].parent}/shared/data')


def assert_real_png(path: Path) -> None:
    """A PNG file (signature) whose pixels are not all the same."""
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_SIGNATURE, path
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert float(pixels[..., :3].var()) > 0


def _redraw(out: Path, names: list[str], comm, capsys) -> None:
    """Delete the pictures, `femiec plot` draws them again (rank 0), they are real PNGs."""
    comm.barrier()
    if comm.rank == 0:
        for name in names:
            (out / name).unlink()
    comm.barrier()
    assert main(["plot", str(out)]) == 0
    comm.barrier()
    for name in names:
        assert_real_png(out / name)
    if comm.rank == 0:
        drawn = sorted(capsys.readouterr().out.split())
        assert drawn == sorted(["drawn:"] * len(names) + [str(out / n) for n in names])


@pytest.mark.mpi
def test_conduction_run_writes_its_preview(tmp_path_factory, comm, numbers, capsys):
    """Oracle: uniform slab, 0 V at x = 0 and 0.5 V at x = L = 2 mm: phi = 0.5 V x / L, which P1 holds
    exactly; every sample of the mid-plane (200 x 100 points, found on whichever rank owns them) equals
    it to 1e-12 V."""
    tmp = _shared_dir(tmp_path_factory, comm, "preview")
    out = tmp / "out"
    assert main(["-q", "run", str(_write_case(tmp, CASE, comm)), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["preview"] == {"field": "potential", "unit": "V", "plane": summary["preview"]["plane"],
                                  "file": "preview.png", "data": "preview.npz"}
    assert summary["preview"]["plane"].startswith("z = 0.000501 m")
    assert_real_png(out / "preview.png")
    with np.load(out / "preview.npz") as data:
        values, x = data["values"], data["x"]
        assert str(data["name"]) == "potential" and str(data["unit"]) == "V"
    assert values.shape == (100, 200) and not np.isnan(values).any()
    assert np.abs(values - 0.5 * x[None, :] / 2.0e-3).max() < 1e-12
    numbers.record("preview_mean_potential", values.mean())
    _redraw(out, ["preview.png"], comm, capsys)


@pytest.mark.mpi
@pytest.mark.skipif(not IMAGE.is_file(), reason=f"{IMAGE} not found")
def test_electrode_run_writes_its_preview(tmp_path_factory, comm, numbers, capsys):
    """The 8^3 electrode crop: preview.png of the particles' stoichiometry beside voltage.png; the samples
    lie in the stoichiometry range of the run, blank (NaN) outside the particles; `femiec plot` draws both
    pictures again."""
    tmp = _shared_dir(tmp_path_factory, comm, "electrode")
    out = tmp / "out"
    assert main(["-q", "run", str(_write_case(tmp, _electrode_case(), comm)), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["preview"]["field"] == "stoichiometry" and summary["preview"]["file"] == "preview.png"
    assert_real_png(out / "preview.png")
    assert_real_png(out / "voltage.png")
    with np.load(out / "preview.npz") as data:
        values = data["values"]
    lo, hi = summary["fields"]["stoichiometry"]["range_last_output"]
    inside = values[~np.isnan(values)]
    assert inside.size > 0 and inside.min() >= lo - 1e-12 and inside.max() <= hi + 1e-12
    numbers.record("preview_mean_stoichiometry", inside.mean())
    _redraw(out, ["voltage.png", "preview.png"], comm, capsys)


@pytest.mark.mpi
@pytest.mark.parametrize("broken", ["render_preview", "_evaluate"])
def test_broken_preview_leaves_the_run_green(tmp_path_factory, comm, monkeypatch, caplog, broken):
    """A renderer (rank 0) or a sampler (every rank) that raises: exit 0, one warning line, summary.json
    written with the preview marked missing and the reason."""
    import femiec.io.preview

    def fail(*args, **kwargs):
        raise RuntimeError("no picture today")

    monkeypatch.setattr(femiec.io.preview, broken, fail)
    tmp = _shared_dir(tmp_path_factory, comm, "broken")
    out = tmp / "out"
    with caplog.at_level(logging.WARNING):
        assert main(["-q", "run", str(_write_case(tmp, CASE, comm)), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["preview"]["file"] is None and "no picture today" in summary["preview"]["error"]
    assert "potential" in summary["fields"]
    if comm.rank == 0:
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "preview" in r.getMessage()]
        assert len(warnings) == 1 and "\n" not in warnings[0].getMessage()


def test_plot_refuses_a_directory_without_a_run(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: OUT_DIR: ") and "summary.json" in err[0]


def test_plot_refuses_a_damaged_table(tmp_path, capsys):
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / "voltage.csv").write_text("time_s,volts\n0,1\n")
    assert main(["plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "voltage.csv" in err[0], err


@pytest.mark.parametrize("dim", [1, 2])
def test_preview_of_1d_and_2d_fields(tmp_path, dim):
    """A 1D field is drawn as its profile, a 2D one over the whole domain; oracle: u = x (P1 exact) at
    every sample, 200 points along x."""
    from dolfinx import fem, mesh
    from mpi4py import MPI

    from femiec.io.preview import write_preview

    domain = (mesh.create_unit_interval(MPI.COMM_SELF, 8) if dim == 1
              else mesh.create_rectangle(MPI.COMM_SELF, [[0.0, 0.0], [2.0, 1.0]], [8, 4]))
    u = fem.Function(fem.functionspace(domain, ("Lagrange", 1)), name="u")
    u.interpolate(lambda x: x[0])
    entry = write_preview(u, "V", tmp_path, MPI.COMM_SELF)
    assert entry["file"] == "preview.png" and entry["plane"] == ("x axis" if dim == 1 else "x-y plane")
    assert_real_png(tmp_path / "preview.png")
    with np.load(tmp_path / "preview.npz") as data:
        values, x = data["values"], data["x"]
    assert values.shape == ((200,) if dim == 1 else (100, 200))
    assert np.abs(values - x).max() < 1e-12
