"""The compiled loops of the voxel finite volumes: built on first use into the user's cache."""
from __future__ import annotations

import numpy as np
import pytest

from femiec.errors import MissingDependencyError
from femiec.homogenization import kernels


@pytest.fixture
def fresh_library(monkeypatch, tmp_path):
    """kernels.library() built anew into an empty cache under tmp_path (and forgotten afterwards)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    kernels.library.cache_clear()
    yield tmp_path / "femiec"
    kernels.library.cache_clear()


def test_library_is_built_once_into_the_cache(fresh_library):
    lib = kernels.library()
    built = sorted(fresh_library.glob("voxel_rows-*.so"))
    assert len(built) == 1 and not list(fresh_library.glob("tmp*"))  # renamed into place, no leftovers
    stamp = built[0].stat().st_mtime_ns
    kernels.library.cache_clear()
    kernels.library()  # loads the cached file, does not compile again
    assert built[0].stat().st_mtime_ns == stamp
    x, y = np.arange(6.0), np.empty(3)
    lib.aggregate_sum(kernels.address(np.array([0, 2, 1, 2, 0, 0], dtype=np.int32), np.int32),
                      kernels.address(x, np.float64), 6, kernels.address(y, np.float64), 3)
    assert y.tolist() == [0.0 + 4.0 + 5.0, 2.0, 1.0 + 3.0]


def test_a_missing_or_failing_compiler_is_one_clear_error(fresh_library, monkeypatch):
    monkeypatch.setenv("CC", "femiec-no-such-compiler")
    with pytest.raises(MissingDependencyError, match=r"^C compiler 'femiec-no-such-compiler' not found"):
        kernels.library()
    monkeypatch.setenv("CC", "cc -DFEMIEC_BROKEN -include /nonexistent/header.h")
    kernels.library.cache_clear()
    with pytest.raises(MissingDependencyError, match=r"^compiling voxel_rows\.c with cc .* failed: "):
        kernels.library()
    assert not list(fresh_library.glob("*"))  # nothing half-written is left in the cache


def test_an_unwritable_cache_is_one_clear_error(fresh_library, monkeypatch, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    with pytest.raises(MissingDependencyError, match=r"^cannot write the compiled voxel_rows\.c into .*XDG_CACHE_HOME"):
        kernels.library()


def test_arguments_are_checked_before_the_call():
    with pytest.raises(TypeError, match="C-contiguous int32"):
        kernels.address(np.arange(4, dtype=np.int64), np.int32)
    with pytest.raises(TypeError, match="strided"):
        kernels.address(np.arange(8.0)[::2], np.float64)
    assert kernels.address(None, np.float64) is None
