"""The pmml writer's model: the MiningModel's Segmentation as the package's shape asks
(rules.FLAT, CHAIN or LINEAR), each tree a TreeModel whose Nodes are written from the
tree's arrays, in preorder, as text.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Union

import numpy as np

from ... import ir
from . import float32
from .rules import (
    BASE_SEGMENT,
    CHAIN,
    FLAT,
    INF,
    LINEAR,
    LINKS,
    ON,
    PREFIX,
    TARGET,
    _attr,
    _chain_trees,
    _constant,
    _num,
    _score_name,
    leaf_record_counts,
)

if TYPE_CHECKING:  # the writer's plan; the writer imports this module
    from .writer import _Plan


def _leaf_field(t: int) -> str:
    return f"{PREFIX}leaf({t})"


def _reads_every_checked_field(plan: _Plan) -> str:
    """The first Segment's predicate: true for every value the fields accept,
    and it reads each field that refuses some, so JPMML checks them all; and
    each product field that checks its value (a tree may split on none of them,
    and scikit-learn refuses an overflow in any column the step after it is given)."""
    checked = [f.name for f in plan.package.inputs if plan.validity[f.name].checked] + plan.checked
    if not checked:
        return "<True/>"
    reads = [
        f'<CompoundPredicate booleanOperator="or"><SimplePredicate field="{_attr(n)}" operator="isMissing"/>'
        f'<SimplePredicate field="{_attr(n)}" operator="isNotMissing"/></CompoundPredicate>'
        for n in checked
    ]
    if len(reads) == 1:
        return reads[0]
    return '<CompoundPredicate booleanOperator="and">' + "".join(reads) + "</CompoundPredicate>"


TREE_MODEL = (
    '<TreeModel functionName="{function}" missingValueStrategy="defaultChild" '
    'noTrueChildStrategy="returnNullPrediction" splitCharacteristic="binarySplit">'
    "<MiningSchema>{target}{fields}</MiningSchema>\n"
)
TARGET_FIELD = f'<MiningField name="{TARGET}" usageType="target"/>'


def _tree_model(plan: _Plan, function: str, target: bool = True) -> str:
    """A TreeModel's opening; a score's trees in a chain name no target (theirs is not the package's),
    nor do a composite member's regression trees in a classifier's document (plan.own_target)."""
    return TREE_MODEL.format(function=function, target=_target(plan) if target else "", fields=plan.input_fields())


def _target(plan: _Plan) -> str:
    """The target's MiningField, unless the model is a composite's member whose function is not the
    document's (the target's type is the top model's: a class label under a regression is not a double)."""
    return TARGET_FIELD if plan.own_target else ""


def _tree_text(
    tree: ir.Tree, fields: list, labels: Union[list, None], leaf_cache: dict, values: Union[np.ndarray, None] = None
) -> str:
    """One TreeModel's nodes in preorder: ``<Node id="<position>">`` with the
    predicate its parent's split gives it. Built as a list of strings per node,
    from arrays: no element objects. ``values`` replaces the leaf values (a
    chain's tree scores one column of them)."""
    n = tree.n_nodes
    order = tree.preorder
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    left, right = tree.left, tree.right
    leaf = tree.is_leaf
    split = np.flatnonzero(~leaf)
    parent = np.full(n, -1, dtype=np.int64)
    parent[left[split]] = split
    parent[right[split]] = split
    is_left = np.zeros(n, dtype=bool)
    is_left[left[split]] = True
    # the last preorder position inside each node's subtree: its rightmost descendant
    last = position.copy()
    right_list, last_list = right.tolist(), last.tolist()
    for node in order[::-1].tolist():
        r = right_list[node]
        if r >= 0:
            last_list[node] = last_list[r]
    closes = np.bincount(np.asarray(last_list, dtype=np.int64)[split], minlength=n) + 1  # in position order
    # per split node: the two predicates its children carry
    feature, threshold = tree.feature.tolist(), tree.threshold.tolist()
    sets, missing_left = getattr(tree, "sets", ()), tree.missing_left.tolist()
    le = {
        q: _left_predicate(fields[feature[q]], threshold[q], sets[q] if sets else None, missing_left[q])
        for q in split.tolist()
    }
    default = np.where(tree.missing_left, position[np.maximum(left, 0)], position[np.maximum(right, 0)]).tolist()
    values = tree.value if values is None else values
    parent_l, is_left_l, leaf_l = parent.tolist(), is_left.tolist(), leaf.tolist()
    closes_l = closes.tolist()
    out = []
    append = out.append
    for pos, node in enumerate(order.tolist()):
        q = parent_l[node]
        # the right child is <True/>: a present x that is not <= t is > t, and a missing x
        # never gets there (the left child's predicate is unknown, so defaultChild decides)
        predicate = le[q] if q >= 0 and is_left_l[node] else "<True/>"
        if leaf_l[node]:
            row = tuple(values[node].tolist())
            body = leaf_cache.get(row)
            if body is None:
                body = _leaf_body(row, labels)
                leaf_cache[row] = body
            append(f'<Node id="{pos}" score="{body[0]}">{predicate}{body[1]}' + "</Node>" * closes_l[pos] + "\n")
        else:
            append(f'<Node id="{pos}" defaultChild="{default[node]}">{predicate}\n')
    return "".join(out)


def _threshold(t: float) -> str:
    """A threshold's text: repr, and +inf (histogram boosting: every number goes left) as XML Schema's INF."""
    return INF if t == math.inf else repr(t)


def _left_predicate(field: str, threshold: float, values: Union[tuple, None], missing_left: bool) -> str:
    """The left child's predicate: x <= t, or for a set split (values S) the side
    away from the missing side is S: isIn S when that is the left, else isNotIn S.
    A missing x makes either unknown, and defaultChild takes the missing side."""
    if values is None:
        return f'<SimplePredicate field="{field}" operator="lessOrEqual" value="{_threshold(threshold)}"/>'
    return (
        f'<SimpleSetPredicate field="{field}" booleanOperator="{"isNotIn" if missing_left else "isIn"}">'
        f'<Array type="real" n="{len(values)}">{" ".join(map(repr, values))}</Array></SimpleSetPredicate>'
    )


def _leaf_body(row: tuple, labels: Union[list, None]) -> tuple:
    if labels is None:
        return repr(row[0]), ""
    best = max(range(len(row)), key=lambda k: (row[k], -k))  # the first of equal maxima
    dist = "".join(
        f'<ScoreDistribution value="{label}" recordCount="{v!r}"/>' for label, v in zip(labels, leaf_record_counts(row))
    )
    return labels[best], dist


# PMML's name of an aggregation: a weighted median's Segmentation says what it is, with each
# Segment's weight, though the Output computes the rule itself (pmml.weighted_median)
SEGMENTATION_METHODS = {"weighted-median": "weightedMedian"}


def _flat(plan: _Plan, leaves: str) -> Iterator[bytes]:
    """The trees as the top model's Segments: PMML's average or sum, a sum's base value first."""
    model = plan.package.model
    method = SEGMENTATION_METHODS.get(model.aggregation, model.aggregation)
    head = [f'<Segmentation multipleModelMethod="{method}">\n']
    first = _reads_every_checked_field(plan)
    tree_model = _tree_model(plan, plan.function)
    if model.aggregation == "sum":
        head.append(
            f'<Segment id="{BASE_SEGMENT}">{first}\n'
            + tree_model
            + f'<Node id="0" score="{_num(model.base_value[0])}"><True/></Node>\n</TreeModel>\n</Segment>\n'
        )
        first = "<True/>"
    yield "".join(head).encode("utf-8")
    fields = [_attr(name) for name in plan.features]
    labels = [_attr(str(c)) for c in model.classes] if model.is_classifier else None
    leaf_cache: dict = {}
    weights = [f' weight="{_num(w)}"' for w in model.tree_weights] or [""] * len(model.trees)
    for t, tree in enumerate(model.trees):
        predicate = first if t == 0 else "<True/>"
        yield (
            f'<Segment id="{t}"{weights[t]}>{predicate}\n{tree_model}'
            + _tree_text(tree, fields, labels, leaf_cache)
            + "</TreeModel>\n</Segment>\n"
        ).encode("utf-8")
    yield b"</Segmentation>\n"


def _score_segment(k: int, width: int) -> str:
    return "raw" if width == 1 else f"raw({k})"


def _chain(plan: _Plan, leaves: str) -> Iterator[bytes]:
    """One regression MiningModel per score (the sum or average of its trees'
    k-th leaf values, PMML's own), each reporting its score and the leaves of
    the trees it holds first; then the link, a classification RegressionModel
    (logit or softmax) over the scores, unless the Output computes the outputs."""
    model = plan.package.model
    width = model.n_outputs
    fields = [_attr(name) for name in plan.features]
    tree_model = _tree_model(plan, "regression", target=False)
    reported: set = set()
    first = _reads_every_checked_field(plan)
    yield b'<Segmentation multipleModelMethod="modelChain">\n'
    for k, trees in enumerate(_chain_trees(model)):
        if model.accumulate == "float32":  # the running float32 sum, by segmentId (pmml.float32)
            score = float32.sum_fields(model, k, trees, _score_name(model, k))
        else:
            score = (
                f'<OutputField name="{_score_name(model, k)}" optype="continuous" dataType="double" '
                f'feature="predictedValue"/>\n' + _divided_field(model, k)
            )
        head = [
            (
                f'<Segment id="{_score_segment(k, width)}">{first if k == 0 else "<True/>"}\n'
                f'<MiningModel functionName="regression"><MiningSchema>{plan.input_fields()}</MiningSchema>\n'
                f"<Output>\n" + score
            )
        ]
        for t in trees if leaves == ON else ():
            if t not in reported:
                reported.add(t)
                head.append(
                    f'<OutputField name="{_leaf_field(t)}" optype="categorical" dataType="string" '
                    f'feature="entityId" segmentId="{t}"/>\n'
                )
        head.append(f'</Output>\n<Segmentation multipleModelMethod="{model.aggregation}">\n')
        if model.aggregation == "sum":
            head.append(
                f'<Segment id="{BASE_SEGMENT}"><True/>\n{tree_model}<Node id="0" '
                f'score="{_num(model.base_value[k])}"><True/></Node>\n</TreeModel>\n</Segment>\n'
            )
        yield "".join(head).encode("utf-8")
        leaf_cache: dict = {}
        for t in trees:
            tree = model.trees[t]
            yield (
                f'<Segment id="{t}"><True/>\n{tree_model}'
                + _tree_text(tree, fields, None, leaf_cache, tree.value[:, k : k + 1])
                + "</TreeModel>\n</Segment>\n"
            ).encode("utf-8")
        yield b"</Segmentation>\n</MiningModel>\n</Segment>\n"
    if plan.link is not None:
        scores = [_divided_name(model, k) if model.divisors else _score_name(model, k) for k in range(width)]
        yield ('<Segment id="link"><True/>\n' + _link_model(plan, scores) + "</Segment>\n").encode("utf-8")
    yield b"</Segmentation>\n"


def _divided_name(model: ir.TreeEnsemble, k: int) -> str:
    return f"{PREFIX}divided({k})"


def _divided_field(model: ir.TreeEnsemble, k: int) -> str:
    """Score k divided by each divisor in turn (Apply "/" on doubles, IEEE division, as the
    reference divides), the field the link reads; nothing without divisors."""
    if not model.divisors:
        return ""
    value = f'<FieldRef field="{_score_name(model, k)}"/>'
    for divisor in model.divisors:
        value = f'<Apply function="/">{value}{_constant(divisor)}</Apply>'
    return (
        f'<OutputField name="{_divided_name(model, k)}" optype="continuous" dataType="double" '
        f'feature="transformedValue">{value}</OutputField>\n'
    )


def _table(intercept: float, label: Union[str, None], names: list, coefficients: list) -> str:
    target = "" if label is None else f' targetCategory="{_attr(label)}"'
    if not names:
        return f'<RegressionTable intercept="{_num(intercept)}"{target}/>\n'
    return (
        f'<RegressionTable intercept="{_num(intercept)}"{target}>'
        + "".join(f'<NumericPredictor name="{name}" coefficient="{_num(c)}"/>' for name, c in zip(names, coefficients))
        + "</RegressionTable>\n"
    )


def _classification_tables(plan: _Plan, rows: list) -> str:
    """A link's tables from rows (intercept, field names, coefficients), one per
    score: JPMML's logit gives the first table's class p = 1 / (1 + exp(-y)) and
    the other 1 - p, so class 1's table comes first and class 0's is empty;
    softmax takes one table per class."""
    classes = [str(c) for c in plan.package.model.classes]
    if plan.link == LINKS["logistic"]:
        intercept, names, row = rows[0]
        return _table(intercept, classes[1], names, row) + _table(0.0, classes[0], [], [])
    return "".join(_table(b, c, names, row) for c, (b, names, row) in zip(classes, rows))


def _link_model(plan: _Plan, scores: list) -> str:
    """The chain's last model: each score with coefficient 1.0 and intercept 0.0
    (x * 1.0 + 0.0 is x) into PMML's probabilities."""
    tables = _classification_tables(plan, [(0.0, [score], [1.0]) for score in scores])
    fields = "".join(f'<MiningField name="{name}"/>' for name in scores)
    return (
        f'<RegressionModel functionName="classification" normalizationMethod="{plan.link}">'
        f"<MiningSchema>{fields}{_target(plan)}</MiningSchema>\n{tables}</RegressionModel>\n"
    )


def _linear(plan: _Plan, leaves: str) -> Iterator[bytes]:
    """One RegressionModel: regression for one score (its Output computes a
    logistic), classification with a logit or softmax link; several scores
    without a link are a RegressionModel each, reporting its score. The
    products are added in feature order, then the intercept (JPMML's order,
    the reference's)."""
    model = plan.package.model
    names = [_attr(name) for name in plan.features]
    coefficients, intercepts = model.coefficients.tolist(), model.intercepts.tolist()
    first = _reads_every_checked_field(plan)
    parts = ['<Segmentation multipleModelMethod="modelChain">\n']
    if plan.link is not None:
        parts.append(
            f'<Segment id="linear">{first}\n<RegressionModel functionName="classification" '
            f'normalizationMethod="{plan.link}"><MiningSchema>{plan.input_fields()}{_target(plan)}'
            f"</MiningSchema>\n"
            + _classification_tables(plan, [(b, names, row) for b, row in zip(intercepts, coefficients)])
            + "</RegressionModel>\n</Segment>\n"
        )
    elif model.n_outputs == 1:
        parts.append(
            f'<Segment id="linear">{first}\n<RegressionModel functionName="regression"><MiningSchema>'
            f"{plan.input_fields()}</MiningSchema>\n"
            + _table(intercepts[0], None, names, coefficients[0])
            + "</RegressionModel>\n</Segment>\n"
        )
    else:
        for k in range(model.n_outputs):
            parts.append(
                f'<Segment id="{_score_segment(k, model.n_outputs)}">{first if k == 0 else "<True/>"}\n'
                f'<RegressionModel functionName="regression"><MiningSchema>{plan.input_fields()}'
                f'</MiningSchema>\n<Output>\n<OutputField name="{_score_name(model, k)}" optype="continuous" '
                f'dataType="double" feature="predictedValue"/>\n</Output>\n'
                + _table(intercepts[k], None, names, coefficients[k])
                + "</RegressionModel>\n</Segment>\n"
            )
    parts.append("</Segmentation>\n")
    yield "".join(parts).encode("utf-8")


MODEL_WRITERS = {FLAT: _flat, CHAIN: _chain, LINEAR: _linear}
