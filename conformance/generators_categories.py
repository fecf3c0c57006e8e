"""Seeded fits whose trees split on categories given as numbers (generators.py imports this module).

Feature "number-category-splits": histogram boosting with categorical features that are numeric
columns (``categorical_features=[...]``) or pandas 'category' columns of integers or booleans
(``categorical_features="from_dtype"``). scikit-learn encodes them with an OrdinalEncoder of its
own (exact float64 matches; unknown values, negative or not, non-integer values and NaN all become
NaN and go the node's missing way), so the categories may be any numbers, beyond max_bins too.
LightGBM with ``categorical_feature`` on numeric columns: its CategoricalDecision reads
``static_cast<int>(x)`` (2.7 is category 2, -0.5 category 0; NaN, negative ints and values beyond the
int range go right), which the integer-code step states. Expected outputs come from the library's
own predict / predict_proba (crossform.sklearn.expect), the leaves from apply / pred_leaf.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from generators import FEATURES, MISSING_LIBRARIES, case
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor


def _odd_codes(n: int, seed: int):
    """A numeric column and one whose categories are negative, non-integer, zero and beyond
    max_bins (-3, -0.5, 0, 2.5, 7, 300, 1e6), with NaN in a tenth of the cells."""
    rng = np.random.default_rng(seed)
    codes = rng.choice([-3.0, -0.5, 0.0, 2.5, 7.0, 300.0, 1e6], n)
    X = np.column_stack([rng.normal(size=n), codes])
    signal = X[:, 0] + np.isin(codes, [-3.0, 2.5, 1e6]) - (codes == 300.0) + rng.normal(0, 0.3, n)
    X[rng.random(n) < 0.1, 1] = np.nan
    return X, signal


@case(
    "number-category-splits",
    "hgb-odd-codes",
    "histogram boosting, max_bins 16, category codes negative, non-integer and beyond max_bins",
)
def hgb_odd_codes():
    X, signal = _odd_codes(800, seed=181)
    return HistGradientBoostingRegressor(
        max_iter=8, max_leaf_nodes=8, max_bins=16, categorical_features=[1], random_state=0
    ).fit(X, signal)


def _category_frame(n: int, seed: int) -> tuple:
    """A numeric column, a pandas category column of integers (negative and large ones among
    them) and one of booleans, with NaN in the category columns."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "size": rng.normal(size=n),
            "grade": pd.Categorical(rng.choice([-1, 2, 3, 5, 11, 400], n)),
            "flag": pd.Categorical(rng.choice([True, False], n)),
        }
    )
    signal = df["size"] + df["grade"].isin([2, 400]).to_numpy() - 0.8 * (df["flag"] == True).to_numpy()  # noqa: E712
    df.loc[rng.random(n) < 0.1, "grade"] = np.nan
    df.loc[rng.random(n) < 0.1, "flag"] = np.nan
    return df, signal + rng.normal(0, 0.3, n)


@case(
    "number-category-splits",
    "hgb-integer-boolean-dtypes",
    "histogram boosting, three classes, pandas integer and boolean category columns (from_dtype)",
)
def hgb_integer_boolean_dtypes():
    df, signal = _category_frame(900, seed=182)
    y = np.digitize(signal, np.quantile(signal, [0.33, 0.66]))
    return HistGradientBoostingClassifier(
        max_iter=5, max_leaf_nodes=6, categorical_features="from_dtype", random_state=0
    ).fit(df, y)


# ---------------------------------------------------------------- LightGBM on numeric columns


def _missing(library: str) -> None:
    """Name this module among those whose cases ``library`` would add (generate.py refuses to write the
    suite without them, refit.py reports them skipped); the other cases here still register."""
    MISSING_LIBRARIES[library] = ", ".join(filter(None, (MISSING_LIBRARIES.get(library), "generators_categories.py")))


try:
    import lightgbm
except ModuleNotFoundError as exc:
    if exc.name != "lightgbm":
        raise
    lightgbm = None
    _missing("lightgbm")

# one thread, fixed histogram layout, no output: the same trees on every machine
_LIGHTGBM_FIXED = {"n_jobs": 1, "deterministic": True, "force_row_wise": True, "verbose": -1, "random_state": 0}


def _lightgbm_codes(n: int, seed: int):
    """Two numeric columns (float32 values, so thresholds agree on every CPU) and two columns of
    category numbers LightGBM truncates: 0..11 with some 2.5 (category 2) and -1 (negative: missing
    to LightGBM), and 0..4; NaN in a tenth of the cells."""
    rng = np.random.default_rng(seed)
    a = rng.choice(np.r_[np.arange(12.0), 2.5, -1.0], n)
    b = rng.integers(0, 5, n).astype(np.float64)
    X = np.column_stack([rng.normal(size=(n, 2)).astype(np.float32), a, b])
    signal = X[:, 0] + 1.5 * np.isin(np.trunc(a), [1, 2, 7, 10]) - (b == 3) + rng.normal(0, 0.3, n)
    X[rng.random(X.shape) < 0.1] = np.nan
    return X, signal


if lightgbm is not None:

    @case(
        "number-category-splits",
        "lgbm-number-categories",
        "LightGBM regressor, categorical_feature on numeric columns: int truncation, negatives, NaN",
    )
    def lgbm_number_categories():
        X, signal = _lightgbm_codes(1200, seed=183)
        model = lightgbm.LGBMRegressor(
            n_estimators=8, num_leaves=6, min_data_per_group=5, cat_smooth=1, **_LIGHTGBM_FIXED
        )
        return model.fit(X, signal.astype(np.float32), categorical_feature=[2, 3])

    @case(
        "number-category-splits",
        "lgbm-number-categories-multiclass",
        "LightGBM classifier, three classes, one numeric column read as categories",
    )
    def lgbm_number_categories_multiclass():
        X, signal = _lightgbm_codes(1200, seed=184)
        y = np.digitize(signal, np.quantile(signal, [0.33, 0.66]))
        model = lightgbm.LGBMClassifier(
            n_estimators=5, num_leaves=5, min_data_per_group=5, cat_smooth=1, **_LIGHTGBM_FIXED
        )
        return model.fit(X, y, categorical_feature=[2])


if lightgbm is not None:

    @case(
        "lightgbm-zero-as-missing",
        "lgbm-zero-as-missing",
        "LightGBM regressor, zero_as_missing: the zero band and NaN go each node's default way",
    )
    def lgbm_zero_as_missing():
        rng = np.random.default_rng(187)
        X = rng.normal(size=(1200, 3)).astype(np.float32).astype(np.float64)
        X[rng.random(1200) < 0.3, 0] = 0.0
        X[rng.random(1200) < 0.1, 1] = 0.0
        X[rng.random(X.shape) < 0.08] = np.nan
        y = np.nan_to_num(X[:, 2]) + np.where(np.isnan(X[:, 0]) | (X[:, 0] == 0.0), 2.0, np.nan_to_num(X[:, 0]))
        model = lightgbm.LGBMRegressor(n_estimators=8, num_leaves=6, zero_as_missing=True, **_LIGHTGBM_FIXED)
        return model.fit(X, y.astype(np.float32))


# ---------------------------------------------------------------- XGBoost on pandas categories

try:
    import xgboost
except ModuleNotFoundError as exc:
    if exc.name != "xgboost":
        raise
    xgboost = None
    _missing("xgboost")

_XGBOOST_FIXED = {"n_jobs": 1, "random_state": 0, "tree_method": "hist", "enable_categorical": True}


def _xgboost_frame(n: int, seed: int):
    """A numeric column (float32 values) and two pandas category columns of strings, NaN in each."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "span": rng.normal(size=n).astype(np.float32).astype(np.float64),
            "bird": pd.Categorical(rng.choice(["auk", "crow", "heron", "kiwi", "owl", "puffin"], n)),
            "food": pd.Categorical(rng.choice(["fish", "insects", "nectar", "seeds"], n)),
        }
    )
    signal = df["span"] + 1.5 * df["bird"].isin(["crow", "kiwi"]).to_numpy() - (df["food"] == "fish").to_numpy()
    for column in ("bird", "food"):
        df.loc[rng.random(n) < 0.1, column] = np.nan
    return df, signal.to_numpy() + rng.normal(0, 0.3, n)


if xgboost is not None:

    @case(
        "xgboost-categories",
        "xgb-pandas-categories",
        "XGBoost regressor, enable_categorical: partition splits on pandas string categories, NaN",
        since=("3.1", "XGBoost saves the category names in the model from 3.1 on", "xgboost"),
    )
    def xgb_pandas_categories():
        df, signal = _xgboost_frame(1000, seed=185)
        model = xgboost.XGBRegressor(n_estimators=6, max_depth=3, max_cat_to_onehot=1, **_XGBOOST_FIXED)
        return model.fit(df, signal.astype(np.float32))

    @case(
        "xgboost-categories",
        "xgb-pandas-categories-one-hot",
        "XGBoost binary classifier, enable_categorical: one-hot category splits, NaN",
        since=("3.1", "XGBoost saves the category names in the model from 3.1 on", "xgboost"),
    )
    def xgb_pandas_categories_one_hot():
        df, signal = _xgboost_frame(1000, seed=186)
        model = xgboost.XGBClassifier(n_estimators=6, max_depth=3, max_cat_to_onehot=8, **_XGBOOST_FIXED)
        return model.fit(df, signal > np.median(signal))


FEATURES.update(
    {
        "number-category-splits": "Category splits on numbers: histogram boosting's exact codes (numeric, "
        "pandas integer and boolean columns), LightGBM's int truncation (categorical_feature on numbers).",
        "lightgbm-zero-as-missing": "LightGBM's zero_as_missing: values in [-kZeroThreshold, kZeroThreshold] and "
        "NaN go each node's default way (a missing-band step).",
        "xgboost-categories": "XGBoost's enable_categorical on pandas string categories: partition and one-hot "
        "splits, NaN the default way, a category it never saw missing.",
    }
)
