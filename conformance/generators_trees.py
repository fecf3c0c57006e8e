"""Single trees and forests: rows at every split, NaN routing, categories and class labels.

The cases of the features "splits", "missing", "categories" and "multiclass"; generators.py
holds the registry and the data helpers they share.
"""

from __future__ import annotations

import numpy as np
from generators import CATEGORICAL, NUMERIC, bird_target, birds, case, numbers
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    OrdinalEncoder,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

# ---------------------------------------------------------------- splits and thresholds


@case("splits", "dt-binary", "decision tree, binary, numeric features, trained without NaN")
def dt_binary():
    X, y = numbers(600, 4, seed=1)
    return DecisionTreeClassifier(max_depth=6, random_state=0).fit(X, y)


@case("splits", "rf-binary", "random forest, binary, five trees of depth five")
def rf_binary():
    X, y = numbers(800, 5, seed=2)
    return RandomForestClassifier(n_estimators=5, max_depth=5, random_state=0).fit(X, y)


@case("splits", "dt-regression", "decision tree regressor, trained without NaN")
def dt_regression():
    X, y = numbers(600, 4, seed=3, task="regression")
    return DecisionTreeRegressor(max_depth=6, random_state=0).fit(X, y)


@case("splits", "et-regression", "extra trees regressor: random thresholds, four trees")
def et_regression():
    X, y = numbers(600, 4, seed=4, task="regression")
    return ExtraTreesRegressor(n_estimators=4, max_depth=5, random_state=0).fit(X, y)


@case("splits", "wide-scales", "thresholds from 1e-20 to 1e20: float32 rounding at every scale")
def wide_scales():
    rng = np.random.default_rng(5)
    scales = np.array([1e-20, 1e-6, 1.0, 1e6, 1e20])
    X = rng.normal(size=(800, 5)) * scales
    y = (X / scales).sum(axis=1) > 0
    return DecisionTreeClassifier(max_depth=7, random_state=0).fit(X, y)


# ---------------------------------------------------------------- missing values


@case("missing", "rf-trained-with-nan", "random forest trained with NaN: learned missing directions")
def rf_trained_with_nan():
    X, y = numbers(800, 4, seed=6, nan=0.2)
    return RandomForestClassifier(n_estimators=4, max_depth=5, random_state=0).fit(X, y)


@case("missing", "dt-regression-with-nan", "decision tree regressor trained with NaN")
def dt_regression_with_nan():
    X, y = numbers(600, 4, seed=7, task="regression", nan=0.2)
    return DecisionTreeRegressor(max_depth=6, random_state=0).fit(X, y)


@case("missing", "et-nan-unseen", "extra trees trained without NaN, scored on NaN rows")
def et_nan_unseen():
    X, y = numbers(600, 4, seed=8)
    return ExtraTreesClassifier(n_estimators=4, max_depth=5, random_state=0).fit(X, y)


@case("missing", "imputers", "mean, median and constant imputers before a random forest")
def imputers():
    df = birds(800, seed=9, missing=0.15)
    columns = ColumnTransformer(
        [
            ("mean", SimpleImputer(strategy="mean"), ["wingspan"]),
            ("median", SimpleImputer(strategy="median"), ["weight"]),
            ("constant", SimpleImputer(strategy="constant", fill_value=-7.5), ["altitude"]),
        ]
    )
    model = Pipeline(
        [("columns", columns), ("model", RandomForestRegressor(n_estimators=3, max_depth=5, random_state=0))]
    )
    return model.fit(df[NUMERIC], bird_target(df, "regression"))


# ---------------------------------------------------------------- categories


@case("categories", "unknown-is-error", "ordinal encoder with handle_unknown=error: unknown categories are row errors")
def unknown_is_error():
    df = birds(800, seed=10, missing=0.0)
    columns = ColumnTransformer([("cat", OrdinalEncoder(), CATEGORICAL)], remainder="passthrough")
    model = Pipeline(
        [("columns", columns), ("model", RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0))]
    )
    return model.fit(df, bird_target(df, "binary"))


@case("categories", "unknown-as-value", "ordinal encoder: unknown categories coded -1, missing ones imputed")
def unknown_as_value():
    df = birds(800, seed=11, missing=0.1)
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)),
        ]
    )
    columns = ColumnTransformer([("cat", categorical, CATEGORICAL), ("num", SimpleImputer(strategy="median"), NUMERIC)])
    model = Pipeline([("columns", columns), ("model", DecisionTreeClassifier(max_depth=6, random_state=0))])
    return model.fit(df, bird_target(df, "binary"))


@case("categories", "encoded-missing", "ordinal encoder: missing coded -2, unknown -1, trees see both")
def encoded_missing():
    df = birds(800, seed=12, missing=0.1)
    encoder = OrdinalEncoder(encoded_missing_value=-2, handle_unknown="use_encoded_value", unknown_value=-1)
    columns = ColumnTransformer([("cat", encoder, CATEGORICAL)], remainder="passthrough")
    model = Pipeline(
        [("columns", columns), ("model", RandomForestRegressor(n_estimators=3, max_depth=5, random_state=0))]
    )
    return model.fit(df, bird_target(df, "regression"))


@case("categories", "missing-category-kept", "ordinal encoder keeping NaN as a category the trees route")
def missing_category_kept():
    df = birds(800, seed=13, missing=0.1)
    columns = ColumnTransformer(
        [
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), CATEGORICAL),
            ("num", "passthrough", NUMERIC),
        ]
    )
    model = Pipeline(
        [("columns", columns), ("model", RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0))]
    )
    return model.fit(df, bird_target(df, "binary"))


# ---------------------------------------------------------------- multiclass and labels


@case("multiclass", "rf-string-classes", "random forest, three string classes, on the bird pipeline")
def rf_string_classes():
    df = birds(900, seed=14, missing=0.1)
    categorical = Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("encode", OrdinalEncoder())])
    columns = ColumnTransformer([("cat", categorical, CATEGORICAL), ("num", SimpleImputer(strategy="median"), NUMERIC)])
    model = Pipeline(
        [("columns", columns), ("model", RandomForestClassifier(n_estimators=4, max_depth=5, random_state=0))]
    )
    return model.fit(df, bird_target(df, "multiclass"))


@case("multiclass", "et-five-int-classes", "extra trees, five integer classes")
def et_five_int_classes():
    X, y = numbers(1000, 6, seed=15, classes=5)
    return ExtraTreesClassifier(n_estimators=4, max_depth=5, random_state=0).fit(X, y)


@case("multiclass", "dt-bool-classes", "decision tree with boolean class labels")
def dt_bool_classes():
    X, y = numbers(500, 3, seed=16)
    return DecisionTreeClassifier(max_depth=5, random_state=0).fit(X, y.astype(bool))


@case("multiclass", "rf-float-classes", "random forest with float class labels 0.0, 1.0 and 2.0")
def rf_float_classes():
    X, y = numbers(800, 4, seed=17, classes=3)
    return RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0).fit(X, y.astype(np.float64))
