"""The reference evaluator: the scoring rules of docs/SEMANTICS.md in numpy.

Every runtime and format is judged against this module, so it is written
for clarity first and vectorised over rows: loops run over encoders,
features, trees and tree depth, never over rows or nodes. What each encoder
computes and which values an encoder or the model refuses are
crossform.rules, which the probe rows and the PMML writer use too; this
module applies them to a batch and adds the trees and the linear models.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Union

import numpy as np

from . import ir, leafwalk, rules
from .floats import expf
from .rows import Batch, read_batch
from .scores import Scores  # re-exported: crossform.evaluator.Scores is crossform.Scores

# ---------------------------------------------------------------- encoders


def _refuse(batch: Batch, name: str, refused: list) -> None:
    for rows, why in refused:
        batch.refuse(rows, lambda i, why=why: f"feature {name!r}: {why(i)}")


def _encode(encoder: ir.Encoder, batch: Batch, cols: dict) -> list:
    """The encoder's output columns from ``cols``, refusing rows in ``batch`` (crossform.rules)."""
    out = []
    for j, name in enumerate(encoder.features):
        outputs, refused = rules.apply(encoder, j, cols[name])
        _refuse(batch, name, refused)
        out.extend(outputs)
    if type(encoder) in rules.COMBINED:  # outputs read several features (a product)
        return rules.combine(encoder, [cols[name] for name in encoder.features])
    return out


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
    n_features: int

    @cached_property
    def compact(self) -> leafwalk.CompactForest:
        """The layout of the compiled walk, made (and its indices checked) once per forest."""
        return leafwalk.compact(
            self.feature,
            self.left,
            self.right,
            self.threshold,
            self.missing_left,
            self.roots,
            self.sets,
            self.n_features,
        )


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
            n_features=len(model.features),
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


def compiled_leaves(model: ir.TreeEnsemble, X: np.ndarray) -> np.ndarray:
    """forest_leaves' leaves from the compiled walk (crossform.leafwalk): the same rule in C."""
    return leafwalk.walk(_forest(model).compact, X)


# How the evaluator finds the leaves: "compiled" (crossform.leafwalk, the default when it was
# built) or "numpy" (forest_leaves, the written rule). The same leaves either way; the
# environment variable CROSSFORM_LEAF_WALK chooses at import, tests and benchmarks set it here.
LEAF_WALKS: dict[str, Callable[[ir.TreeEnsemble, np.ndarray], np.ndarray]] = {
    "compiled": compiled_leaves,
    "numpy": forest_leaves,
}
LEAF_WALK = os.environ.get("CROSSFORM_LEAF_WALK") or ("compiled" if leafwalk.AVAILABLE else "numpy")


def _leaf_walk() -> str:
    if LEAF_WALK not in LEAF_WALKS:
        raise ValueError(f"crossform.evaluator.LEAF_WALK must be one of {sorted(LEAF_WALKS)}; got {LEAF_WALK!r}")
    return LEAF_WALK


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
    if kind == "exp":
        return np.exp(raw)
    if kind == "softmax":
        shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    if kind == "isolation":
        denominator, offset = isolation
        score = -(2.0 ** -(raw / denominator))
        return np.hstack([score, score - offset])
    raise ValueError(f"unknown post transform {kind!r}")  # pragma: no cover - the IR validates it


def _post_transform_float32(kind: str, raw: np.ndarray, binary: bool) -> np.ndarray:
    """XGBoost's transforms on float32 margins, every operation rounded to float32 as its
    predictor computes them (common/math.h Sigmoid and Softmax, the log-link objectives' expf)."""
    one = np.float32(1.0)
    if kind == "none":
        return raw
    if kind == "exp":
        return expf(raw)
    if kind == "logistic":
        # Sigmoid(float): expf(min(-x, 88.7f)) + 1.0f + 1e-16f, whose 1e-16f never changes a sum >= 1
        p = one / (expf(np.minimum(-raw, np.float32(88.7))) + one)
        return np.hstack([one - p, p]) if binary else p  # predict_proba's 1.0 - p, in float32
    if kind == "softmax":
        shifted = expf(raw - raw.max(axis=1, keepdims=True))
        total = np.zeros(len(raw))
        for k in range(raw.shape[1]):  # a float64 left fold of the float32 exponentials
            total = total + shifted[:, k]
        return shifted / total.astype(np.float32)[:, None]
    raise ValueError(f"unknown post transform {kind!r}")  # pragma: no cover - the IR validates it


def _tree_ensemble(model: ir.TreeEnsemble, batch: Batch, cols: dict) -> tuple[np.ndarray, np.ndarray]:
    n = batch.n_rows
    X = _features(model, batch, cols)
    for j, name in enumerate(model.features):
        _refuse(batch, name, rules.model_refusals(model, X[:, j]))
    ok = np.flatnonzero(np.equal(batch.errors, None))
    Xok = X[ok]
    dtype = np.float32 if model.accumulate == "float32" else np.float64
    if model.aggregation == "sum":
        acc = np.broadcast_to(model.base_value.astype(dtype), (len(ok), model.n_outputs)).copy()
    else:
        acc = np.zeros((len(ok), model.n_outputs))
    forest = _forest(model)
    walk = _leaf_walk()
    # float32 values held exactly, under accumulate "float32"
    leaf_values = forest.value if dtype is np.float64 else forest.value.astype(dtype)
    if model.aggregation == "weighted-median":
        reached = LEAF_WALKS[walk](model, Xok)
        acc = rules.weighted_median(leaf_values[reached][:, :, 0], model.tree_weights)[:, None]
    elif walk == "compiled":  # the walk adds the leaf values too, the same left fold in C
        acc = np.array(acc, dtype=np.result_type(acc, leaf_values), order="C")
        reached = leafwalk.walk(forest.compact, Xok, leaf_values.astype(acc.dtype, copy=False), acc)
    else:
        reached = forest_leaves(model, Xok)
        for t in range(len(model.trees)):
            acc = acc + leaf_values[reached[:, t]]  # a left fold in tree order, as the JVM computes it
    leaf_ids = np.empty((n, len(model.trees)), dtype=np.int64)
    if len(ok) == n:  # no row refused: subtracted in place (0.4 us a row of the bench forest saved)
        np.subtract(reached, forest.roots, out=leaf_ids)
    else:
        leaf_ids.fill(-1)
        leaf_ids[ok] = reached - forest.roots
    if model.aggregation == "average":
        acc = acc / len(model.trees)
    for divisor in model.divisors:  # in turn, as AdaBoost divides by its weight total, then by K - 1
        acc = acc / divisor
    values = np.full((n, len(model.outputs)), np.nan)
    with np.errstate(over="ignore"):  # exp overflows to inf, and the logistic is then exactly 0.0
        if model.accumulate == "float32":
            values[ok] = _post_transform_float32(model.post_transform, acc, model.is_binary)
        else:
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
        _refuse(batch, name, rules.model_refusals(model, X[:, j]))
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


def member_classes(values: np.ndarray) -> np.ndarray:
    """Each row's class index from a classifier's outputs: the first of equal maxima, or for one
    decision score, class 1 iff it is > 0 (Scores.labels' rule)."""
    if values.shape[1] == 1:
        return (values[:, 0] > 0).astype(np.int64)
    return np.argmax(values, axis=1)


def _composite(model: ir.Composite, batch: Batch, cols: dict) -> tuple[np.ndarray, Union[np.ndarray, None]]:
    """Each member scores the batch (refusing its rows), then the combination joins them. The
    leaves are the tree members' leaves side by side, in member order (``member_trees``)."""
    results = [MODELS[type(member)](member, batch, cols) for member in model.members]
    scored = [values for values, _ in results]
    reached = [leaves for _, leaves in results if leaves is not None]
    if model.combination == "stack":
        values = _stack(model, batch, cols, scored)
    elif model.combination == "calibrate":
        values = _calibrate(model, batch, scored)
    elif model.combination == "target":
        values = scored[0]
    else:
        values = _combine(model, batch, scored)
    if model.target_steps:
        values = _target(model, batch, values)
    leaves = np.hstack(reached) if reached else None
    if leaves is not None:
        leaves[~np.equal(batch.errors, None)] = -1  # a row a later member refused reached no leaf
    return values, leaves


def _stack(model: ir.Composite, batch: Batch, cols: dict, scored: list) -> np.ndarray:
    """The final linear model over the members' columns (stack(0), ...), then the features under
    passthrough; it refuses a row whose column is missing or infinite, as any linear model does."""
    meta = dict(cols)
    j = 0
    for values, width in zip(scored, ir.stack_widths(model.members)):
        part = values[:, 1:2] if width != values.shape[1] else values  # two probabilities: the second
        for k in range(width):
            meta[f"stack({j})"] = part[:, k]
            j += 1
    return _linear(model.final, batch, meta)[0]


def response_columns(values: np.ndarray, n_classes: int) -> np.ndarray:
    """A member's response for calibration or a stack: two probabilities give the second."""
    return values[:, 1:2] if n_classes == 2 and values.shape[1] == 2 else values


def _calibrate(model: ir.Composite, batch: Batch, scored: list) -> np.ndarray:
    """Each member's response columns through their sigmoids or breakpoints, normalised, averaged (SEMANTICS)."""
    ok = np.flatnonzero(np.equal(batch.errors, None))
    k = len(model.classes)
    acc = np.zeros((len(ok), k))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for values, params in zip(scored, model.calibration):
            t = response_columns(values[ok], k)
            if model.calibration_method == "isotonic":  # numpy's interp per column (SEMANTICS note 19)
                p = np.column_stack([ir.isotonic_interpolate(points, t[:, c]) for c, points in enumerate(params)])
            else:
                z = -(params[:, 0] * t + params[:, 1])
                p = 1.0 / (1.0 + np.exp(-z))
            if k == 2:
                proba = np.hstack([1.0 - p, p])
            else:
                total = ir.pairwise_sum([p[:, c] for c in range(k)], np.add)  # numpy's row sum
                proba = np.where(total[:, None] != 0, p / total[:, None], 1 / k)
            proba = np.where((1.0 < proba) & (proba <= 1.0 + 1e-5), 1.0, proba)
            acc = acc + proba
    values = np.full((batch.n_rows, k), np.nan)
    values[ok] = acc / model.divisor
    return values


TARGET_STEPS = {
    "add": np.add,
    "subtract": np.subtract,
    "multiply": np.multiply,
    "divide": np.divide,
    "exp": np.exp,
    "expm1": np.expm1,
}


def _target(model: ir.Composite, batch: Batch, scored: np.ndarray) -> np.ndarray:
    """The regressor's prediction (its one member's, or the combined one) through the inverse
    target steps, in order (SEMANTICS note 22); a prediction that is not finite is a row error,
    as scikit-learn's check_array raises."""
    prediction = scored[:, 0]
    with np.errstate(invalid="ignore"):
        refused = np.equal(batch.errors, None) & ~np.isfinite(prediction)
    batch.refuse(
        refused,
        lambda i: (
            f"the regressor's prediction {prediction[i]!r} is not finite, which the inverse target transform refuses"
        ),
    )
    ok = np.flatnonzero(np.equal(batch.errors, None))
    t = prediction[ok]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for op, number in model.target_steps:
            t = TARGET_STEPS[op](t) if number is None else TARGET_STEPS[op](t, number)
    values = np.full((batch.n_rows, 1), np.nan)
    values[ok, 0] = t
    return values


def _combine(model: ir.Composite, batch: Batch, scored: list) -> np.ndarray:
    ok = np.flatnonzero(np.equal(batch.errors, None))  # a row any member refused is an error
    acc = np.zeros((len(ok), model.n_outputs))
    with np.errstate(over="ignore", invalid="ignore"):
        for weight, values in zip(model.weights, scored):  # a left fold in member order
            if model.combination == "vote":  # the member's class gets its weight
                acc = acc + (member_classes(values[ok])[:, None] == np.arange(model.n_outputs)) * weight
            else:
                acc = acc + values[ok] * weight
        values = np.full((batch.n_rows, len(model.outputs)), np.nan)
        values[ok] = acc if model.combination == "vote" else acc / model.divisor
    return values


MODELS: dict[type, Callable[[Any, Batch, dict], tuple]] = {
    ir.TreeEnsemble: _tree_ensemble,
    ir.LinearModel: _linear,
    ir.Composite: _composite,
}


def _encoded(package: ir.Package, data: Any) -> tuple:
    batch = read_batch(package.inputs, data)
    cols = dict(batch.columns)
    for encoder in package.encoders:
        cols.update(zip(encoder.outputs, _encode(encoder, batch, cols)))
    return batch, cols


def encoded_columns(package: ir.Package, data: Any) -> dict:
    """Every column the package's encoders compute for ``data``, by name, as computed (a refused
    row's values included): what the probe rows search through for a column of several inputs."""
    return _encoded(package, data)[1]


def score(package: ir.Package, data: Any) -> Scores:
    """Score ``data`` (a DataFrame, column mapping or row mappings) with ``package``."""
    batch, cols = _encoded(package, data)
    values, leaf_ids = MODELS[type(package.model)](package.model, batch, cols)
    return Scores(values, package.outputs, batch.errors.tolist(), package.model.classes, leaf_ids)
