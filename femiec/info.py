"""Versions of femiec and of the stack it runs on (``femiec info``, summary.json)."""
from __future__ import annotations

import platform

from femiec._version import __version__

_PETSC_PACKAGES = ("mumps", "hypre", "superlu_dist", "scalapack", "metis", "parmetis", "ptscotch",
                   "hdf5", "suitesparse", "ml", "spai")


def versions() -> dict:
    """femiec, Python, DOLFINx, PETSc (+ external packages), MPI library and size, gmsh, ADIOS2."""
    from mpi4py import MPI
    from petsc4py import PETSc

    from femiec._compat import has_adios2, require_dolfinx

    dolfinx = require_dolfinx()
    info = {
        "femiec": __version__,
        "python": platform.python_version(),
        "dolfinx": dolfinx.__version__,
        "petsc": ".".join(str(v) for v in PETSc.Sys.getVersion()),
        "petsc_scalar": "complex" if PETSc.ScalarType().dtype.kind == "c" else "real",
        "petsc_external_packages": [p for p in _PETSC_PACKAGES if PETSc.Sys.hasExternalPackage(p)],
        "mpi_library": MPI.Get_library_version().replace("\x00", "").splitlines()[0].strip(),
        "mpi_size": MPI.COMM_WORLD.size,
        "adios2": has_adios2(),
    }
    try:
        import gmsh

        info["gmsh"] = gmsh.__version__
    except ImportError:  # pragma: no cover - gmsh is part of the stack, reported as absent otherwise
        info["gmsh"] = None
    return info
