"""AdaBoost over single trees.

AdaBoostClassifier (SAMME, scikit-learn's ensemble/_weight_boosting.py, the same in 1.4.2 and
1.9.1): ``decision_function`` adds, with Python's ``sum`` (a left fold from 0), one vector per
estimator: its weight ``w`` for the class the estimator predicts and ``-1 / (K - 1) * w`` for
the others, then divides by ``estimator_weights_.sum()``. A tree predicts one class per leaf
(the first maximum of the leaf's value), so each leaf carries its estimator's vector and the
fold is the "sum" aggregation from 0.0. ``predict_proba`` divides that by ``K - 1`` and takes
scikit-learn's softmax. For two classes it builds ``[-d, d] / 2`` from ``d = -s0 + s1``; the two
summed outputs are exact negatives of each other (every leaf vector is ``[w, -w]`` or ``[-w, w]``
and rounding is symmetric), so ``d / 2`` is ``s1`` and ``-d / 2`` is ``s0`` bit for bit, and
``[-d, d] / 2`` is ``[s0, s1]``: the same rule, dividing by ``K - 1 = 1`` exactly. Hence the
model: "sum" with base 0.0, the divisors ``(estimator_weights_.sum(), K - 1)`` and "softmax"
(docs/SEMANTICS.md, note 20).

AdaBoostRegressor (the same ``_get_median_predict`` in 1.4.2 and 1.9.1) predicts, per row, the
weighted median of its members' predictions: ``np.argsort`` of the predictions, ``cumsum`` of
``estimator_weights_`` in that order (1.4.2's ``stable_cumsum`` is the same float64 cumsum), and
the prediction at the first position whose running sum is ``>= 0.5 *`` the last one: the
aggregation "weighted-median" with the fitted estimators' weights (note 21). numpy's argsort is
not stable; the rule orders ties by tree index, which differs only when tied values, summed in
another order, round the running sum across the half: not seen in any fit measured.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import AdaBoostClassifier, AdaBoostRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor

from .. import ir
from ..errors import UnsupportedEstimatorError
from ._context import Context, ModelSpec
from .tree import _class_labels, refuses, tree_from_sklearn

MEMBER_TREES = (DecisionTreeClassifier, ExtraTreeClassifier)
MEMBER_REGRESSION_TREES = (DecisionTreeRegressor, ExtraTreeRegressor)


def convert_adaboost_classifier(est, ctx: Context, cols: list) -> ModelSpec:
    name = type(est).__name__
    algorithm = getattr(est, "algorithm", "SAMME")  # the parameter is gone since scikit-learn 1.8
    if algorithm == "SAMME.R":
        raise UnsupportedEstimatorError(
            f"{name} with algorithm='SAMME.R': crossform exports algorithm='SAMME' only "
            "(SAMME.R sums the log of each member's probabilities, which no tree rule states)."
        )
    if est.n_features_in_ != len(cols):
        raise UnsupportedEstimatorError(
            f"{name} expects {est.n_features_in_} features but the pipeline gives it {len(cols)}."
        )
    classes = _class_labels(est, name)
    n_classes = len(classes)
    if n_classes < 2:
        raise UnsupportedEstimatorError(f"{name} was fitted on {n_classes} class; crossform needs two or more.")
    ctx.require(cols, ir.NUMERIC, name)
    weights = np.asarray(est.estimator_weights_, dtype=np.float64)
    other = -1 / (n_classes - 1)  # as scikit-learn writes it: (-1 / (K - 1)) * w
    trees = []
    for member, w in zip(est.estimators_, weights):
        if type(member) not in MEMBER_TREES:
            raise UnsupportedEstimatorError(
                f"{name} over {type(member).__name__}: crossform exports AdaBoost over single trees "
                f"({', '.join(t.__name__ for t in MEMBER_TREES)}) only."
            )
        if getattr(member, "n_outputs_", 1) != 1 or not np.array_equal(member.classes_, est.classes_):
            raise UnsupportedEstimatorError(
                f"{name} has a member whose classes differ from the ensemble's {list(est.classes_)}."
            )
        tree = tree_from_sklearn(member.tree_, n_classes)
        # DecisionTreeClassifier.predict: classes_.take(argmax(tree_.predict(X))), the first maximum
        votes = np.argmax(np.asarray(member.tree_.value)[:, 0, :n_classes], axis=1)
        value = np.where(np.arange(n_classes)[None, :] == votes[:, None], w, other * w)
        value = np.where(tree.is_leaf[:, None], value, 0.0)
        trees.append(ir.Tree(tree.feature, tree.threshold, tree.left, tree.right, tree.missing_left, value))
    total = float(weights.sum())  # numpy's sum, as scikit-learn's estimator_weights_.sum()
    if not total > 0:
        raise UnsupportedEstimatorError(f"{name} has estimator weights summing to {total!r}; expected a sum > 0.")
    divisors = (total, float(n_classes - 1))
    missing = "error" if refuses(est, np.nan) else "route"
    trees = tuple(trees)
    return ModelSpec(
        tuple(cols),
        lambda features: ir.TreeEnsemble(
            features,
            trees,
            "sum",
            "softmax",
            classes=classes,
            base_value=np.zeros(n_classes),
            missing=missing,
            divisors=divisors,
        ),
    )


def convert_adaboost_regressor(est, ctx: Context, cols: list) -> ModelSpec:
    name = type(est).__name__
    if est.n_features_in_ != len(cols):
        raise UnsupportedEstimatorError(
            f"{name} expects {est.n_features_in_} features but the pipeline gives it {len(cols)}."
        )
    ctx.require(cols, ir.NUMERIC, name)
    members = list(est.estimators_)
    # predict reads estimator_weights_ for the fitted estimators only: a fit that stopped early
    # leaves zeros for the estimators it never made
    weights = np.asarray(est.estimator_weights_, dtype=np.float64)[: len(members)]
    trees = []
    for member in members:
        if type(member) not in MEMBER_REGRESSION_TREES:
            raise UnsupportedEstimatorError(
                f"{name} over {type(member).__name__}: crossform exports AdaBoost over single trees "
                f"({', '.join(t.__name__ for t in MEMBER_REGRESSION_TREES)}) only."
            )
        if getattr(member, "n_outputs_", 1) != 1:
            raise UnsupportedEstimatorError(f"{name} has a member with {member.n_outputs_} outputs; expected 1.")
        trees.append(tree_from_sklearn(member.tree_))
    if not (np.all(np.isfinite(weights)) and np.all(weights >= 0) and weights.sum() > 0):
        raise UnsupportedEstimatorError(
            f"{name} has estimator weights {weights.tolist()!r}; expected finite weights >= 0 summing to more than 0."
        )
    missing = "error" if refuses(est, np.nan) else "route"
    trees = tuple(trees)
    tree_weights = tuple(float(w) for w in weights)
    return ModelSpec(
        tuple(cols),
        lambda features: ir.TreeEnsemble(
            features, trees, "weighted-median", "none", missing=missing, tree_weights=tree_weights
        ),
    )


CONVERTERS = {
    AdaBoostClassifier: convert_adaboost_classifier,
    AdaBoostRegressor: convert_adaboost_regressor,
}
