"""Gradient boosting (classifier and regressor).

scikit-learn starts from the init estimator's raw prediction (the base
value) and adds ``learning_rate * value`` of each stage's tree, in stage
order: aggregation "sum". A binary classifier has one raw score and
``predict_proba`` ``[1 - expit(raw), expit(raw)]`` (post transform
"logistic" on one output); a multiclass one has a tree per class and stage,
whose leaf vectors here are zero but for their class, and a softmax.
GradientBoosting casts inputs to float32, as the other scikit-learn trees
do, and refuses missing values, so the model does too (``missing="error"``).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import is_classifier
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

from .. import ir
from ..errors import IRValidationError, UnsupportedEstimatorError
from ._context import Context, ModelSpec
from .tree import tree_from_sklearn

# Init estimators whose prediction is the same for every row, so it is one base value.
_CONSTANT_INIT = {DummyRegressor: ("mean", "median", "quantile", "constant"),
                  DummyClassifier: ("prior", "most_frequent", "constant")}


def _base_value(est, name: str) -> np.ndarray:
    init = est.init_
    if isinstance(init, str):
        if init != "zero":  # pragma: no cover - scikit-learn allows only "zero"
            raise UnsupportedEstimatorError(f"{name} has init_={init!r}; crossform knows init='zero' and estimators.")
    elif init.get_params().get("strategy") not in _CONSTANT_INIT.get(type(init), ()):
        raise UnsupportedEstimatorError(
            f"{name} starts from init estimator {init!r}, whose prediction may differ by row; crossform exports "
            "the default init (a DummyRegressor or DummyClassifier predicting a constant) or init='zero'. "
            "A converter for another init can be added through the plugin API (docs/plugins.md).")
    # scikit-learn's own computation of the starting raw score, on a row the
    # constant init cannot tell from any other
    return np.asarray(est._raw_predict_init(np.zeros((1, est.n_features_in_), dtype=np.float32))[0], dtype=np.float64)


def convert_gradient_boosting(est, ctx: Context, cols: list) -> ModelSpec:
    name = type(est).__name__
    if est.n_features_in_ != len(cols):
        raise UnsupportedEstimatorError(f"{name} expects {est.n_features_in_} features but the pipeline gives it {len(cols)}.")
    ctx.require(cols, ir.NUMERIC, name)
    base = _base_value(est, name)
    stages = np.asarray(est.estimators_)  # (n_stages, K), K = 1 but for multiclass
    width = stages.shape[1]
    trees = []
    for stage in stages:
        for k, regressor in enumerate(stage):
            tree = tree_from_sklearn(regressor.tree_)
            # predict_stages adds learning_rate * value in float64: the same product here
            value = np.zeros((tree.n_nodes, width))
            value[:, k] = est.learning_rate * tree.value[:, 0]
            trees.append(ir.Tree(tree.feature, tree.threshold, tree.left, tree.right, tree.missing_left, value))
    classes, post = None, "none"
    if is_classifier(est):
        try:
            classes = ir.class_labels(est.classes_)
        except IRValidationError as exc:
            raise UnsupportedEstimatorError(f"{name} has class labels crossform cannot export: {exc}") from None
        post = "logistic" if width == 1 else "softmax"
    trees = tuple(trees)
    return ModelSpec(tuple(cols), lambda features: ir.TreeEnsemble(
        features, trees, "sum", post, classes=classes, base_value=base, missing="error"))


CONVERTERS = {
    GradientBoostingClassifier: convert_gradient_boosting,
    GradientBoostingRegressor: convert_gradient_boosting,
}
