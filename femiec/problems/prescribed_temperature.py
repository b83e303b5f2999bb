"""A temperature field given by the user (constant, expression of (x, t), field from a file), as a UFL
object for other problems' forms (SI units: K, m, s)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from femiec.errors import InputError
from femiec.materials.temperature_dependence import check_temperature, known_minimum
from femiec.meshing.base import bounding_box
from femiec.sections import is_number


class PrescribedTemperature:
    """A temperature field given by the user, as a UFL object ``.T`` for other problems' forms.

    Args:
        meshdata: ``MeshData``.
        value: one of
            - a number [K] (a ``dolfinx.fem.Constant``);
            - a callable ``f(x, t)`` -> values [K], x of shape (3, n) [m], t [s] (interpolated into a
              Lagrange function; :meth:`update` re-interpolates at a new time);
            - a path to a ``.npy`` array of temperatures on a regular grid, indexed grid[ix, iy(, iz)]
              like the image convention, with grid point (0, 0, 0) at ``origin`` and ``spacing`` [m]
              between points (default: the grid spans the mesh bounding box); trilinear interpolation;
            - a ``dolfinx.fem.Function`` (used as it is).
        degree: Lagrange degree of the interpolated field.
        time: initial time [s] for a callable.
    Every known value must be > 0 K (InputError otherwise).
    """

    def __init__(self, meshdata, value, degree: int = 1, time: float = 0.0, spacing=None, origin=None):
        from dolfinx import fem

        self.meshdata = meshdata
        self.value = value
        mesh = meshdata.mesh
        if is_number(value):
            self.T = fem.Constant(mesh, float(value))
        elif hasattr(value, "function_space"):
            self.T = value
        else:
            self.T = fem.Function(fem.functionspace(mesh, ("Lagrange", degree)), name="temperature")
            if isinstance(value, (str, Path)):
                self.T.interpolate(_grid_interpolator(meshdata, Path(value), spacing, origin))
            elif callable(value):
                self.update(time)
            else:
                raise InputError("temperature", value, "a number in K, a callable f(x, t), a .npy grid file "
                                                       "or a dolfinx Function")
        check_temperature(self.T, "temperature")
        if isinstance(value, (str, Path)) or (callable(value) and not hasattr(value, "function_space")):
            from femiec.plausibility import warn_low_temperature

            warn_low_temperature("temperature (lowest value of the field)", known_minimum(self.T))

    def update(self, time: float) -> None:
        """Re-evaluate a time-dependent (callable) temperature at ``time`` [s]."""
        if callable(self.value) and not hasattr(self.value, "function_space"):
            self.T.interpolate(lambda x: np.broadcast_to(self.value(x, time), x.shape[1]).astype(float))
            self.T.x.scatter_forward()


def _grid_interpolator(meshdata, path: Path, spacing, origin) -> Callable:
    from scipy.interpolate import RegularGridInterpolator

    if path.suffix != ".npy" or not path.is_file():
        raise InputError("temperature", str(path), "an existing .npy file of grid temperatures")
    grid = np.load(path)
    mesh = meshdata.mesh
    gdim = mesh.geometry.dim
    if grid.ndim != gdim or min(grid.shape) < 2:
        raise InputError("temperature", f"array of shape {grid.shape}", f"a {gdim}-D grid with >= 2 points per axis")
    bad = np.argwhere(~(np.isfinite(grid) & (grid > 0)))
    if bad.size:
        raise InputError("temperature", str(path), f"finite positive temperatures [K] (grid point "
                         f"{tuple(int(i) for i in bad[0])} holds {grid[tuple(bad[0])]})")
    lo, hi = (corner[:gdim] for corner in bounding_box(mesh))
    origin = lo if origin is None else np.asarray(origin, dtype=float)[:gdim]
    spacing = (hi - lo) / (np.array(grid.shape) - 1) if spacing is None else \
        np.broadcast_to(np.asarray(spacing, dtype=float), (gdim,))
    axes = [origin[i] + spacing[i] * np.arange(grid.shape[i]) for i in range(gdim)]
    interpolate = RegularGridInterpolator(axes, grid, bounds_error=False, fill_value=None)
    return lambda p: interpolate(p[:gdim].T)
