"""The model kinds: tree ensembles, linear models, composites of them, and their class labels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from ._validation import check_finite, describe, frozen_array, invalid, name_tuple, valid_number, valid_text
from .trees import Tree

AGGREGATIONS = ("average", "sum", "weighted-median")
POST_TRANSFORMS = ("none", "logistic", "softmax", "isolation", "exp")
MISSING_RULES = ("route", "error")
INFINITE_RULES = ("error", "compare")
ACCUMULATE_RULES = ("float64", "float32")


class _Model:
    """What every model kind answers from its ``classes`` and ``n_outputs`` (raw scores)."""

    @property
    def is_classifier(self) -> bool:
        return self.classes is not None

    @property
    def is_binary(self) -> bool:
        """Two classes from one raw score (see docs/SEMANTICS.md): its probability gives
        ``[1 - p, p]``, or its sign the class."""
        return self.classes is not None and self.n_outputs == 1


@dataclass(frozen=True, eq=False)
class TreeEnsemble(_Model):
    """Trees over a feature vector, aggregated and post-transformed.

    ``aggregation`` is "average" (left fold of the tree values in tree order,
    then divide by the tree count) or "sum" (``base_value`` first, then each
    tree's value, in tree order). ``classes`` names the outputs of a
    classifier (one probability per class, or two classes from one logistic
    score); None means a regressor.

    Post transform "exp" (a regressor only: a log-link model, such as
    histogram gradient boosting's poisson and gamma losses, LightGBM's and
    XGBoost's poisson, gamma and Tweedie objectives) gives ``exp(raw)``.

    Post transform "isolation" (an isolation forest; ``isolation`` is
    ``(denominator, offset)``) turns the summed path length s into two
    outputs: ``score = -(2 ** -(s / denominator))`` (scikit-learn's
    ``score_samples``) and ``decision = score - offset``.

    ``accumulate`` "float32" (XGBoost's predictor, docs/SEMANTICS.md) adds the
    leaf values to the base value in float32, rounding after every addition,
    and runs the post transform in float32 as XGBoost writes it; leaf and base
    values must then be float32 values. "float64" (the default) is the rule
    of every other model.

    ``aggregation`` "weighted-median" (a regressor only: scikit-learn's
    AdaBoostRegressor) takes, per row, the tree values sorted ascending (ties
    in tree order), the running float64 sum of their ``tree_weights`` in that
    order, and the first value whose running sum is >= half the last one;
    ``tree_weights`` holds one weight >= 0 per tree (empty for the other
    aggregations), summing to more than 0.

    ``divisors`` (empty by default) divide every output of the aggregated
    sum by each divisor in turn, in float64, before the post transform:
    scikit-learn's AdaBoostClassifier divides its summed estimator votes by
    the total estimator weight, then by ``n_classes - 1``, before its softmax.

    ``missing`` and ``infinite`` say which inputs the model refuses, as the
    scikit-learn estimator does: a missing value follows the nodes'
    ``missing_left`` ("route") or is a row error ("error", gradient
    boosting); an infinite or float32-overflowing value is a row error
    ("error", scikit-learn's float32 trees) or compared like any number
    ("compare": histogram gradient boosting, isolation forests).
    """

    features: tuple
    trees: tuple
    aggregation: str = "average"
    post_transform: str = "none"
    classes: Union[tuple, None] = None
    base_value: Union[np.ndarray, None] = None
    missing: str = "route"
    infinite: str = "error"
    isolation: Union[tuple, None] = None
    accumulate: str = "float64"
    divisors: tuple = ()
    tree_weights: tuple = ()

    def __post_init__(self) -> None:
        owner = "TreeEnsemble"
        isolation = None
        if self.post_transform == "isolation":
            if (
                isinstance(self.isolation, (str, bytes))
                or not isinstance(self.isolation, Sequence)
                or len(self.isolation) != 2
            ):
                raise invalid(
                    owner,
                    "isolation",
                    "(denominator, offset) for post transform 'isolation'",
                    describe(self.isolation),
                )
            isolation = (
                valid_number(owner, "isolation", self.isolation[0], allow_nan=False),
                valid_number(owner, "isolation", self.isolation[1], allow_nan=False),
            )
            if isolation[0] <= 0:
                raise invalid(owner, "isolation", "a denominator > 0", isolation[0])
            if self.classes is not None or self.aggregation != "sum":
                raise invalid(
                    owner,
                    "post_transform",
                    "'isolation' only for a regressor with aggregation 'sum'",
                    f"classes={self.classes!r}, aggregation={self.aggregation!r}",
                )
        elif self.isolation is not None:
            raise invalid(owner, "isolation", "None unless post transform is 'isolation'", describe(self.isolation))
        object.__setattr__(self, "isolation", isolation)
        if self.missing not in MISSING_RULES:
            raise invalid(owner, "missing", f"one of {MISSING_RULES}", describe(self.missing))
        if self.infinite not in INFINITE_RULES:
            raise invalid(owner, "infinite", f"one of {INFINITE_RULES}", describe(self.infinite))
        features = name_tuple(owner, "features", self.features)
        if isinstance(self.trees, Tree) or not isinstance(self.trees, Sequence) or not self.trees:
            raise invalid(owner, "trees", "a non-empty sequence of Tree", describe(self.trees))
        trees = tuple(self.trees)
        for i, tree in enumerate(trees):
            if not isinstance(tree, Tree):
                raise invalid(owner, "trees", "Tree objects", f"{type(tree).__name__} at index {i}")
        width = trees[0].n_outputs
        for i, tree in enumerate(trees):
            if tree.n_outputs != width:
                raise invalid(owner, "trees", f"trees with {width} outputs each", f"{tree.n_outputs} in tree {i}")
            top = int(tree.feature.max())
            if top >= len(features):
                raise invalid(
                    owner,
                    "trees",
                    f"feature indices below {len(features)} (the number of features)",
                    f"feature {top} in tree {i}",
                )
        if self.aggregation not in AGGREGATIONS:
            raise invalid(owner, "aggregation", f"one of {AGGREGATIONS}", describe(self.aggregation))
        if self.post_transform not in POST_TRANSFORMS:
            raise invalid(owner, "post_transform", f"one of {POST_TRANSFORMS}", describe(self.post_transform))
        if self.post_transform == "softmax" and width < 2:
            raise invalid(owner, "post_transform", "'softmax' only with two or more outputs", "'softmax' with 1 output")
        if self.post_transform == "exp" and (self.classes is not None or width != 1):
            raise invalid(
                owner,
                "post_transform",
                "'exp' only for a regressor (one output, no classes)",
                f"classes={self.classes!r} with {width} outputs",
            )
        base = None
        if self.aggregation == "sum":
            base = (
                np.zeros(width)
                if self.base_value is None
                else frozen_array(owner, "base_value", self.base_value, np.float64, 1)
            )
            if base.shape != (width,):
                raise invalid(owner, "base_value", f"{width} numbers, one per output", describe(base))
            check_finite(owner, "base_value", base)
            base.setflags(write=False)
        elif self.base_value is not None:
            raise invalid(owner, "base_value", "None when aggregation is 'average'", describe(self.base_value))
        classes = _classes(owner, self.classes, width, self.post_transform, ("logistic",), "tree output")
        if self.accumulate not in ACCUMULATE_RULES:
            raise invalid(owner, "accumulate", f"one of {ACCUMULATE_RULES}", describe(self.accumulate))
        if self.accumulate == "float32":
            if self.aggregation != "sum" or self.post_transform == "isolation":
                raise invalid(
                    owner,
                    "accumulate",
                    "'float32' only with aggregation 'sum' and post transform 'none', 'logistic', 'softmax' or 'exp'",
                    f"aggregation={self.aggregation!r}, post_transform={self.post_transform!r}",
                )
            for i, tree in enumerate(trees):
                _check_float32(owner, "trees", tree.value, f" (leaf values of tree {i})")
            _check_float32(owner, "base_value", base, "")
        divisors = _divisors(owner, self.divisors)
        if divisors and (self.accumulate != "float64" or self.post_transform == "isolation"):
            raise invalid(
                owner,
                "divisors",
                "divisors only with accumulate 'float64' and a post transform other than 'isolation'",
                f"accumulate={self.accumulate!r}, post_transform={self.post_transform!r}",
            )
        tree_weights = _tree_weights(owner, self.tree_weights, self.aggregation, len(trees))
        if self.aggregation == "weighted-median" and (
            classes is not None
            or width != 1
            or self.post_transform != "none"
            or self.accumulate != "float64"
            or divisors
        ):
            raise invalid(
                owner,
                "aggregation",
                "'weighted-median' only for a regressor (one output, no classes) with post transform 'none', "
                "accumulate 'float64' and no divisors",
                f"classes={classes!r}, {width} outputs, post_transform={self.post_transform!r}, "
                f"accumulate={self.accumulate!r}, divisors={divisors!r}",
            )
        object.__setattr__(self, "tree_weights", tree_weights)
        object.__setattr__(self, "divisors", divisors)
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "trees", trees)
        object.__setattr__(self, "base_value", base)
        object.__setattr__(self, "classes", classes)

    @property
    def n_outputs(self) -> int:
        """The width of the trees' leaf vectors (1 for a binary logistic model)."""
        return self.trees[0].n_outputs

    @property
    def model_type(self) -> str:
        if self.post_transform == "isolation":
            return "isolation-forest"
        task = "classification" if self.is_classifier else "regression"
        return f"{task}-boosted-trees" if self.aggregation == "sum" else f"{task}-forest"

    @property
    def outputs(self) -> tuple:
        if self.post_transform == "isolation":
            return ISOLATION_OUTPUTS
        if self.classes is None:
            return ("prediction",)
        return tuple(f"probability({c})" for c in self.classes)

    @property
    def n_nodes(self) -> int:
        return sum(t.n_nodes for t in self.trees)

    @property
    def has_sets(self) -> bool:
        return any(t.has_sets for t in self.trees)


def _divisors(owner: str, value: Any) -> tuple:
    """Validated divisors: a sequence of finite numbers > 0."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise invalid(owner, "divisors", "a sequence of numbers > 0", describe(value))
    divisors = tuple(valid_number(owner, "divisors", v, allow_nan=False) for v in value)
    for d in divisors:
        if not (d > 0 and np.isfinite(d)):
            raise invalid(owner, "divisors", "finite numbers > 0", d)
    return divisors


def _tree_weights(owner: str, value: Any, aggregation: str, n_trees: int) -> tuple:
    """Validated tree weights: one finite number >= 0 per tree, summing to more than 0, under
    aggregation "weighted-median"; none under the others."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise invalid(owner, "tree_weights", "a sequence of numbers >= 0", describe(value))
    weights = tuple(valid_number(owner, "tree_weights", v, allow_nan=False) for v in value)
    if aggregation != "weighted-median":
        if weights:
            raise invalid(owner, "tree_weights", f"no tree weights with aggregation {aggregation!r}", describe(value))
        return weights
    if len(weights) != n_trees:
        raise invalid(owner, "tree_weights", f"{n_trees} weights, one per tree", f"{len(weights)} weights")
    for w in weights:
        if not (w >= 0 and np.isfinite(w)):
            raise invalid(owner, "tree_weights", "finite numbers >= 0", w)
    if not sum(weights) > 0:
        raise invalid(owner, "tree_weights", "weights summing to more than 0", f"a sum of {sum(weights)!r}")
    return weights


def _check_float32(owner: str, field: str, values: np.ndarray, where: str) -> None:
    """Under accumulate "float32" every value added must be a float32 value held exactly."""
    with np.errstate(over="ignore"):
        bad = values.astype(np.float32).astype(np.float64) != values
    if bad.any():
        raise invalid(
            owner,
            field,
            f"float32 values under accumulate 'float32'{where}",
            repr(float(values[bad].reshape(-1)[0])),
        )


# an isolation forest's scikit-learn score_samples and decision_function
ISOLATION_OUTPUTS = ("score", "decision")


def _classes(
    owner: str, value: Any, width: int, post_transform: str, binary_transforms: tuple, what: str
) -> Union[tuple, None]:
    """Validated class labels: one per output, or two for one output (a binary
    model) under one of ``binary_transforms``; None (a regressor) needs one output."""
    if value is None:
        if width != 1:
            raise invalid(owner, "classes", f"class labels for {width} outputs (a regressor has one)", "None")
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise invalid(owner, "classes", "a sequence of class labels", describe(value))
    classes = class_labels(value, owner)
    if len(set(classes)) != len(classes) or len({str(c) for c in classes}) != len(classes):
        raise invalid(owner, "classes", "distinct labels (also as text)", list(classes))
    if len(classes) < 2:
        raise invalid(owner, "classes", "two or more labels", list(classes))
    if width == 1 and len(classes) == 2:
        if post_transform not in binary_transforms:
            raise invalid(
                owner,
                "post_transform",
                f"one of {binary_transforms} for two classes from one {what}",
                describe(post_transform),
            )
    elif len(classes) != width:
        raise invalid(owner, "classes", f"{width} labels, one per {what}", f"{len(classes)} labels")
    return classes


def class_labels(values: Sequence, owner: str = "the model") -> tuple:
    """Class labels as the IR keeps them (plain str, int, float or bool), or IRValidationError
    naming ``owner`` (the model kind, when a model checks its own labels)."""
    return tuple(_label(owner, v) for v in values)


def _label(owner: str, value: Any) -> Union[str, int, float, bool]:
    expected = "strings, integers, finite floats or booleans"
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return valid_text(owner, "classes", str(value))  # str(): a numpy str_ becomes a plain str
    if isinstance(value, (int, np.integer)):
        if not -(2**63) <= int(value) < 2**63:
            raise invalid(owner, "classes", "integers that fit in 64 bits", int(value))
        return int(value)
    if isinstance(value, (float, np.floating)) and np.isfinite(value):
        return float(value)
    raise invalid(owner, "classes", expected, describe(value))


LINEAR_POST_TRANSFORMS = ("none", "logistic", "softmax")


@dataclass(frozen=True, eq=False)
class LinearModel(_Model):
    """Linear scores over a feature vector, post-transformed.

    Output k's raw score is ``sum_j coefficients[k, j] * x[j]`` (feature
    order) plus ``intercepts[k]``. A regressor has one output. A classifier
    names one class per output, or two classes for one output: then the
    score decides class 1 (``decision``, post transform "none": class 1 iff
    the score > 0) or gives its probability p (``logistic``: outputs
    ``[1 - p, p]``).
    """

    features: tuple
    coefficients: np.ndarray
    intercepts: np.ndarray
    post_transform: str = "none"
    classes: Union[tuple, None] = None

    def __post_init__(self) -> None:
        owner = "LinearModel"
        features = name_tuple(owner, "features", self.features)
        coefficients = frozen_array(owner, "coefficients", self.coefficients, np.float64, 2)
        intercepts = frozen_array(owner, "intercepts", self.intercepts, np.float64, 1)
        if coefficients.shape[1] != len(features) or coefficients.shape[0] == 0:
            raise invalid(
                owner, "coefficients", f"an array of shape (outputs, {len(features)})", describe(coefficients)
            )
        if intercepts.shape != (coefficients.shape[0],):
            raise invalid(owner, "intercepts", f"{coefficients.shape[0]} numbers, one per output", describe(intercepts))
        check_finite(owner, "coefficients", coefficients)
        check_finite(owner, "intercepts", intercepts)
        if self.post_transform not in LINEAR_POST_TRANSFORMS:
            raise invalid(owner, "post_transform", f"one of {LINEAR_POST_TRANSFORMS}", describe(self.post_transform))
        width = coefficients.shape[0]
        if self.post_transform == "softmax" and width < 2:
            raise invalid(owner, "post_transform", "'softmax' only with two or more outputs", "'softmax' with 1 output")
        classes = _classes(owner, self.classes, width, self.post_transform, ("none", "logistic"), "output")
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "coefficients", coefficients)
        object.__setattr__(self, "intercepts", intercepts)
        object.__setattr__(self, "classes", classes)

    @property
    def n_outputs(self) -> int:
        """The number of raw scores (1 for a binary classifier)."""
        return self.coefficients.shape[0]

    @property
    def model_type(self) -> str:
        return "classification-linear" if self.is_classifier else "regression-linear"

    @property
    def outputs(self) -> tuple:
        if self.classes is None:
            return ("prediction",)
        if self.post_transform == "none":
            return ("decision",) if self.is_binary else tuple(f"decision({c})" for c in self.classes)
        return tuple(f"probability({c})" for c in self.classes)


COMBINATIONS = ("average", "vote", "stack", "calibrate", "target")
CALIBRATION_METHODS = ("sigmoid", "isotonic")
# the inverse target steps of "target": an operation with a number, or a function of the value alone
TARGET_OPERATIONS = ("add", "subtract", "multiply", "divide")
TARGET_FUNCTIONS = ("exp", "expm1")
# the combinations whose regressor output may go through target steps ("target": one member as it is)
TARGET_COMBINATIONS = ("target", "average", "stack")
MEMBER_TYPES = (TreeEnsemble, LinearModel)


@dataclass(frozen=True, eq=False)
class Composite(_Model):
    """A model over other models' outputs: its ``members`` (tree ensembles and linear models,
    each over the same feature vector) score a row, and ``combination`` joins their outputs.

    "average" (scikit-learn's soft VotingClassifier and its VotingRegressor): output k is the
    left fold, in member order, of ``weights[m] * member_m[k]`` (each member's outputs after
    its own post transform), divided by ``divisor``. scikit-learn divides by numpy's sum of
    the weights, a pairwise sum from 8 weights on, so the divisor is recorded as the fitted
    model computes it rather than derived. A classifier's members are classifiers giving one
    probability per class (``classes``, the members' own); a regressor's give one prediction.

    "vote" (scikit-learn's hard VotingClassifier): each member's class is the first of equal
    maxima of its outputs (one decision score: class 1 iff it is > 0), and output k, ``votes(k)``,
    is the left fold, in member order, of the weights of the members whose class is k; the class
    is the first of equal maxima of the votes. Weights are >= 0 and the divisor is 1.0 (unused).

    "stack" (scikit-learn's StackingClassifier and StackingRegressor): the members' outputs, in
    member order, are the columns ``stack(0)``, ``stack(1)``, ... that ``final`` (a linear model
    over exactly those names) reads; a member giving the probabilities of two classes gives only
    the second (the first is 1 minus it), any other member all its outputs; under
    ``passthrough`` the composite's features follow them. The composite's outputs are the final
    model's; weights are 1.0 and the divisor 1.0 (both unused).

    "calibrate" (scikit-learn's CalibratedClassifierCV): each member's response columns (its
    outputs; two probabilities give only the second; a raw score model its one prediction) are
    calibrated. Under ``calibration_method`` "sigmoid" column c by ``calibration[m][c] = (a, b)``
    as ``p = 1 / (1 + exp(-z))`` with ``z = -(a * t + b)``; under "isotonic" by the breakpoints
    ``calibration[m][c]``, an (n, 2) array of (x, y) rows with x strictly increasing, as numpy's
    ``interp`` (``isotonic_interpolate``: y[0] below x[0], y[-1] from x[-1] on, y[j] at x[j],
    else ``slope * (t - x[j]) + y[j]`` with ``slope = (y[j+1] - y[j]) / (x[j+1] - x[j])`` for
    x[j] < t < x[j+1]). Two classes give ``[1 - p, p]``, more give each ``p`` over their sum,
    added as numpy adds a row (``pairwise_sum``: a left fold below 8 classes; ``1 / classes``
    each where the sum is 0); values in (1, 1 + 1e-5] become 1.0; then the members' probabilities are averaged (a left fold, divided by the count).

    "target" (scikit-learn's TransformedTargetRegressor): one regressor member, whose float64
    prediction t goes through ``target_steps`` in order, each a pair: ``("add", c)`` is t + c,
    ``("subtract", c)`` t - c, ``("multiply", c)`` t * c, ``("divide", c)`` t / c (c finite, not
    0 for a division), ``("exp", None)`` numpy's exp, ``("expm1", None)`` numpy's expm1, each one
    IEEE double operation. A row whose prediction is not finite (NaN or +-inf) is a row error, as
    scikit-learn's check_array refuses it before the inverse. Weights and divisor are 1.0 (unused).
    A regressor combined by "average" or "stack" may carry target steps too: its combined
    prediction goes through them the same way (a TransformedTargetRegressor over a voting or
    stacking regressor), so a composite is still never a member.

    A row refused by any member is a row error, as the library's predict fails for it. A
    composite is never a member: members are the model kinds of ``MEMBER_TYPES``.
    """

    members: tuple
    combination: str = "average"
    weights: Union[np.ndarray, None] = None
    divisor: Union[float, None] = None
    classes: Union[tuple, None] = None
    final: Union[LinearModel, None] = None
    passthrough: bool = False
    calibration: Union[tuple, None] = None
    calibration_method: str = "sigmoid"
    target_steps: tuple = ()

    def __post_init__(self) -> None:
        owner = "Composite"
        if isinstance(self.members, MEMBER_TYPES) or not isinstance(self.members, Sequence) or not self.members:
            raise invalid(
                owner, "members", "a non-empty sequence of TreeEnsemble or LinearModel", describe(self.members)
            )
        members = tuple(self.members)
        for i, member in enumerate(members):
            if not isinstance(member, MEMBER_TYPES):
                raise invalid(
                    owner,
                    "members",
                    "TreeEnsemble or LinearModel members (a composite is never a member)",
                    f"{type(member).__name__} at index {i}",
                )
            if member.features != members[0].features:
                raise invalid(
                    owner,
                    "members",
                    f"members over the same features {list(members[0].features)}",
                    f"{list(member.features)} in member {i}",
                )
        if self.combination not in COMBINATIONS:
            raise invalid(owner, "combination", f"one of {COMBINATIONS}", describe(self.combination))
        weights = (
            np.ones(len(members))
            if self.weights is None
            else frozen_array(owner, "weights", self.weights, np.float64, 1)
        )
        if weights.shape != (len(members),):
            raise invalid(owner, "weights", f"{len(members)} numbers, one per member", describe(weights))
        check_finite(owner, "weights", weights)
        weights.setflags(write=False)
        if self.combination == "calibrate":
            calibration = self._check_calibration(owner, members)
        elif self.calibration is not None:
            raise invalid(owner, "calibration", "None unless combination is 'calibrate'", describe(self.calibration))
        elif self.calibration_method != "sigmoid":
            raise invalid(
                owner,
                "calibration_method",
                "'sigmoid' (unused) unless combination is 'calibrate'",
                describe(self.calibration_method),
            )
        else:
            calibration = None
        if self.combination == "stack":
            self._check_stack(owner, members, weights)
        elif self.final is not None or self.passthrough is not False:
            raise invalid(
                owner,
                "final",
                "no final model and passthrough False unless combination is 'stack'",
                f"final={describe(self.final)}, passthrough={self.passthrough!r}",
            )
        target_steps = self._check_target(owner, members, weights)
        if self.combination == "vote":
            if (weights < 0).any():
                raise invalid(owner, "weights", "weights >= 0 under 'vote'", weights.tolist())
            if self.divisor is not None and self.divisor != 1.0:
                raise invalid(owner, "divisor", "None or 1.0 under 'vote' (votes are not divided)", self.divisor)
            if self.classes is None:
                raise invalid(owner, "classes", "class labels under 'vote'", "None")
        default = 1.0 if self.combination in ("vote", "stack") else float(len(members))
        if self.combination == "calibrate" and (
            (weights != 1.0).any() or (self.divisor is not None and self.divisor != len(members))
        ):
            raise invalid(
                owner, "weights", "weights 1.0 and the member count as divisor under 'calibrate'", weights.tolist()
            )
        divisor = default if self.divisor is None else valid_number(owner, "divisor", self.divisor, allow_nan=False)
        if divisor == 0:
            raise invalid(owner, "divisor", "a number other than 0", divisor)
        if self.combination == "stack":
            classes = self.final.classes
            if self.classes is not None and class_labels(self.classes, owner) != classes:
                raise invalid(owner, "classes", f"the final model's classes {classes!r}", describe(self.classes))
        elif self.combination == "calibrate":
            classes = _classes(owner, self.classes, len(self.classes or ()), "none", (), "class")
            for i, member in enumerate(members):
                if member.classes not in (None, classes) or (
                    member.classes is None and member.outputs != ("prediction",)
                ):
                    raise invalid(
                        owner,
                        "members",
                        f"classifiers of the classes {list(classes)}, or raw score models, under 'calibrate'",
                        f"{type(member).__name__} with classes {member.classes!r} at index {i}",
                    )
        elif self.classes is None:
            classes = None
            for i, member in enumerate(members):
                if member.classes is not None or member.outputs != ("prediction",):
                    raise invalid(
                        owner,
                        "members",
                        "regressors (one prediction each) in a regressor",
                        f"{type(member).__name__} with outputs {list(member.outputs)} at index {i}",
                    )
        else:
            classes = _classes(owner, self.classes, len(self.classes), "none", (), "class")
            wanted = tuple(f"probability({c})" for c in classes)
            for i, member in enumerate(members):
                if self.combination == "vote" and member.classes != classes:
                    raise invalid(
                        owner,
                        "members",
                        f"classifiers of the classes {list(classes)} under 'vote'",
                        f"{type(member).__name__} with classes {member.classes!r} at index {i}",
                    )
                if self.combination != "vote" and (member.classes != classes or member.outputs != wanted):
                    raise invalid(
                        owner,
                        "members",
                        f"classifiers giving the probabilities {list(wanted)}",
                        f"{type(member).__name__} with outputs {list(member.outputs)} at index {i}",
                    )
        object.__setattr__(self, "calibration", calibration)
        object.__setattr__(self, "target_steps", target_steps)
        object.__setattr__(self, "members", members)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "divisor", divisor)
        object.__setattr__(self, "classes", classes)

    def _check_calibration(self, owner: str, members: tuple) -> tuple:
        value = self.calibration
        if self.calibration_method not in CALIBRATION_METHODS:
            raise invalid(
                owner, "calibration_method", f"one of {CALIBRATION_METHODS}", describe(self.calibration_method)
            )
        if self.calibration_method == "isotonic":
            return self._check_breakpoints(owner, members)
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != len(members):
            raise invalid(
                owner, "calibration", f"{len(members)} arrays of (a, b) rows, one per member", describe(value)
            )
        out = []
        for i, (params, width) in enumerate(zip(value, calibration_widths(members, len(self.classes or ())))):
            params = frozen_array(owner, "calibration", params, np.float64, 2)
            if params.shape != (width, 2):
                raise invalid(owner, "calibration", f"an array of shape ({width}, 2) for member {i}", describe(params))
            check_finite(owner, "calibration", params)
            params.setflags(write=False)
            out.append(params)
        return tuple(out)

    def _check_breakpoints(self, owner: str, members: tuple) -> tuple:
        value = self.calibration
        widths = calibration_widths(members, len(self.classes or ()))
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != len(members):
            raise invalid(
                owner, "calibration", f"{len(members)} sequences of breakpoint arrays, one per member", describe(value)
            )
        out = []
        for i, (columns, width) in enumerate(zip(value, widths)):
            if (
                isinstance(columns, (str, bytes, np.ndarray))
                or not isinstance(columns, Sequence)
                or len(columns) != width
            ):
                raise invalid(
                    owner,
                    "calibration",
                    f"{width} breakpoint arrays for member {i}, one per response column",
                    describe(columns),
                )
            kept = []
            for points in columns:
                points = frozen_array(owner, "calibration", points, np.float64, 2)
                if points.ndim != 2 or points.shape[1] != 2 or not len(points):
                    raise invalid(
                        owner, "calibration", f"an array of (x, y) rows, at least one, for member {i}", describe(points)
                    )
                check_finite(owner, "calibration", points)
                if (np.diff(points[:, 0]) <= 0).any():
                    raise invalid(
                        owner, "calibration", f"breakpoints x strictly increasing for member {i}", points[:, 0].tolist()
                    )
                points.setflags(write=False)
                kept.append(points)
            out.append(tuple(kept))
        return tuple(out)

    def _check_target(self, owner: str, members: tuple, weights: np.ndarray) -> tuple:
        value = self.target_steps
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise invalid(owner, "target_steps", "a sequence of (operation, number) pairs", describe(value))
        if self.combination == "target":
            if len(members) != 1 or self.classes is not None:
                raise invalid(
                    owner,
                    "members",
                    "one regressor under 'target'",
                    f"{len(members)} members, classes {self.classes!r}",
                )
            if (weights != 1.0).any() or (self.divisor is not None and self.divisor != 1.0):
                raise invalid(owner, "weights", "weight and divisor 1.0 under 'target' (unused)", weights.tolist())
            if not value:
                raise invalid(
                    owner, "target_steps", "a non-empty sequence of (operation, number) pairs", describe(value)
                )
        elif value and (
            self.combination not in TARGET_COMBINATIONS
            or self.classes is not None
            or (self.final is not None and self.final.classes is not None)
        ):
            raise invalid(
                owner,
                "target_steps",
                f"no steps unless the composite is a regressor combined by one of {TARGET_COMBINATIONS}",
                describe(value),
            )
        steps = []
        for i, step in enumerate(value):
            if isinstance(step, (str, bytes)) or not isinstance(step, Sequence) or len(step) != 2:
                raise invalid(owner, "target_steps", f"an (operation, number) pair at index {i}", describe(step))
            op, number = step
            if op in TARGET_FUNCTIONS:
                if number is not None:
                    raise invalid(owner, "target_steps", f"no number with {op!r} at index {i}", describe(number))
                steps.append((op, None))
                continue
            if op not in TARGET_OPERATIONS:
                raise invalid(
                    owner, "target_steps", f"an operation of {TARGET_OPERATIONS + TARGET_FUNCTIONS}", describe(op)
                )
            number = valid_number(owner, "target_steps", number, allow_nan=False)
            if op == "divide" and number == 0:
                raise invalid(owner, "target_steps", f"a divisor other than 0 at index {i}", number)
            steps.append((op, number))
        return tuple(steps)

    def _check_stack(self, owner: str, members: tuple, weights: np.ndarray) -> None:
        if not isinstance(self.final, LinearModel):
            raise invalid(owner, "final", "a LinearModel under 'stack'", describe(self.final))
        if not isinstance(self.passthrough, bool):
            raise invalid(owner, "passthrough", "True or False", describe(self.passthrough))
        if (weights != 1.0).any() or (self.divisor is not None and self.divisor != 1.0):
            raise invalid(owner, "weights", "weights and divisor 1.0 under 'stack' (unused)", weights.tolist())
        wanted = stack_columns(members, self.passthrough)
        if self.final.features != wanted:
            raise invalid(owner, "final", f"a final model over {list(wanted)}", list(self.final.features))

    @property
    def features(self) -> tuple:
        """The feature vector every member reads."""
        return self.members[0].features

    @property
    def n_outputs(self) -> int:
        if self.final is not None:
            return len(self.final.outputs)
        return 1 if self.classes is None else len(self.classes)

    @property
    def model_type(self) -> str:
        return "classification-composite" if self.is_classifier else "regression-composite"

    @property
    def outputs(self) -> tuple:
        if self.final is not None:
            return self.final.outputs
        if self.classes is None:
            return ("prediction",)
        if self.combination == "vote":
            return tuple(f"votes({c})" for c in self.classes)
        return tuple(f"probability({c})" for c in self.classes)

    @property
    def member_trees(self) -> tuple:
        """Every member's trees, in member order (where the probe rows look for splits)."""
        return tuple(t for m in self.members if isinstance(m, TreeEnsemble) for t in m.trees)


def stack_widths(members: tuple) -> list:
    """How many columns each member gives a stack: its outputs, or one for two probabilities."""
    return [
        1
        if m.classes is not None and len(m.classes) == 2 and m.outputs[0].startswith("probability(")
        else len(m.outputs)
        for m in members
    ]


def calibration_widths(members: tuple, n_classes: int) -> list:
    """How many response columns each member gives a calibration: one for two classes, else one per class."""
    return [1 if n_classes == 2 else n_classes for _ in members]


def pairwise_sum(terms: list, add: Callable):
    """numpy's sum of ``terms`` as its add reduction computes a row (numpy's ``pairwise_sum``,
    numpy/_core/src/umath/loops_utils.h.src): fewer than 8 in order from the first; up to 128
    into 8 accumulators (term i into accumulator i % 8, the last n % 8 left out), joined as
    ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then the rest added in order; more than
    128 split at half the count rounded down to a multiple of 8, each half so summed, then added.
    ``add(a, b)`` adds two partial sums (numbers, arrays or graph nodes)."""
    n = len(terms)
    if n < 8:
        total = terms[0]
        for term in terms[1:]:
            total = add(total, term)
        return total
    if n <= 128:
        r = list(terms[:8])
        stop = n - n % 8
        for i in range(8, stop):
            r[i % 8] = add(r[i % 8], terms[i])
        total = add(add(add(r[0], r[1]), add(r[2], r[3])), add(add(r[4], r[5]), add(r[6], r[7])))
        for term in terms[stop:]:
            total = add(total, term)
        return total
    half = n // 2
    half -= half % 8
    return add(pairwise_sum(terms[:half], add), pairwise_sum(terms[half:], add))


def isotonic_interpolate(points: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's ``interp(t, x, y)`` over the breakpoints ``points`` ((x, y) rows, x strictly
    increasing), as numpy/_core/src/multiarray/compiled_base.c computes it: y[0] below x[0],
    y[-1] from x[-1] on, y[j] where t == x[j], else ``slope * (t - x[j]) + y[j]`` with
    ``slope = (y[j+1] - y[j]) / (x[j+1] - x[j])`` for x[j] < t < x[j+1]; NaN stays NaN."""
    x, y = points[:, 0], points[:, 1]
    t = np.asarray(t, dtype=np.float64)
    if len(x) == 1:
        return np.where(np.isnan(t), np.nan, y[0])
    j = np.clip(np.searchsorted(x, t, side="right") - 1, 0, len(x) - 2)
    with np.errstate(over="ignore", invalid="ignore"):
        slope = (y[j + 1] - y[j]) / (x[j + 1] - x[j])
        out = slope * (t - x[j]) + y[j]
    out = np.where(t == x[j], y[j], out)
    out = np.where(t < x[0], y[0], out)
    return np.where(t >= x[-1], y[-1], out)


def stack_columns(members: tuple, passthrough: bool) -> tuple:
    """The names a stack's final model reads: stack(0), stack(1), ... (then the features)."""
    n = sum(stack_widths(members))
    return tuple(f"stack({j})" for j in range(n)) + (members[0].features if passthrough else ())


Model = Union[TreeEnsemble, LinearModel, Composite]
MODEL_TYPES = (TreeEnsemble, LinearModel, Composite)
