"""Linear and logistic regression, regularised and SGD models.

The cases of the feature "linear".
"""

from __future__ import annotations

import pandas as pd
from generators import CATEGORICAL, NUMERIC, bird_target, birds, case, numbers
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
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
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    OneHotEncoder,
    StandardScaler,
)

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
