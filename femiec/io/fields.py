"""Field output for ParaView: one ADIOS2 VTX time series (``<name>.bp``) per field, XDMF as an option.

Field names are physical (``potential``, ``concentration_<species>``, ``temperature``,
``flux_<species>``, ``current_density``) and each field's unit is recorded by the writer
(``FieldWriter.manifest``, echoed into summary.json under ``fields``).

VTX keeps the field's own element (P1, P2, DG0, ...) and opens in ParaView with the "ADIOS2VTXReader"
(File > Open, pick the ``.bp`` folder). XDMF (``fields.xdmf`` + ``.h5``) interpolates every field to
first-order Lagrange (vertex values) and is offered for older tools.

A run restarted into the directory of the run it continues (``continuation=True``) continues its series.
DOLFINx 0.9's VTXWriter opens its ADIOS2 engine in write mode only (no append), so the continuation is
written to the next free numbered series, ``<name>_part2.bp`` (then ``_part3``, ...), and when the writer
closes (at the end of the run, or after an interrupt) :func:`femiec.io.vtx_series.join_series` joins it
to ``<name>.bp``: one series with every output time, in which the continuation replaces the steps the
earlier run wrote after the time the continuation starts at. XDMF continuations stay in
``fields_part<k>.xdmf`` beside the earlier file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from femiec.errors import InputError


@dataclass
class FieldInfo:
    name: str
    unit: str
    files: list[str]
    range: tuple[float, float] | None = None  # min and max over all components at the last write


class FieldWriter:
    """Write named fields at output times.

    Args:
        directory: output directory (created on rank 0).
        fields: name -> (dolfinx Function, unit string). The Function's name is set to ``name``.
        formats: subset of ("vtx", "xdmf").
        continuation: the fields continue a series already in ``directory`` (a restarted run): when its
            files exist, write the next numbered series ``<name>_part<k>`` beside them, and join the VTX
            series to ``<name>.bp`` at :meth:`close`.
        selection: the names to write (``[output] fields``; None: all). A name that is not in ``fields``
            is an InputError listing them, unless ``partial`` (this writer holds part of a model's fields,
            and the model checks the selection against all of them with :func:`check_selection`).
        xdmf_stem: the XDMF file name without ``.xdmf`` (``fields``; one file per mesh adds ``_<mesh name>``):
            writers of the same directory need different stems (e.g. one writer per particle), since XDMF
            puts every field of a mesh into one file.
    """

    def __init__(self, directory: Path | str, fields: dict, formats=("vtx",), continuation: bool = False,
                 selection=None, partial: bool = False, xdmf_stem: str = "fields"):
        from dolfinx import fem, io

        from femiec._compat import has_adios2

        if selection is not None:
            if not partial:
                check_selection(selection, fields)
            fields = {name: value for name, value in fields.items() if name in selection}

        unknown = set(formats) - {"vtx", "xdmf"}
        if unknown:
            raise InputError("output.formats", sorted(unknown), "'vtx' and/or 'xdmf'")
        if "vtx" in formats and not has_adios2():
            raise InputError("output.formats", "vtx", "'xdmf' (this DOLFINx was built without ADIOS2)")
        self.directory = Path(directory)
        self.fields = fields
        self._vtx = []
        self._xdmf = []
        self._xdmf_pairs = []
        self._last_time = None
        self._joins = []  # (comm, field name) of VTX series to join at close
        self.manifest: dict[str, FieldInfo] = {}
        for name, (function, unit) in fields.items():
            function.name = name
            self.manifest[name] = FieldInfo(name, unit, [])
        if not fields:
            return
        first = next(iter(fields.values()))[0]
        comm = first.function_space.mesh.comm
        if comm.rank == 0:
            self.directory.mkdir(parents=True, exist_ok=True)
        comm.barrier()
        suffix = comm.bcast(_series_suffix(self.directory, fields, continuation) if comm.rank == 0 else None, root=0)
        if "vtx" in formats:
            for name, (function, _) in fields.items():
                path = self.directory / f"{name}{suffix}.bp"
                self._vtx.append(io.VTXWriter(comm, str(path), [function], engine="BP4"))
                self.manifest[name].files.append(f"{name}.bp")
                if suffix:
                    self._joins.append((comm, name))
        if "xdmf" in formats:
            # XDMF holds one mesh per file: fields on different meshes (e.g. the phase submeshes of the
            # electrode problem) go to one file per mesh, fields_<mesh name>.xdmf
            meshes = list({id(f.function_space.mesh): f.function_space.mesh for f, _ in fields.values()}.values())
            names = [mesh.name for mesh in meshes]
            files = {}  # id(mesh) -> (XDMFFile, file name)
            for k, mesh in enumerate(meshes):
                stem = xdmf_stem if len(meshes) == 1 else f"{xdmf_stem}_{mesh.name}"
                stem += (f"_{k}" if names.count(mesh.name) > 1 else "") + suffix
                xdmf = io.XDMFFile(comm, str(self.directory / f"{stem}.xdmf"), "w")
                xdmf.write_mesh(mesh)
                files[id(mesh)] = (xdmf, f"{stem}.xdmf")
                self._xdmf.append(xdmf)
            for name, (function, _) in fields.items():
                mesh = function.function_space.mesh
                shape = function.function_space.value_shape
                space = fem.functionspace(mesh, ("Lagrange", 1, shape) if shape else ("Lagrange", 1))
                vertex_values = fem.Function(space, name=name)
                xdmf, filename = files[id(mesh)]
                self._xdmf_pairs.append((function, vertex_values, xdmf))
                self.manifest[name].files.append(filename)

    def write(self, t: float) -> None:
        """Write every field at time ``t`` [s] (use 0 for steady results). A second call at the time just
        written does nothing (XDMF cannot hold two datasets of one field at one time)."""
        if t == self._last_time:
            return
        self._last_time = t
        for writer in self._vtx:
            writer.write(t)
        for name, (function, _) in self.fields.items():
            self.manifest[name].range = _global_range(function)
        for function, vertex_values, xdmf in self._xdmf_pairs:
            vertex_values.interpolate(function)
            xdmf.write_function(vertex_values, t)

    def close(self) -> None:
        """Close the files; join the VTX series of a continuation to the series it continues."""
        from femiec.io.vtx_series import continuation_parts, join_series

        for writer in self._vtx:
            writer.close()
        for xdmf in self._xdmf:
            xdmf.close()
        self._vtx, self._xdmf = [], []
        for comm, name in self._joins:
            join_series(self.directory / f"{name}.bp", continuation_parts(self.directory, name), comm)
        self._joins = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def describe(self) -> dict:
        """``{name: {"unit": ..., "files": [...]}}`` for summary.json."""
        return {k: {"unit": v.unit, "files": v.files, "range_last_output": v.range}
                for k, v in self.manifest.items()}


def check_selection(selection, names) -> None:
    """InputError (one line listing ``names``, the model's field names) unless every name of the
    ``[output] fields`` selection is one of them; None selects all."""
    unknown = [name for name in selection or () if name not in names]
    if unknown:
        raise InputError("output.fields", unknown, f"names of this model's fields: {', '.join(names)}")


def _series_suffix(directory: Path, fields: dict, continuation: bool) -> str:
    """"" for a new series; for a continuation of one already in ``directory``, "_part<k>" with the
    smallest k >= 2 whose files do not exist yet."""
    def taken(suffix):
        return any((directory / f"{name}{suffix}.bp").exists() for name in fields) or \
            any(directory.glob(f"fields*{suffix}.xdmf"))

    if not continuation or not taken(""):
        return ""
    k = 2
    while taken(f"_part{k}"):
        k += 1
    return f"_part{k}"


def _global_range(function) -> tuple[float, float]:
    """(min, max) over all components of the owned degrees of freedom, on every rank."""
    import numpy as np
    from mpi4py import MPI

    imap = function.function_space.dofmap.index_map
    owned = function.x.array[: imap.size_local * function.function_space.dofmap.index_map_bs]
    comm = function.function_space.mesh.comm
    lo = comm.allreduce(float(np.min(owned)) if owned.size else np.inf, op=MPI.MIN)
    hi = comm.allreduce(float(np.max(owned)) if owned.size else -np.inf, op=MPI.MAX)
    return lo, hi
