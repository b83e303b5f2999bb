"""Phase models of the resolved electrode: each phase declares its fields and writes its own residuals.

A phase model owns

- its fields (:class:`FieldSpec`: name, submesh, unit, scale, initial value, position in the Newton
  system);
- its storage form (the M du/dt part: ``storage(rates, tests)``, with ``rates[name]`` the SI time
  derivative of each field, backward Euler in a time step, i omega du in a small-signal analysis);
- its steady residual (bulk transport, interface terms with the reaction current density i on Gamma,
  boundary terms with the applied current), ``steady(fields, tests, i)``;
- a residual scale per field (``residual_scale``): each residual is multiplied by it so the Newton
  system is O(1) in every block.

The residual of field f is ``residual_scale[f] * (storage[f] + steady[f])`` (femiec.problems.electrode
assembles it). Phases: an electrolyte model (:class:`ConcentratedElectrolyte`, or
:class:`DoubleLayerElectrolyte` with the full Poisson equation), an active-material particle model chosen
by name from ``PARTICLE_MODELS`` (:class:`FickianParticle`, or the phase-separating
:class:`femiec.problems.electrode_ch_particle.CahnHilliardParticle` with a second field, mu) and the electronic conductor
(:class:`SolidConductor`). The interface reaction couples them: the electrolyte gives the concentration
and the reference potential at the reaction plane, the particle model the kinetics, the conductor phi_s.

Each model reads the geometry and coefficients it shares with the others from the problem it is given
(``problem``: measures ``dx_electrolyte``, ``dx_active``, ``dx_solid``, ``gamma``, ``ds_separator``,
``lumped_dx_electrolyte``; ``area_weight``, the weight w of Gamma's area element w dS that every interface
integral carries (femiec.problems.electrode_geometry); the porosity and transport factor of the separator
layer; ``current_density`` (the control input, A/m^2); ``temperature``, ``vt``, ``length``). The equations are in
:mod:`femiec.forms.electrode` (pure UFL).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femiec.constants import FARADAY, VACUUM_PERMITTIVITY
from femiec.forms.electrode import (double_layer_current, electrolyte_charge_residual, electrolyte_current,
                                    exchange_current_density, intercalation_current, ion_diffusivities, lithium_reference_potential,
                                    salt_residual, solid_charge_residual, solid_diffusion_residual)
from femiec.forms.nernst_planck import nernst_planck_flux, nernst_planck_residual
from femiec.forms.poisson import charge_density, poisson_residual, stern_charge_density
from femiec.problems.electrode_ch_particle import CahnHilliardParticle


@dataclass(frozen=True)
class FieldSpec:
    """One unknown of a phase model: output ``name``, the ``submesh`` it lives on ("electrolyte", "active"
    or "solid"), its SI ``unit``, ``scale`` (the SI value of the dimensionless unknown 1), its
    dimensionless ``initial`` value and its ``block`` position in the Newton system."""

    name: str
    submesh: str
    unit: str
    scale: float
    initial: float
    block: int


def _scale(length: float, d: int, coefficient: float) -> float:
    """1 / (coefficient L^(d-2)): the residual scale of a transport equation with that coefficient."""
    return 1 / (coefficient * length ** (d - 2))


# --------------------------------------------------------------------------------------- electrolytes
class ConcentratedElectrolyte:
    """Electroneutral binary electrolyte (concentrated-solution theory): salt concentration c [mol/m^3]
    and the potential phi_e [V] of a Li reference electrode.

        eps dc/dt + div N_- = 0,   N_- = -D eps^b grad c - (1 - t+) i_e / F
        div i_e = 0,   i_e = -kappa eps^b grad phi_e + kappa eps^b (2RT/F)(1 - t+) f_TD grad(c)/c
        i_e . n = -i on Gamma,   -i_e . n = j (the applied current density) at the separator.

    With a double-layer capacitance C_dl > 0 (``problem.double_layer_capacitance``) the interface current is
    i + C_dl d(phi_s - phi_e)/dt: its charging part is the storage of phi_e (an integral over Gamma).
    """

    concentration, potential = "concentration_electrolyte", "potential_electrolyte"
    #: the (c, phi_e) split of ``electrolyte_preconditioner = "electrochemical"`` (femiec.solvers.electrolyte_pc)
    fieldsplit_pairs = {"electrolyte": (potential, concentration)}

    def __init__(self, problem):
        self.problem, self.parameters = problem, problem.electrolyte

    @property
    def block_solves(self) -> tuple:
        """(BoomerAMG V-cycles, mass solves) of :meth:`block_preconditioner` (options prefixes)."""
        from femiec.solvers.electrolyte_pc import ELECTROLYTE_SOLVES

        return ELECTROLYTE_SOLVES, ()

    def block_preconditioner(self, index_sets: dict, prefix: str):
        """The python PC of the (c, phi_e) split (femiec.solvers.electrolyte_pc.ElectrolytePairPC) from the
        index sets of the two fields in the split's numbering (NonlinearSolver's ``pair_preconditioners``);
        the diffusion potential g = 2 (1 - t+) f of the current in units of R T / F."""
        from femiec.solvers.electrolyte_pc import ElectrolytePairPC

        e, p = self.parameters, self.problem
        return ElectrolytePairPC(index_sets[self.potential], index_sets[self.concentration],
                                 p.u[p.index(self.concentration)],
                                 2 * (1 - e.transference_number) * e.thermodynamic_factor, prefix)

    def field_specs(self, initial_potential: float) -> list[FieldSpec]:
        e, vt = self.parameters, self.problem.vt
        return [FieldSpec(self.concentration, "electrolyte", "mol/m^3", e.concentration, 1.0, 0),
                FieldSpec(self.potential, "electrolyte", "V", vt, initial_potential / vt, 2)]

    def residual_scale(self, length: float, d: int) -> dict:
        e = self.parameters
        return {self.concentration: _scale(length, d, e.diffusivity * e.concentration),
                self.potential: _scale(length, d, e.conductivity * self.problem.vt)}

    def ionic_current(self, fields):
        """i_e [A/m^2] (UFL; superficial in the porous separator layer)."""
        e, p = self.parameters, self.problem
        return electrolyte_current(fields[self.concentration], fields[self.potential],
                                   e.conductivity * p.transport_factor, e.transference_number, p.temperature,
                                   e.thermodynamic_factor)

    def reaction_plane(self, fields):
        """(Li+ concentration [mol/m^3], Li reference potential [V]) that the kinetics see (UFL)."""
        return fields[self.concentration], fields[self.potential]

    def storage(self, rates, tests) -> dict:
        p, q = self.problem, tests[self.concentration]
        storage = {self.concentration: p.porosity * rates[self.concentration] * q * p.dx_electrolyte}
        charging = double_layer_charging(p, rates)
        if charging is not None:
            storage[self.potential] = -charging * tests[self.potential]("+") * p.area_weight * p.gamma
        return storage

    def steady(self, fields, tests, i) -> dict:
        e, p = self.parameters, self.problem
        q_c, q_p = tests[self.concentration], tests[self.potential]
        i_e = self.ionic_current(fields)
        return {self.concentration: salt_residual(None, fields[self.concentration], e.diffusivity * p.transport_factor,
                                                  i_e, e.transference_number, q_c, p.dx_electrolyte),
                self.potential: (electrolyte_charge_residual(i_e, q_p, p.dx_electrolyte)
                                 - i * q_p("+") * p.area_weight * p.gamma
                                 - p.current_density * q_p * p.ds_separator)}


class DoubleLayerElectrolyte:
    """Full Poisson electrolyte (dilute binary salt): cation c+ and anion c- [mol/m^3], electrostatic
    potential phi [V], a Stern layer on Gamma (femiec.forms.electrode module docstring):

        eps dc+-/dt + div N+- = 0,   N+- = -D+- eps^b (grad c+- +- c+- F/(RT) grad phi)
        -div(eps_0 eps_r eps^b grad phi) = eps F (c+ - c-)   (charge lumped on the vertices)
        N+ . n = -i/F on Gamma, -N+ . n = j/F at the separator; eps_0 eps_r dphi/dn = C_S (phi_s - phi - phi_pzc)
    The kinetics see the Li reference potential phi + (RT/F) ln(c+/c_ref).
    """

    cation, potential, anion = "concentration_cation", "potential_electrostatic", "concentration_anion"

    def __init__(self, problem):
        self.problem, self.parameters, self.layer = problem, problem.electrolyte, problem.double_layer

    def field_specs(self, initial_potential: float) -> list[FieldSpec]:
        e, vt = self.parameters, self.problem.vt
        return [FieldSpec(self.cation, "electrolyte", "mol/m^3", e.concentration, 1.0, 0),
                FieldSpec(self.potential, "electrolyte", "V", vt, initial_potential / vt, 2),
                FieldSpec(self.anion, "electrolyte", "mol/m^3", e.concentration, 1.0, 4)]

    def residual_scale(self, length: float, d: int) -> dict:
        e = self.parameters
        flux = _scale(length, d, e.diffusivity * e.concentration)
        return {self.cation: flux, self.anion: flux,
                self.potential: _scale(length, d, VACUUM_PERMITTIVITY * self.layer.relative_permittivity
                                       * self.problem.vt)}

    def ion_fluxes(self, fields):
        """Nernst–Planck fluxes (N+, N-) [mol/(m^2 s)] (UFL; superficial in the porous separator layer)."""
        e, p = self.parameters, self.problem
        D_plus, D_minus = ion_diffusivities(e.diffusivity * p.transport_factor, e.transference_number)
        phi = fields[self.potential]
        return (nernst_planck_flux(fields[self.cation], D_plus, 1, phi, p.temperature),
                nernst_planck_flux(fields[self.anion], D_minus, -1, phi, p.temperature))

    def ionic_current(self, fields):
        cation, anion = self.ion_fluxes(fields)
        return FARADAY * (cation - anion)

    def reaction_plane(self, fields):
        c_plus = fields[self.cation]
        return c_plus, lithium_reference_potential(fields[self.potential], c_plus, self.parameters.concentration,
                                                   self.problem.temperature)

    def stern_charge_density(self, fields):
        """C_S (phi_s - phi_pzc - phi) [C/m^2] on Gamma (phi_s of the particle "-", phi of the electrolyte
        "+")."""
        return stern_charge_density(self.layer.stern_capacitance,
                                    fields[SolidConductor.potential]("-") - self.problem.potential_of_zero_charge(),
                                    fields[self.potential]("+"))

    def storage(self, rates, tests) -> dict:
        p = self.problem
        return {name: p.porosity * rates[name] * tests[name] * p.dx_electrolyte for name in (self.cation, self.anion)}

    def steady(self, fields, tests, i) -> dict:
        p, layer = self.problem, self.layer
        q_plus, q_phi, q_minus = tests[self.cation], tests[self.potential], tests[self.anion]
        cation_flux, anion_flux = self.ion_fluxes(fields)
        permittivity = VACUUM_PERMITTIVITY * layer.relative_permittivity * p.transport_factor
        rho = p.porosity * charge_density((fields[self.cation], fields[self.anion]), (1, -1))
        return {self.cation: (nernst_planck_residual(None, cation_flux, q_plus, p.dx_electrolyte)
                              - (i / FARADAY) * q_plus("+") * p.area_weight * p.gamma
                              - (p.current_density / FARADAY) * q_plus * p.ds_separator),
                self.anion: nernst_planck_residual(None, anion_flux, q_minus, p.dx_electrolyte),
                self.potential: (poisson_residual(fields[self.potential], q_phi, permittivity, rho, p.dx_electrolyte,
                                                  charge_dx=p.lumped_dx_electrolyte)
                                 - self.stern_charge_density(fields) * q_phi("+") * p.area_weight * p.gamma)}


# ------------------------------------------------------------------------------------------ particles
class FickianParticle:
    """Intercalation particles with Fickian solid diffusion and Butler–Volmer or Marcus–Hush–Chidsey
    kinetics driven by the open-circuit voltage U(c_s/c_max):

        dc_s/dt = div(D_s grad c_s),   -D_s grad c_s . n = i / F on Gamma
        i = i0 f(eta),  eta = phi_s - phi_e - U(c_s/c_max),  i0 = i0_ref sqrt(c/c_ref) sqrt(c_s(c_max - c_s))/(c_max/2)
    """

    concentration = "concentration_solid"

    def __init__(self, problem):
        self.problem, self.parameters = problem, problem.active
        self.ocv = self.parameters.open_circuit_voltage()

    def field_specs(self) -> list[FieldSpec]:
        a = self.parameters
        return [FieldSpec(self.concentration, "active", "mol/m^3", a.max_concentration, a.initial_stoichiometry, 1)]

    def equilibrium_potential(self) -> float:
        """U(x0) [V]: the open-circuit voltage of the initial state."""
        return float(self.ocv(self.parameters.initial_stoichiometry))

    def diffusivity(self):
        """D_s as a dolfinx Constant (scalar or gdim x gdim)."""
        if not hasattr(self, "_diffusivity"):
            self._diffusivity = self.problem.constant(self.parameters.diffusivity, "model.active_material.diffusivity")
        return self._diffusivity

    def residual_scale(self, length: float, d: int) -> dict:
        value = self.diffusivity().value
        D_ref = float(np.max(np.linalg.eigvalsh(np.atleast_2d(value)))) if value.ndim else float(value)
        return {self.concentration: _scale(length, d, D_ref * self.parameters.max_concentration)}

    def reaction_current(self, c, phi_e, phi_s, fields):
        """Anodic current density i [A/m^2] from the restricted electrolyte concentration c and reference
        potential phi_e ("+") and the solid potential phi_s ("-")."""
        a, p = self.parameters, self.problem
        c_s = fields[self.concentration]("-")
        i0 = exchange_current_density(a.exchange_current_density, c, p.electrolyte.concentration, c_s,
                                      a.max_concentration)
        return intercalation_current(i0, phi_s, phi_e, self.ocv(c_s / a.max_concentration), p.temperature,
                                     a.transfer_coefficient, a.kinetics, a.reorganization_energy)

    def storage(self, rates, tests) -> dict:
        name = self.concentration
        return {name: rates[name] * tests[name] * self.problem.dx_active}

    def steady(self, fields, tests, i) -> dict:
        p, w = self.problem, tests[self.concentration]
        return {self.concentration: (solid_diffusion_residual(None, fields[self.concentration], self.diffusivity(), w,
                                                              p.dx_active)
                                     + (i / FARADAY) * w("-") * p.area_weight * p.gamma)}


#: particle models by the name a case file gives (``[model] particle_model``)
PARTICLE_MODELS = {"fickian": FickianParticle, "cahn_hilliard": CahnHilliardParticle}


# ------------------------------------------------------------------------------------------ conductor
class SolidConductor:
    """Electronic conduction in the solid (active material + conductor regions), sigma per cell [S/m]
    (``problem.solid_conductivity``; its largest value ``problem.solid_conductivity_ref`` scales the
    residual): div(-sigma grad phi_s) = 0, -sigma grad phi_s . n = i on Gamma, phi_s = 0 at the collector
    (a Dirichlet condition the problem sets). With a double-layer capacitance the interface current is
    i + C_dl d(phi_s - phi_e)/dt, whose charging part is the storage of phi_s."""

    potential = "potential_solid"

    def __init__(self, problem):
        self.problem = problem

    def field_specs(self) -> list[FieldSpec]:
        return [FieldSpec(self.potential, "solid", "V", self.problem.vt, 0.0, 3)]

    def residual_scale(self, length: float, d: int) -> dict:
        return {self.potential: _scale(length, d, self.problem.solid_conductivity_ref * self.problem.vt)}

    def storage(self, rates, tests) -> dict:
        p = self.problem
        charging = double_layer_charging(p, rates)
        if charging is None:
            return {}
        return {self.potential: charging * tests[self.potential]("-") * p.area_weight * p.gamma}

    def steady(self, fields, tests, i) -> dict:
        p, w = self.problem, tests[self.potential]
        return {self.potential: (solid_charge_residual(p.solid_conductivity, fields[self.potential], w, p.dx_solid)
                                 + i * w("-") * p.area_weight * p.gamma)}


def double_layer_charging(problem, rates):
    """C_dl d(phi_s - phi_e)/dt [A/m^2] on Gamma (UFL, restricted: phi_s "-", phi_e "+") from the SI rates of
    the fields, or None without a double-layer capacitance (``problem.double_layer_capacitance`` = 0)."""
    capacitance = problem.double_layer_capacitance
    if capacitance == 0:
        return None
    return double_layer_current(capacitance, rates[SolidConductor.potential]("-"),
                                rates[ConcentratedElectrolyte.potential]("+"))
