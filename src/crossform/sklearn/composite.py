"""Models over other models' outputs: VotingClassifier (soft and hard voting), VotingRegressor,
StackingClassifier and StackingRegressor (convert_stacking, SEMANTICS note 18).

scikit-learn 1.9.1's ``VotingClassifier.predict_proba`` is ``np.average`` of its members'
``predict_proba`` over the member axis, with ``weights`` (without weights, ``np.mean``);
``VotingRegressor.predict`` is ``np.average`` of its members' ``predict``. numpy adds the
members' (weighted) outputs over that outer axis as a left fold in member order, and divides
by the sum of the weights, which numpy adds pairwise from 8 weights on: the composite
"average" rule (docs/SEMANTICS.md note 16), with the divisor taken from ``np.average`` itself.
Hard voting (``predict``: ``np.argmax(np.bincount(codes, weights))`` over the members' predicted
class codes) is the composite "vote" rule: a linear member votes by its decision scores (its
``predict``), a tree member by the first of equal maxima of its outputs (note 17).
Each member is converted over the voting model's own columns; its classes are the codes the
voting model fitted it on (``le_``), which stand for the voting model's ``classes_``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn.base import is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier, StackingRegressor, VotingClassifier, VotingRegressor
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    RidgeClassifier,
    RidgeClassifierCV,
    RidgeCV,
)

from .. import ir
from ..errors import IRValidationError, UnsupportedEstimatorError
from ._context import Context, ModelSpec, qualified_name


def _member_spec(name: str, label: str, member, ctx: Context, cols: list) -> ModelSpec:
    spec = ctx.convert(member, cols)
    if not isinstance(spec, ModelSpec):
        raise UnsupportedEstimatorError(f"{name} member {label!r} ({qualified_name(type(member))}) is no model.")
    if [c.value for c in spec.columns] != [c.value for c in cols]:
        raise UnsupportedEstimatorError(
            f"{name} member {label!r} ({qualified_name(type(member))}) reads {len(spec.columns)} columns of its "
            f"own making or a subset of the {len(cols)} the ensemble is given; crossform exports members "
            "that each read every column the ensemble reads, as they are (no pipeline of their own, no "
            "feature subsets)."
        )
    return spec


def _members(est, ctx: Context, cols: list) -> list:
    name = type(est).__name__
    kept = [(n, e) for n, e in est.estimators if not (isinstance(e, str) and e == "drop")]
    return [
        (label, member, _member_spec(name, label, member, ctx, cols))
        for (label, _), member in zip(kept, est.estimators_)
    ]


def _divisor(weights, n_members: int, shape: tuple, axis: int) -> float:
    """What ``np.average`` divides by, from ``np.average`` itself (``returned=True``)."""
    if weights is None:
        return float(n_members)
    _, total = np.average(np.zeros(shape), axis=axis, weights=weights, returned=True)
    return float(np.asarray(total).reshape(-1)[0])


def hard_votes(estimator, X) -> np.ndarray:
    """What a hard VotingClassifier (the last step of ``estimator``) counts for each row: its
    ``np.bincount`` of the members' predicted class codes with its weights, one column per class
    (``minlength``: scikit-learn's argmax over the shorter count picks the same class, since the
    weights are >= 0). The package's ``votes(c)`` outputs are checked against these."""
    from .compose import pipeline_steps

    steps = pipeline_steps(estimator)
    for step in steps[:-1]:
        X = step.transform(X)
    model = steps[-1]
    codes = model._predict(X)
    width = len(model.classes_)
    return np.array(
        [np.bincount(row, weights=model._weights_not_none, minlength=width) for row in codes], dtype=np.float64
    ).reshape(len(codes), width)


def is_hard_voting(model) -> bool:
    return isinstance(model, VotingClassifier) and model.voting == "hard"


def convert_voting_classifier(est, ctx: Context, cols: list) -> ModelSpec:
    name = type(est).__name__
    hard = est.voting == "hard"
    try:
        classes = ir.class_labels(est.classes_)
    except IRValidationError as exc:
        raise UnsupportedEstimatorError(f"{name} has class labels crossform cannot export: {exc}") from None
    specs = _members(est, ctx, cols)
    weights = est._weights_not_none
    if hard and weights is not None and min(weights) < 0:
        raise UnsupportedEstimatorError(
            f"{name}(voting='hard') has a negative weight ({min(weights)!r}); np.bincount's argmax over the classes "
            "voted for then depends on which classes got no vote, which crossform does not state."
        )
    divisor = None if hard else _divisor(weights, len(specs), (len(specs), 1, len(classes)), 0)

    def build(features: tuple) -> ir.Composite:
        members = []
        for label, member, spec in specs:
            model = spec.build(features)
            if model.classes is None or len(model.classes) != len(classes):
                raise UnsupportedEstimatorError(
                    f"{name} member {label!r} ({qualified_name(type(member))}) gives no "
                    f"{'class' if hard else 'probability per class'} of the {len(classes)} classes."
                )
            changes = {"classes": classes}
            if hard and isinstance(model, ir.LinearModel):
                # a linear classifier's predict is the sign or argmax of its decision scores
                changes["post_transform"] = "none"
            members.append(dataclasses.replace(model, **changes))
        try:
            return ir.Composite(tuple(members), "vote" if hard else "average", weights, divisor, classes)
        except IRValidationError as exc:
            raise UnsupportedEstimatorError(f"{name}: crossform cannot export its members' outputs: {exc}") from None

    return ModelSpec(tuple(cols), build)


def convert_voting_regressor(est, ctx: Context, cols: list) -> ModelSpec:
    name = type(est).__name__
    specs = _members(est, ctx, cols)
    weights = est._weights_not_none
    divisor = _divisor(weights, len(specs), (1, len(specs)), 1)

    def build(features: tuple) -> ir.Composite:
        try:
            members = tuple(spec.build(features) for _, _, spec in specs)
            return ir.Composite(members, "average", weights, divisor)
        except IRValidationError as exc:
            raise UnsupportedEstimatorError(f"{name}: crossform cannot export its members' outputs: {exc}") from None

    return ModelSpec(tuple(cols), build)


# final estimators a stack can end in: their scores are X @ coef_.T + intercept_ (LogisticRegression
# then its logistic or softmax, the others their decision or prediction)
FINAL_CLASSIFIERS = {LogisticRegression: None, RidgeClassifier: "none", RidgeClassifierCV: "none"}
FINAL_REGRESSORS = (LinearRegression, Ridge, RidgeCV, Lasso, ElasticNet)


def _final(est, classes, width: int, passthrough_features: tuple) -> callable:
    name = type(est).__name__
    final = est.final_estimator_
    kinds = FINAL_CLASSIFIERS if classes is not None else dict.fromkeys(FINAL_REGRESSORS)
    if type(final) not in kinds:
        raise UnsupportedEstimatorError(
            f"{name} ends in final estimator {qualified_name(type(final))}; crossform exports a stack whose final "
            f"estimator is one of {', '.join(sorted(k.__name__ for k in kinds))} (a linear model over the "
            "members' columns)."
        )
    coef = np.asarray(final.coef_, dtype=np.float64)
    coef = coef[None, :] if coef.ndim == 1 else coef
    intercept = np.broadcast_to(np.asarray(final.intercept_, dtype=np.float64), (coef.shape[0],)).copy()
    if coef.shape[1] != width:
        raise UnsupportedEstimatorError(
            f"{name}'s final estimator reads {coef.shape[1]} columns; crossform's stack gives it {width}."
        )
    post = kinds.get(type(final)) or ("logistic" if coef.shape[0] == 1 else "softmax")
    return lambda features: ir.LinearModel(features, coef, intercept, post if classes is not None else "none", classes)


def convert_stacking(est, ctx: Context, cols: list) -> ModelSpec:
    """StackingClassifier / StackingRegressor: each member's ``stack_method_`` output (a classifier's
    predict_proba, its second column only for two classes, or a linear member's decision_function;
    a regressor's predict), in member order, then the columns themselves under passthrough, into the
    final linear estimator (sklearn/ensemble/_stacking.py, _concatenate_predictions)."""
    name = type(est).__name__
    classifier = is_classifier(est)
    classes = None
    if classifier:
        try:
            classes = ir.class_labels(est.classes_)
        except IRValidationError as exc:
            raise UnsupportedEstimatorError(f"{name} has class labels crossform cannot export: {exc}") from None
    kept = [
        (label, member, method)
        for (label, _), member, method in zip(est.estimators, est.estimators_, est.stack_method_)
        if not (isinstance(member, str) and member == "drop")
    ]
    specs = []
    for label, member, method in kept:
        spec = _member_spec(name, label, member, ctx, cols)
        if classifier and method not in ("predict_proba", "decision_function"):
            raise UnsupportedEstimatorError(
                f"{name} member {label!r} stacks its {method} (a predicted class as a number); crossform stacks "
                "predict_proba and a linear member's decision_function."
            )
        specs.append((label, member, method, spec))

    def build(features: tuple) -> ir.Composite:
        members = []
        for label, member, method, spec in specs:
            model = spec.build(features)
            if classifier:
                if model.classes is None or len(model.classes) != len(classes):
                    raise UnsupportedEstimatorError(
                        f"{name} member {label!r} ({qualified_name(type(member))}) gives no score per class."
                    )
                changes = {"classes": classes}
                if method == "decision_function":
                    if not isinstance(model, ir.LinearModel):
                        raise UnsupportedEstimatorError(
                            f"{name} member {label!r} stacks the decision_function of "
                            f"{qualified_name(type(member))}; crossform stacks a linear member's decision scores."
                        )
                    changes["post_transform"] = "none"
                model = dataclasses.replace(model, **changes)
            members.append(model)
        members = tuple(members)
        final_features = ir.stack_columns(members, bool(est.passthrough))
        final = _final(est, classes, len(final_features), features)(final_features)
        try:
            return ir.Composite(members, "stack", classes=classes, final=final, passthrough=bool(est.passthrough))
        except IRValidationError as exc:
            raise UnsupportedEstimatorError(f"{name}: crossform cannot export its members' outputs: {exc}") from None

    return ModelSpec(tuple(cols), build)


def _breakpoints(name: str, label: str, calibrator) -> np.ndarray:
    """An IsotonicRegression(out_of_bounds="clip")'s (X_thresholds_, y_thresholds_) rows. Its
    predict clips T to [X_min_, X_max_] (the first and last thresholds) and calls scipy's
    interp1d(kind="linear"), which hands float64 data to numpy's interp; one threshold predicts
    its y everywhere (sklearn/isotonic.py, _build_f). All of that is isotonic_interpolate."""
    x = np.asarray(calibrator.X_thresholds_)
    y = np.asarray(calibrator.y_thresholds_)
    if (
        calibrator.out_of_bounds != "clip"
        or x.dtype != np.float64
        or y.dtype != np.float64
        or not len(x)
        or x[0] != calibrator.X_min_
        or x[-1] != calibrator.X_max_
        or (np.diff(x) <= 0).any()
        or not np.isfinite(x).all()
        or not np.isfinite(y).all()
    ):
        raise UnsupportedEstimatorError(
            f"{name}: {label}'s isotonic calibrator is not float64 breakpoints, finite, strictly increasing from "
            f"X_min_ to X_max_, clipped (out_of_bounds={calibrator.out_of_bounds!r}, dtype {x.dtype}, "
            f"{len(x)} thresholds); crossform states only those."
        )
    return np.column_stack([x, y])


def convert_calibrated(est, ctx: Context, cols: list) -> ModelSpec:
    """CalibratedClassifierCV with method "sigmoid" or "isotonic", ensemble on or off
    (sklearn/calibration.py): each calibrated classifier's base estimator gives its response
    (decision_function when it has one, else predict_proba; for two classes the positive column),
    each column through its _SigmoidCalibration, expit(-(a * t + b)), or its IsotonicRegression
    (numpy's interp between its thresholds, _breakpoints); then the normalisation and the mean of
    CalibratedClassifierCV.predict_proba: the composite "calibrate" rule (SEMANTICS note 19)."""
    name = type(est).__name__
    if est.method not in ("sigmoid", "isotonic"):
        raise UnsupportedEstimatorError(
            f"{name}(method={est.method!r}): crossform exports method='sigmoid' and method='isotonic'; "
            "temperature scaling is not exported yet."
        )
    try:
        classes = ir.class_labels(est.classes_)
    except IRValidationError as exc:
        raise UnsupportedEstimatorError(f"{name} has class labels crossform cannot export: {exc}") from None
    specs = []
    for k, calibrated in enumerate(est.calibrated_classifiers_):
        base = calibrated.estimator
        label = f"calibrated classifier {k}"
        if len(base.classes_) != len(classes):
            raise UnsupportedEstimatorError(f"{name}: {label} was fitted on {len(base.classes_)} of the classes.")
        decision = hasattr(base, "decision_function")
        if est.method == "isotonic":
            params = tuple(_breakpoints(name, label, c) for c in calibrated.calibrators)
        else:
            params = np.array([[c.a_, c.b_] for c in calibrated.calibrators], dtype=np.float64)
        specs.append((label, base, decision, params, _member_spec(name, label, base, ctx, cols)))

    def build(features: tuple) -> ir.Composite:
        members = []
        for label, base, decision, _, spec in specs:
            model = spec.build(features)
            if decision and getattr(model, "divisors", ()):
                # AdaBoost's decision_function divides its votes by the weight sum alone, where its
                # probabilities' softmax reads them divided by K - 1 as well (and two classes take
                # the difference of the two columns): not the divided sums this model gives
                raise UnsupportedEstimatorError(
                    f"{name}: {label} ({qualified_name(type(base))}) is calibrated on its decision_function, "
                    "AdaBoost's weighted votes, which crossform does not give as a score (only its probabilities)."
                )
            if decision and isinstance(model, ir.LinearModel):
                model = dataclasses.replace(model, post_transform="none", classes=classes)
            elif decision and model.is_binary:  # a boosted binary model's raw score: a raw score model
                model = dataclasses.replace(model, post_transform="none", classes=None)
            elif decision and isinstance(model, ir.TreeEnsemble) and model.post_transform == "softmax":
                # a boosted multiclass model's decision_function: its raw per-class sums
                model = dataclasses.replace(model, post_transform="none", classes=classes)
            elif decision:
                raise UnsupportedEstimatorError(
                    f"{name}: {label} ({qualified_name(type(base))}) is calibrated on its decision_function, raw "
                    "scores per class that crossform does not give for this model."
                )
            else:
                model = dataclasses.replace(model, classes=classes)
            members.append(model)
        try:
            return ir.Composite(
                tuple(members),
                "calibrate",
                classes=classes,
                calibration=tuple(p for _, _, _, p, _ in specs),
                calibration_method=est.method,
            )
        except IRValidationError as exc:
            raise UnsupportedEstimatorError(f"{name}: crossform cannot export its members' outputs: {exc}") from None

    return ModelSpec(tuple(cols), build)


CONVERTERS = {
    CalibratedClassifierCV: convert_calibrated,
    VotingClassifier: convert_voting_classifier,
    VotingRegressor: convert_voting_regressor,
    StackingClassifier: convert_stacking,
    StackingRegressor: convert_stacking,
}
