"""The coherency-strain switch of :class:`femiec.problems.cahn_hilliard.CahnHilliardProblem`: its parameters
(:class:`CoherencyStrain`, checked) and the displacement conditions of a particle (forms:
:mod:`femiec.forms.coherency`; docs/cahn_hilliard.md).

Supports:

- ``free`` (a particle): the whole surface is traction-free; the rigid-body modes (1 in 1D, 3 in 2D, 6 in
  3D) are removed by a statically determinate set of point conditions on mesh vertices: all components at
  a vertex p1 (the lexicographically largest), the components of u at the vertex p2 farthest from p1
  that a rotation moves most (those other than the dominant one of p2 - p1), and in 3D one component at
  the vertex p3 farthest from the line p1 p2, the one that makes the 3 rotation rows best conditioned.
  The eigenstrain load is self-equilibrated (the residual vanishes for every rigid test function), so
  the reactions at these points are zero: the solution is the traction-free one, fixed in place.
  The points are chosen from global reductions over the ranks, the same on every partition.
- ``rollers`` (a box): u . n = 0 and zero shear traction on every face xmin, xmax, ... of a box mesh.
- ``clamped``: u = 0 on the whole outer boundary.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femiec.errors import InputError

SUPPORTS = ("free", "rollers", "clamped")
BOX_FACES = ("xmin", "xmax", "ymin", "ymax", "zmin", "zmax")


@dataclass
class CoherencyStrain:
    """Coherency strain of an isotropic host: Young's modulus E [Pa], Poisson's ratio nu [-] (-1 < nu <
    1/2), the Vegard tensor B [-] (a number beta: B = beta I; three numbers: the diagonal along x, y, z; or
    a symmetric 3x3 matrix), the stress-free site fraction c_ref [-] and the ``support``
    (:data:`SUPPORTS`)."""

    youngs_modulus: float
    poisson_ratio: float
    vegard: object
    reference: float = 0.0
    support: str = "free"

    def vegard_tensor(self) -> np.ndarray:
        """B as a symmetric 3x3 array, checked, with E, nu, c_ref and the support (InputError)."""
        if not (np.isfinite(self.youngs_modulus) and self.youngs_modulus > 0):
            raise InputError("coherency.youngs_modulus", self.youngs_modulus, "a positive modulus in Pa")
        if not (np.isfinite(self.poisson_ratio) and -1 < self.poisson_ratio < 0.5):
            raise InputError("coherency.poisson_ratio", self.poisson_ratio, "a number in (-1, 0.5)")
        if not (np.isfinite(self.reference) and 0 <= self.reference <= 1):
            raise InputError("coherency.reference", self.reference, "a site fraction in [0, 1]")
        if self.support not in SUPPORTS:
            raise InputError("coherency.support", self.support, f"one of {list(SUPPORTS)}")
        try:
            value = np.asarray(self.vegard, dtype=float)
        except (TypeError, ValueError):
            value = np.full(1, np.nan)
        tensor = None
        if value.shape == ():
            tensor = value * np.eye(3)
        elif value.shape == (3,):
            tensor = np.diag(value)
        elif value.shape == (3, 3) and np.allclose(value, value.T):
            tensor = value
        if tensor is None or not np.all(np.isfinite(tensor)):
            raise InputError("coherency.vegard", self.vegard, "a number, 3 values (x, y, z) or a symmetric 3x3 "
                             "matrix of lattice strains per unit site fraction")
        return tensor


def mesh_extent(msh) -> float:
    """The largest extent of the mesh's bounding box [m] (all ranks)."""
    from femiec.meshing.base import bounding_box

    lower, upper = bounding_box(msh)
    return float(np.max(upper - lower))


def displacement_conditions(space, meshdata, support: str) -> list:
    """Zero-displacement DirichletBCs on ``space`` (P1 displacement, scalar in 1D) for ``support``."""
    from dolfinx import fem, mesh as dmesh

    msh = space.mesh
    gdim, fdim = msh.geometry.dim, msh.topology.dim - 1
    components = [(space, None)] if gdim == 1 else [(space.sub(i), space.sub(i).collapse()[0]) for i in range(gdim)]
    if support == "clamped":
        msh.topology.create_connectivity(fdim, fdim + 1)
        facets = dmesh.exterior_facet_indices(msh.topology)
        dofs = fem.locate_dofs_topological(space, fdim, facets)
        return [fem.dirichletbc(np.zeros(gdim) if gdim > 1 else 0.0, dofs, space)]
    if support == "rollers":
        names = [n for n in BOX_FACES[:2 * gdim]]
        bcs = []
        for name in names:
            sub, collapsed = components["xyz".index(name[0])]
            facets = meshdata.facet_tags.find(meshdata.facet_id(name, "coherency.support"))
            dofs = fem.locate_dofs_topological(sub if collapsed is None else (sub, collapsed), fdim, facets)
            bcs.append(_zero_condition(sub, collapsed, dofs))
        return bcs
    return [_zero_condition(components[i][0], components[i][1], _vertex_dofs(components[i], point))
            for point, i in rigid_body_pins(space)]


def _zero_condition(sub, collapsed, dofs):
    from dolfinx import fem

    if collapsed is None:
        return fem.dirichletbc(0.0, dofs, sub)
    zero = fem.Function(collapsed)
    return fem.dirichletbc(zero, dofs, sub)


def _vertex_dofs(component, point):
    """The dofs of ``component`` at the vertex ``point`` (owned or ghost; none on ranks without it)."""
    from dolfinx import fem
    from mpi4py import MPI

    sub, collapsed = component
    padded = np.zeros(3)
    padded[:len(point)] = point
    tolerance = 1e-10 * mesh_extent(sub.mesh)

    def at(x):
        return np.all(np.abs(x.T - padded) <= tolerance, axis=1)

    dofs = fem.locate_dofs_geometrical(sub if collapsed is None else (sub, collapsed), at)
    local = dofs[0] if collapsed is not None else dofs
    if sub.mesh.comm.allreduce(len(local), op=MPI.SUM) == 0:
        raise RuntimeError(f"no displacement dof at the pinned vertex {padded}")
    return dofs


def rigid_body_pins(space) -> list[tuple[np.ndarray, int]]:
    """(vertex, component) pairs whose zero displacement removes the rigid-body modes (module docstring)."""
    comm, gdim = space.mesh.comm, space.mesh.geometry.dim
    owned = space.dofmap.index_map.size_local
    x = space.tabulate_dof_coordinates()[:owned, :gdim]

    def best(score):
        """The vertex of the largest score (ties: lexicographically largest coordinates), over all ranks."""
        local = None
        if owned:
            keys = np.column_stack([score(x), x])
            local = keys[np.lexsort(keys.T[::-1])[-1]]
        candidates = [k for k in comm.allgather(local) if k is not None]
        keys = np.array(candidates)
        return keys[np.lexsort(keys.T[::-1])[-1]][1:]

    p1 = best(lambda y: np.zeros(len(y)))
    pins = [(p1, i) for i in range(gdim)]
    if gdim == 1:
        return pins
    d2 = best(lambda y: np.sum((y - p1) ** 2, axis=1)) - p1
    p2 = p1 + d2
    dominant = int(np.argmax(np.abs(d2)))
    pins += [(p2, i) for i in range(gdim) if i != dominant]
    if gdim == 2:
        return pins
    axis = d2 / np.linalg.norm(d2)
    d3 = best(lambda y: np.sum(np.cross(y - p1, axis) ** 2, axis=1)) - p1
    rows = [np.cross(d2, np.eye(3)[i]) for i in range(3) if i != dominant]
    dets = [abs(np.linalg.det(np.array(rows + [np.cross(d3, np.eye(3)[i])]))) for i in range(3)]
    pins.append((p1 + d3, int(np.argmax(dets))))
    return pins
