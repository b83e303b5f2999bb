"""Boundary conditions of the MIEC problem (femiec.problems.miec), one dataclass per kind, SI units.

A face without an ionic condition is ion-blocking (i_ion . n = 0); a face without an electronic contact
carries no external current ((i_ion + i_el) . n = 0 besides an electrolyte transfer). A face takes at most
one ionic condition (OxygenPressure, SurfaceExchange, ElectrolyteContact) and may also be an
ElectronicContact. BlockingContact is a condition of the full-Poisson MIEC only (femiec.problems.miec_poisson).
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
class BlockingContact:
    """A contact blocking every carrier at the electrostatic potential phi = ``potential`` [V] on ``face``
    (an inert metal with no charge transfer, or a capacitor plate). Only in the full-Poisson MIEC
    (femiec.problems.miec_poisson): the electroneutral model has no electrostatic potential."""

    face: str | int
    potential: float = 0.0

    def validate(self) -> None:
        if not (isinstance(self.potential, (int, float)) and np.isfinite(self.potential)):
            raise InputError(f"conditions.{self.face}.potential", self.potential, "a finite potential [V]")


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


@dataclass
class PorousElectrode:
    """A homogenised porous MIEC (Adler-Lane-Steele) filling the mesh: solid fraction 1 - porosity, the
    pores holding a gas of pO2 = ``pressure`` [Pa] that exchanges oxygen with the solid through the
    specific surface ``specific_surface`` a [1/m] (pore-wall area per electrode volume), with the
    resistance R_s [Ohm m^2] or the exchange rate r0 [mol/(m^2 s)] of :class:`SurfaceExchange` (exactly
    one). Effective coefficients (femiec.forms.miec):

        sigma_ion_eff = (1 - eps) sigma_ion / tau,   sigma_el_eff = (1 - eps) sigma_el / tau_el   [S/m]
        storage (1 - eps) 2F dv/dt,   volumetric exchange q_x = a i_x   [A/m^3]

    with tau = ``tortuosity`` and tau_el = ``electronic_tortuosity`` (default tau)."""

    pressure: float
    specific_surface: float
    porosity: float
    tortuosity: float = 1.0
    resistance: float | None = None
    exchange_rate: float | None = None
    transfer_coefficient: float = 0.5
    electronic_tortuosity: float | None = None

    def validate(self) -> None:
        SurfaceExchange("porous", self.pressure, self.resistance, self.exchange_rate,
                        self.transfer_coefficient).validate()
        _positive("porous.specific_surface", self.specific_surface)
        if not (isinstance(self.porosity, (int, float)) and 0 < self.porosity < 1):
            raise InputError("porous.porosity", self.porosity, "a porosity between 0 and 1")
        for key in ("tortuosity", "electronic_tortuosity"):
            value = getattr(self, key)
            if value is not None and not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 1):
                raise InputError(f"porous.{key}", value, "a tortuosity >= 1")

    @property
    def ionic_factor(self) -> float:
        """(1 - eps) / tau: sigma_ion_eff / sigma_ion."""
        return (1 - self.porosity) / self.tortuosity

    @property
    def electronic_factor(self) -> float:
        """(1 - eps) / tau_el: sigma_el_eff / sigma_el."""
        return (1 - self.porosity) / (self.tortuosity if self.electronic_tortuosity is None
                                      else self.electronic_tortuosity)
