"""Seeded fits whose trees split on categories given as numbers (generators.py imports this module).

Feature "number-category-splits": histogram boosting with categorical features that are numeric
columns (``categorical_features=[...]``) or pandas 'category' columns of integers or booleans
(``categorical_features="from_dtype"``). scikit-learn encodes them with an OrdinalEncoder of its
own (exact float64 matches; unknown values, negative or not, non-integer values and NaN all become
NaN and go the node's missing way), so the categories may be any numbers, beyond max_bins too.
Expected outputs come from the library's own predict / predict_proba (crossform.sklearn.expect).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from generators import FEATURES, case
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


FEATURES.update(
    {
        "number-category-splits": "Category-in-set splits on numbers: histogram boosting on numeric and pandas "
        "integer or boolean category columns (unseen, negative, non-integer codes, codes beyond max_bins, NaN).",
    }
)
