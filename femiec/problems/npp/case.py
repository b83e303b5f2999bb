"""Nernst–Planck–Poisson case sections: the problem of a model section (plain dict, SI units; keys in
docs/nernst_planck_poisson.md) and the case runner (solve, write the fields, summary entries)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING
from dataclasses import fields as dataclass_fields

from femiec.errors import InputError
from femiec.problems.npp.model import COUPLINGS, NernstPlanckPoisson
from femiec.problems.npp_conditions import Electrode, FixedConcentration, FixedPotential, HeatSources, SpeciesFlux
from femiec.problems.species import Species
CASE_KEYS = {"species", "closure", "relative_permittivity", "fixed_charge", "temperature", "degree", "variables",
             "conditions", "electrodes", "solver", "steady", "time", "output"}


def problem_from_section(section: Mapping, meshdata) -> NernstPlanckPoisson:
    """Build the problem of a model section (plain dict, SI units; keys in docs/nernst_planck_poisson.md)."""
    from femiec.problems.npp_conditions import Reaction

    unknown = sorted(set(section) - CASE_KEYS - {"kind"})
    if unknown:
        raise InputError(f"model.{unknown[0]}", section[unknown[0]], f"one of the keys {sorted(CASE_KEYS)}")
    _only(section.get("steady", {}), STEADY_KEYS, "model.steady")
    species = [_species_from_section(s, f"model.species[{i}]")
               for i, s in enumerate(_list(section.get("species", []), "model.species"))]
    makers = {"concentration": FixedConcentration, "potential": FixedPotential, "flux": SpeciesFlux}
    conditions = []
    for i, cond in enumerate(_list(section.get("conditions", []), "model.conditions")):
        key = f"model.conditions[{i}]"
        cond = _table(cond, key)
        kind = cond.pop("type", None)
        if kind not in makers:
            raise InputError(f"{key}.type", kind, f"one of {sorted(makers)}")
        conditions.append(_declared(makers[kind], cond, key))
    electrodes = []
    for i, spec in enumerate(_list(section.get("electrodes", []), "model.electrodes")):
        key = f"model.electrodes[{i}]"
        spec = _table(spec, key)
        reactions = [_declared(Reaction, r, f"{key}.reactions[{k}]")
                     for k, r in enumerate(_list(spec.pop("reactions", []), f"{key}.reactions"))]
        electrodes.append(_declared(Electrode, spec, key, reactions=reactions))
    solver = section.get("solver", {})
    temperature, coupling = _temperature_from_section(section.get("temperature", 298.15), meshdata)
    if coupling.get("coupling") == "staggered" and "time" in section:
        raise InputError("model.temperature.coupling", "staggered",
                         "'monolithic' for a transient case (staggered coupling is for steady solves)")
    return NernstPlanckPoisson(
        meshdata, species, conditions=conditions, electrodes=electrodes, temperature=temperature,
        relative_permittivity=section.get("relative_permittivity"), fixed_charge=section.get("fixed_charge"),
        closure=section.get("closure", "poisson"), degree=section.get("degree", 1),
        variables=section.get("variables", "concentration"), preset=solver.get("preset", "direct"),
        petsc_options=solver.get("petsc_options"), **coupling)


SPECIES_KEYS = {"name", "charge", "diffusivity", "mobility", "initial", "alpha_T", "heat_of_transport"}
STEADY_KEYS = {"continuation_steps", "debye_factor", "debye_steps"}
HEAT_SOURCE_KEYS = {"electronic_conductivity", "ionic", "reaction_irreversible", "reaction_reversible"}
COUPLING_KEYS = {"coupling", "coupling_tolerance", "sources"}


def _species_from_section(spec: Mapping, key: str) -> Species:
    """A Species of a case-file table: ``diffusivity`` [m^2/s] or ``mobility`` [m^2/(V s)] (Nernst–Einstein
    D = u R T/(|z| F) at the local T), each a number, tensor spec or law table ``{law = ...}``, and the
    Soret term ``alpha_T`` [-] or ``heat_of_transport`` [J per particle]."""
    from femiec.materials.temperature_dependence import diffusivity_from_mobility, property_law

    spec = _only(spec, SPECIES_KEYS, key)
    if ("diffusivity" in spec) == ("mobility" in spec):
        raise InputError(f"{key}.diffusivity", spec.get("diffusivity"), "exactly one of 'diffusivity' or 'mobility'")
    name = "diffusivity" if "diffusivity" in spec else "mobility"
    value = spec.pop(name)
    if isinstance(value, Mapping) and "law" in value:
        value = property_law(value, f"{key}.{name}")
    if name == "mobility":
        charge, mobility = spec.get("charge", 0), value
        if isinstance(mobility, bool) or not (callable(mobility) or isinstance(mobility, (int, float))) or \
                (not callable(mobility) and not mobility > 0):
            raise InputError(f"{key}.mobility", mobility, "a positive number in m^2/(V s) or a law table")
        if charge == 0:
            raise InputError(f"{key}.mobility", mobility, "a charged species (Nernst–Einstein); give "
                                                           "'diffusivity' for a neutral one")
        value = (lambda T: diffusivity_from_mobility(mobility(T), charge, T)) if callable(mobility) else \
            (lambda T: diffusivity_from_mobility(float(mobility), charge, T))
    return _declared(Species, spec, key, diffusivity=value)


def _temperature_from_section(spec, meshdata) -> tuple:
    """(temperature, coupling keyword arguments) of ``model.temperature`` (docs/nernst_planck_poisson.md)."""
    from femiec.materials.temperature_dependence import property_law
    from femiec.problems.thermal import temperature_from_section

    coupling = {}
    if isinstance(spec, Mapping) and spec.get("kind") == "solved":
        key = "model.temperature"
        sources = _only(spec.get("sources", {}), HEAT_SOURCE_KEYS, f"{key}.sources")
        for name in HEAT_SOURCE_KEYS - {"electronic_conductivity"}:
            if name in sources and not isinstance(sources[name], bool):
                raise InputError(f"{key}.sources.{name}", sources[name], "true or false")
        tolerance = spec.get("coupling_tolerance", 1e-10)
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance < 1:
            raise InputError(f"{key}.coupling_tolerance", tolerance, "a number in (0, 1)")
        sigma = sources.get("electronic_conductivity")
        if isinstance(sigma, Mapping) and "law" in sigma:
            sources["electronic_conductivity"] = property_law(sigma, f"{key}.sources.electronic_conductivity")
        coupling = {"coupling": spec.get("coupling", "monolithic"), "coupling_tolerance": float(tolerance),
                    "heat_sources": HeatSources(**sources)}
        if coupling["coupling"] not in COUPLINGS:
            raise InputError(f"{key}.coupling", coupling["coupling"], f"one of {list(COUPLINGS)}")
        spec = {k: v for k, v in spec.items() if k not in COUPLING_KEYS}
    return temperature_from_section(spec, meshdata), coupling


def run_case(section: Mapping, meshdata, out_dir, progress: Callable | None = None, problem=None) -> dict:
    """Solve a Nernst–Planck–Poisson case and write its fields; returns the summary entries.

    ``section``: the model section as a plain dict in SI units (see docs/nernst_planck_poisson.md), with
    optional ``solver`` {preset, petsc_options}, ``steady`` {continuation_steps, debye_factor,
    debye_steps} or ``time`` {t_end, dt, dt_min, dt_max, scheme, outputs} (transient when present) and
    ``output`` {formats}. Fields ``potential`` and ``concentration_<species>`` go to ``out_dir``.
    ``problem``: the problem already built from ``section`` (e.g. by ``femiec.runner``), else built here.
    """
    from femiec.io.fields import FieldWriter

    problem = problem if problem is not None else problem_from_section(section, meshdata)
    formats = tuple(section.get("output", {}).get("formats", ("vtx",)))
    writer = FieldWriter(out_dir, problem.output_fields(), formats=formats)

    def write(t):
        problem.update_output()
        writer.write(t)

    with writer:
        time = section.get("time")
        if time is None:
            steady = section.get("steady", {})
            problem.solve_steady(**steady)
            write(0.0)
            if progress is not None:
                progress(1.0)
        else:
            time = dict(time)
            outputs = int(time.pop("outputs", 10))
            t_end = float(time["t_end"])
            problem.run(**_only(time, {"t_end", "dt", "dt_min", "dt_max", "scheme"}, "time"),
                        output_times=[t_end * k / outputs for k in range(1, outputs)], on_output=write,
                        progress=None if progress is None else (lambda t: progress(t / t_end)))
    derived = problem.derived_quantities()
    if problem.heat is not None:
        derived["heat_balance [W]"] = problem.heat.heat_balance()
    return {"model": "nernst_planck_poisson", "derived": derived,
            "scaling": {"length_m": problem.scaling.length, "concentration_mol_m3": problem.scaling.concentration,
                        "time_s": problem.scaling.time, "potential_V": problem.scaling.potential,
                        "debye_length_m": problem.scaling.debye_length},
            "solver": {"records": problem.records}, "fields": writer.describe()}


def _declared(cls, table: Mapping, key: str, **given):
    """``cls(**table, **given, key=key)`` for a declarative dataclass (Species, conditions, electrodes,
    reactions) from a case-file table; unknown and missing keys are named under ``key``."""
    table = _only(table, _fields(cls) - set(given), key)
    for f in dataclass_fields(cls):
        if f.name not in table and f.name not in given and f.default is MISSING and f.default_factory is MISSING:
            raise InputError(f"{key}.{f.name}", "<missing>", "this key to be given")
    return cls(**table, **given, key=key)


def _fields(cls) -> set:
    """The case-file keys of a declarative dataclass: its fields but ``key``."""
    return {f.name for f in dataclass_fields(cls)} - {"key"}


def _list(value, key: str) -> list:
    if not isinstance(value, list):
        raise InputError(key, value, "a list of tables")
    return value


def _table(value, key: str) -> dict:
    if not isinstance(value, Mapping):
        raise InputError(key, value, "a table")
    return dict(value)


def _only(table: Mapping, allowed: set, key: str) -> dict:
    table = _table(table, key)
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise InputError(f"{key}.{unknown[0]}", table[unknown[0]], f"one of the keys {sorted(allowed)}")
    return table
