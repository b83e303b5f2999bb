"""Temperature laws of transport properties and the Nernst–Einstein relation (SI units).

Every function accepts numbers, NumPy arrays and UFL expressions of the temperature T [K] (so a law can
be evaluated in post-processing or placed inside a residual with T an unknown):

    Arrhenius:               P(T) = P0 exp(-Ea / (R T))             Ea [J/mol]
    Vogel–Fulcher–Tammann:   P(T) = A exp(-B / (T - T0))            B [K], T0 [K]; only for T > T0
    Nernst–Einstein:         u = |z| F D / (R T)                    electrical mobility [m^2/(V s)]
                             sigma = z^2 F^2 c D / (R T)            conductivity [S/m] of a species at c

P0 and A carry the unit of the property (m^2/s for a diffusivity, S/m for a conductivity, ...).
Temperatures are checked where their values are known: numbers, arrays, ``dolfinx.fem.Constant`` and
``dolfinx.fem.Function`` (all ranks); a general UFL expression cannot be checked here.

In a case file a property may be a table ``{law = "arrhenius", prefactor = ..., activation_energy = ...}``
or ``{law = "vft", prefactor = ..., pseudo_activation = ..., ideal_glass_temperature = ...}``
(:func:`property_law`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import ufl

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.errors import InputError


def _is_ufl(value) -> bool:
    return isinstance(value, ufl.core.expr.Expr)


def _exp(x):
    return ufl.exp(x) if _is_ufl(x) else np.exp(x)


def known_minimum(T) -> float | None:
    """Smallest value of T over all ranks when it is known (number, array, Constant, Function), else None."""
    if isinstance(T, (int, float, np.integer, np.floating, np.ndarray, list, tuple)):
        values = np.asarray(T, dtype=float)
        return float(values.min()) if values.size else None
    if hasattr(T, "x") and hasattr(T, "function_space"):  # dolfinx.fem.Function
        from mpi4py import MPI

        imap = T.function_space.dofmap.index_map
        owned = T.x.array[: imap.size_local * T.function_space.dofmap.index_map_bs].real
        local = float(owned.min()) if owned.size else np.inf
        return T.function_space.mesh.comm.allreduce(local, op=MPI.MIN)
    if hasattr(T, "value") and _is_ufl(T):  # dolfinx.fem.Constant
        return float(np.min(T.value))
    return None


def _check_positive(name: str, value) -> None:
    if not _is_ufl(value) and not np.all(np.asarray(value, dtype=float) > 0):
        raise InputError(name, value, "a positive number")


def check_temperature(T, key: str = "temperature", above: float = 0.0, what: str = "") -> None:
    """InputError unless every known value of T [K] is > ``above`` (see module docstring)."""
    low = known_minimum(T)
    if low is not None and not low > above:
        raise InputError(key, low, f"a temperature > {above:g} K{what}")


def arrhenius(prefactor, activation_energy, T, key: str = "temperature"):
    """P0 exp(-Ea / (R T)): ``prefactor`` P0 [unit of P], ``activation_energy`` Ea [J/mol] (>= 0), T [K]."""
    _check_positive("prefactor", prefactor)
    if not _is_ufl(activation_energy) and np.any(np.asarray(activation_energy, dtype=float) < 0):
        raise InputError("activation_energy", activation_energy, "an activation energy >= 0 in J/mol")
    check_temperature(T, key)
    return prefactor * _exp(-activation_energy / (GAS_CONSTANT * T))


def vogel_fulcher_tammann(prefactor, pseudo_activation, ideal_glass_temperature, T, key: str = "temperature"):
    """A exp(-B / (T - T0)): ``prefactor`` A [unit of P], ``pseudo_activation`` B [K] (>= 0),
    ``ideal_glass_temperature`` T0 [K]; refuses any known T <= T0 (the law diverges there)."""
    _check_positive("prefactor", prefactor)
    if np.any(np.asarray(pseudo_activation, dtype=float) < 0):
        raise InputError("pseudo_activation", pseudo_activation, "B >= 0 in K")
    T0 = float(ideal_glass_temperature)
    if not T0 >= 0:
        raise InputError("ideal_glass_temperature", ideal_glass_temperature, "T0 >= 0 in K")
    check_temperature(T, key, above=T0, what=" (above the Vogel–Fulcher–Tammann T0)")
    return prefactor * _exp(-pseudo_activation / (T - T0))


def mobility_from_diffusivity(D, charge, T):
    """Electrical mobility u = |z| F D / (R T) [m^2/(V s)] of a species with diffusivity D [m^2/s]."""
    _require_charged(charge)
    return abs(charge) * FARADAY * D / (GAS_CONSTANT * T)


def diffusivity_from_mobility(mobility, charge, T):
    """Diffusivity D = u R T / (|z| F) [m^2/s] from the electrical mobility u [m^2/(V s)]."""
    _require_charged(charge)
    return mobility * GAS_CONSTANT * T / (abs(charge) * FARADAY)


def conductivity_from_diffusivity(D, charge, concentration, T):
    """Partial conductivity sigma = z^2 F^2 c D / (R T) [S/m] (c [mol/m^3], D [m^2/s], T [K])."""
    _require_charged(charge)
    return charge ** 2 * FARADAY ** 2 * concentration * D / (GAS_CONSTANT * T)


def diffusivity_from_conductivity(sigma, charge, concentration, T):
    """Diffusivity D = sigma R T / (z^2 F^2 c) [m^2/s] of the carrier of a partial conductivity sigma [S/m]."""
    _require_charged(charge)
    _check_positive("concentration", concentration)
    return sigma * GAS_CONSTANT * T / (charge ** 2 * FARADAY ** 2 * concentration)


def _require_charged(charge) -> None:
    if charge == 0:
        raise InputError("charge", charge, "a non-zero charge number (Nernst–Einstein relation)")


LAWS = {
    "arrhenius": ("prefactor", "activation_energy"),
    "vft": ("prefactor", "pseudo_activation", "ideal_glass_temperature"),
}


def property_law(spec: Mapping, key: str = "property") -> Callable:
    """The function T -> P(T) of a case-file table ``{law = ..., <parameters>}`` (see module docstring).

    Parameters are validated here (before any solve); InputError names ``key.<parameter>``.
    """
    law = spec.get("law")
    if law not in LAWS:
        raise InputError(f"{key}.law", law, f"one of {sorted(LAWS)}")
    names = LAWS[law]
    given = set(spec) - {"law"}
    if given != set(names):
        extra = sorted(given - set(names))
        bad = extra[0] if extra else sorted(set(names) - given)[0]
        raise InputError(f"{key}.{bad}", spec.get(bad), f"exactly the parameters {list(names)} for law '{law}'")
    params = []
    for name in names:
        value = spec[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise InputError(f"{key}.{name}", value, "a finite number (SI units)")
        params.append(float(value))
    try:
        if law == "arrhenius":
            arrhenius(params[0], params[1], 1.0)
            return lambda T: arrhenius(params[0], params[1], T, key=f"{key}.temperature")
        vogel_fulcher_tammann(params[0], params[1], params[2], params[2] + 1.0)
    except InputError as err:
        raise InputError(f"{key}.{err.key}", err.value, err.expected) from None
    return lambda T: vogel_fulcher_tammann(params[0], params[1], params[2], T, key=f"{key}.temperature")
