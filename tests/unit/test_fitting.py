"""Spectrum fits (femiec.studies.fitting). Oracle: parameters of a closed-form spectrum are recovered
from that spectrum with 1 % multiplicative complex Gaussian noise (fixed seed): a Randles circuit's
R_ct, C_dl, R_s within 2 % by fit_parameters, an RC circuit's R0, R1, C1 within 1 % by fit_circuit
(impedance.py)."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.errors import InputError
from femiec.studies.fitting import CIRCUITS, fit_circuit, fit_parameters, suggest_circuit

# pure NumPy, but every recorded number must also come back on 2 ranks (scripts/compare_numbers.py)
pytestmark = pytest.mark.mpi

F = np.logspace(-2, 5, 50)


def randles(params: dict, frequency) -> np.ndarray:
    """R_s + 1/(i omega C_dl + 1/(R_ct + Z_W)), finite Warburg Z_W = 5 Ohm tanh(s)/s, s = sqrt(i omega 1 s)."""
    omega = 2 * np.pi * frequency
    s = np.sqrt(1j * omega * 1.0)
    return params["R_s"] + 1.0 / (1j * omega * params["C_dl"] + 1.0 / (params["R_ct"] + 5.0 * np.tanh(s) / s))


def noisy(z, seed):
    rng = np.random.default_rng(seed)
    return z * (1 + 0.01 * (rng.normal(size=z.size) + 1j * rng.normal(size=z.size)))


def test_three_parameters_recovered_from_a_noisy_randles_spectrum(numbers):
    true = {"R_ct": 10.0, "C_dl": 1e-5, "R_s": 2.0}
    measured = noisy(randles(true, F), seed=1)
    fit = fit_parameters(randles, ["R_ct", "C_dl", "R_s"], {"R_ct": 20.0, "C_dl": 3e-6, "R_s": 1.0}, F, measured,
                         bounds={"R_s": (0.1, 100.0)})
    assert fit.success and fit.evaluations <= 40
    for name, value in true.items():
        assert abs(fit.values[name] / value - 1) < 0.02
        assert 0 < fit.standard_errors[name] / value < 0.01
        numbers.record(f"{name}_rel_error", fit.values[name] / value - 1)
    assert 0.01 < fit.relative_rms < 0.02  # the noise: sqrt(2) * 1 %
    assert fit.as_dict()["values"] == fit.values
    numbers.record("relative_rms", fit.relative_rms)
    numbers.record("evaluations", fit.evaluations)


@pytest.mark.parametrize("names, initial, bounds, key", [
    (["R_ct", "C_dl", "R_s", "x"], [1, 1, 1, 1], None, "parameters"),
    (["R_ct", "R_ct"], [1, 1], None, "parameters"),
    (["R_ct"], [0.0], None, "initial R_ct"),
    (["R_ct"], {"C_dl": 1.0}, None, "initial"),
    (["R_ct", "C_dl"], [1.0], None, "initial"),
    (["R_ct"], [1.0], {"R_ct": (2.0, 3.0)}, "bounds R_ct"),
    (["R_ct"], [1.0], {"C_dl": (1e-6, 1e-4)}, "bounds"),
])
def test_refusals(names, initial, bounds, key):
    with pytest.raises(InputError, match=f"^{key}:"):
        fit_parameters(randles, names, initial, F, randles({"R_ct": 10.0, "C_dl": 1e-5, "R_s": 2.0}, F),
                       bounds=bounds)


def test_fit_circuit_recovers_an_rc_circuit(numbers):
    true = {"R0": 3.0, "R1": 20.0, "C1": 1e-4}
    measured = noisy(true["R0"] + true["R1"] / (1 + 1j * 2 * np.pi * F * true["R1"] * true["C1"]), seed=2)
    result = fit_circuit(F, measured, suggest_circuit("rc"), [1.0, 10.0, 1e-3])
    assert result["circuit"] == "R0-p(R1,C1)"
    assert result["units"] == {"R0": "Ohm", "R1": "Ohm", "C1": "F"}
    for name, value in true.items():
        assert abs(result["parameters"][name] / value - 1) < 0.01
        numbers.record(f"{name}_rel_error", result["parameters"][name] / value - 1)
    assert result["rmse_ohm"] < 0.5
    with pytest.raises(InputError, match="^initial_guess:"):
        fit_circuit(F, measured, "R0-p(R1,C1)", [1.0, 10.0])
    with pytest.raises(InputError, match="^circuit:"):
        fit_circuit(F, measured, "R0-p(R1,X1)", [1.0, 10.0, 1.0])


def test_suggested_circuits_parse():
    from impedance.models.circuits import CustomCircuit

    assert suggest_circuit("randles") == "R0-p(R1-Ws1,C1)"
    counts = {"rc": 3, "randles": 5, "randles_cpe": 6, "transmission_line": 4, "porous_electrode": 5}
    for kind in CIRCUITS:
        names, _ = CustomCircuit(suggest_circuit(kind), initial_guess=[1.0] * counts[kind]).get_param_names()
        assert len(names) == counts[kind]
    with pytest.raises(InputError, match="^circuit kind:"):
        suggest_circuit("voigt")
