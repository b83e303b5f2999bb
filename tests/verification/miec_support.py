"""The constant-K acceptor-doped ceria shared by the MIEC transport and cell tests (not a test module).

A = 4000 mol/m^3, K_red = 2e-7 (mol/m^3)^3, K_e = 1e-8 (mol/m^3)^2 (no temperature dependence),
u_V = 2.6e-9, u_n = u_p = 1e-6 m^2/(V s): sigma_ion = sigma_el near pO2 = 1e-17 Pa at T = 1000 K.
"""
from __future__ import annotations

from femiec.materials.defects import DefectChemistry

CERIA = DefectChemistry(acceptor=4000.0, reduction_prefactor=2e-7, reduction_enthalpy=0.0,
                        intrinsic_prefactor=1e-8, intrinsic_enthalpy=0.0, vacancy_mobility=2.6e-9,
                        electron_mobility=1e-6, hole_mobility=1e-6, name="ceria, constant K")
#: its temperature in the tests [K]
T_CERIA = 1000.0

#: the ceria as the [model.material] table of a case file, its electron mobility [m^2/(V s)] left to
#: ``.format(electron_mobility=...)`` (1e-6: CERIA)
CERIA_TABLE = """
[model.material]
acceptor = 4000.0
reduction_prefactor = 2.0e-7
intrinsic_prefactor = 1.0e-8
vacancy_mobility = 2.6e-9
electron_mobility = {electron_mobility}
hole_mobility = 1.0e-6
"""

#: the case file (``mixed_conductor``, no [time]: steady) of a ceria membrane at T_CERIA, 1 mm in 20 cells,
#: from uniform equilibrium at 1e-17 Pa: a fixed 1e-16 Pa and the electronic contact on xmin, a surface
#: exchange with 1e-18 Pa on xmax (k_chem = 1e-5 m/s)
MEMBRANE = f"""
[case]
name = "membrane"

[mesh]
kind = "box"
lengths = [1.0e-3]
cells = [20]

[model]
kind = "mixed_conductor"
temperature = {T_CERIA!r}
oxygen_pressure = 1.0e-17
conditions = [
  {{ type = "electronic_contact", facet = "xmin" }},
  {{ type = "oxygen_pressure", facet = "xmin", pressure = 1.0e-16 }},
  {{ type = "surface_exchange", facet = "xmax", pressure = 1.0e-18, k_chem = 1.0e-5 }},
]
""" + CERIA_TABLE.format(electron_mobility=1e-6)
