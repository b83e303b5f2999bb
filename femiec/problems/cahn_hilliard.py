"""Cahn–Hilliard phase separation in an insertion particle (forms: :mod:`femiec.forms.cahn_hilliard`;
docs/cahn_hilliard.md).

Unknowns on a femiec MeshData (1D, 2D or 3D; box, gmsh or voxel meshes): the site fraction c [-] and the
scaled chemical potential w = mu / (R T) [-], both Lagrange P1 (mixed c–mu form: no C1 elements needed).
Every outer facet is a no-flux wall (J . n = 0, kappa grad c . n = 0) unless a surface flux is added
(:meth:`CahnHilliardProblem.add_surface_flux`, an inward lithium flux j_in [mol/(m^2 s)] that may depend on
c and mu: the hook of the reaction kinetics). A no-flux wall is a symmetry plane, so a box with cos(k x),
k = m pi / L, stands in for a periodic one.

Time scheme: Eyre's convex splitting (unconditionally energy stable, see the forms module) or fully
implicit backward Euler (``scheme="implicit"``, to converge to an equilibrium with long steps).

Residual scaling: the lithium balance is multiplied by dt / c_max and the chemical-potential equation by
1 / (R T), so both rows are O(1) per unit volume and Newton's update test (on c and w, dimensionless)
sets the accuracy.

Boundedness 0 < c < 1 (the logarithms of g): P1 interpolates between nodal values, so c lies in (0, 1)
at every quadrature point when it does at the nodes. Each Newton direction is shortened before the line
search (a fraction-to-the-boundary rule, as in interior-point methods): with x_new = x - s y,

    s = min(1, tau s_max),   s_max = the largest s with 0 < c - s y_c < 1 at every node,   tau = 0.9,

so every iterate stays strictly inside (0, 1). In a closed particle scaling a direction never changes the
amount of lithium: each Newton direction conserves it exactly (the lithium-balance rows summed over the
test functions give int dc dx = 0, the flux terms sum to zero), so every iterate holds the lithium of the
start of the step.

Convergence (femiec.solvers.UpdateConvergence): the update test (the Deuflhard estimate of the error in c
and w below ``update_tolerance``) counts only when

- the last update was the whole Newton step (s = 1): a shortened update is small because the limiter cut
  it, not because Newton converged (near c = 0 or 1 each shortened update covers 90% of the distance to
  the bound, so the updates shrink tenfold per iteration whatever the residual); and
- the residual scaled by the lumped mass m_i = int phi_i dx of its node, max_i |r_i| / m_i, is at most
  ``residual_tolerance`` (default 1e-6): the c rows are then the lithium balance of node i in site
  fraction over the step [-], the w rows the chemical-potential equation in units of R T [-]. Its
  round-off floor is ~1e-16 (1 + dt D / h^2 |w|), below 1e-8 for the steps used here.

A solve that does not meet both within snes_max_it iterations (or whose residual is not finite) fails;
:meth:`CahnHilliardProblem.run` then halves the step and retries (femiec.solvers.AdaptiveTimeStepper),
down to ``dt_min`` (1e-6 of the first step: 20 halvings), below which it raises a SolverError naming
the time and Newton's reason.

Coherency strain (``elasticity=CoherencyStrain(...)``, :mod:`femiec.problems.coherency`): a third P1 field,
the displacement u = L z [m] with z [-] the unknown (L [m] the largest extent of the mesh, so that z is of
the size of the strain), solved with c and w in one Newton step (direct solver). Its rows, the weak
div sigma = 0 (femiec.forms.coherency) times L / (lambda + 2 G), are strains times L / h per unit volume
after the lumped-mass weighting of the residual test (h the cell size); mu gains
mu_el = -sigma : B / c_max and G the elastic energy int W dx (convex splitting stays energy stable: W is
convex and taken at the new step). The initial u is the equilibrium of the initial c.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, asdict

import numpy as np
import ufl

from femiec.constants import GAS_CONSTANT
from femiec.errors import InputError, SolverError
from femiec.forms.cahn_hilliard import chemical_potential_residual, free_energy, lithium_balance_residual
from femiec.forms.coherency import elastic_energy_density, elastic_potential, equilibrium_residual, lame_parameters
from femiec.problems.base import StagedProblem, global_integral

SCHEMES = ("convex_splitting", "implicit")
SOLVERS = ("direct", "fieldsplit", "block")
#: fraction of the distance to c = 0 or c = 1 that one Newton update may cover
FRACTION_TO_BOUNDARY = 0.9
#: c–mu block preconditioner (``solver="fieldsplit"``): Schur complement on mu with the c block and the
#: assembled Schur approximation (A11 - A10 diag(A00)^-1 A01, "selfp") each a BoomerAMG V-cycle
FIELDSPLIT_OPTIONS: dict[str, object] = {
    "pc_fieldsplit_type": "schur",
    "pc_fieldsplit_schur_fact_type": "full",
    "pc_fieldsplit_schur_precondition": "selfp",
}
#: ``solver="block"``: FGMRES with the mesh- and dt-robust block preconditioner of
#: :mod:`femiec.solvers.cahn_hilliard_pc` (a python PC installed on the SNES's KSP)
BLOCK_OPTIONS: dict[str, object] = {"ksp_type": "fgmres", "ksp_rtol": 1e-10, "ksp_gmres_restart": 100}


def keep_inside(x, y, start: int, size: int, comm) -> bool:
    """The fraction-to-the-boundary rule (module docstring) on a Newton direction y (x_new = x - s y, PETSc
    Vecs): the site fractions c are the local entries [start, start + size) of x; y is scaled by s = tau s_max when that is below 1 so that 0 < c < 1 at every
    node. Returns whether the whole step was kept (s = 1); collective over ``comm``."""
    from mpi4py import MPI

    c, dc = x.getArray(readonly=True)[start:start + size], y.getArray(readonly=True)[start:start + size]
    with np.errstate(divide="ignore"):
        limits = np.where(dc > 0, c / dc, np.where(dc < 0, (c - 1) / dc, np.inf))
    s_max = comm.allreduce(float(limits.min()) if size else np.inf, op=MPI.MIN)
    full_step = FRACTION_TO_BOUNDARY * s_max >= 1
    if not full_step:
        y.scale(FRACTION_TO_BOUNDARY * s_max)
    return full_step


@dataclass
class CahnHilliardRecord:
    """State after an accepted step: step number, time [s], step [s], the free energy G [J in 3D, J/m in
    2D, J/m^2 in 1D], the lithium int c_max c dx [mol, mol/m, mol/m^2], the solver's iterations and the
    attempts of the step that :meth:`CahnHilliardProblem.run` rejected before it."""

    step: int
    time: float
    dt: float
    free_energy: float
    lithium: float
    newton_iterations: int
    krylov_iterations: int
    rejected_attempts: int = 0


class CahnHilliardProblem(StagedProblem):
    """Cahn–Hilliard with the regular-solution free energy on ``meshdata`` (SI units).

    Args:
        meshdata: :class:`femiec.meshing.base.MeshData` (its facet tags name the faces of surface fluxes).
        site_density: c_max [mol/m^3].
        interaction_energy: Omega [J/mol] (phase separation for Omega > 2 R T).
        gradient_coefficient: kappa [J m^2/mol], a number or a (gdim, gdim) tensor.
        diffusivity: D [m^2/s] of the mobility M = D c (1 - c) / (R T), a number or a (gdim, gdim) tensor.
        temperature: T [K].
        initial: the initial site fraction: a number or a function x -> c(x) (x of shape (3, n)), 0 < c < 1.
        scheme: "convex_splitting" or "implicit".
        solver: "direct" (MUMPS LU), "fieldsplit" (FGMRES, :data:`FIELDSPLIT_OPTIONS`) or "block" (FGMRES
            with :class:`femiec.solvers.cahn_hilliard_pc.CahnHilliardBlockPC`, iterations independent of the
            mesh size and the step).
        petsc_options: PETSc options (without prefix) over the solver's.
        update_tolerance: Newton stops when the max-norm update of c and mu / (R T) (and z = u / L) is below
            it ...
        residual_tolerance: ... and the lumped-mass-scaled residual too (module docstring).
        elasticity: None, or a :class:`femiec.problems.coherency.CoherencyStrain` (coherency strain: the
            displacement joins the unknowns; ``solver="direct"`` only).
    """

    #: PETSc options prefix of the solver (command line: ``-femiec_cahn_hilliard_<option>``)
    options_prefix = "femiec_cahn_hilliard_"

    def __init__(self, meshdata, *, site_density: float, interaction_energy: float, gradient_coefficient,
                 diffusivity, temperature: float = 298.15, initial: float | Callable = 0.5,
                 scheme: str = "convex_splitting", solver: str = "direct", petsc_options: dict | None = None,
                 update_tolerance: float = 1e-10, residual_tolerance: float = 1e-6, elasticity=None):
        self.meshdata, self.mesh = meshdata, meshdata.mesh
        for key, value in (("site_density", site_density), ("interaction_energy", interaction_energy),
                           ("temperature", temperature), ("update_tolerance", update_tolerance),
                           ("residual_tolerance", residual_tolerance)):
            if not (np.isfinite(value) and value > 0):
                raise InputError(key, value, "a positive number (SI units)")
        if solver not in SOLVERS:
            raise InputError("solver", solver, f"one of {list(SOLVERS)}")
        self.elasticity, self.vegard = elasticity, None
        if elasticity is not None:
            self.vegard = elasticity.vegard_tensor()
            if solver != "direct":
                raise InputError("solver", solver, "'direct' with coherency strain (elasticity)")
        self.values = {"site_density": float(site_density), "interaction_energy": float(interaction_energy),
                       "RT": GAS_CONSTANT * float(temperature)}
        self.tensors = {"gradient_coefficient": gradient_coefficient, "diffusivity": diffusivity}
        self.initial, self.solver_kind = initial, solver
        self.petsc_options, self.update_tolerance = dict(petsc_options or {}), float(update_tolerance)
        self.residual_tolerance, self.full_step = float(residual_tolerance), True
        self.surface_fluxes: list[tuple[object, object]] = []  # (j_in, facet tag)
        self.time, self.records = 0.0, []
        self.solver = None
        self.set_scheme(scheme)
        self.build("spaces", "conditions")

    # --------------------------------------------------------------------------------------- stages
    def build_spaces(self) -> None:
        """P1 spaces of c and w = mu / (R T); the measures."""
        from dolfinx import fem

        self.space = fem.functionspace(self.mesh, ("Lagrange", 1))
        self.dx = ufl.Measure("dx", domain=self.mesh)
        self.ds = ufl.Measure("ds", domain=self.mesh, subdomain_data=self.meshdata.facet_tags)
        if self.elasticity is not None:
            gdim = self.mesh.geometry.dim
            self.displacement_space = fem.functionspace(self.mesh, ("Lagrange", 1, (gdim,) if gdim > 1 else ()))

    def build_coefficients(self) -> None:
        """c_max, Omega, R T, kappa, D and the step dt as Constants."""
        from dolfinx import fem

        self.c_max, self.omega, self.RT = (fem.Constant(self.mesh, self.values[key])
                                           for key in ("site_density", "interaction_energy", "RT"))
        self.kappa, self.D = (self._tensor(key) for key in ("gradient_coefficient", "diffusivity"))
        self.dt = fem.Constant(self.mesh, 1.0)
        if self.elasticity is not None:
            from femiec.problems.coherency import mesh_extent

            e = self.elasticity
            self.E, self.nu, self.c_ref = (fem.Constant(self.mesh, float(v))
                                           for v in (e.youngs_modulus, e.poisson_ratio, e.reference))
            self.B = fem.Constant(self.mesh, self.vegard)
            self.length = mesh_extent(self.mesh)  # L [m] of u = L z
            self.L = fem.Constant(self.mesh, self.length)

    def _tensor(self, key):
        """A positive number or a symmetric positive-definite (gdim, gdim) tensor as a Constant."""
        from dolfinx import fem

        value, gdim = np.asarray(self.tensors[key], dtype=float), self.mesh.geometry.dim
        if value.shape == () and np.isfinite(value) and value > 0:
            return fem.Constant(self.mesh, float(value))
        if value.shape == (gdim, gdim) and np.allclose(value, value.T) and np.all(np.linalg.eigvalsh(value) > 0):
            return fem.Constant(self.mesh, value)
        raise InputError(key, self.tensors[key], f"a positive number or a symmetric positive-definite "
                         f"{gdim}x{gdim} tensor (SI units)")

    def build_conditions(self) -> None:
        """The initial state: c (checked to lie in (0, 1)), c_n = c, and the w = mu / (R T) consistent
        with it."""
        from dolfinx import fem

        self.c, self.c_n, self.w = (fem.Function(self.space, name=n) for n in ("site_fraction", "c_n", "w"))
        if callable(self.initial):
            self.c.interpolate(self.initial)
        else:
            self.c.x.array[:] = float(self.initial)
        lo, hi = self._range(self.c)
        if not (lo > 0 and hi < 1):
            raise InputError("initial", f"site fractions in [{lo:.6g}, {hi:.6g}]", "0 < c < 1 everywhere")
        self.c_n.x.array[:] = self.c.x.array
        self.mu = fem.Function(self.space, name="chemical_potential")  # R T w [J/mol], for output
        energy = free_energy(self.c, self.c_max, self.omega, self.RT, self.kappa, self.dx)
        if self.elasticity is not None:
            from femiec.problems.coherency import displacement_conditions

            self.z = fem.Function(self.displacement_space, name="z")
            self.u = fem.Function(self.displacement_space, name="displacement")  # L z [m], for output
            self.displacement_bcs = displacement_conditions(self.displacement_space, self.meshdata,
                                                            self.elasticity.support)
            self._solve_displacement()
            energy += elastic_energy_density(*self._elastic_args(), *self._material()) * self.dx
        self._project_potential()
        self._energy_form = fem.form(energy)
        self._lithium_form = fem.form(self.c_max * self.c * self.dx)

    def _material(self):
        """E, nu, B, c_ref: the arguments of femiec.forms.coherency after (c, u, gdim)."""
        return self.E, self.nu, self.B, self.c_ref

    def _elastic_args(self, u=None):
        """(c, u = L z [m], gdim) of the coherency forms."""
        return self.c, self.L * (self.z if u is None else u), self.mesh.geometry.dim

    def _equilibrium(self, u, v):
        """The weak div sigma = 0 tested with v, scaled by L / (lambda + 2 G) (module docstring)."""
        shear, lam = lame_parameters(self.E, self.nu)
        c, u, gdim = self._elastic_args(u)
        return equilibrium_residual(c, u, self.L * v / (lam + 2 * shear), gdim, *self._material(), self.dx)

    def _solve_displacement(self) -> None:
        """z of the present c: the mechanical equilibrium solved alone (linear)."""
        from dolfinx.fem.petsc import LinearProblem

        residual = self._equilibrium(ufl.TrialFunction(self.displacement_space),
                                     ufl.TestFunction(self.displacement_space))
        LinearProblem(ufl.lhs(residual), ufl.rhs(residual), u=self.z, bcs=self.displacement_bcs,
                      petsc_options={"ksp_type": "preonly", "pc_type": "lu",
                                     "pc_factor_mat_solver_type": "mumps"}).solve()

    def _elastic_potential_term(self, w):
        """int mu_el w dx (0 without coherency strain)."""
        if self.elasticity is None:
            return 0
        c, u, gdim = self._elastic_args()
        return elastic_potential(c, u, gdim, self.c_max, *self._material()) * w * self.dx

    def _project_potential(self) -> None:
        """w of the present c: the L2 projection of mu / (R T) = (g'(c) - div(kappa grad c) + mu_el)/(R T),
        the chemical-potential equation solved alone (a linear solve with the mass matrix)."""
        from dolfinx.fem.petsc import LinearProblem

        w, q = ufl.TrialFunction(self.space), ufl.TestFunction(self.space)
        residual = chemical_potential_residual(self.RT * w, self.c, self.c, q / self.RT, self.omega, self.RT,
                                               self.kappa, self.dx, "implicit")
        residual -= self._elastic_potential_term(q / self.RT)
        problem = LinearProblem(ufl.lhs(residual), ufl.rhs(residual), u=self.w,
                                petsc_options={"ksp_type": "preonly", "pc_type": "lu",
                                               "pc_factor_mat_solver_type": "mumps"})
        problem.solve()
        self._update_potential()

    def build_residual(self) -> None:
        """[F_c dt / c_max, F_mu / (R T)] with mu = R T w (residuals of femiec.forms.cahn_hilliard)."""
        v = q = ufl.TestFunction(self.space)  # one test function per block residual
        mu = self.RT * self.w
        fluxes = [(flux, self.ds(tag)) for flux, tag in self.surface_fluxes]
        self.residual = [
            lithium_balance_residual(self.c, self.c_n, mu, v * self.dt / self.c_max, self.dt, self.c_max, self.D,
                                     self.RT, self.dx, fluxes),
            chemical_potential_residual(mu, self.c, self.c_n, q / self.RT, self.omega, self.RT, self.kappa,
                                        self.dx, self.scheme) - self._elastic_potential_term(q / self.RT),
        ]
        if self.elasticity is not None:
            self.residual.append(self._equilibrium(self.z, ufl.TestFunction(self.displacement_space)))

    def build_solver(self) -> None:
        """Newton (femiec.solvers.NonlinearSolver) on the blocks [c, w] under ``femiec_cahn_hilliard_``,
        converged on the update of a whole step and the scaled residual (femiec.solvers.UpdateConvergence,
        module docstring), with the boundedness pre-check."""
        from dolfinx import fem, la

        from femiec.solvers import NonlinearSolver, UpdateConvergence

        kind = self.solver_kind
        linear = {"fieldsplit": FIELDSPLIT_OPTIONS, "block": BLOCK_OPTIONS}.get(kind, {})
        options = {"snes_atol": 0.0, "snes_linesearch_type": "basic", **linear, **self.petsc_options}
        preset = {"block": "iterative"}.get(kind, kind)
        test = UpdateConvergence(self.update_tolerance, error_estimate=True, full_step=lambda: self.full_step,
                                 residual_tolerance=self.residual_tolerance)
        unknowns, fields, bcs = [self.c, self.w], ["c", "mu"], []
        if self.elasticity is not None:
            unknowns, fields, bcs = unknowns + [self.z], fields + ["u"], self.displacement_bcs
        self.solver = NonlinearSolver(self.residual, unknowns, bcs=bcs, preset=preset, petsc_options=options,
                                      prefix=self.options_prefix, fields=fields, convergence_test=test)
        self.solver.snes.setLineSearchPreCheck(self._keep_inside)
        lumped = fem.assemble_vector(fem.form(ufl.TestFunction(self.space) * self.dx))
        lumped.scatter_reverse(la.InsertMode.add)
        weights = self.solver.snes.getFunction()[0].duplicate()
        inverse = 1 / lumped.array[: self.space.dofmap.index_map.size_local]
        blocks = [inverse, inverse] + ([np.repeat(inverse, self.mesh.geometry.dim)] if self.elasticity else [])
        weights.setArray(np.concatenate(blocks))
        test.residual_weights = weights
        self._block_pc = None
        if kind == "block":
            from femiec.solvers.cahn_hilliard_pc import CahnHilliardBlockPC

            self._block_pc = CahnHilliardBlockPC(
                self.space, self.c, self.dt, np.asarray(self.tensors["gradient_coefficient"], dtype=float)
                / self.values["RT"], np.asarray(self.tensors["diffusivity"], dtype=float), self.options_prefix)

    def _install_block_pc(self) -> None:
        """Put the block preconditioner on the SNES's present KSP (a new one after a failed linear solve)."""
        pc = self.solver.snes.getKSP().getPC()
        if self._block_pc is not None and pc.getType() != "python":
            pc.setType("python")
            pc.setPythonContext(self._block_pc)

    def _keep_inside(self, x, y) -> None:
        """Shorten the Newton direction y (x_new = x - s y) so that 0 < c < 1 at every node (module
        docstring); the owned c values are the first entries of the blocked vector on each rank."""
        n = self.space.dofmap.index_map.size_local
        self.full_step = keep_inside(x, y, 0, n, self.mesh.comm)

    # ------------------------------------------------------------------------------------ settings
    def set_scheme(self, scheme: str) -> None:
        """``convex_splitting`` (energy stable for every dt) or ``implicit`` (backward Euler)."""
        if scheme not in SCHEMES:
            raise InputError("scheme", scheme, f"one of {list(SCHEMES)}")
        self.scheme, self.solver = scheme, None

    def add_surface_flux(self, facet, flux) -> None:
        """An inward lithium flux j_in [mol/(m^2 s)] through the facets ``facet`` (name or tag): a number or
        a UFL expression, which may use ``self.c`` and ``self.chemical_potential()`` (a reaction rate)."""
        tag = self.meshdata.facet_id(facet, "surface_flux.facet")
        self.surface_fluxes.append((flux, tag))
        self.solver = None

    # ------------------------------------------------------------------------------------- stepping
    def step(self, dt: float):
        """One step of length dt [s] from the present state; returns the solve statistics (SolverError when
        Newton fails, the state is then restored)."""
        stats = self.attempt(dt)
        if not stats.converged:
            raise SolverError(f"Cahn–Hilliard step of {dt:.3g} s did not converge: {stats.reason} after "
                              f"{stats.newton_iterations} Newton iterations; options prefix -{self.options_prefix}")
        self.accept(dt, stats)
        return stats

    def attempt(self, dt: float):
        """Solve the step from c_n over dt [s] (c_n and the time unchanged); a failed solve restores c, w."""
        if not dt > 0:
            raise InputError("dt", dt, "a positive time step in s")
        if self.solver is None:
            self.build("residual", "solver")
        self.dt.value = dt
        self._install_block_pc()
        start = self.snapshot()
        stats = self.solver.solve(check=False)
        if not stats.converged:
            self.restore(start)
        return stats

    def snapshot(self) -> list:
        """Copies of the unknowns besides c (w, and z with coherency strain), for :meth:`restore`."""
        return [f.x.array.copy() for f in ([self.w] + ([self.z] if self.elasticity is not None else []))]

    def restore(self, snapshot: list) -> None:
        """Back to the start of the step: c = c_n and the other unknowns of ``snapshot``."""
        self.c.x.array[:] = self.c_n.x.array
        for f, values in zip([self.w] + ([self.z] if self.elasticity is not None else []), snapshot):
            f.x.array[:] = values

    def accept(self, dt: float, stats) -> CahnHilliardRecord:
        """Make the solved step the present state and record it."""
        self.c_n.x.array[:] = self.c.x.array
        self.time += dt
        self._update_potential()
        record = CahnHilliardRecord(len(self.records) + 1, self.time, dt, self.free_energy(), self.lithium(),
                                    stats.newton_iterations, stats.krylov_iterations)
        self.records.append(record)
        return record

    def run(self, t_end: float, dt: float, *, dt_max: float | None = None, grow: float = 1.5,
            output_dir=None, output_times=(), progress: bool = True,
            error_tolerance: float | None = None) -> list[CahnHilliardRecord]:
        """Adaptive steps (femiec.solvers.AdaptiveTimeStepper: first step dt, halved after failed Newton
        solves) from the present time to ``t_end`` [s]. With ``output_dir``: c and mu for ParaView
        (femiec.io.fields, VTX) at ``output_times`` and t_end, and history.csv (time, step, free energy,
        lithium, iterations and rejected attempts per step). Returns the new records.

        Step size: without ``error_tolerance`` (the default) a step grows by ``grow`` after easy Newton
        solves. With ``error_tolerance`` = tol [-] (``scheme="implicit"`` only) the steps follow the local
        error estimate of the site fraction c at every node (:meth:`site_fractions`; the largest over
        the nodes and ranks): the predictor is the line through the last two accepted c at t_{n+1}
        (femiec.solvers.error_control.LocalErrorControl, order 1, backward Euler), err = |c - P| / 3 for
        equal steps; a step with err > tol is redone shorter, the next step is dt min(2, max(0.2,
        0.9 (tol/err)^(1/2))), capped by ``dt_max`` (docs/cahn_hilliard.md, "Accuracy in time"). Convex
        splitting is refused: its explicit enthalpy shifts mu by 2 Omega (c - c_n), which adds
        dt^2 div(M grad(2 Omega dc/dt)) to each step's change of c, a local error that is not the
        backward-Euler multiple of c'' the estimate assumes (it is seen to a third of its size)."""
        from femiec.io.fields import FieldWriter
        from femiec.io.progress import progress_bar
        from femiec.solvers import AdaptiveTimeStepper
        from femiec.solvers.error_control import LocalErrorControl

        control = None
        if error_tolerance is not None:
            if self.scheme != "implicit":
                raise InputError("time.error_tolerance", error_tolerance, "scheme = 'implicit' with an error "
                                 "tolerance (convex splitting's local error is not the one the estimate assumes)")
            control = LocalErrorControl(error_tolerance, self.site_fractions, order=1, comm=self.mesh.comm)
        stepper = AdaptiveTimeStepper(dt, t_end, t0=self.time, dt_max=dt_max, grow=grow, comm=self.mesh.comm,
                                      name="cahn_hilliard", error_control=control)
        first = len(self.records)
        writer = FieldWriter(output_dir, self.fields()) if output_dir is not None else None
        outputs = set(output_times) | {t_end}
        if writer is not None:
            writer.write(self.time)

        def accept(t_new, step, stats):
            self.accept(step, stats).rejected_attempts = stepper.records[-1].rejected_attempts
            if writer is not None and any(np.isclose(t_new, t, rtol=1e-12, atol=0) for t in outputs):
                writer.write(t_new)

        with progress_bar("cahn_hilliard", t_end - self.time, self.mesh.comm, enabled=progress) as update:
            t0 = self.time
            stepper.run(lambda t, step: self.attempt(step), accept, output_times=output_times,
                        progress=lambda t: update(t - t0))
        if writer is not None:
            writer.close()
            self.write_history(output_dir)
        return self.records[first:]

    def write_history(self, directory) -> None:
        """history.csv in ``directory`` (rank 0): one row per accepted step, the fields of
        :class:`CahnHilliardRecord` with their units in the header (per m of depth in 2D, per m^2 in 1D)."""
        from pathlib import Path

        if self.mesh.comm.rank != 0:
            return
        per = {3: "", 2: "_per_m", 1: "_per_m2"}[self.mesh.topology.dim]
        units = {"time": "s", "dt": "s", "free_energy": "J" + per, "lithium": "mol" + per}
        names = list(asdict(self.records[0])) if self.records else []
        header = ",".join(f"{n}_{units[n]}" if n in units else n for n in names)
        rows = [",".join(repr(v) for v in asdict(r).values()) for r in self.records]
        Path(directory, "history.csv").write_text("\n".join([header, *rows]) + "\n")

    # --------------------------------------------------------------------------- derived quantities
    def chemical_potential(self):
        """mu = R T w [J/mol] (UFL)."""
        return self.RT * self.w

    def _update_potential(self) -> None:
        """The output fields mu = R T w [J/mol] and u = L z [m] of the present state."""
        self.mu.x.array[:] = self.values["RT"] * self.w.x.array
        if self.elasticity is not None:
            self.u.x.array[:] = self.length * self.z.x.array

    def site_fractions(self) -> np.ndarray:
        """A copy of c [-] at the nodes this rank owns (the output of :meth:`run`'s error control)."""
        return self.c.x.array[: self.space.dofmap.index_map.size_local].copy()

    def free_energy(self) -> float:
        """G = int c_max [g(c) + kappa |grad c|^2 / 2] dx (+ int W dx with coherency strain) of the present
        state [J in 3D, J/m in 2D, J/m^2 in 1D], summed over the ranks."""
        return global_integral(self._energy_form, self.mesh.comm)

    def lithium(self) -> float:
        """int c_max c dx [mol in 3D, mol/m in 2D, mol/m^2 in 1D]."""
        return global_integral(self._lithium_form, self.mesh.comm)

    def stress(self):
        """sigma = C : (eps(u) - eps0(c)) [Pa] (UFL, 3x3; coherency strain only)."""
        from femiec.forms.coherency import coherency_stress

        return coherency_stress(*self._elastic_args(), *self._material())

    def fields(self) -> dict:
        """Output fields name -> (Function, unit) for :class:`femiec.io.fields.FieldWriter`."""
        fields = {"site_fraction": (self.c, "1"), "chemical_potential": (self.mu, "J/mol")}
        if self.elasticity is not None:
            fields["displacement"] = (self.u, "m")
        return fields

    def _range(self, f) -> tuple[float, float]:
        from mpi4py import MPI

        owned = f.x.array[: self.space.dofmap.index_map.size_local]
        comm = self.mesh.comm
        return (comm.allreduce(float(owned.min()) if owned.size else np.inf, op=MPI.MIN),
                comm.allreduce(float(owned.max()) if owned.size else -np.inf, op=MPI.MAX))
