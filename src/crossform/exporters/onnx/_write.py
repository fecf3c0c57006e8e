"""The onnx writer: the graph of a package's inputs, encoders, model and outputs (build), its
metadata, and the file (dumps). The encoders' nodes are written by _encoders, the trees by
_write_trees; the float32 variant's rounding and tolerance come from _float32."""

from __future__ import annotations

import numpy as np

from ... import ir
from ...errors import UnsupportedModelError
from ...floats import EXPF_INV_LN2_N, EXPF_OVERFLOW, EXPF_POLY, EXPF_SHIFT, EXPF_TABLE, EXPF_UNDERFLOW
from .. import _envelope, _json
from ._encoders import ENCODERS
from ._float32 import float32_tolerance, stored
from ._graph import Graph, json_text, step_doc
from ._rules import (
    COLUMNS,
    ERROR,
    FLOAT32,
    FLOAT64,
    GRAPH,
    IR_VERSION,
    LEAVES,
    MISSING_SUFFIX,
    ML_OPSET,
    OPSET,
    PRECISION,
    PRODUCER_NAME,
    SOURCE_ID,
    TOLERANCE,
    VERSION,
    check_option,
    explicit_logistic,
    load_onnx,
    needs,
    score_output,
    unsupported,
    written_version,
)
from ._write_trees import write_trees


def _logistic(g: Graph, raw: str, real: type, binary: bool) -> str:
    """1 / (1 + exp(-x)) as written, and [1 - p, p] for one score of two classes.

    Not Sigmoid: onnxruntime's double Sigmoid computes 1 - 1 / (1 + exp(x)) for
    x < 0, 2e-12 off at x = -10 and 0.0 for 4e-18 at x = -40; onnx's
    ReferenceEvaluator uses exp(x) / (1 + exp(x)) there. Files of 1.2 and
    before keep their Sigmoid node (see post_transform)."""
    one = g.const("one", np.array([1.0], dtype=real))
    exp = g.op("Exp", [g.op("Neg", [raw], "minus.raw")], "exp.minus.raw")
    p = g.op("Div", [one, g.op("Add", [one, exp], "logistic.denominator")], "logistic")
    if not binary:
        return p
    return g.op("Concat", [g.op("Sub", [one, p], "complement"), p], "binary", axis=1)


def _expf(g: Graph, x: str, hint: str) -> str:
    """The C library's expf of a float tensor, as the reference computes it (floats.expf): the
    same double operations in the same order, 2^(k/32) as a table entry times an exact power of
    two, one Cast to float, and the ends glibc decides first."""
    onnx = g.onnx
    double, int64 = onnx.TensorProto.DOUBLE, onnx.TensorProto.INT64

    def c(name, value, dtype=np.float64):
        return g.const(f"expf.{name}", np.array([value], dtype=dtype))

    xd = g.op("Cast", [x], f"{hint}.double", to=double)
    xd = g.op("Max", [g.op("Min", [xd, c("high", 100.0)], f"{hint}.below"), c("low", -160.0)], f"{hint}.clipped")
    z = g.op("Mul", [xd, c("inv.ln2.n", EXPF_INV_LN2_N)], f"{hint}.z")
    kd = g.op("Sub", [g.op("Add", [z, c("shift", EXPF_SHIFT)], f"{hint}.shifted"), c("shift", EXPF_SHIFT)], f"{hint}.k")
    r = g.op("Sub", [z, kd], f"{hint}.r")
    k = g.op("Cast", [kd], f"{hint}.k.int", to=int64)
    j = g.op("Mod", [k, c("n", 32, np.int64)], f"{hint}.j")
    e = g.op("Div", [g.op("Sub", [k, j], f"{hint}.k.minus.j"), c("n", 32, np.int64)], f"{hint}.e")
    power = g.op("Pow", [c("two", 2.0), g.op("Cast", [e], f"{hint}.e.double", to=double)], f"{hint}.power")
    s = g.op("Mul", [g.op("Gather", [g.const("expf.table", EXPF_TABLE), j], f"{hint}.t", axis=0), power], f"{hint}.s")
    c0, c1, c2 = EXPF_POLY
    cubic = g.op(
        "Mul",
        [
            g.op("Add", [g.op("Mul", [c("c0", c0), r], f"{hint}.c0r"), c("c1", c1)], f"{hint}.q"),
            g.op("Mul", [r, r], f"{hint}.r2"),
        ],
        f"{hint}.qr2",
    )
    linear = g.op("Add", [g.op("Mul", [c("c2", c2), r], f"{hint}.c2r"), c("one", 1.0)], f"{hint}.lin")
    y = g.op("Mul", [g.op("Add", [cubic, linear], f"{hint}.poly"), s], f"{hint}.y")
    out = g.op("Cast", [y], f"{hint}.float", to=onnx.TensorProto.FLOAT)
    # x > EXPF_OVERFLOW: +inf; x < EXPF_UNDERFLOW: 0.0 (on floats: x >= the next float, the float below >= x)
    over = np.nextafter(np.float32(EXPF_OVERFLOW), np.float32(np.inf))
    under = np.nextafter(np.float32(EXPF_UNDERFLOW), np.float32(-np.inf))
    out = g.op(
        "Where",
        [g.op("GreaterOrEqual", [x, c("over", over, np.float32)], f"{hint}.over"), c("inf", np.inf, np.float32), out],
        f"{hint}.overflowed",
    )
    return g.op(
        "Where",
        [g.op("GreaterOrEqual", [c("under", under, np.float32), x], f"{hint}.under"), c("zero", 0.0, np.float32), out],
        hint,
    )


def _post_transform_float32(g: Graph, model: ir.TreeEnsemble, raw: str) -> str:
    """XGBoost's float32 transforms (docs/SEMANTICS.md), every operation on float tensors but exp
    (see _expf) and the softmax's sum, a double left fold in class order; the scores then as doubles."""
    onnx = g.onnx
    kind = model.post_transform
    if kind == "exp":
        out = _expf(g, raw, "expf")
    elif kind == "logistic":
        one = g.const("one.float", np.array([1.0], dtype=np.float32))
        clamped = g.op(
            "Min",
            [g.op("Neg", [raw], "minus.raw"), g.const("expf.limit", np.array([88.7], dtype=np.float32))],
            "minus.raw.clamped",
        )
        denominator = g.op("Add", [_expf(g, clamped, "exp.minus.raw"), one], "logistic.denominator")
        out = g.op("Div", [one, denominator], "logistic")
        if model.is_binary:
            out = g.op("Concat", [g.op("Sub", [one, out], "complement"), out], "binary", axis=1)
    elif kind == "softmax":
        top = g.op("ReduceMax", [raw, g.const("axis1.max", np.array([1], dtype=np.int64))], "softmax.max", keepdims=1)
        shifted = _expf(g, g.op("Sub", [raw, top], "softmax.shifted"), "softmax.exp")
        wide = g.op("Cast", [shifted], "softmax.exp.double", to=onnx.TensorProto.DOUBLE)
        total = None
        for k in range(model.n_outputs):
            column = g.op(
                "Gather", [wide, g.const(f"class.{k}", np.array([k], dtype=np.int64))], f"softmax.term.{k}", axis=1
            )
            total = column if total is None else g.op("Add", [total, column], f"softmax.sum.{k}")
        total = g.op("Cast", [total], "softmax.sum", to=onnx.TensorProto.FLOAT)
        out = g.op("Div", [shifted, total], "softmax")
    else:
        out = raw
    return out


def post_transform(g: Graph, model: ir.Model, raw: str, real: type, exact: bool) -> str:
    """``exact``: the 1.3 graph (explicit logistic); 1.2 and before wrote Sigmoid."""
    if getattr(model, "accumulate", "float64") == "float32":
        return _post_transform_float32(g, model, raw)
    if model.post_transform == "logistic":
        return _logistic(g, raw, real, model.is_binary) if exact else g.op("Sigmoid", [raw], "logistic")
    if model.post_transform == "softmax":
        return g.op("Softmax", [raw], "softmax", axis=1)
    if model.post_transform == "isolation":
        return _isolation(g, model, raw, real)
    if model.post_transform == "exp":
        return _exp(g, raw, real)
    return raw


def _exp(g: Graph, raw: str, real: type) -> str:
    """exp(sum) in double, as the reference; a float32 graph casts its sum in and the prediction out."""
    onnx = g.onnx
    if real == np.float32:
        raw = g.op("Cast", [raw], "exp.in", to=onnx.TensorProto.DOUBLE)
    out = g.op("Exp", [raw], "exp")
    if real == np.float32:
        out = g.op("Cast", [out], "exp.out", to=onnx.TensorProto.FLOAT)
    return out


def _isolation(g: Graph, model: ir.TreeEnsemble, raw: str, real: type) -> str:
    """[score, decision] as the reference: score = -(2 ** -(s / d)), decision = score - offset.
    In double; a float32 graph casts its sum in and the two outputs out."""
    onnx = g.onnx
    if real == np.float32:
        raw = g.op("Cast", [raw], "isolation.in", to=onnx.TensorProto.DOUBLE)
    denominator, offset = model.isolation
    depth = g.op("Div", [raw, g.const("isolation.denominator", np.array([denominator]))], "isolation.depth")
    power = g.op(
        "Pow", [g.const("two", np.array([2.0])), g.op("Neg", [depth], "isolation.exponent")], "isolation.power"
    )
    score = g.op("Neg", [power], "isolation.score")
    decision = g.op("Sub", [score, g.const("isolation.offset", np.array([offset]))], "isolation.decision")
    out = g.op("Concat", [score, decision], "isolation", axis=1)
    if real == np.float32:
        out = g.op("Cast", [out], "isolation.out", to=onnx.TensorProto.FLOAT)
    return out


def _linear(g: Graph, model: ir.LinearModel, cols: dict, precision: str, per_tree: bool, exact: bool) -> tuple:
    """raw[n, k] = sum_j x[n, j] * coefficient[k, j] + intercept[k], in double in both precisions.

    The products are laid out [features, N, outputs] and ReduceSum adds them over
    axis 0, a left fold in feature order in onnxruntime and in numpy, as the
    reference adds them; MatMul would leave the order (and fused multiply-adds)
    to BLAS. No ai.onnx.ml LinearRegressor/LinearClassifier: their outputs are float.
    """
    X = g.op("Concat", [cols[name] for name in model.features], "X", axis=1)
    g.refuse_rows(g.op("Or", [g.op("IsNaN", [X], "nan"), g.op("IsInf", [X], "inf")], "not.finite"), "not.finite")
    by_feature = g.op(
        "Unsqueeze",
        [g.op("Transpose", [X], "X.by.feature", perm=[1, 0]), g.const("axis2", np.array([2], dtype=np.int64))],
        "X.by.feature.3d",
    )
    weights = np.ascontiguousarray(model.coefficients.T[:, None, :], dtype=np.float64)  # [features, 1, outputs]
    doc = step_doc("linear-model", post_transform=model.post_transform)
    products = g.op("Mul", [by_feature, g.const("coefficients", weights)], "linear.products", doc=doc)
    total = g.op("ReduceSum", [products, g.const("axis0", np.array([0], dtype=np.int64))], "linear.sum", keepdims=0)
    raw = g.op("Add", [total, g.const("intercepts", np.asarray(model.intercepts, dtype=np.float64))], "linear.raw")
    return raw, np.float64, None


def _member_scores(g: Graph, model: ir.Model, cols: dict, precision: str, per_tree: bool, exact: bool, sets: str):
    """A model's scores after its post transform, as doubles (the float32 variant's trees give floats)."""
    options = {"sets": sets} if isinstance(model, ir.TreeEnsemble) else {}
    raw, real, leaves = MODELS[type(model)](g, model, cols, precision, per_tree, exact, **options)
    scores = post_transform(g, model, raw, real, exact)
    if real == np.float32 or getattr(model, "accumulate", "float64") == "float32":
        scores = g.op("Cast", [scores], "scores.double", to=g.onnx.TensorProto.DOUBLE)
    return scores


def _composite(
    g: Graph, model: ir.Composite, cols: dict, precision: str, per_tree: bool, exact: bool, sets: str = COLUMNS
) -> tuple:
    """Each member's nodes under the prefix m<i>. (the member's own graph, its row refusals
    or'ed into the error output), then the combination under "composite.": "average" multiplies
    each member's scores by its weight and adds them in member order (a left fold), then divides
    by the divisor, in double; "vote" does the same with 1.0 at each member's class (no division). No leaves: the members' trees are checked through their scores."""
    scored = []
    for i, member in enumerate(model.members):
        g.prefix = f"m{i}."
        scored.append(_member_scores(g, member, cols, precision, per_tree, exact, sets))
    g.prefix = "composite."
    raw = [i for i, m in enumerate(model.members) if m.classes is None and model.classes is not None]
    extra = {"raw_members": raw} if raw else {}  # members scoring raw, classless, in a classifier
    if model.calibration_method == "isotonic":  # only then, so sigmoid graphs stay as they were
        extra["calibration"] = "isotonic"
    if model.target_steps:
        extra["steps"] = len(model.target_steps)
    doc = step_doc("composite", combination=model.combination, members=len(model.members), **extra)
    if model.combination == "stack":
        total = _stack(g, model, cols, scored, doc, precision, per_tree, exact)[0]
        return _target(g, model, total, "") if model.target_steps else (total, np.float64, None)
    if model.combination == "target":
        return _target(g, model, scored[0], doc)
    if model.combination == "calibrate":
        scored = [_calibrated(g, model, i, scores, doc) for i, scores in enumerate(scored)]
        doc = ""
    total = None
    for i, (weight, scores) in enumerate(zip(model.weights, scored)):
        if model.combination == "vote":
            scores = _member_vote(g, model.members[i], scores, model.n_outputs, i)
        if model.combination == "calibrate":  # the members' probabilities added as they are
            total = scores if total is None else g.op("Add", [total, scores], f"sum.{i}")
            continue
        term = g.op("Mul", [scores, g.const(f"weight.{i}", np.array([weight]))], f"term.{i}", doc=doc if i == 0 else "")
        total = term if total is None else g.op("Add", [total, term], f"sum.{i}")
    if model.combination in ("average", "calibrate"):
        total = g.op("Div", [total, g.const("divisor", np.array([model.divisor]))], model.combination)
    if model.target_steps:  # a regressor's average through its target steps
        return _target(g, model, total, "")
    g.prefix = ""
    return total, np.float64, None


TARGET_OPS = {"add": "Add", "subtract": "Sub", "multiply": "Mul", "divide": "Div"}


def _target(g: Graph, model: ir.Composite, scores: str, doc: str) -> tuple:
    """The regressor's prediction [N, 1] (the one member's, or the average or stack) refused where
    it is not finite, then one double node per target step, "composite.target.<i>": Add, Sub, Mul
    or Div by the constant "composite.target.number.<i>", or Exp (expm1 has no onnx form:
    unsupported refuses it). ``doc`` goes on step 0 under "target" only (the others carry it earlier)."""
    g.prefix = "composite."
    nan, inf = g.op("IsNaN", [scores], "target.nan"), g.op("IsInf", [scores], "target.inf")
    g.refuse_rows(g.op("Or", [nan, inf], "target.not.finite"), "target.not.finite")
    out = scores
    for i, (op, number) in enumerate(model.target_steps):
        extra = {"doc": doc} if i == 0 else {}
        if number is None:
            out = g.op("Exp", [out], f"target.{i}", **extra)
        else:
            number = g.const(f"target.number.{i}", np.array([number], dtype=np.float64))
            out = g.op(TARGET_OPS[op], [out, number], f"target.{i}", **extra)
    g.prefix = ""
    return out, np.float64, None


def _stack(g: Graph, model: ir.Composite, cols: dict, scored: list, doc: str, *args) -> tuple:
    """Member i's columns as "composite.stack.<j>" (its first column's index j): Gather of its
    second probability, Identity of one output, or a Split of several; then the final linear
    model's nodes under the prefix "final.", reading those columns and (passthrough) the features."""
    stack_cols, j = {}, 0
    for i, (scores, width) in enumerate(zip(scored, ir.stack_widths(model.members))):
        extra = {"doc": doc} if i == 0 else {}
        if width != len(model.members[i].outputs):  # two probabilities: the second
            second = g.const(f"second.{i}", np.array([1], dtype=np.int64))
            parts = [g.op("Gather", [scores, second], f"stack.{j}", axis=1, **extra)]
        elif width == 1:
            parts = [g.op("Identity", [scores], f"stack.{j}", **extra)]
        else:
            parts = g.split(scores, width, f"stack.{j}")
            if extra:
                g.nodes[-1].doc_string = doc
        for part in parts:
            stack_cols[f"stack({j})"] = part
            j += 1
    g.prefix = "final."
    raw, real, _ = _linear(g, model.final, {**cols, **stack_cols}, *args)
    scores = post_transform(g, model.final, raw, real, args[2])
    g.prefix = ""
    return scores, np.float64, None


def _calibrated(g: Graph, model: ir.Composite, i: int, scores: str, doc: str) -> str:
    """Member i's calibrated probabilities [N, classes]: its response columns t (Gather of the
    second of two probabilities), z = Neg(Add(Mul(t, a), b)), p = 1 / (1 + exp(-z)); two classes
    Concat(1 - p, p), more each p over the row sum (Adds in numpy's pairwise order), Where the sum is 0 1 / classes; then
    values in (1, 1 + 1e-5] as 1.0."""
    k = len(model.classes)
    params = model.calibration[i]
    one = g.const(f"one.{i}", np.array([1.0]))
    if k == 2 and len(model.members[i].outputs) == 2:
        second = g.const(f"second.{i}", np.array([1], dtype=np.int64))
        scores = g.op("Gather", [scores, second], f"response.{i}", axis=1)
    if model.calibration_method == "isotonic":
        columns = [scores] if len(params) == 1 else g.split(scores, len(params), f"response.{i}")
        if i == 0 and len(params) > 1:
            g.nodes[-1].doc_string = doc
        ps = [
            _interpolated(g, points, t, f"{i}.{c}", doc if i == 0 and c == 0 else "")
            for c, (points, t) in enumerate(zip(params, columns))
        ]
        p = ps[0] if len(ps) == 1 else g.op("Concat", ps, f"isotonic.{i}", axis=1)
    else:
        scaled = g.op("Mul", [scores, g.const(f"a.{i}", params[:, 0].copy())], f"at.{i}", doc=doc if i == 0 else "")
        z = g.op("Neg", [g.op("Add", [scaled, g.const(f"b.{i}", params[:, 1].copy())], f"atb.{i}")], f"z.{i}")
        exp = g.op("Exp", [g.op("Neg", [z], f"minus.z.{i}")], f"exp.{i}")
        p = g.op("Div", [one, g.op("Add", [one, exp], f"denominator.{i}")], f"sigmoid.{i}")
    if k == 2:
        proba = g.op("Concat", [g.op("Sub", [one, p], f"complement.{i}"), p], f"binary.{i}", axis=1)
    else:
        columns = [
            g.op("Gather", [p, g.const(f"class.{i}.{c}", np.array([c], dtype=np.int64))], f"p.{i}.{c}", axis=1)
            for c in range(k)
        ]
        total = ir.pairwise_sum(columns, lambda a, b: g.op("Add", [a, b], f"total.{i}"))
        zero = g.op("Equal", [total, g.const(f"zero.{i}", np.array([0.0]))], f"total.zero.{i}")
        proba = g.op(
            "Where",
            [zero, g.const(f"uniform.{i}", np.array([1 / k])), g.op("Div", [p, total], f"normalised.{i}")],
            f"proba.{i}",
        )
    above = g.op("Greater", [proba, one], f"above.{i}")
    near = g.op(
        "Not", [g.op("Greater", [proba, g.const(f"near.{i}", np.array([1.0 + 1e-5]))], f"far.{i}")], f"near.{i}"
    )
    return g.op("Where", [g.op("And", [above, near], f"clip.{i}"), one, proba], f"calibrated.{i}")


def _interpolated(g: Graph, points: np.ndarray, t: str, key: str, doc: str) -> str:
    """One response column t [N, 1] through its breakpoints as numpy's interp (isotonic
    calibration): j = (the count of x <= t) - 1 clipped to [0, n - 2] (Max, Min), slope = (y[j+1] - y[j]) /
    (x[j+1] - x[j]), slope * (t - x[j]) + y[j]; then y[j] where t == x[j], y[0] where t < x[0],
    y[n-1] where t >= x[n-1]. One breakpoint: its y for every row (NaN kept). x and y are the initializers
    x.<member>.<column> and y.<member>.<column>."""
    onnx = g.onnx
    x = g.const(f"x.{key}", points[:, 0].copy())
    y = g.const(f"y.{key}", points[:, 1].copy())
    if len(points) == 1:  # NaN stays NaN, as in the rule
        return g.op("Where", [g.op("IsNaN", [t], f"nan.{key}", doc=doc), t, y], f"isotonic.{key}")
    below = g.op("GreaterOrEqual", [t, x], f"below.{key}", doc=doc)
    count = g.op(
        "ReduceSum",
        [g.op("Cast", [below], f"below.count.{key}", to=onnx.TensorProto.INT64), g.const(f"axis.{key}", np.array([1]))],
        f"count.{key}",
        keepdims=1,
    )
    last_below = g.op("Sub", [count, g.const(f"one.index.{key}", np.array(1))], f"last.below.{key}")
    lo = g.op(
        "Min",
        [
            g.op("Max", [last_below, g.const(f"first.piece.{key}", np.array(0))], f"lo.at.least.{key}"),
            g.const(f"last.piece.{key}", np.array(len(points) - 2)),
        ],
        f"lo.{key}",
    )
    hi = g.op("Add", [lo, g.const(f"next.{key}", np.array(1))], f"hi.{key}")
    x_lo, x_hi = (g.op("Gather", [x, j], f"x.{name}.{key}", axis=0) for j, name in ((lo, "lo"), (hi, "hi")))
    y_lo, y_hi = (g.op("Gather", [y, j], f"y.{name}.{key}", axis=0) for j, name in ((lo, "lo"), (hi, "hi")))
    slope = g.op(
        "Div",
        [g.op("Sub", [y_hi, y_lo], f"rise.{key}"), g.op("Sub", [x_hi, x_lo], f"run.{key}")],
        f"slope.{key}",
    )
    line = g.op(
        "Add", [g.op("Mul", [slope, g.op("Sub", [t, x_lo], f"offset.{key}")], f"lift.{key}"), y_lo], f"line.{key}"
    )
    line = g.op("Where", [g.op("Equal", [t, x_lo], f"on.{key}"), y_lo, line], f"at.breakpoint.{key}")
    first = (g.const(f"x.first.{key}", points[:1, 0].copy()), g.const(f"y.first.{key}", points[:1, 1].copy()))
    last = (g.const(f"x.last.{key}", points[-1:, 0].copy()), g.const(f"y.last.{key}", points[-1:, 1].copy()))
    line = g.op("Where", [g.op("Less", [t, first[0]], f"left.{key}"), first[1], line], f"clipped.left.{key}")
    return g.op("Where", [g.op("GreaterOrEqual", [t, last[0]], f"right.{key}"), last[1], line], f"isotonic.{key}")


def _member_vote(g: Graph, member: ir.Model, scores: str, width: int, i: int) -> str:
    """[N, classes] doubles, 1.0 at the member's class: for one decision score Greater(0.0)
    (class 1 iff > 0), else ArgMax (the first of equal maxima), compared with each class index."""
    onnx = g.onnx
    if len(member.outputs) == 1:
        chosen = g.op(
            "Cast",
            [g.op("Greater", [scores, g.const(f"zero.{i}", np.array([0.0]))], f"positive.{i}")],
            f"class.{i}",
            to=onnx.TensorProto.INT64,
        )
    else:
        chosen = g.op("ArgMax", [scores], f"class.{i}", axis=1, keepdims=1, select_last_index=0)
    hit = g.op("Equal", [chosen, g.const(f"classes.{i}", np.arange(width, dtype=np.int64))], f"vote.{i}")
    return g.op("Cast", [hit], f"vote.{i}.double", to=onnx.TensorProto.DOUBLE)


# model kind -> its writer: (the raw scores, their dtype, the leaves or None), before the post transform
MODELS = {ir.TreeEnsemble: write_trees, ir.LinearModel: _linear, ir.Composite: _composite}


def build(package: ir.Package, precision: str = FLOAT64, per_tree: bool = True, sets: str = COLUMNS):
    """The ModelProto for ``package`` (already rounded, for float32), in the
    layout of this version (``per_tree``) or of 1.0/1.1, as the reader rebuilds
    a file of theirs. ``sets``: set splits as columns, or (``member``) as BRANCH_MEMBER where
    onnxruntime decides them exactly."""
    onnx = load_onnx()
    reason = unsupported(package)
    if reason is not None:
        raise UnsupportedModelError(reason)
    check_option("precision", precision)
    check_option("sets", sets)
    if not per_tree and needs(package) is not None:
        raise UnsupportedModelError(
            f"the 1.0/1.1 layout (one TreeEnsemble) cannot hold {needs(package)}; it needs onnx {VERSION}"
        )
    version = written_version(precision, per_tree, package)
    h = onnx.helper
    g = Graph(onnx)
    inputs, cols = [], {}
    for k, f in enumerate(package.inputs):
        if f.kind == ir.NUMERIC and precision == FLOAT32:
            inputs.append(h.make_tensor_value_info(f.name, onnx.TensorProto.FLOAT, ["N", 1]))
            # exact: the encoders and the trees see the float32 value as the double it is
            cols[f.name] = g.op("Cast", [f.name], f"in.{k}", to=onnx.TensorProto.DOUBLE)
        elif f.kind == ir.NUMERIC:
            inputs.append(h.make_tensor_value_info(f.name, onnx.TensorProto.DOUBLE, ["N", 1]))
            cols[f.name] = f.name
        else:
            inputs.append(h.make_tensor_value_info(f.name, onnx.TensorProto.STRING, ["N", 1]))
            inputs.append(h.make_tensor_value_info(f.name + MISSING_SUFFIX, onnx.TensorProto.BOOL, ["N", 1]))
            cols[f.name] = (f.name, f.name + MISSING_SUFFIX)
    for i, enc in enumerate(package.encoders):
        ENCODERS[type(enc)](g, enc, cols, i)
    model = package.model
    exact = explicit_logistic(version)
    raw, real, leaves = MODELS[type(model)](
        g,
        model,
        cols,
        precision,
        per_tree,
        exact,
        **({"sets": sets} if isinstance(model, (ir.TreeEnsemble, ir.Composite)) else {}),
    )
    # a composite's members ran their own post transforms
    scores = raw if isinstance(model, ir.Composite) else post_transform(g, model, raw, real, exact)
    if getattr(model, "accumulate", "float64") == "float32" and precision == FLOAT64:
        scores = g.op("Cast", [scores], "scores.double", to=onnx.TensorProto.DOUBLE)  # exact
    error = g.errors[0]
    for more in g.errors[1:]:
        error = g.op("Or", [error, more], "error.any")
    score_name = score_output(model)
    g.nodes.append(h.make_node("Identity", [scores], [score_name], name=score_name))
    g.nodes.append(
        h.make_node("Squeeze", [error, g.const("axis1.out", np.array([1], dtype=np.int64))], [ERROR], name=ERROR)
    )
    real = (
        onnx.TensorProto.FLOAT
        if precision == FLOAT32 and isinstance(model, ir.TreeEnsemble) and model.aggregation != "weighted-median"
        else onnx.TensorProto.DOUBLE
    )
    outputs = [
        h.make_tensor_value_info(score_name, real, ["N", len(model.outputs)]),
        h.make_tensor_value_info(ERROR, onnx.TensorProto.BOOL, ["N"]),
    ]
    if leaves is not None:  # a linear model has no trees, so no leaves
        g.nodes.append(h.make_node("Identity", [leaves], [LEAVES], name=LEAVES))
        outputs.append(h.make_tensor_value_info(LEAVES, onnx.TensorProto.INT64, ["N", len(model.trees)]))
    graph = h.make_graph(g.nodes, GRAPH, inputs, outputs, g.inits)
    proto = h.make_model(
        graph,
        producer_name=PRODUCER_NAME,
        ir_version=IR_VERSION,
        opset_imports=[h.make_opsetid("", OPSET), h.make_opsetid("ai.onnx.ml", ML_OPSET)],
    )
    props = {
        _envelope.FORMAT_VERSION: version,
        _envelope.ID: package.id,
        _envelope.TAGS: json_text(list(package.tags)),
        _envelope.METADATA: json_text(dict(package.metadata)),
        _envelope.PRODUCER: json_text(dict(package.producer)),
    }
    if package.owner is not None:
        props[_envelope.OWNER] = package.owner
    if model.is_classifier:
        props[_envelope.CLASSES] = json_text(list(model.classes))
    checks = _envelope.checks_document(package, "checks")
    if checks is not None:
        props[_envelope.CHECKS] = _json.dumps(checks, compact=True).decode("utf-8").rstrip("\n")
    if precision == FLOAT32:
        props[PRECISION] = precision
        props[TOLERANCE] = json_text({"absolute": float32_tolerance(package)})
    h.set_model_props(proto, props)
    return proto


def dumps(package: ir.Package, precision: str = FLOAT64, sets: str = COLUMNS) -> bytes:
    """The file of ``package``; for float32, of its rounded package, naming the source package's id."""
    if check_option("precision", precision) == FLOAT32:
        source = package
        rounded, checks = stored(package, package.checks, precision)
        proto = build(rounded.replace(checks=checks), precision, sets=sets)
        proto.metadata_props.add(key=SOURCE_ID, value=source.id)
        return proto.SerializeToString(deterministic=True)
    return build(package, sets=sets).SerializeToString(deterministic=True)
