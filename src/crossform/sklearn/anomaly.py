"""IsolationForest: score_samples and decision_function.

scikit-learn sums, tree by tree, ``depth(leaf) + c(n_samples(leaf)) - 1``
over the leaves a row reaches (each tree reading its own feature subset
when ``max_features`` subsamples), then ``score_samples = -2 ** -(sum /
(n_trees * c(max_samples)))`` and ``decision_function = score_samples -
offset_``. Here each tree's leaf value is that per-leaf term, computed as
scikit-learn computes it, its features are mapped back to the model's, and
post transform "isolation" does the rest. The trees cast inputs to float32
(thresholds rewritten) but accept NaN and infinities (since scikit-learn 1.6;
what an older release refuses, the model refuses too).
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.ensemble._iforest import _average_path_length

from .. import ir
from ..errors import UnsupportedEstimatorError
from ._context import Context, ModelSpec
from .tree import refuses, tree_from_sklearn


def convert_isolation_forest(est: IsolationForest, ctx: Context, cols: list) -> ModelSpec:
    name = type(est).__name__
    if est.n_features_in_ != len(cols):
        raise UnsupportedEstimatorError(
            f"{name} expects {est.n_features_in_} features but the pipeline gives it {len(cols)}."
        )
    ctx.require(cols, ir.NUMERIC, name)
    denominator = len(est.estimators_) * float(_average_path_length([est._max_samples])[0])
    if not denominator > 0:
        raise UnsupportedEstimatorError(f"{name} was fitted on a single sample; every score is the same constant.")
    subsample = est._max_features != est.n_features_in_  # as score_samples decides it
    trees = []
    for tree, features, depths, averages in zip(
        est.estimators_, est.estimators_features_, est._decision_path_lengths, est._average_path_length_per_tree
    ):
        t = tree_from_sklearn(tree.tree_)
        leaf = t.is_leaf
        value = np.zeros((t.n_nodes, 1))
        value[leaf, 0] = (depths + averages - 1.0)[leaf]  # the same float64 operations, in the same order
        mapped = np.asarray(features)[np.where(leaf, 0, t.feature)] if subsample else t.feature
        trees.append(ir.Tree(np.where(leaf, -1, mapped), t.threshold, t.left, t.right, t.missing_left, value))
    trees = tuple(trees)
    offset = float(est.offset_)
    missing = "error" if refuses(est, np.nan, "score_samples") else "route"
    infinite = "error" if refuses(est, np.inf, "score_samples") else "compare"
    return ModelSpec(
        tuple(cols),
        lambda features: ir.TreeEnsemble(
            features,
            trees,
            "sum",
            "isolation",
            base_value=[0.0],
            missing=missing,
            infinite=infinite,
            isolation=(denominator, offset),
        ),
    )


CONVERTERS = {IsolationForest: convert_isolation_forest}
