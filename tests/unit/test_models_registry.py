"""The model registry (femiec.models): one spec per model kind, read by the schema, the runner and
`femiec validate`; the top-level API (`import femiec`)."""
from __future__ import annotations

import typing

import numpy as np
import pytest

from femiec.config import parse_case
from femiec.config.schema import UNION_TAGS
from femiec.errors import InputError
from femiec.models import MODELS, ModelSection, model_spec


def test_every_registered_kind_is_a_case_section():
    """Each spec's section is a ModelSection whose ``kind`` literal is its registry key, and the schema's
    [model] union and its key printing take exactly the registered kinds."""
    assert set(MODELS) == {"conduction", "homogenization", "nernst_planck_poisson", "electrode", "blocking_cell",
                           "mixed_conductor", "porous_mixed_conductor", "intercalation_particles"}
    for kind, spec in MODELS.items():
        assert issubclass(spec.section, ModelSection)
        assert typing.get_args(spec.section.model_fields["kind"].annotation) == (kind,)
        assert spec.summary
    assert UNION_TAGS["model"] == set(MODELS)


def test_unknown_kind_names_the_registered_ones():
    with pytest.raises(InputError) as err:
        parse_case({"mesh": {"kind": "box", "lengths": [1, 1], "cells": [2, 2]}, "model": {"kind": "cahn_hilliard"}})
    assert err.value.key == "model.kind" and err.value.value == "cahn_hilliard"
    for kind in MODELS:
        assert kind in err.value.expected
    with pytest.raises(InputError, match="model.kind"):
        model_spec("cahn_hilliard")


def test_a_mesh_is_required_only_by_models_that_need_one():
    with pytest.raises(InputError, match=r"^mesh: '<missing>' \(expected a \[mesh\] table \(model.kind = 'electrode'\)"):
        parse_case({"model": {"kind": "electrode"}})
    assert not MODELS["homogenization"].needs_mesh and MODELS["electrode"].needs_mesh


def test_electrode_section_defaults_are_the_problem_defaults():
    """The typed electrode section maps one-to-one onto what ElectrodeProblem takes: its parameter tables
    are the classes of femiec.materials.electrochemistry, with the same defaults; the run's stepping
    defaults of a case file are BDF2 with error_tolerance = 5e-4 V and dense_output = 0.01 (issue 20),
    given to ElectrodeProblem.run explicitly, and the reactive area is left to the mesh (None)."""
    from femiec.materials.electrochemistry import ActiveMaterial, Electrolyte

    case = parse_case({"mesh": {"kind": "box", "lengths": [1, 1], "cells": [2, 2]}, "model": {"kind": "electrode"}})
    assert case.model.electrolyte == Electrolyte() and case.model.active_material == ActiveMaterial()
    assert case.model.discharge.c_rate == 1.0 and case.model.discharge.run_arguments() == {
        "c_rate": 1.0, "voltage_min": 3.0, "voltage_max": 4.3, "cutoff_tolerance": 0.005, "scheme": "bdf2",
        "error_tolerance": 5e-4, "dense_output": 0.01}
    assert case.model.reactive_area is None
    assert case.model.referenced_cell_tags() == [("model.electrolyte_regions", "pore"),
                                                 ("model.active_regions", "nmc")]
    assert case.model.referenced_facet_tags() == [("model.separator", "xmin")]


def test_library_parameter_sets_follow_their_sources():
    """Oracle: the sources' formulas. Nyman et al. 2008 at c = 1 mol/L: kappa = 0.1297 - 2.51 + 3.329 S/m,
    D = (8.794 - 39.72 + 48.62) 1e-11 m^2/s; Chen et al. 2020 NMC811: i0 = 3.42e-6 sqrt(1000) c_max/2
    A/m^2 at c_s = c_max/2, and the OCV table follows their tanh fit to 2 mV between its 29 points."""
    from femiec.materials.electrochemistry import (ACTIVE_MATERIALS, ELECTROLYTES, active_material, electrolyte,
                                                   nmc811_ocv_chen2020)

    e = electrolyte("LiPF6_EC_EMC_Nyman2008")
    assert e.conductivity == pytest.approx(0.1297 - 2.51 + 3.329, rel=1e-12)
    assert e.diffusivity == pytest.approx((8.794 - 39.72 + 48.62) * 1e-11, rel=1e-12)
    a = active_material("NMC811_Chen2020")
    assert a.exchange_current_density == pytest.approx(3.42e-6 * np.sqrt(1000.0) * 63104.0 / 2, rel=1e-4)
    x = np.linspace(0.27, 0.9, 200)
    assert np.max(np.abs(a.open_circuit_voltage()(x) - nmc811_ocv_chen2020(x))) < 2e-3
    assert all(entry.source and entry.note for entry in (*ELECTROLYTES.values(), *ACTIVE_MATERIALS.values()))
    assert electrolyte({"conductivity": 2.0}).conductivity == 2.0
    with pytest.raises(InputError, match=r"^model.electrolyte.conductivity: -2.0 \(expected a positive number\)$"):
        electrolyte({"conductivity": -2.0})
    with pytest.raises(InputError, match=r"^model.active_material: 'NMC' \(expected .*NMC811_Chen2020"):
        active_material("NMC")
    # a library entry is copied: changing one problem's parameters leaves the library alone
    a.conductivity = 1.0
    assert ACTIVE_MATERIALS["NMC811_Chen2020"].parameters.conductivity == 0.18


@pytest.mark.mpi
def test_top_level_api_runs_a_case(tmp_path_factory, comm, numbers):
    """`import femiec` gives load_case, validate, run, the problems and homogenize; femiec.run of a
    conduction case gives the same current as its closed form (a 1 S/m unit square, 1 V across: 1 A/m)."""
    import json

    import femiec

    for name in ("load_case", "validate", "run", "homogenize", "ConductionProblem", "NernstPlanckPoisson",
                 "ElectrodeProblem", "HeatProblem", "MODELS"):
        assert name in dir(femiec) and getattr(femiec, name) is not None
    case = parse_case({"case": {"name": "api"}, "mesh": {"kind": "box", "lengths": [1, 1], "cells": [4, 4],
                                                          "cell_type": "triangle"},
                       "materials": {"m": {"conductivity": 1.0}},
                       "model": {"kind": "conduction", "boundary": [{"facet": "xmin", "value": 1.0},
                                                                    {"facet": "xmax", "value": 0.0}]}})
    assert femiec.validate(case, comm) is not None
    out = comm.bcast(tmp_path_factory.mktemp("api") if comm.rank == 0 else None)
    summary = json.loads(femiec.run(case, out=out, comm=comm).read_text())
    current = summary["derived"]["outward_current [A]"]["xmax"]
    assert current == pytest.approx(1.0, rel=1e-10)
    numbers.record("current", current)
