"""Tomography volumes: reading, segmentation helpers and phase analysis (no meshing here).

Arrays are indexed ``image[ix, iy, iz]`` <-> (x, y, z): axis 0 is x (the axis a TIFF stack is stacked
along, as tifffile loads it; also TauFactor's flux axis). Lengths are in metres.

Phase analysis (``image`` segmented, ``phase`` one image value):
- volume fraction: eps = N_phase / N_voxels (-)
- specific surface area: a = sum over axes of (number of faces between a phase voxel and a voxel of
  another value inside the image) x (face area on that axis) / (image volume)  (1/m); faces on the
  outer box are not counted.
- percolating fraction along an axis: voxels of the phase in 6-connected clusters touching both faces
  normal to the axis, divided by all voxels of the phase (-).
"""
from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from femiec.errors import InputError, MissingDependencyError
from femiec.sections import numpy_dtype

_AXES = {"x": 0, "y": 1, "z": 2}
TIFF = (".tif", ".tiff")
#: HDF5 files (NetCDF-4 files are HDF5 files: their variables are read as datasets)
HDF5 = (".h5", ".hdf5", ".he5", ".nc", ".nc4")
#: image formats that record their own shape and data type (anything else is read as raw; a folder is a
#: stack of TIFF slices)
SELF_DESCRIBING = TIFF + (".npy", ".vti") + HDF5


def records_shape(path) -> bool:
    """True when ``path`` records its own shape and data type: a folder of TIFF slices or a file of a
    self-describing format (False: a raw file, which needs shape and dtype)."""
    path = Path(path)
    return path.is_dir() or path.suffix.lower() in SELF_DESCRIBING


def read_image(path, shape=None, dtype=None, order: str = "C", dataset: str | None = None) -> np.ndarray:
    """Read a 3D image as an array indexed [ix, iy, iz].

    Formats: a folder of 2D TIFF slices (:func:`read_tiff_slices`), by suffix ``.tif``/``.tiff`` (stack,
    tifffile), ``.npy``, ``.vti`` (VTK image data, needs the ``vtk`` package), ``.h5``/``.hdf5``/``.nc``
    (the 3D dataset ``dataset`` of an HDF5 or NetCDF-4 file, h5py; :func:`read_hdf5`), anything else is
    raw binary and needs ``shape`` (nx, ny, nz) and ``dtype``; ``order`` is the memory order of the raw
    file ("C": z fastest, "F": x fastest).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    check_image_path(path, dataset)
    if path.is_dir():
        return read_tiff_slices(path)
    if suffix in TIFF:
        image = _read_tiff(path, "a readable TIFF stack")
    elif suffix == ".npy":
        try:
            image = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputError("image file", str(path), f"a readable .npy array ({_first_line(exc)})") from None
    elif suffix == ".vti":
        image = _read_vti(path)
    elif suffix in HDF5:
        image = read_hdf5(path, dataset)
    else:
        image = _read_raw(path, shape, dtype, order)
    check_3d(path, image.shape)
    return image


def check_image_path(path: Path, dataset: str | None) -> None:
    """InputError unless ``path`` is a folder or an existing file, and ``dataset`` is given only for an
    HDF5/NetCDF-4 file."""
    if dataset is not None and (path.is_dir() or path.suffix.lower() not in HDF5):
        raise InputError("dataset", dataset, f"no dataset for {path.name} (an HDF5 or NetCDF-4 file, "
                                             f"{'/'.join(HDF5)}, only)")
    if not path.is_dir() and not path.is_file():
        raise InputError("image file", str(path), "an existing file or a folder of TIFF slices")


def check_3d(path: Path, shape) -> None:
    """InputError unless an image read from ``path`` has the 3D ``shape``."""
    if len(shape) != 3:
        raise InputError("image file", str(path), f"a 3D volume (got an array of shape {tuple(shape)})")


@contextmanager
def tiff_errors(path: Path, what: str):
    """Context in which tifffile reads ``path``: an unreadable file is an InputError ("``what`` (reason)")
    and tifffile's own log lines (which would repeat the one error line) are silenced."""
    import tifffile

    logger = logging.getLogger("tifffile")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    except (tifffile.TiffFileError, OSError, ValueError) as exc:
        raise InputError("image file", str(path), f"{what} ({_first_line(exc)})") from None
    finally:
        logger.setLevel(level)


def _read_tiff(path: Path, what: str) -> np.ndarray:
    """tifffile.imread(path); an unreadable file is an InputError ("``what`` (reason)")."""
    import tifffile

    with tiff_errors(path, what):
        return tifffile.imread(path)


def _natural_key(path: Path):
    """Sort key of a file name with its digit runs compared as numbers (slice_2 before slice_10)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", path.name)]


def read_tiff_slices(folder) -> np.ndarray:
    """A folder of 2D TIFF slices (``*.tif``/``*.tiff``, natural name order: slice_2 before slice_10) as a
    3D array: slice k is the plane ``image[k, :, :]``, the axis a multi-page TIFF stacks its pages along
    (axis 0 = x; the same slices read as one multi-page TIFF give the same array). Every slice must be 2D,
    of the first slice's shape and data type; a slice that is not is named in one InputError."""
    files = tiff_slice_files(folder)
    first = read_tiff_slice(files[0], None, files[0])
    image = np.empty((len(files), *first.shape), dtype=first.dtype)
    for k, file in enumerate(files):
        image[k] = first if k == 0 else read_tiff_slice(file, first, files[0])
    return image


def tiff_slice_files(folder) -> list[Path]:
    """The TIFF slices of ``folder`` in natural name order (InputError when there is none)."""
    folder = Path(folder)
    files = sorted((f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in TIFF), key=_natural_key)
    if not files:
        raise InputError("image file", str(folder), "a TIFF file or a folder of 2D TIFF slices (*.tif, *.tiff; "
                                                     "this folder has none)")
    return files


def read_tiff_slice(file: Path, first: np.ndarray | None, first_file: Path) -> np.ndarray:
    """The 2D TIFF slice ``file``; InputError unless it is 2D and (``first`` given) of the shape and data
    type of ``first``, the slice read from ``first_file``."""
    plane = _read_tiff(file, "a readable 2D TIFF slice")
    first = plane if first is None else first
    if plane.ndim != 2 or plane.shape != first.shape or plane.dtype != first.dtype:
        expected = (f"a 2D slice of shape {first.shape} and type {first.dtype} like {first_file.name} "
                    f"(got shape {plane.shape}, type {plane.dtype})")
        raise InputError("image slice", str(file), expected)
    return plane


def read_hdf5(path, dataset: str | None = None) -> np.ndarray:
    """The 3D dataset ``dataset`` (e.g. "/segmentation") of an HDF5 file, read with h5py; NetCDF-4 files
    are HDF5 files and their variables are datasets. Axes as stored (axis 0 = x). Without ``dataset`` the
    file must hold exactly one 3D dataset. A missing or non-3D dataset is one InputError listing the
    datasets found (path, shape, type)."""
    path = Path(path)
    with open_hdf5(path) as file:
        return hdf5_dataset(file, path, dataset)[()]


def open_hdf5(path: Path):
    """The HDF5 (or NetCDF-4) file ``path`` opened for reading with h5py (InputError if unreadable)."""
    try:
        import h5py
    except ImportError as exc:
        raise MissingDependencyError(f"reading {path.name} needs h5py (apt install python3-h5py, or "
                                     f"pip install h5py) ({exc})") from None
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise InputError("image file", str(path), "a readable HDF5 or NetCDF-4 file (NetCDF-3 classic files "
                                                  f"are not HDF5) ({_first_line(exc)})") from None


def hdf5_dataset(file, path: Path, dataset: str | None):
    """The 3D h5py dataset ``dataset`` of the open ``file`` (see :func:`read_hdf5`), not read."""
    import h5py

    found = {}

    def collect(name, item):  # returns None: visititems stops at the first other return value
        if isinstance(item, h5py.Dataset):
            found[f"/{name}"] = item

    file.visititems(collect)
    listing = ", ".join(f"{name} {tuple(d.shape)} {d.dtype}" for name, d in found.items()) or "none"
    if dataset is None:
        volumes = [name for name, d in found.items() if d.ndim == 3]
        if len(volumes) != 1:
            raise InputError("dataset", None, f"the name of a 3D dataset of {path.name} (datasets: {listing})")
        dataset = volumes[0]
    name = "/" + dataset.lstrip("/")
    if name not in found or found[name].ndim != 3:
        raise InputError("dataset", dataset, f"a 3D dataset of {path.name} (datasets: {listing})")
    return found[name]


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


@contextmanager
def dataset_errors_named(prefix: str):
    """An InputError of the key ``dataset`` raised inside is raised again as ``<prefix>dataset`` (the case
    key, e.g. "mesh.dataset"); other errors pass unchanged."""
    try:
        yield
    except InputError as exc:
        if exc.key != "dataset":
            raise
        raise InputError(prefix + exc.key, exc.value, exc.expected) from None


def read_image_crop(path, shape=None, dtype=None, crop=None, key: str = "crop", dataset: str | None = None,
                    remap: dict[int, int] | None = None, prefix: str = "") -> np.ndarray:
    """:func:`read_image`, its values replaced by ``remap`` (image value -> label, :func:`remap_labels`),
    then the box ``crop`` = [[x0, x1], [y0, y1], [z0, z1]] (voxels, end excluded) cut out of it (the whole
    image for None). A crop reaching outside the image, or with start >= stop on an axis, raises
    InputError named ``key`` with the image shape (it is never silently cut); errors of ``dataset`` and
    ``remap`` are named ``<prefix>dataset`` and ``<prefix>remap`` (e.g. prefix "mesh.")."""
    with dataset_errors_named(prefix):
        image = read_image(path, shape=shape, dtype=dtype, dataset=dataset)
    if remap:
        image = remap_labels(image, remap, key=prefix + "remap")
    if crop is not None:
        check_crop(crop, image.shape, key)
        (x0, x1), (y0, y1), (z0, z1) = crop
        image = image[x0:x1, y0:y1, z0:z1]
    return image


def check_crop(crop, shape, key: str = "crop") -> None:
    """InputError unless 0 <= start < stop <= n on every axis of an image of ``shape`` (voxels)."""
    for axis, ((start, stop), n) in enumerate(zip(crop, shape)):
        if not 0 <= start < stop <= n:
            raise InputError(f"{key}[{axis}]", [start, stop],
                             f"0 <= start < stop <= {n} voxels: the image has shape {tuple(int(m) for m in shape)}")


def _read_raw(path: Path, shape, dtype, order: str) -> np.ndarray:
    shape, dtype = raw_layout(path, shape, dtype, order)
    return np.fromfile(path, dtype=dtype).reshape(shape, order=order)


def raw_layout(path: Path, shape, dtype, order: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of the raw volume ``path``: InputError unless both are given, ``order`` is "C" or
    "F" and the file holds exactly prod(shape) values of ``dtype``."""
    if shape is None or dtype is None:
        raise InputError("image file", str(path), "shape=(nx, ny, nz) and dtype for a raw volume")
    if order not in ("C", "F"):
        raise InputError("order", order, "'C' or 'F'")
    dtype = numpy_dtype(dtype)
    expected = int(np.prod(shape)) * dtype.itemsize
    size = path.stat().st_size
    if size != expected:
        raise InputError(f"size of {path.name}", f"{size} bytes", f"{expected} bytes for shape {tuple(shape)} of {dtype}")
    return tuple(int(n) for n in shape), dtype


def _read_vti(path: Path) -> np.ndarray:
    try:
        from vtk import vtkXMLImageDataReader
        from vtk.util.numpy_support import vtk_to_numpy
    except ImportError as exc:
        raise MissingDependencyError(f"reading {path} needs the vtk package ({exc})") from None
    reader = vtkXMLImageDataReader()
    reader.SetFileName(str(path))
    reader.Update()
    data = reader.GetOutput()
    nx, ny, nz = data.GetDimensions()
    arrays = data.GetPointData() if data.GetPointData().GetNumberOfArrays() else data.GetCellData()
    if arrays.GetNumberOfArrays() == 0:
        raise InputError("image file", str(path), "VTK image data with a point or cell data array")
    if arrays is data.GetCellData():
        nx, ny, nz = max(nx - 1, 1), max(ny - 1, 1), max(nz - 1, 1)
    # VTK stores x fastest.
    return vtk_to_numpy(arrays.GetArray(0)).reshape((nx, ny, nz), order="F").copy()


def write_vti(image: np.ndarray, path, voxel_size=1.0) -> None:
    """Write ``image`` as VTK image data with one cell per voxel (for ParaView and read_image)."""
    from vtk import vtkImageData, vtkXMLImageDataWriter
    from vtk.util.numpy_support import numpy_to_vtk

    data = vtkImageData()
    data.SetDimensions(*(n + 1 for n in image.shape))
    data.SetSpacing(*np.broadcast_to(np.asarray(voxel_size, dtype=float), (3,)))
    values = numpy_to_vtk(np.ascontiguousarray(image.ravel(order="F")), deep=True)
    values.SetName("phase")
    data.GetCellData().SetScalars(values)
    writer = vtkXMLImageDataWriter()
    writer.SetFileName(str(path))
    writer.SetInputData(data)
    writer.Write()


# --- segmentation helpers -------------------------------------------------------------------------


def threshold(image: np.ndarray, levels, values=None) -> np.ndarray:
    """Segment a grey-level image: voxels with levels[i-1] <= v < levels[i] get ``values[i]``.

    ``values`` (default 0, 1, ...) has one more entry than the increasing ``levels``; returns uint8.
    """
    levels = np.atleast_1d(np.asarray(levels, dtype=float))
    if np.any(np.diff(levels) <= 0):
        raise InputError("levels", levels.tolist(), "strictly increasing grey levels")
    values = np.arange(len(levels) + 1) if values is None else np.asarray(values)
    if len(values) != len(levels) + 1:
        raise InputError("values", list(values), f"{len(levels) + 1} phase values (one more than levels)")
    return np.asarray(values, dtype=np.uint8)[np.digitize(image, levels)]


def otsu(image: np.ndarray, values=(0, 1)) -> np.ndarray:
    """Two-phase segmentation with Otsu's threshold (scikit-image): below -> values[0], above -> values[1]."""
    from skimage.filters import threshold_otsu

    return threshold(image, [threshold_otsu(np.ravel(image))], values)


def remap_labels(image: np.ndarray, mapping: dict[int, int], key: str = "mapping") -> np.ndarray:
    """Replace image values by ``mapping[value]`` (values not in ``mapping`` are kept), e.g. 16-bit labels
    {300: 1, 65535: 0} to the labels 0..255 of a voxel mesh. The result has the smallest integer type
    holding every value it contains. A value of ``mapping`` absent from the image is an InputError
    named ``key`` (a mistyped value would otherwise pass silently)."""
    return apply_remap(image, mapping, remapped_dtype(np.unique(image), mapping, key))


def remapped_dtype(present: np.ndarray, mapping: dict[int, int], key: str = "mapping") -> np.dtype:
    """The smallest integer type of an image whose sorted distinct values ``present`` are remapped by
    ``mapping`` (:func:`remap_labels`); InputError named ``key`` for a value of ``mapping`` not present."""
    missing = [k for k in mapping if not np.any(present == k)]
    if missing:
        shown = present.tolist() if present.size <= 20 else f"{present.size} values {present.min()}..{present.max()}"
        raise InputError(key, missing, f"values present in the image ({shown})")
    kept = [int(v) for v in present.tolist() if v not in mapping]
    result = kept + [int(v) for v in mapping.values()]
    return np.result_type(np.min_scalar_type(min(result)), np.min_scalar_type(max(result)))


def apply_remap(image: np.ndarray, mapping: dict[int, int], dtype) -> np.ndarray:
    """``image`` as ``dtype`` with its values replaced by ``mapping`` (checked by :func:`remapped_dtype`)."""
    out = image.astype(dtype)  # masks below come from ``image``: wrapped values are all overwritten
    for old, new in mapping.items():
        out[image == old] = new
    return out


def crop(image: np.ndarray, start, stop) -> np.ndarray:
    """Sub-volume image[start[0]:stop[0], start[1]:stop[1], start[2]:stop[2]] (a copy)."""
    start, stop = np.asarray(start, dtype=int), np.asarray(stop, dtype=int)
    if start.shape != (3,) or stop.shape != (3,) or np.any(start < 0) or np.any(stop > image.shape) or np.any(
        stop <= start
    ):
        raise InputError("crop", f"{start.tolist()}..{stop.tolist()}", f"0 <= start < stop <= {image.shape}")
    return image[start[0] : stop[0], start[1] : stop[1], start[2] : stop[2]].copy()


#: box face name -> (array axis, index of the face's voxel plane: 0 or -1)
BOX_FACES = {"xmin": (0, 0), "xmax": (0, -1), "ymin": (1, 0), "ymax": (1, -1), "zmin": (2, 0), "zmax": (2, -1)}


def pad_face(image: np.ndarray, face: str, voxels: int, value: int, key: str = "pad") -> np.ndarray:
    """Copy of ``image`` with a layer of ``voxels`` voxels of constant ``value`` added on ``face``
    ("xmin", ..., "zmax"; x is the first array axis), e.g. a separator in front of an electrode."""
    check_pad(face, voxels, value, image.dtype, key)
    axis, index = BOX_FACES[face]
    shape = list(image.shape)
    shape[axis] = int(voxels)
    layer = np.full(shape, value, dtype=image.dtype)
    return np.concatenate([image, layer] if index == -1 else [layer, image], axis=axis)


def check_pad(face: str, voxels: int, value: int, dtype, key: str = "pad") -> None:
    """InputError (``<key>.face``/``.voxels``/``.value``) unless :func:`pad_face` can add ``voxels`` voxels
    of ``value`` on ``face`` of an image of type ``dtype``."""
    if face not in BOX_FACES:
        raise InputError(f"{key}.face", face, f"one of {sorted(BOX_FACES)}")
    if isinstance(voxels, bool) or not isinstance(voxels, (int, np.integer)) or voxels < 1:
        raise InputError(f"{key}.voxels", voxels, "a positive number of voxels")
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        if not info.min <= value <= info.max:
            raise InputError(f"{key}.value", value,
                             f"a value of the image type {np.dtype(dtype)} ({info.min}..{info.max})")


def downsample(image: np.ndarray, factor: int) -> np.ndarray:
    """Coarsen a segmented image by an integer ``factor``: each block of factor^3 voxels gets its most
    frequent value (ties: the smallest value). Trailing voxels that do not fill a block are dropped."""
    if int(factor) != factor or factor < 1:
        raise InputError("factor", factor, "a positive integer")
    f = int(factor)
    n = [s // f for s in image.shape]
    if min(n) == 0:
        raise InputError("factor", factor, f"at most the smallest image size {min(image.shape)}")
    blocks = image[: n[0] * f, : n[1] * f, : n[2] * f].reshape(n[0], f, n[1], f, n[2], f)
    values = np.unique(blocks)
    counts = np.stack([(blocks == v).sum(axis=(1, 3, 5)) for v in values])
    return values[np.argmax(counts, axis=0)].astype(image.dtype)


# --- phase analysis -------------------------------------------------------------------------------


def _phase_mask(image: np.ndarray, phase: int) -> np.ndarray:
    mask = np.asarray(image) == phase
    if not mask.any():
        raise InputError("phase", phase, f"a value present in the image {np.unique(image).tolist()}")
    return mask


def _axis(axis) -> int:
    if axis in _AXES:
        return _AXES[axis]
    if axis in (0, 1, 2):
        return int(axis)
    raise InputError("axis", axis, "0, 1, 2 or 'x', 'y', 'z'")


def volume_fraction(image: np.ndarray, phase: int) -> float:
    """Volume fraction of ``phase`` (-): number of its voxels / number of voxels."""
    return float(_phase_mask(image, phase).mean())


def unlike_face_counts(image: np.ndarray, phase: int | None = None) -> np.ndarray:
    """Number of faces normal to x, y, z between two voxels of different values inside the image
    (only faces with a voxel of ``phase`` on one side, when given)."""
    image = np.asarray(image)
    counts = np.zeros(3, dtype=np.int64)
    for axis in range(3):
        lo = np.take(image, np.arange(image.shape[axis] - 1), axis=axis)
        up = np.take(image, np.arange(1, image.shape[axis]), axis=axis)
        unlike = lo != up
        if phase is not None:
            unlike &= (lo == phase) | (up == phase)
        counts[axis] = int(unlike.sum())
    return counts


def specific_surface_area(image: np.ndarray, phase: int, voxel_size=1.0) -> float:
    """Specific surface area of ``phase`` (1/m): sum_axis unlike-face count x face area / image volume."""
    from femiec.meshing.voxel import voxel_spacing

    _phase_mask(image, phase)
    d = voxel_spacing(voxel_size)
    face_area = np.array([d[1] * d[2], d[0] * d[2], d[0] * d[1]])
    volume = np.prod(image.shape) * np.prod(d)
    return float(unlike_face_counts(image, phase) @ face_area / volume)


def chord_lengths(image: np.ndarray, phase, voxel_size=1.0) -> np.ndarray:
    """Mean chord length of ``phase`` (an image value or list of values) along x, y and z [m], shape (3,).

    A chord is a run of consecutive ``phase`` voxels on a line of voxels parallel to axis k; every chord
    inside the image has two ends, each a face between ``phase`` and another value. The mean chord is the
    phase's length on these lines over half its end faces, l_k = 2 N h_k / F_k (N the phase's voxels, F_k
    its faces normal to k inside the image, h_k the voxel edge): the stereological estimator, which counts
    no end where the image face cuts a chord (counting those as ends would bias l_k low by the fraction of
    lines that start or end in the phase). l_k = inf when the phase has no face normal to k (chords
    longer than the image, e.g. along parallel slabs). Cauchy: for an isotropic structure F_k / V = S_v,vox
    / 3 = S_v / 2 (S_v the true, smooth specific surface [1/m]), so l_k = 4 eps / S_v."""
    from femiec.meshing.voxel import voxel_spacing

    mask = np.isin(np.asarray(image), np.atleast_1d(phase))
    if mask.ndim != 3 or not mask.any():
        raise InputError("phase", phase, f"a value present in the 3D image {np.unique(image).tolist()}")
    ends = np.array([int(np.count_nonzero(np.diff(mask, axis=k))) for k in range(3)], dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(ends > 0, 2 * mask.sum() * voxel_spacing(voxel_size) / np.maximum(ends, 1), np.inf)


def mean_chord_length(image: np.ndarray, phase, voxel_size=1.0) -> float:
    """The mean chord of ``phase`` over the three axes [m] (:func:`chord_lengths`): its length on the lines of
    all three axes over their chords, sum_k h_k / sum_k (h_k / l_k) (the harmonic mean of the l_k for
    cubic voxels; an axis without faces adds length and no chord); 4 eps / S_v for an isotropic structure.
    Used as the Knudsen pore diameter of ``pore_diameter = "chord"`` (femiec.problems.miec_electrode_case)."""
    from femiec.meshing.voxel import voxel_spacing

    spacing = voxel_spacing(voxel_size)
    return float(spacing.sum() / np.sum(spacing / chord_lengths(image, phase, spacing)))


def face_clusters(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """The 6-connected (face-connected) clusters of a boolean mask: (labels 1..n, 0 outside; n)."""
    from scipy.ndimage import generate_binary_structure, label

    return label(mask, structure=generate_binary_structure(3, 1))


def percolating_mask(mask: np.ndarray, axis) -> np.ndarray:
    """Voxels of ``mask`` in 6-connected clusters touching both faces normal to ``axis`` (may be empty)."""
    axis = _axis(axis)
    labels, _ = face_clusters(mask)
    first = np.unique(np.take(labels, 0, axis=axis))
    last = np.unique(np.take(labels, -1, axis=axis))
    spanning = np.intersect1d(first[first > 0], last[last > 0])
    return np.isin(labels, spanning)


def percolating_fraction(image: np.ndarray, phase: int, axis) -> float:
    """Fraction of the voxels of ``phase`` that belong to clusters spanning the image along ``axis`` (-)."""
    mask = _phase_mask(image, phase)
    return float(percolating_mask(mask, axis).sum() / mask.sum())


def keep_percolating(mask: np.ndarray, axis, phase=None) -> np.ndarray:
    """``mask`` restricted to its clusters spanning the image along ``axis``; InputError if none does.

    ``phase``: the image value (or list of values) ``mask`` selects, named in the error.
    """
    mask = np.asarray(mask, dtype=bool)
    kept = percolating_mask(mask, axis)
    if not kept.any():
        raise no_percolation_error(axis, int(mask.sum()), phase)
    return kept


def no_percolation_error(axis, count: int, phase=None) -> InputError:
    """The InputError of :func:`keep_percolating` when none of the ``count`` voxels of ``phase`` (a value
    or list of values, None: unnamed) lies in a cluster spanning ``axis``."""
    if isinstance(phase, (list, tuple)) and len(phase) == 1:
        phase = phase[0]
    name = "xyz"[_axis(axis)]
    value, detail = (f"{count} voxels", "") if phase is None else (phase, f" of its {count} voxels")
    return InputError("phase", value, f"a 6-connected cluster{detail} connecting the faces {name}min and {name}max")


def unmeshed_value(phases) -> int:
    """The smallest label 0..255 not in ``phases``: the value the voxels of non-spanning clusters get when
    an image mesh keeps only the clusters spanning its ``percolating_axis``."""
    return next(v for v in range(256) if v not in phases)


def phase_report(image: np.ndarray, voxel_size=1.0, names: dict[int, str] | None = None) -> dict:
    """Per phase: volume fraction, specific surface area (1/m) and percolating fraction along x, y, z.

    Keys are the phase names (``names[value]``, default ``phase<value>``); each phase's clusters are
    labelled once for the three axes.
    """
    from femiec.meshing.voxel import voxel_spacing

    image = np.asarray(image)
    d = voxel_spacing(voxel_size)
    face_area = np.array([d[1] * d[2], d[0] * d[2], d[0] * d[1]])
    volume = image.size * np.prod(d)
    report = {}
    for value in np.unique(image).tolist():
        labels, _ = face_clusters(image == value)
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0  # background (other phases)
        fractions = {}
        for ax, a in _AXES.items():
            spanning = np.intersect1d(np.take(labels, 0, axis=a), np.take(labels, -1, axis=a))
            fractions[ax] = float(sizes[spanning].sum() / sizes.sum())
        report[(names or {}).get(value, f"phase{value}")] = {
            "value": value,
            "volume_fraction": float(sizes.sum() / image.size),
            "specific_surface_area_per_m": float(unlike_face_counts(image, value) @ face_area / volume),
            "percolating_fraction": fractions,
        }
    return report
