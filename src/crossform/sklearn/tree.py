"""Decision trees, random forests and extra trees (classifier and regressor).

scikit-learn averages the trees' leaf values (class fractions for a
classifier) in tree order, starting from zero; that is aggregation
"average". Thresholds are rewritten for float32 inputs (crossform.floats).
A missing value follows each node's ``missing_go_to_left``, unless the fitted
estimator refuses NaN at predict time: then the model does too
(``missing="error"``; see :func:`refuses`).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import is_classifier
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from .. import ir
from ..errors import IRValidationError, UnsupportedEstimatorError
from ..floats import float32_threshold
from ._context import Context, ModelSpec


def tree_from_sklearn(tree, n_classes: int = 0) -> ir.Tree:
    """An ir.Tree from a fitted ``sklearn.tree._tree.Tree``, keeping its node numbering."""
    left = np.asarray(tree.children_left)
    right = np.asarray(tree.children_right)
    leaf = left < 0
    value = np.asarray(tree.value)[:, 0, :]
    if n_classes:
        value = value[:, :n_classes]
    return ir.Tree(
        feature=np.where(leaf, -1, tree.feature),
        threshold=np.where(leaf, 0.0, float32_threshold(tree.threshold)),
        left=np.where(leaf, -1, left),
        right=np.where(leaf, -1, right),
        missing_left=~leaf & np.asarray(tree.missing_go_to_left, dtype=bool),
        value=np.where(leaf[:, None], value, 0.0),
    )


def refuses(est, value: float, method: str = "predict") -> bool:
    """Whether the fitted estimator refuses ``value`` (NaN or an infinity) at predict time.

    scikit-learn decides that in code, by release and by parameters (random forests read NaN
    since 1.4, extra trees since 1.6; isolation forests read NaN and infinities since 1.6), not in
    a fitted attribute, so the estimator itself is asked, with one row of that value."""
    row = np.full((1, est.n_features_in_), value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a model fitted on named columns warns about an array
        try:
            getattr(est, method)(row)
        except ValueError:
            return True
    return False


def convert_trees(est, ctx: Context, cols: list) -> ModelSpec:
    name = type(est).__name__
    if getattr(est, "n_outputs_", 1) != 1:
        raise UnsupportedEstimatorError(
            f"{name} was fitted on {est.n_outputs_} targets; crossform exports single-target models."
        )
    if est.n_features_in_ != len(cols):
        raise UnsupportedEstimatorError(
            f"{name} expects {est.n_features_in_} features but the pipeline gives it {len(cols)}."
        )
    ctx.require(cols, ir.NUMERIC, name)
    sk_trees = [est.tree_] if hasattr(est, "tree_") else [e.tree_ for e in est.estimators_]
    classes = None
    if is_classifier(est):
        try:  # the IR decides which class labels a package can carry
            classes = ir.class_labels(est.classes_)
        except IRValidationError as exc:
            raise UnsupportedEstimatorError(f"{name} has class labels crossform cannot export: {exc}") from None
    trees = tuple(tree_from_sklearn(t, len(classes) if classes else 0) for t in sk_trees)
    missing = "error" if refuses(est, np.nan) else "route"
    return ModelSpec(
        tuple(cols), lambda features: ir.TreeEnsemble(features, trees, "average", classes=classes, missing=missing)
    )


CONVERTERS = {
    DecisionTreeClassifier: convert_trees,
    DecisionTreeRegressor: convert_trees,
    RandomForestClassifier: convert_trees,
    RandomForestRegressor: convert_trees,
    ExtraTreesClassifier: convert_trees,
    ExtraTreesRegressor: convert_trees,
}
