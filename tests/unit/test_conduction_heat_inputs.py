"""Conduction case files with temperature laws and transient [model.heat]: one-line refusals (exit 2) of
`femiec validate`, before any solve, for each input error of femiec.problems.conduction.check_case and the
law tables of [materials]."""
from __future__ import annotations

import textwrap

import pytest

from femiec.cli import main

CASE = """
[mesh]
kind = "box"
lengths = [1.0e-3, 2.0e-4, 2.0e-4]
cells = [2, 1, 1]

[materials.lscf]
conductivity = CONDUCTIVITY
thermal_conductivity = 2.0

[model]
kind = "conduction"
boundary = [{ facet = "xmin", value = 0.0 }, { facet = "xmax", value = 0.1 }]
"""
ARRHENIUS = '{ law = "arrhenius", prefactor = 1.0e6, activation_energy = 3.0e4 }'
VFT = '{ law = "vft", prefactor = 1.0e3, pseudo_activation = 500.0, ideal_glass_temperature = 400.0 }'
HEAT = """
[model.heat]
initial = 600.0
boundary = [{ facet = "xmin", temperature = 600.0 }, { facet = "xmax", temperature = TFACE }]
"""
TIME = """
[time]
t_end = 1.0
dt = 0.1
"""


def _case(conductivity=ARRHENIUS, temperature=None, heat=False, t_face=600.0, time=False):
    text = CASE.replace("CONDUCTIVITY", conductivity)
    if temperature is not None:
        text = text.replace('kind = "conduction"', f'kind = "conduction"\ntemperature = {temperature}')
    if heat:
        text += HEAT.replace("TFACE", str(t_face))
    return text + (TIME if time else "")


@pytest.mark.parametrize("text, key, value, expected", [
    (_case(), "model.temperature", "None", "materials.lscf.conductivity (a law table)"),
    (_case(VFT, temperature=350.0), "materials.lscf.conductivity.temperature", "350", "above the Vogel"),
    (_case(VFT, heat=True, t_face=380.0), "materials.lscf.conductivity.temperature", "380", "above the Vogel"),
    (_case(temperature=600.0, heat=True), "model.temperature", "600", "the temperature is solved"),
    (_case(heat=True, time=True), "materials.lscf.heat_capacity", "None", "rho c_p in J/(m^3 K)"),
    (_case(temperature=600.0, time=True), "time", "'[time]'", "[model.heat]"),
    (_case('{ law = "arrhenius", prefactor = 1.0e6 }', temperature=600.0),
     "materials.lscf.conductivity.activation_energy", "None", "exactly the parameters"),
    (_case('{ law = "power", prefactor = 1.0 }', temperature=600.0), "materials.lscf.conductivity.law",
     "'power'", "arrhenius"),
    (_case('{ law = "arrhenius", prefactor = -1.0, activation_energy = 3.0e4 }', temperature=600.0),
     "materials.lscf.conductivity.prefactor", "-1.0", "positive"),
])
def test_bad_law_or_heat_input_is_one_line(tmp_path, capsys, text, key, value, expected):
    """Each bad input exits 2 with `error: <key>: <value> (expected ...)` on one line, before any solve."""
    path = tmp_path / "case.toml"
    path.write_text(textwrap.dedent(text))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"error: {key}: {value}"), err[0]
    assert expected in err[0] and "(expected " in err[0], err[0]


@pytest.mark.parametrize("text", [_case(temperature=600.0), _case(VFT, heat=True),
                                  _case(heat=True, time=True).replace("thermal_conductivity = 2.0",
                                                                      "thermal_conductivity = 2.0\nheat_capacity = 2e6")])
def test_good_law_cases_validate(tmp_path, capsys, text):
    path = tmp_path / "case.toml"
    path.write_text(textwrap.dedent(text))
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
