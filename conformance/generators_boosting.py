"""Gradient boosting, histogram gradient boosting and isolation forests.

The cases of the features "boosting", "hist-boosting" and "anomaly".
"""

from __future__ import annotations

import numpy as np
from generators import CATEGORICAL, NUMERIC, bird_target, birds, case, numbers
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
)
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    OrdinalEncoder,
)

# ---------------------------------------------------------------- gradient boosting


@case("boosting", "gb-binary", "gradient boosting classifier, binary: a logistic of one raw score, prior init")
def gb_binary():
    X, y = numbers(700, 5, seed=26)
    return GradientBoostingClassifier(n_estimators=12, max_depth=3, random_state=0).fit(X, y)


@case("boosting", "gb-multiclass", "gradient boosting classifier, three classes: a tree per class and stage, softmax")
def gb_multiclass():
    X, y = numbers(900, 5, seed=27, classes=3)
    return GradientBoostingClassifier(n_estimators=6, max_depth=3, learning_rate=0.3, random_state=0).fit(X, y)


@case("boosting", "gb-squared-error", "gradient boosting regressor, squared error (mean init), subsampled")
def gb_squared_error():
    X, y = numbers(700, 5, seed=28, task="regression")
    return GradientBoostingRegressor(n_estimators=10, max_depth=3, subsample=0.8, random_state=0).fit(X, y)


@case("boosting", "gb-absolute-error", "gradient boosting regressor, absolute error (median init)")
def gb_absolute_error():
    X, y = numbers(700, 5, seed=29, task="regression")
    return GradientBoostingRegressor(loss="absolute_error", n_estimators=10, max_depth=3, random_state=0).fit(X, y)


@case("boosting", "gb-huber", "gradient boosting regressor, huber loss")
def gb_huber():
    X, y = numbers(700, 5, seed=30, task="regression")
    return GradientBoostingRegressor(loss="huber", n_estimators=10, max_depth=3, random_state=0).fit(X, y)


@case("boosting", "gb-quantile", "gradient boosting regressor, quantile loss at alpha 0.8 (quantile init)")
def gb_quantile():
    X, y = numbers(700, 5, seed=31, task="regression")
    return GradientBoostingRegressor(loss="quantile", alpha=0.8, n_estimators=10, max_depth=3, random_state=0).fit(X, y)


@case("boosting", "gb-pipeline", "gradient boosting classifier on the imputed, ordinal-encoded bird pipeline")
def gb_pipeline():
    df = birds(900, seed=32, missing=0.1)
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)),
        ]
    )
    columns = ColumnTransformer([("cat", categorical, CATEGORICAL), ("num", SimpleImputer(strategy="median"), NUMERIC)])
    model = Pipeline(
        [("columns", columns), ("model", GradientBoostingClassifier(n_estimators=8, max_depth=3, random_state=0))]
    )
    return model.fit(df, bird_target(df, "binary"))


# ---------------------------------------------------------------- histogram gradient boosting


def coded(n: int, seed: int, nan: float = 0.1):
    """Three numeric columns with NaN holes and two integer-coded categorical ones (codes 0..7, 0..3)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=(n, 3)), rng.integers(0, 8, n), rng.integers(0, 4, n)]).astype(np.float64)
    signal = X[:, 1] + np.isin(X[:, 3], [1, 4, 6]) - (X[:, 4] == 2) + X[:, 0] / 2 + rng.normal(0, 0.3, n)
    X[rng.random((n, 5)) < nan] = np.nan
    return X, signal


@case(
    "hist-boosting",
    "hgb-binary-categorical",
    "histogram boosting, binary, NaN in training, two integer-coded categorical features",
)
def hgb_binary_categorical():
    X, signal = coded(900, seed=43)
    return HistGradientBoostingClassifier(
        max_iter=10, max_leaf_nodes=8, categorical_features=[3, 4], random_state=0
    ).fit(X, signal > np.median(signal))


@case("hist-boosting", "hgb-multiclass", "histogram boosting, three classes, NaN in training, one categorical feature")
def hgb_multiclass():
    X, signal = coded(900, seed=44)
    y = np.digitize(signal, np.quantile(signal, [0.33, 0.66]))
    return HistGradientBoostingClassifier(max_iter=5, max_leaf_nodes=6, categorical_features=[3], random_state=0).fit(
        X, y
    )


@case("hist-boosting", "hgb-regression", "histogram boosting regressor, numeric features with NaN")
def hgb_regression():
    X, signal = coded(800, seed=45)
    return HistGradientBoostingRegressor(max_iter=10, max_leaf_nodes=8, random_state=0).fit(X[:, :3], signal)


@case("hist-boosting", "hgb-quantile-categorical", "histogram boosting, quantile loss, categorical features")
def hgb_quantile_categorical():
    X, signal = coded(800, seed=46)
    return HistGradientBoostingRegressor(
        loss="quantile", quantile=0.7, max_iter=8, max_leaf_nodes=8, categorical_features=[3, 4], random_state=0
    ).fit(X, signal)


@case(
    "hist-boosting", "hgb-string-categories", "histogram boosting on ordinal-encoded bird strings, categorical by mask"
)
def hgb_string_categories():
    df = birds(900, seed=47, missing=0.1)
    columns = ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2),
                CATEGORICAL,
            ),
            ("num", "passthrough", NUMERIC),
        ]
    )
    model = HistGradientBoostingClassifier(
        max_iter=8, max_leaf_nodes=8, random_state=0, categorical_features=[True, True, True, False, False, False]
    )
    return Pipeline([("columns", columns), ("model", model)]).fit(df, bird_target(df, "binary"))


# ---------------------------------------------------------------- anomaly scores


@case("anomaly", "isolation-forest", "isolation forest: score_samples and decision_function")
def isolation_forest():
    X, _ = numbers(600, 4, seed=48)
    return IsolationForest(n_estimators=6, max_samples=128, random_state=0).fit(X)


@case("anomaly", "isolation-forest-subsampled", "isolation forest with max_features 2 of 4, after an imputer")
def isolation_forest_subsampled():
    X, _ = numbers(600, 4, seed=49, nan=0.1)
    model = IsolationForest(n_estimators=5, max_samples=100, max_features=2, contamination=0.05, random_state=0)
    return Pipeline([("impute", SimpleImputer(strategy="median")), ("model", model)]).fit(X)
