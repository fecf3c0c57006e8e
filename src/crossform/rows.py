"""Reading scoring input into typed columns, one per input field.

Accepted input: a pandas DataFrame, a mapping of column name to a sequence
of values, or a sequence of row mappings (field name -> value). A numeric
field holds real numbers (int, float, numpy reals, Decimal, Fraction; bool
counts as 0/1) or missing (None, NaN, pandas NA): complex numbers, bytes,
timedeltas and datetimes are not numbers; a categorical field holds strings
or missing. A value of the wrong type is
a row error, decided here before any encoder runs. A field absent from a
row mapping is missing; a column absent from a DataFrame or a column
mapping is a batch error (InputError), since that is a schema mistake and
not a property of one row.
"""

from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from . import ir
from .errors import InputError, shown


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
        counts = Counter(data.columns)
        for f in fields:
            if counts[f.name] > 1:
                raise InputError(
                    f"The input DataFrame must have one column per package input. Got "
                    f"{counts[f.name]} columns named {shown(f.name)} instead."
                )
        return _from_columns(fields, {f.name: data[f.name] for f in fields if f.name in counts}, len(data), "DataFrame")
    if isinstance(data, Mapping):
        for name, values in data.items():
            _check_column(name, values)
        lengths = {len(v) for v in data.values()}
        if len(lengths) > 1:
            raise InputError(
                f"Columns of the input mapping must have one length. Got lengths {sorted(lengths)} instead."
            )
        return _from_columns(fields, data, lengths.pop() if lengths else 0, "mapping")
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        for i, row in enumerate(data):
            if not isinstance(row, Mapping):
                raise InputError(
                    f"Rows must be mappings of field name to value. Got {type(row).__name__} at row {i} instead."
                )
        columns = {f.name: [row.get(f.name) for row in data] for f in fields}
        return _from_columns(fields, columns, len(data), "rows")
    raise InputError(
        "Input must be a pandas DataFrame, a mapping of column name to values, or a sequence of row "
        f"mappings. Got {type(data).__name__} instead."
    )


def _from_columns(fields: Sequence[ir.Field], columns: Mapping, n: int, what: str) -> Batch:
    missing = [f.name for f in fields if f.name not in columns]
    if missing:
        raise InputError(
            f"The input {what} must have a column for every package input. Missing: {shown(missing, 200)}."
        )
    batch = Batch(n, {}, np.full(n, None, dtype=object))
    for f in fields:
        values = columns[f.name]
        if len(values) != n:
            raise InputError(f"Column {shown(f.name)} must hold {n} values. Got {len(values)} values instead.")
        reader = _numeric if f.kind == ir.NUMERIC else _categorical
        batch.columns[f.name] = reader(f.name, values, batch)
    return batch


def _check_column(name: Any, values: Any) -> None:
    """A column is a sequence or a one-dimensional array of values: a scalar, a string
    or a generator (which has no length, and which reading would use up) is not."""
    if type(values) is np.ndarray and values.ndim == 1:  # the common case, decided without the checks below
        return
    if isinstance(values, (str, bytes)) or not (isinstance(values, Sequence) or hasattr(values, "__array__")):
        found = type(values).__name__
    elif getattr(values, "ndim", 1) != 1:
        found = f"{type(values).__name__} of {values.ndim} dimensions"
    else:
        return
    raise InputError(
        f"Column {shown(name)} of the input mapping: expected a column (a list, array or Series of "
        f"values). Got a {found} instead."
    )


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
    if type(values) is np.ndarray and values.dtype.kind in "fiub":  # a plain numeric array: no None, no NA
        return np.asarray(values, dtype=np.float64)
    dtype = getattr(values, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "") in "fiub" and not hasattr(dtype, "na_value"):
        return np.asarray(values, dtype=np.float64)
    obj = _as_object(values)
    missing = _missing_mask(obj)
    is_number = np.frompyfunc(_is_real, 1, 1)(obj).astype(bool) if len(obj) else np.zeros(0, bool)
    bad = ~missing & ~is_number
    batch.refuse(bad, lambda i: f"feature {name!r}: expected a number or missing, got {_show(obj[i])}")
    out = np.full(len(obj), np.nan)
    good = is_number & ~missing
    try:
        out[good] = obj[good].astype(np.float64)
    except (OverflowError, ValueError):  # an int beyond float64, a signalling Decimal NaN: rare, so find them
        unheld = np.zeros(len(obj), dtype=bool)
        unheld[good] = np.frompyfunc(_unheld, 1, 1)(obj[good]).astype(bool)
        batch.refuse(
            unheld,
            lambda i: f"feature {name!r}: value {_show(obj[i])} is beyond the float64 range (or a signalling NaN)",
        )
        good &= ~unheld
        out[good] = obj[good].astype(np.float64)
    return out


def _is_real(value: Any) -> bool:
    """Real numbers only. numpy registers timedelta64 as an integer; it is a duration, not a number."""
    return isinstance(value, (numbers.Real, Decimal)) and not isinstance(value, np.timedelta64)


def _unheld(value: Any) -> bool:
    try:
        float(value)
    except (OverflowError, ValueError):
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
    return f"{shown(value, 60)} ({type(value).__name__})"
