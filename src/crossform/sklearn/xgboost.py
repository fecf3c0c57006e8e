"""XGBoost's scikit-learn models (XGBRegressor, XGBClassifier, XGBRanker), read from the booster's
JSON model (``Booster.save_raw("json")``), never from a pickle.

XGBoost's CPU predictor (src/predictor/cpu_predictor.cc, predict_fn.h) casts every feature to
float32 and goes left iff ``x < split_condition`` on float32, so each threshold t becomes the
largest float32 below t, rewritten for float64 inputs as every scikit-learn tree threshold is
(``float32(x) <= pred(t)`` is ``float32(x) < t``). NaN takes the node's default direction
(``default_left``). predict (inplace_predict) accepts infinities, and a value too large for
float32 becomes one when cast: they compare like any number (``infinite="compare"``). Leaves are float32 and added in float32 (``preds[i] += leaf``), tree by tree,
to the base margin; then the objective's transform runs in float32: the IR's accumulate
"float32" (docs/SEMANTICS.md). The base margin is ``base_score`` through the objective's
ProbToMargin, computed here as XGBoost computes it (float32 logit or logf).

Categorical splits (enable_categorical, pandas string categories): a code in the node's set
goes right, any other left, NaN the default way (common::Decision); the category names come
from the model (gradient_booster.model.cats, XGBoost 3.1 and later), a label encoder gives the
training codes (NaN for missing and unseen categories), and each node becomes a set split
(docs/SEMANTICS.md note 29).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import math
from functools import cache

import numpy as np
import xgboost

from .. import ir
from ..errors import UnsupportedEstimatorError
from ..floats import float32_threshold
from ._context import Context, ModelSpec
from .boosting import code_categories

# objective -> (post transform, how base_score becomes the base margin): XGBoost's PredTransform
# and ProbToMargin (src/objective/regression_loss.h, regression_obj.cu, multiclass_obj.cu)
_REGRESSION = {
    "reg:squarederror": ("none", "identity"),
    "reg:absoluteerror": ("none", "identity"),
    "reg:pseudohubererror": ("none", "identity"),
    "reg:squaredlogerror": ("none", "identity"),
    "count:poisson": ("exp", "log"),
    "reg:gamma": ("exp", "log"),
    "reg:tweedie": ("exp", "log"),
}
_RANKING = ("rank:pairwise", "rank:ndcg", "rank:map")
_CLASSIFICATION = {
    "binary:logistic": ("logistic", "logit"),
    "multi:softprob": ("softmax", "identity"),
}
_RT_EPS = np.float32(1e-6)  # kRtEps: logistic's base_score is clipped to [kRtEps, 1 - kRtEps]


@cache
def _libm():
    # XGBoost calls the C library's logf (libxgboost links libm dynamically); the base margin
    # must be that float, so it is computed by the same function, not by numpy's log
    return ctypes.CDLL(ctypes.util.find_library("m"))


def _logf(x: np.float32) -> np.float32:
    logf = _libm().logf
    logf.restype, logf.argtypes = ctypes.c_float, [ctypes.c_float]
    return np.float32(logf(float(x)))


def _margin(link: str, value: np.float32) -> np.float32:
    if link == "identity":
        return value
    if link == "log":
        return _logf(value)
    # binary:logistic, Logit(float): -logf(1.0f / x - 1.0f), after clipping
    clipped = min(max(value, _RT_EPS), np.float32(1.0) - _RT_EPS)
    return -_logf(np.float32(np.float32(1.0) / clipped) - np.float32(1.0))


def booster_document(booster) -> dict:
    """The booster's model as XGBoost writes it in JSON (``save_raw("json")``)."""
    return json.loads(bytes(booster.save_raw(raw_format="json")).decode("utf-8"))


def _base_score(learner: dict, width: int) -> np.ndarray:
    """``base_score`` as float32 values, one per output (XGBoost 3.1 writes "[v1,v2]", before "v")."""
    text = learner["learner_model_param"]["base_score"].strip().strip("[]")
    values = np.array([np.float32(float(v)) for v in text.split(",")], dtype=np.float32)
    if len(values) == 1:
        values = np.repeat(values, width)
    if len(values) != width:
        raise UnsupportedEstimatorError(f"The booster's base_score has {len(values)} values for {width} outputs.")
    return values


def xgboost_trees(document: dict) -> list:
    """Each tree's arrays as XGBoost's JSON model holds them (node ids are XGBoost's)."""
    return document["learner"]["gradient_booster"]["model"]["trees"]


def _category_sets(doc: dict, feature: np.ndarray, missing_left: np.ndarray, sizes: dict) -> list:
    """Per node None, or the set of a categorical split (split_type 1) as the IR states it.
    XGBoost's Decision (src/common/categorical.h) sends a code in the node's categories right and
    any other left; NaN takes default_left. The codes reaching it are 0 .. K-1 or NaN (the label
    encoder before it), so the set going away from the missing side is the categories when NaN
    goes left, else the other codes of the feature."""
    sets = [None] * len(feature)
    categories = doc.get("categories", [])
    for node, begin, size in zip(
        doc.get("categories_nodes", []), doc.get("categories_segments", []), doc.get("categories_sizes", [])
    ):
        members = {int(c) for c in categories[begin : begin + size]}
        if missing_left[node]:
            sets[node] = tuple(float(c) for c in sorted(members))
        else:
            sets[node] = tuple(float(c) for c in range(sizes[int(feature[node])]) if c not in members)
    return sets


def _tree(doc: dict, column: int, width: int, name: str, index: int, sizes: dict) -> ir.Tree:
    """``sizes``: categorical feature -> its category count."""
    left = np.asarray(doc["left_children"], dtype=np.int64)
    right = np.asarray(doc["right_children"], dtype=np.int64)
    leaf = left < 0
    split_type = np.asarray(doc.get("split_type", [0] * len(left)), dtype=np.int64)
    feature = np.where(leaf, -1, np.asarray(doc["split_indices"], dtype=np.int64))
    categorical = ~leaf & (split_type != 0)
    if any(int(f) not in sizes for f in feature[categorical]):  # pragma: no cover - feature_types says "c"
        raise UnsupportedEstimatorError(f"{name} tree {index} splits a feature as a category that is not one.")
    # split_conditions hold the float32 split value at splits and the leaf value at leaves
    condition = np.asarray(doc["split_conditions"], dtype=np.float64).astype(np.float32)
    below = np.nextafter(condition, np.float32(-np.inf))  # x < t on float32 is x <= the float32 below t
    value = np.zeros((len(left), width))
    value[leaf, column] = condition[leaf]
    missing_left = ~leaf & (np.asarray(doc["default_left"], dtype=np.int64) != 0)
    sets = _category_sets(doc, feature, missing_left, sizes) if categorical.any() else []
    if any(s == () for s in sets):
        raise UnsupportedEstimatorError(
            f"{name} tree {index} has a categorical split that sends every category the missing way."
        )
    return ir.Tree(
        feature=feature,
        threshold=np.where(leaf | categorical, 0.0, float32_threshold(below.astype(np.float64))),
        left=np.where(leaf, -1, left),
        right=np.where(leaf, -1, right),
        missing_left=missing_left,
        value=value,
        sets=tuple(sets),
    )


def category_tables(document: dict, name: str) -> dict:
    """Categorical feature (feature_types "c") -> its categories in code order, as the model
    records them (gradient_booster.model.cats, written by XGBoost 3.1 and later: per feature
    UTF-8 bytes cut by offsets). Numeric categories and models without names are refused."""
    learner = document["learner"]
    coded = [j for j, kind in enumerate(learner.get("feature_types") or []) if kind == "c"]
    if not coded:
        return {}
    cats = learner["gradient_booster"]["model"].get("cats")
    if not cats or len(cats.get("enc", [])) != len(learner["feature_types"]):
        raise UnsupportedEstimatorError(
            f"{name} splits categorical features (enable_categorical=True) but its model records no category "
            "names (XGBoost before 3.1 keeps only pandas' codes of the frame it was given); fit with XGBoost 3.1 "
            "or later, which saves them."
        )
    tables = {}
    for j in coded:
        enc = cats["enc"][j]
        offsets, values = enc.get("offsets") or [], enc.get("values") or []
        if not offsets:
            raise UnsupportedEstimatorError(
                f"{name} reads feature {j} as categories that are numbers; crossform exports XGBoost's string "
                "categories (a pandas 'category' column of strings)."
            )
        data = bytes(int(v) & 0xFF for v in values)
        tables[j] = [data[offsets[k] : offsets[k + 1]].decode("utf-8") for k in range(len(offsets) - 1)]
    return tables


def category_frame(model, X):
    """``X`` as XGBoost's predict takes it: each categorical feature a pandas 'category' column with
    the fitted categories, so a category the model never saw is NaN (missing), as the package
    states (XGBoost 3.1 and later re-code other categories by name: 3.3 refuses an unseen one,
    3.1 and 3.2 take the next known one in byte order, src/encoder/ordinal.h)."""
    booster = model if isinstance(model, xgboost.Booster) else model.get_booster()
    tables = category_tables(booster_document(booster), type(model).__name__)
    if not tables or not hasattr(X, "columns"):
        return X
    import pandas as pd

    X = X.copy()
    for j, table in tables.items():
        column = X.columns[j]
        known = X[column].where(X[column].isin(table))  # unknown values to NaN first
        X[column] = pd.Categorical(known, categories=table)
    return X


def _trees_predicted(est, model: dict, width: int) -> int:
    """How many trees ``predict`` adds by default: all of them, or after early stopping those of the
    iterations up to ``best_iteration`` (XGBModel's default iteration_range)."""
    best = getattr(est, "best_iteration", None)  # None unless early stopping recorded one
    n_trees = len(model["trees"])
    if best is None:
        return n_trees
    per_iteration = int(model["gbtree_model_param"].get("num_parallel_tree", "1")) * width
    return min(n_trees, (int(best) + 1) * per_iteration)


def _refuse_options(est, name: str) -> None:
    missing = est.get_params().get("missing", np.nan)
    if missing is None or not (isinstance(missing, float) and math.isnan(missing)):
        raise UnsupportedEstimatorError(
            f"{name}(missing={missing!r}) treats {missing!r} as missing; crossform exports missing=nan (the default), "
            "where only NaN takes a node's default direction."
        )


def convert_xgboost(est, ctx: Context, cols: list) -> ModelSpec:
    _refuse_options(est, type(est).__name__)
    return _convert(est, est.get_booster(), ctx, cols)


def convert_booster(booster, ctx: Context, cols: list) -> ModelSpec:
    """A raw Booster scored as ``Booster.predict``/``inplace_predict`` with missing=NaN score it:
    every tree (their default iteration_range), its objective's transform; a binary:logistic
    booster gives p alone, a multi:softprob one the probability of each class 0 .. K-1."""
    return _convert(None, booster, ctx, cols)


def _convert(est, booster, ctx: Context, cols: list) -> ModelSpec:
    name = type(est if est is not None else booster).__name__
    document = booster_document(booster)
    learner = document["learner"]
    booster_name = learner["gradient_booster"]["name"]
    if booster_name != "gbtree":
        raise UnsupportedEstimatorError(
            f"{name} uses booster={booster_name!r}; crossform exports the tree booster 'gbtree' "
            "(dart and gblinear are not exported)."
        )
    objective = learner["objective"]["name"]
    params = learner["learner_model_param"]
    n_features = int(params["num_feature"])
    if n_features != len(cols):
        raise UnsupportedEstimatorError(f"{name} expects {n_features} features but the pipeline gives it {len(cols)}.")
    if int(params.get("num_target", "1")) != 1:
        raise UnsupportedEstimatorError(
            f"{name} was fitted on {params['num_target']} targets; crossform exports single-target models."
        )
    if any(int(t.get("tree_param", {}).get("size_leaf_vector", "1")) > 1 for t in xgboost_trees(document)):
        raise UnsupportedEstimatorError(f"{name} has vector leaves (multi_strategy='multi_output_tree'); not exported.")
    tables = category_tables(document, name)
    ctx.require([c for j, c in enumerate(cols) if j not in tables], ir.NUMERIC, name)
    if tables:
        # a label encoder gives each known category its training code, NaN to missing and unknown ones
        feats = [cols[j] for j in tables]
        ctx.require(feats, ir.CATEGORICAL, name)
        cols = list(cols)
        for j, col in zip(tables, code_categories(ctx, feats, list(tables.values()))):
            cols[j] = col
    sizes = {j: len(t) for j, t in tables.items()}
    classes = None
    n_classes = int(params.get("num_class", "0"))
    if objective in _CLASSIFICATION and (est is None or hasattr(est, "predict_proba")):
        post, link = _CLASSIFICATION[objective]
        if est is not None:
            n_classes = int(est.n_classes_)
        width = 1 if post == "logistic" else n_classes
        # a classifier's predict_proba gives [1 - p, p]; a raw Booster's predict p alone
        classes = tuple(range(n_classes)) if est is not None or width > 1 else None
    elif objective in _REGRESSION and not hasattr(est, "predict_proba"):
        post, link = _REGRESSION[objective]
        width = 1
    elif objective in _RANKING and (est is None or isinstance(est, xgboost.XGBRanker)):
        post, link, width = "none", "identity", 1  # predict gives the raw ranking scores
    else:
        raise UnsupportedEstimatorError(
            f"{name} has objective {objective!r}, which crossform does not export; it exports "
            f"{', '.join(sorted(_REGRESSION))} (regressors), {', '.join(sorted(_CLASSIFICATION))} (classifiers) "
            f"and {', '.join(_RANKING)} (rankers' scores)."
        )
    base = np.array([_margin(link, v) for v in _base_score(learner, width)], dtype=np.float64)
    model = learner["gradient_booster"]["model"]
    groups = model["tree_info"]
    docs = xgboost_trees(document)
    if est is not None:
        docs = docs[: _trees_predicted(est, model, width)]
    trees = tuple(_tree(doc, int(groups[i]) if width > 1 else 0, width, name, i, sizes) for i, doc in enumerate(docs))
    if not trees:
        raise UnsupportedEstimatorError(f"{name} has no trees.")
    return ModelSpec(
        tuple(cols),
        lambda features: ir.TreeEnsemble(
            features, trees, "sum", post, classes=classes, base_value=base, infinite="compare", accumulate="float32"
        ),
    )


def leaf_positions(model, X) -> np.ndarray:
    """The preorder position of the leaf each row reaches in each tree, from XGBoost's own
    ``pred_leaf`` and its own child arrays (rows x trees)."""
    booster = model if isinstance(model, xgboost.Booster) else model.get_booster()
    trees = xgboost_trees(booster_document(booster))
    # A DMatrix refuses infinities, which predict (inplace_predict) compares: the float32 cast
    # makes a value beyond float32 infinite, and +-inf goes the way +-FLT_MAX does at every split
    # condition below FLT_MAX in magnitude, which every tree here has (checked).
    top = float(np.finfo(np.float32).max)
    conditions = np.concatenate([np.asarray(t["split_conditions"], dtype=np.float64) for t in trees])
    if (np.abs(conditions.astype(np.float32)) >= np.float32(top)).any():
        raise ValueError("a split condition at +-FLT_MAX: pred_leaf cannot stand in for infinite inputs")
    tables = category_tables(booster_document(booster), type(model).__name__)
    if tables:
        import pandas as pd

        frame = category_frame(model, X)
        numeric = [c for j, c in enumerate(frame.columns) if j not in tables]
        with np.errstate(over="ignore"):
            clipped = np.clip(frame[numeric].to_numpy(dtype=np.float64).astype(np.float32), -top, top)
        frame = frame.copy()
        frame[numeric] = pd.DataFrame(clipped, columns=numeric, index=frame.index)
        dmatrix = xgboost.DMatrix(frame, missing=np.nan, enable_categorical=True)
    else:
        values = np.asarray(X.to_numpy(dtype=np.float64) if hasattr(X, "to_numpy") else X, dtype=np.float64)
        with np.errstate(over="ignore"):
            values = np.clip(values.astype(np.float32), -top, top)
        dmatrix = xgboost.DMatrix(values, missing=np.nan, feature_names=booster.feature_names)
    leaves = np.asarray(booster.predict(dmatrix, pred_leaf=True), dtype=np.int64).reshape(len(X), -1)
    out = np.empty_like(leaves)
    for t, doc in enumerate(trees):
        left = np.asarray(doc["left_children"], dtype=np.int64)
        right = np.asarray(doc["right_children"], dtype=np.int64)
        position = ir.preorder_positions(left, right, np.zeros(1, dtype=np.int64))
        out[:, t] = position[leaves[:, t]]
    return out


def booster_inputs(booster) -> tuple:
    """(feature names or None, count) of a raw Booster, as compose.fitted_inputs gives them."""
    names = booster.feature_names
    return (None if names is None else [str(n) for n in names]), int(booster.num_features())


def booster_predict(booster, X) -> np.ndarray:
    """What a raw Booster predicts for ``X`` (inplace_predict, as XGBModel.predict calls it), one
    column per output."""
    out = np.asarray(booster.inplace_predict(category_frame(booster, X), missing=np.nan), dtype=np.float64)
    return out.reshape(len(out), -1)


CONVERTERS = {
    xgboost.Booster: convert_booster,
    xgboost.XGBRegressor: convert_xgboost,
    xgboost.XGBClassifier: convert_xgboost,
    xgboost.XGBRanker: convert_xgboost,
}
