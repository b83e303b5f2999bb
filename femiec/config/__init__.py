"""Case files: TOML read and validated into a :class:`~femiec.config.schema.Case` before any solve.

``load_case(path)`` raises :class:`femiec.errors.InputError` with one line naming the key, the value and
what was expected for: unknown keys, wrong types, non-positive coefficients, non-symmetric or
non-positive-definite tensors, missing mesh files. Tags are checked against the mesh by
``femiec.runner.check_tags`` once the mesh is built (still before any solve).
"""
from femiec.config.loader import load_case, parse_case
from femiec.config.schema import Case

__all__ = ["Case", "load_case", "parse_case"]
