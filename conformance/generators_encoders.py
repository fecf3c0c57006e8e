"""Encoders before the trees: scalers, imputers, missing indicators, passthrough columns, one-hot.

The cases of the features "encoders" and "one-hot".
"""

from __future__ import annotations

import numpy as np
from generators import CATEGORICAL, NUMERIC, bird_target, birds, case
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import (
    LogisticRegression,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

# ---------------------------------------------------------------- encoders


@case("encoders", "scaled", "standard scaler before a decision tree: thresholds in scaled units")
def scaled():
    df = birds(700, seed=18)
    columns = ColumnTransformer([("num", StandardScaler(), NUMERIC)])
    model = Pipeline([("columns", columns), ("model", DecisionTreeRegressor(max_depth=6, random_state=0))])
    return model.fit(df[NUMERIC], bird_target(df, "regression"))


@case("encoders", "impute-then-scale", "median imputer then standard scaler, with_mean off for one column")
def impute_then_scale():
    df = birds(700, seed=19, missing=0.15)
    columns = ColumnTransformer(
        [
            (
                "a",
                Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
                ["wingspan", "altitude"],
            ),
            (
                "b",
                Pipeline([("impute", SimpleImputer(strategy="mean")), ("scale", StandardScaler(with_mean=False))]),
                ["weight"],
            ),
        ]
    )
    model = Pipeline(
        [("columns", columns), ("model", RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0))]
    )
    return model.fit(df[NUMERIC], bird_target(df, "binary"))


@case(
    "encoders",
    "passthrough-chain",
    "identity FunctionTransformer, passthrough and a dropped column",
    since=("1.6", "extra trees fitted on NaN"),
)
def passthrough_chain():
    df = birds(700, seed=20, missing=0.05)
    columns = ColumnTransformer(
        [
            (
                "cat",
                Pipeline(
                    [("impute", SimpleImputer(strategy="constant", fill_value="crow")), ("encode", OrdinalEncoder())]
                ),
                ["bird"],
            ),
            ("same", FunctionTransformer(), ["wingspan"]),
            ("keep", "passthrough", ["weight"]),
            ("gone", "drop", ["altitude"]),
        ]
    )
    model = Pipeline(
        [("columns", columns), ("model", ExtraTreesRegressor(n_estimators=3, max_depth=5, random_state=0))]
    )
    return model.fit(df[["bird", "wingspan", "weight", "altitude"]], bird_target(df, "regression"))


@case(
    "encoders", "min-max-robust-max-abs", "min-max, robust and max-abs scalers after imputers, before a random forest"
)
def min_max_robust_max_abs():
    df = birds(700, seed=21, missing=0.1)
    columns = ColumnTransformer(
        [
            (
                "minmax",
                Pipeline([("impute", SimpleImputer()), ("scale", MinMaxScaler(feature_range=(-1, 3)))]),
                ["wingspan"],
            ),
            ("robust", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", RobustScaler())]), ["weight"]),
            ("maxabs", Pipeline([("impute", SimpleImputer()), ("scale", MaxAbsScaler())]), ["altitude"]),
        ]
    )
    model = Pipeline(
        [("columns", columns), ("model", RandomForestRegressor(n_estimators=3, max_depth=5, random_state=0))]
    )
    return model.fit(df[NUMERIC], bird_target(df, "regression"))


@case(
    "encoders",
    "missing-indicators",
    "MissingIndicator and SimpleImputer(add_indicator=True): trees split on missingness",
)
def missing_indicators():
    df = birds(800, seed=22, missing=0.2)
    columns = ColumnTransformer(
        [
            ("indicate", MissingIndicator(features="all"), ["wingspan", "weight"]),
            ("fill", SimpleImputer(strategy="mean", add_indicator=True), NUMERIC),
        ]
    )
    model = Pipeline([("columns", columns), ("model", DecisionTreeClassifier(max_depth=6, random_state=0))])
    return model.fit(df[NUMERIC], bird_target(df, "binary"))


@case(
    "encoders",
    "missing-indicator-strict",
    "MissingIndicator as fitted by default: a column never missing at fit refuses NaN",
)
def missing_indicator_strict():
    df = birds(800, seed=51, missing=0.0)
    df.loc[np.random.default_rng(51).random(800) < 0.2, "weight"] = np.nan  # only weight has missing values
    columns = ColumnTransformer(
        [
            ("indicate", MissingIndicator(), NUMERIC),
            ("fill", SimpleImputer(strategy="median"), NUMERIC),
        ]
    )
    model = Pipeline(
        [("columns", columns), ("model", RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0))]
    )
    return model.fit(df[NUMERIC], bird_target(df, "binary"))


# ---------------------------------------------------------------- one-hot


@case(
    "one-hot",
    "one-hot-error",
    "one-hot encoder with handle_unknown=error: unknown and unseen missing categories are row errors",
)
def one_hot_error():
    df = birds(800, seed=23)
    columns = ColumnTransformer([("cat", OneHotEncoder(sparse_output=False), CATEGORICAL)], remainder="passthrough")
    model = Pipeline(
        [("columns", columns), ("model", RandomForestClassifier(n_estimators=3, max_depth=6, random_state=0))]
    )
    return model.fit(df, bird_target(df, "binary"))


@case(
    "one-hot", "one-hot-ignore-drop", "one-hot with handle_unknown=ignore, drop='first' and a learned missing category"
)
def one_hot_ignore_drop():
    df = birds(800, seed=24, missing=0.1)
    columns = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore", drop="first"), CATEGORICAL),
            ("num", SimpleImputer(strategy="median"), NUMERIC),
        ]
    )
    model = Pipeline(
        [("columns", columns), ("model", GradientBoostingRegressor(n_estimators=8, max_depth=3, random_state=0))]
    )
    return model.fit(df, bird_target(df, "regression"))


@case("one-hot", "one-hot-infrequent", "one-hot with infrequent_if_exist: rare and unknown categories share a column")
def one_hot_infrequent():
    df = birds(900, seed=25, missing=0.05)
    columns = ColumnTransformer(
        [
            (
                "cat",
                OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=140, sparse_output=False),
                CATEGORICAL,
            ),
            # scaled, so that lbfgs converges to one optimum: on raw altitudes (hundreds) it stops
            # early, at a point that differs from one BLAS kernel to another in the third digit
            ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), NUMERIC),
        ]
    )
    model = Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=1000))])
    return model.fit(df, bird_target(df, "multiclass"))
