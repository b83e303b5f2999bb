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
    "finite_number": "a finite number",
}


def _location(loc: tuple) -> str:
    from femiec.config.schema import UNION_TAGS

    parts: list[str] = []
    for item in loc:
        if parts and parts[-1] in UNION_TAGS and item in UNION_TAGS[parts[-1]]:
            continue  # the discriminator value pydantic inserts, e.g. mesh.box.cells -> mesh.cells
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        elif "[" in str(item) or str(item).startswith(("function-", "tagged-union")):
            continue  # pydantic's internal union branch labels
        else:
            parts.append(str(item))
    return ".".join(parts) or "case"


def input_error_from(exc: ValidationError, prefix: str = "") -> InputError:
    """The first error of a pydantic ValidationError as an InputError (key, value, expected)."""
    err = exc.errors(include_url=False)[0]
    key = _location(err["loc"])
    if prefix:
        key = f"{prefix}.{key}" if key != "case" else prefix
    ctx = err.get("ctx") or {}
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
        return InputError(f"{key}.kind", "<missing>", "a 'kind' key")
    if err["type"] == "value_error" and isinstance(ctx.get("error"), ValueError):
        expected = str(ctx["error"])
    elif err["type"] in _EXPECTED:
        expected = _EXPECTED[err["type"]]
    else:
        expected = err["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
    value = err.get("input", "<missing>") if err["type"] != "missing" else "<missing>"
    return InputError(key, value, expected)


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
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InputError("case file", str(path), f"valid TOML ({exc})") from None
    return parse_case(data, base_dir=path.parent)
