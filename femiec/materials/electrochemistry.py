"""Parameter sets of the resolved electrode (SI units), kept apart from the models that use them.

Each set is a typed case-file table (:class:`femiec.sections.Section`): the same class is read from a
case file (``[model.electrolyte]``, ``[model.active_material]``, ...) and taken by
:class:`femiec.problems.electrode.ElectrodeProblem`. A set is given in full, or by the name of a library
entry with its source (``electrolyte = "LiPF6_EC_EMC_Nyman2008"``); :func:`electrolyte` and
:func:`active_material` resolve either form. The defaults of each class are round orders of magnitude
(the demos' values), not data of one material.

Library entries (``ELECTROLYTES``, ``ACTIVE_MATERIALS``) hold constant values: a source's
concentration-dependent fit is evaluated at the reference state stated in the entry's note.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from femiec.sections import PositiveFloat, Section, TensorSpec, interval
from femiec.errors import InputError

Fraction = interval(0, 1, closed="left")
OpenFraction = interval(0, 1)
Porosity = interval(0, 1, closed="right")
BruggemanExponent = interval(0, 10, closed="both")


class Electrolyte(Section):
    """Binary 1:1 electrolyte: concentration c_ref [mol/m^3] (initial and reference), salt diffusivity D
    [m^2/s], conductivity kappa [S/m], cation transference number t+ and thermodynamic factor
    f_TD = 1 + dln f/dln c (-)."""

    concentration: PositiveFloat = 1000.0
    diffusivity: PositiveFloat = 3.0e-10
    conductivity: PositiveFloat = 1.0
    transference_number: Fraction = 0.38
    thermodynamic_factor: PositiveFloat = 1.0


class OcvTable(Section):
    """Open-circuit voltage U(x) [V vs Li/Li+] as a table of stoichiometries x = c_s/c_max (strictly
    increasing) and voltages that do not rise with x (dU/dx <= 0 for an intercalation host), interpolated
    with ``kind`` (:mod:`femiec.materials.ocv`)."""

    stoichiometry: Annotated[list[float], Field(min_length=2)]
    voltage: Annotated[list[float], Field(min_length=2)]
    kind: Literal["pchip", "linear"] = "pchip"

    def curve(self):
        """The :class:`femiec.materials.ocv.OpenCircuitVoltage` of this table."""
        from femiec.materials.ocv import OpenCircuitVoltage

        return OpenCircuitVoltage(self.stoichiometry, self.voltage, self.kind)

    @model_validator(mode="after")
    def _valid_curve(self):
        try:
            self.curve()
        except InputError as exc:  # names ocv.<key>: make it relative to this table
            raise InputError(f"value.{exc.key.removeprefix('ocv.')}", exc.value, exc.expected) from None
        return self


class ActiveMaterial(Section):
    """Intercalation material: c_max [mol/m^3], solid diffusivity D_s [m^2/s] (number, 3x3 matrix or
    symmetry table), electronic conductivity sigma [S/m], open-circuit curve ``ocv`` (a table; default
    :data:`femiec.materials.ocv.NMC_LIKE_OCV`), i0_ref [A/m^2] (the exchange current density at c = c_ref
    and c_s = c_max/2), transfer coefficient alpha, kinetics ("butler_volmer" or "marcus_hush_chidsey"
    with reorganization_energy [J/mol]), initial stoichiometry x0 = c_s/c_max and the stoichiometry window
    [x_min, x_max] that defines the capacity (1C = F c_max (x_max - x_min) V_active per hour)."""

    max_concentration: PositiveFloat = 51555.0
    diffusivity: TensorSpec = 1.0e-14
    conductivity: PositiveFloat = 0.1
    ocv: OcvTable | None = None
    exchange_current_density: PositiveFloat = 2.0
    transfer_coefficient: OpenFraction = 0.5
    kinetics: Literal["butler_volmer", "marcus_hush_chidsey"] = "butler_volmer"
    reorganization_energy: PositiveFloat | None = None
    initial_stoichiometry: OpenFraction = 0.4
    stoichiometry_window: tuple[float, float] = (0.4, 0.98)

    @model_validator(mode="after")
    def _consistent(self):
        lo, hi = self.stoichiometry_window
        if not 0 <= lo < hi <= 1:
            raise InputError("value.stoichiometry_window", list(self.stoichiometry_window),
                             "[x_min, x_max] with 0 <= x_min < x_max <= 1")
        if self.kinetics == "marcus_hush_chidsey" and self.reorganization_energy is None:
            raise InputError("value.reorganization_energy", None,
                             "a positive reorganization energy in J/mol (Marcus–Hush–Chidsey kinetics)")
        return self

    def open_circuit_voltage(self):
        """U(x) as :class:`femiec.materials.ocv.OpenCircuitVoltage` (the NMC-like default without a table)."""
        from femiec.materials.ocv import NMC_LIKE_OCV, OpenCircuitVoltage

        return OpenCircuitVoltage(*NMC_LIKE_OCV) if self.ocv is None else self.ocv.curve()


class PorousSeparator(Section):
    """Porous separator layer: cell regions filled with electrolyte at porosity eps (-), effective
    transport kappa eps^b and D eps^b (Bruggeman exponent b, -), salt storage eps c. The regions belong to
    the electrolyte phase; the applied current enters at the separator facets on their outer face and
    spreads through the layer, as it does through a real separator."""

    regions: list[str] = Field(default_factory=list)
    porosity: Porosity = 0.4
    bruggeman_exponent: BruggemanExponent = 1.5


class DoubleLayer(Section):
    """Full Poisson electrolyte (cation, anion, electrostatic potential) with a Stern layer on the
    interface: relative permittivity eps_r (-), Stern-layer capacitance C_S [F/m^2], potential of zero
    charge phi_pzc [V] (the phi_s - phi at which the interface carries no charge; default: its value in
    the initial equilibrium state, U(x0), so the run starts uncharged)."""

    relative_permittivity: PositiveFloat = 20.0
    stern_capacitance: PositiveFloat = 0.1
    potential_of_zero_charge: Annotated[float, Field(allow_inf_nan=False)] | None = None


# ------------------------------------------------------------------------------------------- library
@dataclass(frozen=True)
class LibraryEntry:
    """A named parameter set with its source and the conditions its constant values hold for."""

    parameters: Section
    source: str
    note: str


def nmc811_ocv_chen2020(x):
    """U(x) [V vs Li/Li+] of LG M50 NMC811, the fit of Chen et al., J. Electrochem. Soc. 167 (2020) 080534:
    U = -0.8090 x + 4.4875 - 0.0428 tanh(18.5138 (x - 0.5542)) - 17.7326 tanh(15.7890 (x - 0.3117))
        + 17.5842 tanh(15.9308 (x - 0.3120))."""
    x = np.asarray(x, dtype=float)
    return (-0.8090 * x + 4.4875 - 0.0428 * np.tanh(18.5138 * (x - 0.5542))
            - 17.7326 * np.tanh(15.7890 * (x - 0.3117)) + 17.5842 * np.tanh(15.9308 * (x - 0.3120)))


_CHEN2020 = "C.-H. Chen, F. Brosa Planella et al., J. Electrochem. Soc. 167 (2020) 080534"
_OCV_POINTS = np.linspace(0.25, 0.95, 29)

ELECTROLYTES: dict[str, LibraryEntry] = {
    "LiPF6_EC_EMC_Nyman2008": LibraryEntry(
        Electrolyte(concentration=1000.0, diffusivity=1.7694e-10, conductivity=0.9487, transference_number=0.2594,
                    thermodynamic_factor=1.0),
        "A. Nyman, M. Behm, G. Lindbergh, Electrochim. Acta 53 (2008) 6356-6365 (LiPF6 in EC:EMC 3:7)",
        "the fits D(c) = 8.794e-11 c^2 - 3.972e-10 c + 4.862e-10 m^2/s and kappa(c) = 0.1297 c^3 - 2.51 c^1.5 "
        "+ 3.329 c S/m (c in mol/L) at c = 1 mol/L, 25 C; t+ = 0.2594; thermodynamic factor 1 as in "
        + _CHEN2020),
}

ACTIVE_MATERIALS: dict[str, LibraryEntry] = {
    "NMC811_Chen2020": LibraryEntry(
        ActiveMaterial(max_concentration=63104.0, diffusivity=4.0e-15, conductivity=0.18,
                       ocv=OcvTable(stoichiometry=_OCV_POINTS.tolist(),
                                    voltage=nmc811_ocv_chen2020(_OCV_POINTS).tolist()),
                       exchange_current_density=3.4123, transfer_coefficient=0.5, kinetics="butler_volmer",
                       initial_stoichiometry=0.2661, stoichiometry_window=(0.2661, 0.9084)),
        _CHEN2020 + " (LG M50 positive electrode)",
        "i0 = 3.42e-6 c^0.5 c_s^0.5 (c_max - c_s)^0.5 A/m^2 evaluated at c = 1000 mol/m^3, c_s = c_max/2; "
        "stoichiometry window 0.2661 (100% SOC) to 0.9084 (0% SOC); OCV fit tabulated at 29 points in "
        "[0.25, 0.95] (PCHIP); 25 C"),
}


def _resolve(cls, library: dict[str, LibraryEntry], spec, key: str):
    if isinstance(spec, str):
        if spec not in library:
            raise InputError(key, spec, f"a table of {cls.__name__} keys or a library name: {', '.join(library)}")
        return library[spec].parameters.model_copy(deep=True)
    return cls.parse(spec, key)


def electrolyte(spec=None, key: str = "model.electrolyte") -> Electrolyte:
    """An :class:`Electrolyte` from None (defaults), an instance, a mapping or a name in ``ELECTROLYTES``."""
    return _resolve(Electrolyte, ELECTROLYTES, spec, key)


def active_material(spec=None, key: str = "model.active_material") -> ActiveMaterial:
    """An :class:`ActiveMaterial` from None (defaults), an instance, a mapping or a name in
    ``ACTIVE_MATERIALS``."""
    return _resolve(ActiveMaterial, ACTIVE_MATERIALS, spec, key)
