"""``femiec fit``: adjust up to three scalar case parameters so that the case's computed impedance spectrum
matches a measured one (least squares on log-parameters, femiec.studies.fitting.fit_parameters).

Each evaluation rebuilds the model's problem from the case with the trial values (the mesh is built once:
mesh keys cannot be fitted), brings it to its bias and computes its spectrum at the measured frequencies.
The misfit is sum |Z_model - Z_meas|^2 / |Z_meas|^2 over the measured points (real and imaginary parts).
Writes ``fit.json``, ``impedance.csv`` (the fitted model's spectrum) and ``nyquist.png``/``bode.png``
with the measured points over the fitted curve.
"""
from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import numpy as np

from femiec.errors import InputError

log = logging.getLogger(__name__)


def _step(node, part: str, key: str):
    """``node[part]``: a table's key or, for a list (of tables), its index."""
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise InputError("--parameter", key, "a number in the case file (a dotted key such as "
                     "model.active_material.exchange_current_density; list items by index: "
                     "model.electrodes.0.reactions.0.exchange_current_density)")


def _get(data: dict, key: str):
    node = data
    for part in key.split("."):
        node = _step(node, part, key)
    return node


def _set(data: dict, key: str, value: float) -> None:
    *parents, last = key.split(".")
    node = data
    for part in parents:
        node = _step(node, part, key)
    if isinstance(node, list):
        node[int(last)] = float(value)
    else:
        node[last] = float(value)


def fit_case(case_file, measured_file, parameters: list[str], out_dir, comm, bounds: dict | None = None) -> dict:
    """Fit ``parameters`` (dotted case keys holding positive numbers) of the case at ``case_file`` (which
    must have ``[study] kind = "impedance"``) to the spectrum in ``measured_file``
    (femiec.io.impedance.read_impedance_csv). Returns the summary dict (also written as fit.json)."""
    import tomllib

    from femiec.config.loader import load_case, parse_case
    from femiec.io.impedance import plot_bode, plot_nyquist, read_impedance_csv, write_impedance_csv
    from femiec.models import model_spec
    from femiec.runner import checked_mesh
    from femiec.studies.fitting import fit_parameters
    from femiec.studies.impedance import impedance_spectrum

    case_file = Path(case_file)
    base = load_case(case_file)
    if base.study is None:
        raise InputError("study", "<missing>", "a [study] table with kind = \"impedance\" in the case file")
    if not parameters or len(parameters) > 3 or len(set(parameters)) != len(parameters):
        raise InputError("--parameter", parameters, "one to three different case keys")
    data = tomllib.loads(case_file.read_text(encoding="utf-8"))
    initial = {}
    for key in parameters:
        if key.split(".")[0] in ("mesh", "study", "output"):
            raise InputError("--parameter", key, "a key of [model] or [materials] (the mesh is built once)")
        value = _get(data, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise InputError(key, value, "a positive number to fit")
        initial[key] = float(value)
    frequency, measured = read_impedance_csv(measured_file)
    spec = model_spec(base.model.kind)
    meshdata = checked_mesh(base, spec, comm)  # as `femiec run` builds it (an image by planes for the electrode)
    order = np.argsort(frequency)[::-1]  # sweep high to low
    evaluations = []

    def model(values: dict, f) -> np.ndarray:
        trial = copy.deepcopy(data)
        for key, value in values.items():
            _set(trial, key, value)
        case = parse_case(trial, base_dir=case_file.parent)
        problem = spec.build(case, meshdata, comm)
        port = spec.port(case, problem, case.study)
        spectrum = impedance_spectrum(port, np.asarray(f)[order], method=case.study.method,
                                      inner=case.study.inner, rtol=case.study.rtol,
                                      reuse_decades=case.study.reuse_decades,
                                      inner_rtol=case.study.inner_rtol)
        Z = np.empty(len(f), dtype=complex)
        Z[order] = spectrum.impedance
        evaluations.append({**{k: float(v) for k, v in values.items()},
                            "relative_rms": float(np.sqrt(np.mean(np.abs(Z / measured - 1) ** 2)))})
        log.info("fit evaluation %d: %s -> relative rms %.4g", len(evaluations),
                 ", ".join(f"{k} = {v:.6g}" for k, v in values.items()), evaluations[-1]["relative_rms"])
        model.area = spectrum.area
        return Z

    result = fit_parameters(model, list(parameters), [initial[k] for k in parameters], frequency, measured,
                            bounds=bounds)
    fitted = model(result.values, frequency)
    summary = {"case": str(case_file), "measured": str(measured_file), "initial": initial,
               **result.as_dict(), "history": evaluations}
    out = Path(out_dir)
    if comm.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        write_impedance_csv(out / "impedance.csv", frequency, fitted, area=model.area)
        curves = [("measured", frequency, measured, "measured"), ("fitted model", frequency, fitted)]
        plot_nyquist(out / "nyquist.png", curves)
        plot_bode(out / "bode.png", curves)
        tmp = out / "fit.json.tmp"
        tmp.write_text(json.dumps(summary, indent=1))
        tmp.replace(out / "fit.json")
    comm.barrier()
    return summary
