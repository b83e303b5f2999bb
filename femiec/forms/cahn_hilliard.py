"""Cahn–Hilliard phase separation of an insertion host: regular-solution free energy, mixed c–mu weak form
and an energy-stable (convex-splitting) time discretisation (pure UFL, SI units).

Unknowns: the site fraction c [-] (0 < c < 1; the lithium concentration is c_max c [mol/m^3], c_max the
site density [mol/m^3]) and the chemical potential mu [J/mol]. With R T [J/mol], the regular-solution
interaction Omega [J/mol], the gradient-energy coefficient kappa [J m^2/mol] (scalar or a (gdim, gdim)
tensor) and the tracer diffusivity D [m^2/s] (scalar or tensor):

    homogeneous free energy per mole of sites  g(c) = Omega c (1 - c) + R T [c ln c + (1 - c) ln(1 - c)]
    total free energy                          G[c] = int c_max [g(c) + grad c . kappa grad c / 2] dx   [J]
    chemical potential                         mu = dG/d(c_max c) = g'(c) - div(kappa grad c)            [J/mol]
    mobility                                   M(c) = D c (1 - c) / (R T)                        [m^2 mol/(J s)]
    lithium flux                               J = -c_max M(c) grad mu                          [mol/(m^2 s)]
    conservation                               c_max dc/dt + div J = 0

g'(c) = Omega (1 - 2c) + R T ln(c / (1 - c)); M vanishes at c = 0 and 1, and M g'' = D for Omega = 0
(Fick's law of the ideal solution). Natural boundary conditions: kappa grad c . n = 0 (no wall energy)
and J . n = -j_in with j_in [mol/(m^2 s)] a prescribed or reaction-driven inward flux (0: no-flux wall).

Weak form (test functions v, w):

    F_c  = int c_max (c - c_n)/dt v dx + int c_max (M(c) grad mu) . grad v dx - sum int j_in v ds
    F_mu = int (mu - g_s'(c, c_n)) w dx - int kappa grad c . grad w dx

Time scheme (Eyre's convex splitting): g = g_vex + g_cave with the convex entropy g_vex = R T [c ln c +
(1 - c) ln(1 - c)] and the concave enthalpy g_cave = Omega c (1 - c); g_vex' and the (convex) gradient
energy are taken at the new step, g_cave' at the old one: g_s'(c, c_n) = g_vex'(c) + g_cave'(c_n). Then
G(c) - G(c_n) <= int c_max mu (c - c_n) dx = -dt int c_max M grad mu . grad mu dx <= 0 for every dt > 0
(convexity: g_vex(c) - g_vex(c_n) <= g_vex'(c)(c - c_n), g_cave(c) - g_cave(c_n) <= g_cave'(c_n)(c - c_n),
and the same for the quadratic gradient energy), and each step is the minimiser of a convex functional
(uniquely solvable). ``implicit`` takes g_cave' at the new step as well (backward Euler; energy stable
only for small dt, used to converge to an equilibrium).
"""
from __future__ import annotations

import ufl

from femiec.forms.nernst_planck import apply_tensor


def regular_solution_free_energy(c, omega, RT):
    """g(c) = Omega c (1 - c) + R T [c ln c + (1 - c) ln(1 - c)] [J/mol of sites]; Omega, R T [J/mol]."""
    return omega * c * (1 - c) + RT * (c * ufl.ln(c) + (1 - c) * ufl.ln(1 - c))


def entropic_potential(c, RT):
    """g_vex'(c) = R T ln(c / (1 - c)) [J/mol]: the derivative of the convex (ideal-mixing) part."""
    return RT * ufl.ln(c / (1 - c))


def enthalpic_potential(c, omega):
    """g_cave'(c) = Omega (1 - 2 c) [J/mol]: the derivative of the concave part Omega c (1 - c) (Omega > 0)."""
    return omega * (1 - 2 * c)


def homogeneous_potential(c, c_n, omega, RT, scheme: str = "convex_splitting"):
    """The homogeneous part of mu in a step from c_n to c [J/mol]: g_vex'(c) + g_cave'(c_n)
    (``convex_splitting``) or g'(c) (``implicit``)."""
    concave_at = {"convex_splitting": c_n, "implicit": c}[scheme]
    return entropic_potential(c, RT) + enthalpic_potential(concave_at, omega)


def gradient_energy(c, kappa):
    """kappa |grad c|^2 / 2 = grad c . kappa grad c / 2 [J/mol]; kappa [J m^2/mol] scalar or tensor."""
    return ufl.inner(ufl.grad(c), apply_tensor(kappa, ufl.grad(c))) / 2


def free_energy(c, c_max, omega, RT, kappa, dx):
    """G = int c_max [g(c) + kappa |grad c|^2 / 2] dx [J in 3D, J/m in 2D, J/m^2 in 1D]; c_max [mol/m^3]."""
    return c_max * (regular_solution_free_energy(c, omega, RT) + gradient_energy(c, kappa)) * dx


def mobility(c, D, RT):
    """M(c) = D c (1 - c) / (R T) [m^2 mol/(J s)]; D [m^2/s] scalar or tensor (then M is a tensor)."""
    return D * c * (1 - c) / RT


def cahn_hilliard_flux(c, mu, c_max, D, RT):
    """Lithium flux J = -c_max M(c) grad mu [mol/(m^2 s)]; mu [J/mol], c_max [mol/m^3]."""
    return -c_max * apply_tensor(mobility(c, D, RT), ufl.grad(mu))


def lithium_balance_residual(c, c_n, mu, v, dt, c_max, D, RT, dx, inward_fluxes=()):
    """F_c = int c_max (c - c_n)/dt v dx - int J . grad v dx - sum int j_in v ds  [mol/s in 3D].

    ``inward_fluxes``: pairs (j_in, ds) of an inward normal flux j_in [mol/(m^2 s)] (UFL; may depend on c
    and mu, e.g. a reaction rate) and the facet measure it acts on; the other outer facets are no-flux.
    With v = 1: c_max d/dt int c dx = sum int j_in ds (lithium is conserved up to the inflow).
    """
    F = c_max * (c - c_n) / dt * v * dx - ufl.inner(cahn_hilliard_flux(c, mu, c_max, D, RT), ufl.grad(v)) * dx
    for flux, ds in inward_fluxes:
        F -= flux * v * ds
    return F


def chemical_potential_residual(mu, c, c_n, w, omega, RT, kappa, dx, scheme: str = "convex_splitting"):
    """F_mu = int (mu - g_s'(c, c_n)) w dx - int grad w . kappa grad c dx [J m^3/mol in 3D]: the weak
    mu = g_s'(c, c_n) - div(kappa grad c) with kappa grad c . n = 0 on the boundary; g_s' of
    :func:`homogeneous_potential` (``scheme``)."""
    return ((mu - homogeneous_potential(c, c_n, omega, RT, scheme)) * w * dx
            - ufl.inner(apply_tensor(kappa, ufl.grad(c)), ufl.grad(w)) * dx)


def phase_boundary_density(c, c_a, c_b):
    """The integrand of the phase-boundary area [1/m]: |grad c| / (c_b - c_a) where c_a < c < c_b (c_a, c_b
    the binodal site fractions of the two phases), 0 elsewhere. By the coarea formula
    int f(c) |grad c| dx = int f(s) A(s) ds (A(s) the area of the level set c = s) its integral

        A_pb = int_{c_a < c < c_b} |grad c| dx / (c_b - c_a)        [m^2 in 3D; m in 2D; 1 in 1D]

    is the mean area of the level sets between the two phases: exactly the area of a planar interface
    (whatever its width), while composition gradients inside a single phase (c < c_a or c > c_b) do not
    count. The indicator is evaluated at the quadrature points."""
    between = ufl.conditional(ufl.And(ufl.gt(c, c_a), ufl.lt(c, c_b)), 1.0, 0.0)
    return between * ufl.sqrt(ufl.inner(ufl.grad(c), ufl.grad(c))) / (c_b - c_a)
