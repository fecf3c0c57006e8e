"""Models over other models' outputs: VotingClassifier (soft voting) and VotingRegressor.

scikit-learn 1.9.1's ``VotingClassifier.predict_proba`` is ``np.average`` of its members'
``predict_proba`` over the member axis, with ``weights`` (without weights, ``np.mean``);
``VotingRegressor.predict`` is ``np.average`` of its members' ``predict``. numpy adds the
members' (weighted) outputs over that outer axis as a left fold in member order, and divides
by the sum of the weights, which numpy adds pairwise from 8 weights on: the composite
"average" rule (docs/SEMANTICS.md note 16), with the divisor taken from ``np.average`` itself.
Each member is converted over the voting model's own columns; its classes are the codes the
voting model fitted it on (``le_``), which stand for the voting model's ``classes_``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn.ensemble import VotingClassifier, VotingRegressor

from .. import ir
from ..errors import IRValidationError, UnsupportedEstimatorError
from ._context import Context, ModelSpec, qualified_name


def _members(est, ctx: Context, cols: list) -> list:
    name = type(est).__name__
    specs = []
    for (label, _), member in zip(
        [(n, e) for n, e in est.estimators if not (isinstance(e, str) and e == "drop")], est.estimators_
    ):
        spec = ctx.convert(member, cols)
        if not isinstance(spec, ModelSpec):
            raise UnsupportedEstimatorError(f"{name} member {label!r} ({qualified_name(type(member))}) is no model.")
        if [c.value for c in spec.columns] != [c.value for c in cols]:
            raise UnsupportedEstimatorError(
                f"{name} member {label!r} ({qualified_name(type(member))}) reads {len(spec.columns)} columns of its "
                f"own making or a subset of the {len(cols)} the voting model is given; crossform exports members "
                "that each read every column the voting model reads, as they are (no pipeline of their own, no "
                "feature subsets)."
            )
        specs.append((label, member, spec))
    return specs


def _divisor(weights, n_members: int, shape: tuple, axis: int) -> float:
    """What ``np.average`` divides by, from ``np.average`` itself (``returned=True``)."""
    if weights is None:
        return float(n_members)
    _, total = np.average(np.zeros(shape), axis=axis, weights=weights, returned=True)
    return float(np.asarray(total).reshape(-1)[0])


def convert_voting_classifier(est, ctx: Context, cols: list) -> ModelSpec:
    name = type(est).__name__
    if est.voting != "soft":
        raise UnsupportedEstimatorError(
            f"{name}(voting={est.voting!r}): crossform exports soft voting (the weighted average of the members' "
            "predict_proba); hard voting, a weighted count of the members' predicted classes, is not exported yet."
        )
    try:
        classes = ir.class_labels(est.classes_)
    except IRValidationError as exc:
        raise UnsupportedEstimatorError(f"{name} has class labels crossform cannot export: {exc}") from None
    specs = _members(est, ctx, cols)
    weights = est._weights_not_none
    divisor = _divisor(weights, len(specs), (len(specs), 1, len(classes)), 0)

    def build(features: tuple) -> ir.Composite:
        members = []
        for label, member, spec in specs:
            model = spec.build(features)
            if model.classes is None or len(model.classes) != len(classes):
                raise UnsupportedEstimatorError(
                    f"{name} member {label!r} ({qualified_name(type(member))}) gives no probability per class."
                )
            members.append(dataclasses.replace(model, classes=classes))
        try:
            return ir.Composite(tuple(members), "average", weights, divisor, classes)
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


CONVERTERS = {
    VotingClassifier: convert_voting_classifier,
    VotingRegressor: convert_voting_regressor,
}
