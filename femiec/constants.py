"""Physical constants (CODATA 2018 exact SI values) used throughout femiec."""
from __future__ import annotations

#: Faraday constant F [C/mol]
FARADAY = 96485.33212331001
#: Molar gas constant R [J/(mol K)]
GAS_CONSTANT = 8.314462618153241
#: Boltzmann constant k_B [J/K]
BOLTZMANN = 1.380649e-23
#: Elementary charge e [C]
ELEMENTARY_CHARGE = 1.602176634e-19
#: Avogadro constant N_A [1/mol]
AVOGADRO = 6.02214076e23
#: Vacuum permittivity eps_0 [F/m] (CODATA 2018)
VACUUM_PERMITTIVITY = 8.8541878128e-12


def thermal_voltage(temperature: float) -> float:
    """Thermal voltage V_T = R T / F [V] at temperature T [K]."""
    return GAS_CONSTANT * temperature / FARADAY
