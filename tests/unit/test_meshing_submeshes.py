"""femiec.meshing.submeshes: phase submeshes, interface rows with the "+" side in the first phase, padded
entity maps; an interface integral of fields on two submeshes (1 and 2 ranks)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dolfinx")


@pytest.mark.mpi
def test_interface_integral_of_fields_on_two_submeshes(comm, numbers):
    """Column of 8 x 2 x 2 unit voxels, phase A for x < 4 and B for x > 4: the interface is the plane x = 4
    (area 4). With f = x on A's submesh and g = 10 + y on B's, int f("+") dS = 16 and int g("-") dS = 44
    (exact for P1), every interface row has its "+" cell in A, and the padded maps send each row's other
    cell to a cell of the phase."""
    import ufl
    from dolfinx import fem

    from femiec.meshing.submeshes import interface_integration_data, padded_entity_map, phase_submesh
    from femiec.meshing.voxel import voxel_mesh

    image = np.zeros((8, 2, 2), dtype=np.uint8)
    image[4:] = 1
    meshdata = voxel_mesh(image, voxel_size=1.0, phase_names={0: "a", 1: "b"}, comm=comm)
    mesh, tags = meshdata.mesh, meshdata.cell_tags
    tdim = mesh.topology.dim
    num_cells = mesh.topology.index_map(tdim).size_local + mesh.topology.index_map(tdim).num_ghosts
    phase = np.full(num_cells, -1)
    phase[tags.indices] = np.where(tags.values == meshdata.cell_tag("a"), 0, 1)
    mesh.topology.create_connectivity(tdim - 1, tdim)
    f2c = mesh.topology.connectivity(tdim - 1, tdim)
    facets = [f for f in range(mesh.topology.index_map(tdim - 1).size_local)
              if len(f2c.links(f)) == 2 and len(set(phase[f2c.links(f)])) == 2]
    rows = interface_integration_data(mesh, np.array(facets), phase == 0)
    assert np.all(phase[rows[:, 0]] == 0) and np.all(phase[rows[:, 2]] == 1)
    a = phase_submesh(mesh, np.flatnonzero(phase == 0), "a")
    b = phase_submesh(mesh, np.flatnonzero(phase == 1), "b")
    maps = {a.mesh: padded_entity_map(a, rows[:, 0], rows[:, 2]), b.mesh: padded_entity_map(b, rows[:, 2], rows[:, 0])}
    assert np.all(maps[a.mesh][rows[:, 2]] >= 0) and np.all(maps[b.mesh][rows[:, 0]] >= 0)
    assert np.all(a.cell_map[phase == 1] == -1) and np.all(b.cell_map[phase == 0] == -1)
    f = fem.Function(fem.functionspace(a.mesh, ("Lagrange", 1)))
    f.interpolate(lambda x: x[0])
    g = fem.Function(fem.functionspace(b.mesh, ("Lagrange", 1)))
    g.interpolate(lambda x: 10 + x[1])
    dS = ufl.Measure("dS", domain=mesh, subdomain_data=[(1, rows.ravel())])
    values = [comm.allreduce(fem.assemble_scalar(fem.form(expr * dS(1), entity_maps=maps)))
              for expr in (f("+"), g("-"))]
    numbers.record("integrals", values)
    assert values == pytest.approx([16.0, 44.0], rel=1e-13)
