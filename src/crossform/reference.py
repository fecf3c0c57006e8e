"""The reference evaluator: the scoring rules of docs/SEMANTICS.md in numpy.

Every runtime and format is judged against this module, so it is written
for clarity first and vectorised over rows: loops run over encoders,
features, trees and tree depth, never over rows or nodes.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from . import ir
from .errors import shown
from .floats import float32_overflows
from .rows import Batch, read_batch
from .scores import Scores  # re-exported: crossform.reference.Scores as before

# ---------------------------------------------------------------- encoders


def _refuse_infinite(batch: Batch, name: str, x: np.ndarray) -> None:
    batch.refuse(np.isinf(x), lambda i: f"feature {name!r}: value {x[i]} is not finite")


def _fill_missing(enc: ir.FillMissing, batch: Batch, cols: dict) -> list:
    out = []
    for name, value in zip(enc.features, enc.values):
        col = cols[name]
        if isinstance(value, str):
            filled = col.copy()
            filled[np.equal(col, None)] = value
        else:
            _refuse_infinite(batch, name, col)
            filled = np.where(np.isnan(col), value, col)
        out.append(filled)
    return out


def _categorical_encoding(enc: ir.CategoricalEncoding, batch: Batch, cols: dict) -> list:
    out = []
    for name, categories, codes, missing_code in zip(enc.features, enc.categories, enc.codes, enc.missing_codes):
        col = cols[name]
        missing = np.equal(col, None)
        known = np.zeros(len(col), dtype=bool)
        code = np.full(len(col), np.nan)
        if categories and len(col):
            # categories are sorted by code point, as numpy orders unicode
            keys = np.where(missing, "", col).astype(str)
            table = np.array(categories, dtype=str)
            at = np.minimum(np.searchsorted(table, keys), len(categories) - 1)
            names = np.array(categories, dtype=object)
            known = ~missing & np.equal(names[at], col)
            code[known] = codes[at[known]]
        if missing_code is not None:
            code[missing] = missing_code
            unknown = ~known & ~missing
        else:
            unknown = ~known
        if enc.unknown_code is None:
            batch.refuse(
                unknown,
                lambda i, col=col, name=name: (
                    f"feature {name!r}: missing value, and the encoder knows no missing category"
                    if col[i] is None
                    else f"feature {name!r}: unknown category {shown(col[i])}"
                ),
            )
        else:
            code[unknown] = enc.unknown_code
        out.append(code)
    return out


def _scale(enc: ir.Scale, batch: Batch, cols: dict) -> list:
    out = []
    for name, offset, scale in zip(enc.features, enc.offset, enc.scale):
        col = cols[name]
        _refuse_infinite(batch, name, col)
        out.append((col - offset) / scale)
    return out


def _affine(enc: ir.Affine, batch: Batch, cols: dict) -> list:
    out = []
    for name, scale, offset in zip(enc.features, enc.scale, enc.offset):
        col = cols[name]
        _refuse_infinite(batch, name, col)
        out.append(col * scale + offset)
    return out


def _missing(batch: Batch, name: str, kind: str, col: np.ndarray) -> np.ndarray:
    """Where a column is missing (NaN, or None for a categorical one); a numeric +-inf is a row error."""
    if kind == ir.NUMERIC:
        _refuse_infinite(batch, name, col)
        return np.isnan(col)
    return np.equal(col, None)


def _missing_indicator(enc: ir.MissingIndicator, batch: Batch, cols: dict) -> list:
    return [
        _missing(batch, name, kind, cols[name]).astype(np.float64) for name, kind in zip(enc.features, enc.kinds_in)
    ]


def _refuse_missing(enc: ir.RefuseMissing, batch: Batch, cols: dict) -> list:
    for name, kind in zip(enc.features, enc.kinds_in):
        batch.refuse(
            _missing(batch, name, kind, cols[name]),
            lambda i, name=name: f"feature {name!r}: missing value, which it had none of at fit",
        )
    return [cols[name] for name in enc.features]


def _one_hot(enc: ir.OneHot, batch: Batch, cols: dict) -> list:
    out = []
    for name, categories, columns, width, missing_column, unknown in zip(
        enc.features, enc.categories, enc.columns, enc.widths, enc.missing_columns, enc.unknown
    ):
        col = cols[name]
        n = len(col)
        missing = np.equal(col, None)
        column = np.full(n, -1, dtype=np.int64)  # -1: no column set
        known = np.zeros(n, dtype=bool)
        if categories and n:
            keys = np.where(missing, "", col).astype(str)
            table = np.array(categories, dtype=str)
            at = np.minimum(np.searchsorted(table, keys), len(categories) - 1)
            known = ~missing & np.equal(np.array(categories, dtype=object)[at], col)
            column[known] = columns[at[known]]
        if missing_column is not None:
            column[missing] = missing_column
            unknown_rows = ~known & ~missing
        else:
            unknown_rows = ~known
        if unknown == "error":
            batch.refuse(
                unknown_rows,
                lambda i, col=col, name=name: (
                    f"feature {name!r}: missing value, and the encoder knows no missing category"
                    if col[i] is None
                    else f"feature {name!r}: unknown category {shown(col[i])}"
                ),
            )
        elif unknown != "zeros":
            column[unknown_rows] = unknown
        block = np.zeros((n, width))
        hit = np.flatnonzero(column >= 0)
        block[hit, column[hit]] = 1.0
        out.extend(block.T)
    return out


ENCODERS: dict[type, Callable[[Any, Batch, dict], list]] = {
    ir.FillMissing: _fill_missing,
    ir.CategoricalEncoding: _categorical_encoding,
    ir.Scale: _scale,
    ir.Affine: _affine,
    ir.MissingIndicator: _missing_indicator,
    ir.OneHot: _one_hot,
    ir.RefuseMissing: _refuse_missing,
}


# ---------------------------------------------------------------- model


@dataclass(frozen=True, eq=False)
class _Forest:
    """All trees of a model in one set of arrays, child links pointing into them."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    missing_left: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: int
    sets: dict  # forest node index -> sorted array of the set node's values
    set_nodes: np.ndarray  # the keys of sets, sorted


_FORESTS: weakref.WeakKeyDictionary[ir.TreeEnsemble, _Forest] = weakref.WeakKeyDictionary()


def _forest(model: ir.TreeEnsemble) -> _Forest:
    forest = _FORESTS.get(model)
    if forest is None:
        trees = model.trees
        sizes = np.array([t.n_nodes for t in trees], dtype=np.int64)
        roots = np.concatenate([[0], np.cumsum(sizes)[:-1]])

        def children(name: str) -> np.ndarray:
            return np.concatenate(
                [np.where(getattr(t, name) >= 0, getattr(t, name) + r, -1) for t, r in zip(trees, roots)]
            )

        sets = {
            int(r) + n: np.array(values)
            for t, r in zip(trees, roots)
            if t.sets
            for n, values in enumerate(t.sets)
            if values is not None
        }
        forest = _Forest(
            feature=np.concatenate([t.feature for t in trees]),
            threshold=np.concatenate([t.threshold for t in trees]),
            left=children("left"),
            right=children("right"),
            missing_left=np.concatenate([t.missing_left for t in trees]),
            value=np.concatenate([t.value for t in trees]),
            roots=roots,
            depth=max(t.depth for t in trees),
            sets=sets,
            set_nodes=np.array(sorted(sets), dtype=np.int64),
        )
        _FORESTS[model] = forest
    return forest


def forest_leaves(model: ir.TreeEnsemble, X: np.ndarray) -> np.ndarray:
    """The leaf each row reaches in each tree (rows x trees, node indices in the
    whole forest's arrays): left iff x <= threshold, NaN by missing_left. All
    trees walk at once, so the loop runs over depth only."""
    forest = _forest(model)
    n_trees = len(forest.roots)
    node = np.tile(forest.roots, len(X))  # row-major: row i, tree t at i * n_trees + t
    active = np.arange(node.size)
    for _ in range(forest.depth):
        at = node[active]
        split = forest.left[at] >= 0
        active, at = active[split], at[split]
        if active.size == 0:
            break
        x = X[active // n_trees, forest.feature[at]]
        go_left = (x <= forest.threshold[at]) | (np.isnan(x) & forest.missing_left[at])
        if forest.sets:
            # a set node: a value in the set goes away from the missing side, anything else to it
            for n in np.intersect1d(at, forest.set_nodes).tolist():
                here = at == n
                go_left[here] = np.isin(x[here], forest.sets[n]) != forest.missing_left[n]
        node[active] = np.where(go_left, forest.left[at], forest.right[at])
    return node.reshape(len(X), n_trees)


def _post_transform(
    kind: str, raw: np.ndarray, binary: bool = False, isolation: Union[tuple, None] = None
) -> np.ndarray:
    """``binary``: one raw score for two classes, so "logistic" gives ``[1 - p, p]``;
    ``isolation``: (denominator, offset) of post transform "isolation"."""
    if kind == "none":
        return raw
    if kind == "logistic":
        p = 1.0 / (1.0 + np.exp(-raw))
        return np.hstack([1.0 - p, p]) if binary else p
    if kind == "softmax":
        shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    if kind == "isolation":
        denominator, offset = isolation
        score = -(2.0 ** -(raw / denominator))
        return np.hstack([score, score - offset])
    raise ValueError(f"unknown post transform {kind!r}")  # pragma: no cover - the IR validates it


def _tree_ensemble(model: ir.TreeEnsemble, batch: Batch, cols: dict) -> tuple[np.ndarray, np.ndarray]:
    n = batch.n_rows
    X = _features(model, batch, cols)
    for j, name in enumerate(model.features):
        x = X[:, j]
        if model.missing == "error":
            batch.refuse(np.isnan(x), lambda i, name=name: f"feature {name!r}: missing value, which this model refuses")
        if model.infinite == "error":
            batch.refuse(np.isinf(x), lambda i, x=x, name=name: f"feature {name!r}: value {x[i]} is not finite")
            batch.refuse(
                float32_overflows(x),
                lambda i, x=x, name=name: (
                    f"feature {name!r}: value {x[i]!r} is too large for float32, which trees compare"
                ),
            )
    ok = np.flatnonzero(np.equal(batch.errors, None))
    Xok = X[ok]
    leaf_ids = np.full((n, len(model.trees)), -1, dtype=np.int64)
    if model.aggregation == "sum":
        acc = np.broadcast_to(model.base_value, (len(ok), model.n_outputs)).copy()
    else:
        acc = np.zeros((len(ok), model.n_outputs))
    forest = _forest(model)
    reached = forest_leaves(model, Xok)
    for t in range(len(model.trees)):
        acc = acc + forest.value[reached[:, t]]  # a left fold in tree order, as the JVM computes it
    leaf_ids[ok] = reached - forest.roots
    if model.aggregation == "average":
        acc = acc / len(model.trees)
    values = np.full((n, len(model.outputs)), np.nan)
    with np.errstate(over="ignore"):  # exp overflows to inf, and the logistic is then exactly 0.0
        values[ok] = _post_transform(model.post_transform, acc, model.is_binary, model.isolation)
    return values, leaf_ids


def _features(model: ir.Model, batch: Batch, cols: dict) -> np.ndarray:
    X = np.empty((batch.n_rows, len(model.features)))
    for j, name in enumerate(model.features):
        X[:, j] = cols[name]
    return X


def _linear(model: ir.LinearModel, batch: Batch, cols: dict) -> tuple[np.ndarray, None]:
    X = _features(model, batch, cols)
    for j, name in enumerate(model.features):
        x = X[:, j]
        batch.refuse(
            np.isnan(x), lambda i, name=name: f"feature {name!r}: missing value, which a linear model cannot score"
        )
        batch.refuse(np.isinf(x), lambda i, x=x, name=name: f"feature {name!r}: value {x[i]} is not finite")
    ok = np.flatnonzero(np.equal(batch.errors, None))
    Xok = X[ok]
    acc = np.zeros((len(ok), model.n_outputs))
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(len(model.features)):  # a left fold in feature order, then the intercept
            acc = acc + Xok[:, j : j + 1] * model.coefficients[:, j]
        acc = acc + model.intercepts
        values = np.full((batch.n_rows, len(model.outputs)), np.nan)
        values[ok] = _post_transform(model.post_transform, acc, model.is_binary)
    return values, None


MODELS: dict[type, Callable[[Any, Batch, dict], tuple]] = {
    ir.TreeEnsemble: _tree_ensemble,
    ir.LinearModel: _linear,
}


def score(package: ir.Package, data: Any) -> Scores:
    """Score ``data`` (a DataFrame, column mapping or row mappings) with ``package``."""
    batch = read_batch(package.inputs, data)
    cols = dict(batch.columns)
    for encoder in package.encoders:
        cols.update(zip(encoder.outputs, ENCODERS[type(encoder)](encoder, batch, cols)))
    values, leaf_ids = MODELS[type(package.model)](package.model, batch, cols)
    return Scores(values, package.outputs, batch.errors.tolist(), package.model.classes, leaf_ids)
