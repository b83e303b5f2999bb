"""``[study] kind = "impedance"`` through the command line, on a Nernst–Planck–Poisson cell: a Butler–Volmer
electrode with a Stern layer at rest in a 1:1 electrolyte (2D, 100 nm x 1 nm, Debye length ~1 nm, cells of 0.5 nm), the bulk
held at xmax. Checks the study's files and analyses, and ``femiec fit``'s round trip.

Oracles: (1) the CLI spectrum equals the Python API's (femiec.studies.impedance.impedance_spectrum on the
same problem) to 1e-10; (2) the spectrum satisfies Kramers–Kronig: lin-KK residuals <= 1e-3 (Schönleber
et al. 2014, femiec.studies.kramers_kronig); (3) Z(f -> 0) tends to the DC resistance dV/dI from two steady
solves at +-1e-4 V_T; (4) ``femiec fit`` recovers an exchange current density from a spectrum computed
with a known one, with 1% complex noise, within 2%.
"""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

CASE = """
[case]
name = "bv_cell"

[mesh]
kind = "box"
lengths = [1.0e-7, 1.0e-9]
cells = [200, 2]
cell_type = "quadrilateral"

[model]
kind = "nernst_planck_poisson"
relative_permittivity = 78.5
variables = "log"
species = [
  {{ name = "Na", charge = 1, diffusivity = 1.3e-9, initial = 100.0 }},
  {{ name = "Cl", charge = -1, diffusivity = 2.0e-9, initial = 100.0 }},
]
conditions = [
  {{ type = "concentration", species = "Na", facets = "xmax", value = 100.0 }},
  {{ type = "concentration", species = "Cl", facets = "xmax", value = 100.0 }},
  {{ type = "potential", facets = "xmax", value = 0.0 }},
]

[[model.electrodes]]
name = "anode"
facets = "xmin"
voltage = 0.0
stern_capacitance = 0.2
reactions = [{{ exchange_current_density = {i0}, oxidized = {{ "Na" = 1 }}, reference_concentration = 100.0 }}]

[study]
kind = "impedance"
min_frequency = 1.0
max_frequency = 1.0e10
per_decade = 5
fields_at = [1.0e7]
"""
I0 = 10.0  # A/m^2


def _case(directory, comm, i0=I0):
    path = directory / "case.toml"
    if comm.rank == 0:
        path.write_text(textwrap.dedent(CASE.format(i0=i0)))
    comm.barrier()
    return path


@pytest.mark.mpi
def test_impedance_case_files_and_analyses(tmp_path_factory, comm, numbers):
    """The CLI writes impedance.csv (51 frequencies, 1e10 Hz down to 1 Hz), nyquist.png, bode.png, drt.csv,
    drt.png and amplitude/phase fields at 1e7 Hz; its Z equals the Python API's to 1e-10, passes lin-KK
    (max residual <= 1e-3), has Re Z > 0, and its low-frequency end is within 1% of the DC resistance."""
    from femiec.cli import main
    from femiec.config import load_case
    from femiec.models import model_spec
    from femiec.runner import build_problem
    from femiec.studies.impedance import impedance_spectrum
    from femiec.studies.run import sweep_frequencies

    tmp = comm.bcast(tmp_path_factory.mktemp("impedance_case") if comm.rank == 0 else None)
    case_path = _case(tmp, comm)
    out = tmp / "out"
    assert main(["-q", "run", str(case_path), "--out", str(out)]) == 0
    table = np.genfromtxt(out / "impedance.csv", delimiter=",", names=True)
    Z = table["re_Z_ohm"] + 1j * table["im_Z_ohm"]
    assert len(Z) == 51 and np.all(Z.real > 0)
    for name in ("nyquist.png", "bode.png", "drt.csv", "drt.png", "summary.json"):
        assert (out / name).is_file(), name
    assert any((out / "fields" / "f_1e+07Hz").glob("*amplitude*.bp"))
    summary = json.loads((out / "summary.json").read_text())["impedance"]
    assert summary["kramers_kronig"]["max_residual"] <= 1e-3
    assert summary["drt"]["peaks"]

    case = load_case(case_path)
    _, problem = build_problem(case, comm)
    port = model_spec(case.model.kind).port(case, problem, case.study)
    api = impedance_spectrum(port, sweep_frequencies(case.study))
    assert np.max(np.abs(api.impedance[::-1] / Z - 1)) < 1e-10

    vt = problem.scaling.potential
    currents = []
    for dv in (1e-4 * vt, -1e-4 * vt):
        problem.set_voltage("anode", dv)
        problem.solve_steady()
        currents.append(problem.electrode_current("anode"))
    dc = 2e-4 * vt / (currents[0] - currents[1])
    assert abs(Z[0].real / dc - 1) < 1e-2
    numbers.record("Z_real", Z.real)
    numbers.record("Z_imag", Z.imag)
    numbers.record("dc_resistance", dc)


@pytest.mark.mpi
def test_fit_recovers_exchange_current_density(tmp_path_factory, comm, numbers):
    """``femiec fit`` of the exchange current density (a key inside lists of tables: the 'measured' spectrum is the case's
    spectrum at i0 = 10 A/m^2 with 1% complex Gaussian noise (seed 0); the fit starts from the case file's
    i0 = 25 A/m^2 and ends within 2% of 10."""
    from femiec.cli import main
    from femiec.io.impedance import read_impedance_csv, write_impedance_csv

    tmp = comm.bcast(tmp_path_factory.mktemp("impedance_fit") if comm.rank == 0 else None)
    if comm.rank == 0:
        (tmp / "truth").mkdir()
        (tmp / "start").mkdir()
    truth = _case(tmp / "truth", comm)
    assert main(["-q", "run", str(truth), "--out", str(tmp / "truth_out")]) == 0
    f, Z = read_impedance_csv(tmp / "truth_out" / "impedance.csv")
    f, Z = f[::3], Z[::3]  # 17 measured frequencies, 1 Hz .. 1e10 Hz
    noise = np.random.default_rng(0).normal(size=(2, len(f))) * 0.01
    if comm.rank == 0:
        write_impedance_csv(tmp / "measured.csv", f, Z * (1 + noise[0] + 1j * noise[1]))
    comm.barrier()
    start = _case(tmp / "start", comm, i0=25.0)
    assert main(["-q", "fit", str(start), "--measured", str(tmp / "measured.csv"), "--parameter",
                 "model.electrodes.0.reactions.0.exchange_current_density", "--out", str(tmp / "fit")]) == 0
    result = json.loads((tmp / "fit" / "fit.json").read_text())
    value = result["values"]["model.electrodes.0.reactions.0.exchange_current_density"]
    assert abs(value / I0 - 1) < 0.02
    assert result["evaluations"] <= 20
    numbers.record("fitted_i0", value)
