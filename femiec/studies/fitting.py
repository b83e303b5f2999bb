"""Fits of impedance spectra (pure NumPy/SciPy; impedance.py for equivalent circuits).

- :func:`fit_circuit`: an equivalent circuit (impedance.py circuit string) fitted to a spectrum, as a
  dict for summary.json; :func:`suggest_circuit` gives the strings of the usual circuits.
- :func:`fit_parameters`: up to three positive scalar parameters of any model Z(params, f) (for femiec:
  a whole finite-element spectrum per evaluation) adjusted by least squares to a measured spectrum.

Sign convention: Z = Z' + i Z'' [Ohm], a capacitor is 1/(i omega C).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femiec.errors import InputError
from femiec.studies.spectrum import checked_spectrum

MAX_PARAMETERS = 3

# impedance.py 1.7.1 circuit strings (elements: R, C, L, W, Wo, Ws, CPE, La, G, Gs, K, Zarc, TLMQ, T).
CIRCUITS = {
    "rc": ("R0-p(R1,C1)", "series resistance and one RC arc"),
    "randles": ("R0-p(R1-Ws1,C1)", "Randles: series resistance, charge transfer R1 in series with a finite "
                "(transmissive) Warburg Ws1 (Z0, tau), parallel to the double layer C1"),
    "randles_cpe": ("R0-p(R1-Ws1,CPE1)", "Randles with a constant-phase double layer"),
    "transmission_line": ("R0-TLMQ0", "series resistance and impedance.py's TLMQ: the finite de Levie pore "
                          "sqrt(R_ion Z_s) coth sqrt(R_ion/Z_s) with constant-phase walls "
                          "Z_s = 1/(Q (i omega)^gamma), parameters R_ion [Ohm], Q, gamma"),
    "porous_electrode": ("R0-T0", "series resistance and impedance.py's T: Paasch et al. 1993 "
                         "macrohomogeneous electrode with ionic and electronic resistivity and charge "
                         "transfer (A, B, a, b)"),
}


def suggest_circuit(kind: str) -> str:
    """The impedance.py circuit string of ``kind`` (a key of :data:`CIRCUITS`: rc, randles, randles_cpe,
    transmission_line, porous_electrode)."""
    if kind not in CIRCUITS:
        raise InputError("circuit kind", kind, "one of " + ", ".join(CIRCUITS))
    return CIRCUITS[kind][0]


def fit_circuit(frequency, impedance, circuit: str, initial_guess) -> dict:
    """Fit the impedance.py ``circuit`` (e.g. ``suggest_circuit("randles")``) to the spectrum
    ``impedance`` [Ohm] at ``frequency`` [Hz], starting from ``initial_guess`` (one value per parameter,
    in the order of the circuit string).

    Complex nonlinear least squares by impedance.py (scipy ``curve_fit``), each point weighted by
    1/|Z|. Returns ``{"circuit", "parameters": {name: value}, "units": {name: unit},
    "standard_errors": {name: value}, "rmse_ohm": sqrt(mean |Z_fit - Z|^2)}`` (plain floats, for
    summary.json). A circuit string impedance.py cannot parse or a wrong number of initial values is an
    :class:`~femiec.errors.InputError`.
    """
    from impedance.models.circuits import CustomCircuit  # slow import (pandas): only when fitting
    from impedance.models.circuits.fitting import calculateCircuitLength

    f, z = checked_spectrum(frequency, impedance)
    guess = [float(g) for g in np.atleast_1d(initial_guess)]
    try:
        length = calculateCircuitLength(circuit)
        model = CustomCircuit(circuit, initial_guess=guess) if length == len(guess) else None
    except Exception as exc:  # impedance.py raises ValueError, TypeError, NameError, ... for bad strings
        raise InputError("circuit", circuit, f"an impedance.py circuit string ({exc})") from None
    if model is None:
        raise InputError("initial_guess", guess, f"{length} values, one per parameter of {circuit}")
    names, units = model.get_param_names()
    model.fit(f, z, weight_by_modulus=True)
    fitted = model.predict(f, use_initial=False)
    errors = getattr(model, "conf_", None)
    return {
        "circuit": circuit,
        "parameters": {n: float(v) for n, v in zip(names, model.parameters_)},
        "units": dict(zip(names, units)),
        "standard_errors": {n: float(v) for n, v in zip(names, errors)} if errors is not None else None,
        "rmse_ohm": float(np.sqrt(np.mean(np.abs(fitted - z) ** 2))),
    }


@dataclass(frozen=True)
class ParameterFit:
    """Result of :func:`fit_parameters`: ``values`` and ``standard_errors`` {name: value} (SI, the units
    of the model's parameters), ``relative_rms`` = sqrt(mean |Z_model - Z_meas|^2 / |Z_meas|^2) at the
    fitted values, ``evaluations`` the number of model evaluations (spectra) made, ``success`` and
    ``message`` of the optimizer."""

    values: dict
    standard_errors: dict
    relative_rms: float
    evaluations: int
    success: bool
    message: str

    def as_dict(self) -> dict:
        """Plain values for summary.json."""
        return {"values": dict(self.values), "standard_errors": dict(self.standard_errors),
                "relative_rms": self.relative_rms, "evaluations": self.evaluations, "success": self.success,
                "message": self.message}


def fit_parameters(model, names, initial, frequency, measured, bounds=None, relative_step: float = 1e-3,
                   tolerance: float = 1e-6, max_evaluations: int = 60) -> ParameterFit:
    """Adjust up to three positive scalar parameters of ``model(params: dict, frequency) -> Z [Ohm]`` so
    that it matches the ``measured`` spectrum [Ohm] at ``frequency`` [Hz].

    Minimises sum_i |Z_model(f_i) - Z_meas(f_i)|^2 / |Z_meas(f_i)|^2 (real and imaginary parts stacked)
    by ``scipy.optimize.least_squares`` (trust-region reflective) in u_k = ln(p_k / p_k,initial), so every
    parameter moves on a relative scale and stays positive; the Jacobian is by forward differences with
    the step ``relative_step`` in u (a relative step of the parameter), one model evaluation per parameter
    and iteration. ``initial``: {name: value} or values in the order of ``names``; ``bounds``:
    {name: (low, high)} (positive; None: unbounded). Stops when the relative change of the misfit or of
    the parameters falls below ``tolerance`` or after about ``max_evaluations`` evaluations.

    Standard errors: from the Jacobian J at the solution, cov(u) = s^2 (J^T J)^-1 with
    s^2 = |r|^2 / (2 N - n), and se(p_k) = p_k se(u_k) (linearised; meaningful when the misfit is noise).
    """
    names = [str(n) for n in names]
    if not 1 <= len(names) <= MAX_PARAMETERS or len(set(names)) != len(names):
        raise InputError("parameters", names, f"1 to {MAX_PARAMETERS} distinct parameter names")
    start = _initial(names, initial)
    f, z_meas = checked_spectrum(frequency, measured, min_points=max(len(names), 2))
    low, high = _bounds(names, start, bounds)
    if not 0 < relative_step < 0.1:
        raise InputError("relative_step", relative_step, "a relative step between 0 and 0.1 (1e-3)")
    from scipy.optimize import least_squares

    counter = {"evaluations": 0}
    weight = 1.0 / np.abs(z_meas)

    def residuals(u):
        params = {n: float(p0 * np.exp(uk)) for n, p0, uk in zip(names, start, u)}
        z = np.asarray(model(params, f), dtype=complex).ravel()
        counter["evaluations"] += 1
        if z.shape != z_meas.shape or not np.all(np.isfinite(z)):
            raise InputError("model", f"{z.shape} values, finite: {bool(np.all(np.isfinite(z)))}",
                             f"{z_meas.size} finite impedances [Ohm] for {params}")
        d = (z - z_meas) * weight
        return np.concatenate([d.real, d.imag])

    result = least_squares(residuals, np.zeros(len(names)), jac="2-point", bounds=(low, high),
                           method="trf", x_scale=1.0, diff_step=relative_step, ftol=tolerance,
                           xtol=tolerance, gtol=tolerance, max_nfev=max_evaluations)
    values = {n: float(p0 * np.exp(uk)) for n, p0, uk in zip(names, start, result.x)}
    r, jac = result.fun, result.jac
    dof = max(r.size - len(names), 1)
    try:
        cov = np.linalg.inv(jac.T @ jac) * (r @ r) / dof
        se_u = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    except np.linalg.LinAlgError:
        se_u = np.full(len(names), np.inf)
    return ParameterFit(values=values,
                        standard_errors={n: float(values[n] * s) for n, s in zip(names, se_u)},
                        relative_rms=float(np.sqrt(2.0 * np.mean(r**2))),
                        evaluations=counter["evaluations"], success=bool(result.success),
                        message=str(result.message))


def _initial(names: list[str], initial) -> np.ndarray:
    if isinstance(initial, dict):
        missing = [n for n in names if n not in initial]
        if missing:
            raise InputError("initial", initial, f"a value for {', '.join(missing)}")
        values = [initial[n] for n in names]
    else:
        values = list(np.atleast_1d(initial))
        if len(values) != len(names):
            raise InputError("initial", values, f"{len(names)} values, one for each of {', '.join(names)}")
    out = np.array(values, dtype=float)
    for n, v in zip(names, out):
        if not (np.isfinite(v) and v > 0):
            raise InputError(f"initial {n}", float(v), "a positive finite value (parameters are fitted in log)")
    return out


def _bounds(names: list[str], start: np.ndarray, bounds) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on u = ln(p / p_initial)."""
    low, high = np.full(len(names), -np.inf), np.full(len(names), np.inf)
    for k, (n, p0) in enumerate(zip(names, start)):
        if bounds is None or n not in bounds or bounds[n] is None:
            continue
        lo, hi = (float(b) for b in bounds[n])
        if not (0 < lo < hi and lo <= p0 <= hi):
            raise InputError(f"bounds {n}", (lo, hi), f"0 < low < high around the initial value {p0:g}")
        low[k], high[k] = np.log(lo / p0), np.log(hi / p0)
    if bounds is not None:
        unknown = sorted(set(bounds) - set(names))
        if unknown:
            raise InputError("bounds", unknown, f"bounds only for the fitted parameters {', '.join(names)}")
    return low, high
