"""``[study] kind = "impedance"`` of a case: bias, sweep, files (called by femiec.runner instead of the
model's own run).

Writes into the output directory:
- ``impedance.csv`` (f, Re Z, Im Z, |Z|, phase; Ohm, and Ohm m^2 when the cell has an area) and
  ``impedance_<label>.csv`` for the spectra that follow from it (a half cell's ``counter`` and ``cell``),
- ``nyquist.png``, ``bode.png``; ``drt.csv`` and ``drt.png`` (distribution of relaxation times);
- ``fields/f_<f>Hz/``: amplitude and phase of the model's fields at each frequency of ``fields_at``
  (ParaView; where in the microstructure each arc happens);
and returns the summary entries: the spectrum's extremes, the Kramers–Kronig residuals, the DRT peaks, the
fitted circuit, the cost per frequency.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from femiec.studies.impedance import frequencies, impedance_spectrum

log = logging.getLogger(__name__)


def sweep_frequencies(study) -> np.ndarray:
    """The study's log-spaced frequencies [Hz] and those of ``fields_at``, high to low, each once."""
    swept = frequencies(study.min_frequency, study.max_frequency, study.per_decade)
    extra = [f for f in study.fields_at if not np.isclose(swept, f, rtol=1e-9).any()]
    return np.sort(np.concatenate([swept, extra]))[::-1]


def run_study(case, spec, problem, out_dir: Path, progress) -> dict:
    """Bring the problem to its bias, sweep the frequencies and write the spectrum's files."""
    study = case.study
    port = spec.port(case, problem, study)
    comm = port.functions[0].function_space.mesh.comm
    freq = sweep_frequencies(study)
    log.info("impedance: %s; %d frequencies from %.3g Hz down to %.3g Hz", port.description or case.model.kind,
             len(freq), freq[0], freq[-1])

    def report(k, f, Z, stats):
        log.info("f = %.4g Hz: Z = %.6g %+.6gi Ohm (%d iterations, %.2f s)", f, Z.real, Z.imag,
                 stats.iterations, stats.seconds)
        progress((k + 1) / len(freq))

    responses = {f: None for f in study.fields_at}
    spectrum = impedance_spectrum(port, freq, method=study.method, inner=study.inner, rtol=study.rtol,
                                  reuse_decades=study.reuse_decades, inner_rtol=study.inner_rtol,
                                  reduced_tol=study.reduced_tol, progress=report,
                                  responses=responses)
    from femiec.studies.report import write_spectrum

    companions = {} if port.companions is None else port.companions(spectrum.frequency, spectrum.impedance)
    result = write_spectrum(out_dir, spectrum, study, comm, title=case.case.name, companions=companions)
    result["fields"] = write_response_fields(out_dir, port, responses, comm)
    result["description"] = port.description
    result.update(port.details)
    summary = {"impedance": result}
    if port.derive is not None:
        summary["derived"] = port.derive(spectrum)
    return summary


def write_response_fields(out_dir: Path, port, responses: dict, comm) -> dict:
    """Amplitude |du| and phase arg(du) [deg] of each of the port's fields at each kept frequency, as VTX
    series in ``fields/f_<f>Hz/`` (per unit input: V per A for a current-driven port, A.. per V for a
    voltage-driven one, in the field's SI unit per input unit). Returns {frequency label: {field: file}}."""
    from dolfinx import fem

    from femiec.io.fields import FieldWriter

    if not responses or port.fields is None:
        return {}
    unknowns = port.functions
    written = {}
    for f, (x, y) in sorted(responses.items()):
        parts = []
        for arrays in (x, y):
            functions = [fem.Function(u.function_space) for u in unknowns]
            for function, values in zip(functions, arrays):
                function.x.array[:len(values)] = values
                function.x.scatter_forward()
            parts.append(port.fields(functions))
        out = {}
        for name, (real, unit) in parts[0].items():
            imag = parts[1][name][0]
            amplitude, phase = fem.Function(real.function_space), fem.Function(real.function_space)
            amplitude.x.array[:] = np.hypot(real.x.array, imag.x.array)
            phase.x.array[:] = np.degrees(np.arctan2(imag.x.array, real.x.array))
            out[f"{name}_amplitude"] = (amplitude, unit)
            out[f"{name}_phase"] = (phase, "deg")
        label = f"f_{f:.4g}Hz"
        directory = Path(out_dir) / "fields" / label
        with FieldWriter(directory, out) as writer:
            writer.write(0.0)
            written[label] = writer.describe()
    return written
