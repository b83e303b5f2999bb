"""Steady O2 diffusion in a gas slab (femiec.problems.gas_diffusion.GasDiffusionProblem) against closed forms,
at 1073 K and 1 bar (c_t = 11.209 mol/m^3, Fuller D_12 = 1.9613e-4 m^2/s), slab length L = 1 mm.

(a) Fick with a uniform volumetric sink s, 3D box 0.2 x 0.2 x 1 mm (hexahedra, 1 x 1 x N cells), supplied at
    z = L (x = x0 = 0.21), closed at z = 0 and on the sides: c_t D x'' = s, x = x0 - s (L^2 - z^2) / (2 c_t D).
    s = 0.5 c_t D x0 / L^2 (x(0) = 0.75 x0), D = D_eff of 100 nm pores (Bosanquet). Q1 is nodally exact here
    (the solution depends on z only, one cell across: 1D P1 with a constant source), so the measure is the
    RMS error sqrt(int (x - x_exact)^2 dx / V) (interpolation error), order 2 on N = 8, 16, 32; the O2
    supplied at z = L equals int s dx to 1e-12.
(b) Stagnant N2 (dusty-gas flux N = -c_t grad x / ((1 - x)/D_12 + 1/D_K)), 1D, x = x0 at z = 0, outward O2
    flux N0 at z = L and no sink: the flux N0 is uniform and a - b x = (a - b x0) exp(b N0 z / c_t),
    a = 1/D_12 + 1/D_K, b = 1/D_12. Without walls (D_K = inf) that is Stefan's
    x(z) = 1 - (1 - x0) exp(N0 z / (c_t D_12)). x0 = 0.9 (near pure O2, where the Stefan factor matters),
    N0 = c_t D_12 / L (x(L) = 0.728); with 1 um pores N0 = 0.3 c_t D_12 / L. Nodal max error order 2 on
    N = 10, 20, 40 (measured 2.00); the supplied O2 equals N0 to 1e-12. Fick's law with D_12 would need the
    drop x0 - x(L) = N0 L / (c_t D_12) = 1 (x(L) < 0) for the flux that Stefan flow carries with a drop of
    0.17: the flux law matters at high x.
Tests marked mpi record the same numbers on 1 and 2 ranks.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import ufl

from femiec.meshing.box import box_mesh
from femiec.problems.base import global_integral
from femiec.problems.gas_diffusion import GasDiffusionProblem

pytestmark = pytest.mark.mpi

T, P, L = 1073.0, 1e5, 1e-3


def _max_error(comm, problem, exact, axis) -> float:
    coordinates = problem.space.tabulate_dof_coordinates()[:, axis]
    owned = problem.space.dofmap.index_map.size_local
    local = np.abs(problem.x.x.array[:owned] - exact(coordinates[:owned])).max(initial=0.0)
    return comm.allreduce(local, op=_max())


def _max():
    from mpi4py import MPI

    return MPI.MAX


def _orders(errors) -> np.ndarray:
    return np.log2(np.asarray(errors[:-1]) / np.asarray(errors[1:]))


def test_fick_sink_parabola(comm, numbers):
    """(a) of the module docstring."""
    x0, errors, balance = 0.21, [], []
    for cells in (8, 16, 32):
        mesh = box_mesh([2e-4, 2e-4, L], [1, 1, cells], cell_type="hexahedron", comm=comm)
        problem = GasDiffusionProblem(mesh, temperature=T, pressure=P, pore_diameter=1e-7)
        c, D = problem.total_concentration, problem.effective_diffusivity
        sink = 0.5 * c * D * x0 / L ** 2
        problem.sink = sink
        problem.set_mole_fraction("zmax", x0)
        problem.solve()
        z = ufl.SpatialCoordinate(mesh.mesh)[2]
        exact = x0 - sink * (L ** 2 - z ** 2) / (2 * c * D)
        errors.append(math.sqrt(global_integral((problem.x - exact) ** 2 * ufl.dx(metadata={"quadrature_degree": 6}),
                                                comm) / 4e-8 / L))
        balance.append(-problem.oxygen_flow("zmax") / problem.oxygen_sink() - 1)
    orders = _orders(errors)
    numbers.record("rms_error", errors)
    numbers.record("orders", orders)
    assert np.all(np.abs(orders - 2) < 0.1), orders
    assert np.all(np.abs(balance) < 1e-12), balance


@pytest.mark.parametrize("pore_diameter", [None, 1e-6])
def test_stagnant_nitrogen(comm, numbers, pore_diameter):
    """(b) of the module docstring."""
    x0, errors, balance = 0.9, [], []
    for cells in (10, 20, 40):
        problem = GasDiffusionProblem(box_mesh([L], [cells], cell_type=None, comm=comm), temperature=T, pressure=P,
                                      pore_diameter=pore_diameter, flux_law="dusty_gas", initial_mole_fraction=x0)
        c, a, b = problem.total_concentration, 1 / problem.effective_diffusivity, 1 / problem.binary_diffusivity
        flux = (1.0 if pore_diameter is None else 0.3) * c / (b * L)
        problem.set_mole_fraction("xmin", x0)
        problem.set_oxygen_flux("xmax", flux)
        problem.solve()
        errors.append(_max_error(comm, problem, lambda z: (a - (a - b * x0) * np.exp(b * flux * z / c)) / b, 0))
        balance.append(-problem.oxygen_flow("xmin") / flux - 1)
    orders = _orders(errors)
    numbers.record("max_error", errors)
    numbers.record("orders", orders)
    assert np.all(np.abs(orders - 2) < 0.1), orders
    assert np.all(np.abs(balance) < 1e-12), balance
    if pore_diameter is None:  # Stefan's closed form, and how far Fick's law is from it
        assert math.isinf(problem.knudsen_diffusivity)
        from mpi4py import MPI

        end = comm.allreduce(problem.x.x.array.min(), op=MPI.MIN)  # x(L) = 0.72817
        assert end == pytest.approx(1 - (1 - x0) * math.e, rel=1e-3)
        assert x0 - flux * L / (c * problem.binary_diffusivity) < 0  # Fick's law: x(L) = 0.9 - 1
