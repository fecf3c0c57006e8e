"""Damaged package bytes for the readers' fuzz tests: every reader must answer them with a named
crossform error (or a package), never a traceback."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

from hypothesis import strategies as st

from crossform.errors import CrossformError


def damaged(data: st.DataObject, originals: Sequence[bytes], flips: int = 3, keep: float = 0.5) -> bytes:
    """One of ``originals`` with 1 to ``flips`` bytes overwritten, then cut to a length drawn
    between ``keep`` of it and all of it (``keep=1.0``: never cut)."""
    raw = bytearray(data.draw(st.sampled_from(list(originals))))
    for _ in range(data.draw(st.integers(1, flips))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    return bytes(raw[: data.draw(st.integers(int(len(raw) * keep), len(raw)))])


def read_or_refuse(loads: Callable, candidate: bytes, quiet: type[Warning] = Warning) -> None:
    """``loads(candidate)``, where only a CrossformError may escape; warnings of ``quiet`` are
    expected (a flipped version digit makes a newer minor)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", quiet)
            loads(candidate)
    except CrossformError:
        pass
