"""femiec.solvers.block_assembly: the blocked system's matrix and residual, built and assembled block by
block, equal DOLFINx's create_matrix_block / assemble_matrix_block / assemble_vector_block bit for bit."""
from __future__ import annotations

import numpy as np
import pytest


def _local_csr(A):
    indptr, indices, values = A.getValuesCSR()
    return np.asarray(indptr).copy(), np.asarray(indices).copy(), np.asarray(values).copy()


def _electrode(comm):
    """The electrode's four-field system (P1 fields on three submeshes of a sphere in a box, interface
    integrals coupling them; Dirichlet conditions), built up to its Newton solver."""
    from femiec.meshing.gmsh_builders import sphere_in_box
    from femiec.problems.electrode import ElectrodeProblem

    meshdata = sphere_in_box(5e-6, [20e-6, 12e-6, 12e-6], center=[10e-6, 6e-6, 6e-6], mesh_size=2.5e-6, comm=comm)
    problem = ElectrodeProblem(meshdata, electrolyte_regions=["matrix"], active_regions=["sphere"],
                               separator=["xmin"], collector=["sphere"], active={"diffusivity": 1e-12},
                               electrolyte={"diffusivity": 3e-9, "conductivity": 10.0})
    problem.build()
    return problem


@pytest.mark.mpi
def test_block_matrix_equals_dolfinx(comm):
    """Newton's matrix of the electrode, created and assembled block by block and by DOLFINx's block
    functions: the same ownership ranges, local CSR rows (column indices and values bit for bit), allocated
    storage (no unused preallocation) and local-to-global maps, on 1 and on 2 ranks."""
    from dolfinx.fem import petsc as fem_petsc

    from femiec.solvers.block_assembly import assemble_block_matrix, create_block_matrix

    solver = _electrode(comm).solver
    forms, bcs = solver._J, solver.bcs
    reference = fem_petsc.assemble_matrix_block(forms, bcs=bcs)
    ours = assemble_block_matrix(create_block_matrix(forms), forms, bcs=bcs)
    for A in (reference, ours):
        A.assemble()
    assert ours.getOwnershipRange() == reference.getOwnershipRange()
    assert ours.getSizes() == reference.getSizes()
    for a, b in zip(_local_csr(ours), _local_csr(reference)):
        assert np.array_equal(a, b)
    assert comm.allreduce(len(_local_csr(ours)[1])) > 0
    assert ours.getInfo()["nz_allocated"] == reference.getInfo()["nz_allocated"]
    assert ours.getInfo()["nz_unneeded"] == 0
    for a, b in zip(ours.getLGMap(), reference.getLGMap()):
        assert np.array_equal(a.getIndices(), b.getIndices())
    for A in (reference, ours):
        A.destroy()


@pytest.mark.mpi
@pytest.mark.parametrize("state", ["perturbed", "initial"])
def test_block_residual_equals_dolfinx(comm, state, monkeypatch):
    """Newton's residual of the electrode (lifted by J, b = x - g on the Dirichlet dofs) assembled block by
    block and by dolfinx.fem.petsc.assemble_vector_block, bit for bit on 1 and on 2 ranks: at the initial
    state perturbed everywhere (every column block with conditions lifted) and at the initial state, which
    holds the Dirichlet values (no lifting: in DOLFINx's it adds exact zeros)."""
    import dolfinx.fem
    from dolfinx.fem import petsc as fem_petsc
    from mpi4py import MPI
    from petsc4py import PETSc

    from femiec.solvers.block_assembly import assemble_block_residual

    problem = _electrode(comm)
    solver = problem.solver
    x = solver._b.duplicate()
    solver._gather_x(x)
    if state == "perturbed":
        wave = np.cos(x.getOwnershipRange()[0] + np.arange(x.getLocalSize()))
        x.array[:] = x.array * (1.0 + 1e-3 * wave) + 1e-6 * wave
    x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
    solver._scatter_x(x)
    lifted, apply_lifting = [], dolfinx.fem.apply_lifting
    monkeypatch.setattr(dolfinx.fem, "apply_lifting", lambda *args, **kw: (lifted.append(1), apply_lifting(*args, **kw)))
    vectors = []
    for assemble in (fem_petsc.assemble_vector_block, assemble_block_residual):
        b = solver._b.duplicate()
        with b.localForm() as local:
            local.set(0.0)
        assemble(b, solver._F, solver._J, bcs=solver.bcs, x0=x, alpha=-1.0)
        vectors.append(b.array.copy())
    assert np.all(np.isfinite(vectors[0]))
    assert np.array_equal(vectors[0], vectors[1])
    assert comm.allreduce(float(np.abs(vectors[0]).max(initial=0.0)), op=MPI.MAX) > 0
    assert (len(lifted) > 0) == (state == "perturbed")


@pytest.mark.mpi
def test_block_matrix_with_a_vector_block_equals_dolfinx(comm):
    """A displacement-like vector block (P1, 3 components) coupled to a scalar block, with a Dirichlet
    condition on the vector block: created and assembled block by block, the same CSR rows and
    local-to-global maps as DOLFINx's, on 1 and on 2 ranks."""
    import ufl
    from dolfinx import fem, mesh
    from dolfinx.fem import petsc as fem_petsc

    from femiec.solvers.block_assembly import assemble_block_matrix, create_block_matrix

    domain = mesh.create_unit_cube(comm, 3, 3, 3, cell_type=mesh.CellType.hexahedron)
    V, Q = fem.functionspace(domain, ("Lagrange", 1, (3,))), fem.functionspace(domain, ("Lagrange", 1))
    (u, v), (p, q) = (ufl.TrialFunction(V), ufl.TestFunction(V)), (ufl.TrialFunction(Q), ufl.TestFunction(Q))
    x = ufl.SpatialCoordinate(domain)
    forms = [[fem.form((1 + x[0]) * ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx), fem.form(p * ufl.div(v) * ufl.dx)],
             [fem.form(q * ufl.div(u) * ufl.dx), fem.form((2 + x[1]) * p * q * ufl.dx)]]
    facets = mesh.locate_entities_boundary(domain, 2, lambda y: np.isclose(y[0], 0.0))
    bc = fem.dirichletbc(np.zeros(3), fem.locate_dofs_topological(V, 2, facets), V)
    reference = fem_petsc.assemble_matrix_block(forms, bcs=[bc])
    ours = assemble_block_matrix(create_block_matrix(forms), forms, bcs=[bc])
    for A in (reference, ours):
        A.assemble()
    assert ours.getSizes() == reference.getSizes()
    for a, b in zip(_local_csr(ours), _local_csr(reference)):
        assert np.array_equal(a, b)
    assert ours.getInfo()["nz_allocated"] == reference.getInfo()["nz_allocated"]
    for a, b in zip(ours.getLGMap(), reference.getLGMap()):
        assert np.array_equal(a.getIndices(), b.getIndices())
    for A in (reference, ours):
        A.destroy()
