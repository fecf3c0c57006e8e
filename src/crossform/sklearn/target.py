"""TransformedTargetRegressor: a regressor fitted on a transformed target, predicting through the
inverse.

scikit-learn's compose/_target.py (the same in 1.4.2 and 1.9.1): ``predict`` is
``transformer_.inverse_transform(regressor_.predict(X).reshape(-1, 1))``, squeezed back to one
column. With ``func`` / ``inverse_func`` the transformer is
``FunctionTransformer(func, inverse_func, validate=True)``, whose ``inverse_transform`` runs
``check_array`` (a float64 column stays float64, unchanged; NaN or +-inf raises) and then
``inverse_func`` on it: ``np.exp`` or ``np.expm1``, numpy's function of each float64 prediction.
A ``transformer`` is fitted on the target column: StandardScaler's ``inverse_transform`` runs
``X *= scale_`` (with_std) then ``X += mean_`` (with_mean), MinMaxScaler's ``X -= min_`` then
``X /= scale_``, MaxAbsScaler's ``X *= scale_``, RobustScaler's ``X *= scale_`` (with_scaling)
then ``X += center_`` (with_centering), in float64 on a float64 prediction, after a
``check_array`` that lets NaN through and raises on +-inf. Each becomes the steps of the composite "target" rule (SEMANTICS note 22).

``func=np.log`` / ``inverse_func=np.exp`` over a tree regressor whose prediction is its float64
sum keeps the form it had before the "target" rule: the ensemble's own post transform "exp"
(note 10), the same np.exp, so those packages keep their bytes and ids.

A VotingRegressor or StackingRegressor (a composite "average" or "stack") carries the steps
itself, after its combined prediction: a composite is never a member.

Refused by name: other inverse functions and transformers (no format's operations compute them
exactly), regressors whose prediction is float32 (XGBoost: np.exp keeps float32, and
StandardScaler multiplies by ``scale_`` cast to float32 in 1.9.1 but by the float64 ``scale_``
in 1.4.2), and a composite that already has steps (a TransformedTargetRegressor inside another).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

from .. import ir
from ..errors import UnsupportedEstimatorError
from ._context import Context, ModelSpec

FUNCTIONS = {np.exp: "exp", np.expm1: "expm1"}


def _number(value) -> float:
    return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])


def _standard_scaler(t) -> tuple:
    steps = []
    if t.with_std:
        steps.append(("multiply", _number(t.scale_)))
    if t.with_mean:
        steps.append(("add", _number(t.mean_)))
    return tuple(steps)


def _min_max_scaler(t) -> tuple:
    return (("subtract", _number(t.min_)), ("divide", _number(t.scale_)))


def _max_abs_scaler(t) -> tuple:
    return (("multiply", _number(t.scale_)),)


def _robust_scaler(t) -> tuple:
    steps = []
    if t.with_scaling:
        steps.append(("multiply", _number(t.scale_)))
    if t.with_centering:
        steps.append(("add", _number(t.center_)))
    return tuple(steps)


TRANSFORMERS = {
    StandardScaler: _standard_scaler,
    MinMaxScaler: _min_max_scaler,
    MaxAbsScaler: _max_abs_scaler,
    RobustScaler: _robust_scaler,
}


def _steps(est) -> tuple:
    """The inverse target steps of the fitted estimator: () for the identity."""
    name = type(est).__name__
    if est.transformer is not None:
        kind = type(est.transformer_)
        if kind not in TRANSFORMERS:
            raise UnsupportedEstimatorError(
                f"{name}(transformer={kind.__name__}(...)): crossform exports the transformers "
                f"{sorted(k.__name__ for k in TRANSFORMERS)} or inverse_func np.exp / np.expm1; "
                f"got {kind.__name__}, whose inverse_transform no format's operations state exactly."
            )
        return TRANSFORMERS[kind](est.transformer_)
    if est.func is None and est.inverse_func is None:
        return ()
    function = FUNCTIONS.get(est.inverse_func) if _hashable(est.inverse_func) else None
    if function is None:
        inverse = getattr(est.inverse_func, "__name__", type(est.inverse_func).__name__)
        raise UnsupportedEstimatorError(
            f"{name}(inverse_func={inverse}): crossform exports inverse_func np.exp or np.expm1 (or a "
            f"transformer of {sorted(k.__name__ for k in TRANSFORMERS)}); got inverse_func={inverse}, which no format's "
            "operations compute exactly."
        )
    return ((function, None),)


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def convert_transformed_target(est, ctx: Context, cols: list) -> ModelSpec:
    name = type(est).__name__
    steps = _steps(est)
    spec = ctx.convert(est.regressor_, cols)
    if not isinstance(spec, ModelSpec):
        raise UnsupportedEstimatorError(f"{name}'s regressor {type(est.regressor_).__name__} is not a model.")
    if not steps:
        return spec
    regressor = type(est.regressor_).__name__

    def build(features: tuple) -> ir.Model:
        model = spec.build(features)
        if isinstance(model, ir.Composite) and (model.combination not in ir.TARGET_COMBINATIONS or model.target_steps):
            raise UnsupportedEstimatorError(
                f"{name} over {regressor}: expected a tree or linear regressor, or a regressor combined by "
                f"'average' or 'stack' (VotingRegressor, StackingRegressor); found a composite "
                f"{model.combination!r}{' with target steps already' if model.target_steps else ''}, whose "
                "output a further inverse target transform is not stated for."
            )
        if model.classes is not None or model.n_outputs != 1:
            raise UnsupportedEstimatorError(
                f"{name} over {regressor}: expected a regressor with one output, found {model.n_outputs}."
            )
        if any(getattr(m, "accumulate", "float64") != "float64" for m in getattr(model, "members", (model,))):
            raise UnsupportedEstimatorError(
                f"{name} over {regressor}: expected a regressor predicting float64; found accumulate "
                "'float32' (a float32 prediction, which numpy's inverse keeps float32 and "
                "StandardScaler multiplies differently in scikit-learn 1.4 and 1.9)."
            )
        if steps == (("exp", None),) and isinstance(model, ir.TreeEnsemble) and model.post_transform == "none":
            # the ensemble's own exp post transform (note 10): these packages keep their bytes
            return dataclasses.replace(model, post_transform="exp")
        if isinstance(model, ir.Composite):  # a voting or stacking regressor's prediction, then the steps
            return dataclasses.replace(model, target_steps=steps)
        return ir.Composite((model,), "target", target_steps=steps)

    return ModelSpec(spec.columns, build)


CONVERTERS = {
    TransformedTargetRegressor: convert_transformed_target,
}
