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
