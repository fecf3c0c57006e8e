"""Expected outputs from scikit-learn itself, for checks and conformance cases.

The verdicts here are scikit-learn's alone: which rows it refuses (scored
alone, since scikit-learn refuses a whole batch for one bad row), the values
of ``predict_proba`` or ``predict``, the predicted class, and the leaf of
every tree from ``apply``, renumbered in preorder by a walk over
scikit-learn's own child arrays. Nothing here asks crossform's evaluator.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np

from .. import ir
from ..checks import ISOLATION_ABSOLUTE, TOLERANCE, Checks

DEFAULT_ROWS = 1000
# A numeric value this large (or infinite) is very likely refused; such rows
# are tried alone straight away instead of by bisection.
_SUSPECT = 1e30


def _steps(estimator):
    """(the transformers before the model, in order; the model), nested pipelines
    opened and None / "passthrough" steps left out."""
    from .compose import pipeline_steps

    steps = pipeline_steps(estimator)
    return steps[:-1], steps[-1]


def _transform(transformers, X):
    """``X`` as the model sees it: through each fitted transformer in turn."""
    for step in transformers:
        X = step.transform(X)
    return X


def _frame(estimator, package: ir.Package, columns: Sequence[ir.Field], rows: Sequence[Sequence],
           input_names: Sequence[str] = None) -> Any:
    """The rows as scikit-learn takes them: a DataFrame with the fitted column
    names, or an array for estimators fitted without names. The package calls
    the estimator's k-th column ``input_names[k]`` (the default of
    from_sklearn when None). Missing categories are NaN (pandas' missing
    value), never None (SEMANTICS note 3)."""
    import pandas as pd

    from . import resolve_input_names
    from .compose import fitted_inputs

    names = fitted_inputs(estimator)[0]
    package_names = resolve_input_names(estimator, input_names)
    position = {f.name: j for j, f in enumerate(columns)}
    kinds = {f.name: f.kind for f in columns}
    data = {}
    for k, name in enumerate(package_names):
        if name not in position:  # a column the package does not read
            data[name] = np.zeros(len(rows))
            continue
        values = [row[position[name]] for row in rows]
        if kinds[name] == ir.NUMERIC:
            data[name] = np.array([math.nan if v is None else v for v in values], dtype=np.float64)
        else:
            data[name] = np.array([math.nan if v is None else v for v in values], dtype=object)
    frame = pd.DataFrame(data)
    if names is None:
        return frame.to_numpy(dtype=np.float64)
    return frame.set_axis(names, axis=1)


def _predict(estimator, X) -> np.ndarray:
    from sklearn.base import is_classifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if _steps(estimator)[1].__class__.__name__ == "IsolationForest":
            # the two outputs of post transform "isolation"
            return np.column_stack([estimator.score_samples(X), estimator.decision_function(X)])
        if is_classifier(estimator):
            if hasattr(estimator, "predict_proba"):
                return estimator.predict_proba(X)
            # a classifier without probabilities (SGDClassifier's hinge loss): its decision scores
            return np.asarray(estimator.decision_function(X), dtype=np.float64).reshape(len(X), -1)
        return np.asarray(estimator.predict(X), dtype=np.float64).reshape(-1, 1)


def _take(X, index: np.ndarray):
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


def refused_rows(estimator, X) -> np.ndarray:
    """Which rows scikit-learn refuses (ValueError) when each is scored alone.

    Rows with an infinite or huge number are tried alone; the rest by
    bisection, which finds k refused rows among n in about k*log2(n) calls.
    """
    n = len(X)
    refused = np.zeros(n, dtype=bool)

    def accepts(index: np.ndarray) -> bool:
        try:
            _predict(estimator, _take(X, index))
        except ValueError:
            return False
        return True

    def bisect(index: np.ndarray) -> None:
        if index.size == 0 or accepts(index):
            return
        if index.size == 1:
            refused[index[0]] = True
            return
        half = index.size // 2
        bisect(index[:half])
        bisect(index[half:])

    suspect = np.zeros(n, dtype=bool)
    numeric = X.select_dtypes(include="number").to_numpy(dtype=np.float64) if hasattr(X, "iloc") else X
    if numeric.size:
        with np.errstate(invalid="ignore"):
            suspect = (np.abs(numeric) >= _SUSPECT).any(axis=1)
    for i in np.flatnonzero(suspect):
        refused[i] = not accepts(np.array([i]))
    bisect(np.flatnonzero(~suspect))
    return refused


class _HistTree:
    """A histogram-boosting predictor seen as a tree: its child arrays, for the preorder walk."""

    def __init__(self, predictor):
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        self.children_left = np.where(leaf, -1, nodes["left"].astype(np.int64))
        self.children_right = np.where(leaf, -1, nodes["right"].astype(np.int64))
        self.node_count = len(nodes)


def _hist_leaves(model, X) -> np.ndarray:
    """The leaf of each row in each histogram-boosting predictor, walked exactly as
    scikit-learn's _predictor.pyx walks raw data (it has no ``apply``): NaN the
    missing way; at a categorical node a negative value the missing way, the left
    bitset left, other known categories right, unknown ones the missing way;
    else ``x <= num_threshold`` left."""
    Xp = np.asarray(model._preprocess_X(X, reset=False), dtype=np.float64)
    known, f_idx_map = model._bin_mapper.make_known_categories_bitsets()

    def in_bitset(bitset, value: float) -> bool:
        v = int(np.uint8(int(value) & 0xFF))  # scikit-learn casts to its uint8 bin type
        return bool((int(bitset[v // 32]) >> (v % 32)) & 1)

    out = []
    for iteration in model._predictors:
        for predictor in iteration:
            nodes = predictor.nodes
            column = np.empty(len(Xp), dtype=np.int64)
            for r, row in enumerate(Xp):
                i = 0
                while not nodes["is_leaf"][i]:
                    node = nodes[i]
                    x = row[node["feature_idx"]]
                    missing_way = node["left"] if node["missing_go_to_left"] else node["right"]
                    if np.isnan(x):
                        i = missing_way
                    elif node["is_categorical"]:
                        if x < 0:
                            i = missing_way
                        elif in_bitset(predictor.raw_left_cat_bitsets[node["bitset_idx"]], x):
                            i = node["left"]
                        elif in_bitset(known[f_idx_map[node["feature_idx"]]], x):
                            i = node["right"]
                        else:
                            i = missing_way
                    else:
                        i = node["left"] if x <= node["num_threshold"] else node["right"]
                column[r] = i
            out.append(column)
    return np.stack(out, axis=1)


def _sklearn_trees(model) -> list:
    """scikit-learn's trees in the order the package has them (gradient
    boosting: stage by stage, a tree per class in each), [] for a model without."""
    if hasattr(model, "tree_"):
        return [model.tree_]
    if hasattr(model, "_predictors"):
        return [_HistTree(p) for iteration in model._predictors for p in iteration]
    if not hasattr(model, "estimators_"):
        return []
    return [e.tree_ for e in np.asarray(model.estimators_, dtype=object).ravel()]


def _apply(model, X) -> np.ndarray:
    """The leaf of each row in each tree, as scikit-learn's own ``apply`` finds it."""
    from sklearn.ensemble import IsolationForest

    if hasattr(model, "_predictors"):
        return _hist_leaves(model, X)
    if isinstance(model, IsolationForest):
        # IsolationForest has no apply(); score_samples casts to float32 (infinities and NaN kept)
        # and walks each tree over its feature subset when max_features subsamples, as here
        X32 = np.ascontiguousarray(np.asarray(X, dtype=np.float64).astype(np.float32))
        subsample = model._max_features != X32.shape[1]
        return np.stack([e.apply(np.ascontiguousarray(X32[:, f]) if subsample else X32, check_input=False)
                         for e, f in zip(model.estimators_, model.estimators_features_)], axis=1)
    return np.asarray(model.apply(X))


def sklearn_preorder(tree) -> np.ndarray:
    """Each node's preorder position, by an explicit walk over scikit-learn's arrays."""
    left, right = tree.children_left, tree.children_right
    position = np.full(tree.node_count, -1, dtype=np.int64)
    stack, counter = [0], 0
    while stack:
        node = stack.pop()
        position[node] = counter
        counter += 1
        if left[node] >= 0:
            stack.append(int(right[node]))
            stack.append(int(left[node]))
    return position


def _plain(label: Any) -> Any:
    if isinstance(label, np.generic):
        return label.item()
    return label


def expect(estimator, package: ir.Package, columns: Sequence[ir.Field], rows: Sequence[Sequence],
           labels: Sequence[str], description: str, tolerance: float = TOLERANCE,
           input_names: Sequence[str] = None) -> Checks:
    """Score ``rows`` with scikit-learn and record the outputs as Checks
    (``input_names``: as given to from_sklearn)."""
    import sklearn
    from sklearn.base import is_classifier

    X = _frame(estimator, package, columns, rows, input_names)
    refused = refused_rows(estimator, X)
    ok = np.flatnonzero(~refused)
    X_ok = _take(X, ok)
    width = len(package.outputs)
    values = np.full((len(rows), width), np.nan)
    predicted = None
    trees = _sklearn_trees(_steps(estimator)[1])
    leaves = np.full((len(rows), len(trees)), -1, dtype=np.int64)
    if ok.size:
        values[ok] = _predict(estimator, X_ok)
        transform, model = _steps(estimator)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X_model = _transform(transform, X_ok)
            if trees:
                node = _apply(model, X_model).reshape(ok.size, -1).astype(np.int64)  # GB gives floats
        for t, tree in enumerate(trees):
            leaves[ok, t] = sklearn_preorder(tree)[node[:, t]]
    if is_classifier(estimator):
        predicted = [None] * len(rows)
        if ok.size:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for i, label in zip(ok, estimator.predict(X_ok)):
                    predicted[i] = _plain(label)
        predicted = tuple(predicted)
    return Checks(
        description=description,
        columns=tuple(columns),
        rows=tuple(tuple(row) for row in rows),
        labels=tuple(labels),
        outputs=package.outputs,
        values=values,
        errors=refused,
        predicted=predicted,
        leaves=leaves if trees else None,
        tolerance=tolerance,
        absolute=ISOLATION_ABSOLUTE if getattr(package.model, "post_transform", None) == "isolation" else 0.0,
        expected_by=f"scikit-learn {sklearn.__version__}",
    )


def checks_for(estimator, package: ir.Package, max_rows: int = DEFAULT_ROWS, seed: int = 0,
               input_names: Sequence[str] = None) -> Checks:
    """Checks for a package converted from ``estimator``: rows at its splits,
    leaves, special values and random rows (crossform.vectors), expected
    outputs from scikit-learn."""
    from ..vectors import generate

    vectors = generate(package, seed=seed, max_rows=max_rows)
    return expect(estimator, package, package.inputs, vectors.rows, vectors.labels,
                  f"{len(vectors)} rows at the splits and leaves of the model, special values and random rows; "
                  "outputs from scikit-learn at export", input_names=input_names)
