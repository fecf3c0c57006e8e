"""LightGBM: ``LGBMRegressor``, ``LGBMClassifier`` and a raw ``Booster``.

Read from ``Booster.dump_model()`` (every threshold and leaf value printed with 17
significant digits, so the doubles come back exactly; never pickle), with the trees
``predict`` uses by default: the first ``best_iteration`` iterations when early stopping set
one, else all. LightGBM's predictor (include/LightGBM/tree.h, src/c_api.cpp) computes:

- the row as doubles, where a value with ``|x| <= kZeroThreshold`` (``1e-35f``, as a
  double 1.0000000180025095e-35) is dropped from the row and so reads as 0.0;
- at a numerical node, NaN becomes 0.0 unless the node's ``missing_type`` is NaN; a NaN
  (missing_type NaN) or a zero (missing_type Zero: ``IsZero``, ``|x| <= kZeroThreshold``, NaN
  included as it became 0.0) goes the node's ``default_left`` way;
  anything else goes left iff ``x <= threshold``, in double;
- at a categorical node, NaN and values whose ``int`` is negative go right, a category in
  the node's bitset left, any other right (``static_cast<int>``: 2.7 is category 2, -0.5
  category 0; x86-64 makes INT_MIN of a value beyond the int range and of +-inf);
- the raw score of each output: 0.0 then each tree's leaf value in tree order (the
  boost-from-average score is already inside the first tree's leaves, AddBias), divided by
  the iteration count for random forests (``average_output``); then the objective's
  transform: identity, ``1 / (1 + exp(-sigmoid * x))`` (binary; multiclassova, per output,
  unnormalised), softmax (multiclass) or ``exp`` (poisson, gamma, tweedie).

The zero band is folded into the thresholds (no new IR rule): a row's value x compares as
z(x) (0.0 inside the band), and ``z(x) <= t`` is ``x <= t'`` with t' = t outside
[-kZeroThreshold, kZeroThreshold), the band's top for 0 <= t < kZeroThreshold and the double
below the band's bottom for -kZeroThreshold <= t < 0. A NaN under missing_type None reads as
0.0: it goes left iff 0.0 <= t. Infinities compare like any number (``infinite="compare"``).
Pandas 'category' columns (LightGBM maps each to its code, unknown and missing to NaN): a
label encoder gives the same codes, and a categorical node is a set split holding the codes
that go left (NaN and other codes go right, the missing side). Numeric columns named in
``categorical_feature``: an integer-code step makes the int code CategoricalDecision reads
(NaN where it goes right whatever the bitset), then the same set split.

zero_as_missing (missing_type Zero): a missing-band step makes [-kZeroThreshold, kZeroThreshold]
NaN on each feature split so, and the node's default_left takes NaN; a missing_type None node of
such a feature already sends NaN where 0.0 goes.

Refused by name: a feature split under missing_type Zero and NaN both, numeric category columns beside pandas
'category' ones, ordered or non-string pandas categories, linear trees, a sigmoid other than 1, and objectives
whose transform crossform does not state (cross_entropy_lambda, sqrt regression, ranking,
custom).
"""

from __future__ import annotations

import math
from typing import Any

import lightgbm
import numpy as np

from .. import ir
from ..errors import IRValidationError, UnsupportedEstimatorError
from ._context import Context, ModelSpec
from .boosting import code_categories

# meta.h: const double kZeroThreshold = 1e-35f (a float literal, widened)
ZERO_THRESHOLD = float(np.float32(1e-35))
_BELOW_BAND = math.nextafter(-ZERO_THRESHOLD, -math.inf)

# objective (the first word of dump_model()["objective"]) -> post transform
_IDENTITY = ("regression", "regression_l1", "huber", "fair", "quantile", "mape")
_EXP = ("poisson", "gamma", "tweedie")


def _booster(est) -> lightgbm.Booster:
    return est if isinstance(est, lightgbm.Booster) else est.booster_


def fitted_names(est):
    """The column names a LightGBM scikit-learn estimator was fitted with, or None after an array.

    From LightGBM 4.6, ``feature_names_in_`` exists only after a fit on named columns. 4.5 has it
    after any fit, naming an array's columns Column_0, Column_1, ... itself; before 4.5 it does
    not exist. Before 4.6, then, a fit on a DataFrame is told by the ``pandas_categorical`` list
    it leaves on the booster (empty without category columns; None after an array: basic.py
    ``_data_from_pandas``), and its names are ``feature_name_``."""
    version = tuple(int("".join(c for c in part if c.isdigit()) or 0) for part in lightgbm.__version__.split(".")[:2])
    if version >= (4, 6):
        names = getattr(est, "feature_names_in_", None)
    elif _booster(est).pandas_categorical is not None:
        names = est.feature_name_
    else:
        names = None
    return None if names is None else [str(n) for n in names]


def dump(est) -> dict:
    """``dump_model()`` with the trees ``predict`` uses by default (best_iteration when set)."""
    return _booster(est).dump_model()


def _objective(doc: dict, name: str) -> tuple:
    """(first word, {parameter: value}) of the dump's objective string, e.g. "binary sigmoid:1"."""
    text = doc.get("objective")
    if not isinstance(text, str) or not text:
        raise UnsupportedEstimatorError(
            f"{name} has no objective in its model (a custom objective?); crossform exports LightGBM's built-in "
            "objectives, whose output transforms it knows."
        )
    words = text.split()
    if words[0] in ("custom", "none"):
        raise UnsupportedEstimatorError(
            f"{name} was trained with a custom objective ({text!r}): crossform cannot know its output transform; "
            "it exports LightGBM's built-in objectives."
        )
    params = {}
    for word in words[1:]:
        key, _, value = word.partition(":")
        params[key] = value
    return words[0], params


def _post_transform(objective: str, params: dict, n_outputs: int, name: str) -> str:
    if objective in _IDENTITY:
        if "sqrt" in params:
            raise UnsupportedEstimatorError(
                f"{name} was trained with reg_sqrt, whose prediction is sign(x) * x * x; crossform does not export it."
            )
        return "none"
    if objective in _EXP:
        return "exp"
    one_vs_all = objective in ("multiclassova", "multiclass_ova", "ova", "ovr") and n_outputs > 1
    if objective in ("binary", "cross_entropy", "xentropy") or one_vs_all:
        # one sigmoid per output for multiclassova (ConvertOutput), not normalised: predict_proba as is
        sigmoid = float(params.get("sigmoid", "1"))
        if sigmoid != 1.0:
            raise UnsupportedEstimatorError(
                f"{name} uses sigmoid={params.get('sigmoid')}: its probability is 1 / (1 + exp(-sigmoid * x)), "
                "which crossform states only for sigmoid=1."
            )
        return "logistic"
    if objective in ("multiclass", "softmax") and n_outputs > 1:
        return "softmax"
    raise UnsupportedEstimatorError(
        f"{name} uses objective {objective!r}, whose output transform crossform does not export; it exports "
        f"{', '.join(_IDENTITY + _EXP)}, binary, cross_entropy, multiclass and multiclassova."
    )


def _threshold(t: float) -> float:
    """t' with ``x <= t'`` iff ``z(x) <= t`` (z: the zero band reads as 0.0)."""
    if -ZERO_THRESHOLD <= t < 0.0:
        return _BELOW_BAND
    if 0.0 <= t < ZERO_THRESHOLD:
        return ZERO_THRESHOLD
    return t


class _Nodes:
    """One dumped tree flattened in preorder (node 0 the root): its IR arrays."""

    def __init__(self, root: dict, k: int, width: int, name: str, coded: frozenset):
        self.feature, self.threshold, self.left, self.right = [], [], [], []
        self.missing_left, self.values, self.sets = [], [], []
        self.k, self.width, self.name, self.coded = k, width, name, coded
        self._walk(root)

    def _add(self) -> int:
        for column in (self.feature, self.left, self.right):
            column.append(-1)
        self.threshold.append(0.0)
        self.missing_left.append(False)
        self.values.append(np.zeros(self.width))
        self.sets.append(None)
        return len(self.feature) - 1

    def _walk(self, root: dict) -> None:
        stack = [(root, None, None)]  # (node, parent position, "left"/"right")
        while stack:
            node, parent, side = stack.pop()
            at = self._add()
            if parent is not None:
                getattr(self, side)[parent] = at
            if "split_index" not in node:
                if "leaf_coeff" in node or "leaf_const" in node:
                    raise UnsupportedEstimatorError(
                        f"{self.name} has linear trees (linear_tree=True): each leaf is a linear model, which "
                        "crossform does not export."
                    )
                self.values[at][self.k] = float(node["leaf_value"])
                continue
            self._split(node, at)
            stack.append((node["right_child"], at, "right"))
            stack.append((node["left_child"], at, "left"))  # popped first: preorder

    def _split(self, node: dict, at: int) -> None:
        f = int(node["split_feature"])
        self.feature[at] = f
        missing = node.get("missing_type")
        if node.get("decision_type") == "==":
            if f not in self.coded:  # pragma: no cover - feature_infos lists every feature binned as categories
                raise UnsupportedEstimatorError(
                    f"{self.name} splits feature {f} as a category, but dump_model()'s feature_infos lists no "
                    "categories for it."
                )
            # the listed codes go left; NaN (missing and unknown categories, or a number whose int is
            # negative or beyond the int range: integer-code) and any other code right, the missing side
            self.sets[at] = tuple(sorted({float(c) for c in str(node["threshold"]).split("||")}))
            return
        if node.get("decision_type") != "<=":
            raise UnsupportedEstimatorError(
                f"{self.name} has a split {node.get('decision_type')!r} crossform does not know."
            )
        t = float(node["threshold"])
        if missing in ("NaN", "Zero"):  # Zero: the missing-band step made the zero band NaN
            self.missing_left[at] = bool(node["default_left"])
        elif missing == "None":
            self.missing_left[at] = 0.0 <= t  # NaN reads as 0.0
        else:
            raise UnsupportedEstimatorError(f"{self.name} has missing_type {missing!r}, which crossform does not know.")
        self.threshold[at] = _threshold(t)

    def tree(self) -> ir.Tree:
        return ir.Tree(
            self.feature,
            self.threshold,
            self.left,
            self.right,
            self.missing_left,
            np.array(self.values),
            tuple(self.sets) if any(v is not None for v in self.sets) else (),
        )


def _zero_features(doc: dict, name: str) -> list:
    """The features split under missing_type Zero (zero_as_missing), whose zero band a
    missing-band step makes NaN. A feature split under missing_type NaN as well is refused:
    there a zero compares as 0.0 and NaN goes the default way, which one column cannot hold."""
    kinds: dict = {}
    stack = [info["tree_structure"] for info in doc["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_index" in node:
            kinds.setdefault(int(node["split_feature"]), set()).add(node.get("missing_type"))
            stack += [node["left_child"], node["right_child"]]
    both = sorted(f for f, k in kinds.items() if {"Zero", "NaN"} <= k)
    if both:
        raise UnsupportedEstimatorError(
            f"{name} splits feature {both[0]} under missing_type Zero at some nodes and NaN at others: a zero goes "
            "the default way at the first and compares as 0.0 at the second, which crossform does not state."
        )
    return sorted(f for f, k in kinds.items() if "Zero" in k)


def trees_of(doc: dict, name: str, coded: frozenset = frozenset()) -> list:
    """_Nodes of every tree the dump holds, in tree order (tree t adds to output t % K)."""
    width = int(doc.get("num_tree_per_iteration", 1))
    out = []
    for t, info in enumerate(doc["tree_info"]):
        out.append(_Nodes(info["tree_structure"], t % width, width, name, coded))
    return out


def _category_features(doc: dict) -> list:
    """The features LightGBM bins as categories: dump_model()'s feature_infos lists their
    category values ("values"), which a numeric feature leaves empty."""
    infos = doc.get("feature_infos", {})
    return [
        j
        for j, f in enumerate(doc.get("feature_names", []))
        if isinstance(infos.get(f), dict) and infos[f].get("values")
    ]


def _inputs(booster, doc: dict, ctx: Context, cols: list, name: str) -> tuple:
    """The model's columns, and the features read as category codes. LightGBM's predict maps
    each pandas 'category' column (pandas_categorical: one category list per such column, in
    column order) to its codes, unknown and missing values to NaN: a label encoder with NaN
    for both computes the same codes."""
    tables = booster.pandas_categorical or []
    coded = _category_features(doc)
    if not tables:
        ctx.require(cols, ir.NUMERIC, name)
        if not coded:
            return cols, frozenset()
        # numbers read as categories (categorical_feature): CategoricalDecision's static_cast<int>
        feats = [cols[j] for j in coded]
        encoded = ctx.add_step(
            lambda f, o: ir.IntegerCode(f, o), feats, [c.name for c in feats], [ir.NUMERIC] * len(feats)
        )
        out = list(cols)
        for j, col in zip(coded, encoded):
            out[j] = col
        return out, frozenset(coded)
    if len(coded) != len(tables):
        raise UnsupportedEstimatorError(
            f"{name} was fitted on {len(tables)} pandas 'category' columns but bins {len(coded)} features as "
            "categories (numeric columns named in categorical_feature beside the category columns, an ordered "
            "category column read as numbers, or a category column holding one value), so crossform cannot "
            "tell which column each category list belongs to."
        )
    for j, table in zip(coded, tables):
        if not table or not all(isinstance(c, str) for c in table):
            raise UnsupportedEstimatorError(
                f"{name} reads column {cols[j].name!r} as pandas categories {table[:5]!r}; crossform exports string "
                "categories."
            )
    ctx.require([c for j, c in enumerate(cols) if j not in coded], ir.NUMERIC, name)
    feats = [cols[j] for j in coded]
    ctx.require(feats, ir.CATEGORICAL, name)
    encoded = code_categories(ctx, feats, tables)
    out = list(cols)
    for j, col in zip(coded, encoded):
        out[j] = col
    return out, frozenset(coded)


def category_frame(est, X):
    """``X`` as LightGBM's predict takes it: each string column of a model fitted on pandas
    'category' columns made a category column with the fitted categories (unknown values
    become NaN, as LightGBM's own set_categories makes them)."""
    tables = _booster(est).pandas_categorical or []
    if not tables or not hasattr(X, "columns"):
        return X
    import pandas as pd

    coded = _category_features(dump(est))
    X = X.copy()
    for j, table in zip(coded, tables):
        column = X.columns[j]
        known = X[column].where(X[column].isin(table))  # unknown values to NaN first (pandas 3 deprecates them)
        X[column] = pd.Categorical(known, categories=table)
    return X


def convert_lightgbm(est, ctx: Context, cols: list) -> ModelSpec:
    name = type(est).__name__
    booster = _booster(est)
    doc = dump(est)
    n_features = int(doc.get("max_feature_idx", -1)) + 1
    if n_features != len(cols):
        raise UnsupportedEstimatorError(f"{name} expects {n_features} features but the pipeline gives it {len(cols)}.")
    cols, coded = _inputs(booster, doc, ctx, cols, name)
    zero = _zero_features(doc, name)
    if zero:
        # NumericalDecision's IsZero: -kZeroThreshold <= x <= kZeroThreshold goes the default way, as NaN does
        feats = [cols[j] for j in zero]
        banded = ctx.add_step(
            lambda f, o: ir.MissingBand(f, [-ZERO_THRESHOLD] * len(f), [ZERO_THRESHOLD] * len(f), o),
            feats,
            [c.name for c in feats],
            [ir.NUMERIC] * len(feats),
        )
        cols = list(cols)
        for j, col in zip(zero, banded):
            cols[j] = col
    objective, params = _objective(doc, name)
    width = int(doc.get("num_tree_per_iteration", 1))
    post = _post_transform(objective, params, width, name)
    if not doc.get("tree_info"):
        raise UnsupportedEstimatorError(f"{name} has no trees.")
    trees = tuple(nodes.tree() for nodes in trees_of(doc, name, coded))
    aggregation = "sum"
    if doc.get("average_output"):
        if width != 1:
            raise UnsupportedEstimatorError(
                f"{name} is a random forest with {width} outputs: LightGBM divides each output by the iteration "
                "count, not the tree count, which crossform states only for one output."
            )
        aggregation = "average"
    classes = _classes(est, post, width, name)
    base = np.zeros(width) if aggregation == "sum" else None
    return ModelSpec(
        tuple(cols),
        lambda features: ir.TreeEnsemble(
            features, trees, aggregation, post, classes=classes, base_value=base, infinite="compare"
        ),
    )


def _classes(est, post: str, width: int, name: str) -> Any:
    """A classifier's labels (LGBMClassifier.classes_); a raw Booster's classes are 0..K-1 (for
    a binary objective 0 and 1, as LGBMClassifier's predict_proba gives [1 - p, p])."""
    probabilities = post in ("logistic", "softmax")
    if isinstance(est, lightgbm.LGBMRegressor) and probabilities:
        raise UnsupportedEstimatorError(
            f"{name} was trained with a classification objective; its predict gives probabilities, which "
            "crossform exports from LGBMClassifier or a Booster."
        )
    if isinstance(est, lightgbm.LGBMClassifier) and not probabilities:
        raise UnsupportedEstimatorError(f"{name} has an objective without class probabilities.")
    if not probabilities:
        return None
    if isinstance(est, lightgbm.Booster):
        labels = [0, 1] if width == 1 else list(range(width))
    else:
        labels = est.classes_
    try:
        return ir.class_labels(labels)
    except IRValidationError as exc:
        raise UnsupportedEstimatorError(f"{name} has class labels crossform cannot export: {exc}") from None


def booster_scores(est, X) -> np.ndarray:
    """What a package of ``est`` outputs, from LightGBM: predict_proba for a classifier,
    predict for a regressor; a raw binary Booster's p as ``[1 - p, p]`` (LGBMClassifier's
    predict_proba computes it so)."""
    X = category_frame(est, X)
    if isinstance(est, lightgbm.LGBMClassifier):
        return np.asarray(est.predict_proba(X), dtype=np.float64)
    out = np.asarray(est.predict(X), dtype=np.float64)
    if isinstance(est, lightgbm.Booster):
        objective, _ = _objective(dump(est), "Booster")
        if objective in ("binary", "cross_entropy", "xentropy"):
            return np.column_stack([1.0 - out, out])
    return out.reshape(len(out), -1)


class LeafTree:
    """A dumped tree as child arrays (internal nodes by split_index, then leaves by
    leaf_index), so that ``pred_leaf`` answers map to preorder positions."""

    def __init__(self, root: dict):
        internal, leaves = [], []
        stack = [root]
        while stack:
            node = stack.pop()
            (internal if "split_index" in node else leaves).append(node)
            if "split_index" in node:
                stack.extend((node["left_child"], node["right_child"]))
        self.n_internal = len(internal)
        self.node_count = len(internal) + len(leaves)
        left = np.full(self.node_count, -1, dtype=np.int64)
        right = np.full(self.node_count, -1, dtype=np.int64)

        def index(node: dict) -> int:
            return (
                int(node["split_index"]) if "split_index" in node else self.n_internal + int(node.get("leaf_index", 0))
            )

        for node in internal:
            left[index(node)] = index(node["left_child"])
            right[index(node)] = index(node["right_child"])
        self.children_left, self.children_right = left, right


def leaf_trees(est) -> list:
    return [LeafTree(info["tree_structure"]) for info in dump(est)["tree_info"]]


def apply(est, X, trees: list) -> np.ndarray:
    """The node of each row in each tree (LeafTree numbering), from LightGBM's pred_leaf."""
    leaves = np.asarray(est.predict(category_frame(est, X), pred_leaf=True), dtype=np.int64).reshape(len(X), -1)
    offsets = np.array([t.n_internal for t in trees], dtype=np.int64)
    return leaves + offsets


CONVERTERS = {
    lightgbm.LGBMRegressor: convert_lightgbm,
    lightgbm.LGBMClassifier: convert_lightgbm,
    lightgbm.Booster: convert_lightgbm,
}
