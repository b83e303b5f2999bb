"""Unit tests of the Nernst–Planck–Poisson problem object: input checks, declarative species, options."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from femiec.errors import InputError
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson
from femiec.problems.npp_conditions import Electrode, FixedConcentration, FixedPotential, Reaction
from femiec.problems.scaling import Scaling
from femiec.problems.species import Species

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "verification"))
from npp_support import box_mesh, graded_interval  # noqa: E402


def binary():
    return [Species("cation", 1, 1e-9, 1.0), Species("anion", -1, 1e-9, 1.0)]


def reservoir(value=0.05):
    return [FixedPotential("xmin", value), FixedPotential("xmax", 0.0),
            FixedConcentration("cation", "xmax", 1.0), FixedConcentration("anion", "xmax", 1.0)]


@pytest.mark.parametrize("kwargs, key", [
    (dict(name="1x", charge=1, diffusivity=1e-9), "species.name"),
    (dict(name="a", charge="one", diffusivity=1e-9), "species.a.charge"),
    (dict(name="a", charge=1, diffusivity=1e-9, initial=-1.0), "species.a.initial"),
    (dict(name="a", charge=1, diffusivity=1e-9, initial=-1.0, key="model.species[3]"), "model.species[3].initial"),
])
def test_species_input_errors(kwargs, key):
    with pytest.raises(InputError) as err:
        Species(**kwargs)
    assert err.value.key == key


def test_condition_input_errors():
    with pytest.raises(InputError, match="exactly one of"):
        Electrode("e", "xmin", voltage=1.0, current=1.0)
    with pytest.raises(InputError, match="reaction at a galvanostatic electrode"):
        Electrode("e", "xmin", current=1.0)
    with pytest.raises(InputError, match="reaction.kinetics"):
        Reaction(1.0, kinetics="tafel")
    with pytest.raises(InputError, match="reorganization_energy"):
        Reaction(1.0, kinetics="marcus_hush_chidsey")
    with pytest.raises(InputError, match="conditions.cation.value"):
        FixedConcentration("cation", "xmin", -1.0)


def test_problem_input_errors(comm):
    meshdata = box_mesh(comm, [4], [1e-7])
    with pytest.raises(InputError, match=r"^conditions.x.species: 'x'"):
        NernstPlanckPoisson(meshdata, binary(), conditions=[FixedConcentration("x", "xmin", 1.0)],
                            relative_permittivity=10.0)
    with pytest.raises(InputError, match="model.relative_permittivity"):
        NernstPlanckPoisson(meshdata, binary())
    with pytest.raises(InputError, match="positive concentration"):
        NernstPlanckPoisson(meshdata, binary(), conditions=[FixedConcentration("cation", "xmin", 0.0)],
                            relative_permittivity=10.0, variables="log")
    with pytest.raises(InputError, match="set by electroneutrality"):
        NernstPlanckPoisson(meshdata, binary(), conditions=[FixedConcentration("anion", "xmin", 1.0)],
                            closure="electroneutrality")
    with pytest.raises(InputError, match=r"^conditions.potential.facets: 'top' \(expected one of the facet tags"):
        NernstPlanckPoisson(meshdata, binary(), conditions=[FixedPotential("top", 0.0)],
                            relative_permittivity=10.0)
    with pytest.raises(InputError, match=r"^species.cation.diffusivity: -1e-09 \(expected a positive"):
        NernstPlanckPoisson(meshdata, [Species("cation", 1, -1e-9, 1.0)], relative_permittivity=10.0)
    with pytest.raises(InputError, match=r"^model.quadrature_degree: 0 \(expected a positive integer or None"):
        NernstPlanckPoisson(meshdata, binary(), relative_permittivity=10.0, quadrature_degree=0)


def test_quadrature_degree_default_and_choice(comm):
    """The default quadrature degree is 2 p (femiec.problems.npp.model.default_quadrature_degree); an
    explicit one is used as given."""
    meshdata = box_mesh(comm, [4], [1e-7])
    for degree in (1, 2):
        problem = NernstPlanckPoisson(meshdata, binary(), relative_permittivity=10.0, degree=degree)
        assert problem.quadrature_degree == 2 * degree
        assert problem.dx.metadata() == {"quadrature_degree": 2 * degree}
    assert NernstPlanckPoisson(meshdata, binary(), relative_permittivity=10.0, quadrature_degree=4).quadrature_degree == 4


SECTION = {
    "species": [{"name": "cation", "charge": 1, "diffusivity": 1e-9, "initial": 100.0},
                {"name": "anion", "charge": -1, "diffusivity": 2e-9, "initial": 100.0}],
    "relative_permittivity": 78.5,
    "conditions": [{"type": "concentration", "species": "cation", "facets": "xmax", "value": 100.0},
                   {"type": "potential", "facets": "xmax", "value": 0.0}],
    "electrodes": [{"name": "anode", "facets": "xmin", "current": 5.0, "stern_capacitance": 0.2,
                    "reactions": [{"exchange_current_density": 10.0, "oxidized": {"cation": 1}}]}],
}


def _changed(path, value):
    """A deep copy of SECTION with the entry at ``path`` (keys and list indices) set to ``value``."""
    import copy

    section = copy.deepcopy(SECTION)
    *parents, last = path
    target = section
    for step in parents:
        target = target[step]
    target[last] = value
    return section


@pytest.mark.parametrize("path, value, key", [
    (("species", 0, "diffusivity"), -1.3e-9, "model.species[0].diffusivity"),
    (("species", 1, "diffusivity"), [[1e-9, 0, 0], [0, -1e-9, 0], [0, 0, 1e-9]], "model.species[1].diffusivity"),
    (("species", 1, "diffusivity"), {"pore": 1e-9}, "model.species[1].diffusivity.pore"),
    (("species", 0, "charge"), "one", "model.species[0].charge"),
    (("species", 1, "initial"), -1.0, "model.species[1].initial"),
    (("species", 0, "diffusion"), 1e-9, "model.species[0].diffusion"),
    (("relative_permittivity",), -78.5, "model.relative_permittivity"),
    (("conditions", 0, "facets"), "left", "model.conditions[0].facets"),
    (("conditions", 0, "species"), "K", "model.conditions[0].species"),
    (("conditions", 0, "value"), -1.0, "model.conditions[0].value"),
    (("conditions", 1), {"type": "potential", "facets": "xmax"}, "model.conditions[1].value"),
    (("electrodes", 0, "facets"), ["xmin", "left"], "model.electrodes[0].facets"),
    (("electrodes", 0, "stern_capacitance"), -0.2, "model.electrodes[0].stern_capacitance"),
    (("electrodes", 0, "reactions", 0, "exchange_current_density"), -10.0,
     "model.electrodes[0].reactions[0].exchange_current_density"),
    (("electrodes", 0, "reactions", 0, "oxidized"), {"K": 1}, "model.electrodes[0].reactions[0].oxidized"),
    (("steady",), {"steps": 3}, "model.steady.steps"),
])
def test_case_section_errors_name_the_case_file_key(comm, path, value, key):
    """Errors of a case-file section name the full key path (model.species[i].<key>, model.conditions[i]...,
    model.electrodes[i].reactions[k]...), one line, before any solve."""
    from femiec.models.nernst_planck_poisson import NernstPlanckPoissonModel
    from femiec.problems.nernst_planck_poisson import problem_from_section

    with pytest.raises(InputError) as err:
        problem_from_section(NernstPlanckPoissonModel.from_table(_changed(path, value)), box_mesh(comm, [4], [1e-7]))
    assert err.value.key == key
    assert "\n" not in str(err.value) and "(expected " in str(err.value)


@pytest.mark.parametrize("path, value, key", [
    (("species", 0, "valence"), 1, "model.species[0].valence"),
    (("conditions", 0, "facet"), "xmax", "model.conditions[0].facet"),
    (("conditions", 1, "species"), "cation", "model.conditions[1].species"),  # not a key of a potential
    (("electrodes", 0, "capacitance"), 0.2, "model.electrodes[0].capacitance"),
    (("electrodes", 0, "reactions", 0, "order"), 1, "model.electrodes[0].reactions[0].order"),
    (("conditions", 0, "type"), "dirichlet", "model.conditions[0].type"),
    (("conditions", 1), {"facets": "xmax", "value": 0.0}, "model.conditions[1].type"),
    (("electrodes", 0, "reactions", 0, "kinetics"), "tafel", "model.electrodes[0].reactions[0].kinetics"),
    (("temperature",), {"kind": "solved", "thermal_conductivity": 1.0, "boundary": [{"facet": "xmin", "T": 1.0}]},
     "model.temperature.boundary[0].T"),
])
def test_typed_section_refuses_unknown_keys_and_types(path, value, key):
    """Every table of the typed section refuses unknown keys, and a condition's ``type`` must be one of
    concentration/potential/flux: one line naming the key, without a mesh."""
    from femiec.models.nernst_planck_poisson import NernstPlanckPoissonModel

    with pytest.raises(InputError) as err:
        NernstPlanckPoissonModel.from_table(_changed(path, value))
    assert err.value.key == key, str(err.value)
    assert "\n" not in str(err.value) and "(expected " in str(err.value)


def test_typed_section_names_its_mesh_tags():
    """Facet names of conditions, electrodes and temperature boundaries and cell regions of per-region
    coefficients are listed with their case keys, for the runner to check against the mesh."""
    from femiec.models.nernst_planck_poisson import NernstPlanckPoissonModel

    table = _changed(("conditions", 0, "facets"), ["xmax", 3, "top"])
    table["species"][0]["diffusivity"] = {"pore": 1e-9, "solid": 1e-12}
    table["fixed_charge"] = {"solid": 10.0}
    table["temperature"] = {"kind": "solved", "thermal_conductivity": {"pore": 1.0},
                            "boundary": [{"facet": "xmin", "temperature": 300.0}]}
    model = NernstPlanckPoissonModel.from_table(table)
    assert model.referenced_facet_tags() == [
        ("model.conditions[0].facets[0]", "xmax"), ("model.conditions[0].facets[2]", "top"),
        ("model.conditions[1].facets", "xmax"), ("model.electrodes[0].facets", "xmin"),
        ("model.temperature.boundary[0].facet", "xmin")]
    assert model.referenced_cell_tags() == [
        ("model.species[0].diffusivity.pore", "pore"), ("model.species[0].diffusivity.solid", "solid"),
        ("model.fixed_charge.solid", "solid"), ("model.temperature.thermal_conductivity.pore", "pore")]


@pytest.mark.mpi
def test_species_reused_in_two_problems(comm, numbers):
    """A Species holds no solver state: two problems built from the same objects solve independently."""
    species = binary()
    meshdata = graded_interval(comm, 40, 1e-7, 2e-10)
    first = NernstPlanckPoisson(meshdata, species, conditions=reservoir(0.05), relative_permittivity=10.0,
                                variables="log")
    second = NernstPlanckPoisson(meshdata, species, conditions=reservoir(-0.05), relative_permittivity=10.0,
                                 variables="log")
    first.solve_steady()
    second.solve_steady()
    assert first.amount("cation") == pytest.approx(second.amount("anion"), rel=1e-10)  # mirror images
    numbers.record("amount_cation", first.amount("cation"))
    assert species[0] == Species("cation", 1, 1e-9, 1.0)


@pytest.mark.mpi
def test_debye_length_continuation_matches_direct_solve(comm, numbers):
    """Starting at 10 lambda_D and lowering the permittivity step by step reaches the direct solution."""
    meshdata = graded_interval(comm, 60, 1e-7, 2e-10)
    kwargs = dict(conditions=reservoir(0.1), relative_permittivity=10.0, variables="log")
    direct = NernstPlanckPoisson(meshdata, binary(), **kwargs)
    direct.solve_steady()
    ramped = NernstPlanckPoisson(meshdata, binary(), **kwargs)
    records = ramped.solve_steady(continuation_steps=2, debye_factor=10.0, debye_steps=3)
    assert [r.get("debye_factor") for r in records][-1] == pytest.approx(1.0)
    assert ramped.amount("cation") == pytest.approx(direct.amount("cation"), rel=1e-9)
    numbers.record("amount_cation", ramped.amount("cation"))


@pytest.mark.mpi
def test_scaling_and_output_fields(comm, numbers):
    meshdata = box_mesh(comm, [4, 4], [1e-7, 1e-7])
    problem = NernstPlanckPoisson(meshdata, binary(), conditions=reservoir(), relative_permittivity=10.0)
    sc = problem.scaling
    assert isinstance(sc, Scaling) and sc.length == pytest.approx(1e-7) and sc.dim == 2
    assert sc.time == pytest.approx(1e-14 / 1e-9)
    assert problem.debye_length() == pytest.approx(sc.debye_length, rel=1e-12)
    numbers.record("debye_length", problem.debye_length())
    fields = problem.output_fields()
    assert {k: v[1] for k, v in fields.items()} == {
        "concentration_cation": "mol/m^3", "concentration_anion": "mol/m^3", "potential": "V"}
    assert np.allclose(fields["concentration_cation"][0].x.array, 1.0)


@pytest.mark.mpi
def test_fieldsplit_index_sets_partition_the_dofs(comm):
    """The fieldsplit preset gets the concentrations and the potential as two index sets that together
    hold every owned degree of freedom once."""
    meshdata = box_mesh(comm, [4, 4], [1e-7, 1e-7])
    problem = NernstPlanckPoisson(meshdata, binary(), conditions=reservoir(), relative_permittivity=10.0)
    sets = problem._field_index_sets()
    imap = problem.W.dofmap.index_map
    owned = imap.size_local * problem.W.dofmap.index_map_bs
    indices = np.concatenate([sets["c"].getIndices(), sets["phi"].getIndices()])
    assert len(indices) == owned == len(np.unique(indices))
    assert len(sets["phi"].getIndices()) * 3 == owned
