"""``[model] kind = "mixed_conductor"`` through the command line (femiec.models.mixed_conductor).

(a) Open-circuit cell: GDC10 at 800 C, 1 mm between air (0.21e5 Pa) and fuel (1e-15 Pa), 1D box of 200
    cells: summary.json's membrane.voltage_V equals its own oracle open_circuit_voltage_V = (RT/4F) int t_ion
    d ln pO2 to 1e-4 and the O2 flux through the fuel face equals wagner_flux_mol_m2_s to 1e-4
    (test_miec_cells (a) shows the second-order convergence); profiles.csv holds the nodes (x from 0 to L,
    pO2 from air to fuel) and the fields are written.
(b) Homogenised porous electrode (the ALS case of test_miec_cells (c), ideal rail sigma_el/sigma_ion = 3e5,
    L = 2 delta, 1D box of 100 cells) with [study] kind = "impedance": the spectrum of impedance.csv minus
    the electrolyte transfer resistance equals femiec.analytic.mixed_conductors.als_impedance to 1e-3, and
    a steady run at a 1e-4 V overpotential gives cell.asr_ohm_m2 = R_transfer + R_chem coth(L/delta) to 1e-3
    (O(F eta/RT) ~ 1e-3 nonlinearity: 2e-3 allowed) and the porous.als entries of summary.json.
(c) A transient run ([time]) of a membrane from uniform equilibrium to the steady permeation writes
    faces.csv, and its last fluxes approach the steady ones.
(d) Refused inputs name their case key.
"""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from femiec.constants import FARADAY, GAS_CONSTANT

from miec_support import CERIA_TABLE, MEMBRANE, T_CERIA

OCV = """
[case]
name = "ocv"

[mesh]
kind = "box"
lengths = [1.0e-3]
cells = [200]

[model]
kind = "mixed_conductor"
material = "gdc10"
temperature = 1073.15
conditions = [
  { type = "electronic_contact", facet = "xmin" },
  { type = "oxygen_pressure", facet = "xmin", pressure = 0.21e5 },
  { type = "oxygen_pressure", facet = "xmax", pressure = 1.0e-15 },
]
"""

P_CERIA = 1e-17
POROSITY, TORTUOSITY, SURFACE, DELTA = 0.3, 2.0, 1e6, 1e-5


def _write(directory, comm, text):
    path = directory / "case.toml"
    if comm.rank == 0:
        path.write_text(textwrap.dedent(text))
    comm.barrier()
    return path


def _run(path, out):
    from femiec.cli import main

    assert main(["-q", "run", str(path), "--out", str(out)]) == 0
    return json.loads((out / "summary.json").read_text())


def _tmp(tmp_path_factory, comm, name):
    return comm.bcast(tmp_path_factory.mktemp(name) if comm.rank == 0 else None)


@pytest.mark.mpi
def test_open_circuit_case(tmp_path_factory, comm, numbers):
    """(a) The OCV cell through `femiec run`: voltage and flux against the summary's own oracles."""
    tmp = _tmp(tmp_path_factory, comm, "miec_ocv")
    summary = _run(_write(tmp, comm, OCV), tmp / "out")
    m = summary["derived"]["membrane"]
    assert abs(m["voltage_V"] / m["open_circuit_voltage_V"] - 1) < 1e-4
    assert abs(m["oxygen_flux_mol_m2_s"] / m["wagner_flux_mol_m2_s"] - 1) < 1e-4
    assert m["voltage_V"] < 0.7 * m["nernst_voltage_V"]
    table = np.genfromtxt(tmp / "out" / "profiles.csv", delimiter=",", names=True)
    assert len(table) == 201 and table["x_m"][0] == 0.0 and abs(table["x_m"][-1] - 1e-3) < 1e-15
    pressures = table["oxygen_pressure_Pa"]
    assert abs(pressures[0] / 0.21e5 - 1) < 1e-8 and abs(pressures[-1] / 1e-15 - 1) < 1e-8
    assert (tmp / "out" / "profiles.png").is_file() and (tmp / "out" / "electrons.bp").is_dir()
    numbers.record("voltage_V", m["voltage_V"])
    numbers.record("oxygen_flux_mol_m2_s", m["oxygen_flux_mol_m2_s"])


def _als_case(study: str, voltage: float = 0.0) -> str:
    from femiec.materials.defects import DefectChemistry

    material = DefectChemistry(acceptor=4000.0, reduction_prefactor=2e-7, reduction_enthalpy=0.0,
                               intrinsic_prefactor=1e-8, intrinsic_enthalpy=0.0, vacancy_mobility=2.6e-9,
                               electron_mobility=1.0, hole_mobility=1e-6)
    n0 = material.electrons_at(P_CERIA, T_CERIA)
    sigma_eff = (1 - POROSITY) * material.ionic_conductivity(n0, T_CERIA) / TORTUOSITY
    resistance = float(DELTA ** 2 * SURFACE / sigma_eff)
    rest = float(-GAS_CONSTANT * T_CERIA / (4 * FARADAY) * np.log(P_CERIA / 1e5))
    return f"""
    [case]
    name = "als"

    [mesh]
    kind = "box"
    lengths = [{2 * DELTA!r}]
    cells = [100]

    [model]
    kind = "mixed_conductor"
    temperature = {T_CERIA!r}
    conditions = [
      {{ type = "electrolyte_contact", facet = "xmin", potential = {rest!r}, resistance = 1.0e-7 }},
      {{ type = "electronic_contact", facet = "xmax", voltage = {voltage!r} }},
    ]

    [model.porous]
    pressure = {P_CERIA!r}
    porosity = {POROSITY!r}
    tortuosity = {TORTUOSITY!r}
    specific_surface = {SURFACE!r}
    resistance = {resistance!r}
    """ + textwrap.dedent(CERIA_TABLE.format(electron_mobility=1.0)) + study


@pytest.mark.mpi
def test_porous_electrode_case(tmp_path_factory, comm, numbers):
    """(b) ALS through `femiec run`: the impedance study and a steady run's ASR."""
    from femiec.analytic.mixed_conductors import als_impedance, als_parameters
    from femiec.io.impedance import read_impedance_csv
    from femiec.materials.defects import DefectChemistry

    tmp = _tmp(tmp_path_factory, comm, "miec_als")
    study = '\n[study]\nkind = "impedance"\nmin_frequency = 1.0\nmax_frequency = 1.0e4\nper_decade = 2\n' \
        'drt = false\nkramers_kronig = false\n'
    summary = _run(_write(tmp / ".", comm, textwrap.dedent(_als_case(study))), tmp / "spectrum")
    f, Z = read_impedance_csv(tmp / "spectrum" / "impedance.csv")
    material = DefectChemistry(acceptor=4000.0, reduction_prefactor=2e-7, reduction_enthalpy=0.0,
                               intrinsic_prefactor=1e-8, intrinsic_enthalpy=0.0, vacancy_mobility=2.6e-9,
                               electron_mobility=1.0, hole_mobility=1e-6)
    n0 = material.electrons_at(P_CERIA, T_CERIA)
    sigma_ion = material.ionic_conductivity(n0, T_CERIA)
    resistance = DELTA ** 2 * SURFACE * TORTUOSITY / ((1 - POROSITY) * sigma_ion)
    als = als_parameters(sigma_ion, material.chemical_capacitance(n0, T_CERIA), resistance, POROSITY, TORTUOSITY,
                         SURFACE)
    expected = als_impedance(2 * np.pi * f, als, 2 * DELTA) + 1e-7
    error = np.abs(Z / expected - 1).max()
    assert error < 1e-3, error
    assert summary["impedance"]["contact"] == "xmax"

    steady = _run(_write(tmp / ".", comm, textwrap.dedent(_als_case("", voltage=1e-4))), tmp / "steady")
    cell, porous = steady["derived"]["cell"], steady["derived"]["porous"]
    asr = als.resistance / np.tanh(2.0) + 1e-7
    assert abs(cell["asr_ohm_m2"] / asr - 1) < 2e-3, cell
    assert abs(porous["als"]["utilization_length_m"] / DELTA - 1) < 1e-12
    # everything the contact passes is exchanged with the pores (here released: eta > 0)
    assert abs(porous["exchange_current_A"] / cell["current_density_A_m2"] + 1) < 1e-8
    numbers.record("Z_ohm_m2", np.column_stack([Z.real, Z.imag]))
    numbers.record("asr_ohm_m2", cell["asr_ohm_m2"])


@pytest.mark.mpi
def test_transient_membrane_case(tmp_path_factory, comm):
    """(c) [time]: from uniform equilibrium at 1e-17 Pa to permeation between 1e-16 and 1e-18 Pa."""
    tmp = _tmp(tmp_path_factory, comm, "miec_time")
    time = '\n[time]\nt_end = 2.0e3\ndt = 10.0\noutputs = 2\n'
    transient = _run(_write(tmp, comm, MEMBRANE + time), tmp / "out")
    rows = np.genfromtxt(tmp / "out" / "faces.csv", delimiter=",", names=True)
    assert rows.dtype.names == ("time_s", "oxygen_flux_xmin_mol_per_s", "current_xmin_A",
                                "oxygen_flux_xmax_mol_per_s", "current_xmax_A")
    assert rows["time_s"][-1] == pytest.approx(2.0e3)
    steady = _run(_write(tmp, comm, MEMBRANE), tmp / "steady")
    final = transient["derived"]["faces"]["xmax"]["oxygen_flux_mol_s"]
    assert abs(final / steady["derived"]["faces"]["xmax"]["oxygen_flux_mol_s"] - 1) < 1e-2


@pytest.mark.parametrize("change, key", [
    ('material = "gdc10"', None),
    ('material = "lsf"', "model.material"),
    ('material = { acceptor = -1.0, reduction_prefactor = 1.0, intrinsic_prefactor = 1.0, vacancy_mobility = 1.0, '
     'electron_mobility = 1.0, hole_mobility = 1.0 }', "model.material.acceptor"),
    ('oxygen_pressure = 1.0\nporous = { pressure = 1.0, porosity = 1.3, specific_surface = 1.0, resistance = 1.0 }',
     "model.porous.porosity"),
    ('conditions = [{ type = "oxygen_pressure", facet = "xmin", pressure = -1.0 }]',
     "model.conditions[0].pressure"),
    ('conditions = [{ type = "surface_exchange", facet = "xmin", pressure = 1.0, resistance = 1.0, k_chem = 1.0 }]',
     "model.conditions[0].resistance"),
    ('conditions = [{ type = "gas", facet = "xmin" }]', "model.conditions[0].type"),
    ('oxygen_pressure = 1.0\nconditions = [{ type = "electronic_contact", facet = "left" }]',
     "model.conditions[0].facet"),
])
def test_input_errors(tmp_path, change, key):
    """(d) Refused inputs: one InputError naming the case key (femiec validate)."""
    from femiec.config import load_case
    from femiec.errors import InputError
    from femiec.runner import build_problem

    lines = [line for line in OCV.splitlines() if not line.startswith(("material", "conditions", "  {", "]"))]
    text = "\n".join(lines).replace('kind = "mixed_conductor"', 'kind = "mixed_conductor"\n' + change)
    if "conditions" not in change:
        text += '\nconditions = [{ type = "electronic_contact", facet = "xmin", voltage = 0.0 }]\n'
    if "material" not in change:
        text = text.replace('kind = "mixed_conductor"', 'kind = "mixed_conductor"\nmaterial = "gdc10"')
    path = tmp_path / "case.toml"
    path.write_text(text)
    if key is None:
        with pytest.raises(InputError) as error:  # no pressure anywhere: the initial one is needed
            load_case(path)
        assert error.value.key == "model.oxygen_pressure"
        return
    with pytest.raises(InputError) as error:
        build_problem(load_case(path), __import__("mpi4py").MPI.COMM_WORLD)
    assert error.value.key == key, error.value


def test_impedance_study_needs_a_contact(tmp_path):
    """(d) [study] kind = "impedance" perturbs a contact's voltage: refused without one."""
    from femiec.config import load_case
    from femiec.errors import InputError

    text = OCV.replace('  { type = "electronic_contact", facet = "xmin" },\n', "") + '\n[study]\nkind = "impedance"\n'
    path = tmp_path / "case.toml"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        load_case(path)
    assert error.value.key == "study"
