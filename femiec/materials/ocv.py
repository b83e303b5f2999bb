"""Open-circuit voltage U(x) of an intercalation material from a table, usable in UFL and NumPy.

x = c_s / c_max is the lithium stoichiometry (dimensionless), U in volts versus Li/Li+.

Interpolation: monotone piecewise-cubic Hermite (PCHIP, Fritsch–Carlson slopes as in
``scipy.interpolate.PchipInterpolator``), so U is C^1 (Newton sees a continuous dU/dx) and has no
overshoot between table points; ``kind="linear"`` gives piecewise-linear interpolation. Outside the table
U continues linearly with the end slopes. In UFL the curve is a chain of ``ufl.conditional`` over the
table intervals, so the table size sets the depth of the expression (keep it below ~50 points).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from femiec.errors import InputError

KINDS = ("pchip", "linear")

#: An illustrative NMC-like open-circuit curve (stoichiometry x, U [V] vs Li/Li+): the shape and range of
#: published NMC111 curves (about 4.3 V at x = 0.3 falling to about 3.0 V near x = 1), not fitted data.
NMC_LIKE_OCV = (
    (0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.93, 0.96, 0.98, 1.00),
    (4.30, 4.21, 4.13, 4.06, 4.00, 3.95, 3.90, 3.86, 3.82, 3.78, 3.74, 3.70, 3.64, 3.58, 3.48, 3.35, 3.00),
)


class OpenCircuitVoltage:
    """U(x) [V] interpolated in a table of stoichiometries x (strictly increasing) and voltages [V].

    The voltages must not rise with x: for an intercalation host the open-circuit voltage falls (or stays,
    on a two-phase plateau) as x = c_s/c_max rises, dU/dx <= 0; a table that rises somewhere is a
    mislabelled column or a sign slip, and a rising U makes the particle's diffusion ill-posed
    (InputError naming the first point where it rises).

    Call ``ocv(x)`` with a NumPy array/number or a UFL expression: both give the same piecewise curve.
    """

    def __init__(self, stoichiometry: Sequence[float], voltage: Sequence[float], kind: str = "pchip"):
        x = np.asarray(stoichiometry, dtype=float)
        u = np.asarray(voltage, dtype=float)
        if kind not in KINDS:
            raise InputError("ocv.kind", kind, f"one of {list(KINDS)}")
        if x.ndim != 1 or x.shape != u.shape or len(x) < 2:
            raise InputError("ocv.table", f"{x.shape} stoichiometries, {u.shape} voltages",
                             "two equally long lists with at least two points")
        if not np.all(np.diff(x) > 0) or not np.all(np.isfinite(u)):
            raise InputError("ocv.stoichiometry", x.tolist(), "strictly increasing values with finite voltages")
        rises = np.flatnonzero(np.diff(u) > 0)
        if rises.size:  # an intercalation host: U falls (or stays) as the host fills with lithium
            k = int(rises[0])
            raise InputError(f"ocv.voltage[{k + 1}]", float(u[k + 1]),
                             f"voltages that do not rise with the stoichiometry (U(x) non-increasing): it "
                             f"rises from {u[k]:g} V at x = {x[k]:g} to {u[k + 1]:g} V at x = {x[k + 1]:g}")
        self.x, self.u, self.kind = x, u, kind
        self.slopes = self._slopes()

    def _slopes(self) -> np.ndarray:
        if self.kind == "linear":
            return None
        if len(self.x) == 2:
            return np.full(2, (self.u[1] - self.u[0]) / (self.x[1] - self.x[0]))
        from scipy.interpolate import PchipInterpolator

        return PchipInterpolator(self.x, self.u).derivative()(self.x)

    def _segment(self, x, k):
        """U on interval k as a polynomial in x (works for NumPy and UFL)."""
        x0, x1, u0, u1 = self.x[k], self.x[k + 1], self.u[k], self.u[k + 1]
        h = x1 - x0
        if self.kind == "linear":
            return u0 + (u1 - u0) * (x - x0) / h
        t = (x - x0) / h
        m0, m1 = self.slopes[k] * h, self.slopes[k + 1] * h
        return (u0 * (1 + 2 * t) * (1 - t) ** 2 + m0 * t * (1 - t) ** 2 + u1 * t ** 2 * (3 - 2 * t)
                - m1 * t ** 2 * (1 - t))

    def _end_slope(self, end: int) -> float:
        if self.kind == "linear":
            k = 0 if end == 0 else -2
            return float((self.u[k + 1] - self.u[k]) / (self.x[k + 1] - self.x[k]))
        return float(self.slopes[end])

    def __call__(self, x):
        if hasattr(x, "ufl_shape"):  # a UFL expression
            return self._ufl(x)
        x = np.asarray(x, dtype=float)
        k = np.clip(np.searchsorted(self.x, x, side="right") - 1, 0, len(self.x) - 2)
        inside = self._segment(x, k) if np.ndim(k) == 0 else np.choose(
            k, [self._segment(x, j) for j in range(len(self.x) - 1)])
        below = self.u[0] + self._end_slope(0) * (x - self.x[0])
        above = self.u[-1] + self._end_slope(-1) * (x - self.x[-1])
        return np.where(x < self.x[0], below, np.where(x > self.x[-1], above, inside))

    def _ufl(self, x):
        import ufl

        expr = self.u[-1] + self._end_slope(-1) * (x - self.x[-1])
        for k in reversed(range(len(self.x) - 1)):
            expr = ufl.conditional(ufl.lt(x, self.x[k + 1]), self._segment(x, k), expr)
        return ufl.conditional(ufl.lt(x, self.x[0]), self.u[0] + self._end_slope(0) * (x - self.x[0]), expr)

    def pieces(self, x) -> list[tuple[float, float, object]]:
        """U(x) as (lower, upper, expression) valid for lower <= x < upper: the linear continuation below
        the table (lower = -inf), the polynomial of each table interval, the linear continuation above
        (upper = inf). Uses only + - * / ** on ``x``, so any symbolic algebra (e.g. PyBaMM's expression
        tree) can build the same curve by selecting the pieces itself."""
        inner = [(float(self.x[k]), float(self.x[k + 1]), self._segment(x, k)) for k in range(len(self.x) - 1)]
        below = (-np.inf, float(self.x[0]), self.u[0] + self._end_slope(0) * (x - self.x[0]))
        above = (float(self.x[-1]), np.inf, self.u[-1] + self._end_slope(-1) * (x - self.x[-1]))
        return [below, *inner, above]

    def as_dict(self) -> dict:
        return {"stoichiometry": self.x.tolist(), "voltage_V": self.u.tolist(), "kind": self.kind}


def ocv_from_spec(spec) -> OpenCircuitVoltage:
    """OpenCircuitVoltage from None (the NMC-like default), an instance, or a table
    ``{stoichiometry = [...], voltage = [...], kind = "pchip"}``."""
    if spec is None:
        return OpenCircuitVoltage(*NMC_LIKE_OCV)
    if isinstance(spec, OpenCircuitVoltage):
        return spec
    if not isinstance(spec, dict) or not {"stoichiometry", "voltage"} <= set(spec):
        raise InputError("ocv", spec, "a table {stoichiometry = [...], voltage = [...]} (V vs Li/Li+)")
    unknown = sorted(set(spec) - {"stoichiometry", "voltage", "kind"})
    if unknown:
        raise InputError(f"ocv.{unknown[0]}", spec[unknown[0]], "one of the keys stoichiometry, voltage, kind")
    return OpenCircuitVoltage(spec["stoichiometry"], spec["voltage"], spec.get("kind", "pchip"))
