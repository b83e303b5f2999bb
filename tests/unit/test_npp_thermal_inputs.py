"""Non-isothermal inputs of the Nernst–Planck–Poisson problem: one InputError per bad key or value, raised
while building the problem (before any solve), and the accepted forms of temperature and Soret input."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.config.loader import parse_case
from femiec.constants import BOLTZMANN
from femiec.errors import InputError
from femiec.meshing.box import box_mesh
from femiec.models.nernst_planck_poisson import NernstPlanckPoissonModel
from femiec.problems.nernst_planck_poisson import NernstPlanckPoisson, problem_from_section
from femiec.problems.npp_conditions import FixedPotential, HeatSources
from femiec.problems.species import Species
from femiec.problems.prescribed_temperature import PrescribedTemperature
from femiec.problems.thermal import HeatProblem
from femiec.problems.thermal_case import expression_of_x_t


@pytest.fixture
def square(comm):
    return box_mesh([1e-6, 1e-6], [2, 2], "triangle", comm=comm)


def section(temperature=300.0, **species_extra):
    species = {"name": "a", "charge": 1, "diffusivity": 1e-9, "initial": 1.0, **species_extra}
    if "mobility" in species_extra and "diffusivity" not in species_extra:
        species.pop("diffusivity")
    return {"species": [species, {"name": "b", "charge": -1, "diffusivity": 1e-9, "initial": 1.0}],
            "relative_permittivity": 10.0, "temperature": temperature,
            "conditions": [{"type": "potential", "facets": "xmin", "value": 0.0}]}


def build(table, meshdata):
    """The problem of a plain [model] table; a ``time`` entry is read as the case's [time] table."""
    table = dict(table)
    time = table.pop("time", None)
    if time is not None:
        parse_case({"mesh": {"kind": "box", "lengths": [1e-6, 1e-6], "cells": [2, 2]}, "time": time,
                    "model": {"kind": "nernst_planck_poisson", **table}})
    return problem_from_section(NernstPlanckPoissonModel.from_table(table), meshdata)


SOLVED = {"kind": "solved", "thermal_conductivity": 1.0, "boundary": [{"facet": "xmin", "temperature": 300.0}]}

BAD = [  # (section, start of the error message)
    (section(alpha_T="big"), "model.species[0].alpha_T: 'big'"),
    (section(alpha_T=1.0, heat_of_transport=1e-20), "model.species[0].heat_of_transport: 1e-20"),
    (section(heat_of_transport=float("nan")), "model.species[0].heat_of_transport: nan"),
    (section(soret=1.0), "model.species[0].soret: 1.0"),
    (section(mobility=1e-8, diffusivity=1e-9), "model.species[0].diffusivity: 1e-09"),
    (section(mobility=-1.0), "model.species[0].mobility: -1.0"),
    (section(diffusivity={"law": "power", "prefactor": 1.0}), "model.species[0].diffusivity.law: 'power'"),
    (section(diffusivity={"law": "arrhenius", "prefactor": 1e-5}),
     "model.species[0].diffusivity.activation_energy: None"),
    (section(temperature=250.0, diffusivity={"law": "vft", "prefactor": 1e-5, "pseudo_activation": 500.0,
                                             "ideal_glass_temperature": 260.0}),
     "model.species[0].diffusivity.temperature: 250.0"),
    (section(temperature=-3.0), "model.temperature: -3.0"),
    (section(temperature="hot"), "model.temperature: 'hot'"),
    (section(temperature={"kind": "guess"}), "model.temperature.kind: 'guess'"),
    (section(temperature={"kind": "constant", "value": 300.0, "unit": "K"}), "model.temperature.unit: 'K'"),
    (section(temperature={"kind": "expression", "expression": "300 + os.getcwd()"}),
     "model.temperature.expression: '300 + os.getcwd()'"),
    (section(temperature={"kind": "expression", "expression": "300 +* x"}),
     "model.temperature.expression: '300 +* x'"),
    (section(temperature={"kind": "expression", "expression": "300 - 1e3"}), "temperature: -700.0"),
    (section(temperature={"kind": "expression", "expression": "300", "degree": 3}),
     "model.temperature.degree: 3"),
    (section(temperature={"kind": "file", "file": "missing.npy"}), "model.temperature.file: 'missing.npy'"),
    (section(temperature={**SOLVED, "thermal_conductivity": None} | {"thermal_conductivity": -1.0}),
     "model.temperature.thermal_conductivity: -1.0"),
    (section(temperature={k: v for k, v in SOLVED.items() if k != "thermal_conductivity"}),
     "model.temperature.thermal_conductivity: '<missing>'"),
    (section(temperature={**SOLVED, "boundary": []}), "model.temperature.boundary: []"),
    (section(temperature={**SOLVED, "boundary": [{"facet": "xmin", "temperature": 300.0, "h": 5.0}]}),
     "model.temperature.boundary[0]: "),
    (section(temperature={**SOLVED, "boundary": [{"facet": "top", "temperature": 300.0}]}), "facet tag: 'top'"),
    (section(temperature={**SOLVED, "coupling": "loose"}), "model.temperature.coupling: 'loose'"),
    (section(temperature={**SOLVED, "coupling_tolerance": 2.0}), "model.temperature.coupling_tolerance: 2.0"),
    (section(temperature={**SOLVED, "sources": {"peltier": True}}), "model.temperature.sources.peltier: True"),
    (section(temperature={**SOLVED, "sources": {"ionic": "yes"}}), "model.temperature.sources.ionic: 'yes'"),
    (section(temperature={**SOLVED, "thermal_conductivity": {"law": "vft", "prefactor": 1.0,
                                                             "pseudo_activation": 10.0,
                                                             "ideal_glass_temperature": 400.0}}),
     "model.temperature.thermal_conductivity.temperature: 298.15"),
    ({**section(temperature={**SOLVED, "coupling": "staggered"}), "time": {"t_end": 1.0, "dt": 0.1}},
     "model.temperature.coupling: 'staggered'"),
]


@pytest.mark.parametrize("bad, message", BAD, ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in enumerate(BAD)])
def test_bad_thermal_inputs_are_refused(square, bad, message):
    with pytest.raises(InputError) as info:
        build(bad, square)
    assert str(info.value).startswith(message), str(info.value)
    assert "\n" not in str(info.value)


def test_api_refusals(square):
    species = [Species("a", 0, 1e-9, 1.0)]
    common = dict(conditions=[FixedPotential("xmin", 0.0)], relative_permittivity=10.0)
    with pytest.raises(InputError, match=r"^heat_sources: "):
        NernstPlanckPoisson(square, species, temperature=300.0, heat_sources=HeatSources(), **common)
    with pytest.raises(InputError, match=r"^model.temperature.coupling: 'both'"):
        NernstPlanckPoisson(square, species, temperature=300.0, coupling="both", **common)
    with pytest.raises(InputError, match=r"^heat_sources.ionic: 1"):
        HeatSources(ionic=1)
    heat = HeatProblem(square, 1.0, initial=300.0)
    heat.set_temperature("xmin", 300.0)
    NernstPlanckPoisson(square, species, temperature=heat, **common)
    with pytest.raises(InputError, match=r"^temperature: 'HeatProblem'"):
        NernstPlanckPoisson(square, species, temperature=heat, **common)


def test_soret_ratio_forms():
    """alpha_T: a number, a callable of T, or Q*/(k_B T) from a heat of transport; 0 without Soret."""
    assert Species("a", 0, 1e-9).thermal_diffusion_ratio(300.0) == 0.0
    assert Species("a", 0, 1e-9, alpha_T=2).thermal_diffusion_ratio(300.0) == 2.0
    assert Species("a", 0, 1e-9, alpha_T=lambda T: 600.0 / T).thermal_diffusion_ratio(300.0) == 2.0
    q = Species("a", 0, 1e-9, heat_of_transport=0.5 * BOLTZMANN * 400.0)
    assert q.thermodiffusive and q.thermal_diffusion_ratio(400.0) == pytest.approx(0.5, rel=1e-14)


@pytest.mark.mpi
def test_accepted_temperatures_and_laws(square, numbers):
    """Every temperature form builds; the reference temperature is the number or the volume mean;
    a mobility gives D = u R T/(|z| F) at the local T (Nernst–Einstein); the Arrhenius law table is
    evaluated at T."""
    from femiec.constants import FARADAY, GAS_CONSTANT

    mean_of_linear = 300.0 + 0.5 * 1e8 * 1e-6  # T = 300 + 1e8 x on [0, 1 um]: mean 350 K
    forms = [(section(temperature=310.0), 310.0),
             (section(temperature={"kind": "constant", "value": 320.0}), 320.0),
             (section(temperature={"kind": "expression", "expression": "300 + 1e8 * x"}), mean_of_linear),
             (section(temperature={**SOLVED, "initial": 330.0}), 330.0)]
    for spec, reference in forms:
        problem = build(spec, square)
        assert problem.scaling.temperature == pytest.approx(reference, rel=1e-12)
        numbers.record(f"reference_temperature_{reference:g}", problem.scaling.temperature)
    problem = build(section(temperature=400.0, mobility=1e-8), square)
    D = problem.diffusivities[0]
    assert float(D.value) == pytest.approx(1e-8 * GAS_CONSTANT * 400.0 / FARADAY, rel=1e-14)
    law = {"law": "arrhenius", "prefactor": 1e-5, "activation_energy": 5e4}
    problem = build(section(temperature=500.0, diffusivity=law), square)
    assert float(problem.diffusivities[0].value) == pytest.approx(1e-5 * np.exp(-5e4 / (GAS_CONSTANT * 500.0)))


def test_expression_names():
    f = expression_of_x_t("300 + 10 * sin(pi * x) + t", "T")
    assert f(np.array([[0.5], [0.0], [0.0]]), 2.0)[0] == pytest.approx(312.0)
    with pytest.raises(InputError, match=r"unknown name '__class__'"):
        expression_of_x_t("x.__class__", "T")


def test_prescribed_field_temperature_is_output(square):
    T = PrescribedTemperature(square, lambda x, t: 300.0 + 1e8 * x[0])
    problem = NernstPlanckPoisson(square, [Species("a", 0, 1e-9, 1.0, alpha_T=1.0)], temperature=T,
                                  conditions=[FixedPotential("xmin", 0.0)], relative_permittivity=10.0)
    assert problem.output_fields()["temperature"] == (T.T, "K")
