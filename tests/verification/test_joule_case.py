"""Joule heating from a case file: conduction + steady heat equation ([model.heat]) through `femiec run`."""
from __future__ import annotations

import json
import textwrap

import pytest

from femiec.analytic.thermal import joule_slab_temperature
from femiec.cli import main

CASE = """
[mesh]
kind = "box"
lengths = [1.0e-3, 2.0e-4, 2.0e-4]
cells = [8, 2, 2]
cell_type = "hexahedron"

[materials.lscf]
conductivity = 5.0e3            # S/m
thermal_conductivity = 2.0      # W/(m K)

[model]
kind = "conduction"
degree = 2
boundary = [{ facet = "xmin", value = 0.0 }, { facet = "xmax", value = 0.2 }]

[model.heat]
initial = 300.0
boundary = [{ facet = "xmin", temperature = 300.0 }, { facet = "xmax", temperature = 310.0 }]
"""


@pytest.mark.mpi
def test_joule_slab_from_case_file(tmp_path_factory, comm, numbers):
    """Oracle: slab of length L, sigma, k, voltage V, faces at T_left/T_right, other faces insulating:
    T(x) = T_left + (T_right - T_left) x/L + q x (L - x)/(2k), q = sigma (V/L)^2 (femiec.analytic.thermal;
    P2 represents this quadratic exactly, so the largest nodal value is the exact profile's largest nodal
    value). The heat balance in summary.json closes: Joule power
    q L A = outflow through the fixed-temperature faces, to 1e-9 relative."""
    tmp = comm.bcast(tmp_path_factory.mktemp("joule") if comm.rank == 0 else None)
    if comm.rank == 0:
        (tmp / "case.toml").write_text(textwrap.dedent(CASE))
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    summary = json.loads((tmp / "out" / "summary.json").read_text())
    assert {"temperature", "heat_flux", "potential", "current_density"} <= set(summary["fields"])
    L, sigma, V, k, area = 1.0e-3, 5.0e3, 0.2, 2.0, 2.0e-4 * 2.0e-4
    # P2 on 8 cells along x: nodes at x = i L/16; the largest nodal value of the exact profile
    t_max = max(joule_slab_temperature(i * L / 16, L, sigma, V, k, 300.0, 310.0) for i in range(17))
    lo, hi = summary["fields"]["temperature"]["range_last_output"]
    assert lo == pytest.approx(300.0, rel=1e-12)
    assert hi == pytest.approx(t_max, rel=1e-9)
    balance = summary["derived"]["heat_balance [W]"]
    joule_power = sigma * (V / L) ** 2 * L * area
    assert balance["generated"] == pytest.approx(joule_power, rel=1e-9)
    assert abs(balance["imbalance"]) <= 1e-9 * joule_power
    numbers.record("max_temperature", hi)
    numbers.record("joule_power", balance["generated"])
