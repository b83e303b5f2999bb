"""Ionic conduction in the pores of a blocking (or slowly reacting) electrode (pure UFL).

In the pore phase, with the ionic conductivity kappa [S/m] and the electrolyte potential phi [V]:

    div(-kappa grad phi) = 0,

on the pore walls (pore/solid interface, n out of the pore), with the solid an ideal electronic
conductor at phi_solid [V], a double layer of capacitance C_dl [F/m^2] and optionally a charge-transfer
resistance R_ct [Ohm m^2] in parallel:

    -kappa grad(phi) . n = i_wall = C_dl d(phi - phi_solid)/dt + (phi - phi_solid) / R_ct    [A/m^2].

Weak form (v the test function, dS_wall the measure of the walls):

    int kappa grad(phi) . grad(v) dx + int (phi - phi_solid)/R_ct v dS_wall        (steady part)
    + int C_dl d(phi - phi_solid)/dt v dS_wall                                       (storage part) = 0.

The walls may be interior facets of a mesh that holds both phases: ``side`` is then the restriction
("+" or "-") of the pore side; ``side=None`` for exterior facets (``ds``).
"""
from __future__ import annotations

from femiec.forms.conduction import conduction_residual


def _restricted(expression, side):
    return expression if side is None else expression(side)


def faradaic_wall_current(phi, phi_solid, charge_transfer_resistance):
    """Charge-transfer current density (phi - phi_solid) / R_ct [A/m^2] out of the pore into the wall
    (linear kinetics, R_ct [Ohm m^2])."""
    return (phi - phi_solid) / charge_transfer_resistance


def double_layer_charge(phi, phi_solid, capacitance):
    """Charge density of the wall's double layer on the electrolyte side, C_dl (phi - phi_solid) [C/m^2];
    its rate is the capacitive current density into the wall [A/m^2]."""
    return capacitance * (phi - phi_solid)


def pore_steady_residual(kappa, phi, v, dx, wall, phi_solid, charge_transfer_resistance=None, side="+"):
    """Steady part of the weak form (module docstring): int kappa grad(phi) . grad(v) dx, plus
    int (phi - phi_solid)/R_ct v dS_wall when ``charge_transfer_resistance`` is given (blocking walls
    otherwise). ``dx`` covers the pore cells, ``wall`` the wall facets, ``side`` the pore's restriction."""
    F = conduction_residual(kappa, phi, v, dx)
    if charge_transfer_resistance is not None:
        current = faradaic_wall_current(_restricted(phi, side), phi_solid, charge_transfer_resistance)
        F += current * _restricted(v, side) * wall
    return F


def double_layer_storage(rate, v, wall, capacitance, side="+"):
    """Storage part int C_dl d(phi - phi_solid)/dt v dS_wall for the rate d(phi)/dt [V/s] of the pore
    potential (phi_solid held fixed)."""
    return capacitance * _restricted(rate, side) * _restricted(v, side) * wall
