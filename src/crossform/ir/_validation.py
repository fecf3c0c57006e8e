"""The IR's validation helpers and its one error template.

Every IR type checks its fields with these, so a refusal always reads
"The 'name' field of Owner must be <expected>. Got <found> instead."
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import IRValidationError, shown

_INT32 = np.iinfo(np.int32)


def invalid(owner: str, name: str, expected: str, got: Any) -> IRValidationError:
    """The one error template of the IR: what was expected, what was found."""
    return IRValidationError(f"The {name!r} field of {owner} must be {expected}. Got {got} instead.")


def describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return shown(value)


def is_text(value: Any) -> bool:
    """A str that is valid Unicode (no lone surrogates), so it has a UTF-8 form."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def name_tuple(owner: str, name: str, value: Any, *, allow_empty: bool = False) -> tuple:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise invalid(owner, name, "a sequence of names", describe(value))
    items = tuple(value)
    if not items and not allow_empty:
        raise invalid(owner, name, "a non-empty sequence of names", "an empty sequence")
    for item in items:
        if not is_text(item) or not item:
            raise invalid(owner, name, "non-empty strings", describe(item))
    return items


def valid_text(owner: str, name: str, value: str) -> str:
    if not is_text(value):
        raise invalid(owner, name, "valid Unicode text", describe(value))
    return value


def frozen_array(owner: str, name: str, value: Any, dtype: type, ndim: int) -> np.ndarray:
    """A read-only copy of ``value`` as ``dtype``, refusing lossy conversions."""
    arr = np.asarray(value)
    if arr.ndim != ndim:
        raise invalid(owner, name, f"a {ndim}-dimensional array", describe(arr))
    want = np.dtype(dtype)
    kinds = {"f": "fiu", "i": "iu", "b": "b"}[want.kind]
    if arr.size and arr.dtype.kind not in kinds:
        raise invalid(owner, name, f"an array of {want.name} values", describe(arr))
    if want.kind == "i" and arr.size and (arr.min() < _INT32.min or arr.max() > _INT32.max):
        raise invalid(owner, name, "int32 values", f"values up to {arr.max()}")
    out = np.array(arr, dtype=want, copy=True)
    out.setflags(write=False)
    return out


def check_finite(owner: str, name: str, arr: np.ndarray) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        pos = np.argwhere(bad)[0]
        raise invalid(owner, name, "finite numbers", f"{arr[tuple(pos)]} at index {tuple(int(p) for p in pos)}")


def valid_number(owner: str, name: str, value: Any, *, allow_nan: bool) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise invalid(owner, name, "a number", describe(value))
    number = float(value)
    if np.isinf(number) or (np.isnan(number) and not allow_nan):
        raise invalid(owner, name, "a finite number" + (" or NaN" if allow_nan else ""), number)
    return number
