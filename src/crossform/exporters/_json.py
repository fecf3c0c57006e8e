"""Strict JSON for package files: parse untrusted bytes, validate against the
schemas in ``crossform.schemas``, and write canonical text.

Strict means: UTF-8 only, no NaN/Infinity literals, no numbers beyond
float64, no duplicate object keys. Every failure is a named PackageError
with the file's path and the reason.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any

from ..errors import LimitExceededError, MalformedPackageError, SchemaError

SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class _Refused(ValueError):
    pass


def _pairs(pairs: list) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"the key {key!r} appears twice in one object")
            seen.add(key)
    return out


def _constant(name: str) -> Any:
    raise _Refused(f"the literal {name} is not JSON (write the string \"{name}\" where a format allows it)")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Refused(f"the number {text[:40]} is beyond the float64 range")
    return value


def parse(data: bytes, path: str) -> Any:
    """Parse untrusted JSON bytes; named errors only."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPackageError(path, f"expected UTF-8 JSON, found byte 0x{data[exc.start]:02x} at offset {exc.start}") from None
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_float=_float)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        # An error near the end of a document that never closes is almost always truncation.
        stripped = text.rstrip()
        truncated = exc.pos >= len(stripped) - 40 and not stripped.endswith(("}", "]"))
        hint = " (the file ends early: truncated?)" if truncated else ""
        raise MalformedPackageError(path, f"expected JSON, {exc.msg} at {where}{hint}") from None
    except RecursionError:
        raise LimitExceededError(path, "JSON nested too deeply to parse") from None
    except ValueError as exc:  # _Refused, or an integer literal with too many digits
        raise MalformedPackageError(path, f"expected strict JSON, but {exc}") from None


def dumps(document: Any, *, compact: bool = False) -> bytes:
    text = json.dumps(
        document,
        ensure_ascii=False,
        allow_nan=False,
        separators=(",", ":") if compact else (",", ": "),
        indent=None if compact else 2,
    )
    return (text + "\n").encode("utf-8")


def encode_float(value: float) -> Any:
    """A float as JSON: a number, or "NaN" / "Infinity" / "-Infinity"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def decode_float(value: Any) -> float:
    return SPECIAL_FLOATS[value] if isinstance(value, str) else float(value)


# ---------------------------------------------------------------- schemas


@lru_cache(maxsize=None)
def schema_text(name: str) -> dict:
    return json.loads(resources.files("crossform.schemas").joinpath(name).read_text(encoding="utf-8"))


# Tree arrays hold millions of numbers; checking them one by one through
# python-jsonschema takes minutes. For an "items" subschema that only says
# {"type": ..., "minimum": ...}, these checks give the same verdict in C-speed
# passes over the list; anything else, and any failure, goes through the
# standard implementation, so error messages are unchanged.
_FAST_TYPES = {"integer": {int}, "number": {int, float}, "boolean": {bool}, "string": {str}}


def _fast_items_ok(items: Any, instance: list) -> bool:
    if not isinstance(items, dict) or not set(items) <= {"type", "minimum"}:
        return False
    kind = items.get("type")
    allowed = _FAST_TYPES.get(kind) if isinstance(kind, str) else None
    if allowed is None or not set(map(type, instance)) <= allowed:
        return False
    minimum = items.get("minimum")
    return minimum is None or not instance or min(instance) >= minimum


@lru_cache(maxsize=None)
def _validator(name: str):
    from jsonschema import Draft202012Validator, validators
    from referencing import Registry, Resource

    standard_items = Draft202012Validator.VALIDATORS["items"]

    def items(validator, subschema, instance, schema):
        if (validator.is_type(instance, "array") and "prefixItems" not in schema
                and _fast_items_ok(subschema, instance)):
            return
        yield from standard_items(validator, subschema, instance, schema)

    Validator = validators.extend(Draft202012Validator, {"items": items})
    registry = Registry()
    for entry in resources.files("crossform.schemas").iterdir():
        if entry.name.endswith(".schema.json"):
            contents = schema_text(entry.name)
            registry = registry.with_resource(contents["$id"], Resource.from_contents(contents))
    schema = schema_text(name)
    Draft202012Validator.check_schema(schema)
    return Validator(schema, registry=registry)


def validate(document: Any, schema: str, path: str) -> None:
    """Raise SchemaError naming the first violation of ``schema`` in ``document``."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator(schema).iter_errors(document))
    if error is not None:
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        raise SchemaError(path, f"violates {schema}: {message} (at {error.json_path})")
