"""Files and summary entries of a computed impedance spectrum (rank 0 writes, every rank returns the same
dict): impedance.csv, nyquist.png, bode.png, drt.csv, drt.png, the lin-KK test and an optional circuit fit.

A spectrum is *capacitive* when -Im Z still grows as the frequency falls at its low end (a blocking cell,
a finite insertion electrode at open circuit: Z -> 1/(i omega C)): its DRT and lin-KK fits then carry a
series capacitance 1/(i omega C). lin-KK uses time constants reaching half a decade beyond the data on
each side and M = 5 Voigt elements per decade of that range (at most one per frequency):
femiec.studies.kramers_kronig explains why the mu criterion is not used on a computed, noise-free
spectrum.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

#: Voigt elements per decade of the lin-KK test of a computed spectrum, and the decades its time
#: constants reach beyond the data on each side
KK_PER_DECADE = 5
KK_EXTEND_DECADES = 0.5


def capacitive(frequency, impedance) -> bool:
    """True when -Im Z at the lowest frequency is positive and larger than at the next lowest one (the
    spectrum still turns towards a series capacitance as the frequency falls)."""
    order = np.argsort(frequency)
    lowest, next_lowest = -np.imag(impedance[order[0]]), -np.imag(impedance[order[1]])
    return bool(lowest > 0 and lowest > next_lowest)


def kk_elements(frequency) -> int:
    """M of the lin-KK test: KK_PER_DECADE per decade of the time constants' range, at least 2, at most the
    number of frequencies."""
    decades = np.log10(np.max(frequency) / np.min(frequency)) + 2 * KK_EXTEND_DECADES
    return int(min(len(frequency), max(2, round(KK_PER_DECADE * decades))))


def analyse(frequency, impedance, *, drt: bool = True, kramers_kronig: bool = True, circuit=None,
            initial_guess=None) -> dict:
    """The analyses of a spectrum as plain data: lin-KK residuals, DRT (with its arrays under ``_drt``)
    and a fitted circuit. An analysis that fails is reported (``error``), never raised: the spectrum
    itself is the result."""
    out = {}
    blocking = capacitive(frequency, impedance)
    if kramers_kronig:
        from femiec.studies.kramers_kronig import lin_kk

        try:
            kk = lin_kk(frequency, impedance, M=kk_elements(frequency), capacitance=blocking,
                        extend_decades=KK_EXTEND_DECADES)
            out["kramers_kronig"] = {"max_residual": float(kk.max_residual), "M": int(kk.M),
                                     "extend_decades": KK_EXTEND_DECADES, "series_capacitance": blocking}
        except Exception as exc:  # noqa: BLE001 -- an analysis must not fail a finished spectrum
            out["kramers_kronig"] = {"error": _reason(exc)}
    if drt:
        from femiec.studies.drt import fit_drt

        try:
            result = fit_drt(frequency, impedance, capacitance=blocking)
            out["drt"] = {"R_inf_ohm": float(result.R_inf), "regularization": float(result.regularization),
                          "relative_residual": float(result.residual),
                          "series_capacitance_F": None if result.C is None else float(result.C),
                          "peaks": [{"tau_s": float(p.tau), "frequency_Hz": float(1 / (2 * np.pi * p.tau)),
                                     "resistance_ohm": float(p.area)} for p in result.peaks()]}
            out["_drt"] = result
        except Exception as exc:  # noqa: BLE001
            out["drt"] = {"error": _reason(exc)}
    if circuit is not None:
        from femiec.studies.fitting import fit_circuit

        try:
            out["circuit"] = fit_circuit(frequency, impedance, circuit, initial_guess)
        except Exception as exc:  # noqa: BLE001
            out["circuit"] = {"circuit": circuit, "error": _reason(exc)}
    return out


def _reason(exc: Exception) -> str:
    reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
    log.warning("impedance analysis failed (%s); the spectrum itself is complete", reason)
    return reason


def write_spectrum(out_dir: Path, spectrum, study, comm, title: str = "", companions: dict | None = None) -> dict:
    """Write the spectrum's files into ``out_dir`` (rank 0) and return its summary entries; ``title`` heads
    the plots; ``companions`` {label: Z [Ohm]} at the same frequencies go to ``impedance_<label>.csv`` and
    onto the Nyquist and Bode plots."""
    result = None
    if comm.rank == 0:
        result = _write(Path(out_dir), spectrum, study, title, companions or {})
    return comm.bcast(result, root=0)


def _write(out: Path, spectrum, study, title: str, companions: dict) -> dict:
    from femiec.io.impedance import plot_bode, plot_drt, plot_nyquist, write_impedance_csv

    f, Z, area = spectrum.frequency, spectrum.impedance, spectrum.area
    files = {"spectrum": write_impedance_csv(out / "impedance.csv", f, Z, area=area).name}
    analyses = analyse(f, Z, drt=study.drt, kramers_kronig=study.kramers_kronig, circuit=study.circuit,
                       initial_guess=study.initial_guess)
    low, high = int(np.argmin(f)), int(np.argmax(f))
    curves = [("femiec" if not companions else "working electrode", f, Z)]
    extra = {}
    for label, z in companions.items():
        files[f"spectrum_{label}"] = write_impedance_csv(out / f"impedance_{label}.csv", f, z, area=area).name
        curves.append((label, f, z, "analytic" if label == "counter" else "computed"))
        extra[label] = {"lowest": _point(f[low], z[low], area), "highest": _point(f[high], z[high], area)}
    files["nyquist"] = plot_nyquist(out / "nyquist.png", curves, area=area, title=title).name
    files["bode"] = plot_bode(out / "bode.png", curves, area=area, title=title).name
    drt = analyses.pop("_drt", None)
    if drt is not None:
        _write_drt_csv(out / "drt.csv", drt)
        files["drt"] = "drt.csv"
        files["drt_plot"] = plot_drt(out / "drt.png", drt.tau, drt.gamma, peaks=drt.peaks(), area=area,
                                     title=title).name
    stats = spectrum.stats
    return {"frequencies": len(f), "unknowns": int(spectrum.unknowns), "area_m2": area,
            "lowest": _point(f[low], Z[low], area), "highest": _point(f[high], Z[high], area),
            "iterations": [int(s.iterations) for s in stats], "seconds": [round(s.seconds, 4) for s in stats],
            "factorizations": spectrum.cost.get("factorizations", int(sum(s.factorized for s in stats))),
            "sweep": spectrum.cost, **analyses, **extra, "files": files}


def _point(f: float, z: complex, area) -> dict:
    point = {"frequency_Hz": float(f), "re_Z_ohm": float(z.real), "im_Z_ohm": float(z.imag)}
    if area is not None:
        point.update(re_Z_ohm_m2=float(z.real * area), im_Z_ohm_m2=float(z.imag * area))
    return point


def _write_drt_csv(path: Path, drt) -> None:
    header = "tau_s,gamma_ohm"
    np.savetxt(path, np.column_stack([drt.tau, drt.gamma]), delimiter=",", header=header, comments="")
