"""A distributed sparse matrix filled row chunk by row chunk straight into hypre's ParCSR storage.

PETSc's own routes to a MATHYPRE matrix hold the operator more than once: converting an assembled AIJ
matrix keeps the AIJ arrays plus a COO delegate (column indices, values and two 8-byte maps per entry,
alive as long as the matrix), ~54 bytes per stored entry at the peak of the conversion; MatSetValues on a
MATHYPRE matrix created on one rank goes through hypre's auxiliary per-row arrays (~170 bytes per row
more). Here the exact number of entries of every row (split into the columns owned by this rank and the
others) is given to HYPRE_IJMatrixSetDiagOffdSizes before hypre allocates, so HYPRE_IJMatrixSetValues
writes each chunk of rows directly into the final arrays (12 bytes per entry, 4 per row) and the
caller's temporaries are bounded by one chunk. The assembled ParCSR matrix is then handed to PETSc as a
MATHYPRE matrix that uses it without a copy (MatCreateFromParCSR with PETSC_USE_POINTER), so PCHYPRE
builds BoomerAMG on it directly.

hypre and PETSc are called through ctypes on the libraries petsc4py has already loaded (the PETSc build
must use 32-bit PetscInt and HYPRE_BigInt, which is checked).
"""
from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
from petsc4py import PETSc

_HYPRE_PARCSR = 5555  # HYPRE_PARCSR object type
_PETSC_USE_POINTER = 2  # PetscCopyMode


def _loaded_library(prefix: str) -> ctypes.CDLL:
    """The shared library ``prefix*.so*`` mapped into this process (loaded by petsc4py)."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        path = line.split()[-1]
        if Path(path).name.startswith(prefix) and ".so" in path:
            return ctypes.CDLL(path)
    raise RuntimeError(f"{prefix} is not loaded in this process")


class _Libraries:
    def __init__(self):
        probe = PETSc.Mat().create(PETSc.COMM_SELF)
        probe.setType("hypre")  # PETSc initializes hypre (and finalizes it at exit)
        probe.destroy()
        self.hypre = _loaded_library("libHYPRE")
        self.petsc = _loaded_library("libpetsc")
        capsule = PETSc.__pyx_capi__["PyPetscMat_New"]
        get = ctypes.pythonapi.PyCapsule_GetPointer
        get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        self.wrap = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p)(get(capsule, b"PyObject *(Mat)"))
        if np.dtype(PETSc.IntType).itemsize != 4:
            raise RuntimeError("hypre_ij needs a PETSc build with 32-bit indices")

    def call(self, library, name: str, *args) -> None:
        error = getattr(library, name)(*args)
        if error:
            raise RuntimeError(f"{name} failed with error code {error}")


_LIBRARIES: _Libraries | None = None


def _libraries() -> _Libraries:
    global _LIBRARIES
    if _LIBRARIES is None:
        _LIBRARIES = _Libraries()
    return _LIBRARIES


def _pointer(array: np.ndarray) -> ctypes.c_void_p:
    return array.ctypes.data_as(ctypes.c_void_p)


class HypreRows:
    """Rows [rstart, rstart + len(diagonal_counts)) of a square matrix of global size ``size`` on ``comm``
    (mpi4py), with ``diagonal_counts[i]`` entries in the columns of this rank's rows and
    ``offdiagonal_counts[i]`` in the others. Fill with :meth:`set_rows` (every entry exactly once), then
    :meth:`assemble` returns the PETSc matrix; :meth:`destroy` after the matrix is destroyed."""

    def __init__(self, comm, rstart: int, size: int, diagonal_counts: np.ndarray, offdiagonal_counts: np.ndarray):
        from mpi4py import MPI

        lib = _libraries()
        self.lib = lib
        local = len(diagonal_counts)
        handle_type = ctypes.c_int if MPI._sizeof(MPI.Comm) == ctypes.sizeof(ctypes.c_int) else ctypes.c_void_p
        self.ij = ctypes.c_void_p()
        first, last = ctypes.c_int(rstart), ctypes.c_int(rstart + local - 1)
        lib.call(lib.hypre, "HYPRE_IJMatrixCreate", handle_type(MPI._handleof(comm)), first, last, first, last,
                 ctypes.byref(self.ij))
        lib.call(lib.hypre, "HYPRE_IJMatrixSetObjectType", self.ij, _HYPRE_PARCSR)
        diagonal = np.ascontiguousarray(diagonal_counts, dtype=np.int32)
        offdiagonal = np.ascontiguousarray(offdiagonal_counts, dtype=np.int32)
        lib.call(lib.hypre, "HYPRE_IJMatrixSetDiagOffdSizes", self.ij, _pointer(diagonal), _pointer(offdiagonal))
        lib.call(lib.hypre, "HYPRE_IJMatrixInitialize", self.ij)
        self.size = size

    def set_rows(self, rows: np.ndarray, indptr: np.ndarray, columns: np.ndarray, values: np.ndarray) -> None:
        """Set the rows ``rows`` (global numbers, owned) in CSR form: row k has the columns
        ``columns[indptr[k]:indptr[k + 1]]`` (global) and their ``values``."""
        rows = np.ascontiguousarray(rows, dtype=np.int32)
        counts = np.diff(indptr).astype(np.int32)
        columns = np.ascontiguousarray(columns, dtype=np.int32)
        values = np.ascontiguousarray(values, dtype=np.float64)
        self.lib.call(self.lib.hypre, "HYPRE_IJMatrixSetValues", self.ij, ctypes.c_int(len(rows)), _pointer(counts),
                      _pointer(rows), _pointer(columns), _pointer(values))

    def assemble(self) -> PETSc.Mat:
        """Finish hypre's assembly and wrap the ParCSR matrix as a MATHYPRE matrix (no copy)."""
        lib = self.lib
        lib.call(lib.hypre, "HYPRE_IJMatrixAssemble", self.ij)
        parcsr, mat = ctypes.c_void_p(), ctypes.c_void_p()
        lib.call(lib.hypre, "HYPRE_IJMatrixGetObject", self.ij, ctypes.byref(parcsr))
        lib.call(lib.petsc, "MatCreateFromParCSR", parcsr, b"hypre", _PETSC_USE_POINTER, ctypes.byref(mat))
        matrix = lib.wrap(mat.value)  # takes a reference
        lib.call(lib.petsc, "MatDestroy", ctypes.byref(mat))
        return matrix

    def destroy(self) -> None:
        """Free hypre's matrix (after every PETSc object using it is destroyed)."""
        if self.ij:
            self.lib.call(self.lib.hypre, "HYPRE_IJMatrixDestroy", self.ij)
            self.ij = ctypes.c_void_p()
