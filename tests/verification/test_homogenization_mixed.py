"""Two carriers (ionic + electronic) in a composite: effective and ambipolar conductivities."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.analytic.laminates import arithmetic_mean, harmonic_mean
from femiec.homogenization.mixed import ambipolar, mixed_conduction


@pytest.mark.mpi
@pytest.mark.parametrize("method", ["fv", "fe", "periodic"])
def test_laminate_of_two_mixed_conductors(method, comm, numbers):
    """Oracle: a laminate (layers normal to x, fractions 0.4 / 0.6) of two mixed conductors: each carrier
    homogenizes alone, harmonic mean across and arithmetic mean along the layers (Wiener 1912), and the
    ambipolar conductivity is their series combination s_i s_e / (s_i + s_e) per axis."""
    image = np.zeros((10, 4, 3), dtype=np.uint8)
    image[:4], image[4:] = 1, 2
    ionic, electronic = {1: 2.0, 2: 0.1}, {1: 0.05, 2: 5.0}
    result = mixed_conduction(image, ionic, electronic, method=method, comm=comm, rtol=1e-12)
    f = [0.4, 0.6]
    expected = {}
    for name, mean in (("x", harmonic_mean), ("y", arithmetic_mean), ("z", arithmetic_mean)):
        s_i, s_e = mean(list(ionic.values()), f), mean(list(electronic.values()), f)
        assert result.ionic.axes[name].deff_ratio == pytest.approx(s_i, rel=1e-9)
        assert result.electronic.axes[name].deff_ratio == pytest.approx(s_e, rel=1e-9)
        expected[name] = s_i * s_e / (s_i + s_e)
    numbers.record("ambipolar", [result.ambipolar[n] for n in "xyz"])
    assert [result.ambipolar[n] for n in "xyz"] == pytest.approx([expected[n] for n in "xyz"], rel=1e-9)
    assert np.diag(result.ambipolar_tensor) == pytest.approx([expected[n] for n in "xyz"], rel=1e-8)


@pytest.mark.mpi
def test_blocked_carrier_gives_zero_ambipolar_conductivity(comm, numbers):
    """Oracle: layers normal to x of a pure ionic and a pure electronic conductor: along the layers each
    carrier has its own path, across them neither passes, so the ambipolar conductivity is 0 across and
    f_i s_i f_e s_e / (f_i s_i + f_e s_e) along."""
    image = np.zeros((10, 4, 3), dtype=np.uint8)
    image[:5], image[5:] = 1, 2
    result = mixed_conduction(image, {1: 3.0}, {2: 7.0}, method="fv", comm=comm, rtol=1e-12)
    numbers.record("ambipolar_y", result.ambipolar["y"])
    assert result.ambipolar["x"] == 0.0
    assert result.ambipolar["y"] == pytest.approx(1.5 * 3.5 / 5.0, rel=1e-9)
    assert ambipolar(np.diag([1.0, 2.0, 0.0]), np.diag([1.0, 2.0, 3.0])) == pytest.approx(np.diag([0.5, 1.0, 0.0]))
