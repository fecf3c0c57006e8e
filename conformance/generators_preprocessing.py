"""Seeded fits for the preprocessing steps: column selectors (feature "feature-selection"),
ordinal and one-hot encoders over integer, boolean and float categories ("numeric-categories"),
KBinsDiscretizer ("binning") and TargetEncoder ("target-encoding").

Registered with generators.py's ``case`` (generators.py imports this module at
its end), so generate.py writes them like every other case; each case names
this file as its generator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from generators import BIRDS, CATEGORICAL, FEATURES, NUMERIC, bird_target, birds, case, numbers
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.feature_selection import (
    RFE,
    RFECV,
    GenericUnivariateSelect,
    SelectFdr,
    SelectFpr,
    SelectFromModel,
    SelectFwe,
    SelectKBest,
    SelectPercentile,
    SequentialFeatureSelector,
    VarianceThreshold,
    f_classif,
    f_regression,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, OrdinalEncoder, StandardScaler, TargetEncoder
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

# ---------------------------------------------------------------- column selectors


@case(
    "feature-selection",
    "select-k-best",
    "SelectKBest(k=3) of six columns before a random forest: NaN or inf in any column, dropped ones too, is refused",
)
def select_k_best():
    X, y = numbers(700, 6, seed=70)
    model = Pipeline(
        [
            ("select", SelectKBest(f_classif, k=3)),
            ("model", RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0)),
        ]
    )
    return model.fit(X, y)


@case(
    "feature-selection",
    "variance-threshold-columns",
    "VarianceThreshold inside a ColumnTransformer branch drops a near-constant column; it lets NaN through",
)
def variance_threshold_columns():
    df = birds(700, seed=71, missing=0.1)
    df["ring"] = np.where(np.random.default_rng(71).random(700) < 0.02, 1.0, 0.0)  # variance about 0.02
    columns = ColumnTransformer(
        [
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["bird", "food"]),
            ("num", VarianceThreshold(threshold=0.05), [*NUMERIC, "ring"]),
        ]
    )
    model = Pipeline([("columns", columns), ("model", DecisionTreeClassifier(max_depth=6, random_state=0))])
    return model.fit(df[["bird", "food", *NUMERIC, "ring"]], bird_target(df, "binary"))


@case(
    "feature-selection",
    "select-from-model-lasso",
    "SelectFromModel(Lasso) after a scaler, before least squares: the columns Lasso zeroed vanish",
)
def select_from_model_lasso():
    X, y = numbers(600, 8, seed=72, task="regression")
    model = Pipeline(
        [
            ("scale", StandardScaler()),
            ("select", SelectFromModel(Lasso(alpha=2.0))),
            ("model", LinearRegression()),
        ]
    )
    return model.fit(X, y)


@case(
    "feature-selection",
    "rfe-tree-boosting",
    "RFE(DecisionTreeClassifier) keeps three of six columns (its tree lets NaN through) before gradient boosting",
)
def rfe_tree_boosting():
    X, y = numbers(700, 6, seed=73)
    model = Pipeline(
        [
            ("select", RFE(DecisionTreeClassifier(max_depth=4, random_state=0), n_features_to_select=3)),
            ("model", GradientBoostingClassifier(n_estimators=6, max_depth=3, random_state=0)),
        ]
    )
    return model.fit(X, y)


@case(
    "feature-selection",
    "select-percentile-pandas",
    "SelectPercentile under set_output(transform='pandas'): a DataFrame skips the selector's input check",
)
def select_percentile_pandas():
    df = birds(700, seed=74, missing=0.1)
    model = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("select", SelectPercentile(f_regression, percentile=50)),
            ("model", HistGradientBoostingRegressor(max_iter=6, max_leaf_nodes=8, random_state=0)),
        ]
    )
    return model.set_output(transform="pandas").fit(df[NUMERIC], bird_target(df, "regression"))


@case(
    "feature-selection",
    "univariate-branches",
    "SelectFpr, SelectFdr, SelectFwe, GenericUnivariateSelect in ColumnTransformer branches, two keeping no column",
)
def univariate_branches():
    X, y = numbers(800, 8, seed=75)
    columns = ColumnTransformer(
        [
            ("fpr", SelectFpr(f_classif, alpha=0.05), [0, 1]),
            ("fdr", SelectFdr(f_classif, alpha=0.05), [2, 3]),
            ("fwe", SelectFwe(f_classif, alpha=0.05), [4, 5]),
            ("generic", GenericUnivariateSelect(f_classif, mode="k_best", param=1), [6, 7]),
        ]
    )
    return Pipeline([("columns", columns), ("model", LogisticRegression())]).fit(X, y)


@case(
    "feature-selection",
    "sequential-and-rfecv",
    "SequentialFeatureSelector(Ridge) then RFECV(DecisionTreeRegressor) before extra trees, on the imputed bird "
    "pipeline",
)
def sequential_and_rfecv():
    df = birds(600, seed=76, missing=0.1)
    columns = ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2),
                CATEGORICAL,
            ),
            ("num", SimpleImputer(strategy="median"), NUMERIC),
        ]
    )
    model = Pipeline(
        [
            ("columns", columns),
            ("forward", SequentialFeatureSelector(Ridge(), n_features_to_select=4, cv=3)),
            ("rfecv", RFECV(DecisionTreeRegressor(max_depth=3, random_state=0), cv=3)),
            ("model", ExtraTreesRegressor(n_estimators=3, max_depth=5, random_state=0)),
        ]
    )
    return model.fit(df, bird_target(df, "regression"))


# ---------------------------------------------------------------- numeric categories


def nests(n: int, seed: int, missing: float = 0.0) -> pd.DataFrame:
    """Integer, boolean and float category columns beside a string one and a number:
    eggs (0..5 with 9 rare), migrates (bool), clutch (1.5, 2.0, 2.5, NaN holes), bird, wingspan."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "eggs": rng.choice([0, 1, 2, 3, 4, 5, 9], n, p=[0.1, 0.2, 0.2, 0.2, 0.15, 0.12, 0.03]),
            "migrates": rng.random(n) < 0.4,
            "clutch": rng.choice([1.5, 2.0, 2.5], n),
            "bird": pd.Series(rng.choice(BIRDS, n), dtype=object),
            "wingspan": rng.normal(1.2, 0.5, n),
        }
    )
    df.loc[rng.random(n) < missing, "clutch"] = np.nan
    return df


def nest_target(df: pd.DataFrame, task: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    signal = (
        df.wingspan * 2
        + (df.eggs.isin([2, 3]) * 1.2)
        - df.migrates * 0.8
        + df.clutch.fillna(1.0) * 0.5
        + (df.bird == "owl")
        + rng.normal(0, 0.3, len(df))
    )
    if task == "regression":
        return signal.to_numpy().astype(np.float32).astype(np.float64)
    return (signal > signal.median()).to_numpy()


NEST_CATEGORIES = ["eggs", "migrates", "clutch"]


@case(
    "numeric-categories",
    "ordinal-numeric-coded",
    "OrdinalEncoder over integer, boolean and float categories: unknown numbers coded -1, NaN coded -2",
)
def ordinal_numeric_coded():
    df = nests(800, seed=80, missing=0.1)
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2)
    columns = ColumnTransformer([("cat", encoder, NEST_CATEGORIES)], remainder="passthrough")
    model = RandomForestClassifier(n_estimators=3, max_depth=6, random_state=0)
    return Pipeline([("columns", columns), ("model", model)]).fit(
        df[[*NEST_CATEGORIES, "wingspan"]], nest_target(df, "binary")
    )


@case(
    "numeric-categories",
    "ordinal-numeric-error",
    "OrdinalEncoder over integer and boolean categories with handle_unknown=error: unknown numbers are row errors",
)
def ordinal_numeric_error():
    df = nests(700, seed=81)
    columns = ColumnTransformer([("cat", OrdinalEncoder(), ["eggs", "migrates"]), ("num", "passthrough", ["wingspan"])])
    model = Pipeline([("columns", columns), ("model", DecisionTreeRegressor(max_depth=6, random_state=0))])
    return model.fit(df[["eggs", "migrates", "wingspan"]], nest_target(df, "regression"))


@case(
    "numeric-categories",
    "one-hot-numeric-ignore",
    "OneHotEncoder over integer, boolean, float (NaN) and string categories, handle_unknown=ignore, drop='if_binary'",
)
def one_hot_numeric_ignore():
    df = nests(800, seed=82, missing=0.1)
    encoder = OneHotEncoder(handle_unknown="ignore", drop="if_binary", sparse_output=False)
    columns = ColumnTransformer([("cat", encoder, [*NEST_CATEGORIES, "bird"]), ("num", "passthrough", ["wingspan"])])
    model = GradientBoostingRegressor(n_estimators=6, max_depth=3, random_state=0)
    return Pipeline([("columns", columns), ("model", model)]).fit(df, nest_target(df, "regression"))


@case(
    "numeric-categories",
    "one-hot-numeric-infrequent",
    "OneHotEncoder over integer categories on an array, infrequent_if_exist: the rare 9 and unknown numbers "
    "share a column",
)
def one_hot_numeric_infrequent():
    df = nests(800, seed=83)
    X = df[["eggs", "wingspan"]].to_numpy(dtype=np.float64)
    columns = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=40), [0]),
            ("num", StandardScaler(), [1]),
        ]
    )
    return Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=1000))]).fit(
        X, nest_target(df, "binary")
    )


# ---------------------------------------------------------------- binning


@case(
    "binning",
    "kbins-ordinal-uniform",
    "KBinsDiscretizer(encode='ordinal', strategy='uniform') before a decision tree: rows at every bin edge",
)
def kbins_ordinal_uniform():
    df = birds(700, seed=90)
    model = Pipeline(
        [
            ("bins", KBinsDiscretizer(n_bins=[4, 6, 5], encode="ordinal", strategy="uniform")),
            ("model", DecisionTreeClassifier(max_depth=6, random_state=0)),
        ]
    )
    return model.fit(df[NUMERIC], bird_target(df, "binary"))


@case(
    "binning",
    "kbins-onehot-quantile",
    "KBinsDiscretizer(encode='onehot', strategy='quantile') after a median imputer, before a logistic regression",
)
def kbins_onehot_quantile():
    df = birds(800, seed=91, missing=0.1)
    model = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("bins", KBinsDiscretizer(n_bins=5, encode="onehot", strategy="quantile")),
            ("model", LogisticRegression(max_iter=1000)),
        ]
    )
    return model.fit(df[NUMERIC], bird_target(df, "binary"))


@case(
    "binning",
    "kbins-onehot-dense-kmeans",
    "KBinsDiscretizer(encode='onehot-dense', strategy='kmeans') beside ordinal bins, before gradient boosting",
)
def kbins_onehot_dense_kmeans():
    df = birds(700, seed=92)
    columns = ColumnTransformer(
        [
            ("dense", KBinsDiscretizer(n_bins=4, encode="onehot-dense", strategy="kmeans"), ["wingspan", "weight"]),
            ("ordinal", KBinsDiscretizer(n_bins=3, encode="ordinal", strategy="uniform"), ["altitude"]),
        ]
    )
    model = GradientBoostingRegressor(n_estimators=6, max_depth=3, random_state=0)
    return Pipeline([("columns", columns), ("model", model)]).fit(df[NUMERIC], bird_target(df, "regression"))


# ---------------------------------------------------------------- target encoding


@case(
    "target-encoding",
    "target-encoder-binary",
    "TargetEncoder on string categories with NaN, binary target, before a random forest",
    since=("1.9", "TargetEncoder takes a splitter as cv (KFold(5)) from 1.9"),
)
def target_encoder_binary():
    df = birds(800, seed=100, missing=0.1)
    columns = ColumnTransformer([("target", TargetEncoder(cv=KFold(5)), CATEGORICAL), ("num", "passthrough", NUMERIC)])
    model = RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0)
    return Pipeline([("columns", columns), ("model", model)]).fit(df, bird_target(df, "binary"))


@case(
    "target-encoding",
    "target-encoder-multiclass",
    "TargetEncoder, three classes: a float code per category and class, the class means for unknown ones",
    since=("1.9", "TargetEncoder takes a splitter as cv (KFold(5)) from 1.9"),
)
def target_encoder_multiclass():
    df = birds(900, seed=101, missing=0.1)
    columns = ColumnTransformer([("target", TargetEncoder(cv=KFold(5)), CATEGORICAL)])
    model = DecisionTreeClassifier(max_depth=6, random_state=0)
    return Pipeline([("columns", columns), ("model", model)]).fit(df, bird_target(df, "multiclass"))


@case(
    "target-encoding",
    "target-encoder-numeric-continuous",
    "TargetEncoder over integer, boolean, float and string categories, continuous target, before gradient boosting",
    since=("1.9", "TargetEncoder takes a splitter as cv (KFold(5)) from 1.9"),
)
def target_encoder_numeric_continuous():
    df = nests(800, seed=102, missing=0.1)
    columns = ColumnTransformer(
        [("target", TargetEncoder(cv=KFold(5)), [*NEST_CATEGORIES, "bird"]), ("num", "passthrough", ["wingspan"])]
    )
    model = GradientBoostingRegressor(n_estimators=6, max_depth=3, random_state=0)
    return Pipeline([("columns", columns), ("model", model)]).fit(df, nest_target(df, "regression"))


FEATURES.update(
    {
        "feature-selection": "Column selectors of sklearn.feature_selection: the columns their fitted support mask "
        "drops vanish, and NaN or infinity in any column they receive is a row error where their input check refuses it.",
        "target-encoding": "TargetEncoder's transform (not fit_transform's cross fitting): learned float codes per "
        "category (and class), the target mean for unknown categories and for NaN unseen at fit.",
        "binning": "KBinsDiscretizer under every encoding and strategy: rows at every bin edge and its float64 "
        "neighbours; NaN and infinities are row errors.",
        "numeric-categories": "Ordinal and one-hot encoders over integer, boolean and float categories: exact "
        "float64 matches, -0.0 as 0.0, NaN as the missing category, unknown numbers under each policy.",
    }
)
