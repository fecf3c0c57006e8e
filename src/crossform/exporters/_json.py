"""Strict JSON for package files: parse untrusted bytes, validate against the
schemas in ``crossform.schemas``, and write canonical text.

Strict means: UTF-8 only, no NaN/Infinity literals, no numbers beyond
float64, no duplicate object keys. Every failure is a named PackageError
with the file's path and the reason.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from typing import Any

from ..errors import LimitExceededError, MalformedPackageError, SchemaError, cut

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
    raise _Refused(f'the literal {name} is not JSON (write the string "{name}" where a format allows it)')


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
        raise MalformedPackageError(
            path, f"expected UTF-8 JSON, found byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from None
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


@cache
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


# Conformance rows and checks are arrays of small typed arrays ("a number,
# a string or null"; "null or an array of numbers"): too varied for the pass
# above, still millions of descents through python-jsonschema. A subschema
# built only from type, minimum, items and oneOf compiles to one Python
# predicate; when it accepts every item the verdict is the same, and any
# failure again goes through the standard implementation for its message.
_TYPE_TESTS = {
    "integer": lambda v: type(v) is int or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) is int or type(v) is float,
    "string": lambda v: type(v) is str,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "array": lambda v: type(v) is list,
    "object": lambda v: type(v) is dict,
}
_SIMPLE_KEYS = {"type", "minimum", "items", "oneOf", "description"}
_PREDICATES: dict = {}


def _predicate(schema: Any):
    """A function item -> bool equivalent to ``schema``, or None if it is not simple."""
    key = id(schema)
    if key not in _PREDICATES:
        _PREDICATES[key] = (schema, _compile(schema))  # holding schema keeps its id unique
    return _PREDICATES[key][1]


def _compile(schema: Any):
    if not isinstance(schema, dict) or not set(schema) <= _SIMPLE_KEYS:
        return None
    tests = []
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not all(isinstance(k, str) and k in _TYPE_TESTS for k in kinds):
            return None
        kind_tests = [_TYPE_TESTS[k] for k in kinds]
        tests.append(lambda v: any(t(v) for t in kind_tests))
    if "minimum" in schema:
        low = schema["minimum"]
        if type(low) not in (int, float):
            return None
        tests.append(lambda v: not (type(v) is int or type(v) is float) or v >= low)
    if "items" in schema:
        each = _compile(schema["items"])
        if each is None:
            return None
        tests.append(lambda v: type(v) is not list or all(each(x) for x in v))
    if "oneOf" in schema:
        options = [_compile(s) for s in schema["oneOf"]] if isinstance(schema["oneOf"], list) else [None]
        if any(o is None for o in options):
            return None
        tests.append(lambda v: sum(1 for o in options if o(v)) == 1)
    return lambda v: all(t(v) for t in tests)


@cache
def _validator(name: str):
    from jsonschema import Draft202012Validator, validators
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    standard_items = Draft202012Validator.VALIDATORS["items"]

    def items(validator, subschema, instance, schema):
        if validator.is_type(instance, "array") and "prefixItems" not in schema:
            if _fast_items_ok(subschema, instance):
                return
            each = _predicate(subschema)
            if each is not None and all(each(x) for x in instance):
                return
        yield from standard_items(validator, subschema, instance, schema)

    Validator = validators.extend(Draft202012Validator, {"items": items})
    registry = Registry()
    for entry in resources.files("crossform.schemas").iterdir():
        if entry.name.endswith(".schema.json"):
            contents = schema_text(entry.name)
            # Without "$schema", a $ref into this resource keeps our extended
            # validator: jsonschema picks the class a subschema's "$schema" names.
            contents = {k: v for k, v in contents.items() if k != "$schema"}
            registry = registry.with_resource(contents["$id"], DRAFT202012.create_resource(contents))
    schema = schema_text(name)
    Draft202012Validator.check_schema(schema)
    return Validator(schema, registry=registry)


def validate(document: Any, schema: str, path: str) -> None:
    """Raise SchemaError naming the first violation of ``schema`` in ``document``."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator(schema).iter_errors(document))
    if error is not None:
        raise SchemaError(path, f"violates {schema}: {cut(error.message, 200)} (at {cut(error.json_path)})")
