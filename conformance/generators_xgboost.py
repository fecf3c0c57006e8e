"""Seeded XGBoost fits for the conformance suite (feature "xgboost"): every objective crossform
exports, NaN at every split (XGBoost's default directions), base_score given and estimated,
rankers' scores and a pipeline. Expected outputs come from XGBoost's own predict and
predict_proba (crossform.sklearn.expect), rows from crossform.vectors at every split: the
rewritten threshold, its float64 neighbours and the float32 values around it, so each split
condition t is met from below, at t (which goes right: XGBoost's x < t) and above.

Imported at the end of generators.py, which registers these with the rest.
"""

from __future__ import annotations

import numpy as np
import xgboost
from generators import NUMERIC, bird_target, birds, case, numbers
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier, XGBRanker, XGBRegressor

# small, single-threaded fits: every kind of decision appears, and the case files stay small
_SMALL = {"n_estimators": 6, "max_depth": 4, "learning_rate": 0.3, "n_jobs": 1, "random_state": 0}


def _counts(X: np.ndarray, seed: int) -> np.ndarray:
    """A positive count target (Poisson) from the first two columns."""
    rng = np.random.default_rng(seed)
    rate = np.exp(0.4 * np.nan_to_num(X[:, 0]) - 0.3 * np.nan_to_num(X[:, 1]))
    return rng.poisson(rate).astype(np.float64)


@case("xgboost", "xgb-regression", "XGBRegressor, reg:squarederror, trained with NaN, base_score estimated")
def xgb_regression():
    X, y = numbers(600, 4, seed=81, task="regression", nan=0.1)
    return XGBRegressor(**_SMALL).fit(X, y)


@case("xgboost", "xgb-regression-base-score", "XGBRegressor, reg:absoluteerror, base_score=0.3 given, no NaN at fit")
def xgb_regression_base_score():
    X, y = numbers(500, 3, seed=82, task="regression")
    return XGBRegressor(objective="reg:absoluteerror", base_score=0.3, **_SMALL).fit(X, y)


@case(
    "xgboost", "xgb-binary", "XGBClassifier, binary:logistic, trained with NaN: predict_proba's [1 - p, p] in float32"
)
def xgb_binary():
    X, y = numbers(600, 4, seed=83, nan=0.1)
    return XGBClassifier(**_SMALL).fit(X, y)


@case("xgboost", "xgb-binary-base-score", "XGBClassifier, binary:logistic, base_score=0.2 (a float32 logit margin)")
def xgb_binary_base_score():
    X, y = numbers(500, 3, seed=84)
    return XGBClassifier(base_score=0.2, **_SMALL).fit(X, y)


@case("xgboost", "xgb-multiclass", "XGBClassifier, multi:softprob, four classes, a tree per class and round")
def xgb_multiclass():
    X, y = numbers(800, 5, seed=85, task="multiclass", nan=0.05, classes=4)
    return XGBClassifier(**_SMALL).fit(X, y)


@case("xgboost", "xgb-poisson", "XGBRegressor, count:poisson: the exp of a float32 margin")
def xgb_poisson():
    X, _ = numbers(600, 3, seed=86, task="regression", nan=0.05)
    return XGBRegressor(objective="count:poisson", **_SMALL).fit(X, _counts(X, 86))


@case("xgboost", "xgb-gamma", "XGBRegressor, reg:gamma, base_score=1.5 (a logf margin)")
def xgb_gamma():
    X, _ = numbers(600, 3, seed=87, task="regression")
    return XGBRegressor(objective="reg:gamma", base_score=1.5, **_SMALL).fit(X, _counts(X, 87) + 0.5)


@case("xgboost", "xgb-tweedie", "XGBRegressor, reg:tweedie (variance power 1.5), zeros in the target")
def xgb_tweedie():
    X, _ = numbers(600, 3, seed=88, task="regression", nan=0.05)
    return XGBRegressor(objective="reg:tweedie", tweedie_variance_power=1.5, **_SMALL).fit(X, _counts(X, 88))


@case("xgboost", "xgb-ranker", "XGBRanker, rank:ndcg: predict's raw scores, query groups at fit only")
def xgb_ranker():
    X, _ = numbers(600, 4, seed=89, task="regression", nan=0.05)
    rng = np.random.default_rng(89)
    relevance = np.clip(np.round(np.nan_to_num(X[:, 0]) + rng.normal(0, 0.5, len(X))), 0, 3)
    qid = np.repeat(np.arange(60), 10)
    return XGBRanker(objective="rank:ndcg", **_SMALL).fit(X, relevance, qid=qid)


@case(
    "xgboost", "xgb-pipeline", "a StandardScaler before XGBClassifier on a DataFrame: the scaled column reaches float32"
)
def xgb_pipeline():
    df = birds(700, seed=90, missing=0.1)
    model = Pipeline([("scale", StandardScaler()), ("model", XGBClassifier(**_SMALL))])
    return model.fit(df[NUMERIC], bird_target(df, "binary").astype(int))


@case(
    "xgboost", "xgb-booster", "a raw Booster from xgboost.train, binary:logistic with feature names: predict's p alone"
)
def xgb_booster():
    X, y = numbers(600, 3, seed=91, nan=0.1)
    data = xgboost.DMatrix(X, label=y, feature_names=["span", "mass", "height"])
    params = {"objective": "binary:logistic", "max_depth": 4, "eta": 0.3, "nthread": 1, "seed": 0}
    return xgboost.train(params, data, num_boost_round=6)


FEATURES = {
    "xgboost": "XGBoost: x < t on float32, default directions for NaN, float32 sums from base_score's margin, "
    "float32 logistic, softmax and exp transforms; regressors, classifiers, rankers' scores.",
}
