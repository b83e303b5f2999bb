"""Results of a homogenization run: per-axis transport numbers, the tensor, timings, JSON.

Definitions (D0 = conductivity/diffusivity of the bulk phase; with several conducting phases of relative
conductivities sigma_p, D0 = 1 in the unit of the sigma_p):
- volume_fraction eps: fraction of the image's voxels that belong to the conducting phase(s) (all of
  them, connected or not, as TauFactor counts them).
- deff_ratio = D_eff / D0 along the axis.
- tau = sigma_mean / D_eff with sigma_mean = sum_p eps_p sigma_p (= eps D0 / D_eff for one phase:
  TauFactor's tortuosity factor, not squared).
- macmullin = D0 / D_eff.
- bruggeman_exponent alpha with eps^alpha = D_eff / D0.
- hashin_shtrikman_upper: upper bound of D_eff / D0 for an isotropic mixture of the phases with the
  insulating rest (2 eps / (3 - eps) for one phase); every statistically isotropic result must lie below.
A phase that does not span the sample along an axis has D_eff = 0; tau and the MacMullin number are then
infinite: they are ``None``/``null`` in Python/JSON and ``message`` says why.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from femiec.analytic.homogenization import bruggeman_exponent

AXIS_NAMES = ("x", "y", "z")

#: rtol above which ``fe`` and ``periodic`` warn (see :func:`warn_loose_rtol`)
LOOSE_RTOL = 1e-3


def warn_loose_rtol(result: "HomogenizationResult", rtol: float) -> None:
    """Warn when the CG tolerance of ``fe`` or ``periodic`` is looser than ``LOOSE_RTOL``.

    Their tau comes from volume-averaged currents, whose error is of the order of the relative residual
    rtol or worse (rtol 0.5: one CG iteration, tau 1.6 instead of 4.8). ``fv`` needs no warning: there
    rtol is the estimated relative error of D_eff itself, at most 1e-2 (femiec.homogenization.ksp).
    """
    import logging

    if result.method != "fv" and rtol > LOOSE_RTOL:
        logging.getLogger(__name__).warning(
            "homogenization: rtol = %g is looser than %g for method '%s': tau may be off by that much or more; "
            "use a tighter rtol (default 1e-6)", rtol, LOOSE_RTOL, result.method)


@dataclass
class AxisResult:
    """Effective transport along one axis (see the module docstring for the definitions)."""

    axis: str
    deff_ratio: float
    volume_fraction: float
    mean_conductivity: float
    hashin_shtrikman_upper: float
    iterations: int = 0
    wall_time_s: float = 0.0
    spanning_fraction: float = 1.0
    flux_mismatch: float = 0.0
    unknowns: int = 0
    deff_error: float | None = None

    @property
    def percolates(self) -> bool:
        return self.deff_ratio > 0.0

    @property
    def tau(self) -> float:
        """Tortuosity factor sigma_mean / D_eff (math.inf when the phase does not percolate)."""
        return self.mean_conductivity / self.deff_ratio if self.percolates else math.inf

    @property
    def macmullin(self) -> float:
        """MacMullin number D0 / D_eff (math.inf when the phase does not percolate)."""
        return 1.0 / self.deff_ratio if self.percolates else math.inf

    @property
    def bruggeman_exponent(self) -> float | None:
        return bruggeman_exponent(self.volume_fraction, self.deff_ratio)

    @property
    def within_hashin_shtrikman(self) -> bool:
        return self.deff_ratio <= self.hashin_shtrikman_upper * (1.0 + 1e-12)

    @property
    def message(self) -> str | None:
        if self.percolates:
            return None
        return (f"no cluster of the conducting phase connects the two faces normal to {self.axis}: "
                f"D_eff = 0, tau and the MacMullin number are infinite")

    def to_dict(self) -> dict:
        finite = self.percolates
        return {
            "tau": self.tau if finite else None,
            "deff_ratio": self.deff_ratio,
            "volume_fraction": self.volume_fraction,
            "macmullin": self.macmullin if finite else None,
            "bruggeman_exponent": self.bruggeman_exponent,
            "hashin_shtrikman_upper": self.hashin_shtrikman_upper,
            "within_hashin_shtrikman": self.within_hashin_shtrikman,
            "spanning_fraction": self.spanning_fraction,
            "flux_mismatch": self.flux_mismatch,
            "deff_error_estimate": self.deff_error,
            "unknowns": self.unknowns,
            "iterations": self.iterations,
            "wall_time_s": self.wall_time_s,
            "message": self.message,
        }


@dataclass
class HomogenizationResult:
    """Outcome of :func:`femiec.homogenization.homogenize`.

    Attributes:
        method: ``fv``, ``fe`` or ``periodic``.
        phases: conducting voxel values -> relative conductivity.
        shape: image shape (voxels); voxel_size: edge lengths (m).
        axes: axis name -> AxisResult.
        tensor: effective tensor D_eff / D0 (3x3) when all three axes were solved, else None. For
            ``periodic`` it is the symmetric homogenized tensor; for ``fv``/``fe`` column j holds the
            volume-averaged current density of the solve along axis j (insulating side walls).
        wall_time_s: total wall time (s) including image analysis and output.
        solver: the linear solver and its convergence criterion.
        mesh: ``voxel`` or ``conforming`` (``fe`` only).
        connectivity: of the voxel mesh, ``vertex`` or ``face`` (femiec.meshing.voxel.voxel_mesh; ``fe`` only).
        contact_resistance: "a:b" -> specific contact resistance R_c (``fv`` only; ohm m^2 for S/m).
    """

    method: str
    phases: dict[int, float]
    shape: tuple[int, int, int]
    voxel_size: tuple[float, float, float]
    axes: dict[str, AxisResult] = field(default_factory=dict)
    tensor: np.ndarray | None = None
    wall_time_s: float = 0.0
    solver: dict = field(default_factory=dict)
    mesh: str = "voxel"
    connectivity: str = "vertex"
    contact_resistance: dict[str, float] = field(default_factory=dict)

    @property
    def volume_fraction(self) -> float:
        return next(iter(self.axes.values())).volume_fraction if self.axes else 0.0

    @property
    def iterations(self) -> int:
        return sum(a.iterations for a in self.axes.values())

    @property
    def tau(self) -> dict[str, float]:
        return {name: a.tau for name, a in self.axes.items()}

    @property
    def deff_ratio(self) -> dict[str, float]:
        return {name: a.deff_ratio for name, a in self.axes.items()}

    @property
    def macmullin(self) -> dict[str, float]:
        return {name: a.macmullin for name, a in self.axes.items()}

    def to_json(self) -> dict:
        """A JSON-serializable dictionary (infinite values are null with a message)."""
        return {
            "method": self.method,
            "phases": {str(k): v for k, v in self.phases.items()},
            "shape": list(self.shape),
            "voxel_size_m": list(self.voxel_size),
            "mesh": self.mesh,
            "connectivity": self.connectivity,
            "contact_resistance": self.contact_resistance,
            "volume_fraction": self.volume_fraction,
            "axes": {name: a.to_dict() for name, a in self.axes.items()},
            "tensor": None if self.tensor is None else np.asarray(self.tensor).tolist(),
            "iterations": self.iterations,
            "wall_time_s": self.wall_time_s,
            "solver": self.solver,
        }

    def write_json(self, path: str | Path) -> None:
        """Write :meth:`to_json` to ``path`` (call on one rank)."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(self.to_json(), indent=2))

    def report(self) -> str:
        """A short human-readable table."""
        lines = [f"method {self.method}, phases {sorted(self.phases)}, image {'x'.join(map(str, self.shape))}, "
                 f"volume fraction {self.volume_fraction:.5f}",
                 f"{'axis':>4} {'D_eff/D0':>12} {'tau':>10} {'MacMullin':>10} {'Bruggeman':>10} {'HS ok':>6}"
                 f" {'iters':>6} {'time/s':>8} {'D_eff err':>9}"]
        for name, a in self.axes.items():
            tau = f"{a.tau:10.5f}" if a.percolates else f"{'-':>10}"
            mac = f"{a.macmullin:10.4f}" if a.percolates else f"{'-':>10}"
            alpha = a.bruggeman_exponent
            alpha_text = f"{alpha:10.4f}" if alpha is not None else f"{'-':>10}"
            # fv's estimated relative error of D_eff (an upper bound); fe and periodic have none
            error = f"{a.deff_error:9.1e}" if a.deff_error is not None and a.percolates else f"{'-':>9}"
            lines.append(f"{name:>4} {a.deff_ratio:12.6g} {tau} {mac} {alpha_text} "
                         f"{'yes' if a.within_hashin_shtrikman else 'NO':>6} {a.iterations:6d} {a.wall_time_s:8.2f}"
                         f" {error}")
            if a.message:
                lines.append(f"     {a.message}")
        if self.tensor is not None:
            lines.append("tensor D_eff/D0:")
            lines.extend("  " + " ".join(f"{v:12.6g}" for v in row) for row in np.asarray(self.tensor))
        lines.append(f"wall time {self.wall_time_s:.2f} s")
        return "\n".join(lines)
