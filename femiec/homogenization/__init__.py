"""Homogenization of voxel microstructures: tortuosity factor, effective tensors, MacMullin number.

Entry point: :func:`homogenize` (the ``femiec homogenize`` command uses it). Methods: ``fv`` (finite
volumes, TauFactor's scheme), ``fe`` (Q1 finite elements on the voxel mesh), ``periodic`` (periodic cell
problems, full tensor). See docs/homogenization.md.
"""
from femiec.homogenization.api import METHODS, homogenize
from femiec.homogenization.results import AxisResult, HomogenizationResult

__all__ = ["METHODS", "homogenize", "AxisResult", "HomogenizationResult"]
