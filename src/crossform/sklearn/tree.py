"""Decision trees, random forests and extra trees (classifier and regressor).

scikit-learn averages the trees' leaf values (class fractions for a
classifier) in tree order, starting from zero; that is aggregation
"average". Thresholds are rewritten for float32 inputs (crossform.floats).
"""

from __future__ import annotations

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
    return ModelSpec(tuple(cols), lambda features: ir.TreeEnsemble(features, trees, "average", classes=classes))


CONVERTERS = {
    DecisionTreeClassifier: convert_trees,
    DecisionTreeRegressor: convert_trees,
    RandomForestClassifier: convert_trees,
    RandomForestRegressor: convert_trees,
    ExtraTreesClassifier: convert_trees,
    ExtraTreesRegressor: convert_trees,
}
