"""crossform.sklearn.expect: the checks scikit-learn's own outputs make.

Each verdict is held against scikit-learn asked directly, the slow way: every
row scored alone for refusals, a histogram-boosting predictor's own
``predict`` for the leaf each row reaches, a recursive walk for preorder
positions.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

import crossform
from crossform import conformance, evaluator
from crossform.checks import compare
from crossform.sklearn.expect import _hist_leaves, _sklearn_trees, refused_rows, sklearn_preorder
from helpers.fits import linear_bird_pipeline

BIRDS = ["albatross", "crow", "heron", "kiwi", "owl", "puffin"]
FOODS = ["fish", "insects", "nectar", "seeds", "worms"]
F32_MAX = float(np.finfo(np.float32).max)
HUGE = [np.inf, -np.inf, 1e39, -1e39, F32_MAX, -F32_MAX, 1e30, -1e31]


def birds(n: int = 400, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "bird": pd.Series(rng.choice(BIRDS, n), dtype=object),
            "food": pd.Series(rng.choice(FOODS, n), dtype=object),
            "wingspan": rng.normal(1.2, 0.5, n),
            "weight": rng.lognormal(0, 1, n),
        }
    )
    for col in ("bird", "wingspan"):
        frame.loc[rng.random(n) < 0.1, col] = np.nan
    y = frame.wingspan.fillna(1.0) * 2 + np.log(frame.weight) + (frame.bird == "owl") * 1.5 + rng.normal(0, 0.3, n)
    return frame, (y > y.median()).to_numpy()


def linear() -> Pipeline:
    return linear_bird_pipeline()


def strict_forest() -> Pipeline:
    """Refuses rows several ways: an unknown category (the encoder), an infinity
    (the scaler), a number beyond float32 (the forest), a missing weight (the
    indicator never saw one)."""
    return Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        (
                            "cat",
                            Pipeline(
                                [("impute", SimpleImputer(strategy="most_frequent")), ("encode", OrdinalEncoder())]
                            ),
                            ["bird", "food"],
                        ),
                        (
                            "num",
                            FeatureUnion(
                                [
                                    (
                                        "scale",
                                        Pipeline(
                                            [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
                                        ),
                                    ),
                                    ("seen", MissingIndicator(features="all", error_on_new=True)),
                                ]
                            ),
                            ["wingspan", "weight"],
                        ),
                        ("raw", SimpleImputer(strategy="mean"), ["wingspan"]),
                    ]
                ),
            ),
            ("model", RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0)),
        ]
    )


COUNT_MODELS = {
    "linear": linear,
    "tree": lambda: Pipeline(
        [("impute", SimpleImputer()), ("model", DecisionTreeClassifier(max_depth=3, random_state=0))]
    ),
    "boosting": lambda: HistGradientBoostingClassifier(max_iter=3, max_leaf_nodes=4, random_state=0),
}


@pytest.fixture(scope="module")
def fitted() -> dict:
    frame, y = birds()
    numeric = frame[["wingspan", "weight"]]
    return {name: build().fit(frame if name == "linear" else numeric, y) for name, build in COUNT_MODELS.items()}


@pytest.mark.parametrize("rows", [0, 1, 2, 3, 7, 13, 27, 50, 100, 199, 200, 231, 400])
@pytest.mark.parametrize("kind", sorted(COUNT_MODELS))
def test_any_count_of_checks_works(kind, rows, fitted):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        package = crossform.from_sklearn(fitted[kind], checks=rows)
    if rows == 0:
        assert package.checks is None
        return
    checks = package.checks
    assert 0 < len(checks) <= rows
    comparison = compare(checks, evaluator.score(package, checks.data()), package.model)
    assert comparison.ok, comparison.summary()


@pytest.mark.parametrize("rows", [0, 1, 27, 50, 400])
@pytest.mark.parametrize("kind", sorted(COUNT_MODELS))
def test_conform_generates_any_count_of_rows(kind, rows, fitted, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        crossform.save(crossform.from_sklearn(fitted[kind], checks=10), tmp_path / "pkg")
    cases = conformance.package_cases(tmp_path / "pkg", max_rows=rows)
    generated = [case for case in cases if case.name.endswith(": vectors")]
    assert len(generated) == 1 and len(generated[0].checks) <= rows
    report = conformance.run(cases, formats=["stripe-json"], runtimes=["reference"])
    assert report.ok, report


def scored_alone(estimator, X: pd.DataFrame) -> np.ndarray:
    """The oracle: each row scored alone; a ValueError is a refusal."""
    refused = np.zeros(len(X), dtype=bool)
    for i in range(len(X)):
        try:
            estimator.predict_proba(X.iloc[[i]])
        except ValueError:
            refused[i] = True
    return refused


def hostile_rows(frame: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """Rows of the training frame with huge numbers, unknown categories and missing cells mixed in."""
    rng = np.random.default_rng(seed)
    X = frame.sample(160, random_state=seed).reset_index(drop=True)
    for col in ("wingspan", "weight"):
        at = rng.random(len(X)) < 0.3
        X.loc[at, col] = rng.choice(HUGE, int(at.sum()))
        X.loc[rng.random(len(X)) < 0.05, col] = np.nan
    X.loc[rng.random(len(X)) < 0.05, "food"] = "pebbles"
    return X


@pytest.mark.parametrize("guess", ["none", "right", "wrong"])
@pytest.mark.parametrize(
    "build",
    [strict_forest, lambda: HistGradientBoostingClassifier(max_iter=3)],
    ids=["refusing-pipeline", "hist-boosting"],
)
def test_refused_rows_are_those_scikit_learn_refuses_alone(build, guess):
    frame, y = birds()
    numeric = ["wingspan", "weight"]
    estimator = build().fit(frame.dropna(subset=["weight"]) if build is strict_forest else frame[numeric], y)
    X = hostile_rows(frame)
    if build is not strict_forest:
        X = X[numeric]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = scored_alone(estimator, X)
        # the guess of which rows are refused orders the calls; it never changes a verdict
        likely = {"none": None, "right": lambda: expected, "wrong": lambda: ~expected}[guess]
        found = refused_rows(estimator, X, likely=likely)
    assert expected.sum() < len(X)
    assert expected.any() == (build is strict_forest)  # histogram boosting takes infinities in numeric columns
    np.testing.assert_array_equal(found, expected)
    everything_accepted = X[~expected].reset_index(drop=True)
    assert not refused_rows(estimator, everything_accepted).any()
    assert refused_rows(estimator, X.iloc[:0]).size == 0


def hist_models() -> list:
    rng = np.random.default_rng(3)
    n = 600
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 9, n), rng.normal(size=n), rng.integers(0, 40, n)])
    X = X.astype(np.float64)
    X[rng.random(X.shape) < 0.1] = np.nan
    signal = np.nan_to_num(X[:, 0]) + np.isin(X[:, 1], [1, 4, 6]) - (X[:, 3] % 7 == 2) + rng.normal(0, 0.3, n)
    return [
        (
            HistGradientBoostingClassifier(
                max_iter=6, max_leaf_nodes=9, categorical_features=[1, 3], random_state=0
            ).fit(X, signal > np.median(signal)),
            X,
        ),
        (
            HistGradientBoostingClassifier(max_iter=3, max_leaf_nodes=5, categorical_features=[1], random_state=0).fit(
                X, np.digitize(signal, [-0.5, 0.5])
            ),
            X,
        ),
        (
            HistGradientBoostingRegressor(max_iter=5, max_depth=4, random_state=0).fit(X[:, [0, 2]], signal),
            X[:, [0, 2]],
        ),
    ]


@pytest.mark.parametrize("index", range(3), ids=["categorical-binary", "categorical-multiclass", "regression"])
def test_hist_boosting_leaves_are_the_leaves_each_predictor_reaches(index):
    model, X = hist_models()[index]
    rng = np.random.default_rng(index)
    rows = X[rng.choice(len(X), 300)].copy()
    # beyond the training range: unknown, negative, fractional and huge categories and numbers
    rows[:60, -1] = rng.choice([-1.0, 0.5, 8.7, 255.0, 256.0, 300.0, 1e20, -1e20, 2.0**63, 1e39, 40.0], 60)
    rows[60:90, 0] = rng.choice([1e39, -1e39, F32_MAX, -0.0, 5e-324], 30)
    leaves = _hist_leaves(model, rows)
    predictors = [p for iteration in model._predictors for p in iteration]
    assert leaves.shape == (len(rows), len(predictors))
    rows = model._preprocess_X(rows, reset=False)
    known, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    for t, predictor in enumerate(predictors):
        assert predictor.nodes["is_leaf"][leaves[:, t]].all()
        # the predictor's own walk, with each node's value set to its index: it answers the leaf
        numbered = copy.copy(predictor)
        numbered.nodes = predictor.nodes.copy()
        numbered.nodes["value"] = np.arange(len(numbered.nodes))
        np.testing.assert_array_equal(leaves[:, t], numbered.predict(rows, known, f_idx_map, 1))


def recursive_preorder(left, right) -> np.ndarray:
    position = np.full(len(left), -1)
    counter = 0

    def visit(node: int) -> None:
        nonlocal counter
        position[node] = counter
        counter += 1
        if left[node] >= 0:
            visit(left[node])
            visit(right[node])

    visit(0)
    return position


def test_preorder_positions_of_scikit_learn_trees():
    frame, y = birds()
    X = frame[["wingspan", "weight"]].fillna(0.0)
    forest = RandomForestClassifier(n_estimators=5, max_depth=7, random_state=0).fit(X, y)
    model = hist_models()[0][0]
    trees = _sklearn_trees(forest) + _sklearn_trees(model)
    for tree in trees:
        np.testing.assert_array_equal(
            sklearn_preorder(tree), recursive_preorder(tree.children_left.tolist(), tree.children_right.tolist())
        )
