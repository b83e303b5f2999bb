"""Temperature entries of case files: a number, a prescribed field (constant, expression of (x, t), .npy
grid file) or a solved :class:`~femiec.problems.thermal.HeatProblem` (docs/thermal.md)."""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from femiec.errors import InputError

#: names an expression of (x, y, z [m], t [s]) may use (NumPy functions)
EXPRESSION_NAMES = {name: getattr(np, name) for name in
                    ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "arctan", "abs",
                     "minimum", "maximum", "where")} | {"pi": np.pi}
TEMPERATURE_KINDS = ("constant", "expression", "file", "solved")
SOLVED_KEYS = {"kind", "thermal_conductivity", "heat_capacity", "initial", "degree", "boundary"}


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
    """Temperature of a case-file entry: a number [K] or a table with ``kind`` =
    "constant" (``value``), "expression" (``expression``, ``degree``), "file" (``file`` .npy grid,
    ``origin``, ``spacing``) or "solved" (a :class:`HeatProblem`, see :func:`heat_problem_from_section`).
    Returns a number, a :class:`PrescribedTemperature` or a :class:`HeatProblem`."""
    from femiec.problems.thermal import PrescribedTemperature, _is_number

    if _is_number(spec):
        if not spec > 0:
            raise InputError(key, spec, "a temperature > 0 K")
        return float(spec)
    if not isinstance(spec, Mapping):
        raise InputError(key, spec, "a temperature in K or a table with 'kind'")
    kind = spec.get("kind")
    if kind not in TEMPERATURE_KINDS:
        raise InputError(f"{key}.kind", kind, f"one of {list(TEMPERATURE_KINDS)}")
    allowed = {"constant": {"kind", "value"}, "expression": {"kind", "expression", "degree"},
               "file": {"kind", "file", "origin", "spacing", "degree"}, "solved": SOLVED_KEYS}[kind]
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise InputError(f"{key}.{unknown[0]}", spec[unknown[0]], f"one of the keys {sorted(allowed)} "
                                                                  f"(kind = '{kind}')")
    if kind == "constant":
        return temperature_from_section(spec.get("value"), meshdata, f"{key}.value")
    if kind == "solved":
        return heat_problem_from_section(spec, meshdata, key)
    degree = spec.get("degree", 1)
    if degree not in (1, 2):
        raise InputError(f"{key}.degree", degree, "1 or 2")
    if kind == "expression":
        value = expression_of_x_t(spec.get("expression"), f"{key}.expression")
        return PrescribedTemperature(meshdata, value, degree=degree)
    return PrescribedTemperature(meshdata, spec.get("file"), degree=degree, spacing=spec.get("spacing"),
                                 origin=spec.get("origin"))


def heat_problem_from_section(spec: Mapping, meshdata, key: str = "model.temperature"):
    """A :class:`HeatProblem` of a case-file table: ``thermal_conductivity`` [W/(m K)] (number, tensor
    spec, mapping cell region -> spec, or a law table ``{law = "arrhenius" | "vft", ...}``),
    ``heat_capacity`` [J/(m^3 K)] (transient), ``initial`` [K], ``degree``, and ``boundary`` = list of
    ``{facet, temperature}`` | ``{facet, flux}`` | ``{facet, h, T_inf}``."""
    from femiec.materials.temperature_dependence import property_law
    from femiec.problems.thermal import HeatProblem

    def law_or_value(value, name):
        return property_law(value, f"{key}.{name}") if isinstance(value, Mapping) and "law" in value else value

    if "thermal_conductivity" not in spec:
        raise InputError(f"{key}.thermal_conductivity", None, "a thermal conductivity in W/(m K)")
    heat_capacity = spec.get("heat_capacity")
    heat = HeatProblem(meshdata, law_or_value(spec["thermal_conductivity"], "thermal_conductivity"),
                       heat_capacity=None if heat_capacity is None else law_or_value(heat_capacity, "heat_capacity"),
                       degree=spec.get("degree", 1), initial=spec.get("initial", 298.15))
    boundary = spec.get("boundary")
    if not isinstance(boundary, (list, tuple)) or not boundary:
        raise InputError(f"{key}.boundary", boundary, "a list of {facet, temperature | flux | h and T_inf}")
    for i, bc in enumerate(boundary):
        where = f"{key}.boundary[{i}]"
        kinds = [name for name in ("temperature", "flux", "h") if name in bc]
        unknown = sorted(set(bc) - {"facet", "temperature", "flux", "h", "T_inf"})
        if unknown or len(kinds) != 1 or ("h" in bc) != ("T_inf" in bc) or "facet" not in bc:
            raise InputError(where, dict(bc), "{facet, temperature} | {facet, flux} | {facet, h, T_inf}")
        if "temperature" in bc:
            heat.set_temperature(bc["facet"], bc["temperature"])
        elif "flux" in bc:
            heat.set_heat_flux(bc["facet"], bc["flux"])
        else:
            heat.set_convection(bc["facet"], bc["h"], bc["T_inf"])
    return heat
