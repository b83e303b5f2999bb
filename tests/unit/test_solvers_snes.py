"""NonlinearSolver: presets reach every sub-solver, solvers alive together keep their own options, user
options in the PETSc database win over presets."""
import numpy as np
import pytest

pytest.importorskip("dolfinx")

import basix.ufl  # noqa: E402
import ufl  # noqa: E402
from dolfinx import fem, mesh  # noqa: E402
from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402

from femiec.solvers import NonlinearSolver  # noqa: E402


def coupled_reaction_diffusion():
    """-lap u + u - w = 1, -lap w + w - u = 0 on the unit square, u = w = 0 on the boundary (linear)."""
    domain = mesh.create_unit_square(MPI.COMM_WORLD, 8, 8)
    p1 = basix.ufl.element("Lagrange", domain.basix_cell(), 1)
    W = fem.functionspace(domain, basix.ufl.mixed_element([p1, p1]))
    z = fem.Function(W)
    u, w = ufl.split(z)
    a, b = ufl.TestFunctions(W)
    F = (ufl.inner(ufl.grad(u), ufl.grad(a)) + (u - w - 1) * a
         + ufl.inner(ufl.grad(w), ufl.grad(b)) + (w - u) * b) * ufl.dx
    domain.topology.create_connectivity(1, 2)
    facets = mesh.exterior_facet_indices(domain.topology)
    bcs = []
    fields = {}
    imap = W.dofmap.index_map
    for i, name in enumerate(("u", "w")):
        Wi, to_parent = W.sub(i).collapse()
        dofs = fem.locate_dofs_topological((W.sub(i), Wi), 1, facets)
        zero = fem.Function(Wi)
        bcs.append(fem.dirichletbc(zero, dofs, W.sub(i)))
        parent = np.asarray(to_parent)
        owned = parent[parent < imap.size_local]
        fields[name] = PETSc.IS().createGeneral(np.sort(owned + imap.local_range[0]).astype(PETSc.IntType),
                                                comm=domain.comm)
    return F, z, bcs, fields


@pytest.mark.mpi
def test_fieldsplit_blocks_use_boomeramg():
    """The fieldsplit preset gives each block one BoomerAMG V-cycle (the sub-solvers are created inside the
    first solve, so the preset must still be visible then)."""
    F, z, bcs, fields = coupled_reaction_diffusion()
    solver = NonlinearSolver(F, z, bcs, preset="fieldsplit", fields=fields)
    stats = solver.solve()
    assert stats.converged
    for sub in solver.snes.getKSP().getPC().getFieldSplitSubKSP():
        assert sub.getType() == "preonly"
        assert sub.getPC().getType() == "hypre"
    assert not PETSc.Options().hasName("femiec_fieldsplit_u_pc_type")  # nothing left behind
    solver.destroy()


@pytest.mark.mpi
def test_timed_linear_solve_uses_the_preset_and_leaves_u_unchanged(numbers):
    """time_linear_solve() (the benchmarks' cost unit) sets the fieldsplit blocks up with BoomerAMG, as a
    Newton solve would, converges in a few Krylov iterations and does not touch u; the Newton solve
    after it still converges in one step (the system is linear)."""
    F, z, bcs, fields = coupled_reaction_diffusion()
    solver = NonlinearSolver(F, z, bcs, preset="fieldsplit", fields=fields)
    seconds, iterations = solver.time_linear_solve()
    assert seconds > 0 and 0 < iterations < 30
    assert np.all(z.x.array == 0)
    for sub in solver.snes.getKSP().getPC().getFieldSplitSubKSP():
        assert sub.getPC().getType() == "hypre"
    assert solver.solve().newton_iterations == 1
    numbers.record("maximum", z.x.petsc_vec.max()[1])
    solver.destroy()


@pytest.mark.mpi
def test_two_solvers_alive_keep_their_presets(numbers):
    """A solver created while another one exists (e.g. heat and transport in a staggered loop) keeps its
    own preset: solving one never configures the other."""
    F1, z1, bcs1, _ = coupled_reaction_diffusion()
    F2, z2, bcs2, _ = coupled_reaction_diffusion()
    direct = NonlinearSolver(F1, z1, bcs1, preset="direct")
    iterative = NonlinearSolver(F2, z2, bcs2, preset="iterative")
    assert iterative.solve().converged and direct.solve().converged
    assert direct.snes.getKSP().getPC().getType() == "lu"
    assert iterative.snes.getKSP().getType() == "gmres"
    assert iterative.snes.getKSP().getPC().getType() == "hypre"
    assert np.allclose(z1.x.array, z2.x.array, rtol=1e-7, atol=1e-12)
    numbers.record("solution_norm", z1.x.petsc_vec.norm())
    direct.destroy()
    iterative.destroy()


@pytest.mark.mpi
def test_user_database_options_win_over_the_preset():
    """An option given on the command line (in the PETSc database under the prefix) overrides the preset
    and is left in the database for the user."""
    db = PETSc.Options()
    db.setValue("femiec_fieldsplit_w_pc_type", "jacobi")
    try:
        F, z, bcs, fields = coupled_reaction_diffusion()
        solver = NonlinearSolver(F, z, bcs, preset="fieldsplit", fields=fields,
                                 petsc_options={"ksp_max_it": 500})
        assert solver.solve().converged
        u_block, w_block = solver.snes.getKSP().getPC().getFieldSplitSubKSP()
        assert u_block.getPC().getType() == "hypre"
        assert w_block.getPC().getType() == "jacobi"
        assert db.hasName("femiec_fieldsplit_w_pc_type")
        solver.destroy()
    finally:
        db.delValue("femiec_fieldsplit_w_pc_type")


@pytest.mark.mpi
def test_fieldsplit_solver_recovers_after_a_failed_linear_solve(numbers):
    """A Krylov solve that fails (here: one iteration allowed) resets the KSP so that a broken
    preconditioner is not reused; the reset drops the fieldsplit fields, which must be given again, or
    every later solve (the time stepper's retry at a smaller step) fails at once."""
    F, z, bcs, fields = coupled_reaction_diffusion()
    solver = NonlinearSolver(F, z, bcs, preset="fieldsplit", fields=fields,
                             petsc_options={"ksp_max_it": 1, "ksp_rtol": 1e-14})
    failed = solver.solve(check=False)
    assert not failed.converged and failed.reason == "DIVERGED_LINEAR_SOLVE"
    solver.snes.getKSP().setTolerances(max_it=200)
    z.x.array[:] = 0.0
    stats = solver.solve(check=False)
    assert stats.converged and stats.newton_iterations == 1, stats
    numbers.record("maximum", z.x.petsc_vec.max()[1])
    solver.destroy()


@pytest.mark.mpi
@pytest.mark.parametrize("preset", ["direct", "fieldsplit"])
def test_blocked_system_equals_the_mixed_one(numbers, preset):
    """The coupled problem written as two Functions on two spaces (a blocked Newton system, as the
    electrode's fields on their submeshes) gives the mixed-space solution to 1e-8 (Krylov rtol 1e-10);
    dF_u/dw and dF_w/du are mass-matrix blocks, and with fieldsplit the two blocks are the fields."""
    F, z, bcs, _ = coupled_reaction_diffusion()
    NonlinearSolver(F, z, bcs, preset="direct").solve()
    domain = z.function_space.mesh
    spaces = [fem.functionspace(domain, ("Lagrange", 1)) for _ in range(2)]
    u, w = (fem.Function(V) for V in spaces)
    a, b = (ufl.TestFunction(V) for V in spaces)
    residuals = [(ufl.inner(ufl.grad(u), ufl.grad(a)) + (u - w - 1) * a) * ufl.dx,
                 (ufl.inner(ufl.grad(w), ufl.grad(b)) + (w - u) * b) * ufl.dx]
    facets = mesh.exterior_facet_indices(domain.topology)
    blocked_bcs = [fem.dirichletbc(0.0, fem.locate_dofs_topological(V, 1, facets), V) for V in spaces]
    solver = NonlinearSolver(residuals, [u, w], blocked_bcs, preset=preset,
                             fields=["u", "w"] if preset == "fieldsplit" else None)
    stats = solver.solve()
    assert stats.converged and stats.newton_iterations == 1
    if preset == "fieldsplit":
        assert len(solver.snes.getKSP().getPC().getFieldSplitSubKSP()) == 2
    for i, f in enumerate((u, w)):
        reference = fem.Function(spaces[i])
        reference.interpolate(z.sub(i))
        n = spaces[i].dofmap.index_map.size_local
        error = np.max(np.abs(f.x.array[:n] - reference.x.array[:n]), initial=0.0) / np.max(np.abs(reference.x.array))
        assert error < 1e-8, (preset, error)
    numbers.record("maxima", [u.x.petsc_vec.max()[1], w.x.petsc_vec.max()[1]])
    solver.destroy()


@pytest.mark.mpi
def test_options_reach_only_the_solver_of_their_prefix(numbers):
    """Two solvers alive together with different prefixes (as the heat and transport solvers of a coupled
    run): options put in the database under one prefix (the command line -femiec_a_...) configure that
    solver only; the other keeps its preset and the Newton defaults."""
    db = PETSc.Options()
    mine = {"femiec_a_snes_max_it": 7, "femiec_a_ksp_type": "gmres", "femiec_a_pc_type": "jacobi",
            "femiec_a_ksp_rtol": 1e-12, "femiec_a_ksp_max_it": 1000}
    for key, value in mine.items():
        db.setValue(key, value)
    try:
        F1, z1, bcs1, _ = coupled_reaction_diffusion()
        F2, z2, bcs2, _ = coupled_reaction_diffusion()
        a = NonlinearSolver(F1, z1, bcs1, preset="direct", prefix="femiec_a_")
        b = NonlinearSolver(F2, z2, bcs2, preset="direct", prefix="femiec_b_")
        assert a.solve().converged and b.solve().converged
        assert a.snes.getTolerances()[3] == 7 and b.snes.getTolerances()[3] == 50
        assert a.snes.getKSP().getType() == "gmres" and a.snes.getKSP().getPC().getType() == "jacobi"
        assert b.snes.getKSP().getType() == "preonly" and b.snes.getKSP().getPC().getType() == "lu"
        assert np.allclose(z1.x.array, z2.x.array, rtol=1e-8, atol=1e-12)
        numbers.record("solution_norm", z2.x.petsc_vec.norm())
        a.destroy()
        b.destroy()
    finally:
        for key in mine:
            db.delValue(key)


def test_each_problem_has_its_own_prefix():
    """The problems' Newton solvers read disjoint parts of the PETSc options database."""
    from femiec.problems.conduction import ConductionProblem
    from femiec.problems.electrode import ElectrodeProblem
    from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
    from femiec.problems.thermal import HeatProblem

    prefixes = [p.options_prefix for p in (NernstPlanckPoisson, HeatProblem, ElectrodeProblem, ConductionProblem)]
    assert prefixes == ["femiec_npp_", "femiec_heat_", "femiec_electrode_", "femiec_conduction_"]


@pytest.mark.mpi
def test_convergence_test_object_is_installed_and_reset_per_solve():
    """A convergence_test given to the solver decides Newton (snes_atol 1e-20 out of the way, full steps:
    |dx| <= 1e-10 at k = 2, after the one step that solves the linear system) and keeps its state per solve: a second
    solve from the solution starts afresh (r_0, r_1 only) and ends at k = 1 on its first, tiny update."""
    from femiec.solvers import UpdateConvergence

    F, z, bcs, _ = coupled_reaction_diffusion()
    test = UpdateConvergence(1e-10)
    solver = NonlinearSolver(F, z, bcs, preset="direct", convergence_test=test,
                             petsc_options={"snes_atol": 1e-20, "snes_linesearch_type": "basic"})
    first = solver.solve()
    assert first.newton_iterations == 2 and first.reason == "CONVERGED_SNORM_RELATIVE"
    assert len(test.residuals) == 3
    second = solver.solve()
    assert second.newton_iterations == 1 and second.reason == "CONVERGED_SNORM_RELATIVE"
    assert len(test.residuals) == 2 and test.last_update <= 1e-10
    solver.destroy()


@pytest.mark.mpi
def test_heat_and_conduction_read_only_their_own_prefix(numbers):
    """The Joule pair of solvers alive together: -femiec_conduction_... options reach the conduction solve
    only, -femiec_heat_... options the heat solve only (T = 300 -> 400 K and u = 0 -> 1 V across a 1 mm
    cube)."""
    from femiec.meshing.box import box_mesh
    from femiec.problems.conduction import ConductionProblem
    from femiec.problems.thermal import HeatProblem

    db = PETSc.Options()
    mine = {"femiec_conduction_ksp_type": "cg", "femiec_conduction_pc_type": "jacobi",
            "femiec_conduction_ksp_rtol": 1e-12, "femiec_heat_snes_max_it": 3}
    for key, value in mine.items():
        db.setValue(key, value)
    try:
        cube = box_mesh([1e-3] * 3, [3] * 3, "tetrahedron", comm=MPI.COMM_WORLD)
        conduction = ConductionProblem(cube, 2.0)
        conduction.set_value("xmin", 0.0)
        conduction.set_value("xmax", 1.0)
        heat = HeatProblem(cube, 2.0, initial=350.0)
        heat.set_temperature("xmin", 300.0)
        heat.set_temperature("xmax", 400.0)
        conduction.solve("direct")
        heat.solve()
        assert conduction.solver.snes.getKSP().getPC().getType() == "jacobi"
        assert heat.solver.snes.getKSP().getPC().getType() == "lu"
        assert heat.solver.snes.getTolerances()[3] == 3
        assert conduction.solver.snes.getTolerances()[3] == 50
        numbers.record("potential_max", conduction.u.x.petsc_vec.max()[1])
        numbers.record("temperature_max", heat.T.x.petsc_vec.max()[1])
    finally:
        for key in mine:
            db.delValue(key)


def _nonlinear_diffusion(amplitude: float):
    """-div((1 + u^2) grad u) = amplitude on the unit square, u = 0 on the boundary (nonlinear: Newton's
    contraction depends on the source)."""
    domain = mesh.create_unit_square(MPI.COMM_WORLD, 16, 16)
    V = fem.functionspace(domain, ("Lagrange", 1))
    u, v = fem.Function(V), ufl.TestFunction(V)
    F = ((1 + u**2) * ufl.inner(ufl.grad(u), ufl.grad(v)) - amplitude * v) * ufl.dx
    domain.topology.create_connectivity(1, 2)
    dofs = fem.locate_dofs_topological(V, 1, mesh.exterior_facet_indices(domain.topology))
    return F, u, [fem.dirichletbc(0.0, dofs, V)]


@pytest.mark.mpi
@pytest.mark.parametrize("amplitude", [10.0, 60.0])
def test_chord_steps_keep_the_jacobian_and_reach_the_newton_solution(numbers, amplitude):
    """``jacobian_reuse``: the Jacobian is assembled at every Newton iteration without it (assemblies =
    iterations); with it the iterations whose update is small and contracting keep the last one (fewer
    assemblies than iterations), and the solution is Newton's to the update tolerance. A strong source
    (60: max u 1.95, first updates of order 1) makes the chord steps contract poorly: the guard
    |dx_k| <= CHORD_CONTRACTION |dx_(k-1)| then assembles again and the solve still converges."""
    from femiec.solvers import UpdateConvergence

    F, u, bcs = _nonlinear_diffusion(amplitude)
    solutions, counts = [], []
    for reuse in (None, 1e9):
        u.x.array[:] = 0.0
        solver = NonlinearSolver(F, u, bcs, petsc_options={"snes_linesearch_type": "basic"},
                                 convergence_test=UpdateConvergence(1e-10, error_estimate=True))
        solver.jacobian_reuse = reuse
        stats = solver.solve()
        counts.append((stats.newton_iterations, solver.jacobian_assemblies))
        solutions.append(u.x.array.copy())
        solver.destroy()
    (newton, assembled), (chord_its, chord_assembled) = counts
    assert assembled == newton
    assert chord_assembled < chord_its
    difference = MPI.COMM_WORLD.allreduce(float(np.max(np.abs(solutions[1] - solutions[0]))), op=MPI.MAX)
    assert difference < 1e-9
    peak = MPI.COMM_WORLD.allreduce(float(np.max(solutions[0])), op=MPI.MAX)
    numbers.record("max u", peak)
    numbers.record("newton iterations", newton)
    numbers.record("chord iterations", chord_its)
    numbers.record("chord assemblies", chord_assembled)
