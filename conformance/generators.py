"""Seeded scikit-learn code that fits every model of the conformance suite.

Each function fits one estimator or pipeline and is registered with the
feature it exercises (the case file it lands in), its short name and a
one-line description. conformance/generate.py exports each fit as a
stripe-json package, generates rows at its splits (crossform.vectors) and
records scikit-learn's outputs for them. Reading these functions tells an
implementer in another language exactly what each case is.

Models are kept small so that the case files stay small: what matters is
that every kind of decision appears, not how many.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_transformer
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.pipeline import Pipeline, make_pipeline
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

# (feature, name, description, function), in the order they are written
GENERATORS: list = []


def case(feature: str, name: str, description: str, input_names=None, since=None) -> Callable:
    """Register a generator. ``input_names``: the names the package gives the
    columns of a model fitted on an array (crossform.from_sklearn's argument).
    ``since``: ``(release, why)`` when the fit needs a scikit-learn release newer
    than the oldest crossform supports, ``(release, why, library)`` when it needs a
    newer release of another library ("xgboost", "lightgbm"); conformance/refit.py
    skips it there, naming the library."""

    def register(fit: Callable) -> Callable:
        fit.input_names = input_names
        fit.since = since
        GENERATORS.append((feature, name, description, fit))
        return fit

    return register


# ---------------------------------------------------------------- data

BIRDS = ["albatross", "crow", "heron", "kiwi", "owl", "puffin"]
FOODS = ["fish", "insects", "nectar", "seeds"]
PLANETS = ["earth", "mars", "venus"]
CATEGORICAL = ["bird", "food", "planet"]
NUMERIC = ["wingspan", "weight", "altitude"]


def _machine_independent(values: np.ndarray) -> np.ndarray:
    """The values rounded to float32 (and held as float64).

    A regression target computed through BLAS (make_regression's X @ coef) or numpy's SIMD
    math (np.log) differs in the last bits between CPUs, and a tree fitted on it can choose
    another split where two candidates tie. Rounded to float32, the same target comes out
    on every machine (two float64 values a few ulps apart round apart only when they
    straddle a float32 rounding boundary, about once in 2^29 values)."""
    return np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)


def birds(n: int, seed: int, missing: float = 0.0) -> pd.DataFrame:
    """Three categorical and three numeric columns; NaN in a share of cells."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "bird": pd.Series(rng.choice(BIRDS, n), dtype=object),
            "food": pd.Series(rng.choice(FOODS, n), dtype=object),
            "planet": pd.Series(rng.choice(PLANETS, n), dtype=object),
            "wingspan": rng.normal(1.2, 0.5, n),
            "weight": rng.lognormal(0, 1, n),
            "altitude": rng.normal(500, 300, n).round(),
        }
    )
    for col in df.columns:
        df.loc[rng.random(n) < missing, col] = np.nan
    return df


def bird_target(df: pd.DataFrame, task: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    signal = (
        df.wingspan.fillna(1.0) * 2
        + np.log(df.weight.fillna(1.0))
        + (df.bird == "owl") * 1.5
        - (df.food == "fish")
        + (df.planet == "mars") * 0.7
        + rng.normal(0, 0.3, len(df))
    )
    if task == "regression":
        return _machine_independent(signal.to_numpy())
    if task == "multiclass":
        return np.array(["low", "mid", "high"])[np.digitize(signal, np.quantile(signal, [0.33, 0.66]))]
    return (signal > signal.median()).to_numpy()


def numbers(
    n: int, features: int, seed: int, task: str = "binary", nan: float = 0.0, classes: int = 2, float32: bool = False
):
    """make_classification / make_regression data, with NaN holes if asked. ``float32``: the
    features rounded to float32 (:func:`_machine_independent`); make_classification and
    make_regression compute them through BLAS, whose last bits differ between CPUs, so a
    threshold fitted between two of them does too, and a case's row labels name thresholds."""
    if task == "regression":
        X, y = make_regression(
            n_samples=n, n_features=features, n_informative=min(4, features), noise=5.0, random_state=seed
        )
        y = _machine_independent(y)
    else:
        X, y = make_classification(
            n_samples=n,
            n_features=features,
            n_informative=min(4, features),
            n_redundant=0,
            n_classes=classes,
            n_clusters_per_class=1,
            flip_y=0.05,
            random_state=seed,
        )
    if float32:
        X = _machine_independent(X)
    if nan:
        rng = np.random.default_rng(seed)
        X[rng.random(X.shape) < nan] = np.nan
    return X, y


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


# ---------------------------------------------------------------- linear models


def _linear_pipeline(df: pd.DataFrame, model) -> Pipeline:
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
    return Pipeline([("columns", columns), ("model", model)])


@case("linear", "logistic-binary", "logistic regression, binary, on the imputed, one-hot, scaled bird pipeline")
def logistic_binary():
    df = birds(800, seed=33, missing=0.1)
    return _linear_pipeline(df, LogisticRegression(C=0.5)).fit(df, bird_target(df, "binary"))


@case("linear", "logistic-multinomial", "logistic regression, three classes: softmax of one score per class")
def logistic_multinomial():
    X, y = numbers(800, 5, seed=34, classes=3)
    return LogisticRegression(max_iter=1000).fit(X, y)


@case("linear", "linear-regression", "ordinary least squares on the bird pipeline")
def linear_regression():
    df = birds(800, seed=35, missing=0.1)
    return _linear_pipeline(df, LinearRegression()).fit(df, bird_target(df, "regression"))


@case("linear", "ridge", "ridge regression")
def ridge():
    X, y = numbers(600, 6, seed=36, task="regression")
    return Ridge(alpha=3.0).fit(X, y)


@case("linear", "lasso", "lasso: some coefficients exactly zero")
def lasso():
    X, y = numbers(600, 6, seed=37, task="regression")
    return Lasso(alpha=0.5).fit(X, y)


@case("linear", "elastic-net", "elastic net")
def elastic_net():
    X, y = numbers(600, 6, seed=38, task="regression")
    return ElasticNet(alpha=0.3, l1_ratio=0.4).fit(X, y)


@case("linear", "sgd-regressor", "linear SGD regressor on scaled inputs")
def sgd_regressor():
    X, y = numbers(600, 4, seed=39, task="regression")
    return Pipeline([("scale", StandardScaler()), ("model", SGDRegressor(random_state=0))]).fit(X, y)


@case("linear", "sgd-hinge-binary", "linear SGD classifier, hinge loss, binary: one decision score")
def sgd_hinge_binary():
    X, y = numbers(600, 4, seed=40)
    return SGDClassifier(random_state=0).fit(X, y)


@case("linear", "sgd-hinge-multiclass", "linear SGD classifier, hinge loss, four classes: a decision score per class")
def sgd_hinge_multiclass():
    X, y = numbers(800, 4, seed=41, classes=4)
    return SGDClassifier(random_state=0).fit(X, y)


@case("linear", "sgd-log-binary", "linear SGD classifier, log loss, binary: probabilities")
def sgd_log_binary():
    X, y = numbers(600, 4, seed=42)
    return SGDClassifier(loss="log_loss", random_state=0).fit(X, y)


@case("linear", "ridge-classifier", "ridge classifier, three classes: decision scores, scaled inputs")
def ridge_classifier():
    X, y = numbers(700, 5, seed=50, classes=3)
    return Pipeline([("scale", MaxAbsScaler()), ("model", RidgeClassifier(alpha=2.0))]).fit(X, y)


# ---------------------------------------------------------------- pipeline shapes


def _bird_columns():
    """An ordinal-encoded bird and food, imputed wingspan and weight (planet and altitude are the remainder)."""
    return [
        (
            "cat",
            Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("encode", OrdinalEncoder())]),
            ["bird", "food"],
        ),
        ("num", SimpleImputer(strategy="median"), ["wingspan", "weight"]),
    ]


@case("pipeline-shapes", "one-step-pipeline", "a pipeline of one step: the model alone")
def one_step_pipeline():
    X, y = numbers(600, 4, seed=52)
    return Pipeline([("model", ExtraTreesClassifier(n_estimators=3, max_depth=5, random_state=0))]).fit(X, y)


@case("pipeline-shapes", "nested-pipelines", "pipelines inside pipelines, the model in one of its own")
def nested_pipelines():
    df = birds(700, seed=53, missing=0.1)
    prepare = Pipeline(
        [("columns", ColumnTransformer(_bird_columns())), ("scale", Pipeline([("scale", StandardScaler())]))]
    )
    model = Pipeline([("model", RandomForestRegressor(n_estimators=3, max_depth=5, random_state=0))])
    return Pipeline([("prepare", prepare), ("model", model)]).fit(
        df[CATEGORICAL + NUMERIC], bird_target(df, "regression")
    )


@case("pipeline-shapes", "passthrough-and-none-steps", '"passthrough" and None steps, the first step among them')
def passthrough_and_none_steps():
    df = birds(700, seed=54, missing=0.1)
    model = Pipeline(
        [
            ("first", "passthrough"),
            ("columns", ColumnTransformer(_bird_columns())),
            ("nothing", None),
            ("model", DecisionTreeClassifier(max_depth=6, random_state=0)),
        ]
    )
    return model.fit(df, bird_target(df, "binary"))


def _remainder_case(seed: int, remainder: str, verbose: bool, task: str, model):
    df = birds(700, seed=seed, missing=0.1)
    columns = ColumnTransformer(_bird_columns(), remainder=remainder, verbose_feature_names_out=verbose)
    if remainder == "passthrough":  # the remainder must be numeric: encode planet, leave altitude as it is
        columns = ColumnTransformer(
            [*_bird_columns(), ("planet", OrdinalEncoder(), ["planet"])],
            remainder=remainder,
            verbose_feature_names_out=verbose,
        )
    return Pipeline([("columns", columns), ("model", model)]).fit(df, bird_target(df, task))


@case("pipeline-shapes", "remainder-passthrough", "ColumnTransformer(remainder='passthrough'), verbose feature names")
def remainder_passthrough():
    return _remainder_case(
        55, "passthrough", True, "binary", RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0)
    )


@case(
    "pipeline-shapes",
    "remainder-passthrough-short-names",
    "ColumnTransformer(remainder='passthrough', verbose_feature_names_out=False)",
    since=("1.6", "extra trees fitted on NaN"),
)
def remainder_passthrough_short_names():
    return _remainder_case(
        56, "passthrough", False, "regression", ExtraTreesRegressor(n_estimators=3, max_depth=5, random_state=0)
    )


@case("pipeline-shapes", "remainder-drop", "ColumnTransformer(remainder='drop'): planet and altitude never read")
def remainder_drop():
    return _remainder_case(57, "drop", True, "multiclass", DecisionTreeClassifier(max_depth=6, random_state=0))


@case(
    "pipeline-shapes",
    "remainder-drop-short-names",
    "ColumnTransformer(remainder='drop', verbose_feature_names_out=False)",
)
def remainder_drop_short_names():
    return _remainder_case(
        58, "drop", False, "binary", GradientBoostingClassifier(n_estimators=5, max_depth=3, random_state=0)
    )


@case("pipeline-shapes", "make-pipeline-names", "make_pipeline and make_column_transformer: generated step names")
def make_pipeline_names():
    df = birds(700, seed=59, missing=0.1)
    columns = make_column_transformer(
        (Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("encode", OrdinalEncoder())]), CATEGORICAL),
        (SimpleImputer(strategy="median"), NUMERIC),
    )
    model = make_pipeline(
        columns, StandardScaler(), RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0)
    )
    return model.fit(df, bird_target(df, "multiclass"))


@case("pipeline-shapes", "pandas-output", "set_output(transform='pandas'): DataFrames between the steps")
def pandas_output():
    df = birds(700, seed=60, missing=0.1)
    columns = ColumnTransformer(_bird_columns(), remainder="drop")
    model = Pipeline(
        [("columns", columns), ("scale", MinMaxScaler()), ("model", DecisionTreeRegressor(max_depth=6, random_state=0))]
    )
    return model.set_output(transform="pandas").fit(df, bird_target(df, "regression"))


@case(
    "pipeline-shapes",
    "array-fit-named-inputs",
    "fitted on a numpy array, exported with input_names: the package reads wingspan, weight, altitude",
    input_names=NUMERIC,
)
def array_fit_named_inputs():
    df = birds(700, seed=61, missing=0.1)
    model = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("model", RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0)),
        ]
    )
    return model.fit(df[NUMERIC].to_numpy(dtype=np.float64), bird_target(df, "binary"))


FEATURES = {
    "splits": "Rows at every split: the threshold, its float64 neighbours, the float32 values and midpoints around it.",
    "missing": "NaN at every split of forests trained with and without NaN, and imputers.",
    "categories": "Unknown and missing categories under each ordinal-encoder policy.",
    "multiclass": "Several classes and every class-label type: strings, integers, booleans, floats.",
    "encoders": "Scalers, imputers, missing indicators and passthrough columns before the trees.",
    "one-hot": "One-hot encoders under each unknown-category policy, with dropped, missing and infrequent columns.",
    "boosting": "Gradient boosting: binary and multiclass classifiers, every regression loss, default init estimators.",
    "linear": "Linear and logistic regression, regularised and SGD models: probabilities and decision scores.",
    "hist-boosting": "Histogram gradient boosting: float64 thresholds, NaN routing, category-in-set splits.",
    "anomaly": "Isolation forests: score_samples and decision_function, with feature subsampling.",
    "ensembles": "Ensembles of other estimators: bagging over single trees, with feature subsets and small samples.",
    "pipeline-shapes": "The shapes a pipeline takes around its steps: one step, nesting, skipped steps, "
    "ColumnTransformer remainders and names, pandas output, names given to an array's columns.",
}

# Families in modules of their own register their cases when imported here, after FEATURES. A
# family whose library is not installed registers none and is named in MISSING_LIBRARIES:
# generate.py refuses to write the suite without it, refit.py reports it as skipped.
MISSING_LIBRARIES: dict = {}
import generators_adaboost  # noqa: E402, F401  (AdaBoost over single trees)
import generators_derived  # noqa: E402, F401  (columns derived from several inputs)
import generators_ensembles  # noqa: E402, F401
import generators_preprocessing  # noqa: E402, F401  (registers its cases and their features)

try:
    import generators_lightgbm  # noqa: E402, F401  (LightGBM and the exp link)
except ModuleNotFoundError as exc:
    if exc.name != "lightgbm":
        raise
    MISSING_LIBRARIES["lightgbm"] = "generators_lightgbm.py"
try:
    from generators_xgboost import FEATURES as _XGBOOST_FEATURES  # noqa: E402

    FEATURES.update(_XGBOOST_FEATURES)
except ModuleNotFoundError as exc:
    if exc.name != "xgboost":
        raise
    MISSING_LIBRARIES["xgboost"] = "generators_xgboost.py"
import generators_categories  # noqa: E402, F401  (category splits on numbers: histogram boosting, LightGBM, XGBoost)
import generators_composite  # noqa: E402, F401  (VotingClassifier, VotingRegressor)
import generators_projection  # noqa: E402, F401  (PCA and IncrementalPCA)
