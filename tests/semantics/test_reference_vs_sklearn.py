"""The reference evaluator against scikit-learn, for every supported estimator.

Rows: every split (threshold, float64 neighbours, float32 values and the
rounding midpoint around it), NaN rows, values scikit-learn refuses (inf,
beyond float32), and random rows. Expected outputs come from scikit-learn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import crossform
from helpers.oracle import assert_checks_pass, assert_identical, compare, nan_rows, special_rows, split_rows

N_FEATURES = 5


def training_data(task: str, n_classes: int, with_nan: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = 600
    X = rng.normal(size=(n, N_FEATURES)) * np.array([1.0, 10.0, 0.01, 1e4, 3.0])
    X[:, 4] = np.round(X[:, 4])  # a feature with ties
    signal = X[:, 0] + 0.1 * X[:, 1] + 50 * X[:, 2] + 1e-4 * X[:, 3] + rng.normal(scale=0.5, size=n)
    if task == "regression":
        y = signal * 3.0 + 1.0
    else:
        edges = np.quantile(signal, np.linspace(0, 1, n_classes + 1)[1:-1])
        y = np.digitize(signal, edges)
    if with_nan:
        X[rng.random(X.shape) < 0.15] = np.nan
    return X, y


ESTIMATORS = {
    "decision-tree": (DecisionTreeClassifier, DecisionTreeRegressor, {"max_depth": 8}),
    "random-forest": (RandomForestClassifier, RandomForestRegressor, {"n_estimators": 15, "max_depth": 8}),
    "extra-trees": (ExtraTreesClassifier, ExtraTreesRegressor, {"n_estimators": 15, "max_depth": 8}),
}
CASES = [
    (family, task, n_classes, with_nan)
    for family in ESTIMATORS
    for task, n_classes in (("binary", 2), ("multiclass", 4), ("regression", 0))
    for with_nan in (False, True)
]


def probe_frame(model, X: np.ndarray, columns) -> pd.DataFrame:
    base = X[~np.isnan(X).any(axis=1)]
    rng = np.random.default_rng(5)
    random_rows = rng.normal(size=(300, X.shape[1])) * np.nanstd(X, axis=0) + np.nanmean(X, axis=0)
    rows = np.vstack([split_rows(model, base), nan_rows(base), special_rows(base), random_rows])
    return pd.DataFrame(rows, columns=columns)


@pytest.mark.parametrize(
    "family,task,n_classes,with_nan", CASES, ids=[f"{f}-{t}-{'nan' if n else 'dense'}" for f, t, _, n in CASES]
)
def test_model_matches_sklearn(family, task, n_classes, with_nan):
    classifier, regressor, params = ESTIMATORS[family]
    cls = regressor if task == "regression" else classifier
    X, y = training_data(task, n_classes, with_nan)
    columns = [f"f{i}" for i in range(N_FEATURES)]
    model = cls(random_state=0, **params).fit(pd.DataFrame(X, columns=columns), y)
    package = crossform.from_sklearn(model)
    frame = probe_frame(model, X, columns)
    report = compare(package, model, frame)
    assert report["refused"] > 0  # the special rows must include refusals
    assert_identical(report)
    assert_checks_pass(package)


def test_model_fitted_on_numpy_names_inputs_x0_to_xn():
    X, y = training_data("binary", 2, False)
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    package = crossform.from_sklearn(model, checks=0)
    assert [f.name for f in package.inputs] == [f"x{i}" for i in range(N_FEATURES)]
    frame = pd.DataFrame(X[:50], columns=[f"x{i}" for i in range(N_FEATURES)])
    scores = crossform.score(package, frame)
    np.testing.assert_array_equal(scores.values, model.predict_proba(X[:50]))


@pytest.mark.parametrize("labels", [["cat", "dog", "emu"], [-3, 7, 11], [1.0, 2.0, 4.0]], ids=["str", "int", "float"])
def test_class_labels_name_outputs(labels):
    X, y = training_data("multiclass", 3, False)
    y = np.array(labels, dtype=object if isinstance(labels[0], str) else None)[y]
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    package = crossform.from_sklearn(model, checks=0)
    assert package.outputs == tuple(f"probability({c})" for c in model.classes_)
    scores = crossform.score(package, {f"x{i}": X[:, i] for i in range(N_FEATURES)})
    assert scores.labels() == [v.item() if hasattr(v, "item") else v for v in model.predict(X)]


def test_unbounded_forest_threshold_rewrite_on_many_splits():
    """A deep forest on data with float32-hostile scales: thousands of splits."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 3)) * np.array([1e-6, 1.0, 1e7]) + np.array([1.0, 0.0, 1e8])
    y = (X[:, 0] - 1.0) * 1e6 + X[:, 1] + (X[:, 2] - 1e8) * 1e-7 > 0
    model = ExtraTreesClassifier(n_estimators=10, random_state=0).fit(pd.DataFrame(X, columns=["x0", "x1", "x2"]), y)
    package = crossform.from_sklearn(model, checks=0)
    rows = split_rows(model, X, limit=40000)
    report = compare(package, model, pd.DataFrame(rows, columns=["x0", "x1", "x2"]))
    assert report["rows"] > 20000
    assert_identical(report)


def test_boolean_labels():
    X, y = training_data("binary", 2, False)
    model = RandomForestClassifier(n_estimators=4, random_state=0).fit(X, y.astype(bool))
    package = crossform.from_sklearn(model, checks=0)
    assert package.outputs == ("probability(False)", "probability(True)")
    scores = crossform.score(package, {f"x{i}": X[:, i] for i in range(N_FEATURES)})
    assert scores.labels() == model.predict(X).tolist()
