"""preview.png: a picture of a run's main field, drawn off screen with matplotlib (no OpenGL).

The model names its main field (``ModelSpec.preview``); :func:`write_preview` samples that in-memory
Function on a regular grid of points -- the mid-plane z = (z_min + z_max)/2 of a 3D mesh, the whole domain
of a 2D mesh, the line of a 1D mesh -- and keeps the samples in ``preview.npz`` beside ``preview.png``, so
``femiec plot`` can redraw the picture without the field files. Each rank evaluates the grid points inside
its own cells and sends only those values to rank 0: at most ``resolution^2`` numbers, never the field.
Vector fields are shown by their magnitude. Grid points outside the field's mesh (pores of a phase
submesh) are blank.

Why not pyvista/VTK: Debian's VTK 9.3 renders through an X window only (vtkXOpenGLRenderWindow; no
OSMesa/EGL build), and without a display ``pyvista.Plotter(off_screen=True).screenshot()`` aborts the
whole process (SIGABRT, not an exception) -- a run must not depend on that.

A failure here never fails the run: one warning line, and summary.json's ``preview`` says ``file: null``
with the reason.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

log = logging.getLogger(__name__)

PNG = "preview.png"
NPZ = "preview.npz"
#: grid points along the longest side of the sampled plane (line)
RESOLUTION = 200


def write_preview(function, unit: str, out_dir: Path | str, comm, resolution: int = RESOLUTION) -> dict:
    """Sample ``function`` (collective), write preview.npz and preview.png on rank 0 and return the
    summary entry ``{"field", "unit", "plane", "file", "data"}`` (same on every rank); on any failure a
    warning and ``{"field", "file": None, "error"}``."""
    name = function.name
    try:
        sampled = _sample(function, comm, resolution)
    except Exception as exc:  # noqa: BLE001 -- a picture must not fail a finished run
        sampled = exc
    entry = None
    if comm.rank == 0:
        try:
            if isinstance(sampled, Exception):
                raise sampled
            out_dir = Path(out_dir)
            save_samples(out_dir / NPZ, name=name, unit=unit, **sampled)
            render_preview(out_dir / NPZ, out_dir / PNG)
            entry = {"field": name, "unit": unit, "plane": sampled["plane"], "file": PNG, "data": NPZ}
        except Exception as exc:  # noqa: BLE001
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
            log.warning("preview of %s not written (%s); the run's results are complete", name, reason)
            entry = {"field": name, "file": None, "error": reason}
    return comm.bcast(entry, root=0)


def _grid(lo, hi, tdim: int, resolution: int):
    """(axes coordinates, points (n, 3), plane description) of the sampling grid in the box [lo, hi]: the
    centres of ``resolution`` equal intervals along the longest side (none on the box's faces); a 3D mesh
    is cut at z = z_mid + 1e-3 (z_max - z_min), off the cell faces an even number of voxels puts at z_mid
    (a point on a face of the mesh's boundary may or may not be found in the cell behind it)."""
    import numpy as np

    extent = hi - lo
    longest = max(float(extent[:tdim].max()), 1e-300)
    counts = [max(2, int(round(resolution * extent[i] / longest))) for i in range(min(tdim, 2))]
    axes = [lo[i] + (np.arange(n) + 0.5) * extent[i] / n for i, n in enumerate(counts)]
    if tdim == 1:
        points = np.zeros((counts[0], 3))
        points[:, 0] = axes[0]
        points[:, 1:] = 0.5 * (lo[1:] + hi[1:])
        return axes, points, "x axis"
    X, Y = np.meshgrid(axes[0], axes[1], indexing="xy")  # rows follow y
    z = 0.5 * (lo[2] + hi[2]) + 1e-3 * extent[2]
    points = np.column_stack([X.ravel(), Y.ravel(), np.full(X.size, z)])
    return axes, points, (f"z = {z:.6g} m (mid-plane)" if tdim == 3 else "x-y plane")


def _sample(function, comm, resolution: int) -> dict | None:
    """Values of ``function`` on the grid of :func:`_grid`, assembled on rank 0 (None elsewhere)."""
    import numpy as np
    from mpi4py import MPI

    mesh = function.function_space.mesh
    tdim = mesh.topology.dim
    x = mesh.geometry.x
    lo = x.min(axis=0) if len(x) else np.full(3, np.inf)
    hi = x.max(axis=0) if len(x) else np.full(3, -np.inf)
    comm.Allreduce(MPI.IN_PLACE, lo, op=MPI.MIN)
    comm.Allreduce(MPI.IN_PLACE, hi, op=MPI.MAX)
    axes, points, plane = _grid(lo, hi, tdim, resolution)
    local, error = None, None
    try:
        local = _evaluate(function, points, scale=2.0 ** -math.floor(math.log2(max(float((hi - lo).max()), 1e-300))))
    except Exception as exc:  # noqa: BLE001 -- reported on rank 0 after the gather every rank joins
        error = f"{type(exc).__name__}: {exc}"
    gathered = comm.gather((local, error), root=0)
    if comm.rank != 0:
        return None
    errors = [e for _, e in gathered if e is not None]
    if errors:
        raise RuntimeError(errors[0])
    grid = np.full(len(points), np.nan)
    for found, magnitude in (g for g, _ in gathered):
        grid[found] = magnitude
    if np.isnan(grid).all():
        raise RuntimeError(f"no cell of the field's mesh on the {plane}")
    shape = (len(axes[0]),) if tdim == 1 else (len(axes[1]), len(axes[0]))
    return {"axes": axes, "values": grid.reshape(shape), "plane": plane}


def _evaluate(function, points, scale: float):
    """(indices of the points inside this rank's owned cells, |value| there).

    DOLFINx 0.9 locates points with GJK under an absolute tolerance: on a mesh in metres at micrometre scale
    it misses points inside cells (measured: a point 0.2 µm inside a 1 µm voxel at x = 10 µm was placed
    1.2 µm away). The geometry is therefore scaled by ``scale`` (a power of two: exact, undone bit for bit)
    to an extent of order 1 while the points are located and evaluated."""
    import numpy as np
    from dolfinx import geometry

    mesh = function.function_space.mesh
    tdim = mesh.topology.dim
    x = mesh.geometry.x
    points = points * scale
    x *= scale
    try:
        owned = np.arange(mesh.topology.index_map(tdim).size_local, dtype=np.int32)
        tree = geometry.bb_tree(mesh, tdim, owned)
        colliding = geometry.compute_colliding_cells(mesh, geometry.compute_collisions_points(tree, points), points)
        offsets = colliding.offsets
        found = np.flatnonzero(offsets[1:] > offsets[:-1])
        size = int(np.prod(function.ufl_shape))  # 1 for a scalar field
        values = (function.eval(points[found], colliding.array[offsets[found]]).reshape(len(found), size)
                  if len(found) else np.zeros((0, size)))
    finally:
        x /= scale
    return found, (np.linalg.norm(values, axis=1) if values.shape[1] > 1 else values[:, 0])


def save_samples(path: Path, name: str, unit: str, axes, values, plane: str) -> Path:
    """preview.npz: the sampled values [unit] with the grid coordinates [m]."""
    import numpy as np

    np.savez_compressed(path, values=values, x=axes[0], y=axes[1] if len(axes) > 1 else np.zeros(0),
                        name=name, unit=unit, plane=plane)
    return path


def render_preview(npz: Path | str, png: Path | str) -> Path:
    """Draw preview.png from preview.npz: a colour map of the plane (lengths in µm), or the profile of a
    1D field."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with np.load(npz) as data:
        values, x, y = data["values"], data["x"], data["y"]
        name, unit, plane = str(data["name"]), str(data["unit"]), str(data["plane"])
    label = f"{name} ({unit})"
    fig, ax = plt.subplots(figsize=(5.2, 4.2), dpi=120)
    if values.ndim == 1:
        ax.plot(x * 1e6, values)
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    else:
        cmap = matplotlib.colormaps["viridis"].copy()
        cmap.set_bad("0.85")
        dx, dy = x[1] - x[0], y[1] - y[0]  # x, y are the centres of the pixels
        extent = ((x[0] - dx / 2) * 1e6, (x[-1] + dx / 2) * 1e6, (y[0] - dy / 2) * 1e6, (y[-1] + dy / 2) * 1e6)
        image = ax.imshow(np.ma.masked_invalid(values), origin="lower", cmap=cmap, aspect="equal",
                          extent=extent, interpolation="nearest")
        fig.colorbar(image, ax=ax, label=label)
        ax.set_ylabel("y (µm)")
    ax.set_xlabel("x (µm)")
    ax.set_title(f"{name}, {plane}", fontsize="medium")
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return Path(png)
