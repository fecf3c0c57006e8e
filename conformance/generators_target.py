"""Conformance generators of TransformedTargetRegressor's inverse target steps (the composite
"target", docs/SEMANTICS.md note 22): StandardScaler (with and without the mean or the scale),
MinMaxScaler, MaxAbsScaler, RobustScaler, np.log1p / np.expm1 and np.log / np.exp, over a forest, extra trees, histogram
boosting (squared error and poisson), a decision tree, a ridge regression in a pipeline of
encoders, and a voting and a stacking regressor (the composite carrying the steps); NaN rows
routed by the trees or refused by the linear model.

Registered into conformance/generators.py's GENERATORS (imported at its end); each case's
"generator" names this file. Expected outputs are scikit-learn's predict. Targets are rounded
to float32 or moved in exact float64 steps, so every machine fits the same trees.
"""

from __future__ import annotations

import numpy as np
from generators import CATEGORICAL, FEATURES, NUMERIC, bird_target, birds, case, numbers
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
    StackingRegressor,
    VotingRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    RobustScaler,
    StandardScaler,
)
from sklearn.tree import DecisionTreeRegressor

FEATURES.update(
    {
        "target-steps": "TransformedTargetRegressor's inverse as steps after a regressor: the scalers' "
        "inverse_transform (StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler), np.expm1, np.exp.",
    }
)


def _positive(y: np.ndarray) -> np.ndarray:
    """A target from 1 to about 10 in exact float64 steps (a shift, a power-of-two scale)."""
    return (y - y.min()) / 64.0 + 1.0


def _forest() -> RandomForestRegressor:
    return RandomForestRegressor(n_estimators=5, max_depth=6, random_state=0)


def _categories() -> tuple:
    return (
        "cat",
        Pipeline(
            [("impute", SimpleImputer(strategy="most_frequent")), ("encode", OneHotEncoder(handle_unknown="ignore"))]
        ),
        CATEGORICAL,
    )


def _binned_ridge() -> Pipeline:
    """One-hot birds and binned numbers (imputed, KBinsDiscretizer ordinal) into a ridge: every
    input bounded, so the score is, and np.exp / np.expm1 of it stay finite on every probe row
    (a case's expected values are finite numbers)."""
    bins = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("bins", KBinsDiscretizer(5, encode="ordinal", strategy="uniform")),
        ]
    )
    columns = ColumnTransformer([_categories(), ("num", bins, NUMERIC)])
    return Pipeline([("columns", columns), ("model", Ridge(alpha=0.5))])


def _encoded_ridge() -> Pipeline:
    """One-hot birds and scaled numbers (imputed) into a ridge regression."""
    columns = ColumnTransformer(
        [
            (
                "cat",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        ("encode", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                CATEGORICAL,
            ),
            ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), NUMERIC),
        ]
    )
    return Pipeline([("columns", columns), ("model", Ridge(alpha=0.5))])


@case("target-steps", "target-standard-forest", "a random forest on a standard-scaled target, NaN routed by the trees")
def target_standard_forest():
    X, y = numbers(600, 4, seed=91, task="regression", nan=0.05, float32=True)
    return TransformedTargetRegressor(_forest(), transformer=StandardScaler()).fit(X, y)


@case(
    "target-steps",
    "target-standard-no-mean",
    "extra trees on a target scaled without centring (StandardScaler(with_mean=False)): x * scale_ only",
)
def target_standard_no_mean():
    X, y = numbers(500, 4, seed=92, task="regression", float32=True)
    trees = ExtraTreesRegressor(n_estimators=4, max_depth=5, random_state=0)
    return TransformedTargetRegressor(trees, transformer=StandardScaler(with_mean=False)).fit(X, y)


@case(
    "target-steps",
    "target-standard-no-std",
    "a decision tree on a centred target (StandardScaler(with_std=False)): + mean_ only",
)
def target_standard_no_std():
    X, y = numbers(500, 3, seed=93, task="regression", nan=0.05, float32=True)
    tree = DecisionTreeRegressor(max_depth=6, random_state=0)
    return TransformedTargetRegressor(tree, transformer=StandardScaler(with_std=False)).fit(X, y)


@case(
    "target-steps",
    "target-min-max-hist-boosting",
    "histogram boosting with NaN on a target min-max scaled to (-1, 2): x - min_ then / scale_",
)
def target_min_max_hist_boosting():
    X, y = numbers(700, 5, seed=94, task="regression", nan=0.1, float32=True)
    boosting = HistGradientBoostingRegressor(max_iter=12, max_leaf_nodes=8, random_state=0)
    return TransformedTargetRegressor(boosting, transformer=MinMaxScaler((-1.0, 2.0))).fit(X, y)


@case(
    "target-steps",
    "target-standard-ridge-pipeline",
    "a pipeline of imputers, one-hot birds and scaled numbers into a ridge, on a standard-scaled target",
)
def target_standard_ridge_pipeline():
    df = birds(800, seed=95, missing=0.1)
    model = TransformedTargetRegressor(_encoded_ridge(), transformer=StandardScaler())
    return model.fit(df, bird_target(df, "regression"))


@case("target-steps", "target-log1p-forest", "a random forest fitted on log1p(y), predicting np.expm1, NaN routed")
def target_log1p_forest():
    X, y = numbers(600, 4, seed=96, task="regression", nan=0.05, float32=True)
    return TransformedTargetRegressor(_forest(), func=np.log1p, inverse_func=np.expm1).fit(X, _positive(y))


@case(
    "target-steps",
    "target-log1p-ridge-pipeline",
    "one-hot birds and binned numbers into a ridge, fitted on log1p(y), predicting np.expm1 of the linear score",
)
def target_log1p_ridge_pipeline():
    df = birds(800, seed=97, missing=0.1)
    model = TransformedTargetRegressor(_binned_ridge(), func=np.log1p, inverse_func=np.expm1)
    return model.fit(df, _positive(bird_target(df, "regression")))


@case(
    "target-steps",
    "target-log-ridge-pipeline",
    "one-hot birds and binned numbers into a ridge, fitted on log(y), predicting np.exp of the linear score",
)
def target_log_ridge_pipeline():
    df = birds(700, seed=98, missing=0.05)
    model = TransformedTargetRegressor(_binned_ridge(), func=np.log, inverse_func=np.exp)
    return model.fit(df, _positive(bird_target(df, "regression")))


@case(
    "target-steps",
    "target-log-poisson",
    "poisson histogram boosting (its own exp link) fitted on log(y): np.exp of np.exp of the raw sum",
)
def target_log_poisson():
    X, y = numbers(600, 4, seed=99, task="regression", nan=0.05, float32=True)
    boosting = HistGradientBoostingRegressor(loss="poisson", max_iter=10, max_leaf_nodes=6, random_state=0)
    return TransformedTargetRegressor(boosting, func=np.log, inverse_func=np.exp).fit(X, _positive(y))


@case(
    "target-steps",
    "target-standard-voting",
    "a weighted voting regressor (forest, ridge, histogram boosting) on a standard-scaled target",
)
def target_standard_voting():
    X, y = numbers(600, 4, seed=100, task="regression", float32=True)
    members = [
        ("rf", RandomForestRegressor(n_estimators=3, max_depth=4, random_state=0)),
        ("ridge", Ridge(alpha=0.5)),
        ("hgb", HistGradientBoostingRegressor(max_iter=5, max_leaf_nodes=6, random_state=0)),
    ]
    voting = VotingRegressor(members, weights=[1.5, 1.0, 0.5])
    return TransformedTargetRegressor(voting, transformer=StandardScaler()).fit(X, y)


@case(
    "target-steps",
    "target-log-stacking",
    "stacking a forest and gradient boosting into a ridge, fitted on log(y): np.exp of the stack's prediction",
)
def target_log_stacking():
    X, y = numbers(600, 4, seed=101, task="regression", nan=0.05, float32=True)
    members = [
        ("rf", RandomForestRegressor(n_estimators=3, max_depth=4, random_state=0)),
        ("hgb", HistGradientBoostingRegressor(max_iter=5, max_leaf_nodes=6, random_state=0)),
    ]
    stack = StackingRegressor(members, final_estimator=Ridge(alpha=1.0), cv=3)
    return TransformedTargetRegressor(stack, func=np.log, inverse_func=np.exp).fit(X, _positive(y))


@case(
    "target-steps",
    "target-max-abs-tree",
    "a decision tree on a max-abs-scaled target, NaN routed: x * scale_",
)
def target_max_abs_tree():
    X, y = numbers(500, 3, seed=102, task="regression", nan=0.05, float32=True)
    tree = DecisionTreeRegressor(max_depth=6, random_state=0)
    return TransformedTargetRegressor(tree, transformer=MaxAbsScaler()).fit(X, y)


@case(
    "target-steps",
    "target-robust-boosting",
    "gradient boosting on a robust-scaled target (quantile range 10 to 80): x * scale_ then + center_",
)
def target_robust_boosting():
    X, y = numbers(600, 4, seed=103, task="regression", float32=True)
    boosting = GradientBoostingRegressor(n_estimators=10, max_depth=3, random_state=0)
    return TransformedTargetRegressor(boosting, transformer=RobustScaler(quantile_range=(10.0, 80.0))).fit(X, y)
