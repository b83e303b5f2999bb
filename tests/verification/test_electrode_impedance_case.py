"""``[study] kind = "impedance"`` of the resolved electrode through the command line: demos/nmc_impedance's
case on a 12^3 crop of the NMC image (pores, NMC particles, carbon-binder, porous separator layer, double
layer 0.2 F/m^2), open circuit at stoichiometry 0.69, 41 frequencies from 100 kHz down to 1 mHz.

Oracles: the spectrum satisfies Kramers–Kronig (lin-KK residuals <= 1e-3; Schönleber et al. 2014);
its high-frequency end tends to the electrolyte's resistance through the separator layer and the pores,
Re Z(100 kHz) below Re Z at every lower frequency (the ohmic intercept); its low-frequency end is capacitive
(the finite particles take up charge: -Im Z grows as f falls); with a Li counter electrode (i0 = 10 A/m^2,
C_dl = 0.2 F/m^2) impedance_counter.csv is R_ct || C_dl over the separator area and impedance_cell.csv the
sum (the three-electrode split) to 1e-12; 1 and 2 ranks agree (make test)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from femiec.analytic.impedance import charge_transfer_resistance, interface_impedance

DEMO = Path(__file__).resolve().parents[2] / "demos" / "nmc_impedance" / "case_12.toml"
IMAGE = Path(__file__).resolve().parents[3] / "shared" / "data" / "nmc_electrode_256.tiff"


@pytest.mark.mpi
def test_nmc_crop_spectrum(tmp_path_factory, comm, numbers):
    from femiec.cli import main

    if not IMAGE.is_file():
        pytest.skip(f"{IMAGE} not found")
    tmp = comm.bcast(tmp_path_factory.mktemp("electrode_impedance") if comm.rank == 0 else None)
    case = tmp / "case.toml"
    if comm.rank == 0:
        text = DEMO.read_text().replace("per_decade = 6", "per_decade = 5")
        text = text.replace('file = "../../../shared/data/nmc_electrode_256.tiff"', f'file = "{IMAGE}"')
        text = text.replace("[study]", "[model.counter_electrode]\nexchange_current_density = 10.0\n\n[study]")
        case.write_text(text)
    comm.barrier()
    assert main(["-q", "run", str(case), "--out", str(tmp / "out")]) == 0
    table = np.genfromtxt(tmp / "out" / "impedance.csv", delimiter=",", names=True)  # increasing f
    Z = table["re_Z_ohm"] + 1j * table["im_Z_ohm"]
    assert len(Z) == 41 and np.all(Z.real > 0)
    assert np.all(Z.real[-1] < Z.real[:-1])
    assert -Z.imag[0] > -Z.imag[1] > 0
    summary = json.loads((tmp / "out" / "summary.json").read_text())["impedance"]
    assert summary["kramers_kronig"]["max_residual"] <= 1e-3
    assert summary["kramers_kronig"]["series_capacitance"]
    assert summary["bias"] == "open circuit" and summary["mean_stoichiometry"] == pytest.approx(0.69)
    assert any((tmp / "out" / "fields" / "f_1Hz").glob("potential_electrolyte_amplitude*"))
    # the three-electrode split: the Li counter electrode (R_ct || C_dl over the separator area) and the cell
    area = summary["area_m2"]
    counter = np.genfromtxt(tmp / "out" / "impedance_counter.csv", delimiter=",", names=True)
    cell = np.genfromtxt(tmp / "out" / "impedance_cell.csv", delimiter=",", names=True)
    omega = 2 * np.pi * table["frequency_Hz"]
    z_counter = interface_impedance(omega, 0.2, charge_transfer_resistance(10.0, 298.15)) / area
    assert np.allclose(counter["re_Z_ohm"] + 1j * counter["im_Z_ohm"], z_counter, rtol=1e-12)
    assert np.allclose(cell["re_Z_ohm"] + 1j * cell["im_Z_ohm"], Z + z_counter, rtol=1e-12)
    numbers.record("Z_real_area", table["re_Z_ohm_m2"])
    numbers.record("Z_imag_area", table["im_Z_ohm_m2"])
