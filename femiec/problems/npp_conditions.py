"""Boundary conditions and electrodes of the Nernst–Planck–Poisson problem (declarative, SI units).

Facets are given by facet-tag names (``MeshData.facet_names``) or integer tags. Facets without any
condition are blocking for every species (zero normal flux) and, with the Poisson closure, carry no
surface charge (zero normal field).

Every object takes an optional ``key``: where it was given, the prefix of its input errors (defaults
such as ``conditions.<species>``, ``electrodes.<name>``, ``reaction``; a case file gives
``model.conditions[<i>]``, ``model.electrodes[<i>]``, ``model.electrodes[<i>].reactions[<k>]``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from femiec.errors import InputError
from femiec.sections import is_number

KINETICS = ("butler_volmer", "marcus_hush_chidsey")


def _default_key(obj, key: str) -> None:
    """Set ``obj.key`` (a frozen dataclass) to ``key`` unless the caller gave one."""
    if obj.key is None:
        object.__setattr__(obj, "key", key)


def _facets(value, key) -> tuple:
    items = (value,) if isinstance(value, (str, int)) else tuple(value)
    if not items or not all(isinstance(f, (str, int)) and not isinstance(f, bool) for f in items):
        raise InputError(key, value, "a facet-tag name or integer tag, or a list of them")
    return items


@dataclass(frozen=True)
class FixedConcentration:
    """c_species = value [mol/m^3] on ``facets`` (Dirichlet); value: a number or a callable x -> values."""

    species: str
    facets: Any
    value: Any
    key: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        _default_key(self, f"conditions.{self.species}")
        object.__setattr__(self, "facets", _facets(self.facets, f"{self.key}.facets"))
        if not callable(self.value) and (not is_number(self.value) or self.value < 0):
            raise InputError(f"{self.key}.value", self.value,
                             "a concentration >= 0 in mol/m^3 or a callable x -> values")


@dataclass(frozen=True)
class FixedPotential:
    """phi = value [V] on ``facets`` (Dirichlet; an ideal contact without a reaction); value: a number
    or a callable x -> values."""

    facets: Any
    value: Any
    key: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        _default_key(self, "conditions.potential")
        object.__setattr__(self, "facets", _facets(self.facets, f"{self.key}.facets"))
        if not callable(self.value) and not is_number(self.value):
            raise InputError(f"{self.key}.value", self.value, "a potential in V or a callable x -> values")


@dataclass(frozen=True)
class SpeciesFlux:
    """Prescribed outward normal flux J_species . n = value [mol/(m^2 s)] on ``facets`` (a number or UFL)."""

    species: str
    facets: Any
    value: Any
    key: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        _default_key(self, f"conditions.{self.species}")
        object.__setattr__(self, "facets", _facets(self.facets, f"{self.key}.facets"))


@dataclass(frozen=True)
class Reaction:
    """Electron-transfer reaction sum nu_R R <-> sum nu_O O + n e- at an electrode.

    The anodic current density i [A/m^2] (see :mod:`femiec.forms.kinetics`) produces i nu / (n F) of every
    oxidized species and consumes i nu / (n F) of every reduced species [mol/(m^2 s)]; species absent
    from the electrolyte (a metal, the host lattice) are left out. The concentration factors are
    a_O = prod (c_O / c_ref)^nu_O and a_R = prod (c_R / c_ref)^nu_R, so the exchange current density i0
    is the one at c = c_ref and the equilibrium potential ``equilibrium_potential`` E_eq [V] the one at
    c = c_ref; the overpotential is eta = V_electrode - phi_surface - E_eq.

    Attributes:
        kinetics: "butler_volmer" or "marcus_hush_chidsey" (Zeng–Bazant closed form).
        exchange_current_density: i0 [A/m^2] at c_ref.
        oxidized, reduced: species name -> stoichiometric coefficient nu (also the reaction order).
        electrons: n; alpha_anodic, alpha_cathodic: Butler–Volmer transfer coefficients (default 1/2 and
            1 - alpha_anodic); reorganization_energy: Marcus lambda [J/mol] (needed for MHC).
        reference_concentration: c_ref [mol/m^3]; equilibrium_potential: E_eq [V].
        reaction_entropy: dS [J/(mol K)] of the oxidation, for the reversible (Peltier) reaction heat
            -i T dS/(n F) when the temperature is solved (:class:`HeatSources`).
    """

    exchange_current_density: float
    oxidized: Mapping = field(default_factory=dict)
    reduced: Mapping = field(default_factory=dict)
    kinetics: str = "butler_volmer"
    electrons: int = 1
    alpha_anodic: float = 0.5
    alpha_cathodic: float | None = None
    reorganization_energy: float | None = None
    reference_concentration: float = 1.0
    equilibrium_potential: float = 0.0
    reaction_entropy: float = 0.0
    key: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        _default_key(self, "reaction")
        if self.kinetics not in KINETICS:
            raise InputError(f"{self.key}.kinetics", self.kinetics, f"one of {list(KINETICS)}")
        if not is_number(self.exchange_current_density) or not self.exchange_current_density > 0:
            raise InputError(f"{self.key}.exchange_current_density", self.exchange_current_density,
                             "a positive current density in A/m^2")
        if self.kinetics == "marcus_hush_chidsey" and not (self.reorganization_energy or 0) > 0:
            raise InputError(f"{self.key}.reorganization_energy", self.reorganization_energy,
                             "a positive energy in J/mol for Marcus-Hush-Chidsey kinetics")
        if not is_number(self.reference_concentration) or not self.reference_concentration > 0:
            raise InputError(f"{self.key}.reference_concentration", self.reference_concentration,
                             "a positive concentration in mol/m^3")
        if not (isinstance(self.electrons, int) and self.electrons > 0):
            raise InputError(f"{self.key}.electrons", self.electrons, "a positive integer")

    def species(self) -> list[str]:
        return list(self.oxidized) + list(self.reduced)

    def production(self, name: str) -> float:
        """Moles of species ``name`` produced per mole of electrons released (anodic direction)."""
        return (self.oxidized.get(name, 0.0) - self.reduced.get(name, 0.0)) / self.electrons


@dataclass(frozen=True)
class Electrode:
    """An electronically conducting contact at a single potential V (the electrode potential).

    Exactly one of ``voltage`` [V] (potentiostatic) or ``current`` [A] (galvanostatic: the total anodic
    current sum_reactions int i ds through its facets; A/m in 2D, A/m^2 in 1D). With the Poisson closure
    the potential at the surface is phi = V, or, with a Stern layer of capacitance ``stern_capacitance``
    C_S [F/m^2], the Robin condition eps dphi/dn = C_S (V - phi). With the electroneutral closure the
    potential is set by the reactions only. An electrode without reactions is blocking.
    """

    name: str
    facets: Any
    voltage: float | None = None
    current: float | None = None
    stern_capacitance: float | None = None
    reactions: tuple = ()
    key: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        _default_key(self, f"electrodes.{self.name}")
        key = self.key
        object.__setattr__(self, "facets", _facets(self.facets, f"{key}.facets"))
        object.__setattr__(self, "reactions", tuple(self.reactions))
        for name, unit in (("voltage", "V"), ("current", "A"), ("stern_capacitance", "F/m^2")):
            value = getattr(self, name)
            if value is not None and not is_number(value):
                raise InputError(f"{key}.{name}", value, f"a number in {unit}")
        if (self.voltage is None) == (self.current is None):
            raise InputError(key, {"voltage": self.voltage, "current": self.current},
                             "exactly one of 'voltage' (V) or 'current' (A)")
        if self.current is not None and not self.reactions:
            raise InputError(f"{key}.current", self.current, "a reaction at a galvanostatic electrode")
        if self.stern_capacitance is not None and not self.stern_capacitance > 0:
            raise InputError(f"{key}.stern_capacitance", self.stern_capacitance, "a positive value in F/m^2")

    @property
    def galvanostatic(self) -> bool:
        return self.current is not None


@dataclass(frozen=True)
class ThermionicContact:
    """Thermionic emission of electrons (species ``species``, z = -1) over a Schottky barrier into the
    metal of electrode ``electrode`` (:mod:`femiec.forms.contacts`): on its facets the outward electron
    flux is J_n . n = v_n (n - n_0), v_n = A* T^2 / (q N_c), n_0 = N_c exp(-phi_B / V_T) / N_A, and the
    potential is phi = V - phi_B + V_T ln(N_c / (N_A n_ref)) (Poisson closure, the electrode without a
    Stern layer or reactions). The electrode's current is the anodic current F J_n . n.

    Attributes:
        barrier_height: phi_B [V]; richardson_constant: A* [A/(m^2 K^2)]; effective_density_of_states:
            N_c [m^-3]; reference_concentration: n_ref [mol/m^3], the electron concentration at which the
            electrons' Fermi level is at phi = 0 (the ohmic contact's n at phi = 0).
    """

    species: str
    electrode: str
    barrier_height: float
    effective_density_of_states: float
    reference_concentration: float
    richardson_constant: float = 1.20173e6
    key: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        _default_key(self, f"conditions.{self.species}")
        if not is_number(self.barrier_height):
            raise InputError(f"{self.key}.barrier_height", self.barrier_height, "a barrier height in V")
        for name, unit in (("effective_density_of_states", "m^-3"), ("reference_concentration", "mol/m^3"),
                           ("richardson_constant", "A/(m^2 K^2)")):
            value = getattr(self, name)
            if not is_number(value) or not value > 0:
                raise InputError(f"{self.key}.{name}", value, f"a positive number in {unit}")


@dataclass(frozen=True)
class HeatSources:
    """Heat sources of a Nernst–Planck–Poisson problem with a solved temperature (see
    :mod:`femiec.forms.heat`; all W/m^3 or W/m^2):

    - ``electronic_conductivity`` sigma [S/m] (number, tensor spec, mapping cell region -> spec, UFL or a
      callable T -> value): Joule heat grad(phi) . sigma grad(phi) of an electronic current driven by the
      same potential (for electrons that are not a modelled species); None: no such term.
    - ``ionic``: i . E = -i . grad(phi) with i = F sum_k z_k J_k of the modelled species.
    - ``reaction_irreversible``: eta i at every electrode reaction; ``reaction_reversible``: the Peltier
      heat -i T dS/(n F) with dS the reaction's ``reaction_entropy``.
    """

    electronic_conductivity: Any = None
    ionic: bool = True
    reaction_irreversible: bool = True
    reaction_reversible: bool = True

    def __post_init__(self):
        for key in ("ionic", "reaction_irreversible", "reaction_reversible"):
            if not isinstance(getattr(self, key), bool):
                raise InputError(f"heat_sources.{key}", getattr(self, key), "true or false")
