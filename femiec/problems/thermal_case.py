"""Temperature entries of case files (typed in femiec.models.temperature) as problem inputs: a number, a
prescribed field (constant, expression of (x, t), .npy grid file) or a solved
:class:`~femiec.problems.thermal.HeatProblem` (docs/thermal.md)."""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from femiec.errors import InputError

#: names an expression of (x, y, z [m], t [s]) may use (NumPy functions)
EXPRESSION_NAMES = {name: getattr(np, name) for name in
                    ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "arctan", "abs",
                     "minimum", "maximum", "where")} | {"pi": np.pi}


def expression_of_x_t(text, key: str) -> Callable:
    """``f(x, t)`` of a case-file expression string in x, y, z [m] and t [s] (NumPy functions of
    ``EXPRESSION_NAMES``; no other names), e.g. ``"300 + 1e5 * x"``."""
    if not isinstance(text, str):
        raise InputError(key, text, "an expression string of x, y, z [m] and t [s]")
    try:
        code = compile(text, key, "eval")
    except SyntaxError:
        raise InputError(key, text, "a valid expression of x, y, z [m] and t [s]") from None
    unknown = sorted(set(code.co_names) - set(EXPRESSION_NAMES) - {"x", "y", "z", "t"})
    if unknown:
        raise InputError(key, text, f"an expression of x, y, z, t and {sorted(EXPRESSION_NAMES)} "
                                    f"(unknown name '{unknown[0]}')")

    def evaluate(x, t):
        names = {**EXPRESSION_NAMES, "x": x[0], "y": x[1], "z": x[2], "t": t}
        return np.broadcast_to(eval(code, {"__builtins__": {}}, names), x.shape[1]).astype(float)

    try:
        evaluate(np.zeros((3, 1)), 0.0)
    except Exception as err:  # noqa: BLE001 - any evaluation error is an input error
        raise InputError(key, text, f"an expression that evaluates at x = 0, t = 0 ({err})") from None
    return evaluate


def temperature_from_section(spec, meshdata, key: str = "model.temperature"):
    """Temperature of a typed case-file entry (femiec.models.temperature): a number [K], or a table of
    ``kind`` "constant" (``value``), "expression" (``expression``, ``degree``), "file" (``file`` .npy grid,
    ``origin``, ``spacing``, ``degree``) or "solved" (a :class:`HeatProblem`, see
    :func:`heat_problem_from_section`). Returns a number, a :class:`PrescribedTemperature` or a
    :class:`HeatProblem`; errors are named under ``key``."""
    from femiec.problems.prescribed_temperature import PrescribedTemperature

    kind = getattr(spec, "kind", None)
    if kind is None:
        return float(spec)
    if kind == "constant":
        return float(spec.value)
    if kind == "solved":
        return heat_problem_from_section(spec, meshdata, key)
    if kind == "expression":
        value = expression_of_x_t(spec.expression, f"{key}.expression")
        return PrescribedTemperature(meshdata, value, degree=spec.degree)
    return PrescribedTemperature(meshdata, spec.file, degree=spec.degree, spacing=spec.spacing, origin=spec.origin)


def heat_problem_from_section(spec, meshdata, key: str = "model.temperature"):
    """A :class:`HeatProblem` of a typed ``kind = "solved"`` table
    (:class:`femiec.models.temperature.SolvedTemperature`): ``thermal_conductivity`` [W/(m K)] (number,
    tensor spec, mapping cell region -> spec, or a law table ``{law = "arrhenius" | "vft", ...}``),
    ``heat_capacity`` [J/(m^3 K)] (transient), ``initial`` [K], ``degree``, and ``boundary`` = list of
    ``{facet, temperature}`` | ``{facet, flux}`` | ``{facet, h, T_inf}``."""
    from femiec.materials.temperature_dependence import property_law
    from femiec.problems.thermal import HeatProblem

    def law_or_value(value, name):
        return property_law(value, f"{key}.{name}") if isinstance(value, Mapping) and "law" in value else value

    heat_capacity = spec.heat_capacity
    heat = HeatProblem(meshdata, law_or_value(spec.thermal_conductivity, "thermal_conductivity"),
                       heat_capacity=None if heat_capacity is None else law_or_value(heat_capacity, "heat_capacity"),
                       degree=spec.degree, initial=spec.initial)
    heat.set_conditions(spec.boundary)
    return heat
