"""The gas diffusivities of femiec.forms.gas_diffusion against numbers computed by hand from their formulas
(100 nm pores at 1073 K and 1 bar; R = 8.314462618 J/(mol K), M_O2 = 31.998 g/mol, M_N2 = 28.014 g/mol):

- mean molecular speed sqrt(8 R T / (pi M_O2)) = 842.61 m/s, D_K = (1e-7 / 3) 842.61 = 2.8087e-5 m^2/s;
- Fuller: M_12 = 2 / (1/31.998 + 1/28.014) = 29.874 g/mol, (16.3^(1/3) + 18.5^(1/3))^2 = 26.835,
  1073^1.75 = 2.01164e5, D_12 = 0.00143 * 2.01164e5 / (sqrt(29.874) * 26.835) cm^2/s = 1.9613e-4 m^2/s;
  at 293 K 0.2023 cm^2/s (measured O2-N2: 0.20-0.21 cm^2/s, Marrero & Mason 1972);
- Bosanquet: D_eff = 1 / (1/1.9613e-4 + 1/2.8087e-5) = 2.4569e-5 m^2/s (Knudsen-dominated: 0.125 D_12);
- c_t = 1e5 / (8.314462618 * 1073) = 11.209 mol/m^3; the T^1.75 / p scaling of a given D_12.
Hand numbers carry 5 digits: asserted to 1e-4.
"""
from __future__ import annotations

import math

import pytest

from femiec.errors import InputError
from femiec.forms import gas_diffusion as gas

T, P = 1073.0, 1e5


def test_knudsen_fuller_bosanquet():
    assert gas.knudsen_diffusivity(1e-7, T) == pytest.approx(2.8087e-5, rel=1e-4)
    assert gas.fuller_diffusivity(T, P) == pytest.approx(1.9613e-4, rel=1e-4)
    assert gas.fuller_diffusivity(293.0, P) == pytest.approx(0.2023e-4, rel=1e-3)
    assert gas.fuller_diffusivity(T, 2 * P) == pytest.approx(1.9613e-4 / 2, rel=1e-4)
    d_eff = gas.bosanquet_diffusivity(gas.fuller_diffusivity(T, P), gas.knudsen_diffusivity(1e-7, T))
    assert d_eff == pytest.approx(2.4569e-5, rel=1e-4)
    assert gas.bosanquet_diffusivity(1.9613e-4, math.inf) == 1.9613e-4
    assert gas.total_concentration(P, T) == pytest.approx(11.209, rel=1e-4)


def test_scaled_diffusivity_and_refusal():
    """A D_12 = 0.2023 cm^2/s given at 293 K, 1 bar scales to the Fuller value at 1073 K (the same law)."""
    scaled = gas.scaled_diffusivity(gas.fuller_diffusivity(293.0, P), T, 0.5 * P, 293.0, P)
    assert scaled == pytest.approx(2 * gas.fuller_diffusivity(T, P), rel=1e-12)
    assert gas.wall_oxygen_flux(4 * 96485.33212331001) == pytest.approx(1.0, rel=1e-15)
    with pytest.raises(InputError, match="flux_law"):
        gas.oxygen_flux(None, 1.0, 1.0, 1.0, law="maxwell")
