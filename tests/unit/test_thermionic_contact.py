"""Thermionic-emission contact: closed forms and input checks."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.schottky import built_in_potential, thermionic_emission_current_density
from femiec.constants import AVOGADRO, ELEMENTARY_CHARGE
from femiec.errors import InputError
from femiec.forms.contacts import (interface_equilibrium_concentration, schottky_surface_potential,
                                   thermionic_emission_flux, thermionic_velocity)
from femiec.problems.npp_conditions import ThermionicContact

T, NC, PHIB, A = 300.0, 2.5e25, 0.8, 1.20173e6


def test_flat_quasi_fermi_level_gives_the_thermionic_emission_law():
    """n = n_0 exp(V/V_T) at the interface makes q N_A v_n (n - n_0) the closed form, and the interface
    potential is V - V_bi with V_bi = phi_B - V_T ln(N_c / n_b)."""
    V, nb = 0.2, 1e25 / AVOGADRO
    vt = 8.314462618153241 * T / 96485.33212331001
    n0 = interface_equilibrium_concentration(PHIB, T, NC)
    flux = thermionic_emission_flux(n0 * np.exp(V / vt), n0, thermionic_velocity(A, T, NC))
    exact = thermionic_emission_current_density(V, PHIB, T, A)
    assert abs(ELEMENTARY_CHARGE * AVOGADRO * flux / exact - 1) < 1e-12
    assert abs(schottky_surface_potential(V, PHIB, T, NC, nb) - (V - built_in_potential(PHIB, T, NC, 1e25))) < 1e-14


@pytest.mark.parametrize("field, value", [("barrier_height", "high"), ("effective_density_of_states", 0.0),
                                          ("reference_concentration", -1.0), ("richardson_constant", None)])
def test_bad_contact_input_names_the_field(field, value):
    args = dict(species="electron", electrode="schottky", barrier_height=PHIB, effective_density_of_states=NC,
                reference_concentration=1.0)
    with pytest.raises(InputError, match=field):
        ThermionicContact(**{**args, field: value})
