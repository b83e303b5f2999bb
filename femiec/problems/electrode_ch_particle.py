"""Cahn–Hilliard particle model of the resolved electrode (``[model] particle_model = "cahn_hilliard"``):
phase-separating insertion particles (regular solution, chemical-potential-driven kinetics) as a phase
model of femiec.problems.electrode_phases (docs/electrode.md, docs/cahn_hilliard.md).

Unknowns on the active-material submesh: the lithium concentration c_s = c_max x [mol/m^3] (x the site
fraction, the dimensionless unknown, scale c_max) and the chemical potential mu [J/mol] (unknown mu / (R T)).
With the regular-solution free energy g(x) = Omega x (1 - x) + R T [x ln x + (1 - x) ln(1 - x)] [J/mol],
the gradient-energy coefficient kappa [J m^2/mol] and the tracer diffusivity D [m^2/s] (the active
material's ``diffusivity``; femiec.forms.cahn_hilliard):

    dc_s/dt + div J = 0,   J = -c_max M(x) grad mu,   M(x) = D x (1 - x) / (R T)       [mol/(m^2 s)]
    mu = g'(x) - div(kappa grad x),   g'(x) = Omega (1 - 2x) + R T ln(x / (1 - x))     [J/mol]
    J . n = i / F on Gamma (lithium enters as -J . n = -i / F, i anodic),  J . n = 0 elsewhere
    kappa grad x . n = 0 on the whole particle surface (no wall energy)

The reaction on Gamma (femiec.forms.phase_kinetics; Li+ + e- + vacancy <=> Li(host)) sees the electrode
potential V = phi_s - phi_e against the Li reference at the reaction plane and the standard potential V0:

    eta = V - V0 + mu / F   [V],   i = (c / c_ref)^(1 - alpha) i_rate(x, mu, eta)   [A/m^2]

with i_rate the Butler–Volmer, Marcus–Hush–Chidsey or CIET rate of femiec.forms.phase_kinetics (exchange
current F k0 (1 - x) exp(alpha mu / (R T))) and (c / c_ref)^(1 - alpha) the electrolyte's Li+ activity in
the transition state (the factor a_+^(1 - alpha) of the exchange current; 1 at the reference
concentration). The open-circuit voltage of a homogeneous particle is V_eq(x) = V0 - g'(x) / F; two
coexisting phases sit on the plateau V0 - g'(x_a) / F = V0 (femiec.analytic.intercalation).

Time: the electrode's backward Euler or BDF2 rate of c_s; mu = g'(x) - div(kappa grad x) is taken at the
new state (the ``implicit`` form of femiec.forms.cahn_hilliard), so the steady residual is the true steady
one (the small-signal analysis linearises it) and the step size follows the electrode's step control.

Newton: each direction is shortened so that 0 < x < 1 at every node (the fraction-to-the-boundary rule of
femiec.problems.cahn_hilliard, :func:`~femiec.problems.cahn_hilliard.keep_inside`); the update test counts
only after a whole step.
"""
from __future__ import annotations

import numpy as np
import ufl

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.errors import InputError
from femiec.forms.cahn_hilliard import cahn_hilliard_flux, chemical_potential_residual
from femiec.forms.phase_kinetics import insertion_current

#: the Newton-block position of mu: after every field of the other phase models
CHEMICAL_POTENTIAL_BLOCK = 5


class RegularSolutionVoltage:
    """The equilibrium voltage of a homogeneous regular-solution particle, V_eq(x) = V0 - g'(x) / F [V]
    (femiec.analytic.intercalation.open_circuit_voltage; NumPy), with Omega [J/mol], T [K], V0 [V]."""

    def __init__(self, interaction_energy: float, temperature: float, standard_potential: float):
        self.omega, self.RT = float(interaction_energy), GAS_CONSTANT * float(temperature)
        self.standard_potential = float(standard_potential)

    def __call__(self, x):
        from femiec.analytic.intercalation import open_circuit_voltage

        return open_circuit_voltage(x, self.omega, self.RT, self.standard_potential)

    def plateau(self) -> float | None:
        """The two-phase plateau voltage V0 - g'(x_a) / F [V] (None without phase separation, Omega <= 2 R T)."""
        from femiec.analytic.cahn_hilliard import critical_interaction
        from femiec.analytic.intercalation import plateau_voltage

        if not self.omega > critical_interaction(self.RT):
            return None
        return plateau_voltage(self.omega, self.RT, self.standard_potential)

    def as_dict(self) -> dict:
        from femiec.analytic.cahn_hilliard import binodal

        plateau = self.plateau()
        return {"kind": "regular_solution", "interaction_energy_J_mol": self.omega,
                "temperature_K": self.RT / GAS_CONSTANT, "standard_potential_V": self.standard_potential,
                "plateau_voltage_V": plateau,
                "binodal": None if plateau is None else list(binodal(self.omega, self.RT))}


def regular_solution_voltage(material, temperature: float) -> RegularSolutionVoltage:
    """The :class:`RegularSolutionVoltage` of a ``[model.cahn_hilliard]`` table
    (femiec.models.intercalation_particles.RegularSolution) at T [K]."""
    return RegularSolutionVoltage(material.interaction_energy, temperature, material.standard_potential)


class CahnHilliardParticle:
    """Phase-separating insertion particles (module docstring): fields c_s [mol/m^3] and mu [J/mol] on the
    active submesh; the material of ``problem.cahn_hilliard`` (a
    :class:`femiec.models.intercalation_particles.RegularSolution` or a dict of its keys), c_max, D, the
    initial site fraction and the stoichiometry window of ``problem.active``."""

    concentration, chemical_potential = "concentration_solid", "chemical_potential_solid"
    #: with the fieldsplit preset the pair is one split (NonlinearSolver's ``pairs``), preconditioned by
    #: :meth:`block_preconditioner` or (``pair_preconditioner = "schur"``) a Schur-complement fieldsplit
    #: that eliminates mu, whose block is a mass matrix (femiec.solvers.presets.schur_pair_split)
    fieldsplit_pairs = {"cahn_hilliard": (chemical_potential, concentration)}

    def __init__(self, problem):
        from femiec.models.intercalation_particles import RegularSolution

        if problem.cahn_hilliard is None:
            raise InputError("model.cahn_hilliard", None, "a table of the regular solution (interaction_energy, "
                             "gradient_coefficient, standard_potential, rate_constant, ...) with "
                             "particle_model = 'cahn_hilliard'")
        self.problem, self.parameters = problem, problem.active
        self.material = RegularSolution.parse(problem.cahn_hilliard, "model.cahn_hilliard")
        self.material.check_kinetics("model.cahn_hilliard")
        self.RT = GAS_CONSTANT * problem.temperature
        self.ocv = regular_solution_voltage(self.material, problem.temperature)
        self.full_step = True  # whether the last Newton update was the whole step (the bounds rule)

    def field_specs(self) -> list:
        from femiec.analytic.cahn_hilliard import potential
        from femiec.problems.electrode_phases import FieldSpec

        a, x0 = self.parameters, self.parameters.initial_stoichiometry
        mu0 = float(potential(x0, self.material.interaction_energy, self.RT))  # the homogeneous state
        return [FieldSpec(self.concentration, "active", "mol/m^3", a.max_concentration, x0, 1),
                FieldSpec(self.chemical_potential, "active", "J/mol", self.RT, mu0 / self.RT,
                          CHEMICAL_POTENTIAL_BLOCK)]

    def equilibrium_potential(self) -> float:
        """V_eq(x0) [V]: the equilibrium voltage of the homogeneous initial state."""
        return float(self.ocv(self.parameters.initial_stoichiometry))

    def phase_compositions(self):
        """((x_a, x_b), (x_s1, x_s2)): the binodal and spinodal site fractions of the regular solution
        (femiec.analytic.cahn_hilliard), or None without phase separation (Omega <= 2 R T)."""
        from femiec.analytic.cahn_hilliard import binodal, critical_interaction, spinodal

        omega = self.material.interaction_energy
        if not omega > critical_interaction(self.RT):
            return None
        return binodal(omega, self.RT), spinodal(omega, self.RT)

    def coefficients(self):
        """(D [m^2/s], kappa [J m^2/mol]) as dolfinx Constants (scalars or gdim x gdim tensors)."""
        if not hasattr(self, "_coefficients"):
            from dolfinx import fem

            from femiec.models.intercalation_particles import axis_tensor

            gdim = self.problem.mesh.geometry.dim
            kappa = self.material.gradient_coefficient
            if isinstance(kappa, list) and len(kappa) != gdim:
                raise InputError("model.cahn_hilliard.gradient_coefficient", kappa,
                                 f"a number or {gdim} values (one per axis)")
            self._coefficients = (self.problem.constant(self.parameters.diffusivity,
                                                        "model.active_material.diffusivity"),
                                  fem.Constant(self.problem.mesh, np.asarray(axis_tensor(kappa), dtype=float)))
        return self._coefficients

    def residual_scale(self, length: float, d: int) -> dict:
        from femiec.problems.electrode_phases import _scale

        value = self.coefficients()[0].value
        D_ref = float(np.max(np.linalg.eigvalsh(np.atleast_2d(value)))) if value.ndim else float(value)
        return {self.concentration: _scale(length, d, D_ref * self.parameters.max_concentration),
                self.chemical_potential: 1 / (self.RT * length ** d)}

    def reaction_current(self, c, phi_e, phi_s, fields):
        """Anodic current density i [A/m^2] (module docstring) from the restricted electrolyte concentration
        c and reference potential phi_e ("+") and the solid potential phi_s ("-")."""
        m, p = self.material, self.problem
        x = fields[self.concentration]("-") / self.parameters.max_concentration
        rate = insertion_current(x, fields[self.chemical_potential]("-"), phi_s - phi_e,
                                 standard_potential=m.standard_potential, rate_constant=m.rate_constant,
                                 temperature=p.temperature, rate_law=m.rate_law, alpha=m.alpha,
                                 reorganization_energy=m.reorganization_energy)
        return (c / p.electrolyte.concentration) ** (1 - m.alpha) * rate

    def storage(self, rates, tests) -> dict:
        name = self.concentration
        return {name: rates[name] * tests[name] * self.problem.dx_active}

    def steady(self, fields, tests, i) -> dict:
        p, c_max = self.problem, self.parameters.max_concentration
        v, w = tests[self.concentration], tests[self.chemical_potential]
        D, kappa = self.coefficients()
        x, mu = fields[self.concentration] / c_max, fields[self.chemical_potential]
        flux = cahn_hilliard_flux(x, mu, c_max, D, self.RT)
        return {self.concentration: (-ufl.inner(flux, ufl.grad(v)) * p.dx_active
                                     + (i / FARADAY) * v("-") * p.area_weight * p.gamma),
                self.chemical_potential: chemical_potential_residual(mu, x, x, w, self.material.interaction_energy,
                                                                     self.RT, kappa, p.dx_active, "implicit")}

    @property
    def block_solves(self) -> tuple:
        """(BoomerAMG V-cycles, mass solves) of :meth:`block_preconditioner` (options prefixes)."""
        from femiec.solvers.cahn_hilliard_pc import BLOCK_SOLVES

        return BLOCK_SOLVES[1:], BLOCK_SOLVES[:1]

    def block_preconditioner(self, index_sets: dict, prefix: str):
        """The python PC of the (c_s, mu) split (femiec.solvers.cahn_hilliard_pc.CahnHilliardBlockPC, the
        mesh-robust factorisation of the standalone Cahn–Hilliard problem) from the index sets of the two
        fields in the split's numbering (NonlinearSolver's ``pair_preconditioners``). The unknowns are x and
        mu / (R T) as there; the lithium rows are scaled by 1 / (D_ref c_max L^(d-2)) and the rate is the
        electrode's BDF2 rate (step ratio w), which the PC's blocks and effective step take in; the mu rows
        by 1 / (R T L^d), so the w block is L^-d M (``mass_scale``)."""
        from femiec.solvers.cahn_hilliard_pc import CahnHilliardBlockPC

        p = self.problem
        k = p.index(self.concentration)
        D, kappa = self.coefficients()
        mass_scale = self.residual_scale(p.length, p.mesh.topology.dim)[self.chemical_potential] * self.RT
        return CahnHilliardBlockPC(p.spaces[k], p.u[k], p.dt, np.asarray(kappa.value, dtype=float) / self.RT,
                                   np.asarray(D.value, dtype=float), prefix, step_ratio=p.step_ratio,
                                   mass_scale=mass_scale,
                                   index_sets=(index_sets[self.concentration], index_sets[self.chemical_potential]))

    # ----------------------------------------------------------------------------- Newton safeguard
    def install_safeguard(self, solver) -> None:
        """Shorten each Newton direction of ``solver`` (femiec.solvers.NonlinearSolver on the electrode's
        blocks) so that 0 < x < 1 at every node; ``full_step`` tells the update test whether it was."""
        from femiec.problems.cahn_hilliard import keep_inside

        p = self.problem
        k = p.index(self.concentration)
        sizes = [V.dofmap.index_map.size_local * V.dofmap.index_map_bs for V in p.spaces]
        start = sum(sizes[:k])

        def precheck(x, y):
            self.full_step = keep_inside(x, y, start, sizes[k], p.mesh.comm)

        solver.snes.setLineSearchPreCheck(precheck)
