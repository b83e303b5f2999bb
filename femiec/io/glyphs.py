"""Principal values and directions of a cell-wise (DG0) tensor field, written for ParaView glyphs.

For a symmetric tensor K on each cell, K = sum_k lambda_k a_k a_k^T with lambda_1 >= lambda_2 (>= lambda_3)
and unit principal directions a_k. :func:`write_principal_directions` writes, per cell (ADIOS2 VTX, one
``<field>.bp`` folder per field, cell data):

- ``<name>_axis<k>``: the unit direction a_k (DG0 vector; the sign of a direction is arbitrary, normalised
  so that its largest component is positive);
- ``<name>_value<k>``: lambda_k in the tensor's unit (DG0 scalar);
- ``<name>_anisotropy``: lambda_1 / lambda_gdim (dimensionless).

In ParaView: open ``<name>_axis1.bp`` (ADIOS2VTXReader), apply "Cell Centers", then "Glyph" with glyph
type "Line" or "Arrow", orientation array ``<name>_axis1`` and (after loading ``<name>_value1.bp`` with
"Append Attributes") scale array ``<name>_value1``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def principal_axes(tensor) -> tuple[np.ndarray, np.ndarray]:
    """Principal values (num_owned_cells, gdim), descending, and unit directions (num_owned_cells, gdim,
    gdim) with direction k in ``[:, :, k]``, of a DG0 tensor Function (shape (gdim, gdim))."""
    V = tensor.function_space
    mesh = V.mesh
    n = mesh.topology.index_map(mesh.topology.dim).size_local
    gdim = V.value_shape[0]
    K = tensor.x.array.reshape(-1, gdim * gdim)[V.dofmap.list[:n, 0]].reshape(n, gdim, gdim)
    values, vectors = np.linalg.eigh(0.5 * (K + K.transpose(0, 2, 1)))
    values, vectors = values[:, ::-1], vectors[:, :, ::-1]
    largest = np.take_along_axis(vectors, np.abs(vectors).argmax(axis=1)[:, None, :], axis=1)
    return values, vectors * np.sign(largest)


def principal_names(name: str, gdim: int) -> list[str]:
    """Names of the fields :func:`principal_functions` makes, in its order."""
    return [f"{name}_{kind}{k}" for k in range(1, gdim + 1) for kind in ("axis", "value")] + [f"{name}_anisotropy"]


def principal_functions(tensor, name: str) -> dict:
    """DG0 Functions ``<name>_axis<k>``, ``<name>_value<k>`` and ``<name>_anisotropy`` (module doc)."""
    from dolfinx import fem

    mesh = tensor.function_space.mesh
    gdim = tensor.function_space.value_shape[0]
    n = mesh.topology.index_map(mesh.topology.dim).size_local
    values, vectors = principal_axes(tensor)
    scalar_space = fem.functionspace(mesh, ("DG", 0))
    vector_space = fem.functionspace(mesh, ("DG", 0, (gdim,)))
    functions = {}

    def cellwise(space, label, data):
        f = fem.Function(space, name=label)
        bs = space.dofmap.index_map_bs
        f.x.array.reshape(-1, bs)[space.dofmap.list[:n, 0]] = data.reshape(n, bs)
        f.x.scatter_forward()
        functions[label] = f

    for k in range(gdim):
        cellwise(vector_space, f"{name}_axis{k + 1}", vectors[:, :, k])
        cellwise(scalar_space, f"{name}_value{k + 1}", values[:, k])
    cellwise(scalar_space, f"{name}_anisotropy", values[:, 0] / values[:, -1])
    return functions


def write_principal_directions(directory: Path | str, tensor, name: str = "conductivity", unit: str = "S/m",
                               formats=("vtx",), selection=None) -> dict:
    """Write the principal directions/values of the DG0 tensor Function ``tensor`` (module doc) into
    ``directory`` (those named in ``selection`` when given, checked by the caller against all its field
    names); returns ``{field: {"unit": ..., "files": [...]}}`` for summary.json."""
    from femiec.io.fields import FieldWriter

    functions = principal_functions(tensor, name)
    units = {label: ("1" if "_axis" in label or label.endswith("anisotropy") else unit) for label in functions}
    with FieldWriter(directory, {k: (f, units[k]) for k, f in functions.items()}, formats=formats,
                     selection=selection, partial=True) as writer:
        writer.write(0.0)
    return writer.describe()
