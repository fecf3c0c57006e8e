"""The pmml writer's weighted median (AdaBoostRegressor, SEMANTICS note 21) as Output fields on
doubles, in the rule's order. PMML's own ``multipleModelMethod="weightedMedian"`` is not what the
rule computes: JPMML totals the weights in segment order, where the rule takes the last running
sum in sorted order, and the two can differ in the last bit and pick another tree. So the trees'
values are read by segmentId and the rule is written out: each tree's rank in the sorted order
(ties by tree index), the weights and values in that order (an ``if`` chain per position), their
running sums as a left fold, and the first value whose running sum is >= half the last one.
The fields grow with the square of the tree count, so rules.MAX_MEDIAN_TREES bounds it.
"""

from __future__ import annotations

from ... import ir
from .rules import PREFIX, _attr, _constant


def name(label: str) -> str:
    """An intermediate field of the weighted median: ``crossform:median(<label>)``."""
    return f"{PREFIX}median({label})"


def _ref(field: str) -> str:
    return f'<FieldRef field="{_attr(field)}"/>'


def _apply(function: str, *args: str) -> str:
    return f'<Apply function="{function}">' + "".join(args) + "</Apply>"


def _field(field: str, value: str, final: bool = False) -> str:
    hidden = "" if final else ' isFinalResult="false"'
    return (
        f'<OutputField name="{_attr(field)}" optype="continuous" dataType="double" '
        f'feature="transformedValue"{hidden}>{value}</OutputField>\n'
    )


def _fold(terms: list) -> str:
    value = terms[0]
    for term in terms[1:]:
        value = _apply("+", value, term)
    return value


def _by_rank(i: int, values: list, n: int) -> str:
    """The value of the tree whose rank is i: ``if(rank(0) == i, values[0], if(rank(1) == i, ...))``
    (ranks are distinct whole numbers, so exactly one test holds)."""
    value = values[n - 1]
    for t in range(n - 2, -1, -1):
        value = _apply("if", _apply("equal", _ref(name(f"rank {t}")), _constant(float(i))), values[t], value)
    return value


def fields(model: ir.TreeEnsemble, output: str) -> str:
    """The Output fields computing the weighted median of the top Segmentation's trees as
    ``output``: tree t's value ``value t`` (its Segment's predictedValue, plus 0.0 so that -0.0
    ties with 0.0 as numpy's comparisons have it, where Java's Double.compare puts it first), its
    rank (how many trees sort before it: a smaller value, or an equal one of a smaller index,
    counted as a left fold of 1.0 and 0.0), the sorted weights and values, their running sums
    ``cdf i`` (numpy's cumsum, a left fold), and the first sorted value whose running sum is >=
    0.5 * the last (an ``if`` chain from the end)."""
    n = len(model.trees)
    parts = []
    for t in range(n):
        parts.append(
            f'<OutputField name="{_attr(name(f"tree {t}"))}" optype="continuous" dataType="double" '
            f'feature="predictedValue" segmentId="{t}" isFinalResult="false"/>\n'
        )
        parts.append(_field(name(f"value {t}"), _apply("+", _ref(name(f"tree {t}")), _constant(0.0))))
    for t in range(n):
        before = [
            _apply(
                "if",
                _apply("lessOrEqual" if s < t else "lessThan", _ref(name(f"value {s}")), _ref(name(f"value {t}"))),
                _constant(1.0),
                _constant(0.0),
            )
            for s in range(n)
            if s != t
        ]
        parts.append(_field(name(f"rank {t}"), _fold([_constant(0.0)] + before)))
    weights = [_constant(float(w)) for w in model.tree_weights]
    values = [_ref(name(f"value {t}")) for t in range(n)]
    for i in range(n):
        parts.append(_field(name(f"weight {i}"), _by_rank(i, weights, n)))
        parts.append(_field(name(f"sorted {i}"), _by_rank(i, values, n)))
        cdf = (
            _ref(name(f"weight {i}")) if i == 0 else _apply("+", _ref(name(f"cdf {i - 1}")), _ref(name(f"weight {i}")))
        )
        parts.append(_field(name(f"cdf {i}"), cdf))
    parts.append(_field(name("half"), _apply("*", _constant(0.5), _ref(name(f"cdf {n - 1}")))))
    chosen = _ref(name(f"sorted {n - 1}"))
    for i in range(n - 2, -1, -1):
        reached = _apply("greaterOrEqual", _ref(name(f"cdf {i}")), _ref(name("half")))
        chosen = _apply("if", reached, _ref(name(f"sorted {i}")), chosen)
    parts.append(_field(output, chosen, final=True))
    return "".join(parts)
