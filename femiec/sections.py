"""Building blocks of typed case sections (pydantic; no DOLFINx): the strict base class, positive numbers,
paths resolved beside the case file, tensor specs.

Every table of a case file is a :class:`Section` (unknown keys refused). Parameter sets that problems take
directly (e.g. :class:`femiec.materials.electrochemistry.Electrolyte`) are Sections too, so a case-file
table and the object a problem receives are one and the same class. This module is a leaf: any layer may
import it.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, ValidationError, ValidationInfo,
                      field_validator)

from femiec.errors import InputError


class Section(BaseModel):
    """Base of every case-file table: unknown keys are refused, and so is nan or inf in every float key
    (``allow_inf_nan=False``); numbers in untyped values (tensor specs, law tables) are checked by
    :func:`non_finite_number` at the case level."""

    model_config = ConfigDict(extra="forbid", frozen=False, arbitrary_types_allowed=True, allow_inf_nan=False)

    @classmethod
    def parse(cls, spec, key: str):
        """``spec`` as this section: None (the defaults), an instance, or a mapping of its keys. A refused
        value raises InputError named under ``key`` (e.g. ``model.electrolyte.diffusivity``)."""
        from femiec.config.loader import input_error_from

        if spec is None:
            return cls()
        if isinstance(spec, cls):
            return spec
        if not isinstance(spec, dict):
            raise InputError(key, spec, f"a table of {cls.__name__} keys")
        try:
            return cls.model_validate(spec)
        except ValidationError as exc:
            raise input_error_from(exc, prefix=key) from None


def non_finite_number(data: Any, key: str = "") -> tuple[str, float] | None:
    """(key, value) of the first nan or inf anywhere in ``data`` (nested tables and lists as read from
    TOML, keys written ``a.b[0].c``), or None when every number is finite."""
    if isinstance(data, float):
        return None if math.isfinite(data) else (key or "value", data)
    if isinstance(data, dict):
        items = ((f"{key}.{name}" if key else str(name), value) for name, value in data.items())
    elif isinstance(data, (list, tuple)):
        items = ((f"{key}[{i}]", value) for i, value in enumerate(data))
    else:
        return None
    for sub_key, value in items:
        found = non_finite_number(value, sub_key)
        if found is not None:
            return found
    return None


def is_number(value) -> bool:
    """A real number (Python or NumPy scalar), not a bool."""
    import numpy as np

    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


def interval(low: float, high: float, closed: str = "neither"):
    """A finite float type restricted to an interval: ``closed`` is "neither" (low, high), "left"
    [low, high), "right" (low, high] or "both" [low, high]; a refused value is reported as "a number in
    (low, high]" (the interval written out)."""
    left, right = closed in ("left", "both"), closed in ("right", "both")
    text = f"{'[' if left else '('}{low:g}, {high:g}{']' if right else ')'}"

    def check(value: float) -> float:
        if not ((low <= value if left else low < value) and (value <= high if right else value < high)):
            raise ValueError(f"a number in {text}")
        return value

    return Annotated[float, Field(allow_inf_nan=False), AfterValidator(check)]


def resolved_path(value: str, info: ValidationInfo) -> Path:
    """``value`` as an absolute path; a relative one is taken from the case file's folder."""
    base = Path((info.context or {}).get("base_dir", "."))
    path = Path(value).expanduser()
    return (path if path.is_absolute() else base / path).resolve()


def existing_file(value: str, info: ValidationInfo) -> str:
    """Field validator: an existing file, relative paths beside the case file."""
    path = resolved_path(value, info)
    if not path.is_file():
        raise ValueError(f"an existing file (not found: {path})")
    return str(path)


def existing_image(value: str, info: ValidationInfo) -> str:
    """Field validator: an existing image file or folder (of TIFF slices), relative paths beside the case
    file."""
    path = resolved_path(value, info)
    if not path.exists():
        raise ValueError(f"an existing file or folder of TIFF slices (not found: {path})")
    return str(path)


def label_remap(value: dict[str, int] | None) -> dict[str, int] | None:
    """Field validator of ``remap = { 300 = 1, 65535 = 0 }`` (image value -> label 0..255): every key an
    integer, and no value given twice (e.g. "300" and "0300")."""
    if value is None:
        return None
    seen = {}
    for key, label in value.items():
        try:
            number = int(key)
        except ValueError:
            raise InputError(f"value.{key}", key, "an integer image value as the key, e.g. 300 = 1") from None
        if number in seen:
            raise InputError(f"value.{key}", label, f"each image value once ({number} is also given as "
                                                    f"'{seen[number]}')")
        seen[number] = key
        if not 0 <= label <= 255:
            raise InputError(f"value.{key}", label, "a label in 0..255")
    return value


def remap_table(value: dict[str, int] | None) -> dict[int, int] | None:
    """``remap`` as checked by :func:`label_remap`, with integer keys (None when not given)."""
    return None if not value else {int(k): v for k, v in value.items()}


def numpy_dtype(name: str, key: str = "dtype"):
    """The NumPy dtype called ``name`` (e.g. "uint8", "<u2", "float32"); InputError naming ``key`` else."""
    import numpy as np

    try:
        return np.dtype(name)
    except TypeError:
        raise InputError(key, name, "a NumPy data type such as uint8, uint16, int32 or float32") from None


def dtype_name(value: str | None) -> str | None:
    """Field validator of a ``dtype`` key: ``value`` when NumPy knows it."""
    if value is not None:
        numpy_dtype(value, key="value")
    return value


def existing_directory(value: str, info: ValidationInfo) -> str:
    """Field validator: an existing directory, relative paths beside the case file."""
    path = resolved_path(value, info)
    if not path.is_dir():
        raise ValueError(f"an existing directory (not found: {path})")
    return str(path)


class Checkpoint(Section):
    """``[model.checkpoint]`` of a time-stepped model (femiec.io.checkpoint): a checkpoint every ``every``
    accepted steps (0: only at the end) into ``<out>/checkpoint``; ``restart``: a checkpoint directory to
    continue from (relative paths beside the case file)."""

    every: Annotated[int, Field(ge=0)] = 0
    restart: str | None = None

    _restart = field_validator("restart")(existing_directory)


def _tensor_spec(spec: Any) -> Any:
    """Accept a property given as a positive number, a 3x3 SPD matrix or a symmetry-class table."""
    from femiec.materials.tensors import tensor_from_spec

    if isinstance(spec, bool) or not isinstance(spec, (int, float, list, dict)):
        raise InputError("value", spec, "a positive number, a 3x3 symmetric positive-definite matrix or "
                         "a table {symmetry, values, orientation}")
    tensor_from_spec(spec, key="value")  # raises InputError: non-finite, non-symmetric, not SPD, ...
    return spec


TensorSpec = Annotated[Any, PlainValidator(_tensor_spec)]


def _property_spec(spec: Any) -> Any:
    """A tensor spec (:func:`_tensor_spec`) or a scalar temperature law ``{law = "arrhenius" | "vft", ...}``
    (:func:`femiec.materials.temperature_dependence.property_law`; parameters checked here)."""
    if isinstance(spec, dict) and "law" in spec:
        from femiec.materials.temperature_dependence import property_law

        property_law(spec, key="value")
        return spec
    return _tensor_spec(spec)


PropertySpec = Annotated[Any, PlainValidator(_property_spec)]


def _per_region(check):
    """A spec checked by ``check``, or a table cell-region name -> such a spec (values per subdomain; a
    table without the keys ``law`` and ``symmetry``). A refused region value is named ``value.<region>``."""
    def validate(spec: Any) -> Any:
        if not (isinstance(spec, dict) and not {"law", "symmetry"} & set(spec)):
            return check(spec)
        if not spec:
            raise InputError("value", spec, "a value, or a table cell region -> value with at least one region")
        for region, value in spec.items():
            try:
                check(value)
            except InputError as err:
                raise InputError(f"value.{region}{err.key[len('value'):]}", err.value, err.expected) from None
        return spec
    return validate


def _positive_number(spec: Any) -> Any:
    if isinstance(spec, bool) or not isinstance(spec, (int, float)) or not 0 < spec < float("inf"):
        raise InputError("value", spec, "a positive number")
    return spec


def _law_or(check):
    """A temperature law table ``{law = ...}`` (:func:`_property_spec`), or a spec checked by ``check``."""
    return lambda spec: _property_spec(spec) if isinstance(spec, dict) and "law" in spec else check(spec)


def _law_spec(spec: Any) -> Any:
    if not (isinstance(spec, dict) and "law" in spec):
        raise InputError("value", spec, 'a number or a law table {law = "arrhenius" | "vft", ...}')
    return _property_spec(spec)


#: a temperature law table ``{law = ...}`` (give it in a union with a number type)
LawSpec = Annotated[Any, PlainValidator(_law_spec)]
#: a tensor spec (:data:`TensorSpec`) or a table cell region -> tensor spec
RegionalTensorSpec = Annotated[Any, PlainValidator(_per_region(_tensor_spec))]
#: a temperature law table, a tensor spec, or a table cell region -> tensor spec
RegionalPropertySpec = Annotated[Any, PlainValidator(_law_or(_per_region(_tensor_spec)))]
#: a temperature law table, a positive number, or a table cell region -> positive number
RegionalScalarSpec = Annotated[Any, PlainValidator(_law_or(_per_region(_positive_number)))]


VoxelSize = Union[PositiveFloat, Annotated[list[PositiveFloat], Field(min_length=3, max_length=3)]]  # m
Crop = Annotated[list[Annotated[list[int], Field(min_length=2, max_length=2)]], Field(min_length=3, max_length=3)]


class ImageKeys(Section):
    """The keys of reading a segmented image, shared by image meshes and homogenization: ``dataset``
    (HDF5/NetCDF-4 files), ``remap`` (image value -> label 0..255, applied after reading), ``voxel_size``
    [m] (one edge or three), ``crop`` [[x0, x1], [y0, y1], [z0, z1]] voxels, ``shape`` and ``dtype`` (raw
    files only)."""

    dataset: str | None = None  # e.g. "/segmentation"
    remap: dict[str, int] | None = None  # { "300" = 1, "65535" = 0 }
    voxel_size: VoxelSize
    crop: Crop | None = None
    shape: list[int] | None = None
    dtype: str | None = None

    _dtype = field_validator("dtype")(dtype_name)
    _remap = field_validator("remap")(label_remap)
