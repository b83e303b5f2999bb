"""Literature transport properties of a few electrochemical materials (SI units; table in docs/materials.md).

Each property is stored as its crystal-frame principal values at a reference temperature, the symmetry
class, and (when the source gives one) an Arrhenius temperature law

    K(T) = K(T_ref) (T / T_ref)^n exp(-Ea/R (1/T - 1/T_ref)),

where n = -1 is the "sigma T" form of hopping ionic conductors (sigma T = A exp(-Ea/(R T))) and n = 0 the
plain form. Evaluating outside the temperature range of the data raises InputError unless
``extrapolate=True``. ``confidence`` states how closely a value follows its source: "measured" (value read
from the cited measurement) or "representative" (a typical value of the cited body of data; check the
source before quantitative use).

Example::

    from femiec.materials.library import material
    sigma = material("graphite").tensor("electronic_conductivity", 298.15,
                                        orientation={"euler": [0, 90, 0]})
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from femiec.constants import FARADAY
from femiec.errors import InputError
from femiec.materials.tensors import SYMMETRY_VALUES, tensor_from_spec


@dataclass(frozen=True)
class LiteratureProperty:
    """One transport property from the literature (see module docstring).

    Attributes:
        symmetry: symmetry class of ``values`` (see :mod:`femiec.materials.tensors`).
        values: crystal-frame principal values at ``temperature_ref`` in ``unit``.
        unit: SI unit ("S/m", "m^2/s").
        temperature_ref: reference temperature [K].
        temperature_range: (T_min, T_max) [K] of the data.
        reference: the source.
        activation_energy: Ea [J/mol] (0: no temperature dependence given by the source).
        temperature_exponent: n in the prefactor (T/T_ref)^n.
        confidence: "measured" or "representative".
        note: conditions (atmosphere, microstructure, composition).
    """

    symmetry: str
    values: tuple[float, ...]
    unit: str
    temperature_ref: float
    temperature_range: tuple[float, float]
    reference: str
    activation_energy: float = 0.0
    temperature_exponent: float = 0.0
    confidence: str = "measured"
    note: str = ""

    def __post_init__(self):
        assert len(self.values) == SYMMETRY_VALUES[self.symmetry]
        assert self.temperature_range[0] <= self.temperature_ref <= self.temperature_range[1]

    def principal_values(self, temperature: float, extrapolate: bool = False, key: str = "temperature"):
        """Crystal-frame values at ``temperature`` [K] (see module docstring)."""
        from femiec.materials.temperature_dependence import arrhenius

        low, high = self.temperature_range
        if not extrapolate and not low <= temperature <= high:
            raise InputError(key, temperature, f"a temperature within the data range {low:g}-{high:g} K "
                                               f"({self.reference}); pass extrapolate=True to go beyond")
        factor = (temperature / self.temperature_ref) ** self.temperature_exponent * (
            arrhenius(1.0, self.activation_energy, temperature, key=key)
            / arrhenius(1.0, self.activation_energy, self.temperature_ref))
        return [v * float(factor) for v in self.values]

    def spec(self, temperature: float, orientation: dict | None = None, extrapolate: bool = False) -> dict:
        """A tensor spec ``{"symmetry", "values"[, "orientation"]}`` at ``temperature`` (for case files and
        :func:`femiec.materials.tensors.tensor_from_spec`)."""
        spec = {"symmetry": self.symmetry, "values": self.principal_values(temperature, extrapolate)}
        if orientation is not None:
            spec["orientation"] = orientation
        return spec


@dataclass(frozen=True)
class Material:
    """A named material and its literature properties (name -> LiteratureProperty)."""

    name: str
    description: str
    properties: dict[str, LiteratureProperty] = field(default_factory=dict)

    def property(self, name: str) -> LiteratureProperty:
        if name not in self.properties:
            raise InputError(f"{self.name}.property", name, f"one of {sorted(self.properties)}")
        return self.properties[name]

    def tensor(self, name: str, temperature: float, orientation: dict | None = None,
               extrapolate: bool = False) -> np.ndarray:
        """Sample-frame 3x3 tensor of property ``name`` at ``temperature`` [K], rotated by ``orientation``
        (an orientation table, see :func:`femiec.materials.orientation.rotation_from_spec`)."""
        spec = self.property(name).spec(temperature, orientation, extrapolate)
        return tensor_from_spec(spec, key=f"{self.name}.{name}")


_EV = FARADAY  # J/mol per eV per particle

LIBRARY: dict[str, Material] = {
    "gdc10": Material(
        "gdc10", "Ce0.9Gd0.1O1.95 (CGO10), gadolinia-doped ceria: oxide-ion conductor in air",
        {"ionic_conductivity": LiteratureProperty(
            "cubic", (1.0,), "S/m", 773.15, (773.15, 1073.15),
            "B. C. H. Steele, Solid State Ionics 129 (2000) 95-110",
            activation_energy=0.64 * _EV, temperature_exponent=-1.0, confidence="representative",
            note="0.01 S/cm at 500 C (Steele 2000); sigma T Arrhenius with Ea = 0.64 eV, typical of dense "
                 "CGO10 between 500 and 800 C (see also Mogensen et al., Solid State Ionics 129 (2000) 63)")},
    ),
    "lscf6428": Material(
        "lscf6428", "La0.6Sr0.4Co0.2Fe0.8O3-d (LSCF6428): mixed ionic-electronic conductor in air",
        {"electronic_conductivity": LiteratureProperty(
            "cubic", (3.0e4,), "S/m", 1073.15, (873.15, 1073.15),
            "L.-W. Tai et al., Solid State Ionics 76 (1995) 273-283",
            confidence="representative",
            note="about 300 S/cm in air, nearly constant between 600 and 800 C (maximum near 550 C); p-type "
                 "small-polaron conduction, falls with oxygen loss at low pO2"),
         "ionic_conductivity": LiteratureProperty(
            "cubic", (1.0,), "S/m", 1073.15, (873.15, 1073.15),
            "V. Thoreton et al., J. Electrochem. Soc. 169 (2022) 044513 (activation enthalpy)",
            activation_energy=1.61 * _EV, temperature_exponent=-1.0, confidence="representative",
            note="order of magnitude 1e-2 S/cm at 800 C in air; temperature law from the lattice oxygen "
                 "tracer diffusion activation enthalpy 1.61 eV with Nernst-Einstein (sigma ~ D*/T)")},
    ),
    "graphite": Material(
        "graphite", "Graphite (hexagonal, c axis normal to the graphene layers)",
        {"electronic_conductivity": LiteratureProperty(
            "hexagonal", (2.5e5, 3.3e2), "S/m", 298.15, (298.15, 298.15),
            "H. O. Pierson, Handbook of Carbon, Graphite, Diamond and Fullerenes, Noyes (1993), ch. 3",
            confidence="representative",
            note="room-temperature resistivity of well-ordered graphite: about 4e-6 Ohm m in the basal "
                 "plane, 3e-3 Ohm m along c (anisotropy ~1e3)"),
         "lithium_diffusivity": LiteratureProperty(
            "hexagonal", (4.4e-10, 8.7e-16), "m^2/s", 298.15, (298.15, 298.15),
            "K. Persson et al., J. Phys. Chem. Lett. 1 (2010) 1176-1180",
            confidence="representative",
            note="Li in LiC6-range graphite, HOPG measurement and first-principles: fast in-plane diffusion, "
                 "orders of magnitude slower along c (through defects/grain boundaries)")},
    ),
}


def material(name: str) -> Material:
    """The library material ``name`` (InputError naming the known materials otherwise)."""
    if name not in LIBRARY:
        raise InputError("material", name, f"one of {sorted(LIBRARY)}")
    return LIBRARY[name]
