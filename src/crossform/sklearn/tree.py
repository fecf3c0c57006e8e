"""Decision trees, random forests, extra trees and bagged trees (classifier and regressor).

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
    BaggingClassifier,
    BaggingRegressor,
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor

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
    classes = _class_labels(est, name) if is_classifier(est) else None
    trees = tuple(tree_from_sklearn(t, len(classes) if classes else 0) for t in sk_trees)
    missing = "error" if refuses(est, np.nan) else "route"
    return ModelSpec(
        tuple(cols), lambda features: ir.TreeEnsemble(features, trees, "average", classes=classes, missing=missing)
    )


def _class_labels(est, name: str):
    try:  # the IR decides which class labels a package can carry
        return ir.class_labels(est.classes_)
    except IRValidationError as exc:
        raise UnsupportedEstimatorError(f"{name} has class labels crossform cannot export: {exc}") from None


BAGGED_TREES = (DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor)


def convert_bagging(est, ctx: Context, cols: list) -> ModelSpec:
    """Bagging over single trees: scikit-learn adds the members' predict_proba (or predict), each
    reading its own columns (``estimators_features_``, repeated or reordered under
    ``bootstrap_features``), in member order from zero, then divides by the member count: the
    "average" rule, with each tree's features mapped back to the model's. Members are fitted on
    every row with bootstrap counts as sample weights (trees, in scikit-learn 1.4.2 and 1.9.1), so each
    knows every class."""
    name = type(est).__name__
    if est.n_features_in_ != len(cols):
        raise UnsupportedEstimatorError(
            f"{name} expects {est.n_features_in_} features but the pipeline gives it {len(cols)}."
        )
    for member in est.estimators_:
        if type(member) not in BAGGED_TREES:
            raise UnsupportedEstimatorError(
                f"{name} over {type(member).__name__}: crossform exports bagging over single trees "
                f"({', '.join(t.__name__ for t in BAGGED_TREES)}) only."
            )
    ctx.require(cols, ir.NUMERIC, name)
    classes = _class_labels(est, name) if is_classifier(est) else None
    # bagging itself reads any value (NaN, infinities): only what its members read is the model's
    # input, so a column no member reads is not one, and its values are never refused
    used = sorted({int(i) for features in est.estimators_features_ for i in features})
    position = {column: i for i, column in enumerate(used)}
    trees = []
    for member, features in zip(est.estimators_, est.estimators_features_):
        features = np.array([position[int(i)] for i in features], dtype=np.int64)
        if classes and len(member.classes_) != len(classes):  # trees are fitted with every class
            raise UnsupportedEstimatorError(
                f"{name} has a member fitted on {len(member.classes_)} of its {len(classes)} classes; "
                "crossform exports bagging whose members each know every class."
            )
        tree = tree_from_sklearn(member.tree_, len(classes) if classes else 0)
        leaf = tree.is_leaf
        feature = np.where(leaf, -1, np.asarray(features)[np.where(leaf, 0, tree.feature)])
        trees.append(ir.Tree(feature, tree.threshold, tree.left, tree.right, tree.missing_left, tree.value))
    trees = tuple(trees)
    missing = "error" if refuses(est, np.nan) else "route"
    return ModelSpec(
        tuple(cols[i] for i in used),
        lambda features: ir.TreeEnsemble(features, trees, "average", classes=classes, missing=missing),
    )


CONVERTERS = {
    DecisionTreeClassifier: convert_trees,
    DecisionTreeRegressor: convert_trees,
    RandomForestClassifier: convert_trees,
    RandomForestRegressor: convert_trees,
    ExtraTreesClassifier: convert_trees,
    ExtraTreesRegressor: convert_trees,
    ExtraTreeClassifier: convert_trees,
    ExtraTreeRegressor: convert_trees,
    BaggingClassifier: convert_bagging,
    BaggingRegressor: convert_bagging,
}
