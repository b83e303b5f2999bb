"""Step rejection of the adaptive time stepper (femiec.solvers.timestepping): a step whose Newton solve
fails is rejected and retried with half the step; below dt_min the run stops with a SolverError."""
from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from femiec.cli import main
from femiec.errors import SolverError
from femiec.solvers.timestepping import AdaptiveTimeStepper


class FailingAbove:
    """``advance`` of a scalar decay u' = -u (backward Euler) whose "Newton solve" fails for dt > limit;
    it writes the trial value, so a rejected attempt must be undone by ``reject``."""

    def __init__(self, limit: float):
        self.limit = limit
        self.u = self.u_n = 1.0
        self.attempts: list[float] = []
        self.accepted: list[tuple[float, float]] = []

    def advance(self, t, dt):
        self.attempts.append(dt)
        converged = dt <= self.limit
        self.u = self.u_n / (1 + dt) if converged else float("nan")
        return SimpleNamespace(converged=converged, reason="converged" if converged else "DIVERGED_MAX_IT",
                               newton_iterations=2 if converged else 30, krylov_iterations=2 if converged else 30)

    def accept(self, t, dt, stats):
        self.u_n = self.u
        self.accepted.append((t, self.u))

    def reject(self):
        self.u = self.u_n


def test_failed_step_is_retried_with_half_the_step():
    """A first step of 0.5 s fails (limit 0.2 s): attempts 0.5 and 0.25 are rejected, 0.125 is
    accepted; the first record counts the 2 rejected attempts; every rejected trial value is undone, so
    the result equals a run started with dt = 0.125 s (exactly: the same operations; no step growth,
    grow = 1, so both runs take four steps of 0.125 s to t = 0.5 s)."""
    failing = FailingAbove(0.2)
    records = AdaptiveTimeStepper(0.5, 0.5, grow=1.0).run(failing.advance, failing.accept, failing.reject)
    assert failing.attempts == [0.5, 0.25, 0.125, 0.125, 0.125, 0.125]
    assert [r.rejected_attempts for r in records] == [2, 0, 0, 0]
    assert [(r.time, r.dt) for r in records] == [(0.125, 0.125), (0.25, 0.125), (0.375, 0.125), (0.5, 0.125)]
    direct = FailingAbove(0.2)
    AdaptiveTimeStepper(0.125, 0.5, grow=1.0).run(direct.advance, direct.accept, direct.reject)
    assert failing.accepted == direct.accepted
    assert failing.u_n == pytest.approx(1.125 ** -4, rel=1e-15)


def test_step_below_dt_min_raises_and_accepts_nothing():
    """Every attempt fails: the step is halved down to dt_min and then a SolverError names dt_min and
    the Newton reason; ``accept`` (which writes results) is never called and the state is the initial one."""
    failing = FailingAbove(0.0)
    stepper = AdaptiveTimeStepper(0.4, 1.0, dt_min=0.06)
    with pytest.raises(SolverError, match="dt_min.*DIVERGED_MAX_IT"):
        stepper.run(failing.advance, failing.accept, failing.reject)
    assert failing.attempts == [0.4, 0.2, 0.1]
    assert failing.accepted == [] and stepper.records == []
    assert failing.u == 1.0


# ------------------------------------------------------------------ the real path: a case through `femiec run`
T_REF = 1e-14 / 2e-9  # s: L^2 / D_max, the problem's time scale
DT0 = 0.016 * T_REF  # first step: Newton needs 12 iterations > snes_max_it = 10; at DT0/2: 9 and 8
CASE = """
[case]
name = "rejection"

[mesh]
kind = "box"
lengths = [1.0e-7, 2.5e-9]
cells = [40, 1]
cell_type = "triangle"

[model]
kind = "nernst_planck_poisson"
relative_permittivity = 78.5
variables = "log"
species = [
  {{ name = "cation", charge = 1, diffusivity = 1.0e-9, initial = 100.0 }},
  {{ name = "anion", charge = -1, diffusivity = 2.0e-9, initial = 100.0 }},
]
conditions = [
  {{ type = "concentration", species = "cation", facets = "xmax", value = 100.0 }},
  {{ type = "concentration", species = "anion", facets = "xmax", value = 100.0 }},
  {{ type = "potential", facets = "xmax", value = 0.0 }},
  {{ type = "potential", facets = "xmin", value = 0.5 }},
]

[solver]
petsc_options = {{ snes_max_it = 10 }}

[time]
t_end = {t_end}
dt = {dt}
outputs = 1
{extra}

[output]
formats = ["xdmf"]
"""


def run_rejection_case(comm, folder, dt, extra=""):
    """Run the case with the first step ``dt``; returns (exit code, summary or None, output folder)."""
    if comm.rank == 0:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "case.toml").write_text(CASE.format(t_end=DT0, dt=dt, extra=extra))
    comm.barrier()
    code = main(["-q", "run", str(folder / "case.toml"), "--out", str(folder / "out")])
    summary = folder / "out" / "summary.json"
    return code, json.loads(summary.read_text()) if summary.exists() else None, folder / "out"


@pytest.mark.mpi
def test_npp_case_step_rejection(tmp_path_factory, comm, numbers, capsys):
    """Oracle: the step-rejection rule on a real Nernst–Planck–Poisson transient (1:1 electrolyte,
    log-concentration unknowns, the blocking face xmin switched to 0.5 V = 19.5 V_T at t = 0, Debye
    length 1 nm, cells 2.5 nm, PETSc option snes_max_it = 10). The first step DT0 = 0.016 L^2/D would
    need 11 Newton iterations, so it fails (DIVERGED_MAX_IT), is rejected and retried with DT0/2, which
    converges (9 iterations); the second step is DT0/2 too (8 iterations; no growth after a rejection,
    then capped by t_end). The counts are the same on any number of ranks: Newton ends on the error
    estimate of the update (8e-13 at iteration 8 of the second step), not on a residual at round-off
    (3e-14 serially, 1e-14 on 2 ranks there). summary.json counts the rejected attempt (1, 0) and its derived quantities
    equal those of a run that starts with DT0/2 (the same two steps) to 1e-12 relative. With
    dt_min = 0.6 DT0 the halved step is below dt_min: `femiec run` exits with status 1 and the message
    "solver: time step fell below dt_min", no summary.json is written and the field file holds only the
    initial state t = 0."""
    tmp = comm.bcast(tmp_path_factory.mktemp("rejection") if comm.rank == 0 else None)
    code, rejected, _ = run_rejection_case(comm, tmp / "rejected", DT0)
    assert code == 0
    records = rejected["solver"]["records"]
    assert [r["rejected_attempts"] for r in records] == [1, 0]
    assert [r["dt"] for r in records] == pytest.approx([DT0 / 2, DT0 / 2], rel=1e-14)
    assert records[-1]["time"] == pytest.approx(DT0, rel=1e-14)
    assert [r["newton_iterations"] for r in records] == [9, 8]
    code, direct, _ = run_rejection_case(comm, tmp / "direct", DT0 / 2)
    assert code == 0
    assert [r["rejected_attempts"] for r in direct["solver"]["records"]] == [0, 0]
    assert [r["dt"] for r in direct["solver"]["records"]] == pytest.approx([DT0 / 2, DT0 / 2], rel=1e-14)
    for key in ("amount_mol", "facet_mean_concentration_mol_m3", "facet_ionic_current_density_A_m2"):
        assert _flat(rejected["derived"][key]) == pytest.approx(_flat(direct["derived"][key]), rel=1e-12), key
    numbers.record("amounts_mol", _flat(rejected["derived"]["amount_mol"]))
    numbers.record("newton_iterations", [r["newton_iterations"] for r in records])
    numbers.record("rejected_attempts", sum(r["rejected_attempts"] for r in records))

    code, failed, out = run_rejection_case(comm, tmp / "failed", DT0, extra=f"dt_min = {0.6 * DT0}")
    assert code == 1 and failed is None
    if comm.rank == 0:
        assert "solver: time step fell below dt_min" in capsys.readouterr().err
    times = re.findall(r'<Time Value="([^"]+)"', (out / "fields.xdmf").read_text())
    assert {float(t) for t in times} == {0.0}


def _flat(table) -> list[float]:
    """The numbers of a nested summary table, in key order."""
    if isinstance(table, dict):
        return [v for key in sorted(table) for v in _flat(table[key])]
    return [table]
