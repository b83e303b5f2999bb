"""Reference scales of the Nernst–Planck–Poisson problem (internal nondimensionalization).

Users give and get SI quantities; internally the unknowns are dimensionless and every equation is divided
by its natural size, so that Newton's method and its stopping tests see numbers of order one:

    c = c_ref c~ (or c = c_ref exp(w) with log-concentration unknowns),   phi = V_T phi~,   V_T = R T / F,
    x = L x~,   t = t_ref t~,   t_ref = L^2 / D_ref,
    Nernst–Planck rows divided by D_ref c_ref L^(d-2) [mol/s in 3D],
    Poisson rows divided by F c_ref L^d [C in 3D],

which turns the Poisson equation into -div(eps~ grad~ phi~) (lambda_D / L)^2 2 = sum_i z_i c~_i + rho~ with
the Debye length lambda_D = sqrt(eps_ref R T / (2 F^2 c_ref)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.errors import InputError


@dataclass(frozen=True)
class Scaling:
    """Reference scales (SI): length [m], concentration [mol/m^3], temperature [K], diffusivity
    [m^2/s], permittivity [F/m]; ``dim`` is the mesh's topological dimension."""

    length: float
    concentration: float
    temperature: float
    diffusivity: float
    permittivity: float
    dim: int

    def __post_init__(self):
        for key in ("length", "concentration", "temperature", "diffusivity", "permittivity"):
            value = getattr(self, key)
            if not (np.isfinite(value) and value > 0):
                raise InputError(f"scaling.{key}", value, "a positive number (SI units)")

    @property
    def potential(self) -> float:
        """Thermal voltage R T / F [V]."""
        return GAS_CONSTANT * self.temperature / FARADAY

    @property
    def time(self) -> float:
        """Diffusion time L^2 / D_ref [s]."""
        return self.length ** 2 / self.diffusivity

    @property
    def debye_length(self) -> float:
        """lambda_D = sqrt(eps_ref R T / (2 F^2 c_ref)) [m] (1:1 electrolyte at c_ref)."""
        return float(np.sqrt(self.permittivity * self.potential / (2 * FARADAY * self.concentration)))

    @property
    def transport_residual(self) -> float:
        """Size of one Nernst–Planck row, D_ref c_ref L^(d-2) [mol/s in 3D]."""
        return self.diffusivity * self.concentration * self.length ** (self.dim - 2)

    @property
    def charge_residual(self) -> float:
        """Size of one Poisson row, F c_ref L^d [C in 3D]."""
        return FARADAY * self.concentration * self.length ** self.dim

    @property
    def current_density(self) -> float:
        """F D_ref c_ref / L [A/m^2]."""
        return FARADAY * self.diffusivity * self.concentration / self.length
