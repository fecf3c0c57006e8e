"""The pmml writer's composite model: a modelChain whose Segments hold the members (each a
MiningModel laid out as that model alone is, reporting its outputs as Output fields), then a
stack's final model; the top Output states the combination as Apply expressions on doubles,
in exactly the rule's order (docs/formats/pmml.md, SEMANTICS notes 16 to 19).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Union

from ... import ir
from .model_writer import MODEL_WRITERS, TARGET_FIELD
from .rules import OFF, PREFIX, _attr, _constant

CLIP = 1.0 + 1e-5  # CalibratedClassifierCV sets values in (1, CLIP] to 1.0


def member_field(i: int, k: int) -> str:
    """The field holding member ``i``'s output ``k``."""
    return f"{PREFIX}m{i}.out({k})"


# the names a model's writer makes up for its fields (RAW, raw(k), divided(k), leaf(t), out(k), and
# the float32 rule's and the weighted median's f32(...) and median(...))
_OWN = re.compile(re.escape(PREFIX) + r'(?=(?:raw|divided|leaf|out|f32|median)[("])')


def _own_names(text: str, i: int) -> str:
    """Member ``i``'s text with the names its writer made up for its fields under
    ``crossform:m<i>.``, so the chain's fields of two members never meet (the encoders'
    fields and the target stay the document's)."""
    return _OWN.sub(f"{PREFIX}m{i}.", text)


def composite_spec(model: ir.Composite, member_spec: Callable) -> dict:
    """The Header's crossform.model for a composite: what its elements do not say."""
    spec = {
        "combination": model.combination,
        "features": list(model.features),
        "members": [_with_classes(member_spec(m), m) for m in model.members],
        "type": "composite",
    }
    if model.combination in ("average", "vote"):
        spec["weights"] = model.weights.tolist()
    if model.combination == "average":
        spec["divisor"] = model.divisor
    if model.combination == "stack":
        spec["final"] = _with_classes(member_spec(model.final), model.final)
        spec["passthrough"] = model.passthrough
    if model.combination == "calibrate" and model.calibration_method == "isotonic":
        spec["calibration"] = [[points.tolist() for points in columns] for columns in model.calibration]
        spec["calibration_method"] = model.calibration_method
    elif model.combination == "calibrate":  # sigmoid: the key stays out, as files before isotonic wrote it
        spec["calibration"] = [params.tolist() for params in model.calibration]
    if model.target_steps:  # what the top Output's Apply chain computes, each [operation, number or null]
        spec["target_steps"] = [[op, number] for op, number in model.target_steps]
    return spec


def _with_classes(spec: dict, model: ir.Model) -> dict:
    if model.classes is not None:
        spec["classes"] = list(model.classes)
    return spec


def _member(plan, i: int, member: ir.Model, output: Callable) -> str:
    """Segment m<i>: the member as a MiningModel of its own layout, its outputs as member_field(i, k)."""
    sub = plan.for_model(member)
    names = [f"{PREFIX}out({k})" for k in range(len(member.outputs))]
    target = TARGET_FIELD if sub.function == "classification" and sub.own_target else ""
    # every input: its Segments' first predicate reads each checked one, in this model's scope
    inputs = "".join(f'<MiningField name="{_attr(f.name)}"/>' for f in plan.package.inputs)
    text = (
        f'<Segment id="m{i}"><True/>\n<MiningModel functionName="{sub.function}"><MiningSchema>'
        f"{inputs}{target}</MiningSchema>\n"
        + output(sub, OFF, names)
        + b"".join(MODEL_WRITERS[sub.shape](sub, OFF)).decode("utf-8")
        + "</MiningModel>\n</Segment>\n"
    )
    return _own_names(text, i)


def chain_order(plan) -> list:
    """The members' Segments in member order, except that under a classification top model the
    last member written as a classification model goes last: JPMML takes a modelChain's result
    from its last Segment and refuses one whose function is not the top model's. (The order of
    the Segments changes no output: the Output expressions name each member's fields.)"""
    order = list(range(len(plan.package.model.members)))
    if plan.function == "classification" and plan.package.model.final is None:
        last = max(i for i in order if plan.for_model(plan.package.model.members[i]).function == "classification")
        order.remove(last)
        order.append(last)
    return order


def stack_fields(model: ir.Composite) -> list:
    """The member fields a stack's final model reads, stack(0), stack(1), ... in order."""
    out = []
    for i, (member, width) in enumerate(zip(model.members, ir.stack_widths(model.members))):
        first = len(member.outputs) - width  # two probabilities give only the second
        out += [member_field(i, first + k) for k in range(width)]
    return out


def final_plan(plan):
    """A stack's final model's plan: over the member fields, then the features under passthrough."""
    model = plan.package.model
    chained = stack_fields(model)
    features = chained + (list(plan.features) if model.passthrough else [])
    return plan.for_model(model.final, features, tuple(chained))


def write_composite(plan, output: Callable) -> Iterator[bytes]:
    """The members' Segments, then a stack's final model's (its link, if any, ends the chain)."""
    model = plan.package.model
    yield b'<Segmentation multipleModelMethod="modelChain">\n'
    for i in chain_order(plan):
        yield _member(plan, i, model.members[i], output).encode("utf-8")
    if model.final is not None:
        sub = final_plan(plan)
        final = b"".join(MODEL_WRITERS[sub.shape](sub, OFF))
        # the final model's Segments go into this chain: its own Segmentation's tags come off
        yield final[len(b'<Segmentation multipleModelMethod="modelChain">\n') : -len(b"</Segmentation>\n")]
    yield b"</Segmentation>\n"


# ---------------------------------------------------------------- the combination, in Output fields


def _ref(name: str) -> str:
    return f'<FieldRef field="{_attr(name)}"/>'


def _apply(function: str, *args: str) -> str:
    return f'<Apply function="{function}">' + "".join(args) + "</Apply>"


def _fold(terms: list) -> str:
    """terms[0] + terms[1] + ... as a left fold."""
    value = terms[0]
    for term in terms[1:]:
        value = _apply("+", value, term)
    return value


def _plus(a: str, b: str) -> str:
    return _apply("+", a, b)


def _field(name: str, value: str, final: bool = True) -> str:
    hidden = "" if final else ' isFinalResult="false"'
    return (
        f'<OutputField name="{_attr(name)}" optype="continuous" dataType="double" '
        f'feature="transformedValue"{hidden}>{value}</OutputField>\n'
    )


def _average(model: ir.Composite, names: Union[tuple, None] = None, final: bool = True) -> str:
    """Output k (in field ``names[k]``, the model's outputs unless given): w0 * m0(k) + w1 * m1(k)
    + ... in member order, divided by the divisor."""
    parts = []
    for k, name in enumerate(model.outputs if names is None else names):
        terms = [_apply("*", _ref(member_field(i, k)), _constant(w)) for i, w in enumerate(model.weights.tolist())]
        parts.append(_field(name, _apply("/", _fold(terms), _constant(model.divisor)), final))
    return "".join(parts)


def _member_class(i: int, width: int) -> str:
    """Member i's class index: one decision score gives 1 iff it is > 0; else the first of
    equal maxima (output k is above every earlier one and not below any later one)."""
    if width == 1:
        return _apply(
            "if", _apply("greaterThan", _ref(member_field(i, 0)), _constant(0.0)), _constant(1.0), _constant(0.0)
        )
    value = _constant(float(width - 1))
    for k in range(width - 2, -1, -1):
        tests = [
            _apply("greaterThan" if j < k else "greaterOrEqual", _ref(member_field(i, k)), _ref(member_field(i, j)))
            for j in range(width)
            if j != k
        ]
        test = tests[0] if len(tests) == 1 else _apply("and", *tests)
        value = _apply("if", test, _constant(float(k)), value)
    return value


def _vote(model: ir.Composite) -> str:
    """votes(k): the weights of the members whose class is k, added in member order (0.0 for the others)."""
    parts = [
        _field(f"{PREFIX}class({i})", _member_class(i, len(member.outputs)), final=False)
        for i, member in enumerate(model.members)
    ]
    for k, name in enumerate(model.outputs):
        terms = [
            _apply(
                "if", _apply("equal", _ref(f"{PREFIX}class({i})"), _constant(float(k))), _constant(w), _constant(0.0)
            )
            for i, w in enumerate(model.weights.tolist())
        ]
        parts.append(_field(name, _fold(terms)))
    return "".join(parts)


def _sigmoid(params, t: str) -> str:
    """p = 1 / (1 + exp(a * t + b)): expit(-(a * t + b)), as negation is exact."""
    a, b = params
    z = _apply("+", _apply("*", _constant(a), t), _constant(b))
    return _apply("/", _constant(1.0), _apply("+", _constant(1.0), _apply("exp", z)))


def _interpolated(points, t: str) -> str:
    """numpy's interp(t, x, y) over the breakpoints (x, y) (ir.isotonic_interpolate): a balanced
    tree of ``t < x[m]`` tests picks the piece x[j] <= t < x[j+1], which gives y[j] where
    t == x[j], else slope * (t - x[j]) + y[j], the slope (y[j+1] - y[j]) / (x[j+1] - x[j]) the
    double numpy computes (written as that constant); y[0] below x[0], y[-1] from x[-1] on.
    ``t`` is the response plus 0.0, which makes -0.0 0.0 and changes no other value, so no test
    depends on how JPMML orders -0.0 and 0.0 (Java's Double.compare puts -0.0 first)."""
    x = [v + 0.0 for v in points[:, 0].tolist()]
    y = points[:, 1].tolist()
    last = len(x) - 1

    def piece(j: int) -> str:  # x[j] <= t < x[j+1]; j == -1 below x[0], j == last from x[-1] on
        if j < 0 or j == last:
            return _constant(y[max(j, 0)])
        slope = (y[j + 1] - y[j]) / (x[j + 1] - x[j])
        line = _apply("+", _apply("*", _constant(slope), _apply("-", t, _constant(x[j]))), _constant(y[j]))
        return _apply("if", _apply("equal", t, _constant(x[j])), _constant(y[j]), line)

    def pieces(low: int, high: int) -> str:  # the pieces low..high, split at x[middle]
        if low == high:
            return piece(low)
        middle = (low + high + 1) // 2
        return _apply("if", _apply("lessThan", t, _constant(x[middle])), pieces(low, middle - 1), pieces(middle, high))

    return pieces(-1, last)


def _calibrate(model: ir.Composite) -> str:
    """Per member and response column t: p = 1 / (1 + exp(a * t + b)) (expit(-(a * t + b)):
    negation is exact), or under isotonic calibration t interpolated between its breakpoints as
    numpy's interp (_interpolated); two classes [1 - p, p], more p / (their sum, added as numpy adds a row:
    ir.pairwise_sum), 1 / classes where
    it is 0; values in (1, CLIP] to 1.0; then the members' probabilities added and divided."""
    n = len(model.classes)
    parts = []
    for i, (member, params) in enumerate(zip(model.members, model.calibration)):
        first = len(member.outputs) - len(params)  # two probabilities give only the second
        for c, column in enumerate(params):
            t = _ref(member_field(i, first + c))
            if model.calibration_method == "isotonic":
                response = _apply("+", t, _constant(0.0))
                parts.append(_field(f"{PREFIX}t({i},{c})", response, final=False))
                p = _interpolated(column, _ref(f"{PREFIX}t({i},{c})"))
            else:
                p = _sigmoid(column.tolist(), t)
            parts.append(_field(f"{PREFIX}p({i},{c})", p, final=False))
        if n == 2:
            proba = [_apply("-", _constant(1.0), _ref(f"{PREFIX}p({i},0)")), _ref(f"{PREFIX}p({i},0)")]
        else:
            # numpy's row sum (pairwise from 8 values on), as ir.pairwise_sum orders the additions
            terms = [_ref(f"{PREFIX}p({i},{c})") for c in range(n)]
            parts.append(_field(f"{PREFIX}total({i})", ir.pairwise_sum(terms, _plus), False))
            total = _ref(f"{PREFIX}total({i})")
            proba = [
                _apply(
                    "if",
                    _apply("notEqual", total, _constant(0.0)),
                    _apply("/", _ref(f"{PREFIX}p({i},{c})"), total),
                    _constant(1 / n),
                )
                for c in range(n)
            ]
        for c, value in enumerate(proba):
            parts.append(_field(f"{PREFIX}q({i},{c})", value, final=False))
            q = _ref(f"{PREFIX}q({i},{c})")
            clipped = _apply(
                "if",
                _apply("and", _apply("greaterThan", q, _constant(1.0)), _apply("lessOrEqual", q, _constant(CLIP))),
                _constant(1.0),
                q,
            )
            parts.append(_field(f"{PREFIX}proba({i},{c})", clipped, final=False))
    for c, name in enumerate(model.outputs):
        total = _fold([_ref(f"{PREFIX}proba({i},{c})") for i in range(len(model.members))])
        parts.append(_field(name, _apply("/", total, _constant(model.divisor))))
    return "".join(parts)


COMBINATIONS = {"average": _average, "vote": _vote, "calibrate": _calibrate}

# ---------------------------------------------------------------- the target steps, in Output fields

PREDICTION_FIELD = f"{PREFIX}prediction"  # the regressor's prediction t, before the target steps
CHECKED_FIELD = f"{PREFIX}checked"  # t where finite, else a division JPMML refuses
LARGEST = 1.7976931348623157e308  # the largest finite double

# each step as one Apply on doubles (Java's +, -, *, / and Math.exp, Math.expm1: PMML 4.4's built-ins)
STEP_FUNCTIONS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "exp": "exp", "expm1": "expm1"}


def _prediction(plan) -> str:
    """The hidden field holding t: the one member's output, the average's expression, or a
    stack's final model's predicted value (the chain's last Segment)."""
    model = plan.package.model
    if model.combination == "target":
        return _field(PREDICTION_FIELD, _ref(member_field(0, 0)), final=False)
    if model.final is not None:
        return (
            f'<OutputField name="{_attr(PREDICTION_FIELD)}" optype="continuous" dataType="double" '
            'feature="predictedValue" isFinalResult="false"/>\n'
        )
    return _average(model, (PREDICTION_FIELD,), final=False)


def _target(model: ir.Composite) -> str:
    """t refused where not finite (NaN fails the upper test, as Java orders NaN above every
    double; +-inf one of them): ``if(t >= -MAX and t <= MAX, t, 0.0 / 0.0)``, whose division JPMML
    refuses ('Function "/" returned invalid value'), a row error as the rule's; then the steps
    in order, each one Apply around the last, a number written as the double itself."""
    t = _ref(PREDICTION_FIELD)
    finite = _apply(
        "and",
        _apply("greaterOrEqual", t, _constant(-LARGEST)),
        _apply("lessOrEqual", t, _constant(LARGEST)),
    )
    checked = _apply("if", finite, t, _apply("/", _constant(0.0), _constant(0.0)))
    value = _ref(CHECKED_FIELD)
    for op, number in model.target_steps:
        value = (
            _apply(STEP_FUNCTIONS[op], value)
            if number is None
            else _apply(STEP_FUNCTIONS[op], value, _constant(number))
        )
    return _field(CHECKED_FIELD, checked, final=False) + _field(model.outputs[0], value)


def composite_output(plan, output: Callable) -> str:
    """The top Output: a stack's final model's outputs, else the combination's expressions;
    under target steps the prediction they start from, checked, then the steps."""
    model = plan.package.model
    if model.target_steps:
        return "<Output>\n" + _prediction(plan) + _target(model) + "</Output>\n"
    if model.final is not None:
        return output(final_plan(plan), OFF, None)
    return "<Output>\n" + COMBINATIONS[model.combination](model) + "</Output>\n"
