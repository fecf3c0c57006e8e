"""Seeded fits for LightGBM and for the exp link (generators.py imports this module last).

Feature "link-functions": histogram gradient boosting with the poisson and gamma losses,
whose prediction is exp of the raw score. Feature "lightgbm": LightGBM's regressors and
classifiers, every objective crossform exports, a raw Booster with its feature names, a
random forest, early stopping, NaN under missing_type None and NaN, and thresholds inside
LightGBM's zero band (|x| <= 1e-35 reads as 0.0). Expected outputs come from LightGBM's own
predict / predict_proba (crossform.sklearn.expect), the leaves from its pred_leaf.

LightGBM runs in one thread with deterministic=True and force_row_wise=True, so that the same
code fits the same trees on every machine.
"""

from __future__ import annotations

import lightgbm
import numpy as np
import pandas as pd
from generators import FEATURES, NUMERIC, _machine_independent, birds, case, numbers
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

# one thread, fixed histogram layout, no output: the same trees on every machine
_FIXED = {"n_jobs": 1, "deterministic": True, "force_row_wise": True, "verbose": -1, "random_state": 0}


def _counts(X: np.ndarray, seed: int) -> np.ndarray:
    """Non-negative targets with a log-linear mean (NaN reads as 0)."""
    rng = np.random.default_rng(seed)
    signal = np.nan_to_num(X[:, 0]) * 0.4 - np.nan_to_num(X[:, 1]) * 0.3 + 0.5
    return rng.poisson(np.exp(np.clip(signal, -3, 3))).astype(np.float64)


def _positive(X: np.ndarray, seed: int) -> np.ndarray:
    """Strictly positive targets (gamma), rounded to float32 so that every machine fits the same."""
    rng = np.random.default_rng(seed)
    signal = np.nan_to_num(X[:, 0]) * 0.3 + np.nan_to_num(X[:, 2]) * 0.2
    return _machine_independent(rng.gamma(2.0, np.exp(np.clip(signal, -3, 3)) / 2.0) + 1e-3)


# ---------------------------------------------------------------- the exp link


@case(
    "link-functions", "hgb-poisson", "histogram boosting regressor, poisson loss: exp of the raw score, NaN in training"
)
def hgb_poisson():
    X, _ = numbers(700, 4, seed=71, task="regression", nan=0.1)
    return HistGradientBoostingRegressor(loss="poisson", max_iter=15, max_leaf_nodes=8, random_state=0).fit(
        X, _counts(X, 71)
    )


@case("link-functions", "hgb-gamma", "histogram boosting regressor, gamma loss: exp of the raw score")
def hgb_gamma():
    X, _ = numbers(700, 4, seed=72, task="regression")
    return HistGradientBoostingRegressor(loss="gamma", max_iter=15, max_leaf_nodes=8, random_state=0).fit(
        X, _positive(X, 72)
    )


# ---------------------------------------------------------------- LightGBM


@case(
    "lightgbm", "lgbm-regression", "LGBMRegressor on a DataFrame: NaN in two features (missing_type NaN), none in two"
)
def lgbm_regression():
    df = birds(800, seed=73, missing=0.0)[NUMERIC]
    rng = np.random.default_rng(73)
    df = df.assign(depth=rng.normal(size=len(df)))
    for col in ("wingspan", "weight"):
        df.loc[rng.random(len(df)) < 0.15, col] = np.nan
    y = _machine_independent(
        np.nan_to_num(df.wingspan.to_numpy(), nan=2.0) * 3 - np.log(df.weight.fillna(1.0)) + df.depth
    )
    return lightgbm.LGBMRegressor(n_estimators=12, num_leaves=8, **_FIXED).fit(df, y)


@case("lightgbm", "lgbm-binary", "LGBMClassifier, binary: sigmoid of the raw score, [1 - p, p]")
def lgbm_binary():
    X, y = numbers(800, 5, seed=74, nan=0.1, float32=True)
    return lightgbm.LGBMClassifier(n_estimators=10, num_leaves=6, **_FIXED).fit(X, np.where(y == 1, "yes", "no"))


@case("lightgbm", "lgbm-multiclass", "LGBMClassifier, three classes: a tree per class and iteration, softmax")
def lgbm_multiclass():
    X, y = numbers(900, 5, seed=75, classes=3, float32=True)
    return lightgbm.LGBMClassifier(n_estimators=6, num_leaves=5, **_FIXED).fit(X, y)


@case("lightgbm", "lgbm-multiclassova", "LGBMClassifier, multiclassova: one sigmoid per class, not normalised")
def lgbm_multiclassova():
    X, y = numbers(900, 5, seed=86, classes=3, nan=0.1, float32=True)
    return lightgbm.LGBMClassifier(objective="multiclassova", n_estimators=5, num_leaves=5, **_FIXED).fit(X, y)


@case("lightgbm", "lgbm-poisson", "LGBMRegressor, poisson objective: exp of the raw score, NaN in training")
def lgbm_poisson():
    X, _ = numbers(700, 4, seed=76, task="regression", nan=0.1, float32=True)
    return lightgbm.LGBMRegressor(objective="poisson", n_estimators=10, num_leaves=6, **_FIXED).fit(X, _counts(X, 76))


@case("lightgbm", "lgbm-gamma", "LGBMRegressor, gamma objective: exp of the raw score")
def lgbm_gamma():
    X, _ = numbers(700, 4, seed=77, task="regression", float32=True)
    return lightgbm.LGBMRegressor(objective="gamma", n_estimators=10, num_leaves=6, **_FIXED).fit(X, _positive(X, 77))


@case("lightgbm", "lgbm-tweedie", "LGBMRegressor, tweedie objective (variance power 1.3): exp of the raw score")
def lgbm_tweedie():
    X, _ = numbers(700, 4, seed=78, task="regression", float32=True)
    return lightgbm.LGBMRegressor(
        objective="tweedie", tweedie_variance_power=1.3, n_estimators=10, num_leaves=6, **_FIXED
    ).fit(X, _counts(X, 78))


@case(
    "lightgbm",
    "lgbm-l1-early-stopping",
    "a Booster trained on, l1 objective, early stopping: predict uses the best_iteration trees of more",
)
def lgbm_l1_early_stopping():
    X, y = numbers(900, 4, seed=79, task="regression", float32=True)
    params = {"objective": "l1", "num_leaves": 6, "learning_rate": 0.3, "num_threads": 1, **_FIXED}
    params.pop("n_jobs")
    return lightgbm.train(
        params,
        lightgbm.Dataset(X[:600], label=y[:600]),
        num_boost_round=200,
        valid_sets=[lightgbm.Dataset(X[600:], label=y[600:])],
        callbacks=[lightgbm.early_stopping(3, verbose=False)],
        keep_training_booster=True,  # keeps every tree; predict stops at best_iteration
    )


@case("lightgbm", "lgbm-random-forest", "LGBMRegressor with boosting='rf': the trees' average (average_output)")
def lgbm_random_forest():
    X, y = numbers(700, 4, seed=80, task="regression", nan=0.1, float32=True)
    return lightgbm.LGBMRegressor(
        boosting_type="rf", n_estimators=6, num_leaves=8, subsample=0.7, subsample_freq=1, **_FIXED
    ).fit(X, y)


@case("lightgbm", "lgbm-zero-band", "LGBMClassifier on values within 1e-30 of zero: thresholds in LightGBM's zero band")
def lgbm_zero_band():
    rng = np.random.default_rng(81)
    n = 900
    # tiny values on both sides of zero, exact zeros, and values far from it
    tiny = rng.choice([-1e-30, -1e-35, -1e-36, 0.0, 1e-36, 1e-35, 1e-30, -2.0, 2.0], size=(n, 3))
    X = np.column_stack([tiny, rng.normal(size=n)])
    y = ((X[:, 0] > 0) ^ (X[:, 1] < 0) ^ (X[:, 3] > 0.5)).astype(int)
    return lightgbm.LGBMClassifier(n_estimators=8, num_leaves=6, min_child_samples=5, **_FIXED).fit(X, y)


@case(
    "lightgbm",
    "lgbm-pandas-categories",
    "LGBMClassifier on pandas category columns (bird, food): category-in-set splits of LightGBM's codes",
)
def lgbm_pandas_categories():
    df = birds(900, seed=85, missing=0.1)
    frame = df[["bird", "food", "wingspan", "weight"]].astype({"bird": "category", "food": "category"})
    y = (df.bird == "owl") | ((df.food == "fish") & (df.wingspan.fillna(1.0) > 1.2))
    return lightgbm.LGBMClassifier(n_estimators=8, num_leaves=6, min_data_per_group=5, cat_smooth=1, **_FIXED).fit(
        frame, y.to_numpy()
    )


@case("lightgbm", "lgbm-booster", "a raw lightgbm.Booster (lightgbm.train) with its feature names, binary objective")
def lgbm_booster():
    X, y = numbers(800, 4, seed=82, nan=0.1, float32=True)
    data = lightgbm.Dataset(pd.DataFrame(X, columns=["span", "mass", "height", "speed"]), label=y)
    params = {"objective": "binary", "num_leaves": 6, "num_threads": 1, **_FIXED}
    params.pop("n_jobs")
    return lightgbm.train(params, data, num_boost_round=8)


@case("lightgbm", "lgbm-booster-multiclass", "a raw lightgbm.Booster, multiclass objective: its predict is softmax")
def lgbm_booster_multiclass():
    X, y = numbers(800, 4, seed=83, classes=3, float32=True)
    params = {"objective": "multiclass", "num_class": 3, "num_leaves": 5, "num_threads": 1, **_FIXED}
    params.pop("n_jobs")
    return lightgbm.train(params, lightgbm.Dataset(X, label=y), num_boost_round=5)


@case("lightgbm", "lgbm-pipeline", "a pipeline: StandardScaler, then LGBMRegressor, on bird measurements with NaN")
def lgbm_pipeline():
    df = birds(700, seed=84, missing=0.1)[NUMERIC]
    y = _machine_independent(df.wingspan.fillna(1.0) * 2 + np.log(df.weight.fillna(1.0)))
    return Pipeline(
        [("scale", StandardScaler()), ("model", lightgbm.LGBMRegressor(n_estimators=8, num_leaves=6, **_FIXED))]
    ).fit(df, y)


FEATURES.update(
    {
        "link-functions": "Log-link regressors: the exp of the raw score (histogram boosting's poisson and gamma).",
        "lightgbm": "LightGBM: every exported objective, NaN under missing_type None and NaN, the zero band, "
        "best_iteration, random forests and raw Boosters; outputs from LightGBM itself.",
    }
)
