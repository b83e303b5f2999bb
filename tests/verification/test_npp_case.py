"""Nernst–Planck–Poisson from a case file (model.kind = "nernst_planck_poisson") through `femiec run`."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from femiec.cli import main

DEMO = Path(__file__).resolve().parents[2] / "demos" / "electrode_slab" / "case.toml"


@pytest.mark.mpi
def test_electrode_slab_case_steady_galvanostatic(tmp_path_factory, comm, numbers):
    """The demos/electrode_slab case solved steady (its [time] table removed). Oracles: the galvanostatic
    constraint holds, electrode current = 2e-15 A to 1e-9 relative; the Debye length reported is
    sqrt(eps_r eps0 R T / (2 F^2 c0)) = 0.9620 nm for c0 = 100 mol/m^3, eps_r = 78.5, T = 298.15 K."""
    tmp = comm.bcast(tmp_path_factory.mktemp("npp") if comm.rank == 0 else None)
    if comm.rank == 0:
        text = re.sub(r"\[time\].*", "", DEMO.read_text(), flags=re.S)
        (tmp / "case.toml").write_text(text)
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    summary = json.loads((tmp / "out" / "summary.json").read_text())
    derived = summary["derived"]
    assert derived["electrode_current_A"]["anode"] == pytest.approx(2.0e-15, rel=1e-9)
    assert derived["debye_length_m"] == pytest.approx(0.9620e-9, rel=1e-3)
    assert {"potential", "concentration_Na", "concentration_Cl"} <= set(summary["fields"])
    numbers.record("electrode_potential", derived["electrode_potential_V"]["anode"])


def test_npp_case_bad_species_key(tmp_path, capsys):
    """A misspelt species key is refused by `femiec validate` with one line, before any solve."""
    (tmp_path / "case.toml").write_text(DEMO.read_text().replace("diffusivity = 1.3e-9", "diffusivty = 1.3e-9"))
    assert main(["validate", str(tmp_path / "case.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "diffusivty" in err[0], err
