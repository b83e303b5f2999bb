"""UFL heat and Soret forms: Joule heat (scalar and tensor sigma), i.E heat, reaction heat, Soret force."""
from __future__ import annotations

import numpy as np
import pytest
import ufl

from femiec.constants import FARADAY
from femiec.errors import InputError
from femiec.forms.heat import (heat_flux, ionic_current_density, ionic_heating, joule_heating, reaction_heat)
from femiec.forms.soret import soret_driving_force, soret_flux


def _unit_square(comm):
    from dolfinx import mesh

    return mesh.create_unit_square(comm, 2, 2)


def _integral(m, expr) -> float:
    from dolfinx import fem

    dx = ufl.dx(domain=m, metadata={"quadrature_degree": 12})
    return m.comm.allreduce(fem.assemble_scalar(fem.form(expr * dx)))


@pytest.mark.mpi
def test_joule_heating_scalar_and_tensor(comm, numbers):
    """phi = a . x with a = (3, -2) V/m: sigma = 5 S/m gives 5 |a|^2 = 65 W/m^3; sigma = [[4, 1], [1, 2]]
    gives a . sigma a = 36 - 12 + 8 = 32 W/m^3, equal to -i . grad(phi) with i = -sigma grad(phi)."""
    m = _unit_square(comm)
    x = ufl.SpatialCoordinate(m)
    phi = 3 * x[0] - 2 * x[1]
    assert _integral(m, joule_heating(5.0, phi)) == pytest.approx(65.0, rel=1e-14)
    sigma = ufl.as_matrix([[4.0, 1.0], [1.0, 2.0]])
    tensor = _integral(m, joule_heating(sigma, phi))
    assert tensor == pytest.approx(32.0, rel=1e-14)
    numbers.record("joule_tensor", tensor)
    current = -ufl.dot(sigma, ufl.grad(phi))
    assert _integral(m, ionic_heating(current, phi)) == pytest.approx(32.0, rel=1e-14)


@pytest.mark.mpi
def test_ionic_current_and_heat_flux(comm):
    """i = F sum z_k J_k; heat flux -k grad T for T = 300 + 10 x: (-10 k, 0) W/m^2."""
    m = _unit_square(comm)
    x = ufl.SpatialCoordinate(m)
    J1, J2 = ufl.as_vector([1e-3, 0.0]), ufl.as_vector([0.0, 2e-3])
    i = ionic_current_density([J1, J2], [1, -2])
    assert _integral(m, i[0]) == pytest.approx(FARADAY * 1e-3, rel=1e-14)
    assert _integral(m, i[1]) == pytest.approx(-4e-3 * FARADAY, rel=1e-14)
    q = heat_flux(2.5, 300 + 10 * x[0])
    assert _integral(m, q[0]) == pytest.approx(-25.0, rel=1e-14)


def test_reaction_heat_parts():
    """q_s = eta i - i T dS/(n F): i = 100 A/m^2, eta = 0.05 V, T = 1000 K, dS = 50 J/(mol K), n = 2:
    irreversible 5 W/m^2, reversible -100*1000*50/(2 F) = -25.9107 W/m^2; each part switchable."""
    i, eta = 100.0, 0.05
    reversible = -i * 1000.0 * 50.0 / (2 * FARADAY)
    assert reversible == pytest.approx(-25.9107, rel=1e-5)
    both = reaction_heat(i, eta, 1000.0, reaction_entropy=50.0, electrons=2)
    assert both == pytest.approx(5.0 + reversible, rel=1e-14)
    assert reaction_heat(i, eta, 1000.0, 50.0, 2, reversible=False) == pytest.approx(5.0)
    assert reaction_heat(i, eta, 1000.0, 50.0, 2, irreversible=False) == pytest.approx(reversible)
    assert reaction_heat(-i, -eta, reversible=False) == pytest.approx(5.0)  # dissipation >= 0 both ways
    with pytest.raises(InputError, match="temperature"):
        reaction_heat(i, eta)


@pytest.mark.mpi
def test_soret_force_and_flux(comm, numbers):
    """alpha c grad(ln T) for T = 300 + 100 x, c = 2, alpha = 3: at x the force is 600 / (300 + 100 x);
    its integral over [0,1] is 6 ln(4/3). A constant T gives zero; a tensor D rotates the flux."""
    from dolfinx import fem

    m = _unit_square(comm)
    x = ufl.SpatialCoordinate(m)
    T = 300 + 100 * x[0]
    force = soret_driving_force(3.0, 2.0, T)
    integral = _integral(m, force[0])
    assert integral == pytest.approx(6 * np.log(4 / 3), rel=1e-10)
    numbers.record("soret_force_x", integral)
    assert _integral(m, force[1]) == pytest.approx(0.0, abs=1e-15)
    flat = soret_driving_force(3.0, 2.0, fem.Constant(m, 300.0))
    assert _integral(m, ufl.inner(flat, flat)) == 0.0
    D = ufl.as_matrix([[1.0, 0.5], [0.5, 2.0]])
    J = soret_flux(D, 3.0, 2.0, T)
    assert _integral(m, J[1]) == pytest.approx(-0.5 * 6 * np.log(4 / 3), rel=1e-10)
