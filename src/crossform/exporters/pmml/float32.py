"""The pmml writer's float32 accumulation (XGBoost's predictor, SEMANTICS notes 12 and 13) in
standard PMML 4.4: each float32 rounding is an OutputField of ``dataType="float"`` (JPMML casts
a double to float as Java's ``(float)`` does, round to nearest even), every other operation an
``Apply`` on doubles in the rule's order, and expf the C library's algorithm in double
operations (``crossform.floats.expf``). JPMML's own ``x-mathContext="float"`` is an extension
outside PMML 4.4 (JPMML 1.7.7 ignores a plain ``mathContext``), so the writer does not use it.
"""

from __future__ import annotations

from ... import ir
from ...floats import EXPF_INV_LN2_N, EXPF_OVERFLOW, EXPF_POLY, EXPF_SHIFT, EXPF_TABLE, EXPF_UNDERFLOW
from .rules import PREFIX, _attr, _constant

LIMIT = 88.69999694824219  # 88.7f, XGBoost's Sigmoid clamp, as a double
HUGE = 1e300  # beyond float32: its cast to float is +inf, expf's overflow


def name(label: str) -> str:
    """An intermediate field of the float32 rule: ``crossform:f32(<label>)``."""
    return f"{PREFIX}f32({label})"


def _ref(field: str) -> str:
    return f'<FieldRef field="{_attr(field)}"/>'


def _apply(function: str, *args: str) -> str:
    return f'<Apply function="{function}">' + "".join(args) + "</Apply>"


def _field(field: str, value: str, data_type: str, final: bool = False) -> str:
    hidden = "" if final else ' isFinalResult="false"'
    return (
        f'<OutputField name="{_attr(field)}" optype="continuous" dataType="{data_type}" '
        f'feature="transformedValue"{hidden}>{value}</OutputField>\n'
    )


def sum_fields(model: ir.TreeEnsemble, k: int, trees: list, score: str) -> str:
    """Score k as the rule adds it: the base value, then each tree's k-th leaf value (its
    Segment's predictedValue, by segmentId), the running sum rounded to float32 after each
    addition, in tree order; ``score`` is the last sum (float)."""
    parts = []
    total = _constant(float(model.base_value[k]))  # a float32 value, exact as a double
    for t in trees:
        leaf = name(f"leaf {k} {t}")
        parts.append(
            f'<OutputField name="{_attr(leaf)}" optype="continuous" dataType="float" feature="predictedValue" '
            f'segmentId="{t}" isFinalResult="false"/>\n'
        )
        running = name(f"sum {k} {t}")
        parts.append(_field(running, _apply("+", total, _ref(leaf)), "float"))
        total = _ref(running)
    parts.append(_field(score, total, "float", final=True))
    return "".join(parts)


def _table(j: str, low: int, high: int) -> str:
    """EXPF_TABLE[j] for a whole double j in [low, high], by a balanced tree of ``if`` tests."""
    if low == high:
        return _constant(float(EXPF_TABLE[low]))
    middle = (low + high + 1) // 2
    return _apply(
        "if", _apply("lessThan", j, _constant(float(middle))), _table(j, low, middle - 1), _table(j, middle, high)
    )


def expf(x: str, label: str) -> tuple:
    """(fields, the float field holding expf(x)) for a float field ``x``: floats.expf's double
    operations in its order, 2^(k/32) as a table entry times Java's Math.pow(2.0, e), exact for
    an integer e, one cast to float, and the ends glibc decides first."""
    c0, c1, c2 = EXPF_POLY
    xd, z, kd, r, e, j, s, y, out = (
        name(f"{label} {part}") for part in ("x", "z", "k", "r", "e", "j", "s", "y", "out")
    )
    clipped = _apply(
        "if",
        _apply("greaterThan", _ref(x), _constant(100.0)),
        _constant(100.0),
        _apply("if", _apply("lessThan", _ref(x), _constant(-160.0)), _constant(-160.0), _ref(x)),
    )
    shifted = _apply("-", _apply("+", _ref(z), _constant(EXPF_SHIFT)), _constant(EXPF_SHIFT))
    cubic = _apply(
        "*",
        _apply("+", _apply("*", _constant(c0), _ref(r)), _constant(c1)),
        _apply("*", _ref(r), _ref(r)),
    )
    linear = _apply("+", _apply("*", _constant(c2), _ref(r)), _constant(1.0))
    ends = _apply(
        "if",
        _apply("greaterThan", _ref(x), _constant(EXPF_OVERFLOW)),
        _constant(HUGE),
        _apply("if", _apply("lessThan", _ref(x), _constant(EXPF_UNDERFLOW)), _constant(0.0), _ref(y)),
    )
    fields = [
        _field(xd, clipped, "double"),
        _field(z, _apply("*", _constant(EXPF_INV_LN2_N), _ref(xd)), "double"),
        _field(kd, shifted, "double"),
        _field(r, _apply("-", _ref(z), _ref(kd)), "double"),
        _field(e, _apply("floor", _apply("/", _ref(kd), _constant(32.0))), "double"),
        _field(j, _apply("-", _ref(kd), _apply("*", _ref(e), _constant(32.0))), "double"),
        _field(s, _apply("*", _table(_ref(j), 0, 31), _apply("pow", _constant(2.0), _ref(e))), "double"),
        _field(y, _apply("*", _apply("+", cubic, linear), _ref(s)), "double"),
        _field(out, ends, "float"),
    ]
    return "".join(fields), out


def transform_fields(model: ir.TreeEnsemble, scores: list, names: list) -> str:
    """The outputs ``names`` from the float score fields ``scores``, by the rule's transform in
    float32 (evaluator._post_transform_float32); each output the float widened to a double."""
    kind = model.post_transform
    parts = []
    if kind == "none":
        results = scores
    elif kind == "exp":
        fields, out = expf(scores[0], "exp")
        parts.append(fields)
        results = [out]
    elif kind == "logistic":
        results = []
        for k, score in enumerate(scores):
            minus, clamped, denominator, p = (name(f"logistic {k} {part}") for part in ("minus", "min", "d", "p"))
            parts.append(_field(minus, _apply("-", _constant(0.0), _ref(score)), "float"))
            parts.append(
                _field(
                    clamped,
                    _apply("if", _apply("lessThan", _ref(minus), _constant(LIMIT)), _ref(minus), _constant(LIMIT)),
                    "float",
                )
            )
            fields, exp = expf(clamped, f"logistic {k}")
            parts.append(fields)
            parts.append(_field(denominator, _apply("+", _ref(exp), _constant(1.0)), "float"))
            parts.append(_field(p, _apply("/", _constant(1.0), _ref(denominator)), "float"))
            results.append(p)
        if model.is_binary:  # predict_proba's 1.0 - p, in float32
            complement = name("logistic 0 q")
            parts.append(_field(complement, _apply("-", _constant(1.0), _ref(results[0])), "float"))
            results = [complement, results[0]]
    else:  # softmax: expf(x_k - max), their double left fold from 0.0, each over the fold as a float
        top = scores[0]
        for k, score in enumerate(scores[1:], 1):
            step = name(f"softmax max {k}")
            parts.append(
                _field(
                    step, _apply("if", _apply("greaterThan", _ref(score), _ref(top)), _ref(score), _ref(top)), "float"
                )
            )
            top = step
        exps = []
        for k, score in enumerate(scores):
            shifted = name(f"softmax {k} shifted")
            parts.append(_field(shifted, _apply("-", _ref(score), _ref(top)), "float"))
            fields, exp = expf(shifted, f"softmax {k}")
            parts.append(fields)
            exps.append(exp)
        total = _constant(0.0)  # a double: each addition is then one in double
        for exp in exps:
            total = _apply("+", total, _ref(exp))
        parts.append(_field(name("softmax total"), total, "float"))
        results = []
        for k, exp in enumerate(exps):
            p = name(f"softmax {k} p")
            parts.append(_field(p, _apply("/", _ref(exp), _ref(name("softmax total"))), "float"))
            results.append(p)
    for field, result in zip(names, results):
        parts.append(_field(field, _ref(result), "double", final=True))
    return "".join(parts)
