"""Conformance generators of AdaBoost over single trees, and of TransformedTargetRegressor.

Registered into conformance/generators.py's GENERATORS (imported at its end); each case's
"generator" names this file. scikit-learn 1.4 to 1.5 default to algorithm="SAMME.R" (refused by
name); 1.6 and 1.7 accept "SAMME" with a FutureWarning; 1.8 removed the parameter. SAMME is
what every release computes when given no algorithm or "SAMME", so the fits ask for it only
where the parameter exists.
"""

from __future__ import annotations

import warnings

import numpy as np
from generators import CATEGORICAL, FEATURES, NUMERIC, bird_target, birds, case, numbers
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import (
    AdaBoostClassifier,
    AdaBoostRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor

FEATURES.update(
    {
        "adaboost": "AdaBoostClassifier (SAMME) over decision and extra trees: weighted leaf votes summed in order, "
        "divided by the weight total and K - 1, then softmax.",
        "adaboost-regression": "AdaBoostRegressor over decision and extra trees: per row, the weighted median of "
        "the tree values (sorted, ties in tree order; the first running weight sum >= half the total).",
        "transformed-target": "TransformedTargetRegressor: a tree regressor fitted on log(y), predicting np.exp "
        "of its float64 output (post transform exp); without a transform, the regressor itself.",
    }
)


def _adaboost(estimator=None, **params) -> AdaBoostClassifier:
    if "algorithm" in AdaBoostClassifier().get_params():  # scikit-learn before 1.8
        params["algorithm"] = "SAMME"
    return AdaBoostClassifier(estimator, **params)


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # 1.6 and 1.7: algorithm is deprecated
        return model.fit(X, y)


@case("adaboost", "adaboost-binary", "AdaBoost's default: 25 depth-1 stumps, binary")
def adaboost_binary():
    X, y = numbers(600, 4, seed=61)
    return _fit(_adaboost(n_estimators=25, random_state=0), X, y)


@case(
    "adaboost",
    "adaboost-multiclass",
    "AdaBoost over depth-3 decision trees, four classes, learning rate 0.5",
)
def adaboost_multiclass():
    X, y = numbers(800, 5, seed=62, classes=4)
    model = _adaboost(DecisionTreeClassifier(max_depth=3), n_estimators=12, learning_rate=0.5, random_state=0)
    return _fit(model, X, y)


@case(
    "adaboost", "adaboost-extra-trees", "AdaBoost over depth-4 extra trees (leaves of 30 rows or more), three classes"
)
def adaboost_extra_trees():
    X, y = numbers(700, 4, seed=63, classes=3)
    # Leaves of 30 rows or more: in a smaller node two features' random thresholds can cut the
    # same rows, a tie between equal partitions that the sums of the boosting weights, taken in
    # each feature's order, break by their last bit; numpy's exp and log give those weights
    # other last bits on AVX-512 machines than on AVX2 ones, so the fit itself differed by CPU.
    model = _adaboost(ExtraTreeClassifier(max_depth=4, min_samples_leaf=30), n_estimators=10, random_state=0)
    return _fit(model, X, y)


@case(
    "adaboost",
    "adaboost-stops-early",
    "AdaBoost whose first tree (depth 5) fits perfectly: boosting stops after it (weight 1.0, the other 9 weights 0)",
)
def adaboost_stops_early():
    X, y = numbers(400, 6, seed=64)
    y = (((X[:, 0] > 0.1) & (X[:, 1] < 0.5)) | (X[:, 2] > 1.0) | (X[:, 3] < -1.2)).astype(int)  # four splits
    return _fit(_adaboost(DecisionTreeClassifier(max_depth=5), n_estimators=10, random_state=0), X, y)


@case(
    "adaboost",
    "adaboost-pipeline",
    "a pipeline: ordinal-encoded birds (unknown categories are row errors) into AdaBoost, string classes",
)
def adaboost_pipeline():
    df = birds(800, seed=65)
    target = bird_target(df, "multiclass")
    columns = ColumnTransformer(
        [("cat", OrdinalEncoder(), CATEGORICAL), ("num", SimpleImputer(strategy="median"), NUMERIC)]
    )
    model = Pipeline(
        [
            ("columns", columns),
            ("model", _adaboost(DecisionTreeClassifier(max_depth=2), n_estimators=8, random_state=0)),
        ]
    )
    return _fit(model, df, target)


# ---------------------------------------------------------------- TransformedTargetRegressor


def _positive(y: np.ndarray) -> np.ndarray:
    """A target from 1 to about 10 for np.log, in exact float64 steps (a shift, a power-of-two
    scale; no exp, whose last bit may vary by CPU): small predictions keep the float32 variant's
    bound on exp below 1e-3."""
    return (y - y.min()) / 64.0 + 1.0


@case(
    "transformed-target",
    "transformed-target-log-forest",
    "a random forest fitted on log(y), NaN routed by the trees, predicting np.exp of the averaged leaves",
)
def transformed_target_log_forest():
    X, y = numbers(700, 4, seed=71, task="regression", nan=0.05)
    forest = RandomForestRegressor(n_estimators=6, max_depth=6, random_state=0)
    return TransformedTargetRegressor(forest, func=np.log, inverse_func=np.exp).fit(X, _positive(y))


@case(
    "transformed-target",
    "transformed-target-log-boosting",
    "gradient boosting (squared error) fitted on log(y): np.exp of the boosted sum",
)
def transformed_target_log_boosting():
    X, y = numbers(600, 5, seed=72, task="regression")
    boosting = GradientBoostingRegressor(n_estimators=15, max_depth=3, random_state=0)
    return TransformedTargetRegressor(boosting, func=np.log, inverse_func=np.exp).fit(X, _positive(y))


@case(
    "transformed-target",
    "transformed-target-log-pipeline",
    "a pipeline as regressor: ordinal-encoded birds into histogram boosting with NaN, fitted on log(y)",
)
def transformed_target_log_pipeline():
    df = birds(800, seed=73, missing=0.1)
    columns = ColumnTransformer([("cat", OrdinalEncoder(), CATEGORICAL)], remainder="passthrough")
    regressor = Pipeline([("columns", columns), ("model", HistGradientBoostingRegressor(max_iter=20, random_state=0))])
    model = TransformedTargetRegressor(regressor, func=np.log, inverse_func=np.exp)
    return model.fit(df, _positive(bird_target(df, "regression")))


@case(
    "transformed-target",
    "transformed-target-in-pipeline",
    "TransformedTargetRegressor as a pipeline's last step, after a median imputer: np.exp of a leaf",
)
def transformed_target_in_pipeline():
    df = birds(600, seed=74, missing=0.1)
    model = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            (
                "model",
                TransformedTargetRegressor(
                    DecisionTreeRegressor(max_depth=6, random_state=0), func=np.log, inverse_func=np.exp
                ),
            ),
        ]
    )
    return model.fit(df[NUMERIC], _positive(bird_target(df, "regression")))


@case(
    "transformed-target",
    "transformed-target-identity",
    "TransformedTargetRegressor without func, inverse_func or transformer: the identity, the tree itself",
)
def transformed_target_identity():
    X, y = numbers(500, 3, seed=75, task="regression")
    return TransformedTargetRegressor(DecisionTreeRegressor(max_depth=5, random_state=0)).fit(X, y)


# ---------------------------------------------------------------- AdaBoostRegressor


@case("adaboost-regression", "adaboost-regressor", "AdaBoostRegressor's default: 50 depth-3 trees, linear loss")
def adaboost_regressor():
    X, y = numbers(600, 5, seed=81, task="regression")
    return AdaBoostRegressor(n_estimators=50, random_state=0).fit(X, y)


@case(
    "adaboost-regression",
    "adaboost-regressor-ties",
    "AdaBoostRegressor over depth-2 trees on an integer target: many rows where trees tie (square loss)",
)
def adaboost_regressor_ties():
    X, y = numbers(600, 5, seed=82, task="regression")
    model = AdaBoostRegressor(DecisionTreeRegressor(max_depth=2), n_estimators=40, loss="square", random_state=0)
    return model.fit(X, np.round(y / 40))


@case(
    "adaboost-regression",
    "adaboost-regressor-stumps",
    "AdaBoostRegressor over 60 stumps on an integer target, exponential loss, learning rate 0.5",
)
def adaboost_regressor_stumps():
    X, y = numbers(700, 4, seed=83, task="regression")
    model = AdaBoostRegressor(
        DecisionTreeRegressor(max_depth=1), n_estimators=60, loss="exponential", learning_rate=0.5, random_state=0
    )
    return model.fit(X, np.round(y / 80))


@case(
    "adaboost-regression",
    "adaboost-regressor-extra-trees",
    "AdaBoostRegressor over depth-4 extra trees, in a pipeline after a median imputer (NaN imputed)",
)
def adaboost_regressor_extra_trees():
    df = birds(700, seed=84, missing=0.1)
    model = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("model", AdaBoostRegressor(ExtraTreeRegressor(max_depth=4), n_estimators=15, random_state=0)),
        ]
    )
    return model.fit(df[NUMERIC], bird_target(df, "regression"))
