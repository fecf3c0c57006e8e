"""Every boosting, linear and isolation-forest estimator and encoder beyond the forests, fitted
in several configurations, scores in the reference evaluator exactly as scikit-learn does on the probe rows the
package's checks hold (rows at every split, special values, unknown and
missing categories, random rows; the expected outputs are scikit-learn's)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
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
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, OneHotEncoder, RobustScaler

import crossform
from crossform import evaluator, ir
from crossform.checks import compare

rng = np.random.default_rng(8)


def _numbers(task: str, classes: int = 2, seed: int = 0):
    if task == "regression":
        return make_regression(500, 5, n_informative=3, noise=3.0, random_state=seed)
    return make_classification(
        500, 5, n_informative=3, n_redundant=0, n_classes=classes, n_clusters_per_class=1, random_state=seed
    )


def _holes(task: str, classes: int = 2, categorical: bool = False):
    """_numbers with NaN in a tenth of the cells, and the last column as integer codes when asked."""
    X, y = _numbers(task, classes)
    r = np.random.default_rng(1)
    if categorical:
        X[:, 4] = np.floor(np.abs(X[:, 4]) * 3) % 7
    X[r.random(X.shape) < 0.1] = np.nan
    return X, y


def _categorical_frame():
    """A numeric column and a pandas categorical one with NaN: histogram boosting's
    categorical_features="from_dtype", which it encodes with an OrdinalEncoder of its own."""
    r = np.random.default_rng(2)
    df = pd.DataFrame({"a": r.normal(size=600), "c": pd.Categorical(r.choice(["x", "y", "z", "w"], 600))})
    df.loc[r.random(600) < 0.1, "c"] = np.nan
    return df, ((df.a + (df.c == "y")) > 0.3).to_numpy()


def _birds(n: int = 600, seed: int = 3) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "bird": pd.Series(
                r.choice(["crow", "owl", "kiwi", "heron", "auk"], n, p=[0.4, 0.3, 0.2, 0.07, 0.03]), dtype=object
            ),
            "food": pd.Series(r.choice(["fish", "seeds", "nectar"], n), dtype=object),
            "wingspan": r.normal(1.2, 0.5, n),
            "weight": r.lognormal(0, 1, n),
        }
    )
    for col in df.columns:
        df.loc[r.random(n) < 0.1, col] = np.nan
    return df


def _bird_target(df: pd.DataFrame, task: str):
    s = df.wingspan.fillna(1.0) * 2 + np.log(df.weight.fillna(1.0)) + (df.bird == "owl") - (df.food == "fish")
    if task == "regression":
        return s.to_numpy()
    if task == "multiclass":
        return np.array(["low", "mid", "high"])[np.digitize(s, np.quantile(s, [0.33, 0.66]))]
    return (s > s.median()).to_numpy()


def _encoders(handle_unknown: str, **one_hot) -> ColumnTransformer:
    return ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown=handle_unknown, **one_hot), ["bird", "food"]),
            ("mm", make_pipeline(SimpleImputer(add_indicator=True), MinMaxScaler((-2, 2))), ["wingspan"]),
            ("ra", make_pipeline(SimpleImputer(strategy="median"), RobustScaler()), ["weight"]),
            ("mx", make_pipeline(SimpleImputer(), MaxAbsScaler()), ["wingspan"]),
            ("mi", MissingIndicator(features="all"), ["weight"]),
        ]
    )


FITS = {
    "gb-binary": lambda: GradientBoostingClassifier(n_estimators=8, max_depth=3, random_state=0).fit(
        *_numbers("binary")
    ),
    "gb-multiclass": lambda: GradientBoostingClassifier(n_estimators=4, random_state=0).fit(*_numbers("c", 3)),
    "gb-zero-init": lambda: GradientBoostingRegressor(n_estimators=5, init="zero", random_state=0).fit(
        *_numbers("regression")
    ),
    "lr-binary": lambda: LogisticRegression().fit(*_numbers("binary")),
    "lr-multinomial": lambda: LogisticRegression(max_iter=500).fit(*_numbers("c", 4)),
    "linear": lambda: LinearRegression().fit(*_numbers("regression")),
    "ridge": lambda: Ridge(alpha=2.0).fit(*_numbers("regression")),
    "lasso": lambda: Lasso(alpha=0.3).fit(*_numbers("regression")),
    "elastic-net": lambda: ElasticNet(alpha=0.3).fit(*_numbers("regression")),
    "sgd-regressor": lambda: SGDRegressor(random_state=0).fit(*_numbers("regression")),
    "sgd-hinge-binary": lambda: SGDClassifier(random_state=0).fit(*_numbers("binary")),
    "sgd-hinge-multiclass": lambda: SGDClassifier(random_state=0).fit(*_numbers("c", 3)),
    "sgd-log-binary": lambda: SGDClassifier(loss="log_loss", random_state=0).fit(*_numbers("binary")),
    "ridge-classifier": lambda: RidgeClassifier().fit(*_numbers("c", 3)),
    "hgb-binary-nan": lambda: HistGradientBoostingClassifier(max_iter=6, random_state=0).fit(*_holes("binary")),
    "hgb-multiclass-categorical": lambda: HistGradientBoostingClassifier(
        max_iter=3, categorical_features=[4], random_state=0
    ).fit(*_holes("c", 3, categorical=True)),
    "hgb-absolute-error-categorical": lambda: HistGradientBoostingRegressor(
        loss="absolute_error", max_iter=5, categorical_features=[4], random_state=0
    ).fit(*_holes("regression", categorical=True)),
    "hgb-poisson-nan": lambda: HistGradientBoostingRegressor(loss="poisson", max_iter=6, random_state=0).fit(
        _holes("regression")[0], np.abs(_holes("regression")[1]) / 50
    ),
    "hgb-gamma": lambda: HistGradientBoostingRegressor(loss="gamma", max_iter=6, random_state=0).fit(
        _numbers("regression")[0], np.abs(_numbers("regression")[1]) + 1.0
    ),
    "hgb-pandas-categories": lambda: HistGradientBoostingClassifier(max_iter=4, random_state=0).fit(
        *_categorical_frame()
    ),
    "isolation-forest": lambda: IsolationForest(n_estimators=4, random_state=0).fit(_numbers("binary")[0]),
    "isolation-forest-features": lambda: IsolationForest(n_estimators=4, max_features=3, random_state=0).fit(
        _numbers("binary")[0]
    ),
}
for _policy, _extra in (("error", {}), ("ignore", {"drop": "first"}), ("infrequent_if_exist", {"min_frequency": 40})):
    FITS[f"encoders-{_policy}-logistic"] = lambda p=_policy, e=_extra: Pipeline(
        [("enc", _encoders(p, **e)), ("m", LogisticRegression(max_iter=1000))]
    ).fit(_birds(), _bird_target(_birds(), "binary"))
    FITS[f"encoders-{_policy}-forest"] = lambda p=_policy, e=_extra: Pipeline(
        [("enc", _encoders(p, **e)), ("m", RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0))]
    ).fit(_birds(), _bird_target(_birds(), "multiclass"))
    FITS[f"encoders-{_policy}-boosting"] = lambda p=_policy, e=_extra: Pipeline(
        [("enc", _encoders(p, **e)), ("m", GradientBoostingRegressor(n_estimators=5, random_state=0))]
    ).fit(_birds(), _bird_target(_birds(), "regression"))


@pytest.mark.parametrize("name", FITS)
def test_reference_matches_sklearn(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = FITS[name]()
        package = crossform.from_sklearn(estimator, checks=600)
    scores = evaluator.score(package, package.checks.data())
    result = compare(package.checks, scores, package.model)
    assert result.ok, result.summary() + "\n" + "\n".join(str(m) for m in result.mismatches)
    assert len(package.checks) >= 100
    if isinstance(package.model, ir.TreeEnsemble):
        assert result.leaves_compared


def test_every_policy_has_rows_in_error_and_not():
    """The probe rows reach both sides: some are refused by scikit-learn, most are not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        package = crossform.from_sklearn(FITS["encoders-error-logistic"](), checks=600)
    errors = package.checks.errors
    assert 0 < errors.sum() < len(errors) / 2
    one_hot = next(e for e in package.encoders if isinstance(e, ir.OneHot))
    assert one_hot.unknown == ("error", "error")
