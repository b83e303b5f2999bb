"""Boundary conditions of the MIEC problem (femiec.problems.miec), one dataclass per kind, SI units.

A face without an ionic condition is ion-blocking (i_ion . n = 0); a face without an electronic contact
carries no external current ((i_ion + i_el) . n = 0 besides an electrolyte transfer). A face takes at most
one ionic condition (OxygenPressure, SurfaceExchange, ElectrolyteContact) and may also be an
ElectronicContact.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femiec.errors import InputError


def _positive(key: str, value) -> None:
    if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
        raise InputError(key, value, "a positive number (SI units)")


@dataclass
class ElectronicContact:
    """An electron-reversible (ion-blocking unless combined) metal contact: psi_el = voltage [V] on ``face``."""

    face: str | int
    voltage: float = 0.0

    def validate(self) -> None:
        if not (isinstance(self.voltage, (int, float)) and np.isfinite(self.voltage)):
            raise InputError(f"conditions.{self.face}.voltage", self.voltage, "a finite voltage [V]")


@dataclass
class OxygenPressure:
    """Infinitely fast surface exchange: the MIEC at ``face`` is in equilibrium with pO2 = pressure [Pa]
    (u = ln(n(pO2) / n_ref), a Dirichlet condition)."""

    face: str | int
    pressure: float

    def validate(self) -> None:
        _positive(f"conditions.{self.face}.pressure", self.pressure)


@dataclass
class SurfaceExchange:
    """Surface exchange with a gas of pO2 = pressure [Pa] on ``face``: linear with the resistance R_s
    [Ohm m^2], or Butler-Volmer-like with the exchange rate r0 [mol/(m^2 s)] and the transfer coefficient
    alpha (femiec.forms.miec); exactly one of ``resistance`` and ``exchange_rate``."""

    face: str | int
    pressure: float
    resistance: float | None = None
    exchange_rate: float | None = None
    transfer_coefficient: float = 0.5

    def validate(self) -> None:
        _positive(f"conditions.{self.face}.pressure", self.pressure)
        if (self.resistance is None) == (self.exchange_rate is None):
            raise InputError(f"conditions.{self.face}.resistance", self.resistance,
                             "either a resistance [Ohm m^2] or an exchange_rate [mol/(m^2 s)], not both")
        _positive(f"conditions.{self.face}." + ("resistance" if self.exchange_rate is None else "exchange_rate"),
                  self.resistance if self.exchange_rate is None else self.exchange_rate)
        if not 0 < self.transfer_coefficient < 1:
            raise InputError(f"conditions.{self.face}.transfer_coefficient", self.transfer_coefficient,
                             "a number between 0 and 1")


@dataclass
class ElectrolyteContact:
    """Oxide-ion transfer into an electrolyte at the ionic potential ``potential`` [V]:
    i_ion . n = (psi_ion - potential) / resistance, resistance [Ohm m^2]."""

    face: str | int
    potential: float
    resistance: float

    def validate(self) -> None:
        if not (isinstance(self.potential, (int, float)) and np.isfinite(self.potential)):
            raise InputError(f"conditions.{self.face}.potential", self.potential, "a finite potential [V]")
        _positive(f"conditions.{self.face}.resistance", self.resistance)


IONIC_CONDITIONS = (OxygenPressure, SurfaceExchange, ElectrolyteContact)
