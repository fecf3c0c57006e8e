"""Gradient boosting and histogram gradient boosting (classifiers and regressors).

scikit-learn starts from the init estimator's raw prediction (the base
value) and adds ``learning_rate * value`` of each stage's tree, in stage
order: aggregation "sum". A binary classifier has one raw score and
``predict_proba`` ``[1 - expit(raw), expit(raw)]`` (post transform
"logistic" on one output); a multiclass one has a tree per class and stage,
whose leaf vectors here are zero but for their class, and a softmax.
GradientBoosting casts inputs to float32, as the other scikit-learn trees
do, and refuses missing values, so the model does too (``missing="error"``).

HistGradientBoosting compares float64 inputs with float64 thresholds (no
rewrite; +inf, "every number left, NaN right", included), accepts NaN and
infinities (``infinite="compare"``), and starts from its baseline
prediction; the poisson and gamma losses predict exp of that sum (post
transform "exp", scikit-learn's LogLink.inverse). A categorical split sends the categories of its left bitset
left, the other known ones right, and NaN, negative and unknown values the
missing way: an IR set split holding the set that goes away from the
missing side.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import is_classifier
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)

from .. import ir
from ..errors import IRValidationError, UnsupportedEstimatorError
from ._context import Context, ModelSpec
from .tree import tree_from_sklearn

# Init estimators whose prediction is the same for every row, so it is one base value.
_CONSTANT_INIT = {
    DummyRegressor: ("mean", "median", "quantile", "constant"),
    DummyClassifier: ("prior", "most_frequent", "constant"),
}


def _base_value(est, name: str) -> np.ndarray:
    init = est.init_
    if isinstance(init, str):
        if init != "zero":  # pragma: no cover - scikit-learn allows only "zero"
            raise UnsupportedEstimatorError(f"{name} has init_={init!r}; crossform knows init='zero' and estimators.")
    elif init.get_params().get("strategy") not in _CONSTANT_INIT.get(type(init), ()):
        raise UnsupportedEstimatorError(
            f"{name} starts from init estimator {init!r}, whose prediction may differ by row; crossform exports "
            "the default init (a DummyRegressor or DummyClassifier predicting a constant) or init='zero'. "
            "A converter for another init can be added through the plugin API (docs/plugins.md)."
        )
    # scikit-learn's own computation of the starting raw score, on a row the
    # constant init cannot tell from any other
    return np.asarray(est._raw_predict_init(np.zeros((1, est.n_features_in_), dtype=np.float32))[0], dtype=np.float64)


def convert_gradient_boosting(est, ctx: Context, cols: list) -> ModelSpec:
    name = type(est).__name__
    if est.n_features_in_ != len(cols):
        raise UnsupportedEstimatorError(
            f"{name} expects {est.n_features_in_} features but the pipeline gives it {len(cols)}."
        )
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
    return ModelSpec(
        tuple(cols),
        lambda features: ir.TreeEnsemble(
            features, trees, "sum", post, classes=classes, base_value=base, missing="error"
        ),
    )


def _bits(words: np.ndarray) -> set:
    """The members of one of scikit-learn's 256-bit category bitsets (8 uint32 words)."""
    words = np.asarray(words, dtype=np.uint32)
    return {32 * w + b for w in range(len(words)) for b in range(32) if (int(words[w]) >> b) & 1}


def _hist_tree(predictor, known: np.ndarray, f_idx_map: np.ndarray, k: int, width: int, values: dict) -> ir.Tree:
    """``values``: model feature -> the raw value of each category code, for
    categorical features read as numbers (None: the codes themselves)."""
    nodes = predictor.nodes
    leaf = nodes["is_leaf"].astype(bool)
    n = len(nodes)
    value = np.zeros((n, width))
    value[leaf, k] = nodes["value"][leaf]
    categorical = ~leaf & nodes["is_categorical"].astype(bool)
    missing_left = ~leaf & nodes["missing_go_to_left"].astype(bool)
    sets = [None] * n
    for i in np.flatnonzero(categorical).tolist():
        go_left = _bits(predictor.raw_left_cat_bitsets[nodes["bitset_idx"][i]])
        known_here = _bits(known[f_idx_map[nodes["feature_idx"][i]]])
        away = (known_here - go_left) if missing_left[i] else go_left
        table = values.get(int(nodes["feature_idx"][i]))
        sets[i] = tuple(sorted(float(c) if table is None else float(table[c]) for c in away))
    return ir.Tree(
        feature=np.where(leaf, -1, nodes["feature_idx"].astype(np.int64)),  # scikit-learn stores uint32
        threshold=np.where(leaf | categorical, 0.0, nodes["num_threshold"]),
        left=np.where(leaf, -1, nodes["left"].astype(np.int64)),
        right=np.where(leaf, -1, nodes["right"].astype(np.int64)),
        missing_left=missing_left,
        value=value,
        sets=tuple(sets) if categorical.any() else (),
    )


def code_categories(ctx: Context, feats: list, tables: list) -> list:
    """A label encoder giving each feature's known categories their positions in its table as
    codes, and NaN to a missing or unknown one: how histogram boosting and LightGBM read a string
    category before their category-set splits."""
    return ctx.add_step(
        lambda f, o: ir.CategoricalEncoding(
            f,
            tuple(tuple(t) for t in tables),
            tuple(np.arange(len(t), dtype=np.float64) for t in tables),
            (np.nan,) * len(tables),
            np.nan,
            o,
        ),
        feats,
        [c.name for c in feats],
        [ir.NUMERIC] * len(feats),
    )


def _hist_inputs(est, ctx: Context, cols: list, name: str) -> tuple:
    """The model's columns and category tables, through the encoder scikit-learn
    puts in front of categorical features: an OrdinalEncoder whose outputs come
    first, then the other columns. A category read as a number is matched
    exactly (the set holds the raw values); one read as a string is encoded
    to its code first (unknown and missing become NaN, as scikit-learn does)."""
    pre = getattr(est, "_preprocessor", None)
    if pre is None:
        ctx.require(cols, ir.NUMERIC, name)
        return cols, {}
    masks = {label: np.asarray(mask, dtype=bool) for label, _, mask in pre.transformers_ if label != "remainder"}
    encoder = pre.named_transformers_["encoder"]
    cat_idx, num_idx = np.flatnonzero(masks["encoder"]).tolist(), np.flatnonzero(masks["numerical"]).tolist()
    ctx.require([cols[i] for i in num_idx], ir.NUMERIC, name)
    model_cols, values, strings = [], {}, []
    for position, (i, cats) in enumerate(zip(cat_idx, encoder.categories_)):
        known = [c for c in cats if not (isinstance(c, float) and c != c)]
        if known and all(isinstance(c, (str, np.str_)) for c in known):
            strings.append((position, i, [str(c) for c in known]))
            model_cols.append(None)
        elif all(
            isinstance(c, (int, float, np.integer, np.floating)) and not isinstance(c, (bool, np.bool_)) for c in known
        ):
            ctx.require([cols[i]], ir.NUMERIC, name)
            values[position] = [float(c) for c in known]
            # scikit-learn's category encoder refuses infinities; (x - 0) / 1 is x, bit for bit, and
            # refuses them as every numeric encoder does
            model_cols.append(
                ctx.add_step(lambda f, o: ir.Scale(f, [0.0], [1.0], o), [cols[i]], [cols[i].name], [ir.NUMERIC])[0]
            )
        else:
            raise UnsupportedEstimatorError(f"{name} learned categories of mixed types for {cols[i].name!r}.")
    if strings:
        feats = [cols[i] for _, i, _ in strings]
        ctx.require(feats, ir.CATEGORICAL, name)
        tables = [known for _, _, known in strings]
        encoded = code_categories(ctx, feats, tables)
        for (position, _, _), col in zip(strings, encoded):
            model_cols[position] = col
    return model_cols + [cols[i] for i in num_idx], values


# A regressor's link (scikit-learn's _loss.link class) -> the post transform of its inverse:
# predict is link.inverse(raw), raw the baseline plus each tree in float64; LogLink's inverse
# is np.exp (the poisson and gamma losses).
_REGRESSION_LINKS = {"IdentityLink": "none", "LogLink": "exp"}


def convert_hist_gradient_boosting(est, ctx: Context, cols: list) -> ModelSpec:
    name = type(est).__name__
    if est.n_features_in_ != len(cols):
        raise UnsupportedEstimatorError(
            f"{name} expects {est.n_features_in_} features but the pipeline gives it {len(cols)}."
        )
    cols, values = _hist_inputs(est, ctx, cols, name)
    link = type(est._loss.link).__name__
    if is_classifier(est):
        if link != "LogitLink" and link != "MultinomialLogit":
            raise UnsupportedEstimatorError(f"{name} uses the {link} link, which crossform does not export.")
    elif link not in _REGRESSION_LINKS:
        raise UnsupportedEstimatorError(
            f"{name}(loss={est.loss!r}) predicts through the {link}, which crossform does not export; "
            f"the links it exports are {', '.join(sorted(_REGRESSION_LINKS))}."
        )
    known, f_idx_map = est._bin_mapper.make_known_categories_bitsets()
    width = est.n_trees_per_iteration_
    trees = tuple(
        _hist_tree(predictor, known, f_idx_map, k, width, values)
        for iteration in est._predictors
        for k, predictor in enumerate(iteration)
    )
    base = np.asarray(est._baseline_prediction, dtype=np.float64).reshape(-1)
    classes, post = None, _REGRESSION_LINKS.get(link)
    if is_classifier(est):
        try:
            classes = ir.class_labels(est.classes_)
        except IRValidationError as exc:
            raise UnsupportedEstimatorError(f"{name} has class labels crossform cannot export: {exc}") from None
        post = "logistic" if width == 1 else "softmax"
    return ModelSpec(
        tuple(cols),
        lambda features: ir.TreeEnsemble(
            features, trees, "sum", post, classes=classes, base_value=base, infinite="compare"
        ),
    )


CONVERTERS = {
    GradientBoostingClassifier: convert_gradient_boosting,
    GradientBoostingRegressor: convert_gradient_boosting,
    HistGradientBoostingClassifier: convert_hist_gradient_boosting,
    HistGradientBoostingRegressor: convert_hist_gradient_boosting,
}
