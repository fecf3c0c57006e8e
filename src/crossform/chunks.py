"""Scoring a large batch in bounded chunks, with the result of one batch.

The reference evaluator walks every tree for every row at once, holding
about 70 bytes per row per tree at its peak, and the other runtimes hold
their own per-row state: a million rows through a 100-tree forest would need
gigabytes. So a batch longer than ``CHUNK_ROWS`` is read once into typed
columns (``rows.read_batch``: the input checks and row errors of the whole
batch, with their row numbers) and then scored ``CHUNK_ROWS`` rows at a time
as plain column mappings, which every runtime accepts. Error messages name
no row positions, so chunks concatenate to exactly what one batch gives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import ir
from .rows import _is_dataframe, read_batch
from .scores import Scores

# 10,000 rows through the 100-tree bench forest peak near 70 MB in the reference
# evaluator; per-chunk overhead is a few Python calls per tree, under 1% there.
CHUNK_ROWS = 10_000


def row_count(data: Any) -> int | None:
    """The number of rows of ``data`` when it is cheap to tell, else None."""
    if _is_dataframe(data):
        return len(data)
    if isinstance(data, Mapping):
        lengths = set()
        for values in data.values():
            if type(values) is np.ndarray and values.ndim == 1:  # the common case, without the checks below
                lengths.add(len(values))
                continue
            if isinstance(values, (str, bytes)):
                continue
            try:
                lengths.add(len(values))
            except TypeError:  # a scalar (a 0-d array has __len__ too) where a column belongs: the reader names it
                return None
        return lengths.pop() if len(lengths) == 1 else None
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return len(data)
    return None


def chunked(
    fields: Sequence[ir.Field], score: Callable[[Any], Scores], chunk_rows: int | None = CHUNK_ROWS
) -> Callable[[Any], Scores]:
    """``score`` applied ``chunk_rows`` rows at a time (None: all at once)."""
    if chunk_rows is not None and (not isinstance(chunk_rows, int) or chunk_rows < 1):
        raise ValueError(f"chunk_rows must be a positive integer or None. Got {chunk_rows!r} instead.")

    def score_in_chunks(data: Any) -> Scores:
        n = row_count(data)
        if chunk_rows is None or n is None or n <= chunk_rows:
            return score(data)  # unknown length: the runtime's own reader says what is wrong
        batch = read_batch(fields, data)
        parts = []
        for start in range(0, batch.n_rows, chunk_rows):
            stop = min(start + chunk_rows, batch.n_rows)
            columns = {name: column[start:stop] for name, column in batch.columns.items()}
            parts.append(with_row_errors(score(columns), batch.errors[start:stop]))
        return concatenate(parts)

    return score_in_chunks


def with_row_errors(scores: Scores, errors: Sequence) -> Scores:
    """``scores`` with the rows that already have an error in ``errors`` (None
    or a message per row, found before scoring) in error: that error first."""
    errors = np.asarray(errors, dtype=object)
    refused = np.flatnonzero(~np.equal(errors, None))
    if refused.size == 0:
        return scores
    merged = list(scores.errors)
    values = scores.values.copy()
    leaves = None if scores.leaves is None else scores.leaves.copy()
    for i in refused.tolist():
        merged[i] = errors[i]
    values[refused] = np.nan
    if leaves is not None:
        leaves[refused] = -1
    return Scores(values, scores.outputs, merged, scores.classes, leaves)


def concatenate(parts: Sequence[Scores]) -> Scores:
    first = parts[0]
    leaves = None if first.leaves is None else np.concatenate([p.leaves for p in parts])
    return Scores(
        np.concatenate([p.values for p in parts]),
        first.outputs,
        [e for p in parts for e in p.errors],
        first.classes,
        leaves,
    )
