"""Microstructure-resolved lithium-ion electrode (pure UFL, SI units).

Phases: electrolyte (pore), active material (intercalation particles) and electronic conductor (active
material + carbon-binder). Every field lives in its own phase; the phases exchange charge and lithium
only through the reaction on the active-material/electrolyte interface Gamma.

Electrolyte (binary 1:1 salt, electroneutral concentrated-solution theory; c [mol/m^3] the salt
concentration = c_Li+ = c_anion, phi_e [V] measured by a Li reference electrode; no porosity factor:
the pores are resolved):

    i_e = -kappa grad phi_e + kappa (2 R T / F)(1 - t+) f_TD grad(ln c)          [A/m^2]
    N_- = -D grad c - (1 - t+) i_e / F       anion flux                         [mol/(m^2 s)]
    dc/dt + div N_- = 0,     div i_e = 0

(kappa conductivity [S/m], D salt diffusivity [m^2/s], t+ cation transference number, f_TD the
thermodynamic factor 1 + dln f/dln c). The anion takes part in no reaction, so N_- . n = 0 on every
boundary and the salt is conserved; the Li+ balance follows from div i_e = 0.

Solid: dc_s/dt = div(D_s grad c_s) in the active material (D_s scalar or tensor [m^2/s]);
div(-sigma grad phi_s) = 0 in the electronic conductor (sigma per phase [S/m]).

Interface reaction Li+ + e- + [] <-> Li[], anodic (delithiation) current density i [A/m^2] from the solid
into the electrolyte (femiec.forms.kinetics sign convention):

    eta = phi_s - phi_e - U(c_s / c_max)
    i = i0 [exp(alpha F eta / (R T)) - exp(-(1 - alpha) F eta / (R T))]      (Butler–Volmer)
    i0 = i0_ref sqrt(c / c_ref) sqrt(c_s (c_max - c_s)) / (c_max / 2)
    on Gamma:  -D_s grad c_s . n_s = i / F,   -sigma grad phi_s . n_s = i,   i_e . n_e = -i

(n_s, n_e outward normals of the solid and of the electrolyte; i0_ref is i0 at c = c_ref, c_s = c_max/2).

Double-layer capacitance C_dl [F/m^2] on Gamma (optional, electroneutral electrolyte): the interface
current is the faradaic current plus the charging current of the double layer,

    i_total = i + C_dl d(phi_s - phi_e)/dt,
    -sigma grad phi_s . n_s = i_total,   i_e . n_e = -i_total,   -D_s grad c_s . n_s = i / F

(the faradaic part alone exchanges lithium with the particle; the double layer's charge is held by a
surface excess of Li+ in the electrolyte, which the electroneutral salt balance does not track).

Full Poisson electrolyte (the double-layer option; dilute binary 1:1 salt): cation c+ (Li+) and anion c-
[mol/m^3] and the electrostatic potential phi [V] replace (c, phi_e):

    N+- = -D+- (grad c+- +- c+- F/(R T) grad phi)          (femiec.forms.nernst_planck)
    dc+-/dt + div N+- = 0,     -div(eps grad phi) = F (c+ - c-)
    D+ = D / (2 (1 - t+)),  D- = D / (2 t+)                 (the same D and t+ as the electroneutral model)
    on Gamma:  N+ . n_e = -i / F,  N- . n_e = 0,  eps grad phi . n_e = C_S (phi_s - phi - phi_pzc)

(eps = eps_0 eps_r [F/m]; C_S the Stern-layer capacitance [F/m^2]; phi_pzc [V] the value of phi_s - phi at
which the interface carries no charge). The kinetics see the electrolyte through the potential of a Li
reference electrode at the reaction plane, phi_e = phi + (RT/F) ln(c+ / c_ref), and c = c+: in an
electroneutral region (c+ = c- = c) the model is the dilute limit of the one above, with conductivity
kappa = F^2 c (D+ + D-) / (R T).
"""
from __future__ import annotations

import ufl

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.forms.conduction import conduction_residual
from femiec.forms.kinetics import butler_volmer_current, marcus_hush_chidsey_current
from femiec.forms.nernst_planck import apply_tensor, nernst_planck_residual


def electrolyte_current(c, phi_e, conductivity, transference_number, temperature, thermodynamic_factor=1.0):
    """Ionic current density i_e = -kappa grad phi_e + kappa (2RT/F)(1 - t+) f_TD grad(c)/c [A/m^2]."""
    diffusion_potential = 2 * GAS_CONSTANT * temperature / FARADAY * (1 - transference_number) * thermodynamic_factor
    return -conductivity * ufl.grad(phi_e) + conductivity * diffusion_potential * ufl.grad(c) / c


def anion_flux(c, diffusivity, current, transference_number):
    """Anion (= salt) flux N_- = -D grad c - (1 - t+) i_e / F [mol/(m^2 s)]."""
    return -apply_tensor(diffusivity, ufl.grad(c)) - (1 - transference_number) * current / FARADAY


def salt_residual(rate, c, diffusivity, current, transference_number, v, dx):
    """Weak residual of dc/dt + div N_- = 0 with N_- . n = 0 on all boundaries:
    int rate v dx - int N_- . grad v dx  [mol/s per unit test function]."""
    return nernst_planck_residual(rate, anion_flux(c, diffusivity, current, transference_number), v, dx)


def electrolyte_charge_residual(current, q, dx):
    """Bulk part of div i_e = 0: -int i_e . grad q dx [A]; add the outward normal current of every
    boundary (-i on Gamma, the applied current at the separator) as + int (i_e . n) q ds."""
    return -ufl.inner(current, ufl.grad(q)) * dx


def solid_diffusion_residual(rate, c_s, diffusivity, w, dx):
    """Bulk part of dc_s/dt = div(D_s grad c_s): int rate w dx + int D_s grad c_s . grad w dx [mol/s];
    add the outward lithium flux + int (i/F) w dS on Gamma."""
    return nernst_planck_residual(rate, -apply_tensor(diffusivity, ufl.grad(c_s)), w, dx)


def solid_charge_residual(conductivity, phi_s, w, dx):
    """Bulk part of div(-sigma grad phi_s) = 0: int sigma grad phi_s . grad w dx [A]; add the outward
    current + int i w dS on Gamma."""
    return conduction_residual(conductivity, phi_s, w, dx)


def exchange_current_density(i0_ref, c, c_ref, c_s, c_max):
    """i0 = i0_ref sqrt(c / c_ref) sqrt(c_s (c_max - c_s)) / (c_max / 2) [A/m^2].

    The square-root arguments are floored at (1e-6 c_max)^2 and 1e-12 so that an intermediate Newton
    iterate outside 0 < c_s < c_max or with c <= 0 stays finite.
    """
    solid = ufl.max_value(c_s * (c_max - c_s), (1e-6 * c_max) ** 2)
    return i0_ref * ufl.sqrt(ufl.max_value(c / c_ref, 1e-12)) * ufl.sqrt(solid) / (c_max / 2)


def intercalation_current(i0, phi_s, phi_e, open_circuit_voltage, temperature, alpha=0.5, kinetics="butler_volmer",
                          reorganization_energy=None):
    """Anodic current density i [A/m^2] with eta = phi_s - phi_e - U (Butler–Volmer or Marcus–Hush–Chidsey)."""
    eta = phi_s - phi_e - open_circuit_voltage
    if kinetics == "marcus_hush_chidsey":
        return marcus_hush_chidsey_current(i0, eta, temperature, reorganization_energy)
    return butler_volmer_current(i0, eta, temperature, alpha_anodic=alpha)


def double_layer_current(capacitance, rate_phi_s, rate_phi_e):
    """Charging current density of the double layer C_dl d(phi_s - phi_e)/dt [A/m^2] (anodic sign, from the
    solid into the electrolyte) from the rates of phi_s and phi_e [V/s] on Gamma."""
    return capacitance * (rate_phi_s - rate_phi_e)


def ion_diffusivities(salt_diffusivity, transference_number):
    """Dilute-solution ion diffusivities (D+, D-) = (D / (2 (1 - t+)), D / (2 t+)) [m^2/s] of a binary 1:1
    salt with diffusivity D and cation transference number t+ (inverse of D = 2 D+ D- / (D+ + D-),
    t+ = D+ / (D+ + D-))."""
    return salt_diffusivity / (2 * (1 - transference_number)), salt_diffusivity / (2 * transference_number)


def dilute_conductivity(c, cation_diffusivity, anion_diffusivity, temperature):
    """kappa = F^2 c (D+ + D-) / (R T) [S/m] of a dilute binary 1:1 electrolyte of concentration c."""
    return FARADAY ** 2 * c * (cation_diffusivity + anion_diffusivity) / (GAS_CONSTANT * temperature)


def lithium_reference_potential(phi, c_plus, c_ref, temperature):
    """phi_e = phi + (RT/F) ln(c+ / c_ref) [V]: the potential of a Li reference electrode in the electrolyte
    (electrochemical potential of Li+ over F). The argument of the logarithm is floored at 1e-12 so that an
    intermediate Newton iterate with c+ <= 0 stays finite."""
    return phi + GAS_CONSTANT * temperature / FARADAY * ufl.ln(ufl.max_value(c_plus / c_ref, 1e-12))
