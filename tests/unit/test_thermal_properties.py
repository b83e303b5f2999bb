"""Temperature laws (Arrhenius, Vogel–Fulcher–Tammann), Nernst–Einstein relations, case-file property laws."""
from __future__ import annotations

import math

import numpy as np
import pytest
import ufl

from femiec.constants import BOLTZMANN, FARADAY, GAS_CONSTANT
from femiec.errors import InputError
from femiec.forms.soret import alpha_from_heat_of_transport
from femiec.materials.temperature_dependence import (arrhenius, conductivity_from_diffusivity,
                                                     diffusivity_from_conductivity, diffusivity_from_mobility,
                                                     mobility_from_diffusivity, property_law,
                                                     vogel_fulcher_tammann)


@pytest.mark.mpi
def test_arrhenius_hand_values(numbers):
    """Oracle (hand computation): D0 = 1e-5 m^2/s, Ea = 100 kJ/mol, T = 1000 K:
    Ea/(R T) = 1e5 / 8314.462618 = 12.027237..., exp(-12.027237) = 5.97913e-6, D = 5.97913e-11 m^2/s.
    Ea = 0 returns D0; a NumPy array of temperatures is evaluated elementwise."""
    D = arrhenius(1e-5, 1e5, 1000.0)
    numbers.record("D_1000K", D)
    assert D == pytest.approx(1e-5 * math.exp(-1e5 / (8.314462618153241 * 1000.0)), rel=1e-14)
    assert D == pytest.approx(5.97913e-11, rel=1e-5)
    assert arrhenius(2.0, 0.0, 500.0) == 2.0
    values = arrhenius(1e-5, 1e5, np.array([800.0, 1000.0]))
    assert values[1] == pytest.approx(D, rel=1e-15)
    # doubling the temperature at fixed Ea: ratio exp(Ea/(2 R T))
    assert arrhenius(1.0, 1e5, 2000.0) / arrhenius(1.0, 1e5, 1000.0) == pytest.approx(
        math.exp(1e5 / (2 * GAS_CONSTANT * 1000.0)), rel=1e-13)


@pytest.mark.mpi
def test_vft_hand_values(numbers):
    """Oracle (hand computation): A = 1e-9 m^2/s, B = 500 K, T0 = 200 K: T = 300 K gives exp(-5) A =
    6.737947e-12; T = 450 K gives exp(-2) A = 1.353353e-10 m^2/s."""
    D = vogel_fulcher_tammann(1e-9, 500.0, 200.0, np.array([300.0, 450.0]))
    numbers.record("D", D)
    assert D[0] == pytest.approx(6.737947e-12, rel=1e-6)
    assert D[1] == pytest.approx(1.353353e-10, rel=1e-6)


@pytest.mark.parametrize("T", [200.0, 150.0, np.array([300.0, 199.0])])
def test_vft_refuses_temperature_at_or_below_T0(T):
    """T <= T0 makes B/(T - T0) infinite or negative: refused with the key, the value and the bound."""
    with pytest.raises(InputError) as err:
        vogel_fulcher_tammann(1e-9, 500.0, 200.0, T)
    message = str(err.value)
    assert message.startswith("temperature: ")
    assert "> 200 K" in message and "Vogel" in message


def test_laws_refuse_bad_parameters():
    with pytest.raises(InputError, match="prefactor"):
        arrhenius(-1.0, 1e5, 300.0)
    with pytest.raises(InputError, match="activation_energy"):
        arrhenius(1.0, -1.0, 300.0)
    with pytest.raises(InputError, match="temperature: 0.0"):
        arrhenius(1.0, 1e5, 0.0)
    with pytest.raises(InputError, match="pseudo_activation"):
        vogel_fulcher_tammann(1.0, -5.0, 100.0, 300.0)


@pytest.mark.mpi
def test_laws_on_ufl_and_dolfinx_temperatures(comm):
    """The laws build UFL expressions of T; Constants and Functions are checked against T0."""
    from dolfinx import fem, mesh

    m = mesh.create_unit_interval(comm, 4)
    T = fem.Constant(m, 300.0)
    D = arrhenius(1e-5, 1e5, T)
    assert isinstance(D, ufl.core.expr.Expr)
    value = m.comm.allreduce(fem.assemble_scalar(fem.form(D * ufl.dx(domain=m))))
    assert value == pytest.approx(arrhenius(1e-5, 1e5, 300.0), rel=1e-13)
    V = fem.functionspace(m, ("Lagrange", 1))
    field = fem.Function(V)
    field.interpolate(lambda x: 250.0 + 100.0 * x[0])
    vogel_fulcher_tammann(1.0, 100.0, 240.0, field)
    with pytest.raises(InputError, match="temperature: 250"):
        vogel_fulcher_tammann(1.0, 100.0, 260.0, field)


def test_nernst_einstein_round_trips():
    """u = |z| F D/(R T), sigma = z^2 F^2 c D/(R T); each inverse recovers D. Hand value: D = 1e-9 m^2/s,
    z = 1, T = 298.15 K: u = 3.8922e-8 m^2/(V s)."""
    D, T = 1e-9, 298.15
    u = mobility_from_diffusivity(D, 1, T)
    assert u == pytest.approx(3.8922e-8, rel=1e-4)
    assert diffusivity_from_mobility(mobility_from_diffusivity(D, -2, T), -2, T) == pytest.approx(D, rel=1e-15)
    sigma = conductivity_from_diffusivity(D, 2, 1000.0, T)
    assert sigma == pytest.approx(4 * FARADAY ** 2 * 1000.0 * D / (GAS_CONSTANT * T), rel=1e-15)
    assert diffusivity_from_conductivity(sigma, 2, 1000.0, T) == pytest.approx(D, rel=1e-15)
    with pytest.raises(InputError, match="charge: 0"):
        mobility_from_diffusivity(D, 0, T)


def test_heat_of_transport():
    """alpha_T = Q*/(k_B T): Q* = 0.1 eV at 1160.45 K gives alpha_T = 1.0000 (0.1 eV / k_B = 1160.45 K)."""
    Q = 0.1 * 1.602176634e-19
    assert alpha_from_heat_of_transport(Q, 1160.4518) == pytest.approx(1.0, rel=1e-6)
    assert alpha_from_heat_of_transport(Q, 300.0) == pytest.approx(Q / (BOLTZMANN * 300.0))


def test_case_file_laws():
    law = property_law({"law": "arrhenius", "prefactor": 1e-5, "activation_energy": 1e5}, key="species.O.diffusivity")
    assert law(1000.0) == pytest.approx(arrhenius(1e-5, 1e5, 1000.0))
    vft = property_law({"law": "vft", "prefactor": 1e-9, "pseudo_activation": 500.0,
                        "ideal_glass_temperature": 200.0}, key="electrolyte.conductivity")
    with pytest.raises(InputError, match=r"^electrolyte.conductivity.temperature: 180.0"):
        vft(180.0)
    with pytest.raises(InputError, match=r"^k.law: 'power'"):
        property_law({"law": "power"}, key="k")
    with pytest.raises(InputError, match=r"^k.activation_energy: None"):
        property_law({"law": "arrhenius", "prefactor": 1.0}, key="k")
    with pytest.raises(InputError, match=r"^k.prefactor: -1.0"):
        property_law({"law": "arrhenius", "prefactor": -1.0, "activation_energy": 1.0}, key="k")
