"""Linear models: regressors, logistic regression and SGD classifiers.

scikit-learn scores ``X @ coef_.T + intercept_`` in float64. A binary
classifier has one score: LogisticRegression and SGDClassifier(log_loss)
give ``[1 - expit(s), expit(s)]`` (post transform "logistic" on one
output); a multinomial LogisticRegression gives the softmax of one score
per class. A classifier without ``predict_proba`` (SGDClassifier with the
hinge and other margin losses) exports its decision scores, as
``decision_function`` gives them, and predicts class 1 when the one score
is > 0, or the class of the largest score.
"""

from __future__ import annotations

import numpy as np
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

from .. import ir
from ..errors import IRValidationError, UnsupportedEstimatorError
from ._context import Context, ModelSpec


def _checked(est, cols: list, ctx: Context) -> tuple:
    name = type(est).__name__
    if est.n_features_in_ != len(cols):
        raise UnsupportedEstimatorError(
            f"{name} expects {est.n_features_in_} features but the pipeline gives it {len(cols)}."
        )
    ctx.require(cols, ir.NUMERIC, name)
    coef = np.asarray(est.coef_, dtype=np.float64)
    if coef.ndim == 1:
        coef = coef[None, :]
    intercept = np.broadcast_to(np.asarray(est.intercept_, dtype=np.float64), (coef.shape[0],)).copy()
    return name, coef, intercept


def convert_linear_regressor(est, ctx: Context, cols: list) -> ModelSpec:
    name, coef, intercept = _checked(est, cols, ctx)
    if coef.shape[0] != 1:
        raise UnsupportedEstimatorError(
            f"{name} was fitted on {coef.shape[0]} targets; crossform exports single-target models."
        )
    return ModelSpec(tuple(cols), lambda features: ir.LinearModel(features, coef, intercept))


def _classes(est, name: str) -> tuple:
    try:
        return ir.class_labels(est.classes_)
    except IRValidationError as exc:
        raise UnsupportedEstimatorError(f"{name} has class labels crossform cannot export: {exc}") from None


def convert_logistic_regression(est, ctx: Context, cols: list) -> ModelSpec:
    name, coef, intercept = _checked(est, cols, ctx)
    classes = _classes(est, name)
    post = "logistic" if coef.shape[0] == 1 else "softmax"
    return ModelSpec(tuple(cols), lambda features: ir.LinearModel(features, coef, intercept, post, classes))


def convert_sgd_classifier(est, ctx: Context, cols: list) -> ModelSpec:
    name, coef, intercept = _checked(est, cols, ctx)
    classes = _classes(est, name)
    if hasattr(est, "predict_proba"):
        if est.loss != "log_loss" or coef.shape[0] != 1:
            raise UnsupportedEstimatorError(
                f"{name}(loss={est.loss!r}) with {len(classes)} classes computes probabilities crossform does not "
                "export yet (one-vs-rest normalised or modified-Huber ones); crossform exports the binary log_loss "
                "model, and every margin loss (hinge, squared_hinge, perceptron, ...) as decision scores."
            )
        post = "logistic"
    else:
        post = "none"
    return ModelSpec(tuple(cols), lambda features: ir.LinearModel(features, coef, intercept, post, classes))


def convert_ridge_classifier(est, ctx: Context, cols: list) -> ModelSpec:
    name, coef, intercept = _checked(est, cols, ctx)
    classes = _classes(est, name)
    return ModelSpec(tuple(cols), lambda features: ir.LinearModel(features, coef, intercept, "none", classes))


CONVERTERS = {
    LinearRegression: convert_linear_regressor,
    Ridge: convert_linear_regressor,
    Lasso: convert_linear_regressor,
    ElasticNet: convert_linear_regressor,
    SGDRegressor: convert_linear_regressor,
    LogisticRegression: convert_logistic_regression,
    SGDClassifier: convert_sgd_classifier,
    RidgeClassifier: convert_ridge_classifier,
}
