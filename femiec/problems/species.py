"""Description of a mobile charged species (declarative, SI units, no solver state).

A :class:`Species` can be shared by several problems: the problems build their own unknowns and
coefficients from it and never write to it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from femiec.errors import InputError


@dataclass(frozen=True)
class Species:
    """A mobile species (ion, vacancy, electron, hole).

    Attributes:
        name: identifier used in boundary conditions and output (``concentration_<name>``).
        charge: charge number z (e.g. +1 for Na+, -2 for O^2-, +2 for an oxygen vacancy).
        diffusivity: D [m^2/s]: a positive number, a 3x3 matrix, a symmetry-class table
            (:func:`femiec.materials.tensors.tensor_from_spec`), a mapping cell-region name -> one of
            those (values per subdomain), or a UFL expression built by the caller (e.g. of x).
            A callable T -> value (e.g. ``property_law(...)`` or ``lambda T: arrhenius(D0, Ea, T)``) is
            evaluated with the problem's temperature T [K] (UFL), so D follows a non-uniform or solved T;
            a callable (T, c) -> value also receives the species' own concentration c [mol/m^3] (UFL),
            for a concentration-dependent D, e.g. ``lambda T, c: D0 * (1 + beta * c)``.
        initial: initial concentration [mol/m^3]: a positive number, or a callable x -> values with x of
            shape (3, n) (as ``dolfinx.fem.Function.interpolate`` expects).
        alpha_T: Soret thermal diffusion ratio alpha_T [-] (a number or a callable T -> value); the flux
            gains -D alpha_T c grad(ln T) (alpha_T > 0: the species moves to the cold side).
        heat_of_transport: Q* [J per particle], instead of ``alpha_T``: alpha_T = Q*/(k_B T).
        key: where the species was given, the prefix of its input errors (default ``species.<name>``; a
            case file gives ``model.species[<i>]``).
    """

    name: str
    charge: float
    diffusivity: Any
    initial: float | Callable = 0.0
    alpha_T: float | Callable | None = None
    heat_of_transport: float | None = None
    key: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise InputError(f"{self.key or 'species'}.name", self.name,
                             "an identifier (letters, digits, underscores)")
        if self.key is None:
            object.__setattr__(self, "key", f"species.{self.name}")
        if isinstance(self.charge, bool) or not isinstance(self.charge, (int, float, np.integer, np.floating)):
            raise InputError(f"{self.key}.charge", self.charge, "a number (charge number z)")
        if not callable(self.initial):
            value = self.initial
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise InputError(f"{self.key}.initial", value,
                                 "a concentration >= 0 in mol/m^3 or a callable x -> values")
        if self.alpha_T is not None and self.heat_of_transport is not None:
            raise InputError(f"{self.key}.heat_of_transport", self.heat_of_transport,
                             "either 'alpha_T' or 'heat_of_transport', not both")
        if self.alpha_T is not None and not callable(self.alpha_T) and not _finite_number(self.alpha_T):
            raise InputError(f"{self.key}.alpha_T", self.alpha_T,
                             "a finite number (thermal diffusion ratio) or a callable T -> value")
        if self.heat_of_transport is not None and not _finite_number(self.heat_of_transport):
            raise InputError(f"{self.key}.heat_of_transport", self.heat_of_transport,
                             "a finite number in J per particle")

    @property
    def concentration_dependent(self) -> bool:
        """True when ``diffusivity`` is a callable (T, c) -> D (two required positional parameters)."""
        import inspect

        import ufl

        if not callable(self.diffusivity) or isinstance(self.diffusivity, ufl.core.expr.Expr):
            return False
        try:
            parameters = inspect.signature(self.diffusivity).parameters.values()
        except (TypeError, ValueError):  # a builtin or extension callable: a function of T
            return False
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return sum(p.kind in positional and p.default is inspect.Parameter.empty for p in parameters) == 2

    def reference_concentration(self) -> float | None:
        """The initial value when it is a number (used to choose scales), else None."""
        return None if callable(self.initial) else float(self.initial)

    @property
    def thermodiffusive(self) -> bool:
        """True when the species has a Soret term (alpha_T or a heat of transport)."""
        return self.alpha_T is not None or self.heat_of_transport is not None

    def thermal_diffusion_ratio(self, T):
        """alpha_T [-] at temperature T [K] (number or UFL); 0 without a Soret term."""
        from femiec.forms.soret import alpha_from_heat_of_transport

        if self.heat_of_transport is not None:
            return alpha_from_heat_of_transport(self.heat_of_transport, T)
        if self.alpha_T is None:
            return 0.0
        return self.alpha_T(T) if callable(self.alpha_T) else float(self.alpha_T)

    def diffusivity_by_region(self) -> Mapping | None:
        """The per-region mapping when the diffusivity is given per cell region, else None."""
        return self.diffusivity if isinstance(self.diffusivity, Mapping) and "symmetry" not in self.diffusivity \
            else None


def _finite_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating)) \
        and bool(np.isfinite(value))
