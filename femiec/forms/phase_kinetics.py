"""Insertion kinetics driven by the chemical potential of a phase-separating host (Bazant's non-equilibrium
thermodynamics; Bai, Cogswell & Bazant, Nano Lett. 11 (2011) 4890; Bazant, Acc. Chem. Res. 46 (2013) 1144)
(UFL or NumPy, SI units).

Reaction at the particle surface: Li+ (electrolyte) + e- (host, at the electrode potential V) + vacancy
<=> Li (host). Reference: a lithium-metal electrode in the same electrolyte (Li+ activity 1, electrolyte
potential 0), so the electrochemical potential of Li+ + e- in the electrode is mu_res = -F V [J/mol]. The
lithium in the host has mu_Li = mu_0 + mu, with mu = g'(c) - div(kappa grad c) [J/mol] the Cahn–Hilliard
chemical potential (femiec.forms.cahn_hilliard, zero at c = 1/2 of the symmetric regular solution) and
mu_0 [J/mol] its standard part, written as the standard potential V0 = -mu_0 / F [V] (the plateau voltage).

    overpotential        F eta = mu_Li - mu_res = F (V - V0) + mu            eta [V]
    equilibrium voltage  V_eq = V0 - mu / F                                  [V]  (eta = V - V_eq)

eta > 0 drives lithium out (anodic, extraction), eta < 0 in. Currents are anodic positive as in
femiec.forms.kinetics; the inward lithium flux is j_in = -i / F [mol/(m^2 s)].

Exchange current (transition-state theory with activities, Bazant 2013): i0 = F k0 a_+^(1-alpha) a^alpha /
gamma_TS, with the electrolyte's a_+ = 1, the lithium activity a = exp(mu / (R T)) (the gradient term
included: the reaction sees the non-equilibrium mu) and a transition state that excludes one site,
gamma_TS = 1 / (1 - c):

    i0(c, mu) = F k0 (1 - c) exp(alpha mu / (R T))                          [A/m^2]

k0 [mol/(m^2 s)] the rate constant. For the ideal solution (Omega = 0, kappa = 0: a = c / (1 - c)) this is
the familiar i0 = F k0 c^alpha (1 - c)^(1 - alpha); with the regular solution it also carries the
enthalpic activity coefficient exp(alpha Omega (1 - 2c) / (R T)). i0 vanishes at c = 1 (no vacancy to
fill) and, through a, at c = 0 (no lithium to extract).

Rates (i0 and eta as above; the rate laws of femiec.forms.kinetics with unit activities there):

    Butler–Volmer:        i = i0 [exp(alpha F eta / (R T)) - exp(-(1 - alpha) F eta / (R T))]
    Marcus–Hush–Chidsey:  i = i0 [k_ox(e) - k_ox(-e)] / k_ox(0),  e = F eta / (R T)  (Zeng–Bazant form)

Coupled ion–electron transfer (CIET; Fraggedakis, McEldrew, Smith, Krishnan, Zhang, Bai, Chueh,
Shao-Horn & Bazant, Nat. Commun. 12 (2021) 1030, the rate for ion insertion into a host with electrons
from a metal-like band): the electron transfers by tunnelling at any energy x [k T, from the Fermi level]
of the host's band (Fermi factor 1 / (1 + exp(x))), while the ion transfer supplies the free energy of the
formal overpotential e_f; the transition state excludes one site (the factor 1 - c):

    e_f = F eta / (R T) - ln c     (formal overpotential, Li+ activity 1; e_f = -ln c at eta = 0)
    i = F k0 (1 - c) / sqrt(4 pi lam) int [c exp(-(x - lam + e_f)^2 / (4 lam))
                                          - exp(-(x - lam - e_f)^2 / (4 lam))] / (1 + exp(x)) dx
      = F k0 (1 - c) [c k(e_f) - k(-e_f)]                                                    [A/m^2]

with lam = lambda / (R T) and k(e) the Chidsey integral normalised to 1 at large e
(femiec.analytic.electrochemistry.marcus_hush_chidsey_integral), evaluated here in the closed form of
Zeng, Smith, Bai & Bazant (femiec.forms.kinetics: k(e) = k_ox(e) / (2 sqrt(pi lam))). This is the
Marcus–Hush–Chidsey current of femiec.forms.kinetics at the formal overpotential with the reduced
activity c and i0 = F k0 (1 - c) k(0), which is how it is computed. Since k(-e) = exp(-e) k(e), the
current vanishes at eta = 0; at large overpotential it saturates at the reaction-limited currents
i -> -F k0 (1 - c) (insertion: every vacancy filled at the full electron-transfer rate) and
i -> F k0 c (1 - c) (extraction); in between the Tafel plot is curved as in Marcus–Hush–Chidsey.

With alpha = 1/2 Butler–Volmer reads i = F k0 (1 - c) [a exp(F (V - V0) / (2 R T)) - exp(-F (V - V0) /
(2 R T))]: extraction proportional to the lithium activity, insertion to the vacancies.
"""
from __future__ import annotations

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.forms.kinetics import (_exp, _log, butler_volmer_current, marcus_hush_chidsey_current,
                                   marcus_hush_chidsey_rate)

RATE_LAWS = ("butler_volmer", "marcus_hush_chidsey", "ciet")


def insertion_overpotential(mu, voltage, standard_potential):
    """eta = V - V0 + mu / F [V]: mu [J/mol], the electrode potential V and the standard potential V0 [V]
    against lithium metal."""
    return voltage - standard_potential + mu / FARADAY


def equilibrium_voltage(mu, standard_potential):
    """V_eq = V0 - mu / F [V]: the electrode potential at which the host with chemical potential mu [J/mol]
    is in equilibrium with the electrolyte."""
    return standard_potential - mu / FARADAY


def insertion_exchange_current(c, mu, rate_constant, temperature, alpha=0.5):
    """i0 = F k0 (1 - c) exp(alpha mu / (R T)) [A/m^2]; k0 [mol/(m^2 s)], mu [J/mol], T [K]."""
    return FARADAY * rate_constant * (1 - c) * _exp(alpha * mu / (GAS_CONSTANT * temperature))


def insertion_current(c, mu, voltage, *, standard_potential, rate_constant, temperature,
                      rate_law="butler_volmer", alpha=0.5, reorganization_energy=None):
    """Anodic current density i [A/m^2] of Li+ + e- + vacancy <=> Li(host) (positive: extraction).

    Args:
        c: site fraction [-]; mu: chemical potential [J/mol]; voltage: electrode potential V [V].
        standard_potential: V0 [V]; rate_constant: k0 [mol/(m^2 s)]; temperature: T [K].
        rate_law: "butler_volmer" (transfer coefficient ``alpha``), "marcus_hush_chidsey"
            (``reorganization_energy`` lambda [J/mol]; alpha sets only i0's activity exponent) or "ciet"
            (lambda; alpha unused).
    """
    eta = insertion_overpotential(mu, voltage, standard_potential)
    if rate_law == "ciet":
        return ciet_current(c, eta, rate_constant, temperature, reorganization_energy)
    i0 = insertion_exchange_current(c, mu, rate_constant, temperature, alpha)
    if rate_law == "butler_volmer":
        return butler_volmer_current(i0, eta, temperature, alpha_anodic=alpha)
    return marcus_hush_chidsey_current(i0, eta, temperature, reorganization_energy)


def ciet_current(c, eta, rate_constant, temperature, reorganization_energy):
    """CIET current density i = F k0 (1 - c) [c k(e_f) - k(-e_f)] [A/m^2] (module docstring), anodic
    positive: c [-], eta [V], k0 [mol/(m^2 s)], T [K], lambda [J/mol]."""
    RT = GAS_CONSTANT * temperature
    formal = eta - RT / FARADAY * _log(c)  # e_f R T / F [V]
    i0 = FARADAY * rate_constant * (1 - c) * marcus_hush_chidsey_rate(0.0, reorganization_energy / RT) / 2
    return marcus_hush_chidsey_current(i0, formal, temperature, reorganization_energy, reduced_activity=c)


def inward_lithium_flux(current_density):
    """j_in = -i / F [mol/(m^2 s)]: the lithium entering the host for an anodic current density i [A/m^2]."""
    return -current_density / FARADAY
