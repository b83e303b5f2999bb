"""The impedance study: Z(f) of any problem that offers an :class:`ImpedancePort`.

A port is what a problem gives the study (DESIGN.md: studies are written once against the small-signal
pieces of a problem): its steady residual, unknowns and Dirichlet conditions, its storage form, a control
input it can set (an electrode potential or an applied current density) and an output functional (a
current or a voltage). :func:`impedance_spectrum` linearises the problem about its present (steady)
state and solves the frequency-domain system once per frequency (femiec.studies.small_signal):

    voltage-driven port (input V [V], output I [A]):   Z = sign / H,   H = dI/dV
    current-driven port (input I [A] or i [A/m^2], output V [V]):  Z = sign * H, H = dV/dI

``sign`` makes Z's real part positive for a passive cell in the problem's current convention (e.g. an
electrode that reports discharge current as positive has dV/dI < 0, sign = -1). ``input_scale`` converts
the input to amperes when the port's input is a current density (the separator area): Z in Ohm.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from femiec.errors import InputError
from femiec.studies.coupled_small_signal import linearize_coupled
from femiec.studies.reduced_sweep import ReducedSweep
from femiec.studies.small_signal import FrequencySolver, FrequencyStats, linearize

DRIVES = ("voltage", "current")


@dataclass
class ImpedancePort:
    """The small-signal pieces of a problem, as the impedance study uses them.

    Fields:
        residual, unknowns, bcs, storage, entity_maps: as :func:`femiec.studies.small_signal.linearize`.
        set_input, input_value, input_step: the control input (a callable that sets it in the forms and
            the Dirichlet values that follow it), its steady value and a central-difference step.
        output: output functional G(u) (UFL rank-0 form or None); output_rate: optional charge
            functional Q(u) whose rate adds to the output (displacement current of a blocking electrode).
        drive: "voltage" (input a potential, output a current) or "current" (the converse).
        sign: +1 or -1, so that Re Z > 0 for a passive cell.
        input_scale: amperes per unit input for a current-driven port whose input is a current density
            [A/m^2 -> A]: Z = sign * H / input_scale; 1 otherwise.
        output_scale: amperes per unit output for a voltage-driven port whose output is a current density.
        area: the cell's cross-section [m^2] for area-specific values (Ohm m^2), or None.
        fields: optional ``fields(functions) -> {name: (Function, unit)}``: the SI fields worth writing as
            amplitude and phase, from Functions shaped like ``unknowns`` that hold the real or the
            imaginary part of du.
        description: one line for logs and summary.json.
        details: model facts for summary.json (geometry, bias), as plain values.
        derive: optional ``derive(spectrum) -> dict`` of quantities the model derives from its spectrum
            (e.g. the electrode tortuosity of a blocking cell), added to summary.json.
        companions: optional ``companions(frequency, Z) -> {label: Z_label}``: spectra [Ohm] that follow from
            the model's (e.g. a half cell's counter electrode and the full cell), written beside it.
        coupled: optional :class:`femiec.studies.coupled_small_signal.CoupledProblem`: a second problem on
            its own mesh that exchanges nodal fields with this one (the gas in the pores of an electrode);
            the linearization is then the monolithic block system of both, the responses' blocks those of
            ``unknowns`` followed by the partner's.
    """

    residual: object
    unknowns: object
    bcs: list
    storage: Callable
    set_input: Callable[[float], None]
    input_value: float
    input_step: float
    output: object
    drive: str
    sign: float = 1.0
    output_rate: object = None
    entity_maps: object = None
    input_scale: float = 1.0
    output_scale: float = 1.0
    area: float | None = None
    fields: object = None
    description: str = ""
    details: dict = field(default_factory=dict)
    derive: Callable | None = None
    companions: Callable | None = None
    coupled: object = None

    def __post_init__(self):
        if self.drive not in DRIVES:
            raise InputError("port.drive", self.drive, f"one of {list(DRIVES)}")

    @property
    def functions(self) -> list:
        """The unknowns as a list of Functions (one block for a single Function)."""
        return list(self.unknowns) if isinstance(self.unknowns, (list, tuple)) else [self.unknowns]

    def impedance(self, transfer: complex) -> complex:
        """Z [Ohm] from the transfer function H = d output / d input."""
        if self.drive == "current":
            return self.sign * transfer / self.input_scale
        return self.sign / (transfer * self.output_scale)


@dataclass
class Spectrum:
    """An impedance spectrum: frequency [Hz], Z [Ohm] (complex), the cell area [m^2] (None when the
    problem has none), unknowns N of the real problem, the cost of each frequency and of the whole sweep
    (method, factorizations; the reduced sweep's space dimension, solves and largest residual)."""

    frequency: np.ndarray
    impedance: np.ndarray
    area: float | None
    unknowns: int
    stats: list[FrequencyStats] = field(default_factory=list)
    cost: dict = field(default_factory=dict)

    @property
    def area_specific(self) -> np.ndarray | None:
        """Z * area [Ohm m^2] (None without an area)."""
        return None if self.area is None else self.impedance * self.area


def frequencies(minimum: float, maximum: float, per_decade: int) -> np.ndarray:
    """Log-spaced frequencies [Hz] from ``maximum`` down to ``minimum``, ``per_decade`` per decade (both
    ends included): high to low, the order an instrument sweeps and the order in which each solution is a
    good start for the next."""
    for key, value in (("study.min_frequency", minimum), ("study.max_frequency", maximum)):
        if not (np.isfinite(value) and value > 0):
            raise InputError(key, value, "a positive frequency [Hz]")
    if maximum <= minimum:
        raise InputError("study.max_frequency", maximum, f"a frequency above study.min_frequency = {minimum:g} Hz")
    if int(per_decade) != per_decade or per_decade < 1:
        raise InputError("study.per_decade", per_decade, "a positive whole number of frequencies per decade")
    count = int(round(np.log10(maximum / minimum) * per_decade)) + 1
    return np.logspace(np.log10(maximum), np.log10(minimum), max(count, 2))


def impedance_spectrum(port: ImpedancePort, frequency, *, method: str = "presb", inner: str = "lu",
                       rtol: float = 1e-12, reuse_decades: float = 0.5, inner_rtol: float = 1e-12,
                       reduced_tol: float = 1e-4, progress=None, responses: dict | None = None) -> Spectrum:
    """Z at each frequency [Hz] of ``frequency`` about the problem's present state (which must be steady).

    ``progress(k, f, Z, stats)`` is called after each frequency. ``responses``: an optional dict whose keys
    are frequencies [Hz] at which to keep the complex response du = x + i y: on return it maps each to
    (x, y) as lists of per-block arrays (owned values), for amplitude and phase fields. ``method``,
    ``inner``, ``rtol``, ``reuse_decades``, ``inner_rtol``: :class:`~femiec.studies.small_signal.FrequencySolver`;
    ``method="reduced"``: the whole sweep from one projected system (femiec.studies.reduced_sweep) built
    to the relative accuracy ``reduced_tol`` of Z; ``reuse_decades`` does not apply."""
    frequency = np.asarray(frequency, dtype=float)
    if port.coupled is not None:
        lin = linearize_coupled(port, port.coupled)
    else:
        lin = linearize(port.residual, port.unknowns, port.bcs, port.storage, set_input=port.set_input,
                        input_value=port.input_value, input_step=port.input_step, output=port.output,
                        output_rate=port.output_rate, entity_maps=port.entity_maps)
    reduced = method == "reduced"
    solver = FrequencySolver(lin, method=method, inner=inner, rtol=rtol,
                             reuse_decades=0.0 if reduced else reuse_decades, inner_rtol=inner_rtol)
    wanted = {} if responses is None else {float(f): None for f in responses}
    Z = np.empty(len(frequency), dtype=complex)
    stats = []
    try:
        sweep = ReducedSweep(lin, solver, reduced_tol) if reduced else None
        solves = (sweep.responses(2 * np.pi * frequency) if reduced else
                  (solver.solve(2 * np.pi * f) + (None,) for f in frequency))
        for k, (f, (transfer, x, y, cost)) in enumerate(zip(frequency, solves)):
            stats.append(solver.stats[-1] if cost is None else cost)
            Z[k] = port.impedance(transfer)
            match = next((w for w in wanted if np.isclose(w, f, rtol=1e-9)), None)
            if match is not None:
                wanted[match] = (_split(x, lin.blocks), _split(y, lin.blocks))
            x.destroy()
            y.destroy()
            if progress is not None:
                progress(k, float(f), Z[k], stats[-1])
        cost = ({**sweep.summary(), "factorizations": solver.factorizations} if reduced else
                {"method": method, "factorizations": int(sum(s.factorized for s in stats))})
    finally:
        size = lin.size
        solver.close()
        lin.destroy()
    if responses is not None:
        responses.clear()
        responses.update({f: v for f, v in wanted.items() if v is not None})
    return Spectrum(frequency, Z, port.area, size, stats, cost)


def _split(vec, blocks) -> list[np.ndarray]:
    values, offset, out = vec.getArray(readonly=True), 0, []
    for size in blocks:
        out.append(values[offset:offset + size].copy())
        offset += size
    return out
