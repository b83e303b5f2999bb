"""The electrode model from a case file (model.kind = "electrode") through `femiec run`."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from femiec.cli import main

DEMO = Path(__file__).resolve().parents[2] / "demos" / "nmc_electrode" / "case_12.toml"
IMAGE = DEMO.parents[2].parent / "shared" / "data" / "nmc_electrode_256.tiff"
pytestmark = pytest.mark.skipif(not IMAGE.is_file(), reason=f"{IMAGE} not found")


@pytest.mark.mpi
def test_electrode_demo_case_on_an_8_cube_crop(tmp_path_factory, comm, numbers):
    """demos/nmc_electrode/case_12.toml on an 8^3 crop for two 60 s steps at 1C (field snapshots at 60 and 120 s). Oracles: the CSV has the 3 states and
    its capacity column equals I t / 3600 (galvanostatic: charge passed = current x time, to 1e-12);
    the mean stoichiometry rises by exactly the charge passed / (F c_max V_active) (lithium conservation,
    1e-8 relative); the fields, the plot and the checkpoint are written."""
    from femiec.constants import FARADAY

    tmp = comm.bcast(tmp_path_factory.mktemp("electrode") if comm.rank == 0 else None)
    if comm.rank == 0:
        text = DEMO.read_text().replace("crop = [[0, 12], [0, 12], [0, 12]]", "crop = [[0, 8], [0, 8], [0, 8]]")
        text = text.replace("dt_max = 600.0", "t_end = 120.0\ndt = 60.0\ndt_max = 60.0")
        text = text.replace("outputs = 5 ", "outputs = 2 ")  # two fixed steps, no interpolated points:
        text = text.replace("[model.discharge]\n", "[model.discharge]\nerror_tolerance = false\ndense_output = false\n")
        text = text.replace('file = "../../../shared/data', f'file = "{DEMO.parents[2].parent}/shared/data')
        (tmp / "case.toml").write_text(text)
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    out = tmp / "out"
    summary = json.loads((out / "summary.json").read_text())
    rows = list(csv.DictReader((out / "voltage.csv").open()))
    assert summary["stop_reason"] == "t_end" and len(rows) == 3
    current = float(rows[-1]["current_A"])
    assert float(rows[-1]["capacity_Ah"]) == pytest.approx(current * 120.0 / 3600.0, rel=1e-12)
    volume = summary["description"]["volume_m3"]["active"]
    c_max = summary["description"]["active_material"]["max_concentration"]
    rise = float(rows[-1]["stoichiometry"]) - float(rows[0]["stoichiometry"])
    assert rise == pytest.approx(current * 120.0 / (FARADAY * c_max * volume), rel=1e-8)
    assert {"concentration_solid", "potential_electrolyte", "reaction_current_density"} <= set(summary["fields"])
    assert (out / "voltage.png").is_file() and (out / "checkpoint" / "current").is_file()
    numbers.record("voltages", [float(r["voltage_V"]) for r in rows])
    numbers.record("particles", summary["description"]["particles"])
