"""Homogenization of voxel microstructures: tortuosity factor, effective tensors, MacMullin number.

Entry point: :func:`homogenize` (the ``femiec homogenize`` command uses it). Methods: ``fv`` (finite
volumes, TauFactor's scheme), ``fe`` (Q1 finite elements on the voxel mesh), ``periodic`` (periodic cell
problems, full tensor); :func:`mixed_conduction` for ionic + electronic carriers. See
docs/homogenization.md.
"""
from femiec._compat import require_dolfinx

require_dolfinx()  # an ImportError saying how to install DOLFINx, before any submodule needs it

from femiec.homogenization.api import METHODS, homogenize  # noqa: E402
from femiec.homogenization.mixed import MixedConductionResult, ambipolar, mixed_conduction  # noqa: E402
from femiec.homogenization.results import AxisResult, HomogenizationResult  # noqa: E402

__all__ = ["METHODS", "homogenize", "mixed_conduction", "ambipolar", "AxisResult", "HomogenizationResult",
           "MixedConductionResult"]
