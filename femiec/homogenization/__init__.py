"""Homogenization of voxel microstructures: tortuosity factor, effective tensors, MacMullin number.

Entry point: :func:`homogenize` (the ``femiec homogenize`` command uses it). Methods: ``fv`` (finite
volumes, TauFactor's scheme), ``fe`` (Q1 finite elements on the voxel mesh), ``periodic`` (periodic cell
problems, full tensor); :func:`mixed_conduction` for ionic + electronic carriers. See
docs/homogenization.md.
"""
from femiec.homogenization.api import METHODS, homogenize
from femiec.homogenization.mixed import MixedConductionResult, ambipolar, mixed_conduction
from femiec.homogenization.results import AxisResult, HomogenizationResult

__all__ = ["METHODS", "homogenize", "mixed_conduction", "ambipolar", "AxisResult", "HomogenizationResult",
           "MixedConductionResult"]
