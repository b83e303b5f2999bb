"""Transport relations, temperature laws and the literature library: hand-computed values and refusals."""
from __future__ import annotations

import math

import numpy as np
import pytest

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.errors import InputError
from femiec.materials.library import LIBRARY, material
from femiec.materials.temperature_dependence import (arrhenius, conductivity_from_diffusivity,
                                                     vogel_fulcher_tammann)
from femiec.materials.transport import ambipolar_conductivity, haven_ratio, transference_numbers


def test_arrhenius_hand_value():
    """D0 = 1e-6 m^2/s, Ea = 50 kJ/mol, T = 800 K: exp(-50000/(8.314462618 * 800)) = exp(-7.51703...)
    = 5.43749e-4 (e^-7.5 = 5.53084e-4 times e^-0.01703 = 0.983114), so D = 5.43749e-10 m^2/s."""
    expected = 1e-6 * math.exp(-50000.0 / (8.314462618153241 * 800.0))
    assert arrhenius(1e-6, 5e4, 800.0) == pytest.approx(expected, rel=1e-14)
    assert expected == pytest.approx(5.43749e-10, rel=1e-5)


def test_vft_hand_value_and_refusal():
    """A = 1 S/m, B = 1000 K, T0 = 200 K, T = 300 K: exp(-10) = 4.539992976e-5."""
    assert vogel_fulcher_tammann(1.0, 1000.0, 200.0, 300.0) == pytest.approx(4.539992976248485e-05, rel=1e-14)
    with pytest.raises(InputError, match=r"temperature: .*above the Vogel"):
        vogel_fulcher_tammann(1.0, 1000.0, 200.0, 200.0)


def test_nernst_einstein_hand_value():
    """z = 2, c = 1000 mol/m^3, D = 1e-12 m^2/s, T = 1000 K:
    sigma = 4 F^2 c D / (R T) = 4 * 96485.33212^2 * 1e3 * 1e-12 / 8314.4626 = 4.4786e-3 S/m."""
    sigma = conductivity_from_diffusivity(1e-12, 2, 1000.0, 1000.0)
    assert sigma == pytest.approx(4 * FARADAY**2 * 1e3 * 1e-12 / (GAS_CONSTANT * 1e3), rel=1e-14)
    assert sigma == pytest.approx(4.4786e-3, rel=1e-4)


def test_haven_ratio_recovers_the_ratio():
    """D* = H D_sigma with D_sigma = sigma R T / (z^2 F^2 c): haven_ratio returns H = 0.5."""
    z, c, T, sigma = 2, 8.3e4, 1073.15, 1.0
    D_sigma = sigma * GAS_CONSTANT * T / (z * z * FARADAY**2 * c)
    assert haven_ratio(0.5 * D_sigma, sigma, z, c, T) == pytest.approx(0.5, rel=1e-14)
    with pytest.raises(InputError, match="tracer_diffusivity"):
        haven_ratio(-1.0, sigma, z, c, T)
    with pytest.raises(InputError, match="conductivity"):
        haven_ratio(1e-12, 0.0, z, c, T)


def test_ambipolar_scalar_and_tensor():
    """sigma_i = 1, sigma_e = 3: 1*3/4 = 0.75; tensors combine per principal axis when they commute."""
    assert ambipolar_conductivity(1.0, 3.0) == pytest.approx(0.75, rel=1e-15)
    amb = ambipolar_conductivity(np.diag([1.0, 2.0, 4.0]), 4.0)
    assert np.allclose(amb, np.diag([0.8, 4.0 / 3.0, 2.0]), rtol=1e-14)
    with pytest.raises(InputError, match=r"sigma_electronic: -1\.0"):
        ambipolar_conductivity(1.0, -1.0)
    with pytest.raises(InputError, match="sigma_ionic: .*symmetric"):
        ambipolar_conductivity([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], 1.0)


def test_transference_numbers():
    t = transference_numbers({"O2-": 1.0, "e-": 3.0})
    assert t == {"O2-": 0.25, "e-": 0.75}
    with pytest.raises(InputError, match=r"conductivities\.h\+: nan"):
        transference_numbers({"O2-": 1.0, "h+": float("nan")})
    with pytest.raises(InputError, match="at least one carrier"):
        transference_numbers({})


def test_library_values_and_temperature_law():
    """CGO10: 1 S/m at 773.15 K; sigma T Arrhenius with 0.64 eV gives at 1073.15 K
    1 * (773.15/1073.15) * exp(0.64 F/R (1/773.15 - 1/1073.15)) = 10.56 S/m (about 0.1 S/cm at 800 C)."""
    gdc = material("gdc10").property("ionic_conductivity")
    expected = (773.15 / 1073.15) * math.exp(0.64 * FARADAY / GAS_CONSTANT * (1 / 773.15 - 1 / 1073.15))
    assert gdc.principal_values(1073.15)[0] == pytest.approx(expected, rel=1e-13)
    assert expected == pytest.approx(10.564, rel=1e-4)
    with pytest.raises(InputError, match=r"temperature: 300\.0 \(expected a temperature within the data range"):
        gdc.principal_values(300.0)
    assert gdc.principal_values(300.0, extrapolate=True)[0] < 1e-6
    with pytest.raises(InputError, match=r"material: 'ysz'"):
        material("ysz")
    with pytest.raises(InputError, match=r"gdc10\.property: 'electronic_conductivity'"):
        material("gdc10").property("electronic_conductivity")


def test_library_anisotropic_host_rotates():
    """Graphite with its c axis rotated onto sample y (Bunge (0, 90, 0)): sigma_yy = sigma_c."""
    graphite = material("graphite")
    sigma = graphite.tensor("electronic_conductivity", 298.15, orientation={"euler": [0.0, 90.0, 0.0]})
    assert np.allclose(np.diag(sigma), [2.5e5, 3.3e2, 2.5e5], rtol=1e-12)
    a, c = graphite.property("lithium_diffusivity").values
    assert a / c > 1e5


def test_every_library_property_is_a_valid_tensor():
    for name, entry in LIBRARY.items():
        assert entry.properties, name
        for prop_name, prop in entry.properties.items():
            T = prop.temperature_ref
            assert np.linalg.eigvalsh(entry.tensor(prop_name, T))[0] > 0
            assert prop.unit in ("S/m", "m^2/s") and prop.reference
