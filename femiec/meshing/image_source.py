"""Segmented images read slab by slab: ``open_image(...).read(i0, i1)`` is the sub-volume
``read_image(...)[i0:i1]`` (planes i0..i1-1 along the first array axis, x), read without the rest.

How each format reads a slab (the arrays are those of :func:`femiec.meshing.tomography.read_image`):
- ``.npy``: a memory map (``np.load(mmap_mode="r")``) opened for the read and closed after it;
- raw: a memory map of the file (``np.memmap``) likewise; with ``order = "F"`` (x fastest) a slab of
  x-planes is spread over the whole file, read through the map;
- multi-page TIFF with one 2D page per x-plane: only the pages i0..i1-1 (tifffile ``key``); a TIFF whose
  data lies contiguous in the file (one 3D page): a memory map; any other TIFF (a compressed 3D page) is
  read whole once and kept;
- folder of 2D TIFF slices: the files i0..i1-1 in natural name order (each checked against the first);
- HDF5/NetCDF-4 dataset: an h5py slice ``dataset[i0:i1]`` (h5py reads only the chunks it needs);
- ``.vti``: read whole once and kept (VTK's reader has no sub-volume read).

:func:`open_image_crop` is :func:`femiec.meshing.tomography.read_image_crop` slab by slab: the crop and
the remap are applied to every slab; with a remap the whole image is scanned once first (the remap's
check that every value it maps is present, and the output type, depend on all values of the image).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from femiec.errors import InputError
from femiec.meshing.tomography import (HDF5, TIFF, _first_line, _read_tiff, _read_vti, apply_remap, check_3d,
                                       check_crop, check_image_path, dataset_errors_named, hdf5_dataset, open_hdf5,
                                       raw_layout, read_tiff_slice, remapped_dtype, tiff_errors, tiff_slice_files)

#: voxels of one slab when a caller gives no slab size: 4 M voxels (4 MB of uint8; a scan's labels, masks
#: and counts of a slab take about 20 times more)
SLAB_VOXELS = 1 << 22


class ImageSource:
    """A 3D image of ``shape`` and ``dtype`` whose planes along axis 0 are read on demand."""

    shape: tuple[int, int, int]
    dtype: np.dtype

    def read(self, i0: int, i1: int) -> np.ndarray:
        """Planes i0..i1-1 along the first axis (a new array of shape (i1 - i0, ny, nz))."""
        raise NotImplementedError

    def slabs(self, planes: int | None = None):
        """(i0, i1) of consecutive slabs of at most ``planes`` planes covering the image (default: about
        :data:`SLAB_VOXELS` voxels each)."""
        planes = planes or slab_planes(self.shape)
        return [(i0, min(i0 + planes, self.shape[0])) for i0 in range(0, self.shape[0], planes)]


def slab_planes(shape, voxels: int = SLAB_VOXELS) -> int:
    """Planes along axis 0 of a slab of about ``voxels`` voxels of an image of ``shape`` (at least one)."""
    return max(1, voxels // max(1, int(shape[1]) * int(shape[2])))


class _ArraySource(ImageSource):
    """Slabs of an array made by ``array()`` (a memory map opened per read, or an array kept)."""

    def __init__(self, array, shape, dtype):
        self._array, self.shape, self.dtype = array, tuple(int(n) for n in shape), np.dtype(dtype)

    def read(self, i0, i1):
        data = self._array()
        slab = np.array(data[i0:i1])
        del data  # closes a memory map: its pages leave the resident set
        return slab


class _TiffPages(ImageSource):
    """A TIFF whose first series is one 2D page per plane: the pages of a slab only."""

    def __init__(self, path: Path, shape, dtype):
        self._path, self.shape, self.dtype = path, tuple(int(n) for n in shape), np.dtype(dtype)

    def read(self, i0, i1):
        import tifffile

        with tiff_errors(self._path, "a readable TIFF stack"), tifffile.TiffFile(self._path) as tif:
            return tif.asarray(key=range(i0, i1), series=0).reshape((i1 - i0, *self.shape[1:]))


class _TiffSlices(ImageSource):
    """A folder of 2D TIFF slices: the files of a slab only, each checked like read_tiff_slices does."""

    def __init__(self, folder: Path):
        self._files = tiff_slice_files(folder)
        self._first = read_tiff_slice(self._files[0], None, self._files[0])
        self.shape, self.dtype = (len(self._files), *self._first.shape), self._first.dtype

    def read(self, i0, i1):
        slab = np.empty((i1 - i0, *self.shape[1:]), dtype=self.dtype)
        for k in range(i0, i1):
            slab[k - i0] = read_tiff_slice(self._files[k], self._first, self._files[0])
        return slab


class _Hdf5Dataset(ImageSource):
    """A 3D dataset of an HDF5/NetCDF-4 file: an h5py slice per slab."""

    def __init__(self, path: Path, dataset: str | None):
        self._path = path
        with open_hdf5(path) as file:
            data = hdf5_dataset(file, path, dataset)
            self._name, self.shape, self.dtype = data.name, tuple(int(n) for n in data.shape), data.dtype

    def read(self, i0, i1):
        with open_hdf5(self._path) as file:
            return file[self._name][i0:i1]


def open_image(path, shape=None, dtype=None, order: str = "C", dataset: str | None = None) -> ImageSource:
    """The image ``path`` (the formats and arguments of :func:`femiec.meshing.tomography.read_image`) as an
    :class:`ImageSource`: its shape and type known, its slabs read on demand (module docstring); the same
    InputErrors as read_image for a missing, unreadable or non-3D image."""
    path = Path(path)
    suffix = path.suffix.lower()
    check_image_path(path, dataset)
    if path.is_dir():
        source = _TiffSlices(path)
    elif suffix in TIFF:
        source = _open_tiff(path)
    elif suffix == ".npy":
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputError("image file", str(path), f"a readable .npy array ({_first_line(exc)})") from None
        source = _ArraySource(lambda: np.load(path, mmap_mode="r", allow_pickle=False), array.shape, array.dtype)
    elif suffix == ".vti":
        image = _read_vti(path)
        source = _ArraySource(lambda: image, image.shape, image.dtype)
    elif suffix in HDF5:
        source = _Hdf5Dataset(path, dataset)
    else:
        shape, dtype = raw_layout(path, shape, dtype, order)
        source = _ArraySource(lambda: np.memmap(path, dtype=dtype, mode="r", shape=shape, order=order), shape, dtype)
    check_3d(path, source.shape)
    return source


def _open_tiff(path: Path) -> ImageSource:
    """Pages, memory map or whole read of a TIFF stack (module docstring), as tifffile.imread reads it."""
    import tifffile

    with tiff_errors(path, "a readable TIFF stack"), tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        shape, dtype = series.shape, series.dtype
        pagewise = len(shape) == 3 and len(series.pages) == shape[0] and all(
            page is not None and tuple(page.shape) == tuple(shape[1:]) for page in series.pages)
        end = None if series.dataoffset is None else series.dataoffset + series.size * series.dtype.itemsize
        mappable = end is not None and end <= path.stat().st_size  # a truncated file is read (and refused)
    if pagewise:
        return _TiffPages(path, shape, dtype)
    if mappable:
        return _ArraySource(lambda: tifffile.memmap(path, mode="r"), shape, dtype)
    image = _read_tiff(path, "a readable TIFF stack")
    return _ArraySource(lambda: image, image.shape, image.dtype)


class CroppedImage(ImageSource):
    """``source`` remapped (image value -> label) and cropped, slab by slab (:func:`open_image_crop`)."""

    def __init__(self, source: ImageSource, crop, remap: dict[int, int] | None, key: str, remap_key: str):
        self._source, self._remap = source, remap or None
        self.dtype = source.dtype
        if self._remap:
            present = np.unique(np.concatenate([np.unique(source.read(i0, i1)) for i0, i1 in source.slabs()]))
            self.dtype = remapped_dtype(present, self._remap, remap_key)
        if crop is not None:
            check_crop(crop, source.shape, key)
        self._box = [(int(a), int(b)) for a, b in crop] if crop is not None else [(0, n) for n in source.shape]
        self.shape = tuple(b - a for a, b in self._box)

    def read(self, i0, i1):
        (x0, _), (y0, y1), (z0, z1) = self._box
        slab = self._source.read(x0 + i0, x0 + i1)[:, y0:y1, z0:z1]
        return apply_remap(slab, self._remap, self.dtype) if self._remap else np.ascontiguousarray(slab)


def open_image_crop(path, shape=None, dtype=None, crop=None, key: str = "crop", dataset: str | None = None,
                    remap: dict[int, int] | None = None, prefix: str = "") -> CroppedImage:
    """:func:`femiec.meshing.tomography.read_image_crop` as an :class:`ImageSource`: the same checks and
    InputErrors (named ``key``, ``<prefix>dataset``, ``<prefix>remap``), the same values slab by slab."""
    with dataset_errors_named(prefix):
        source = open_image(path, shape=shape, dtype=dtype, dataset=dataset)
    return CroppedImage(source, crop, remap, key, prefix + "remap")


class PaddedImage(ImageSource):
    """``source`` with a layer of ``voxels`` voxels of ``value`` added on box face ``face``
    (:func:`femiec.meshing.tomography.pad_face` slab by slab: x-layers are planes of their own, y and z
    layers are added to every slab read)."""

    def __init__(self, source: ImageSource, face: str, voxels: int, value: int, key: str = "pad"):
        from femiec.meshing.tomography import BOX_FACES, check_pad

        check_pad(face, voxels, value, source.dtype, key)
        self._source, self._face, self._voxels, self._value, self._key = source, face, int(voxels), value, key
        self._axis, index = BOX_FACES[face]
        self._before = self._voxels if self._axis == 0 and index == 0 else 0
        shape = list(source.shape)
        shape[self._axis] += self._voxels
        self.shape, self.dtype = tuple(shape), source.dtype

    def read(self, i0, i1):
        from femiec.meshing.tomography import pad_face

        if self._axis > 0:
            return pad_face(self._source.read(i0, i1), self._face, self._voxels, self._value, self._key)
        n = self._source.shape[0]
        a, b = min(max(i0 - self._before, 0), n), min(max(i1 - self._before, 0), n)
        slab = np.full((i1 - i0, *self.shape[1:]), self._value, dtype=self.dtype)
        slab[a + self._before - i0:b + self._before - i0] = self._source.read(a, b)
        return slab
