"""The case-runner entry point of the Nernst–Planck–Poisson model (plain dict in SI units)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from femiec.errors import InputError
from femiec.problems.nernst_planck_poisson import run_case

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "verification"))
from npp_support import box_mesh  # noqa: E402


def section(**extra):
    base = {
        "species": [{"name": "cation", "charge": 1, "diffusivity": 1e-9, "initial": 100.0},
                    {"name": "anion", "charge": -1, "diffusivity": 2e-9, "initial": 100.0}],
        "relative_permittivity": 78.5,
        "variables": "log",
        "conditions": [{"type": "concentration", "species": "cation", "facets": "xmax", "value": 100.0},
                       {"type": "concentration", "species": "anion", "facets": "xmax", "value": 100.0},
                       {"type": "potential", "facets": "xmax", "value": 0.0}],
        "electrodes": [{"name": "anode", "facets": "xmin", "current": 5.0, "stern_capacitance": 0.2,
                        "reactions": [{"exchange_current_density": 10.0, "oxidized": {"cation": 1},
                                       "reference_concentration": 100.0}]}],
        "output": {"formats": ["xdmf"]},
    }
    base.update(extra)
    return base


def test_run_case_steady_and_transient(comm, tmp_path):
    meshdata = box_mesh(comm, [40], [1e-7])
    steady = run_case(section(steady={"continuation_steps": 2}), meshdata, tmp_path / "steady")
    assert steady["derived"]["electrode_current_A"]["anode"] == pytest.approx(5.0, rel=1e-9)
    assert set(steady["fields"]) == {"potential", "concentration_cation", "concentration_anion"}
    assert steady["fields"]["potential"]["unit"] == "V"
    assert (tmp_path / "steady" / "fields.xdmf").exists()
    t_ref = 1e-14 / 2e-9
    transient = run_case(section(time={"t_end": 0.1 * t_ref, "dt": 1e-3 * t_ref, "outputs": 4}), meshdata,
                         tmp_path / "transient")
    records = transient["solver"]["records"]
    assert records[-1]["time"] == pytest.approx(0.1 * t_ref)
    assert all(r["newton_iterations"] >= 1 for r in records)
    assert transient["derived"]["electrode_current_A"]["anode"] == pytest.approx(5.0, rel=1e-9)


@pytest.mark.parametrize("change, key", [({"colour": 1}, "model.colour"),
                                          ({"conditions": [{"type": "heat", "facets": "xmin"}]},
                                           "model.conditions[0].type"),
                                          ({"steady": {"steps": 3}}, "steady.steps")])
def test_run_case_rejects_unknown_keys(comm, tmp_path, change, key):
    with pytest.raises(InputError) as err:
        run_case(section(**change), box_mesh(comm, [4], [1e-7]), tmp_path)
    assert err.value.key == key
