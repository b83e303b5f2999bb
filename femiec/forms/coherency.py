"""Coherency strain of an insertion host: small-strain linear elasticity with a Vegard eigenstrain, coupled to
the Cahn–Hilliard chemical potential (pure UFL, SI units; :mod:`femiec.forms.cahn_hilliard`).

Unknowns: the site fraction c [-] and the displacement u [m]. With Young's modulus E [Pa], Poisson's ratio
nu [-] (isotropic stiffness C, Lamé lambda = E nu / ((1 + nu)(1 - 2 nu)), shear modulus G = E / (2 (1 + nu))),
the Vegard tensor B [-] (symmetric 3x3: beta I for an isotropic host, diag(0.05, 0.036, -0.019) for the
lattice misfits of LiFePO4 along a, b, c) and the reference site fraction c_ref [-] of the stress-free
lattice:

    total strain          eps(u) = sym grad u                                                    [-]
    Vegard eigenstrain    eps0(c) = (c - c_ref) B                                                [-]
    stress                sigma = C : (eps - eps0) = 2 G e + lambda tr(e) I,   e = eps - eps0     [Pa]
    elastic energy        W = (1/2) (eps - eps0) : C : (eps - eps0)                           [J/m^3]
    equilibrium           div sigma = 0           (weak: int sigma : eps(v) dx = 0 for every v)
    chemical potential    mu_el = dW/d(c_max c) = -V_m sigma : B,  V_m = 1 / c_max [m^3/mol]  [J/mol]

so the total free energy is G = int c_max [g(c) + kappa |grad c|^2 / 2] dx + int W dx and mu = g'(c)
- div(kappa grad c) + mu_el. The tensors are always 3x3: a 2D mesh is a cross-section in plane strain
(eps_zz = eps_xz = eps_yz = 0) and a 1D mesh a slab in uniaxial strain (only eps_xx), the out-of-plane
eigenstrain components still acting (a laterally constrained slice of an infinite body; a uniform c != c_ref
then stresses it unless those components of B vanish; a 3D particle expands freely).

Energy stability with convex splitting: W is a positive semidefinite quadratic form of (eps(u), c) jointly
(eps0 is affine in c), hence convex; taken at the new step together with the mechanical equilibrium,
W(c, u) - W(c_n, u_n) <= sigma : (eps(u) - eps(u_n)) - sigma : B (c - c_n), whose first part integrates to
zero (equilibrium tested with v = u - u_n, admissible for homogeneous supports) and whose second part
joins int c_max mu (c - c_n) dx: the unconditional energy law of Eyre's scheme carries over.
"""
from __future__ import annotations

import ufl


def lame_parameters(youngs_modulus, poisson_ratio):
    """(G, lambda) [Pa] of an isotropic solid: G = E / (2 (1 + nu)), lambda = E nu / ((1 + nu)(1 - 2 nu))."""
    E, nu = youngs_modulus, poisson_ratio
    return E / (2 * (1 + nu)), E * nu / ((1 + nu) * (1 - 2 * nu))


def strain(u, gdim: int):
    """eps(u) = sym grad u as a 3x3 tensor [-] (plane strain in 2D, uniaxial strain in 1D, where u is the
    scalar displacement along x)."""
    if gdim == 1:
        return ufl.as_matrix([[u.dx(0), 0, 0], [0, 0, 0], [0, 0, 0]])
    g = ufl.sym(ufl.grad(u))
    rows = [[g[i, j] if i < gdim and j < gdim else 0 for j in range(3)] for i in range(3)]
    return ufl.as_matrix(rows)


def eigenstrain(c, vegard, c_ref):
    """eps0(c) = (c - c_ref) B [-]; B the 3x3 Vegard tensor [-], c_ref the stress-free site fraction [-]."""
    return (c - c_ref) * vegard


def stress(elastic_strain, youngs_modulus, poisson_ratio):
    """sigma = 2 G e + lambda tr(e) I [Pa] of the elastic strain e = eps - eps0 (3x3)."""
    shear, lam = lame_parameters(youngs_modulus, poisson_ratio)
    return 2 * shear * elastic_strain + lam * ufl.tr(elastic_strain) * ufl.Identity(3)


def coherency_stress(c, u, gdim: int, youngs_modulus, poisson_ratio, vegard, c_ref):
    """sigma = C : (eps(u) - eps0(c)) [Pa] (3x3)."""
    return stress(strain(u, gdim) - eigenstrain(c, vegard, c_ref), youngs_modulus, poisson_ratio)


def elastic_energy_density(c, u, gdim: int, youngs_modulus, poisson_ratio, vegard, c_ref):
    """W = (1/2) sigma : (eps - eps0) [J/m^3]."""
    elastic = strain(u, gdim) - eigenstrain(c, vegard, c_ref)
    return ufl.inner(stress(elastic, youngs_modulus, poisson_ratio), elastic) / 2


def elastic_potential(c, u, gdim: int, c_max, youngs_modulus, poisson_ratio, vegard, c_ref):
    """mu_el = -V_m sigma : B = -sigma : B / c_max [J/mol]: the derivative of W per mole of lithium."""
    sigma = coherency_stress(c, u, gdim, youngs_modulus, poisson_ratio, vegard, c_ref)
    return -ufl.inner(sigma, vegard) / c_max


def equilibrium_residual(c, u, v, gdim: int, youngs_modulus, poisson_ratio, vegard, c_ref, dx):
    """F_u = int sigma : eps(v) dx [N m in 3D]: the weak div sigma = 0 with sigma . n = 0 on the facets
    without a displacement condition (traction-free surface)."""
    sigma = coherency_stress(c, u, gdim, youngs_modulus, poisson_ratio, vegard, c_ref)
    return ufl.inner(sigma, strain(v, gdim)) * dx
