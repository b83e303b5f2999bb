"""Output is read back with ParaView's own Python (pvpython), the client our users use."""
from __future__ import annotations

import numpy as np
import pytest


def _exact(x):
    """A quadratic field, represented exactly by P2 and by P1 at the vertices: u = x^2 + 2y - z."""
    return x[0] ** 2 + 2.0 * x[1] - x[2]


@pytest.mark.mpi
@pytest.mark.parametrize("degree", [1, 2])
def test_vtx_and_xdmf_read_by_pvpython(tmp_path_factory, comm, numbers, degree):
    """Oracle: the values ParaView reads at each point equal u(x) = x^2 + 2y - z at that point's
    coordinates (time-scaled by 3 at the last of two output times), to 1e-12 for VTX and 1e-6 for XDMF."""
    from dolfinx import fem, mesh

    from femiec.io.fields import FieldWriter
    from femiec.io.pvread import probe

    out = comm.bcast(str(tmp_path_factory.mktemp("pv")) if comm.rank == 0 else None)
    m = mesh.create_unit_cube(comm, 3, 3, 3)
    u = fem.Function(fem.functionspace(m, ("Lagrange", degree)))
    flux = fem.Function(fem.functionspace(m, ("DG", 0, (3,))))
    flux.x.array[:] = np.tile([1.0, -2.0, 0.5], flux.x.array.size // 3)
    u.interpolate(_exact)
    with FieldWriter(out, {"potential": (u, "V"), "current_density": (flux, "A/m^2")},
                     formats=("vtx", "xdmf")) as writer:
        writer.write(0.0)
        u.x.array[:] *= 3.0
        writer.write(1.0)
        manifest = writer.describe()
    assert manifest["potential"]["unit"] == "V"
    assert manifest["potential"]["files"] == ["potential.bp", "fields.xdmf"]
    # range at the last output: u = 3 (x^2 + 2y - z) on the unit cube spans [-3, 9]
    assert np.allclose(manifest["potential"]["range_last_output"], [-3.0, 9.0], rtol=0, atol=1e-12)

    result = None
    if comm.rank == 0:
        files = [f"{out}/potential.bp", f"{out}/current_density.bp", f"{out}/fields.xdmf"]
        result = probe(*files)
    result = comm.bcast(result)
    errors = {}
    for key in ("potential.bp", "fields.xdmf"):
        data = result[f"{out}/{key}"]
        assert "potential" in data["point_arrays"]
        assert data["times"] == [0.0, 1.0]
        pts = np.array(data["fields"]["potential"]["points"]).T
        values = np.array(data["fields"]["potential"]["values"])
        errors[key] = np.max(np.abs(values - 3.0 * _exact(pts)))
        # ParaView's XDMF reader hands points over in single precision (error ~3e-7 here); VTX is exact
        assert errors[key] < (1e-12 if key.endswith(".bp") else 1e-6), (key, errors[key])
    vtx_flux = result[f"{out}/current_density.bp"]
    arrays = vtx_flux["point_arrays"] + vtx_flux["cell_arrays"]
    assert arrays == ["current_density"]
    flux_values = np.array({**vtx_flux["fields"], **vtx_flux["cell_fields"]}["current_density"])
    flux_values = flux_values["values"] if isinstance(flux_values, dict) else flux_values
    assert np.allclose(flux_values, [1.0, -2.0, 0.5], atol=1e-14)
    numbers.record("vtx_error_below_1e-12", errors["potential.bp"] < 1e-12)


@pytest.mark.mpi
def test_xdmf_of_fields_on_two_submeshes_read_by_pvpython(tmp_path_factory, comm):
    """Fields on two submeshes go to one XDMF file per submesh (fields_<mesh name>.xdmf), a repeated output
    time is written once, and ParaView reads each file's points and values: u = x + 1 on the left half,
    w = 2 y on the right half."""
    from dolfinx import fem, mesh

    from femiec.io.fields import FieldWriter
    from femiec.io.pvread import probe
    from femiec.meshing.submeshes import phase_submesh

    out = comm.bcast(str(tmp_path_factory.mktemp("pv2")) if comm.rank == 0 else None)
    m = mesh.create_unit_cube(comm, 4, 2, 2)
    tdim = m.topology.dim
    cells = np.arange(m.topology.index_map(tdim).size_local + m.topology.index_map(tdim).num_ghosts, dtype=np.int32)
    left = mesh.compute_midpoints(m, tdim, cells)[:, 0] < 0.5
    halves = [phase_submesh(m, cells[side], name).mesh for side, name in ((left, "left"), (~left, "right"))]
    u = fem.Function(fem.functionspace(halves[0], ("Lagrange", 1)))
    w = fem.Function(fem.functionspace(halves[1], ("Lagrange", 1)))
    u.interpolate(lambda x: x[0] + 1)
    w.interpolate(lambda x: 2 * x[1])
    with FieldWriter(out, {"u": (u, "1"), "w": (w, "1")}, formats=("xdmf",)) as writer:
        writer.write(0.0)
        writer.write(0.0)
        manifest = writer.describe()
    assert manifest["u"]["files"] == ["fields_left.xdmf"] and manifest["w"]["files"] == ["fields_right.xdmf"]
    result = comm.bcast(probe(f"{out}/fields_left.xdmf", f"{out}/fields_right.xdmf") if comm.rank == 0 else None)
    for path, name, exact in (("fields_left.xdmf", "u", lambda p: p[0] + 1), ("fields_right.xdmf", "w",
                                                                                 lambda p: 2 * p[1])):
        data = result[f"{out}/{path}"]
        assert data["times"] == [0.0]
        points = np.array(data["fields"][name]["points"]).T
        values = np.array(data["fields"][name]["values"])
        assert np.allclose(values, exact(points), atol=1e-6)


@pytest.mark.mpi
def test_continued_vtx_series_is_joined_and_read_by_pvpython(tmp_path_factory, comm):
    """Oracle: a run writing u = (1 + t)(x^2 + 2y - z) at t = 0, 1, 2 s, then a continuation (a restart
    from t = 1.2 s) writing t = 1.5, 3 s into the same directory, leave one series per field whose times
    are 0, 1, 1.5, 3 (the continuation replaces the step at 2 s written after its start) and whose last
    values ParaView reads as 4 (x^2 + 2y - z) to 1e-12; a P1 field and a DG0 field (written with its mesh
    at every step), no ``_part2`` left."""
    from dolfinx import fem, mesh

    from femiec.io.fields import FieldWriter
    from femiec.io.pvread import probe
    from femiec.io.vtx_series import series_times

    out = comm.bcast(str(tmp_path_factory.mktemp("joined")) if comm.rank == 0 else None)
    m = mesh.create_unit_cube(comm, 3, 3, 3)
    u = fem.Function(fem.functionspace(m, ("Lagrange", 1)))
    flux = fem.Function(fem.functionspace(m, ("DG", 0, (3,))))
    fields = {"potential": (u, "V"), "current_density": (flux, "A/m^2")}

    def write(writer, t):
        u.interpolate(lambda x: (1.0 + t) * _exact(x))
        flux.x.array[:] = np.tile([1.0 + t, -2.0, 0.5], flux.x.array.size // 3)
        writer.write(t)

    for times, continuation in (([0.0, 1.0, 2.0], False), ([1.5, 3.0], True)):
        with FieldWriter(out, fields, continuation=continuation) as writer:
            for t in times:
                write(writer, t)
    assert writer.describe()["potential"]["files"] == ["potential.bp"]
    result = None
    if comm.rank == 0:
        from pathlib import Path

        assert sorted(p.name for p in Path(out).iterdir()) == ["current_density.bp", "potential.bp"]
        assert series_times(Path(out) / "current_density.bp") == [0.0, 1.0, 1.5, 3.0]
        result = probe(f"{out}/potential.bp", f"{out}/current_density.bp")
    result = comm.bcast(result)
    data = result[f"{out}/potential.bp"]
    assert data["times"] == [0.0, 1.0, 1.5, 3.0]
    points = np.array(data["fields"]["potential"]["points"]).T
    assert np.max(np.abs(np.array(data["fields"]["potential"]["values"]) - 4.0 * _exact(points))) < 1e-12
    vtx_flux = result[f"{out}/current_density.bp"]
    flux_values = {**vtx_flux["fields"], **vtx_flux["cell_fields"]}["current_density"]
    flux_values = flux_values["values"] if isinstance(flux_values, dict) else flux_values
    assert np.allclose(flux_values, [4.0, -2.0, 0.5], atol=1e-14)
