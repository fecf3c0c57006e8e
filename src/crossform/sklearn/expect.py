"""Expected outputs from scikit-learn itself, for checks and conformance cases.

The verdicts here are scikit-learn's alone: which rows it refuses (scored
alone, since scikit-learn refuses a whole batch for one bad row), the values
of ``predict_proba`` or ``predict``, the predicted class, and the leaf of
every tree from ``apply``, renumbered in preorder from scikit-learn's own
child arrays. crossform's evaluator is asked one thing only: which rows the
package makes errors, so that scikit-learn tries those alone first; it never
decides a verdict.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Optional

import numpy as np

from .. import ir
from ..checks import ISOLATION_ABSOLUTE, TOLERANCE, XGBOOST_EXPF_ABSOLUTE, XGBOOST_EXPF_RELATIVE, Checks, restrict

DEFAULT_ROWS = 1000


def _steps(estimator):
    """(the transformers before the model, in order; the model), nested pipelines
    opened and None / "passthrough" steps left out."""
    from .compose import pipeline_steps

    steps = pipeline_steps(estimator)
    if type(steps[-1]).__name__ == "TransformedTargetRegressor":  # its regressor finds the leaves
        inner = pipeline_steps(steps[-1].regressor_)
        steps = steps[:-1] + inner
    return steps[:-1], steps[-1]


def _transform(transformers, X):
    """``X`` as the model sees it: through each fitted transformer in turn."""
    for step in transformers:
        X = step.transform(X)
    return X


def _frame(
    estimator,
    package: ir.Package,
    columns: Sequence[ir.Field],
    rows: Sequence[Sequence],
    input_names: Sequence[str] = None,
) -> Any:
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
    for name in package_names:
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


def _library(model) -> str:
    """The library a model object comes from ("sklearn", "lightgbm", ...)."""
    return type(model).__module__.split(".")[0]


def _predict(estimator, X) -> np.ndarray:
    from sklearn.base import is_classifier

    if not hasattr(estimator, "get_params") and _library(estimator) == "xgboost":
        from .xgboost import booster_predict  # a raw Booster

        return booster_predict(estimator, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if _library(estimator) == "lightgbm":
            from . import lightgbm

            return lightgbm.booster_scores(estimator, X)
        if _library(estimator) == "xgboost":
            from . import xgboost

            X = xgboost.category_frame(estimator, X)
        if _steps(estimator)[1].__class__.__name__ == "IsolationForest":
            # the two outputs of post transform "isolation"
            return np.column_stack([estimator.score_samples(X), estimator.decision_function(X)])
        if is_classifier(estimator):
            from .composite import hard_votes, is_hard_voting

            if is_hard_voting(_steps(estimator)[1]):  # no predict_proba: the votes its predict counts
                return hard_votes(estimator, X)
            if hasattr(estimator, "predict_proba"):
                return estimator.predict_proba(X)
            # a classifier without probabilities (SGDClassifier's hinge loss): its decision scores
            return np.asarray(estimator.decision_function(X), dtype=np.float64).reshape(len(X), -1)
        return np.asarray(estimator.predict(X), dtype=np.float64).reshape(-1, 1)


def _predict_classes(estimator, X) -> np.ndarray:
    """The estimator's predicted classes; a LightGBM model fitted on pandas categories takes
    its category columns as category dtype (crossform.sklearn.lightgbm.category_frame)."""
    if _library(estimator) == "lightgbm":
        from . import lightgbm

        X = lightgbm.category_frame(estimator, X)
    if _library(estimator) == "xgboost":
        from . import xgboost

        X = xgboost.category_frame(estimator, X)
    return estimator.predict(X)


def _take(X, index: np.ndarray):
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


def refused_rows(estimator, X, likely: Optional[Callable[[], np.ndarray]] = None) -> np.ndarray:
    """Which rows scikit-learn refuses (ValueError) when each is scored alone.

    A batch scikit-learn accepts has no row it would refuse alone, so one call
    on every row settles the usual case. Otherwise the rows ``likely()`` marks
    are tried alone, and the rest by bisection, which finds k refused rows
    among n in about k*log2(n) calls. A refused call costs little
    (scikit-learn checks its input before scoring), an accepted one costs a
    prediction: a good guess of the refused rows saves nearly every accepted
    call. The guess only orders the calls; every verdict is scikit-learn's.
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

    if n == 0 or accepts(np.arange(n)):
        return refused
    alone = np.zeros(n, dtype=bool) if likely is None else np.asarray(likely(), dtype=bool)
    for i in np.flatnonzero(alone).tolist():
        refused[i] = not accepts(np.array([i]))
    bisect(np.flatnonzero(~alone))
    return refused


class _HistTree:
    """A histogram-boosting predictor seen as a tree: its child arrays, for the preorder positions."""

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
    else ``x <= num_threshold`` left. All rows step down one level at a time."""
    Xp = np.asarray(model._preprocess_X(X, reset=False), dtype=np.float64)
    known, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    out = [
        _hist_predictor_leaves(predictor, Xp, known, f_idx_map)
        for iteration in model._predictors
        for predictor in iteration
    ]
    return np.stack(out, axis=1) if out else np.zeros((len(Xp), 0), dtype=np.int64)


def _in_bitsets(bitsets: np.ndarray, which: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Whether category x (a non-negative float) is in bitset ``bitsets[which]``, as
    scikit-learn casts it: to its uint8 bin type, i.e. the low byte of int(x)."""
    # a double of 2**63 or more is a multiple of 2**11, so its low byte is 0
    # (infinities never get here: scikit-learn refuses them)
    small = x < 2.0**63
    v = np.where(small, np.trunc(np.where(small, x, 0.0)).astype(np.int64) & 0xFF, 0)
    words = bitsets[which, v >> 5].astype(np.int64)
    return ((words >> (v & 31)) & 1).astype(bool)


def _hist_predictor_leaves(predictor, Xp: np.ndarray, known: np.ndarray, f_idx_map: np.ndarray) -> np.ndarray:
    nodes = predictor.nodes
    is_leaf = nodes["is_leaf"].astype(bool)
    feature = nodes["feature_idx"].astype(np.int64)
    threshold = nodes["num_threshold"].astype(np.float64)
    left, right = nodes["left"].astype(np.int64), nodes["right"].astype(np.int64)
    missing_way = np.where(nodes["missing_go_to_left"].astype(bool), left, right)
    categorical = nodes["is_categorical"].astype(bool)
    bitset = nodes["bitset_idx"].astype(np.int64)
    node = np.zeros(len(Xp), dtype=np.int64)
    active = np.flatnonzero(~is_leaf[node])
    while active.size:
        i = node[active]
        x = Xp[active, feature[i]]
        with np.errstate(invalid="ignore"):
            step = np.where(x <= threshold[i], left[i], right[i])
        cat = np.flatnonzero(categorical[i] & ~np.isnan(x))
        if cat.size:
            ic, xc = i[cat], x[cat]
            wanted = ~(xc < 0)
            in_left = np.zeros(cat.size, dtype=bool)
            in_known = np.zeros(cat.size, dtype=bool)
            in_left[wanted] = _in_bitsets(predictor.raw_left_cat_bitsets, bitset[ic[wanted]], xc[wanted])
            in_known[wanted] = _in_bitsets(known, f_idx_map[feature[ic[wanted]]], xc[wanted])
            step[cat] = np.where(in_left & wanted, left[ic], np.where(in_known & wanted, right[ic], missing_way[ic]))
        step = np.where(np.isnan(x), missing_way[i], step)
        node[active] = step
        active = active[~is_leaf[step]]
    return node


def _calls_expf(model: ir.Model) -> bool:
    """Whether the library's transform calls expf: XGBoost's float32 logistic, softmax or exp."""
    return getattr(model, "accumulate", "float64") == "float32" and model.post_transform in (
        "logistic",
        "softmax",
        "exp",
    )


def _tolerance(model: ir.Model, tolerance: float) -> float:
    return max(tolerance, XGBOOST_EXPF_RELATIVE) if _calls_expf(model) else tolerance


def _absolute(model: ir.Model) -> float:
    if getattr(model, "post_transform", None) == "isolation":
        return ISOLATION_ABSOLUTE
    return XGBOOST_EXPF_ABSOLUTE if _calls_expf(model) and model.is_binary else 0.0


def _sklearn_trees(model) -> list:
    """scikit-learn's trees in the order the package has them (gradient
    boosting: stage by stage, a tree per class in each), [] for a model without.
    LightGBM's come from its model dump, in its order (iteration by iteration)."""
    if _library(model) == "lightgbm":
        from . import lightgbm

        return lightgbm.leaf_trees(model)
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

    if _library(model) == "lightgbm":
        from . import lightgbm

        return lightgbm.apply(model, X, lightgbm.leaf_trees(model))
    if hasattr(model, "_predictors"):
        return _hist_leaves(model, X)
    if isinstance(model, IsolationForest):
        # IsolationForest has no apply(); score_samples casts to float32 (infinities and NaN kept)
        # and walks each tree over its feature subset when max_features subsamples, as here
        X32 = np.ascontiguousarray(np.asarray(X, dtype=np.float64).astype(np.float32))
        subsample = model._max_features != X32.shape[1]
        return np.stack(
            [
                e.apply(np.ascontiguousarray(X32[:, f]) if subsample else X32, check_input=False)
                for e, f in zip(model.estimators_, model.estimators_features_)
            ],
            axis=1,
        )
    if hasattr(model, "estimators_features_"):  # bagging: each member reads its own columns
        X = np.asarray(X, dtype=np.float64)
        return np.stack([e.apply(X[:, f]) for e, f in zip(model.estimators_, model.estimators_features_)], axis=1)
    if not hasattr(model, "apply"):  # AdaBoost: each member tree finds its own leaf
        return np.stack([e.apply(X) for e in model.estimators_], axis=1)
    return np.asarray(model.apply(X))


def sklearn_preorder(tree) -> np.ndarray:
    """Each node's preorder position, from scikit-learn's own child arrays."""
    return _preorders([tree])[0]


def _preorders(trees: list) -> list:
    """``sklearn_preorder`` of every tree, in one pass per level over all of them."""
    if not trees:
        return []
    offsets = np.cumsum([0] + [tree.node_count for tree in trees])

    def joined(children: str) -> np.ndarray:  # child indices into the concatenation, -1 for none
        return np.concatenate(
            [
                np.where(c >= 0, c + o, -1)
                for c, o in zip((np.asarray(getattr(t, children), dtype=np.int64) for t in trees), offsets)
            ]
        )

    position = ir.preorder_positions(joined("children_left"), joined("children_right"), offsets[:-1])
    return np.split(position, offsets[1:-1])


def _plain(label: Any) -> Any:
    if isinstance(label, np.generic):
        return label.item()
    return label


def expect(
    estimator,
    package: ir.Package,
    columns: Sequence[ir.Field],
    rows: Sequence[Sequence],
    labels: Sequence[str],
    description: str,
    tolerance: float = TOLERANCE,
    input_names: Sequence[str] = None,
) -> Checks:
    """Score ``rows`` with scikit-learn and record the outputs as Checks
    (``input_names``: as given to from_sklearn)."""
    from joblib import parallel_config
    from threadpoolctl import threadpool_limits

    # Checks are a few thousand rows at most, scored in batches of a few rows to
    # find the refused ones, where threads cost more than they save. A forest
    # fitted with n_jobs starts a thread pool per call (20 ms against 3.5 ms for
    # one row of the bench forest); in one thread it adds the trees' outputs in
    # tree order, the order of docs/SEMANTICS.md, not as threads finish. Histogram
    # boosting runs an OpenMP region per tree, whose threads wait for each other:
    # on a busy machine 17 ms a tree instead of 0.1 ms. Per-row results do not
    # depend on the thread count; BLAS threads are left alone, since the
    # summation order of a linear model's dot products does.
    with parallel_config(backend="sequential"), threadpool_limits(limits=1, user_api="openmp"):
        return _expect(estimator, package, columns, rows, labels, description, tolerance, input_names)


def _expect(
    estimator,
    package: ir.Package,
    columns: Sequence[ir.Field],
    rows: Sequence[Sequence],
    labels: Sequence[str],
    description: str,
    tolerance: float,
    input_names: Sequence[str],
) -> Checks:
    import sklearn
    from sklearn.base import is_classifier

    X = _frame(estimator, package, columns, rows, input_names)

    def package_refuses() -> np.ndarray:
        # the rows the package makes row errors: which rows to try alone first, not a verdict
        from ..evaluator import score

        return ~score(package, {f.name: [row[c] for row in rows] for c, f in enumerate(columns)}).ok

    refused = refused_rows(estimator, X, likely=package_refuses)
    ok = np.flatnonzero(~refused)
    X_ok = _take(X, ok)
    width = len(package.outputs)
    values = np.full((len(rows), width), np.nan)
    predicted = None
    transform, model = _steps(estimator)
    library = _library(model)
    # a composite's members are other models: their scores are checked, not their leaves
    composite = isinstance(package.model, ir.Composite)
    trees = _sklearn_trees(model) if library != "xgboost" and not composite else []
    n_trees = len(package.model.trees) if library == "xgboost" else len(trees)
    leaves = np.full((len(rows), n_trees), -1, dtype=np.int64)
    if ok.size:
        values[ok] = _predict(estimator, X_ok)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X_model = _transform(transform, X_ok)
            if trees:
                node = _apply(model, X_model).reshape(ok.size, -1).astype(np.int64)  # GB gives floats
            if library == "xgboost":
                from .xgboost import leaf_positions

                leaves[ok] = leaf_positions(model, X_model)
        for t, position in enumerate(_preorders(trees)):
            leaves[ok, t] = position[node[:, t]]
    if hasattr(estimator, "get_params") and is_classifier(estimator):  # a raw Booster predicts no class
        predicted = [None] * len(rows)
        if ok.size:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for i, label in zip(ok, _predict_classes(estimator, X_ok)):
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
        leaves=leaves if n_trees else None,
        tolerance=_tolerance(package.model, tolerance),
        absolute=_absolute(package.model),
        expected_by=_expected_by(model, sklearn.__version__),
    )


def _expected_by(model, sklearn_version: str) -> str:
    """Whose outputs the checks hold: scikit-learn's, or the model's library's (with scikit-learn's
    version too, for the steps before it)."""
    import sys

    library = _library(model)
    if library in ("sklearn", "crossform") or library not in sys.modules:
        return f"scikit-learn {sklearn_version}"
    return f"{library} {sys.modules[library].__version__} (scikit-learn {sklearn_version})"


def checks_for(
    estimator, package: ir.Package, max_rows: int = DEFAULT_ROWS, seed: int = 0, input_names: Sequence[str] = None
) -> Checks:
    """Checks for a package converted from ``estimator``: rows at its splits,
    leaves, special values and random rows (crossform.vectors), expected
    outputs from scikit-learn."""
    from ..vectors import generate

    vectors = generate(package, seed=seed, max_rows=max_rows)
    checks = expect(
        estimator,
        package,
        package.inputs,
        vectors.rows,
        vectors.labels,
        f"{len(vectors)} rows at the splits and leaves of the model, special values and random rows; "
        "outputs from scikit-learn at export",
        input_names=input_names,
    )
    # A check states finite outputs (the vectors schema's numbers): a row scikit-learn scores as
    # +-inf or NaN without refusing it (np.exp of a large prediction under a TransformedTarget-
    # Regressor) says nothing a finite row does not, so it is left out, and the description
    # counts it.
    finite = checks.errors | np.isfinite(checks.values).all(axis=1)
    if not finite.all():
        checks = restrict(checks, finite, 0.0, "rows scikit-learn scores as infinite or NaN left out")
    return checks
