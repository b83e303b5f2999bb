"""Where the electrode benchmark's memory goes: resident and allocated memory per rank after each set-up phase.

The crop of ``bench_electrode.py`` (``--crop N``, the 4-voxel separator layer), built and solved with the
``fieldsplit`` preset; after each phase (image, voxel mesh, the problem's stages, Newton's matrix, first
Jacobian assembly, fieldsplit set-up, BoomerAMG set-up, first linear solve, each time step of 60 s) every
rank reports VmRSS and VmHWM (/proc/self/status) and the bytes glibc's malloc has handed out and not taken
back (mallinfo2: uordblks + hblkhd, i.e. what the program holds; RSS minus this is shared libraries plus
freed memory malloc keeps). The table at the end gives each phase's increase summed over the ranks, in MB
and in bytes per unknown. Run it under ``mpirun -n N``, one crop per process:

    mpirun -n 2 python benchmarks/bench_electrode_memory.py --crop 32 --petsc pc_fieldsplit_type=additive

``--dolfinx-matrix`` builds Newton's matrix with DOLFINx's ``create_matrix_block`` (one merged sparsity
pattern of the whole system) instead of femiec's ``create_block_matrix`` (block by block), as the code before
commit 7eac164 did. Experiments (not what the code does): ``--nest`` builds Newton's matrix as a PETSc
MATNEST of the blocks (dolfinx create/assemble_matrix_nest patched in for the block versions), whose
fieldsplit blocks are the nest's own; ``--trim`` returns malloc's free memory to the system (malloc_trim) after the matrix is created.
"""
from __future__ import annotations

import argparse
import ctypes
import time

from mpi4py import MPI

from bench_electrode import NAMES, crop_with_separator


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                       "fsmblks", "uordblks", "fordblks", "keepcost")]


_LIBC = ctypes.CDLL("libc.so.6")
_LIBC.mallinfo2.restype = _MallInfo2


def memory_mb() -> dict[str, float]:
    """{"rss", "hwm", "held"} of this process [MB]: VmRSS, VmHWM and the bytes malloc has handed out."""
    out = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line[2:5].lower()] = int(line.split()[1]) / 1024
    info = _LIBC.mallinfo2()
    out["held"] = (info.uordblks + info.hblkhd) / 2**20
    return out


class Phases:
    """Snapshots of :func:`memory_mb` on every rank of ``comm`` after each named phase."""

    def __init__(self, comm):
        self.comm, self.rows = comm, []

    def snap(self, label: str) -> None:
        values = self.comm.gather(memory_mb(), root=0)
        if self.comm.rank == 0:
            self.rows.append((label, values))
            print(f"{label:34s}" + "".join(f" | rss {v['rss']:7.1f} hwm {v['hwm']:7.1f} held {v['held']:7.1f}"
                                           for v in values), flush=True)

    def after(self, owner, name: str, label: str | None = None) -> None:
        """Snapshot after every call of ``owner.name``."""
        function = getattr(owner, name)

        def wrapped(*args, **kwargs):
            result = function(*args, **kwargs)
            self.snap(label or name)
            return result
        setattr(owner, name, wrapped)

    def transient(self, label: str, action) -> None:
        """Run ``action()`` with VmHWM reset (/proc/self/clear_refs) and print the peak above the RSS before it
        (the most memory it needed at once, freed again or not) of each rank. Malloc's free memory is returned
        to the system first (malloc_trim), so a transient that the kept memory would absorb shows too."""
        _LIBC.malloc_trim(0)
        before = memory_mb()["rss"]
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        action()
        peaks = self.comm.gather(memory_mb()["hwm"] - before, root=0)
        if self.comm.rank == 0:
            print(f"transient {label:24s}" + "".join(f" | {peak:7.1f} MB" for peak in peaks), flush=True)

    def table(self, unknowns: int) -> None:
        """Per phase: increase of RSS and of held memory summed over the ranks [MB, bytes per unknown], and
        the largest VmHWM of a rank so far."""
        print(f"\n{'phase':34s} {'RSS MB':>8s} {'B/unknown':>9s} {'held MB':>8s} {'B/unknown':>9s} {'max HWM MB':>10s}")
        for (_, before), (label, now) in zip(self.rows, self.rows[1:]):
            rss = sum(v["rss"] for v in now) - sum(v["rss"] for v in before)
            held = sum(v["held"] for v in now) - sum(v["held"] for v in before)
            print(f"{label:34s} {rss:8.1f} {rss * 2**20 / unknowns:9.0f} {held:8.1f} {held * 2**20 / unknowns:9.0f} "
                  f"{max(v['hwm'] for v in now):10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crop", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--separator-voxels", type=int, default=4)
    parser.add_argument("--petsc", nargs="*", default=[], metavar="KEY=VALUE", help="PETSc options without prefix")
    parser.add_argument("--nest", action="store_true", help="experiment: Newton's matrix as a MATNEST")
    parser.add_argument("--trim", action="store_true", help="experiment: malloc_trim after the matrix")
    parser.add_argument("--dolfinx-matrix", action="store_true",
                        help="Newton's matrix from dolfinx's create_matrix_block (the merged pattern, as before commit 7eac164)")
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    phases = Phases(comm)
    phases.snap("imports")

    from dolfinx.fem import petsc as fem_petsc

    import femiec.solvers.snes as snes
    from femiec.meshing.voxel import voxel_mesh
    from femiec.models.electrode import ElectrodeModel
    from femiec.problems.electrode import ElectrodeProblem
    from femiec.problems.electrode_case import problem_from_section

    for name in ("_mark_phases", "_build_submeshes", "build_spaces", "build_coefficients", "build_conditions",
                 "build_residual", "build_solver"):
        phases.after(ElectrodeProblem, name)
    if args.dolfinx_matrix:
        snes.create_block_matrix = fem_petsc.create_matrix_block
    if args.nest:
        nest_assemble = fem_petsc.assemble_matrix_nest
        snes.create_block_matrix = fem_petsc.create_matrix_nest
        snes.assemble_block_matrix = lambda A, a, bcs=(), diagonal=1.0: nest_assemble(A, a, bcs=list(bcs),
                                                                                       diagonal=diagonal)
    if args.trim:
        create = snes.create_block_matrix

        def create_and_trim(a):
            matrix = create(a)
            _LIBC.malloc_trim(0)
            return matrix
        snes.create_block_matrix = create_and_trim
    phases.after(fem_petsc, "create_vector_block", "forms + create_vector_block")
    phases.after(snes, "create_block_matrix", "Newton's matrix")

    image, layer = crop_with_separator(args.crop, args.separator_voxels)
    phases.snap("image")
    model = ElectrodeModel(kind="electrode", conductor_regions=["carbon_binder"], porous_separator=layer)
    meshdata = voxel_mesh(image, voxel_size=1e-6, phase_names=NAMES, comm=comm)
    phases.snap("voxel mesh")
    problem = problem_from_section(model, meshdata, preset="fieldsplit",
                                   petsc_options=dict(item.split("=", 1) for item in args.petsc))
    problem.set_current(problem.one_c_current())
    unknowns = problem.describe()["dofs"]
    solver = problem.solver
    # the first linear solve of bench_electrode.py (NonlinearSolver.time_linear_solve), phase by phase
    solver._set_options(solver.options)
    solver._gather_x(solver._x)
    solver._assemble_residual(solver.snes, solver._x, solver._b)
    solver._assemble_jacobian(solver.snes, solver._x, solver._A, solver._A)
    phases.snap("first Jacobian assembly")
    ksp = solver.snes.getKSP()
    ksp.setOperators(solver._A)
    ksp.setUp()
    phases.snap("fieldsplit set-up")
    ksp.setUpOnBlocks()
    phases.snap("BoomerAMG set-up")
    dx = solver._b.duplicate()
    ksp.solve(solver._b, dx)
    phases.snap(f"first linear solve ({ksp.getIterationNumber()} its)")
    dx.destroy()
    solver._clear_options()
    for k in range(args.steps):
        start = time.perf_counter()
        stats = problem.step(60.0)
        if not stats.converged:
            raise RuntimeError(f"step {k + 1} failed on the {args.crop}^3 crop: {stats.reason}")
        problem._accept(60.0)
        phases.snap(f"step {k + 1} ({stats.newton_iterations} N, {stats.krylov_iterations} K, "
                    f"{time.perf_counter() - start:.1f} s)")
    voltage = problem.voltage()
    # the peaks inside one Newton iteration's pieces and of one more step, at the last state
    x, A = solver._x, solver._A
    solver._set_options(solver.options)
    phases.transient("residual assembly", lambda: solver._assemble_residual(solver.snes, x, solver._b))
    phases.transient("Jacobian assembly", lambda: solver._assemble_jacobian(solver.snes, x, A, A))
    phases.transient("preconditioner rebuild", lambda: (ksp.setOperators(A), ksp.setUp(), ksp.setUpOnBlocks()))
    dx = solver._b.duplicate()
    phases.transient("linear solve", lambda: ksp.solve(solver._b, dx))
    dx.destroy()
    solver._clear_options()
    phases.transient("time step", lambda: problem.step(60.0))
    if comm.rank == 0:
        print(f"\n{args.crop}^3 crop, {unknowns} unknowns, {comm.size} ranks, voltage {voltage!r} V")
        phases.table(unknowns)


if __name__ == "__main__":
    main()
