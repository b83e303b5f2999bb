"""Memristive oxide: a thin acceptor-doped oxide film between a Schottky (thermionic-emission) contact and
an ohmic one, with mobile oxygen vacancies (docs/memristor.md).

Model (SI units; a 1D film 0 < x < L, the Schottky contact at x = 0, the ohmic one at x = L): the
Nernst–Planck–Poisson problem of :mod:`femiec.problems.npp` with

    vacancies V_O** (z = +2, D_v), electrons e' (z = -1, D_n), fixed acceptors rho_fixed = -q N_A,
    -div(eps grad phi) = F (2 v - n) - q N_A,
    x = 0 (Schottky, metal at V(t)): J_v . n = 0, J_n . n = v_n (n - n_0), phi = V - phi_B + V_T ln(N_c / n_b),
    x = L (ohmic, grounded):          J_v . n = 0, n = n_b, phi = 0,

(:mod:`femiec.forms.contacts`), log-concentration unknowns. The film starts uniform and neutral
(2 v_0 = N_A + n_b) with the electrons in equilibrium with the frozen vacancies (the as-prepared state);
then V(t) = V_0 sin(2 pi f t) is applied and the terminal current I(t) [A/m^2] is recorded
(:class:`~femiec.problems.npp.terminal.TerminalCurrent`). Vacancies drifting in the field change the space
charge next to the Schottky contact and the electron density of the film, hence the current at a given V:
a pinched hysteresis loop whose lobes vanish when the vacancies cannot follow (f >> 1 / tau_ion) and
when they follow quasi-statically (f << 1 / tau_ion), with the ionic charging time

    tau_ion = lambda_v L / D_v,   lambda_v = sqrt(eps R T / (4 F^2 v_0))   [s]

(the RC time of the vacancy double layers, Bazant, Thornton & Ajdari, Phys. Rev. E 70 (2004) 021506).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from femiec.constants import AVOGADRO, ELEMENTARY_CHARGE, FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY

SCHOTTKY, OHMIC = "schottky", "ohmic"
#: the longest step of an error-controlled sweep, as a fraction of the period: a step must not jump over
#: a lobe of the loop (from one small reverse current to the next, where the predictor would agree)
MAX_STEP_FRACTION = 1 / 16
#: the first step of an error-controlled sweep, as a fraction of the period
FIRST_STEP_FRACTION = 1e-4


@dataclass(frozen=True)
class OxideFilm:
    """Parameters of the film (SI units; densities per m^3, as is usual for semiconductors).

    thickness L [m]; relative_permittivity eps_r; temperature T [K]; acceptor_density N_A [m^-3];
    electron_density n_b [m^-3] (at the ohmic contact and in the neutral film); barrier_height phi_B [V];
    effective_density_of_states N_c [m^-3]; richardson_constant A* [A/(m^2 K^2)]; electron_diffusivity
    D_n and vacancy_diffusivity D_v [m^2/s].
    """

    thickness: float = 30e-9
    relative_permittivity: float = 30.0
    temperature: float = 300.0
    acceptor_density: float = 2e26
    electron_density: float = 2e19
    barrier_height: float = 0.5
    effective_density_of_states: float = 8e26
    richardson_constant: float = 1.20173e6
    electron_diffusivity: float = 1e-5
    vacancy_diffusivity: float = 1e-17

    @property
    def vacancy_density(self) -> float:
        """v_0 = (N_A + n_b) / 2 [m^-3] (neutral film)."""
        return 0.5 * (self.acceptor_density + self.electron_density)

    @property
    def ionic_time(self) -> float:
        """tau_ion = lambda_v L / D_v [s] (module docstring)."""
        eps = self.relative_permittivity * VACUUM_PERMITTIVITY
        debye = np.sqrt(eps * GAS_CONSTANT * self.temperature * AVOGADRO / (4 * FARADAY ** 2 * self.vacancy_density))
        return float(debye * self.thickness / self.vacancy_diffusivity)


def graded_film(comm, thickness: float, cells: int, first_cell: float):
    """MeshData of the interval [0, L] whose cells grow geometrically from ``first_cell`` [m] at x = 0
    (femiec.meshing.graded.graded_interval); facet tags "schottky" (x = 0) and "ohmic" (x = L)."""
    from femiec.meshing.base import MeshData
    from femiec.meshing.graded import graded_interval

    interval = graded_interval(comm, cells, thickness, first_cell)
    return MeshData(interval.mesh, facet_tags=interval.facet_tags, facet_names={SCHOTTKY: 1, OHMIC: 2})


class MemristiveOxide:
    """The film of :class:`OxideFilm` as a :class:`~femiec.problems.nernst_planck_poisson.NernstPlanckPoisson`
    problem (``problem``), in its as-prepared state.

    ``vacancy_diffusivity_constant`` (a Constant, the vacancy diffusivity [m^2/s]) is 0 while the as-prepared
    state is solved and during :meth:`steady_current` (frozen vacancies), D_v during :meth:`sweep`.
    """

    def __init__(self, comm, film: OxideFilm = OxideFilm(), cells: int = 200, first_cell: float = 1e-12):
        from dolfinx import fem

        from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
        from femiec.problems.npp_conditions import Electrode, FixedConcentration, ThermionicContact
        from femiec.problems.scaling import Scaling
        from femiec.problems.species import Species

        self.film = film
        meshdata = graded_film(comm, film.thickness, cells, first_cell)
        nb, v0 = film.electron_density / AVOGADRO, film.vacancy_density / AVOGADRO
        self.vacancy_diffusivity_constant = fem.Constant(meshdata.mesh, 0.0)
        eps = film.relative_permittivity * VACUUM_PERMITTIVITY
        phi = self._depletion_potential()
        vt = GAS_CONSTANT * film.temperature / FARADAY
        contact = ThermionicContact("electron", SCHOTTKY, film.barrier_height, film.effective_density_of_states, nb,
                                    richardson_constant=film.richardson_constant)
        self.problem = NernstPlanckPoisson(
            meshdata, [Species("vacancy", 2, self.vacancy_diffusivity_constant, v0), Species(
                "electron", -1, film.electron_diffusivity, lambda x: nb * np.exp(phi(x) / vt))],
            conditions=[FixedConcentration("electron", OHMIC, nb), contact],
            electrodes=[Electrode(SCHOTTKY, SCHOTTKY, voltage=0.0), Electrode(OHMIC, OHMIC, voltage=0.0)],
            temperature=film.temperature, relative_permittivity=film.relative_permittivity,
            fixed_charge=-ELEMENTARY_CHARGE * film.acceptor_density, variables="log",
            initial_potential=phi,
            scaling=Scaling(film.thickness, v0, film.temperature, film.electron_diffusivity, eps, 1))
        self.problem.solve_steady()
        self.prepared = self.problem.u.x.array.copy()

    def _depletion_potential(self) -> Callable:
        """Initial guess: phi(x) = -V_bi (1 - x / W)^2 for x < W (the depletion approximation, W at most L)
        [V], with V_bi = phi_B - V_T ln(N_c / n_b)."""
        from femiec.analytic.schottky import built_in_potential, depletion_width

        f = self.film
        vbi = float(built_in_potential(f.barrier_height, f.temperature, f.effective_density_of_states,
                                       f.electron_density))
        width = min(float(depletion_width(vbi, f.temperature, f.relative_permittivity * VACUUM_PERMITTIVITY,
                                          f.electron_density)), f.thickness)
        return lambda x: -vbi * np.clip(1 - x[0] / width, 0, None) ** 2

    def steady_current(self, voltage: float) -> float:
        """Steady current density [A/m^2] into the film at the Schottky contact at the applied potential
        ``voltage`` [V], the vacancies frozen as prepared (the thermionic current F J_n . n)."""
        self.vacancy_diffusivity_constant.value = 0.0
        self.problem.set_voltage(SCHOTTKY, voltage)
        self.problem.solve_steady(continuation_steps=2)
        return self.problem.electrode_current(SCHOTTKY)

    def vacancy_fractions(self) -> np.ndarray:
        """v / v_0 [-] at the nodes this rank owns (exp of the vacancies' log-concentration unknowns): the
        state whose local error controls an error-controlled :meth:`sweep`."""
        space, dofs = self.problem.subspaces[self.problem._species_index("vacancy")]
        owned = np.asarray(dofs)[: space.dofmap.index_map.size_local * space.dofmap.index_map_bs]
        return np.exp(self.problem.u.x.array[owned])

    def sweep(self, amplitude: float, frequency: float, periods: int, steps_per_period: int | None = None,
              on_step: Callable | None = None, error_tolerance: float | None = None) -> dict:
        """From the as-prepared state, V(t) = V_0 sin(2 pi f t) [V] at the Schottky contact for ``periods``
        periods (BDF2), the vacancies mobile. Returns the :class:`~femiec.problems.npp.terminal.TerminalCurrent`
        of each contact (into the film), by name; ``on_step(t)`` is called after them at each step;
        ``steps`` and ``rejected_attempts`` count the run's accepted and redone steps.

        Steps: either fixed, 1 / (f ``steps_per_period``), or, with ``error_tolerance`` = tol [-] instead,
        following the local error estimate of the vacancy concentration, v / v_0 at every node
        (:meth:`vacancy_fractions`, the film's only memory: the electrons follow V(t) and the vacancies
        at once, and V(t) is exact at every step; femiec.solvers.error_control.LocalErrorControl through
        :meth:`~femiec.problems.nernst_planck_poisson.NernstPlanckPoisson.run`, order 2; docs/memristor.md,
        "Time steps"): a step whose largest local error exceeds tol is redone shorter; the first step is
        :data:`FIRST_STEP_FRACTION` of a period (the first steps are not checked, and an error made there
        stays in the vacancies), no step is longer than :data:`MAX_STEP_FRACTION` of a period, and the
        steps land on every half period (V = 0)."""
        from femiec.errors import InputError
        from femiec.problems.npp.terminal import TerminalCurrent

        if (steps_per_period is None) == (error_tolerance is None):
            raise InputError("steps_per_period", steps_per_period, "a number of fixed steps per period, or "
                             "error_tolerance instead (one of the two)")

        p = self.problem
        for f in (p.u, p.u_n, p.u_nm1):
            f.x.array[:] = self.prepared
        p.set_electrode_voltage(SCHOTTKY, 0.0)
        p.set_voltage(SCHOTTKY, 0.0)
        self.vacancy_diffusivity_constant.value = self.film.vacancy_diffusivity
        recorders = {name: TerminalCurrent(p, name) for name in (SCHOTTKY, OHMIC)}

        def record(t):
            for recorder in recorders.values():
                recorder.record(t)
            if on_step is not None:
                on_step(t)

        if error_tolerance is None:
            dt = 1.0 / (frequency * steps_per_period)
            steps = {"dt": dt, "dt_max": dt}
        else:
            steps = {"dt": FIRST_STEP_FRACTION / frequency, "dt_max": MAX_STEP_FRACTION / frequency,
                     "error_tolerance": error_tolerance, "error_output": self.vacancy_fractions,
                     "output_times": [k / (2 * frequency) for k in range(1, 2 * periods)]}
        records = p.run(periods / frequency, on_step=record, **steps,
                        voltage_waveforms={SCHOTTKY: lambda t: amplitude * np.sin(2 * np.pi * frequency * t)})
        self.steps, self.rejected_attempts = len(records), sum(r["rejected_attempts"] for r in records)
        return recorders
