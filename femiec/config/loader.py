"""Read a TOML case file and turn pydantic's validation errors into one-line InputErrors."""
from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from femiec.config.schema import Case
from femiec.errors import InputError

# pydantic error type -> what the user should have given
_EXPECTED = {
    "extra_forbidden": "no such key; check the spelling against docs/case_files.md",
    "missing": "this key to be given",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a table",
    "model_attributes_type": "a table",
    "finite_number": "a finite number",
}
# pydantic bound error type -> (its context entry, comparison)
_BOUNDS = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="), "less_than": ("lt", "<"),
           "less_than_equal": ("le", "<=")}


def _is_form_label(item) -> bool:
    """True for pydantic's label of one allowed form of a union-typed key in an error location (e.g.
    ``constrained-float``, ``list[constrained-float]``, ``str``): a type name, not a case-file key."""
    return isinstance(item, str) and ("[" in item or item in {"str", "int", "float", "bool"}
                                       or item.startswith(("function-", "tagged-union", "constrained-")))


def _location(loc: tuple) -> str:
    from femiec.config.schema import UNION_TAGS

    parts: list[str] = []
    tagged = 0  # len(parts) when a discriminator value was left out (one per table)
    for item in loc:
        if parts and tagged != len(parts) and item in UNION_TAGS.get(parts[-1].split("[")[0], ()):
            tagged = len(parts)
            continue  # the discriminator value pydantic inserts, e.g. mesh.box.cells -> mesh.cells
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        elif not _is_form_label(item):
            parts.append(str(item))
    return ".".join(parts) or "case"


def _reported(errors: list[dict]) -> tuple[dict, str | None]:
    """The error to report, and what was expected when the value fits none of a union's forms.

    A key with several allowed forms (a number or a list; a list or a table) gets one pydantic error per
    form. The reported one is that of the form the value was meant as, the first that got past its type
    check (``voxel_size[1]: -1e-06`` of the list form, not "expected a number" of the scalar form); when
    every form refuses the value's type, the expectation lists the forms ("a number or a list").
    """
    first = errors[0]
    at = next((i for i, item in enumerate(first["loc"]) if _is_form_label(item)), None)
    if at is None:
        return first, None
    forms = [e for e in errors if e["loc"][:at] == first["loc"][:at] and len(e["loc"]) > at
             and _is_form_label(e["loc"][at])]
    for err in forms:
        if len(err["loc"]) > at + 1 or not err["type"].endswith(("_type", "_parsing")):
            return err, None
    expected = list(dict.fromkeys(_expected(err) for err in forms))
    return first, ", ".join(expected[:-1]) + " or " + expected[-1] if len(expected) > 1 else expected[0]


def _expected(err: dict) -> str:
    """What the user should have given, in words, for one pydantic error."""
    ctx = err.get("ctx") or {}
    if err["type"] == "greater_than" and ctx.get("gt") == 0:
        return "a positive number"
    if err["type"] in _BOUNDS:
        name, sign = _BOUNDS[err["type"]]
        return f"a number {sign} {ctx[name]}"
    if err["type"] == "too_short":
        return f"a list of at least {ctx['min_length']} item{'s' if ctx['min_length'] != 1 else ''}"
    if err["type"] == "too_long":
        return f"a list of at most {ctx['max_length']} item{'s' if ctx['max_length'] != 1 else ''}"
    if err["type"] == "value_error" and isinstance(ctx.get("error"), ValueError):
        return str(ctx["error"])
    if err["type"] in _EXPECTED:
        return _EXPECTED[err["type"]]
    return err["msg"].removeprefix("Value error, ").removeprefix("Input should be ")


def input_error_from(exc: ValidationError, prefix: str = "") -> InputError:
    """The first error of a pydantic ValidationError as an InputError (key, value, expected)."""
    err, forms = _reported(exc.errors(include_url=False))
    key = _location(err["loc"])
    if prefix:
        key = f"{prefix}.{key}" if key != "case" else prefix
    ctx = err.get("ctx") or {}
    if forms is not None:
        return InputError(key, err["input"], forms)
    if isinstance(ctx.get("error"), InputError):
        inner = ctx["error"]
        # validators name their key relative to the checked value as "value" or "value.<sub-key>"
        if inner.key == "value" or inner.key.startswith("value."):
            return InputError(key + inner.key[len("value"):], inner.value, inner.expected)
        return InputError(inner.key, inner.value, inner.expected)
    if err["type"] == "union_tag_invalid":
        tags = ctx.get("expected_tags", "")
        return InputError(f"{key}.{ctx.get('discriminator', 'kind').strip(chr(39))}", ctx.get("tag"),
                          f"one of {tags}")
    if err["type"] == "union_tag_not_found":
        tag = str(ctx.get("discriminator", "kind")).strip(chr(39))
        return InputError(f"{key}.{tag}", "<missing>", f"a '{tag}' key")
    value = err.get("input", "<missing>") if err["type"] != "missing" else "<missing>"
    return InputError(key, value, _expected(err))


def parse_case(data: dict, base_dir: Path | str = ".") -> Case:
    """Validate a case given as a dict (as read from TOML). Relative file paths resolve in ``base_dir``."""
    try:
        return Case.model_validate(data, context={"base_dir": Path(base_dir)})
    except ValidationError as exc:
        raise input_error_from(exc) from None


def load_case(path: Path | str) -> Case:
    """Read and validate the TOML case file at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise InputError("case file", str(path), "an existing TOML file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError("case file", str(path), "a UTF-8 text file (TOML); this file is binary") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError("case file", str(path), f"valid TOML ({exc})") from None
    return parse_case(data, base_dir=path.parent)
