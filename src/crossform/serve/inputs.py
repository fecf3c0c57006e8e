"""A predict request's body: read within the limits, parsed once, turned into the columns a scorer reads.

Three shapes are accepted (docs/serving.md): one row as an object (``{"size": 3.5, "colour": "red"}``),
``{"rows": [{...}, ...]}``, and ``{"columns": {"size": [...], "colour": [...]}}``. An object whose
only key is ``rows`` or ``columns`` is that shape; any other object is one row. Whatever is wrong
with the request as a whole is a :class:`RequestRefusedError` carrying the HTTP status; what is
wrong with one value (a string for a number, an unknown category) is left to the scorer, which
makes it that row's error, as ``crossform.score`` does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import ir
from ..errors import RequestRefusedError, shown

BAD_REQUEST, NOT_FOUND, TOO_LARGE = 400, 404, 413
_JSON_NUMBERS = {float, int}  # the types json.loads gives numbers (bool is neither)


@dataclass(frozen=True)
class Limits:
    """What one request may take. Every bound is configurable (``crossform serve --max-...``)."""

    max_body_bytes: int = 1 << 20  # 1 MiB: about 5,000 rows of 20 numbers as JSON
    max_rows: int = 10_000  # the scorers' chunk size: one request never scores in more than one chunk
    request_timeout: float = 30.0  # seconds from the first byte of the body to the answer

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_rows"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"{name} must be a positive integer. Got {value!r} instead.")
        if not (isinstance(self.request_timeout, (int, float)) and self.request_timeout > 0):
            raise ValueError(f"request_timeout must be a positive number of seconds. Got {self.request_timeout!r}.")


@dataclass(frozen=True)
class Batch:
    """A parsed predict body: ``rows`` (a list of objects) or ``columns`` (name -> list), one of the two."""

    n_rows: int
    rows: list | None = None
    columns: dict | None = None


def refuse(status: int, where: str, reason: str) -> RequestRefusedError:
    return RequestRefusedError(status, where, reason)


def check_length(declared: str | None, limits: Limits) -> None:
    """Refuse a body whose Content-Length is over the limit before reading a byte of it."""
    if declared is None:
        return
    try:
        size = int(declared)
    except ValueError:
        raise refuse(BAD_REQUEST, "Content-Length", f"expected a number of bytes, found {shown(declared)}") from None
    if size > limits.max_body_bytes:
        raise refuse(TOO_LARGE, "body", f"expected at most {limits.max_body_bytes} bytes, found {size}")


def parse_body(body: bytes, limits: Limits) -> Batch:
    """The body as a Batch: JSON parsed once, the shape and the row count checked."""
    try:
        document = json.loads(body)
    except UnicodeDecodeError as exc:
        raise refuse(BAD_REQUEST, "body", f"expected UTF-8 JSON, found undecodable bytes ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise refuse(BAD_REQUEST, "body", f"expected JSON, found an error at line {exc.lineno}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:  # a number of more digits than Python converts; nesting too deep
        raise refuse(BAD_REQUEST, "body", f"expected JSON within Python's limits, found {shown(str(exc))}") from None
    if not isinstance(document, dict):
        raise refuse(
            BAD_REQUEST,
            "body",
            'expected a JSON object: one row, {"rows": [...]} or {"columns": {...}}; found a '
            f"{_json_type(document)}",
        )
    if set(document) == {"rows"}:
        rows = document["rows"]
        if not isinstance(rows, list):
            raise refuse(BAD_REQUEST, "rows", f"expected a list of row objects, found a {_json_type(rows)}")
        _check_rows(len(rows), limits)
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise refuse(BAD_REQUEST, f"rows[{i}]", f"expected a row object, found a {_json_type(row)}")
        return Batch(len(rows), rows=rows)
    if set(document) == {"columns"}:
        columns = document["columns"]
        if not isinstance(columns, dict):
            raise refuse(BAD_REQUEST, "columns", f"expected an object of name: list, found a {_json_type(columns)}")
        lengths = set()
        for name, values in columns.items():
            if not isinstance(values, list):
                raise refuse(
                    BAD_REQUEST, f"columns[{name!r}]", f"expected a list of values, found a {_json_type(values)}"
                )
            lengths.add(len(values))
        if len(lengths) > 1:
            raise refuse(BAD_REQUEST, "columns", f"expected lists of one length, found lengths {sorted(lengths)}")
        n_rows = lengths.pop() if lengths else 0
        _check_rows(n_rows, limits)
        return Batch(n_rows, columns=columns)
    return Batch(1, rows=[document])


def columns_for(batch: Batch, inputs: Sequence[ir.Field]) -> dict:
    """The batch as {input name: list of values}, one column per input of the model. An input a
    row or the columns leave out is refused (send null for a missing value); other names are ignored."""
    if batch.columns is not None:
        absent = [f.name for f in inputs if f.name not in batch.columns]
        if absent:
            raise refuse(
                BAD_REQUEST, "columns", f"expected a column for every input of the model; missing {_names(absent)}"
            )
        return {f.name: _typed(f, batch.columns[f.name]) for f in inputs}
    columns = {}
    for f in inputs:
        name = f.name
        try:
            columns[name] = _typed(f, [row[name] for row in batch.rows])
        except KeyError:
            where = next(i for i, row in enumerate(batch.rows) if name not in row)
            absent = [g.name for g in inputs if g.name not in batch.rows[where]]
            raise refuse(
                BAD_REQUEST,
                f"rows[{where}]",
                f"expected a value (null when missing) for every input of the model; missing {_names(absent)}",
            ) from None
    return columns


def _typed(f: ir.Field, values: list):
    """A numeric column of JSON numbers only as a float64 array, which the scorer takes as it is;
    anything else (null, a string, a boolean) as the list, for the scorer's reader to judge value
    by value. The same values either way: a JSON number is a real number, and float64 is what
    the reader makes of one (an integer beyond float64's range stays in the list, refused there)."""
    if f.kind != ir.NUMERIC or not set(map(type, values)) <= _JSON_NUMBERS:
        return values
    try:
        return np.array(values, dtype=np.float64)
    except OverflowError:
        return values


def _check_rows(n_rows: int, limits: Limits) -> None:
    if n_rows > limits.max_rows:
        raise refuse(TOO_LARGE, "rows", f"expected at most {limits.max_rows} rows per request, found {n_rows}")


def _names(names: list) -> str:
    return ", ".join(shown(n, 60) for n in names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "list", dict: "object"}.get(type(value), type(value).__name__)
