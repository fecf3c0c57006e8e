"""Reading scoring input into typed columns, one per input field.

Accepted input: a pandas DataFrame, a mapping of column name to a sequence
of values, or a sequence of row mappings (field name -> value). A numeric
field holds numbers (bool counts as 0/1) or missing (None, NaN, pandas NA);
a categorical field holds strings or missing. A value of the wrong type is
a row error, decided here before any encoder runs. A field absent from a
row mapping is missing; a column absent from a DataFrame or a column
mapping is a batch error (InputError), since that is a schema mistake and
not a property of one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from . import ir
from .errors import InputError


@dataclass
class Batch:
    n_rows: int
    columns: dict  # name -> float64 array (numeric) or object array of str/None (categorical)
    errors: np.ndarray  # object array: None, or the first error message of the row

    def refuse(self, mask: np.ndarray, message) -> None:
        """Record ``message(i)`` as the error of each row in ``mask`` that has none yet."""
        fresh = np.flatnonzero(mask & np.equal(self.errors, None))
        for i in fresh:  # only rows in error, never every row
            self.errors[i] = message(i)


def _is_dataframe(obj: Any) -> bool:
    return type(obj).__module__.startswith("pandas") and hasattr(obj, "columns") and hasattr(obj, "iloc")


def read_batch(fields: Sequence[ir.Field], data: Any) -> Batch:
    if _is_dataframe(data):
        return _from_columns(fields, {name: data[name] for name in data.columns if isinstance(name, str)},
                             len(data), "DataFrame")
    if isinstance(data, Mapping):
        lengths = {len(v) for v in data.values() if not isinstance(v, (str, bytes))}
        if len(lengths) > 1:
            raise InputError(f"Columns of the input mapping must have one length. Got lengths {sorted(lengths)} instead.")
        return _from_columns(fields, data, lengths.pop() if lengths else 0, "mapping")
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        for i, row in enumerate(data):
            if not isinstance(row, Mapping):
                raise InputError(f"Rows must be mappings of field name to value. Got {type(row).__name__} at row {i} instead.")
        columns = {f.name: [row.get(f.name) for row in data] for f in fields}
        return _from_columns(fields, columns, len(data), "rows")
    raise InputError(
        "Input must be a pandas DataFrame, a mapping of column name to values, or a sequence of row "
        f"mappings. Got {type(data).__name__} instead."
    )


def _from_columns(fields: Sequence[ir.Field], columns: Mapping, n: int, what: str) -> Batch:
    missing = [f.name for f in fields if f.name not in columns]
    if missing:
        raise InputError(f"The input {what} must have a column for every package input. Missing: {missing}.")
    batch = Batch(n, {}, np.full(n, None, dtype=object))
    for f in fields:
        values = columns[f.name]
        if isinstance(values, (str, bytes)) or len(values) != n:
            raise InputError(f"Column {f.name!r} must hold {n} values. Got {_count(values)} instead.")
        reader = _numeric if f.kind == ir.NUMERIC else _categorical
        batch.columns[f.name] = reader(f.name, values, batch)
    return batch


def _count(values: Any) -> str:
    return "a string" if isinstance(values, (str, bytes)) else f"{len(values)} values"


def _as_object(values: Any) -> np.ndarray:
    to_numpy = getattr(values, "to_numpy", None)
    if to_numpy is not None:
        return to_numpy(dtype=object)
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _missing_mask(values: np.ndarray) -> np.ndarray:
    """None, float NaN, numpy NaN/NaT and pandas NA, on an object array."""
    def missing(v: Any) -> bool:
        if v is None:
            return True
        if isinstance(v, (float, np.floating)):
            return v != v
        return type(v).__name__ in ("NAType", "NaTType")

    return np.frompyfunc(missing, 1, 1)(values).astype(bool) if len(values) else np.zeros(0, bool)


def _numeric(name: str, values: Any, batch: Batch) -> np.ndarray:
    dtype = getattr(values, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "") in "fiub" and not hasattr(dtype, "na_value"):
        return np.asarray(values, dtype=np.float64)
    obj = _as_object(values)
    missing = _missing_mask(obj)
    is_number = np.frompyfunc(lambda v: isinstance(v, (int, float, np.number)), 1, 1)(obj).astype(bool) \
        if len(obj) else np.zeros(0, bool)
    bad = ~missing & ~is_number
    batch.refuse(bad, lambda i: f"feature {name!r}: expected a number or missing, got {_show(obj[i])}")
    out = np.full(len(obj), np.nan)
    good = is_number & ~missing
    try:
        out[good] = obj[good].astype(np.float64)
    except OverflowError:  # a Python int beyond float64; rare, so find it element by element
        too_big = np.zeros(len(obj), dtype=bool)
        too_big[good] = np.frompyfunc(_overflows, 1, 1)(obj[good]).astype(bool)
        batch.refuse(too_big, lambda i: f"feature {name!r}: value {_show(obj[i])} is beyond the float64 range")
        good &= ~too_big
        out[good] = obj[good].astype(np.float64)
    return out


def _overflows(value: Any) -> bool:
    try:
        float(value)
    except OverflowError:
        return True
    return False


def _categorical(name: str, values: Any, batch: Batch) -> np.ndarray:
    obj = _as_object(values)
    missing = _missing_mask(obj)
    is_text = np.frompyfunc(lambda v: isinstance(v, str), 1, 1)(obj).astype(bool) if len(obj) else np.zeros(0, bool)
    bad = ~missing & ~is_text
    batch.refuse(bad, lambda i: f"feature {name!r}: expected a string category or missing, got {_show(obj[i])}")
    out = obj.copy()
    out[missing | bad] = None
    return out


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"
