"""Open-circuit-voltage interpolation (NumPy and UFL agree) and the electrode forms."""
from __future__ import annotations

import numpy as np
import pytest
import ufl

from femiec.errors import InputError
from femiec.materials.ocv import NMC_LIKE_OCV, OpenCircuitVoltage, ocv_from_spec


def _ufl_values(ocv, points):
    """Evaluate ocv(UFL x) at the nodes of a DG2 interpolation on [points.min(), points.max()]."""
    from dolfinx import fem, mesh
    from mpi4py import MPI

    from femiec._compat import interpolation_points

    domain = mesh.create_unit_interval(MPI.COMM_SELF, 16)
    a, b = float(points.min()), float(points.max())
    x = a + (b - a) * ufl.SpatialCoordinate(domain)[0]
    V = fem.functionspace(domain, ("DG", 2))
    f = fem.Function(V)
    f.interpolate(fem.Expression(ocv(x), interpolation_points(V)))
    return a + (b - a) * V.tabulate_dof_coordinates()[:, 0], f.x.array


@pytest.mark.parametrize("kind", ["pchip", "linear"])
def test_ocv_hits_table_and_ufl_matches_numpy(kind):
    ocv = OpenCircuitVoltage(*NMC_LIKE_OCV, kind=kind)
    assert np.allclose(ocv(np.array(NMC_LIKE_OCV[0])), NMC_LIKE_OCV[1], atol=1e-14)
    xs, values = _ufl_values(ocv, np.array([0.2, 1.1]))
    assert np.max(np.abs(values - ocv(xs))) < 1e-12


def test_ocv_pchip_is_monotone_and_matches_scipy():
    from scipy.interpolate import PchipInterpolator

    ocv = OpenCircuitVoltage(*NMC_LIKE_OCV)
    x = np.linspace(0.3, 1.0, 701)
    assert np.all(np.diff(ocv(x)) < 0)
    assert np.max(np.abs(ocv(x) - PchipInterpolator(*NMC_LIKE_OCV)(x))) < 1e-13
    # linear continuation with the end slopes outside the table
    slope = PchipInterpolator(*NMC_LIKE_OCV).derivative()(0.3)
    assert ocv(0.2) == pytest.approx(4.3 - 0.1 * slope)


def test_ocv_rejects_bad_tables():
    with pytest.raises(InputError):
        OpenCircuitVoltage([0.1, 0.1], [4.0, 3.0])
    with pytest.raises(InputError):
        OpenCircuitVoltage([0.1, 0.2], [4.0, 3.0], kind="spline")
    with pytest.raises(InputError):
        ocv_from_spec({"stoichiometry": [0.1, 0.2]})
    assert ocv_from_spec({"stoichiometry": [0.1, 0.2], "voltage": [4.0, 3.0]})(0.15) == pytest.approx(3.5)


def test_exchange_current_density_and_equilibrium():
    from femiec.forms.electrode import exchange_current_density, intercalation_current
    from dolfinx import fem, mesh
    from mpi4py import MPI

    domain = mesh.create_unit_interval(MPI.COMM_SELF, 2)
    c = fem.Constant(domain, 500.0)
    c_s = fem.Constant(domain, 0.25 * 40000.0)
    i0 = exchange_current_density(3.0, c, 1000.0, c_s, 40000.0)
    value = fem.assemble_scalar(fem.form(i0 * ufl.dx))
    assert value == pytest.approx(3.0 * np.sqrt(0.5) * np.sqrt(0.25 * 0.75) * 2)
    at_rest = intercalation_current(i0, fem.Constant(domain, 4.0), fem.Constant(domain, 0.2), 3.8, 298.15)
    assert abs(fem.assemble_scalar(fem.form(at_rest * ufl.dx))) < 1e-12
