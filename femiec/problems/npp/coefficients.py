"""Coefficients of a Nernst–Planck–Poisson problem from their specs (numbers, tensors, per-region tables,
laws of T, UFL), on the problem's mesh and at its temperature."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import ufl

from femiec.errors import InputError


def coefficient(problem, spec, key):
    """Scalar/tensor coefficient: Constant, DG0 tensor per cell region, or a UFL expression as given."""
    from dolfinx import fem

    from femiec.materials.tensors import plane_block, tensor_coefficient, tensor_from_spec

    if isinstance(spec, ufl.core.expr.Expr):
        return spec
    if callable(spec):
        value = spec(problem.T)
        return value if isinstance(value, ufl.core.expr.Expr) else coefficient(problem, float(value), key)
    if isinstance(spec, Mapping) and "symmetry" not in spec:
        return tensor_coefficient(problem.meshdata, spec, name=key)
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return fem.Constant(problem.mesh, float(tensor_from_spec(spec, key)[0, 0]))
    tensor = plane_block(tensor_from_spec(spec, key), problem.mesh.geometry.dim)
    return fem.Constant(problem.mesh, np.ascontiguousarray(tensor))


def scalar_coefficient(problem, spec, key):
    """Number, mapping cell region -> number (DG0), UFL expression, or None."""
    from dolfinx import fem

    if spec is None or isinstance(spec, ufl.core.expr.Expr):
        return spec
    if isinstance(spec, Mapping):
        V = fem.functionspace(problem.mesh, ("DG", 0))
        f = fem.Function(V, name=key)
        for region, value in spec.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"{key}.{region}", value, "a number")
            cells = problem.meshdata.cell_tags.find(problem.meshdata.cell_tag(region) if isinstance(region, str)
                                                    else int(region))
            f.x.array[V.dofmap.list[cells, 0]] = float(value)
        f.x.scatter_forward()
        return f
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return fem.Constant(problem.mesh, float(spec))
    raise InputError(key, spec, "a number, a mapping cell region -> number, or a UFL expression")
