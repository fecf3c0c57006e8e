"""Seeded fits for the preprocessing steps: column selectors (feature "feature-selection").

Registered with generators.py's ``case`` (generators.py imports this module at
its end), so generate.py writes them like every other case; each case names
this file as its generator.
"""

from __future__ import annotations

import numpy as np
from generators import CATEGORICAL, FEATURES, NUMERIC, bird_target, birds, case, numbers
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
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
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler
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


FEATURES.update(
    {
        "feature-selection": "Column selectors of sklearn.feature_selection: the columns their fitted support mask "
        "drops vanish, and NaN or infinity in any column they receive is a row error where their input check refuses it.",
    }
)
