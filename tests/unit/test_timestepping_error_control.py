"""Local error control and dense output of the time stepper (femiec.solvers.error_control,
femiec.solvers.dense_output) on the scalar decay y' = -y, y(0) = 1 (exact solution exp(-t)), stepped with
backward Euler (order 1), variable-step BDF2 (order 2) and variable-step BDF3 (order 3)."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from femiec.forms.time import bdf_coefficients, bdf_order
from femiec.solvers.dense_output import DenseOutput
from femiec.solvers.error_control import LocalErrorControl, extrapolate
from femiec.solvers.timestepping import AdaptiveTimeStepper

pytestmark = pytest.mark.mpi  # the numbers recorded here are compared between 1 and 2 ranks

ORDERS = {"bdf1": 1, "bdf2": 2, "bdf3": 3}


class Decay:
    """y' = -y with variable-step BDF of at most the order of ``scheme`` (femiec.forms.time.bdf_order), as
    a stepper's advance/accept/reject; the output is y."""

    def __init__(self, scheme: str):
        self.scheme, self.y = scheme, 1.0
        self.history = [1.0]  # accepted y, newest first
        self.steps: list[float] = []  # accepted steps, newest first
        self.step_order = 1
        self.accepted: list[tuple[float, float]] = [(0.0, 1.0)]

    def advance(self, t, dt):
        self.step_order = bdf_order(dt, self.steps, ORDERS[self.scheme])
        a = bdf_coefficients([dt, *self.steps][:self.step_order])
        self.y = -sum(a_j * y_j for a_j, y_j in zip(a[1:], self.history)) / (a[0] + dt)
        return SimpleNamespace(converged=True, reason="converged", newton_iterations=1, krylov_iterations=1)

    def accept(self, t, dt, stats):
        self.history, self.steps = [self.y, *self.history][:3], [dt, *self.steps][:2]
        self.accepted.append((t, self.y))

    def reject(self):
        self.y = self.history[0]

    def order(self):
        return self.step_order

    def control(self, tolerance):
        return LocalErrorControl(tolerance, lambda: self.y, order=self.order, max_order=ORDERS[self.scheme])


def _run(scheme, tolerance, dt=1e-3, t_end=2.0):
    decay = Decay(scheme)
    stepper = AdaptiveTimeStepper(dt, t_end, error_control=decay.control(tolerance))
    records = stepper.run(decay.advance, decay.accept, decay.reject)
    error = max(abs(y - math.exp(-t)) for t, y in decay.accepted)
    return records, error


@pytest.mark.parametrize("scheme, order", [("bdf1", 1), ("bdf2", 2), ("bdf3", 3)])
def test_estimate_is_the_local_error(scheme, order):
    """Oracle: the local error of one step from the exact history, exp(-(t+dt)) - y_{n+1}. With exact
    outputs at t = 0.2, 0.21, 0.22, 0.23 (steps h = 0.01) and a step dt = w h (w = 1.5, 1, 0.5), the
    estimate E_c/(E_p + E_c)|y - P| equals the true local error to O(dt): ratio within 5% of 1."""
    h = 0.01
    times = [0.2, 0.2 + h, 0.2 + 2 * h, 0.2 + 3 * h]
    for w in (1.5, 1.0, 0.5):
        decay = Decay(scheme)
        decay.history, decay.steps = [math.exp(-t) for t in reversed(times)][:3], [h, h]
        control = decay.control(1.0)
        control.times, control.values = list(times), [np.array([math.exp(-t)]) for t in times]
        decay.advance(times[-1], w * h)
        assert decay.order() == order
        estimate = control.estimate(times[-1] + w * h, w * h)
        true = abs(math.exp(-(times[-1] + w * h)) - decay.y)
        assert estimate / true == pytest.approx(1.0, abs=0.05), (w, estimate, true)


@pytest.mark.parametrize("scheme, order", [("bdf1", 1), ("bdf2", 2), ("bdf3", 3)])
def test_halving_the_tolerance_scales_steps_and_error_by_the_order(scheme, order, numbers):
    """Oracle: with the local error per step held at tol, the steps scale as tol^(1/(p+1)) and the global
    error as tol^(p/(p+1)): halving tol multiplies the number of steps by 2^(1/(p+1)) (1.41, 1.26, 1.19)
    and the largest error against exp(-t) by 2^(-p/(p+1)) (0.71, 0.63, 0.59), each within 10% (tol 1e-5
    and 5e-6 on t in [0, 2])."""
    coarse, error_coarse = _run(scheme, 1e-5)
    fine, error_fine = _run(scheme, 5e-6)
    numbers.record(f"{scheme} steps", [len(coarse), len(fine)])
    numbers.record(f"{scheme} errors", [error_coarse, error_fine])
    assert len(fine) / len(coarse) == pytest.approx(2 ** (1 / (order + 1)), rel=0.1)
    assert error_fine / error_coarse == pytest.approx(2 ** (-order / (order + 1)), rel=0.1)
    assert all(r.error_estimate is None or r.error_estimate <= 1e-5 for r in coarse)


def test_distributed_output_estimate_is_the_whole_vectors(comm):
    """Oracle: the estimate of the whole vector. A field y_k(t) = exp(-k t), k = 1..5, split over the ranks
    (rank r owns the components r, r + size, ...; a rank may own none) with ``comm`` gives on every rank
    the estimate of the undivided vector (its largest component error), to round-off."""
    times, t_new = [0.2, 0.21], 0.225

    def field(t, part):
        return np.exp(-np.arange(1, 6)[part] * t)

    def estimate(part, communicator):
        control = LocalErrorControl(1.0, lambda: field(t_new, part) * (1 + 1e-3 * np.arange(1, 6)[part]),
                                    comm=communicator)
        control.times, control.values = list(times), [field(t, part) for t in times]
        return control.estimate(t_new, t_new - times[-1])

    whole = estimate(slice(None), None)
    distributed = estimate(slice(comm.rank, None, comm.size), comm)
    assert whole > 0
    assert distributed == pytest.approx(whole, rel=1e-14)
    assert comm.allgather(distributed) == [distributed] * comm.size


def test_a_step_above_the_tolerance_is_rejected_and_retried():
    """The output is y + 1e-3 tanh((t - 0.5)/0.01): a fast rise at t = 0.5 s that the steps grown on the
    slow decay (tol = 1e-6) overrun. Such attempts are rejected (counted in ``rejected_attempts``, undone by
    ``reject``: the accepted states are those of the recorded steps) and retried shorter; every accepted
    estimate is at most tol."""
    decay, clock = Decay("bdf1"), {"t": 0.0}

    def advance(t, dt):
        clock["t"] = t + dt
        return decay.advance(t, dt)

    control = LocalErrorControl(1e-6, lambda: decay.y + 1e-3 * math.tanh((clock["t"] - 0.5) / 0.01))
    records = AdaptiveTimeStepper(1e-3, 1.0, error_control=control).run(advance, decay.accept, decay.reject)
    assert sum(r.rejected_attempts for r in records) >= 1
    assert all(r.error_estimate is None or r.error_estimate <= 1e-6 for r in records)
    assert [t for t, _ in decay.accepted] == [0.0] + [r.time for r in records]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_dense_output_spacing_and_exactness(order):
    """Points every 0.1 s strictly inside each accepted step after the first, exact for a polynomial of the
    scheme's degree once it has the points (y = 1 + 2t for order 1, y = 1 + 2t - 3t^2 for order 2 after
    the second step, y = 1 + 2t - 3t^2 + t^3 for order 3 after the third, to 1e-12); none inside the first
    step."""
    def y(t):
        return 1 + 2 * t - (3 * t * t if order >= 2 else 0) + (t ** 3 if order == 3 else 0)

    dense = DenseOutput(0.1)
    points = []
    for t in (0.05, 0.37, 0.52, 0.9, 1.31):
        points += dense.add(t, [y(t)], order)
    times = [t for t, _ in points]
    assert times == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.1, 1.2, 1.3], abs=1e-12)
    exact_after = {1: 0.0, 2: 0.37, 3: 0.52}[order]
    assert max(abs(v[0] - y(t)) for t, v in points if t > exact_after) < 1e-12
    assert extrapolate([0.0, 1.0], [np.array([1.0]), np.array([3.0])], 2.0)[0] == pytest.approx(5.0)
