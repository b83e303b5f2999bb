"""Input checks and default reference scales of a Nernst–Planck–Poisson problem (before any space is built)."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import ufl

from femiec.constants import VACUUM_PERMITTIVITY
from femiec.errors import InputError
from femiec.problems.base import check_quadrature_degree
from femiec.problems.npp_conditions import (FixedConcentration, FixedPotential, HeatSources, SpeciesFlux,
                                            ThermionicContact)
from femiec.problems.scaling import Scaling

CLOSURES = ("poisson", "electroneutrality")
VARIABLES = ("concentration", "log")
COUPLINGS = ("monolithic", "staggered")


def validate(problem) -> None:
    """Check the constructor arguments of ``problem`` (InputError naming the key of the first bad one)."""
    if problem.coupling not in COUPLINGS:
        raise InputError("model.temperature.coupling", problem.coupling, f"one of {list(COUPLINGS)}")
    if problem.heat_sources is not None and not isinstance(problem.heat_sources, HeatSources):
        raise InputError("heat_sources", problem.heat_sources, "a HeatSources object")
    if problem.closure not in CLOSURES:
        raise InputError("model.closure", problem.closure, f"one of {list(CLOSURES)}")
    if problem.variables not in VARIABLES:
        raise InputError("model.variables", problem.variables, f"one of {list(VARIABLES)}")
    if problem.degree not in (1, 2):
        raise InputError("model.degree", problem.degree, "1 or 2")
    check_quadrature_degree(problem.quadrature_degree, "model.quadrature_degree")
    if not problem.species:
        raise InputError("model.species", problem.species, "at least one species")
    names = [s.name for s in problem.species]
    if len(set(names)) != len(names):
        raise InputError("model.species", names, "distinct species names")
    if problem.closure == "poisson" and problem.relative_permittivity is None:
        raise InputError("model.relative_permittivity", None, "a relative permittivity (Poisson closure)")
    known = set(names)
    for cond in problem.conditions:
        if not isinstance(cond, (FixedConcentration, FixedPotential, SpeciesFlux, ThermionicContact)):
            raise InputError("model.conditions", cond,
                             "FixedConcentration, FixedPotential, SpeciesFlux or ThermionicContact")
        if isinstance(cond, ThermionicContact):
            _check_thermionic_contact(problem, cond)
            continue
        name = getattr(cond, "species", None)
        if name is not None and name not in known:
            raise InputError(f"{cond.key}.species", name, f"one of {names}")
        if problem.variables == "log" and isinstance(cond, FixedConcentration) and not callable(cond.value) \
                and cond.value <= 0:
            raise InputError(f"{cond.key}.value", cond.value,
                             "a positive concentration (log-concentration variables)")
        for facet in cond.facets:
            problem._facet_tag(facet, f"{cond.key}.facets")
    for name in problem.sources_spec:
        if name not in known:
            raise InputError("sources", name, f"one of {names}")
    for electrode in problem.electrodes:
        for facet in electrode.facets:
            problem._facet_tag(facet, f"{electrode.key}.facets")
        for reaction in electrode.reactions:
            for side in ("oxidized", "reduced"):
                for name in getattr(reaction, side):
                    if name not in known:
                        raise InputError(f"{reaction.key}.{side}", name, f"one of the species {names}")
    if sum(e.galvanostatic for e in problem.electrodes) > 1:
        raise InputError("model.electrodes", [e.name for e in problem.electrodes if e.galvanostatic],
                         "at most one galvanostatic electrode")
    if problem.closure == "electroneutrality":
        last = problem.species[-1]
        if last.charge == 0:
            raise InputError(f"{last.key}.charge", 0, "a charged last species (electroneutrality)")
        for cond in problem.conditions:
            if isinstance(cond, FixedConcentration) and cond.species == last.name:
                raise InputError(f"{cond.key}.species", cond.species,
                                 "no fixed concentration for the last species (set by electroneutrality)")
    if problem.variables == "log":
        for s in problem.species:
            if not callable(s.initial) and s.initial <= 0:
                raise InputError(f"{s.key}.initial", s.initial,
                                 "a positive concentration (log-concentration variables)")
    regional = [(f"{s.key}.diffusivity", s.diffusivity) for s in problem.species]
    regional += [("model.relative_permittivity", problem.relative_permittivity),
                 ("model.fixed_charge", problem.fixed_charge_spec)]
    for key, spec in regional:
        if isinstance(spec, Mapping) and "symmetry" not in spec:  # cell region -> value
            for region in spec:
                if isinstance(region, str) and region not in problem.meshdata.cell_names:
                    raise InputError(f"{key}.{region}", region,
                                     f"a cell region of the mesh ({', '.join(sorted(problem.meshdata.cell_names))})")


def _check_thermionic_contact(problem, contact) -> None:
    """A thermionic contact needs a charge -1 species, a potentiostatic electrode without reactions or
    Stern layer, the Poisson closure and a uniform temperature (a number)."""
    species = {s.name: s for s in problem.species}
    if contact.species not in species or species[contact.species].charge != -1:
        raise InputError(f"{contact.key}.species", contact.species, "an electron species (charge -1)")
    electrode = next((e for e in problem.electrodes if e.name == contact.electrode), None)
    if electrode is None or electrode.reactions or electrode.stern_capacitance is not None or electrode.galvanostatic:
        raise InputError(f"{contact.key}.electrode", contact.electrode,
                         "a potentiostatic electrode without reactions or Stern layer")
    if problem.closure != "poisson":
        raise InputError("model.closure", problem.closure, "'poisson' with a thermionic contact")
    if isinstance(problem.temperature, bool) or not isinstance(problem.temperature, (int, float)):
        raise InputError("model.temperature", problem.temperature, "a number in K with a thermionic contact")


def default_scaling(problem) -> Scaling:
    """Reference scales from the mesh extent, the species and the conditions of ``problem``."""
    lo, hi = problem.meshdata.bounding_box()
    length = float(np.max(hi - lo))
    values = [v for v in (s.reference_concentration() for s in problem.species) if v]
    values += [c.value for c in problem.conditions
               if isinstance(c, FixedConcentration) and not callable(c.value) and c.value > 0]
    concentration = max(values) if values else 1.0
    T_ref = problem._reference_temperature()
    def reference_diffusivity(s):
        if s.concentration_dependent:
            return s.diffusivity(T_ref, s.reference_concentration() or concentration)
        if callable(s.diffusivity) and not isinstance(s.diffusivity, ufl.core.expr.Expr):
            return s.diffusivity(T_ref)
        return s.diffusivity

    diffusivity = max(reference_value(reference_diffusivity(s), f"{s.key}.diffusivity") for s in problem.species)
    eps_r = 1.0 if problem.relative_permittivity is None else \
        reference_value(problem.relative_permittivity, "model.relative_permittivity")
    return Scaling(length, concentration, T_ref, diffusivity,
                   eps_r * VACUUM_PERMITTIVITY, problem.meshdata.dim)


def reference_value(spec, key: str) -> float:
    """Largest principal value of a coefficient spec (number, tensor, table, per-region mapping); an
    invalid spec raises InputError naming ``key`` (e.g. ``model.species[0].diffusivity``)."""
    from femiec.materials.tensors import tensor_from_spec

    if isinstance(spec, ufl.core.expr.Expr):
        raise InputError("scaling", "UFL coefficient", "an explicit Scaling when a coefficient is a UFL expression")
    if isinstance(spec, Mapping) and "symmetry" not in spec:
        return max(reference_value(v, f"{key}.{region}") for region, v in spec.items())
    return float(np.max(np.linalg.eigvalsh(tensor_from_spec(spec, key))))
