"""Full-Poisson mixed ionic-electronic conductor (MIEC): the carriers of a defect chemistry as a
Nernst–Planck–Poisson problem (docs/mixed_conductors.md, "Full Poisson"; the electroneutral model is
:mod:`femiec.problems.miec`).

Model (SI units; species and constants of femiec.materials.defects.DefectChemistry at the uniform
temperature T [K]): oxygen vacancies v (z = +2), electrons n (z = -1), holes p (z = +1) [mol/m^3], the
fixed acceptor A [mol/m^3] as the background charge rho_fixed = -F A [C/m^3]:

    J_i = -D_i (grad c_i + z_i c_i F/(R T) grad phi),   D_i = u_i R T / (|z_i| F)  (Nernst–Einstein)  [m^2/s]
    dv/dt + div J_v = 0
    dn/dt + div J_n = r,   dp/dt + div J_p = r,   r = k_r (K_e - n p)  [mol/(m^3 s)]   (generation/recombination)
    -div(eps grad phi) = F (2 v + p - n - A),     eps = eps_0 eps_r  [F/m]

(:mod:`femiec.problems.npp.model`, log-concentration unknowns; r by
:func:`femiec.forms.miec.electron_hole_generation`). Vacancies are exchanged with a gas only at the
surface, so inside the MIEC they are conserved; electrons and holes are also conserved when no
``recombination_rate`` k_r [m^3/(mol s)] is given (then holes and electrons have separate quasi-Fermi
levels; the electroneutral model's local e-h equilibrium n p = K_e is the limit of a large k_r, i.e. a
recombination length sqrt(D / (k_r (n + p))) much shorter than the device). The Debye length of the
initial state is

    lambda_D = sqrt(eps R T / (F^2 (4 v + n + p)))   [m]

(``problem.debye_length()``, at the species' reference concentrations: the initial ones, or a larger
fixed one); where the MIEC is many lambda_D thick it is electroneutral and this model reduces to the
electroneutral one, to O(lambda_D / L).

Initial state: the uniform defect equilibrium at ``oxygen_pressure`` [Pa] (electroneutral; phi = 0).

Contacts (femiec.problems.miec_conditions; each face gets an NPP electrode named after the face):

- :class:`~femiec.problems.miec_conditions.BlockingContact` (face, potential): NPP ``Electrode`` with
  ``voltage`` = potential and no reactions, phi = potential, every carrier blocked (zero normal flux);
  its charge per area eps dphi/dn is ``problem.charge_form(face)``.
- :class:`~femiec.problems.miec_conditions.ElectronicContact` (face, voltage): electron-reversible and
  ion-blocking: NPP ``Electrode`` (phi fixed) plus ``FixedConcentration`` of the electrons and holes at their
  values n_c, p_c of the uniform equilibrium (the metal's electrons in equilibrium with the MIEC's, an
  ideal ohmic contact), the vacancies blocked. The electronic potential psi_el = phi - (R T/F) ln(n / n_ref)
  (n_ref the initial n) is ``voltage`` there: phi = voltage + (R T/F) ln(n_c / n_ref) (the NPP electrode's
  voltage).
- :class:`~femiec.problems.miec_conditions.OxygenPressure` (face, pressure), only on the face of an
  ElectronicContact: the surface in equilibrium with the gas too, ``FixedConcentration`` of v, n and p at
  the equilibrium at ``pressure`` (n_c, p_c of the contact then come from ``pressure``).

A face without a contact is blocking and carries no surface charge. The steady current into the MIEC
through a contact is :func:`contact_current` (the NPP ``conduction_form``, its discrete consistent flux);
its small-signal impedance about a steady state is :func:`contact_port` (conduction plus displacement
current).

Transient (:func:`run_transient`): the NPP time stepping (``NernstPlanckPoisson.run``, backward Euler or
variable-step BDF2, adaptive steps) from the present state, the applied potentials at their targets from
the first step on (from the initial equilibrium: a potential step at t = 0, chronoamperometry). The
current into the MIEC through each contact is the terminal current, conduction plus displacement

    I = -int F sum_i z_i J_i . grad(psi) dx + d/dt int eps grad(phi) . grad(psi) dx   [A; A/m^2 in 1D]

(:class:`femiec.problems.npp.terminal.TerminalCurrent`, the rate that of the step just taken), so the
charging of the space-charge layers and of the geometric capacitance is in it.
"""
from __future__ import annotations

import numpy as np

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.errors import InputError
from femiec.problems.miec_conditions import BlockingContact, ElectronicContact, OxygenPressure

#: the carriers (name, charge number z) in the order of the NPP species
CARRIERS = (("vacancy", 2), ("electron", -1), ("hole", 1))


def nernst_einstein_diffusivity(mobility, charge, temperature):
    """D = u R T / (|z| F) [m^2/s] of a carrier of electrical mobility u [m^2/(V s)] and charge number z."""
    return mobility * GAS_CONSTANT * temperature / (abs(charge) * FARADAY)


def recombination_sources(material, rate_constant):
    """The NPP ``sources`` of electron-hole generation/recombination r = k_r (K_e(T) - n p) for the
    electrons and the holes (callables (c, T) -> UFL), {} without a rate constant."""
    from femiec.forms.miec import electron_hole_generation

    if rate_constant is None:
        return {}

    def generation(c, T):
        return electron_hole_generation(rate_constant, material.intrinsic_constant(T), c["electron"], c["hole"])

    return {"electron": generation, "hole": generation}


def _contacts(meshdata, conditions):
    """{face tag: (face, contact, oxygen pressure or None)} of ``conditions`` (InputError for a condition
    the full-Poisson MIEC does not take, two contacts on a face, or a pO2 on a face without a contact)."""
    contacts, pressures = {}, {}
    for condition in conditions:
        if not isinstance(condition, (BlockingContact, ElectronicContact, OxygenPressure)):
            raise InputError("conditions", type(condition).__name__,
                             "BlockingContact, ElectronicContact or OxygenPressure (with an ElectronicContact on "
                             "its face) for the full-Poisson MIEC")
        condition.validate()
        tag = meshdata.facet_id(condition.face, f"conditions.{condition.face}")
        target = pressures if isinstance(condition, OxygenPressure) else contacts
        if tag in target:
            raise InputError(f"conditions.{condition.face}", type(condition).__name__,
                             "at most one contact and one oxygen pressure per face")
        target[tag] = condition
    for tag, pressure in pressures.items():
        if not isinstance(contacts.get(tag), ElectronicContact):
            raise InputError(f"conditions.{pressure.face}", "OxygenPressure",
                             "an ElectronicContact on the same face (full-Poisson MIEC)")
    return {tag: (c.face, c, pressures.get(tag)) for tag, c in contacts.items()}


def miec_poisson_problem(meshdata, material, *, temperature: float, oxygen_pressure: float,
                         relative_permittivity, conditions=(), recombination_rate: float | None = None,
                         degree: int = 1, preset: str = "direct", petsc_options: dict | None = None,
                         scaling=None, step_tolerance: float = 1e-10):
    """The :class:`~femiec.problems.nernst_planck_poisson.NernstPlanckPoisson` problem of the module
    docstring (log-concentration variables, Poisson closure), in its initial state.

    Args:
        meshdata: :class:`femiec.meshing.base.MeshData` with facet tags naming the faces of ``conditions``.
        material: a DefectChemistry (its mobilities at T, intrinsic_constant, equilibrium, acceptor).
        temperature: T [K]; oxygen_pressure: pO2 [Pa] of the initial uniform equilibrium.
        relative_permittivity: eps_r (number, tensor, per-region mapping: as the NPP problem takes it).
        conditions: BlockingContact, ElectronicContact, OxygenPressure objects (module docstring).
        recombination_rate: k_r [m^3/(mol s)] of r = k_r (K_e - n p), or None (no generation/recombination).
        degree, preset, petsc_options, scaling, step_tolerance: of the NPP problem.
    """
    from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
    from femiec.problems.npp_conditions import Electrode, FixedConcentration
    from femiec.problems.species import Species

    for key, value in (("model.temperature", temperature), ("model.oxygen_pressure", oxygen_pressure)):
        if isinstance(value, bool) or not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
            raise InputError(key, value, "a positive number (SI units)")
    if recombination_rate is not None and not (isinstance(recombination_rate, (int, float))
                                               and np.isfinite(recombination_rate) and recombination_rate > 0):
        raise InputError("model.recombination_rate", recombination_rate, "a positive rate constant [m^3/(mol s)]")
    T = float(temperature)
    initial = _equilibrium(material, oxygen_pressure, T)
    species = [Species(name, z, nernst_einstein_diffusivity(u, z, T), initial[name], key=f"material.{name}")
               for (name, z), u in zip(CARRIERS, material.mobilities(T))]
    fixed, electrodes = [], []
    vt = GAS_CONSTANT * T / FARADAY
    for face, contact, pressure in _contacts(meshdata, conditions).values():
        name = str(face)
        if isinstance(contact, BlockingContact):
            electrodes.append(Electrode(name, face, voltage=float(contact.potential)))
            continue
        local = initial if pressure is None else _equilibrium(material, pressure.pressure, T)
        names = ("electron", "hole") if pressure is None else ("vacancy", "electron", "hole")
        fixed += [FixedConcentration(s, face, local[s]) for s in names]
        surface = float(contact.voltage) + vt * np.log(local["electron"] / initial["electron"])
        electrodes.append(Electrode(name, face, voltage=surface))
    problem = NernstPlanckPoisson(
        meshdata, species, conditions=fixed, electrodes=electrodes, temperature=T,
        relative_permittivity=relative_permittivity, fixed_charge=-FARADAY * material.acceptor,
        sources=recombination_sources(material, recombination_rate), closure="poisson", degree=degree,
        variables="log", scaling=scaling, preset=preset, petsc_options=petsc_options, step_tolerance=step_tolerance)
    problem.error_dofs = _owned_electron_dofs(problem)  # the error output of run_transient (its checkpoints)
    return problem


def _equilibrium(material, pressure: float, T: float) -> dict:
    """{carrier: concentration [mol/m^3]} of the uniform equilibrium at pO2 = ``pressure`` [Pa] and T [K]."""
    state = material.equilibrium(float(pressure), T)
    return {"vacancy": float(state.v), "electron": float(state.n), "hole": float(state.p)}


def contact_port(problem, face):
    """The voltage-driven impedance port (femiec.studies.impedance.ImpedancePort) of the contact on ``face``
    about the present (steady) state: input its applied potential [V], output the terminal current into
    the MIEC there, conduction plus displacement (the NPP port with ``current = "terminal"``): an
    electronic contact passes its electrons and holes through their fixed concentrations, not through a
    reaction. Z = dV/dI [Ohm in 3D, Ohm m^2 per area]."""
    return problem.impedance_port(str(face), current="terminal")


def _owned_electron_dofs(problem) -> np.ndarray:
    """The local indices into the mixed unknown ``problem.u`` of the electrons' nodes this rank owns."""
    space, dofs = problem.subspaces[problem._species_index("electron")]
    return np.asarray(dofs)[: space.dofmap.index_map.size_local * space.dofmap.index_map_bs]


def electron_log_concentrations(problem):
    """ln(n / n_ref) + const [-] at the nodes this rank owns (the electrons' log-concentration unknowns,
    ``problem.u.x.array[problem.error_dofs]``): the state whose local error controls :func:`run_transient`
    with ``error_tolerance`` (a change is a relative change of n); a checkpoint keeps its history as fields
    (femiec.problems.npp.checkpoint)."""
    return problem.u.x.array[problem.error_dofs].copy()


def run_transient(problem, t_end: float, dt: float | None, *, scheme: str = "bdf2",
                  error_tolerance: float | None = None, on_step=None, history: dict | None = None,
                  **run_options) -> dict:
    """Transient of the full-Poisson MIEC from its present state to ``t_end`` [s], first step ``dt`` [s]
    (``NernstPlanckPoisson.run``: ``scheme`` "bdf1" or "bdf2", adaptive steps; ``run_options`` its
    ``dt_min``, ``dt_max``, ``output_times``, ``on_output``, ``progress``). After ``problem.restart`` (a
    checkpoint written with ``extra={"terminal_currents": {face: recorder.history()}}``, as the case runner
    does) the run continues the checkpoint's (``dt`` None: the step it wanted next) and ``history`` = that
    dict continues the recorders, so they hold the whole run from t = 0. Without ``error_tolerance`` a
    step grows after easy Newton solves; with it = tol [-] the steps follow the local error estimate of
    ln(n / n_ref) at every node (:func:`electron_log_concentrations`; tol a relative change of n, e.g. 1e-3;
    the largest over the nodes counts; femiec.solvers.error_control.LocalErrorControl). Returns the
    :class:`~femiec.problems.npp.terminal.TerminalCurrent` of every contact (by face name; each holds the
    times [s], the contacts' potentials phi [V], terminal currents into the MIEC [A; A/m^2 in 1D] (None at
    the start) and displacement charges after every step); ``on_step(t, recorders)`` is called after they
    record, at the start (not that of a resumed run) and after each accepted step."""
    from femiec.problems.npp.terminal import TerminalCurrent

    recorders = {e.name: TerminalCurrent(problem, e.name) for e in problem.electrodes}
    for name, recorded in (history or {}).items():
        recorders[name].continue_from(recorded)

    def record(t):
        for recorder in recorders.values():
            recorder.record(t)
        if on_step is not None:
            on_step(t, recorders)

    control = {} if error_tolerance is None else {"error_tolerance": error_tolerance,
                                                   "error_output": lambda: electron_log_concentrations(problem)}
    problem.run(t_end, dt, scheme=scheme, on_step=record, **control, **run_options)
    return recorders


def contact_current(problem, face) -> float:
    """Steady current into the MIEC through the contact on ``face`` [A in 3D, A/m in 2D, A/m^2 in 1D]: the
    consistent conduction flux of the NPP electrode named after the face
    (:meth:`~femiec.problems.npp.smallsignal.NppSmallSignal.conduction_form`)."""
    from femiec.problems.base import global_integral

    return global_integral(problem.conduction_form(str(face)), problem.mesh.comm)
