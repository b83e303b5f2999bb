"""Description of a mobile charged species (declarative, SI units, no solver state).

A :class:`Species` can be shared by several problems: the problems build their own unknowns and
coefficients from it and never write to it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
            those (values per subdomain), or a UFL expression (e.g. concentration- or temperature-
            dependent; built by the caller).
        initial: initial concentration [mol/m^3]: a positive number, or a callable x -> values with x of
            shape (3, n) (as ``dolfinx.fem.Function.interpolate`` expects).
    """

    name: str
    charge: float
    diffusivity: Any
    initial: float | Callable = 0.0

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise InputError("species.name", self.name, "an identifier (letters, digits, underscores)")
        if isinstance(self.charge, bool) or not isinstance(self.charge, (int, float, np.integer, np.floating)):
            raise InputError(f"species.{self.name}.charge", self.charge, "a number (charge number z)")
        if not callable(self.initial):
            value = self.initial
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise InputError(f"species.{self.name}.initial", value,
                                 "a concentration >= 0 in mol/m^3 or a callable x -> values")

    @property
    def key(self) -> str:
        return f"species.{self.name}"

    def reference_concentration(self) -> float | None:
        """The initial value when it is a number (used to choose scales), else None."""
        return None if callable(self.initial) else float(self.initial)

    def diffusivity_by_region(self) -> Mapping | None:
        """The per-region mapping when the diffusivity is given per cell region, else None."""
        return self.diffusivity if isinstance(self.diffusivity, Mapping) and "symmetry" not in self.diffusivity \
            else None
