"""Joule heating from a case file: conduction + steady heat equation ([model.heat]) through `femiec run`."""
from __future__ import annotations

import json
import textwrap

import numpy as np
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


#: the slab of CASE with an Arrhenius conductivity [S/m; J/mol], 0.1 V and both faces at 600 K
ARRHENIUS_CASE = (CASE.replace("conductivity = 5.0e3            # S/m",
                               'conductivity = { law = "arrhenius", prefactor = 1.0e6, activation_energy = 3.0e4 }')
                  .replace("value = 0.2", "value = 0.1").replace("300.0", "600.0").replace("310.0", "600.0"))


def _run(comm, tmp_path_factory, text):
    tmp = comm.bcast(tmp_path_factory.mktemp("arrhenius") if comm.rank == 0 else None)
    if comm.rank == 0:
        (tmp / "case.toml").write_text(textwrap.dedent(text))
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    return json.loads((tmp / "out" / "summary.json").read_text())


@pytest.mark.mpi
def test_arrhenius_conductivity_at_a_given_temperature(tmp_path_factory, comm, numbers):
    """Oracle: uniform slab at model.temperature T = 600 K with sigma(T) = sigma0 exp(-Ea/(R T)):
    the current through the slab is I = V A sigma(T)/L (linear potential, exact in P2), to 1e-10 relative."""
    from femiec.constants import GAS_CONSTANT

    text = ARRHENIUS_CASE.split("[model.heat]")[0].replace("degree = 2", "degree = 2\ntemperature = 600.0")
    summary = _run(comm, tmp_path_factory, text)
    sigma = 1.0e6 * np.exp(-3.0e4 / (GAS_CONSTANT * 600.0))
    current = 0.1 * 2.0e-4 * 2.0e-4 * sigma / 1.0e-3
    totals = summary["derived"]["outward_current [A]"]
    assert totals["xmin"] == pytest.approx(current, rel=1e-10)
    assert totals["xmax"] == pytest.approx(-current, rel=1e-10)
    numbers.record("current", totals["xmin"])


@pytest.mark.mpi
@pytest.mark.parametrize("regions", ["", '\n[regions]\ndomain = "lscf"\n'], ids=["one_material", "per_region"])
def test_arrhenius_conductivity_with_joule_heating_converges(tmp_path_factory, comm, numbers, regions):
    """Coupled sigma(T) (Arrhenius) and k(T) (Vogel–Fulcher–Tammann) with the solved temperature, both faces
    at 600 K. Oracles: (1) heat balance of the converged staggered solution, Joule power = outflow through
    the fixed-temperature faces, to 1e-9 relative; (2) the electrical power V I equals the Joule power
    int sigma |grad phi|^2 (energy conservation; I from the gradient of the discrete potential, so to the
    discretization error: measured 1.7e-4 on 8 P2 cells, asserted < 1e-3); (3) heating raises sigma: I exceeds the isothermal V A sigma(600 K)/L
    and the peak temperature exceeds 600 K; the staggered loop converged (< 50 passes). Run with the only
    material and with it per cell region (the region-wise sum of laws), same figures."""
    from femiec.constants import GAS_CONSTANT

    text = ARRHENIUS_CASE.replace(
        "thermal_conductivity = 2.0",
        'thermal_conductivity = { law = "vft", prefactor = 3.0, pseudo_activation = 200.0, '
        'ideal_glass_temperature = 150.0 }') + regions
    summary = _run(comm, tmp_path_factory, text)
    balance = summary["derived"]["heat_balance [W]"]
    current = summary["derived"]["outward_current [A]"]["xmin"]
    isothermal = 0.1 * 2.0e-4 * 2.0e-4 * 1.0e6 * np.exp(-3.0e4 / (GAS_CONSTANT * 600.0)) / 1.0e-3
    t_max = summary["fields"]["temperature"]["range_last_output"][1]
    imbalance = abs(balance["imbalance"]) / balance["generated"]
    power_error = abs(0.1 * current - balance["generated"]) / balance["generated"]
    assert imbalance < 1e-9
    assert power_error < 1e-3
    assert current > isothermal and t_max > 601.0
    assert summary["solver"]["staggered_iterations"] < 50
    numbers.record("current", current)
    numbers.record("max_temperature", t_max)
    numbers.record("joule_power", balance["generated"])
    numbers.record("staggered_iterations", summary["solver"]["staggered_iterations"])
