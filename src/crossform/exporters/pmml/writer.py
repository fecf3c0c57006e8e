"""The pmml writer: a PMML 4.4 document streamed as text from the IR (:func:`iter_chunks`),
no element tree built; the encoders' DerivedFields come from encoders, the model from
model_writer. docs/formats/pmml.md is the spec; the package docstring sums it up.
"""

from __future__ import annotations

import copy
import types
from collections.abc import Iterator
from typing import Union

from ... import ir
from ...errors import UnsupportedModelError
from .. import _envelope
from . import accepts, float32, weighted_median
from .composite_writer import composite_output, composite_spec, write_composite
from .encoders import _write_encoders
from .model_writer import MODEL_WRITERS, _leaf_field
from .rules import (
    COMPOSITE,
    EXTENDER,
    FLAT,
    LINEAR,
    MODEL,
    NAMESPACE,
    ON,
    PMML_VERSION,
    RAW,
    TARGET,
    _attr,
    _constant,
    _function,
    _json_text,
    _link,
    _num,
    _score_name,
    _shape,
    _text,
    _validity,
    leaf_output,
    needs,
    probability_output,
    unsupported,
    written_version,
)


class _Plan:
    """PMML names of every column, the DerivedFields, what each input accepts,
    and how the model is laid out."""

    def __init__(self, package: ir.Package):
        self.package = package
        model = package.model
        self.checked: list = []  # the product fields that check their value: the first Segment reads them
        self.derived, bound = _write_encoders(package, self.checked)  # DerivedField texts, PMML name of each IR column
        self.features = [bound[name] for name in model.features]
        strings = accepts.strings(package)
        self.validity = {f.name: _validity(package, f, strings) for f in package.inputs}
        self.shape = _shape(model)
        self.link = _link(model)
        self.function = _function(model)

        self.chained: list = []  # fields of earlier Segments a stack's final model reads
        self.own_target = True  # whether the model's function is the document's, whose target it names

    def input_fields(self) -> str:
        """MiningFields of the input fields the model reads directly (a nested model
        lists them; JPMML resolves derived fields from the TransformationDictionary),
        after the fields of earlier Segments it reads (a stack's final model)."""
        inputs = {f.name for f in self.package.inputs}
        return "".join(f'<MiningField name="{_attr(name)}"/>' for name in self.chained) + "".join(
            f'<MiningField name="{_attr(name)}"/>' for name in sorted(set(self.features) & inputs)
        )

    def for_model(self, model: ir.Model, features: Union[list, None] = None, chained: tuple = ()) -> _Plan:
        """The plan of a composite's member (or final model): its layout over the same fields."""
        sub = copy.copy(self)
        sub.package = types.SimpleNamespace(model=model, inputs=self.package.inputs)
        sub.features = self.features if features is None else features
        sub.chained = list(chained)
        sub.shape, sub.link, sub.function = _shape(model), _link(model), _function(model)
        sub.own_target = sub.function == self.function
        return sub


def _model_spec(package: ir.Package) -> dict:
    """The Header's crossform.model: what the elements do not say. 1.2 added the
    trees' missing and infinite rules and the linear model's "type"; 1.3 the composite's."""
    model = package.model
    if isinstance(model, ir.Composite):
        return composite_spec(model, _member_spec)
    return _member_spec(model, needs(package) is not None)


def _member_spec(model: ir.Model, rules: bool = True) -> dict:
    """A model's spec (``rules``: with the trees' missing and infinite rules)."""
    if isinstance(model, ir.LinearModel):
        return {"features": list(model.features), "post_transform": model.post_transform, "type": "linear"}
    spec = {"aggregation": model.aggregation, "features": list(model.features), "post_transform": model.post_transform}
    if rules:
        spec.update(missing=model.missing, infinite=model.infinite)
    if model.isolation is not None:
        spec["isolation"] = list(model.isolation)
    if model.divisors:
        spec["divisors"] = list(model.divisors)  # what the chain's Apply "/" output fields divide by
    if model.aggregation == "weighted-median":
        spec["tree_weights"] = list(model.tree_weights)  # what the median's Output fields add
    if model.accumulate != "float64":
        spec["accumulate"] = model.accumulate  # what the float32 Output fields compute (pmml.float32)
    return spec


def _header(package: ir.Package, version: str, recorded_id: str) -> str:
    model = package.model

    def ext(name: str, value: str) -> str:
        return f'<Extension extender="{EXTENDER}" name="{name}" value="{_attr(value)}"/>\n'

    parts = ["<Header>\n", ext(_envelope.FORMAT_VERSION, version), ext(_envelope.ID, recorded_id)]
    if package.owner is not None:
        parts.append(ext(_envelope.OWNER, _json_text(package.owner)))
    parts.append(ext(_envelope.TAGS, _json_text(list(package.tags))))
    parts.append(ext(_envelope.METADATA, _json_text(dict(package.metadata))))
    parts.append(ext(_envelope.PRODUCER, _json_text(dict(package.producer))))
    if model.is_classifier:
        parts.append(ext(_envelope.CLASSES, _json_text(list(model.classes))))
    parts.append(ext(MODEL, _json_text(_model_spec(package))))
    doc = _envelope.checks_document(package, "checks")
    if doc is not None:
        parts.append(
            f'<Extension extender="{EXTENDER}" name="{_envelope.CHECKS}">{_text(_json_text(doc))}</Extension>\n'
        )
    parts.append("</Header>\n")
    return "".join(parts)


def _data_dictionary(plan: _Plan) -> str:
    package = plan.package
    model = package.model
    parts = [f'<DataDictionary numberOfFields="{len(package.inputs) + 1}">\n']
    for f in package.inputs:
        v = plan.validity[f.name]
        name = _attr(f.name)
        if f.kind == ir.NUMERIC:
            if v.interval is None:
                parts.append(f'<DataField name="{name}" optype="continuous" dataType="double"/>\n')
            else:
                low, high = v.interval
                parts.append(
                    f'<DataField name="{name}" optype="continuous" dataType="double">'
                    f'<Interval closure="closedClosed" leftMargin="{_num(low)}" rightMargin="{_num(high)}"/>'
                    f"</DataField>\n"
                )
        else:
            values = (
                [f'<Value value="{_attr(s)}"/>' for s in v.valid]
                if v.valid is not None
                else [f'<Value value="{_attr(s)}" property="invalid"/>' for s in v.invalid]
            )
            if values:
                parts.append(
                    f'<DataField name="{name}" optype="categorical" dataType="string">'
                    + "".join(values)
                    + "</DataField>\n"
                )
            else:
                parts.append(f'<DataField name="{name}" optype="categorical" dataType="string"/>\n')
    if plan.function == "classification":
        parts.append(
            f'<DataField name="{TARGET}" optype="categorical" dataType="string">'
            + "".join(f'<Value value="{_attr(str(c))}"/>' for c in model.classes)
            + "</DataField>\n"
        )
    else:
        parts.append(f'<DataField name="{TARGET}" optype="continuous" dataType="double"/>\n')
    parts.append("</DataDictionary>\n")
    return "".join(parts)


def _transformations(plan: _Plan) -> str:
    if not plan.derived:
        return ""
    return "<TransformationDictionary>\n" + "".join(plan.derived) + "</TransformationDictionary>\n"


def _mining_schema(plan: _Plan) -> str:
    parts = ["<MiningSchema>\n"]
    for f in plan.package.inputs:
        v = plan.validity[f.name]
        missing = ' missingValueTreatment="returnInvalid"' if v.missing_invalid else ""
        parts.append(f'<MiningField name="{_attr(f.name)}" invalidValueTreatment="returnInvalid"{missing}/>\n')
    parts.append(f'<MiningField name="{TARGET}" usageType="target"/>\n</MiningSchema>\n')
    return "".join(parts)


def _logistic(field: str) -> str:
    """1 / (1 + exp(0 - x)): the reference's logistic, in double (0 - x is -x, and exp(+-0) is 1)."""
    return (
        '<Apply function="/"><Constant dataType="double">1.0</Constant><Apply function="+">'
        '<Constant dataType="double">1.0</Constant><Apply function="exp"><Apply function="-">'
        f'<Constant dataType="double">0.0</Constant><FieldRef field="{field}"/></Apply></Apply></Apply></Apply>'
    )


def _output(plan: _Plan, leaves: str, names: Union[list, None] = None) -> str:
    """The Output: the package's outputs (``names``: a composite member's fields for them instead)."""
    model = plan.package.model
    if isinstance(model, ir.Composite) and names is None:
        return composite_output(plan, _output)
    if names is None:
        names = [probability_output(c) for c in model.classes] if plan.function == "classification" else model.outputs
    parts = ["<Output>\n"]
    if getattr(model, "accumulate", "float64") == "float32":  # XGBoost's rule (pmml.float32)
        if plan.shape == FLAT:  # the top Segmentation's trees, summed here; else the chain's score fields
            parts.append(float32.sum_fields(model, 0, list(range(len(model.trees))), RAW))
        parts.append(float32.transform_fields(model, [_score_name(model, k) for k in range(model.n_outputs)], names))
    elif getattr(model, "aggregation", None) == "weighted-median":  # the rule, not PMML's own (pmml.weighted_median)
        parts.append(weighted_median.fields(model, names[0]))
    elif plan.function == "classification":
        for c, name in zip(model.classes, names):
            parts.append(
                f'<OutputField name="{_attr(name)}" optype="continuous" dataType="double" '
                f'feature="probability" value="{_attr(str(c))}"/>\n'
            )
    elif model.post_transform == "isolation":
        parts.append(_isolation_outputs(model))
    elif len(model.outputs) > 1:  # scores, or their logistic, from the chain's fields
        for k, name in enumerate(names):
            field = _score_name(model, k)
            value = f'<FieldRef field="{field}"/>' if model.post_transform == "none" else _logistic(field)
            parts.append(
                f'<OutputField name="{_attr(name)}" optype="continuous" dataType="double" '
                f'feature="transformedValue">{value}</OutputField>\n'
            )
    elif model.post_transform in ("logistic", "exp"):
        value = (
            _logistic(RAW)
            if model.post_transform == "logistic"
            else f'<Apply function="exp"><FieldRef field="{RAW}"/></Apply>'
        )
        parts.append(
            f'<OutputField name="{RAW}" optype="continuous" dataType="double" feature="predictedValue" '
            f'isFinalResult="false"/>\n'
        )
        parts.append(
            f'<OutputField name="{_attr(names[0])}" optype="continuous" dataType="double" '
            f'feature="transformedValue">{value}</OutputField>\n'
        )
    else:  # a regressor's prediction, or a linear two-class decision
        parts.append(
            f'<OutputField name="{_attr(names[0])}" optype="continuous" dataType="double" feature="predictedValue"/>\n'
        )
    n_trees = len(model.trees) if leaves == ON and plan.shape != LINEAR else 0
    for t in range(n_trees):
        if plan.shape == FLAT:
            parts.append(
                f'<OutputField name="{leaf_output(t)}" optype="categorical" dataType="string" '
                f'feature="entityId" segmentId="{t}"/>\n'
            )
        else:  # reported by the score's MiningModel that holds tree t first
            parts.append(
                f'<OutputField name="{leaf_output(t)}" optype="categorical" dataType="string" '
                f'feature="transformedValue"><FieldRef field="{_leaf_field(t)}"/></OutputField>\n'
            )
    parts.append("</Output>\n")
    return "".join(parts)


def _isolation_outputs(model: ir.TreeEnsemble) -> str:
    """score = -(2 ** -(s / denominator)), decision = score - offset, in double:
    -x as -1.0 * x (exact, zeros too) and Java's Math.pow."""
    denominator, offset = model.isolation
    score, decision = ir.ISOLATION_OUTPUTS
    power = (
        f'<Apply function="pow">{_constant(2.0)}<Apply function="*">{_constant(-1.0)}<Apply function="/">'
        f'<FieldRef field="{RAW}"/>{_constant(denominator)}</Apply></Apply></Apply>'
    )
    return (
        f'<OutputField name="{RAW}" optype="continuous" dataType="double" feature="predictedValue" '
        f'isFinalResult="false"/>\n'
        f'<OutputField name="{score}" optype="continuous" dataType="double" feature="transformedValue">'
        f'<Apply function="*">{_constant(-1.0)}{power}</Apply></OutputField>\n'
        f'<OutputField name="{decision}" optype="continuous" dataType="double" feature="transformedValue">'
        f'<Apply function="-"><FieldRef field="{score}"/>{_constant(offset)}</Apply></OutputField>\n'
    )


def iter_chunks(
    package: ir.Package, *, leaves: str = ON, version: Union[str, None] = None, recorded_id: Union[str, None] = None
) -> Iterator[bytes]:
    """The document as UTF-8 chunks: the head, then one chunk per tree (per
    tree and score in a chain), then the end.

    ``version`` and ``recorded_id`` let the reader write again what a file
    records, to compare the rest; a writer leaves them alone.
    """
    version = written_version(package, leaves) if version is None else version
    reason = unsupported(package)
    if reason is not None:
        raise UnsupportedModelError(f"pmml: this package has no PMML form: {reason}")
    plan = _Plan(package)
    head = "".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<PMML xmlns="{NAMESPACE}" version="{PMML_VERSION}">\n',
            _header(package, version, package.id if recorded_id is None else recorded_id),
            _data_dictionary(plan),
            _transformations(plan),
            f'<MiningModel functionName="{plan.function}">\n',
            _mining_schema(plan),
            _output(plan, leaves),
        ]
    ).encode("utf-8")
    chunks = write_composite(plan, _output) if plan.shape == COMPOSITE else MODEL_WRITERS[plan.shape](plan, leaves)
    previous = head + next(chunks)  # the head goes with the model's first chunk, the end with its last
    for chunk in chunks:
        yield previous
        previous = chunk
    yield previous + b"</MiningModel>\n</PMML>\n"


def dumps(package: ir.Package, leaves: str = ON) -> bytes:
    return b"".join(iter_chunks(package, leaves=leaves))


def write(package: ir.Package, fh, leaves: str = ON) -> int:
    """Stream the document to a binary file object; the number of bytes written."""
    total = 0
    for chunk in iter_chunks(package, leaves=leaves):
        fh.write(chunk)
        total += len(chunk)
    return total
