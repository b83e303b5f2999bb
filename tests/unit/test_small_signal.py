"""The small-signal machinery (femiec.studies.small_signal, femiec.studies.impedance) on the smallest model
that has every piece: a 1D RC transmission line (a blocking pore), phi on [0, L], resistance per length r
[Ohm/m] and capacitance per length c [F/m]:

    c dphi/dt = (1/r) phi'',   phi(0) = V (the input, a Dirichlet value),   phi'(L) = 0,

whose input current is the rate of the stored charge, I = d/dt int c phi dx (the port's output_rate).
Oracle: de Levie's finite line Z = sqrt(r z) coth(L sqrt(r/z)), z = 1/(i omega c)
(femiec.analytic.impedance.transmission_line; de Levie, Electrochim. Acta 8 (1963) 751).
"""
from __future__ import annotations

import numpy as np
import pytest
import ufl

from femiec.analytic.impedance import transmission_line
from femiec.errors import InputError
from femiec.studies.impedance import ImpedancePort, frequencies, impedance_spectrum
from femiec.studies.small_signal import FrequencySolver, linearize

LENGTH, R_LINE, C_LINE = 1e-4, 1e6, 1e-2  # m, Ohm/m, F/m: characteristic frequency 1/(2 pi r c L^2) ~ 1.6e4 Hz


def _line(comm, cells=200, degree=2):
    from dolfinx import fem, mesh

    domain = mesh.create_interval(comm, cells, [0.0, LENGTH])
    V = fem.functionspace(domain, ("Lagrange", degree))
    u, v = fem.Function(V), ufl.TestFunction(V)
    voltage = fem.Constant(domain, 0.0)
    dofs = fem.locate_dofs_geometrical(V, lambda x: np.isclose(x[0], 0.0))
    bc = fem.dirichletbc(voltage, dofs, V)

    def set_input(value):
        voltage.value = value

    return ImpedancePort(residual=(1 / R_LINE) * ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx, unknowns=u,
                         bcs=[bc], storage=lambda w: C_LINE * w * v * ufl.dx, set_input=set_input,
                         input_value=0.0, input_step=1e-3, output=None, output_rate=C_LINE * u * ufl.dx,
                         drive="voltage", description="RC line")


def _exact(f):
    omega = 2 * np.pi * np.asarray(f)
    return transmission_line(R_LINE, 1 / (1j * omega * C_LINE), LENGTH)


@pytest.mark.mpi
def test_rc_line_against_de_levie(comm, numbers):
    """Z of the P2 line matches de Levie's closed form from 1e-2 to 1e6 Hz (1e-6..1e2 times the
    characteristic frequency) to 1e-6 (P2, 200 cells: the error is discretisation, 2e-7 at 1 MHz where
    the penetration depth sqrt(1/(omega r c)) is 2.6 cells), presb with a new factorization per frequency, presb reusing one per half
    decade, the direct 2N solve and the reduced sweep (one projected system from real shifts, reduced_tol
    1e-10) agree to 1e-9; GMRES (rtol 1e-12) needs at most 16 iterations with exact PRESB (eigenvalues of
    P^-1 A in [1/2, 1]) and 30 with a factorization reused over half a decade; the reduced sweep factorises
    fewer times than there are frequencies and its exact check meets its tolerance."""
    port = _line(comm)
    f = frequencies(1e-2, 1e6, 4)
    spectra = {}
    for name, options in (("presb", {"reuse_decades": 0.0}), ("presb-reuse", {"reuse_decades": 0.5}),
                          ("direct", {"method": "direct"}),
                          ("reduced", {"method": "reduced", "reduced_tol": 1e-10})):
        spectra[name] = impedance_spectrum(port, f, **options)
    exact = _exact(f)
    error = np.max(np.abs(spectra["presb"].impedance / exact - 1))
    assert error < 1e-6  # discretisation: the penetration depth at 1 MHz is 2.6 cells
    for name in ("presb-reuse", "direct", "reduced"):
        assert np.max(np.abs(spectra[name].impedance / spectra["presb"].impedance - 1)) < 1e-9, name
    sweep = spectra["reduced"].cost
    assert sweep["factorizations"] < len(f) and sweep["checks"][-1]["relative_error"] <= 1e-10, sweep
    assert max(s.iterations for s in spectra["presb"].stats) <= 16
    assert max(s.iterations for s in spectra["presb-reuse"].stats) <= 30
    assert sum(s.factorized for s in spectra["presb-reuse"].stats) < len(f) / 2
    numbers.record("Z_real", spectra["presb"].impedance.real)
    numbers.record("Z_imag", spectra["presb"].impedance.imag)
    numbers.record("relative_error", error)


@pytest.mark.mpi
def test_zero_frequency_and_low_frequency_limit(comm):
    """At omega = 0 the blocking line passes no current (the output rate vanishes): the transfer function
    is 0; at f -> 0 Z approaches R/3 + 1/(i omega C_total) (the de Levie low-frequency limit)."""
    port = _line(comm, cells=50)
    lin = linearize(port.residual, port.unknowns, port.bcs, port.storage, set_input=port.set_input,
                    input_value=0.0, input_step=1e-3, output=None, output_rate=port.output_rate)
    solver = FrequencySolver(lin)
    transfer, x, y = solver.solve(0.0)
    assert transfer == 0
    f = 1e-3
    omega = 2 * np.pi * f
    Z = 1 / solver.solve(omega)[0]
    limit = R_LINE * LENGTH / 3 + 1 / (1j * omega * C_LINE * LENGTH)
    assert abs(Z / limit - 1) < 1e-8
    solver.close()
    lin.destroy()


def test_frequencies_and_bad_input():
    """Frequencies run high to low with both ends; bad values are one-line InputErrors naming the key."""
    f = frequencies(1e-3, 1e5, 10)
    assert len(f) == 81 and f[0] == pytest.approx(1e5) and f[-1] == pytest.approx(1e-3)
    with pytest.raises(InputError, match="study.max_frequency"):
        frequencies(1.0, 0.5, 10)
    with pytest.raises(InputError, match="study.per_decade"):
        frequencies(1.0, 10.0, 0)
    with pytest.raises(InputError, match="study.min_frequency"):
        frequencies(-1.0, 10.0, 3)


def test_solver_choices_are_checked(comm):
    port = _line(comm, cells=4, degree=1)
    lin = linearize(port.residual, port.unknowns, port.bcs, port.storage, set_input=port.set_input,
                    input_value=0.0, input_step=1e-3, output=None, output_rate=port.output_rate)
    with pytest.raises(InputError, match="study.method"):
        FrequencySolver(lin, method="complex")
    with pytest.raises(InputError, match="study.inner"):
        FrequencySolver(lin, inner="ilu")
    with pytest.raises(InputError, match="study.reuse_decades"):
        FrequencySolver(lin, reuse_decades=-1)
    lin.destroy()


@pytest.mark.mpi
@pytest.mark.parametrize("inner", ["amg", "cg", "fieldsplit"])
def test_iterative_inner_solves_agree_with_lu(comm, inner, numbers):
    """The iterative inner solves of J + omega M (GMRES or CG + BoomerAMG, block BoomerAMG; outer FGMRES)
    give the LU spectrum of the line to 1e-8 at inner_rtol 1e-10."""
    port = _line(comm, cells=100, degree=1)
    f = frequencies(1e-1, 1e5, 2)
    reference = impedance_spectrum(port, f)
    spectrum = impedance_spectrum(port, f, inner=inner, inner_rtol=1e-10)
    difference = np.max(np.abs(spectrum.impedance / reference.impedance - 1))
    assert difference < 1e-8
    numbers.record("Z_real", spectrum.impedance.real)
