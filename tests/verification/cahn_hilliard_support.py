"""Regular-solution parameters shared by the Cahn–Hilliard and intercalation tests (not a test module):
Omega = 3 RT at 298.15 K, interface length ell = 10 nm (kappa = RT ell^2), D = 1e-14 m^2/s,
c_max = 2.29e4 mol/m^3."""
from __future__ import annotations

from femiec.constants import GAS_CONSTANT

T = 298.15
RT = GAS_CONSTANT * T
OMEGA = 3 * RT
ELL = 1e-8
KAPPA = RT * ELL ** 2
D = 1e-14
C_MAX = 2.29e4
