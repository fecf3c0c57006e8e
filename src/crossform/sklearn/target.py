"""TransformedTargetRegressor: a regressor fitted on a transformed target, predicting through the
inverse.

scikit-learn's compose/_target.py (the same in 1.4.2 and 1.9.1): ``predict`` is
``transformer_.inverse_transform(regressor_.predict(X).reshape(-1, 1))``, squeezed back to one
column. With ``func`` / ``inverse_func`` the transformer is
``FunctionTransformer(func, inverse_func, validate=True)``, whose ``inverse_transform`` runs
``check_array`` (a float64 column stays float64, unchanged) and then ``inverse_func`` on it. So
``inverse_func=np.exp`` is numpy's exp of each float64 prediction: the post transform ``exp`` of
docs/SEMANTICS.md (note 10, the same np.exp), applied where the regressor's own post transform is
the identity. Without ``func``, ``inverse_func`` and ``transformer`` the transformer is the
identity and the model is the regressor's.

Refused by name: other inverse functions (np.expm1 is not exp(x) - 1 in any format's operations),
a ``transformer`` (StandardScaler's ``x * scale_ + mean_`` after a forest's average or a
boosting sum is a step no model rule states yet), regressors whose own output is not the identity
of a float64 sum (a log link already, XGBoost's float32 predictions, which np.exp keeps float32)
and linear models (no exp post transform).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn.compose import TransformedTargetRegressor

from .. import ir
from ..errors import UnsupportedEstimatorError
from ._context import Context, ModelSpec


def _inverse(est) -> str:
    """The post transform standing for the fitted inverse: "none" (the identity) or "exp"."""
    name = type(est).__name__
    if est.transformer is not None:
        raise UnsupportedEstimatorError(
            f"{name}(transformer={type(est.transformer).__name__}(...)): crossform exports func=np.log with "
            "inverse_func=np.exp, or no transform; an inverse transformer after the regressor's output "
            "is not a rule crossform states yet."
        )
    if est.func is None and est.inverse_func is None:
        return "none"
    if est.inverse_func is np.exp:
        return "exp"
    inverse = getattr(est.inverse_func, "__name__", type(est.inverse_func).__name__)
    raise UnsupportedEstimatorError(
        f"{name}(inverse_func={inverse}): crossform exports inverse_func=np.exp (with func=np.log) or no "
        f"transform; got inverse_func={inverse}, which no format's operations compute exactly."
    )


def convert_transformed_target(est, ctx: Context, cols: list) -> ModelSpec:
    name = type(est).__name__
    post = _inverse(est)
    spec = ctx.convert(est.regressor_, cols)
    if not isinstance(spec, ModelSpec):
        raise UnsupportedEstimatorError(f"{name}'s regressor {type(est.regressor_).__name__} is not a model.")
    if post == "none":
        return spec
    regressor = type(est.regressor_).__name__

    def build(features: tuple) -> ir.Model:
        model = spec.build(features)
        if not isinstance(model, ir.TreeEnsemble):
            raise UnsupportedEstimatorError(
                f"{name}(inverse_func=exp) over {regressor}: crossform states exp of a tree model's output "
                f"only (a {type(model).__name__} has no exp post transform)."
            )
        if model.classes is not None or model.n_outputs != 1:
            raise UnsupportedEstimatorError(
                f"{name} over {regressor}: expected a regressor with one output, found {model.n_outputs}."
            )
        if model.post_transform != "none" or model.accumulate != "float64":
            raise UnsupportedEstimatorError(
                f"{name}(inverse_func=exp) over {regressor}: expected a regressor whose prediction is its "
                f"float64 sum itself (post transform 'none', accumulate 'float64'); found post transform "
                f"{model.post_transform!r}, accumulate {model.accumulate!r}."
            )
        return dataclasses.replace(model, post_transform="exp")

    return ModelSpec(spec.columns, build)


CONVERTERS = {
    TransformedTargetRegressor: convert_transformed_target,
}
