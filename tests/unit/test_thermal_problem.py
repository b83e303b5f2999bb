"""HeatProblem and PrescribedTemperature: inputs, refusals, prescribed fields, output fields."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.errors import InputError
from femiec.meshing.box import box_mesh
from femiec.problems.prescribed_temperature import PrescribedTemperature
from femiec.problems.thermal import HeatProblem


@pytest.fixture
def square(comm):
    return box_mesh([1e-3, 1e-3], [4, 4], "triangle", comm=comm)


def _owned(f):
    return f.x.array[: f.function_space.dofmap.index_map.size_local]


def test_refusals(square):
    with pytest.raises(InputError, match=r"^thermal.degree: 3"):
        HeatProblem(square, 1.0, degree=3)
    with pytest.raises(InputError, match=r"^thermal.conductivity: -2.0"):
        HeatProblem(square, -2.0)
    with pytest.raises(InputError, match=r"^thermal.initial: 0"):
        HeatProblem(square, 1.0, initial=0)
    heat = HeatProblem(square, 1.0)
    with pytest.raises(InputError, match=r"^facet tag: 'top'"):
        heat.set_temperature("top", 300.0)
    with pytest.raises(InputError, match=r"temperature: -5.0"):
        heat.set_temperature("xmin", -5.0)
    with pytest.raises(InputError, match=r"\.h: -1.0"):
        heat.set_convection("xmin", -1.0, 300.0)
    heat.set_heat_flux("xmin", 10.0)
    with pytest.raises(InputError, match=r"^thermal.boundary: \[1\]"):
        heat.solve()
    with pytest.raises(InputError, match=r"^thermal.heat_capacity: None"):
        heat.advance(1.0)


@pytest.mark.mpi
def test_linear_profile_and_flux_output(square, numbers):
    """T = 300 -> 400 K across 1 mm with k = 2 W/(m K): T linear, heat flux (-2e5, 0) W/m^2 everywhere."""
    heat = HeatProblem(square, 2.0, initial=350.0)
    heat.set_temperature("xmin", 300.0)
    heat.set_temperature("xmax", 400.0)
    stats = heat.solve()
    assert stats.converged
    x = heat.V.tabulate_dof_coordinates()[: heat.V.dofmap.index_map.size_local, 0]
    assert np.allclose(_owned(heat.T), 300.0 + 1e5 * x, rtol=1e-12)
    fields = heat.fields()
    assert set(fields) == {"temperature", "heat_flux"}
    q, unit = fields["heat_flux"]
    assert unit == "W/m^2"
    values = q.x.array.reshape(-1, 2)
    assert np.allclose(values[:, 0], -2e5, rtol=1e-9) and np.allclose(values[:, 1], 0.0, atol=1e-6)
    numbers.record("outflow_xmax", heat.heat_balance()["fixed_temperature_by_facet"]["xmax"])


@pytest.mark.mpi
def test_prescribed_constant_expression_and_grid(square, tmp_path, comm):
    """A number gives a Constant; f(x, t) is re-interpolated by update(t); a .npy grid is interpolated
    trilinearly (a linear grid field is reproduced exactly); T <= 0 is refused."""
    constant = PrescribedTemperature(square, 500.0)
    assert float(constant.T.value) == 500.0
    moving = PrescribedTemperature(square, lambda x, t: 300.0 + 1e4 * x[0] + 2.0 * t)
    moving.update(5.0)
    x = moving.T.function_space.tabulate_dof_coordinates()[: len(_owned(moving.T))]
    assert np.allclose(_owned(moving.T), 310.0 + 1e4 * x[:, 0])
    grid = 300.0 + 1e5 * np.linspace(0, 1e-3, 5)[:, None] + 0.0 * np.linspace(0, 1e-3, 3)[None, :]
    path = tmp_path / "T.npy"
    if comm.rank == 0:
        np.save(path, grid)
    path = comm.bcast(str(path))
    comm.barrier()
    from_file = PrescribedTemperature(square, path)
    assert np.allclose(_owned(from_file.T), 300.0 + 1e5 * x[:, 0], rtol=1e-12)
    with pytest.raises(InputError, match=r"^temperature: "):
        PrescribedTemperature(square, lambda x, t: 0.0 * x[0] - 1.0)
    with pytest.raises(InputError, match=r"^temperature: 'missing.npy'"):
        PrescribedTemperature(square, "missing.npy")
