"""pmml's encoder kinds, both directions: per kind the DerivedFields written for one feature
(ENCODER_FIELDS) and the reader that rebuilds the kind from them (ENCODER_READERS, which also
says what in a DerivedField marks the kind). A new kind is one writer, one reader and their
two entries here; writer.py and reader.py call :func:`_write_encoders` and :func:`_read_encoders`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple, Union

import numpy as np

from ... import ir, rules
from ...errors import IRValidationError, shown
from .. import _json
from . import accepts
from .parse import _number, _Reader
from .rules import (
    BINNING,
    CODES,
    EXTENDER,
    INTEGER_CODE,
    KINDS_OF,
    MISSING_BAND,
    NUMBER_CATEGORY,
    ONE_HOT,
    PREFIX,
    PRODUCT,
    PROJECTION,
    PmmlNumberError,
    PmmlStructureError,
    _attr,
    _constant,
    _json_text,
    _num,
    _text,
)

# ---------------------------------------------------------------- writing


def _write_encoders(package: ir.Package, checked: Union[list, None] = None) -> tuple:
    """The DerivedField texts of every encoder, and the PMML name of every IR column
    (an input's is its own name). ``checked``, when given, receives the names of the product
    fields that check their value (:func:`_product_fields`), which the Output must compute."""
    bound = {f.name: f.name for f in package.inputs}
    derived = []
    for i, enc in enumerate(package.encoders):
        if type(enc) in COMBINED_FIELDS:  # one field per output, each reading several features
            intervals = accepts.product_intervals(package, i)
            texts, names = COMBINED_FIELDS[type(enc)](f"{PREFIX}e{i}", enc, bound, intervals)
            derived.extend(texts)
            if checked is not None:
                checked.extend(name for name, limits in zip(names, intervals) if limits is not None)
            bound.update(zip(enc.outputs, names))
            continue
        new = {}
        for j, (feature, outs) in enumerate(zip(enc.features, _outputs_of(enc))):
            texts, names = ENCODER_FIELDS[type(enc)](f"{PREFIX}e{i}.{j}", outs, enc, j, bound[feature])
            derived.extend(texts)
            new.update(zip(outs, names))
        bound.update(new)  # an encoder reads its features as they were before it ran
    return derived, bound


def _outputs_of(enc: Any) -> tuple:
    """Each feature's output names: one, or a one-hot feature's block."""
    return enc.blocks() if isinstance(enc, ir.OneHot) else tuple((out,) for out in enc.outputs)


def _code_json(code: Union[float, None]) -> Any:
    if code is None:
        return None
    return "NaN" if math.isnan(code) else float(code)


def _head(name: str, out: Union[str, None], optype: str = "continuous", data_type: str = "double") -> str:
    display = "" if out is None else f' displayName="{_attr(out)}"'
    return f'<DerivedField name="{name}"{display} optype="{optype}" dataType="{data_type}">'


# Each writes feature j's DerivedFields: (texts, the PMML names of its outputs ``outs``), reading ``source``.


def _fill_field(name: str, outs: tuple, enc: ir.FillMissing, j: int, source: str) -> tuple:
    value, src = enc.values[j], _attr(source)
    if isinstance(value, str):
        text = (
            _head(name, outs[0], "categorical", "string") + f'<FieldRef field="{src}" '
            f'mapMissingTo="{_attr(value)}"/></DerivedField>\n'
        )
    else:
        text = _head(name, outs[0]) + f'<FieldRef field="{src}" mapMissingTo="{_num(value)}"/></DerivedField>\n'
    return [text], [name]


def _categorical_encoding_field(name: str, outs: tuple, enc: ir.CategoricalEncoding, j: int, source: str) -> tuple:
    missing, unknown = enc.missing_codes[j], enc.unknown_code
    codes = _json_text({"missing": _code_json(missing), "unknown": _code_json(unknown)})
    # a missing value takes the missing code, else the unknown code; NaN is a missing result
    for_missing = missing if missing is not None else unknown
    attrs = ""
    if for_missing is not None and not math.isnan(for_missing):
        attrs += f' mapMissingTo="{_num(for_missing)}"'
    if unknown is not None and not math.isnan(unknown):
        attrs += f' defaultValue="{_num(unknown)}"'
    rows = "".join(
        f"<row><in>{_text(c)}</in><out>{_num(v)}</out></row>" for c, v in zip(enc.categories[j], enc.codes[j].tolist())
    )
    return [
        _head(name, outs[0]) + f'<Extension extender="{EXTENDER}" name="{CODES}" '
        f'value="{_attr(codes)}"/><MapValues outputColumn="out" dataType="double"{attrs}>'
        f'<FieldColumnPair field="{_attr(source)}" column="in"/><InlineTable>{rows}</InlineTable></MapValues>'
        f"</DerivedField>\n"
    ], [name]


def _two_steps(name: str, out: str, source: str, inner: str, first: float, outer: str, second: float) -> str:
    """A DerivedField computing (x <inner> first) <outer> second, in double."""
    return (
        _head(name, out) + f'<Apply function="{outer}"><Apply function="{inner}"><FieldRef field="{_attr(source)}"/>'
        f"{_constant(first)}</Apply>{_constant(second)}</Apply></DerivedField>\n"
    )


def _scale_field(name: str, outs: tuple, enc: ir.Scale, j: int, source: str) -> tuple:
    return [_two_steps(name, outs[0], source, "-", enc.offset[j], "/", enc.scale[j])], [name]


def _affine_field(name: str, outs: tuple, enc: ir.Affine, j: int, source: str) -> tuple:
    # x * scale + offset, multiply first, in double: Java's * and + round as numpy's do
    return [_two_steps(name, outs[0], source, "*", enc.scale[j], "+", enc.offset[j])], [name]


def _indicator_field(name: str, outs: tuple, enc: ir.MissingIndicator, j: int, source: str) -> tuple:
    return [
        _head(name, outs[0]) + f'<Apply function="if"><Apply function="isMissing"><FieldRef '
        f'field="{_attr(source)}"/></Apply>{_constant(1.0)}{_constant(0.0)}</Apply></DerivedField>\n'
    ], [name]


def _refuse_field(name: str, outs: tuple, enc: ir.RefuseMissing, j: int, source: str) -> tuple:
    """The value unchanged: a FieldRef without mapMissingTo (fill-missing's has one).
    The refused values (missing, and a numeric +-inf) are invalid values of the
    input field they come from (accepts), so JPMML never computes this for them."""
    head = _head(name, outs[0]) if enc.kinds_in[j] == ir.NUMERIC else _head(name, outs[0], "categorical", "string")
    return [head + f'<FieldRef field="{_attr(source)}"/></DerivedField>\n'], [name]


def _one_hot_fields(name: str, outs: tuple, enc: ir.OneHot, j: int, source: str) -> tuple:
    """The column a category sets (-1: none) as an integer field ``name``, from a
    MapValues over every known category; then per column c a NormDiscrete: 1.0
    where that field is c, else 0.0. A missing value takes the missing column,
    else the unknown one; an unknown category the unknown (infrequent) column,
    -1 under "zeros", and under "error" it is an invalid value of the input."""
    missing, unknown = enc.missing_columns[j], enc.unknown[j]
    policy = _json_text({"missing": missing, "unknown": unknown})
    to_unknown = unknown if isinstance(unknown, int) else -1 if unknown == "zeros" else None
    for_missing = missing if missing is not None else to_unknown
    attrs = "" if for_missing is None else f' mapMissingTo="{for_missing}"'
    attrs += "" if to_unknown is None else f' defaultValue="{to_unknown}"'
    rows = "".join(
        f"<row><in>{_text(c)}</in><out>{column}</out></row>"
        for c, column in zip(enc.categories[j], enc.columns[j].tolist())
    )
    texts = [
        _head(name, None, "categorical", "integer") + f'<Extension extender="{EXTENDER}" name="{ONE_HOT}" '
        f'value="{_attr(policy)}"/><MapValues outputColumn="out" dataType="integer"{attrs}>'
        f'<FieldColumnPair field="{_attr(source)}" column="in"/><InlineTable>{rows}</InlineTable></MapValues>'
        f"</DerivedField>\n"
    ]
    names = [f"{name}.{c}" for c in range(len(outs))]
    texts += [
        _head(column, out) + f'<NormDiscrete field="{name}" value="{c}"/></DerivedField>\n'
        for c, (column, out) in enumerate(zip(names, outs))
    ]
    return texts, names


def _number_category_field(name: str, outs: tuple, enc: ir.NumberCategory, j: int, source: str) -> tuple:
    """A Discretize with one bin [v, v] per known number, its category the bin's value, the
    unknown name the default; a missing value stays missing. JPMML finds the bin by
    Double.compareTo, where -0.0 sorts below 0.0, so 0.0's bin is [-0.0, 0.0]: both match, as
    they do in scikit-learn."""
    values, categories = enc.values[j].tolist(), enc.categories[j]
    doc = _json_text({"values": values, "categories": list(categories), "unknown": enc.unknown})
    bins = "".join(
        f'<DiscretizeBin binValue="{_attr(c)}"><Interval closure="closedClosed" '
        f'leftMargin="{"-0.0" if v == 0.0 else _num(v)}" rightMargin="{_num(v)}"/></DiscretizeBin>'
        for v, c in zip(values, categories)
    )
    return [
        _head(name, outs[0], "categorical", "string") + f'<Extension extender="{EXTENDER}" name="{NUMBER_CATEGORY}" '
        f'value="{_attr(doc)}"/><Discretize field="{_attr(source)}" dataType="string" '
        f'defaultValue="{_attr(enc.unknown)}">{bins}</Discretize></DerivedField>\n'
    ], [name]


def _margin(value: float) -> str:
    """A bin margin: 0.0 as -0.0, since JPMML compares by Double.compareTo, where -0.0 sorts below
    0.0, and scikit-learn counts -0.0 as 0.0."""
    return "-0.0" if value == 0.0 else _num(value)


def _binning_field(name: str, outs: tuple, enc: ir.Binning, j: int, source: str) -> tuple:
    """A Discretize over the bins the edges cut: below the first edge bin 0, [e_k, e_k+1) bin k,
    from the last edge on the last bin; a continuous double. NaN and +-inf are invalid values of
    the input field (accepts), so JPMML never bins them."""
    edges = enc.edges[j].tolist()
    doc = _json_text({"edges": edges})
    bins = []
    for k in range(len(edges) + 1):
        if k == 0 and edges:
            interval = f'closure="openOpen" rightMargin="{_margin(edges[0])}"'
        elif k == len(edges):
            interval = f'closure="closedOpen" leftMargin="{_margin(edges[-1])}"' if edges else 'closure="openOpen"'
        else:
            interval = f'closure="closedOpen" leftMargin="{_margin(edges[k - 1])}" rightMargin="{_margin(edges[k])}"'
        if k and k < len(edges) and edges[k - 1] == edges[k]:
            continue  # an empty bin [e, e): searchsorted counts both edges at e
        bins.append(f'<DiscretizeBin binValue="{k}"><Interval {interval}/></DiscretizeBin>')
    return [
        _head(name, outs[0]) + f'<Extension extender="{EXTENDER}" name="{BINNING}" value="{_attr(doc)}"/>'
        f'<Discretize field="{_attr(source)}" dataType="double">{"".join(bins)}</Discretize></DerivedField>\n'
    ], [name]


def _integer_code_field(name: str, outs: tuple, enc: ir.IntegerCode, j: int, source: str) -> tuple:
    """if x is not missing: if -1 < x < 2^31: floor(max(x, 0)), which is trunc(x) there; an if
    without an else gives missing when its condition is false (JPMML's functions refuse a missing
    argument, and its if evaluates only the branch it takes). The Extension marks the kind."""
    x = f'<FieldRef field="{_attr(source)}"/>'
    inside = (
        f'<Apply function="and"><Apply function="greaterThan">{x}{_constant(-1.0)}</Apply>'
        f'<Apply function="lessThan">{x}{_constant(2.0**31)}</Apply></Apply>'
    )
    return [
        _head(name, outs[0]) + f'<Extension extender="{EXTENDER}" name="{INTEGER_CODE}" value="trunc"/>'
        f'<Apply function="if"><Apply function="isNotMissing">{x}</Apply><Apply function="if">{inside}'
        f'<Apply function="floor"><Apply function="max">{x}{_constant(0.0)}</Apply></Apply></Apply></Apply>'
        f"</DerivedField>\n"
    ], [name]


def _missing_band_field(name: str, outs: tuple, enc: ir.MissingBand, j: int, source: str) -> tuple:
    """if x is not missing: if not(low <= x <= high): x; missing elsewhere (an if without an else);
    the ends also in Extension crossform.missing-band, which marks the kind."""
    x = f'<FieldRef field="{_attr(source)}"/>'
    low, high = float(enc.low[j]), float(enc.high[j])
    doc = _json_text({"low": low, "high": high})
    band = (
        f'<Apply function="and"><Apply function="greaterOrEqual">{x}{_constant(low)}</Apply>'
        f'<Apply function="lessOrEqual">{x}{_constant(high)}</Apply></Apply>'
    )
    return [
        _head(name, outs[0]) + f'<Extension extender="{EXTENDER}" name="{MISSING_BAND}" value="{_attr(doc)}"/>'
        f'<Apply function="if"><Apply function="isNotMissing">{x}</Apply><Apply function="if">'
        f'<Apply function="not">{band}</Apply>{x}</Apply></Apply></DerivedField>\n'
    ], [name]


def _fold(fields: list) -> str:
    """The left fold ``((a * b) * c) * ...`` of the fields, in order, in double; one field is
    its FieldRef, none the Constant 1.0."""
    if not fields:
        return _constant(1.0)
    text = f'<FieldRef field="{_attr(fields[0])}"/>'
    for name in fields[1:]:
        text = f'<Apply function="*">{text}<FieldRef field="{_attr(name)}"/></Apply>'
    return text


def _checked(value: str, limits: Union[tuple, None]) -> str:
    """``value``, or, when the steps after it accept only [low, high],
    ``if(value >= low and value <= high, value, 0.0 / 0.0)``: JPMML refuses the row whose
    division returns NaN ('Function "/" returned invalid value'); +-inf fails both comparisons."""
    tests = []
    if limits is not None:
        low, high = limits
        if low != -math.inf:
            tests.append(f'<Apply function="greaterOrEqual">{value}{_constant(low)}</Apply>')
        if high != math.inf:
            tests.append(f'<Apply function="lessOrEqual">{value}{_constant(high)}</Apply>')
    if not tests:
        return value
    test = tests[0] if len(tests) == 1 else f'<Apply function="and">{"".join(tests)}</Apply>'
    refused = f'<Apply function="/">{_constant(0.0)}{_constant(0.0)}</Apply>'
    return f'<Apply function="if">{test}{value}{refused}</Apply>'


def _projection_fields(prefix: str, enc: ir.Projection, bound: dict, intervals: list) -> tuple:
    """Per output k a DerivedField ``<prefix>.<k>``: the left fold over the features in order of
    Apply "*" (feature j, centred first by Apply "-" under centring before, times the component)
    by Apply "+", then under centring after Apply "-" of the fold of mean * components (computed
    by the rule), then Apply "/" by the divisor; each a double operation in Java as in numpy. Checked
    against what the steps after it accept as a product is (:func:`_checked`). Extension
    crossform.projection holds the fields the step reads, the centring, the mean and the output's
    components and divisor; the document written again from them must be the file's."""
    sources = [bound[f] for f in enc.features]
    before = enc.centring == "before"
    offsets = None if before else rules.projection_offsets(enc).tolist()
    mean = enc.mean.tolist()
    texts, names = [], []
    for k, (out, limits) in enumerate(zip(enc.outputs, intervals)):
        name = f"{prefix}.{k}"
        row = enc.components[k].tolist()
        divisor = None if enc.divisors is None else float(enc.divisors[k])
        doc = _json_text(
            {"fields": sources, "centring": enc.centring, "mean": mean, "components": row, "divisor": divisor}
        )
        value = None
        for j, source in enumerate(sources):
            x = f'<FieldRef field="{_attr(source)}"/>'
            if before:
                x = f'<Apply function="-">{x}{_constant(mean[j])}</Apply>'
            term = f'<Apply function="*">{x}{_constant(row[j])}</Apply>'
            value = term if value is None else f'<Apply function="+">{value}{term}</Apply>'
        if offsets is not None:
            value = f'<Apply function="-">{value}{_constant(offsets[k])}</Apply>'
        if divisor is not None:
            value = f'<Apply function="/">{value}{_constant(divisor)}</Apply>'
        texts.append(
            _head(name, out) + f'<Extension extender="{EXTENDER}" name="{PROJECTION}" value="{_attr(doc)}"/>'
            f"{_checked(value, limits)}</DerivedField>\n"
        )
        names.append(name)
    return texts, names


def _product_fields(prefix: str, enc: ir.Product, bound: dict, intervals: list) -> tuple:
    """Per output k a DerivedField ``<prefix>.<k>``: the left fold of its factors' fields (Java's
    double * rounds as numpy's does). The fields it reads refuse NaN and +-inf
    as their invalid values (accepts), so only a product that overflows, or one the steps after
    it refuse (a float32 tree's bound), needs a check here: when the steps after it accept
    [low, high] (:func:`accepts.product_intervals`), the field is
    ``if(fold >= low and fold <= high, fold, 0.0 / 0.0)``, and JPMML refuses the row whose
    division returns NaN ('Function "/" returned invalid value'); +-inf fails both comparisons.
    Extension crossform.product names the fields the step reads and the output's factors."""
    sources = [bound[f] for f in enc.features]
    texts, names = [], []
    for k, (out, term, limits) in enumerate(zip(enc.outputs, enc.factors, intervals)):
        name = f"{prefix}.{k}"
        doc = _json_text({"factors": list(term), "fields": sources})
        fold = _fold([sources[i] for i in term])
        tests = []
        if limits is not None:
            low, high = limits
            if low != -math.inf:
                tests.append(f'<Apply function="greaterOrEqual">{fold}{_constant(low)}</Apply>')
            if high != math.inf:
                tests.append(f'<Apply function="lessOrEqual">{fold}{_constant(high)}</Apply>')
        if tests:
            test = tests[0] if len(tests) == 1 else f'<Apply function="and">{"".join(tests)}</Apply>'
            refused = f'<Apply function="/">{_constant(0.0)}{_constant(0.0)}</Apply>'
            fold = f'<Apply function="if">{test}{fold}{refused}</Apply>'
        texts.append(
            _head(name, out) + f'<Extension extender="{EXTENDER}" name="{PRODUCT}" value="{_attr(doc)}"/>'
            f"{fold}</DerivedField>\n"
        )
        names.append(name)
    return texts, names


ENCODER_FIELDS = {
    ir.FillMissing: _fill_field,
    ir.CategoricalEncoding: _categorical_encoding_field,
    ir.Scale: _scale_field,
    ir.Affine: _affine_field,
    ir.MissingIndicator: _indicator_field,
    ir.OneHot: _one_hot_fields,
    ir.RefuseMissing: _refuse_field,
    ir.NumberCategory: _number_category_field,
    ir.Binning: _binning_field,
    ir.IntegerCode: _integer_code_field,
    ir.MissingBand: _missing_band_field,
    ir.Product: _product_fields,  # per output, not per feature: _write_encoders calls it apart
    ir.Projection: _projection_fields,  # likewise
}
# kinds whose fields are one per output, each reading several features
COMBINED_FIELDS = {ir.Product: _product_fields, ir.Projection: _projection_fields}


# ---------------------------------------------------------------- reading

_DERIVED_NAME = re.compile(re.escape(PREFIX) + r"e(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?")
_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,9})")


def _read_encoders(reader: _Reader, where: str) -> tuple:
    """Encoders from the DerivedFields: crossform:e<i>.<j> for encoder i, feature
    j, and crossform:e<i>.<j>.<c> for column c of a one-hot feature."""
    ir_name = {name: name for name, _ in reader.fields}  # PMML name -> IR column
    optype = dict(reader.fields)
    groups: list = []  # per encoder, per feature: (its DerivedField, a one-hot feature's column fields)
    for d in reader.derived:
        match = _DERIVED_NAME.fullmatch(d["name"] or "")
        if match is None:
            raise PmmlStructureError(where, f"expected DerivedFields named {PREFIX}e<i>.<j>, found {shown(d['name'])}")
        i, j = int(match.group(1)), int(match.group(2))
        if match.group(3) is None:
            if i == len(groups) and j == 0:
                groups.append([])
            if i != len(groups) - 1 or j != len(groups[-1]):
                raise PmmlStructureError(where, f"expected DerivedFields in encoder order, found {shown(d['name'])}")
            groups[-1].append((d, []))
        else:
            if (
                not groups
                or i != len(groups) - 1
                or j != len(groups[-1]) - 1
                or int(match.group(3)) != len(groups[-1][-1][1])
            ):
                raise PmmlStructureError(
                    where, f"expected one-hot columns in order after their feature's field, found {shown(d['name'])}"
                )
            groups[-1][-1][1].append(d)
        optype[d["name"]] = d["optype"]
    encoders = []
    for i, group in enumerate(groups):
        label = f"{where}#TransformationDictionary/DerivedField[{PREFIX}e{i}]"
        if any(field["product"] is not None or field["projection"] is not None for field, _ in group):
            if any(field["projection"] is not None for field, _ in group):
                encoder = _read_projection_group(group, ir_name, label)
            else:
                encoder = _read_product_group(group, ir_name, label)
            encoders.append(encoder)
            ir_name.update((field["name"], field["display"]) for field, _ in group)
            continue
        one_hot = any(field["policy"] is not None for field, _ in group)
        named = [d for field, columns in group for d in (columns if one_hot else [field])]
        for d in named:
            if d["display"] is None:
                raise PmmlStructureError(
                    label, f"expected DerivedField {d['name']!r} to name its column in displayName"
                )
        fields = _fields(group)
        for d in fields:
            if d["source"] not in ir_name:
                raise PmmlStructureError(
                    label, f"expected DerivedField {d['name']!r} to read an earlier field, found {shown(d['source'])}"
                )
        features = tuple(ir_name[d["source"]] for d in fields)
        try:
            encoder = _read_encoder(group, features, [optype.get(d["source"]) for d in fields], label)
        except IRValidationError as exc:
            raise PmmlStructureError(label, str(exc)) from None
        encoders.append(encoder)
        for field, columns in group:
            if isinstance(encoder, ir.OneHot):
                ir_name.update((d["name"], d["display"]) for d in columns)
            else:
                ir_name[field["name"]] = field["display"]
    return tuple(encoders), ir_name


def _read_encoder(group: list, features: tuple, sources: list, label: str) -> Any:
    """One encoder from its features' DerivedFields: the kind whose mark they hold (ENCODER_READERS)."""
    mark = _mark(group, label)
    kind = _KIND_OF_MARK.get(mark)
    if kind is None:  # an element some kind writes, but with a function (say) none writes
        element, found = mark
        # integer-code's and missing-band's Apply are told apart by their Extension, not by a function
        known = [f'"{m}"' for e, m in _KIND_OF_MARK if e == element and m not in (INTEGER_CODE, MISSING_BAND)]
        raise PmmlStructureError(
            label, f"expected an {element} of {', '.join(known[:-1])} or {known[-1]}, found {shown(found)}"
        )
    return ENCODER_READERS[kind].read(group, features, sources, label)


def _mark(group: list, label: str) -> tuple:
    """What the DerivedFields of every feature say their encoder is: the expression
    element they share and what tells the kinds written with it apart (an Apply's
    function, a FieldRef's mapMissingTo or none, a MapValues' Extension)."""
    fields = _fields(group)
    if any(d["product"] is not None for d in fields):
        return ("Extension", PRODUCT)
    if any(d["projection"] is not None for d in fields):
        return ("Extension", PROJECTION)
    if any(d["policy"] is not None for d in fields):
        return ("MapValues", ONE_HOT)  # its fields name no column; theirs do (its reader checks every feature)
    if any(columns for _, columns in group):
        raise PmmlStructureError(label, "expected columns only after a one-hot feature's field")
    elements = {d["kind"] for d in fields}
    if elements == {"FieldRef"}:
        filled = {d["missing"] is not None for d in fields}
        if len(filled) != 1:
            raise PmmlStructureError(
                label,
                "expected FieldRef@mapMissingTo on every feature (fill-missing) or on "
                "none (refuse-missing), found it on some",
            )
        return ("FieldRef", "mapMissingTo" if filled.pop() else None)
    if elements == {"Discretize"}:
        return ("Discretize", BINNING if any(d["bins"] is not None for d in fields) else NUMBER_CATEGORY)
    functions = {d["function"] for d in fields}
    if elements == {"Apply"} and any(d["integer"] is not None for d in fields):
        return ("Apply", INTEGER_CODE)
    if elements == {"Apply"} and any(d["band"] is not None for d in fields):
        return ("Apply", MISSING_BAND)
    if elements == {"Apply"} and len(functions) == 1:
        return ("Apply", functions.pop())
    if elements == {"MapValues"}:
        return ("MapValues", CODES)
    raise PmmlStructureError(
        label, f"expected a FieldRef, an Apply, a MapValues or a Discretize, found {sorted(map(str, elements))}"
    )


def _fields(group: list) -> list:
    return [field for field, _ in group]


def _outputs(group: list) -> tuple:
    return tuple(field["display"] for field, _ in group)


def _kinds_in(sources: list, what: str, label: str) -> tuple:
    """The IR kinds of the fields an encoder reads, from their optypes."""
    if any(kind not in KINDS_OF for kind in sources):
        raise PmmlStructureError(label, f"expected {what} of continuous or categorical fields, found optypes {sources}")
    return tuple(KINDS_OF[kind] for kind in sources)


def _two_constants(group: list, label: str) -> tuple:
    """Per feature the first and the second Constant of an Apply with two."""
    fields = _fields(group)
    if any(len(d["constants"]) != 2 for d in fields):
        raise PmmlStructureError(label, "expected an Apply with two Constants")
    first = [_number(d["constants"][0], "a constant", label) for d in fields]
    second = [_number(d["constants"][1], "a constant", label) for d in fields]
    return first, second


# Each rebuilds its kind from the ``group`` of (DerivedField, column fields) per feature,
# the IR columns the features read and those fields' optypes (``sources``).


def _read_fill(group: list, features: tuple, sources: list, label: str) -> ir.FillMissing:
    values = tuple(
        _number(d["missing"], "a fill value", label) if d["type"] == "double" else d["missing"] for d in _fields(group)
    )
    return ir.FillMissing(features, values, _outputs(group))


def _read_refuse(group: list, features: tuple, sources: list, label: str) -> ir.RefuseMissing:
    """The value unchanged (1.2)."""
    return ir.RefuseMissing(features, _kinds_in(sources, "a refuse-missing encoder", label), _outputs(group))


def _read_scale(group: list, features: tuple, sources: list, label: str) -> ir.Scale:
    """(x - offset) / scale."""
    offset, scale = _two_constants(group, label)
    return ir.Scale(features, offset, scale, _outputs(group))


def _read_affine(group: list, features: tuple, sources: list, label: str) -> ir.Affine:
    """x * scale + offset."""
    scale, offset = _two_constants(group, label)
    return ir.Affine(features, scale, offset, _outputs(group))


def _read_indicator(group: list, features: tuple, sources: list, label: str) -> ir.MissingIndicator:
    """if isMissing(x) then 1.0 else 0.0 (the constants are compared with the bytes written)."""
    _two_constants(group, label)
    return ir.MissingIndicator(features, _kinds_in(sources, "a missing indicator", label), _outputs(group))


def _code(value: Any, where: str) -> Union[float, None]:
    if value is None:
        return None
    if value == "NaN":
        return math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise PmmlStructureError(where, f'expected a code (a number, "NaN" or null), found {shown(value)}')


def _read_categorical_encoding(group: list, features: tuple, sources: list, label: str) -> ir.CategoricalEncoding:
    """A label-encoder: per feature a MapValues category -> code, its missing and unknown codes in
    Extension crossform.codes."""
    fields = _fields(group)
    docs = [_json.parse((d["codes"] or "").encode("utf-8"), f"{label}/Extension[{CODES}]") for d in fields]
    if any(not isinstance(doc, dict) for doc in docs):
        raise PmmlStructureError(label, f"expected a JSON object in Extension {CODES!r}")
    unknown = {json.dumps(doc.get("unknown")) for doc in docs}
    if len(unknown) != 1:
        raise PmmlStructureError(label, "expected one unknown code for every feature of the encoder")
    categories = tuple(tuple(c for c, _ in d["rows"]) for d in fields)
    codes = tuple(np.array([_number(v, "a code", label) for _, v in d["rows"]], dtype=np.float64) for d in fields)
    missing = tuple(_code(doc.get("missing"), label) for doc in docs)
    unknown_code = _code(docs[0].get("unknown"), label)
    return ir.CategoricalEncoding(features, categories, codes, missing, unknown_code, _outputs(group))


def _integer(text: Any, what: str, where: str) -> int:
    if not isinstance(text, str) or _INTEGER.fullmatch(text) is None:
        raise PmmlNumberError(where, f"expected an integer for {what}, found {shown(text)}")
    return int(text)


def _column(value: Any, what: str, label: str) -> Any:
    """A one-hot column (an int >= -1; the IR checks the width) or None."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise PmmlStructureError(label, f"expected {what} to be a column number or null, found {shown(value)}")


def _read_one_hot(group: list, features: tuple, sources: list, label: str) -> ir.OneHot:
    """Per feature: its column field (MapValues category -> column, the missing and
    unknown columns in Extension crossform.one-hot), then a NormDiscrete per column."""
    categories, columns, widths, missing, unknown, outputs = [], [], [], [], [], []
    for field, fields in group:
        where = f"{label}.{len(categories)}"
        if field["kind"] != "MapValues" or field["policy"] is None:
            raise PmmlStructureError(
                where, f"expected every feature of a one-hot encoder to have a MapValues and an Extension {ONE_HOT!r}"
            )
        doc = _json.parse(field["policy"].encode("utf-8"), f"{where}/Extension[{ONE_HOT}]")
        if not isinstance(doc, dict) or set(doc) != {"missing", "unknown"}:
            raise PmmlStructureError(
                where,
                f'expected a JSON object with "missing" and "unknown" in Extension {ONE_HOT!r}, found {shown(doc)}',
            )
        policy = doc["unknown"]
        if not (isinstance(policy, str) and policy in ir.UNKNOWN_POLICIES):
            policy = _column(policy, "the unknown policy", where)
            if policy is None:
                raise PmmlStructureError(
                    where,
                    f"expected the unknown policy to be one of {ir.UNKNOWN_POLICIES} or a column number, found null",
                )
        categories.append(tuple(c for c, _ in field["rows"]))
        columns.append([_integer(v, "a column", where) for _, v in field["rows"]])
        missing.append(_column(doc["missing"], "the missing column", where))
        unknown.append(policy)
        for c, d in enumerate(fields):
            if d["kind"] != "NormDiscrete" or d["source"] != field["name"] or d["norm"] != str(c):
                raise PmmlStructureError(
                    where,
                    f"expected column {c} to be NormDiscrete field="
                    f'{field["name"]!r} value="{c}", found {shown(d["name"])}',
                )
            outputs.append(d["display"])
        widths.append(len(fields))
    return ir.OneHot(
        features, tuple(categories), tuple(columns), tuple(widths), tuple(missing), tuple(unknown), tuple(outputs)
    )


def _read_number_category(group: list, features: tuple, sources: list, label: str) -> ir.NumberCategory:
    """Per feature a Discretize of one bin per known number; its numbers, categories and
    unknown name in Extension crossform.number-category (the document written again from
    them must be the file's, so the bins say the same)."""
    values, categories, unknown = [], [], set()
    for d in _fields(group):
        doc = _json.parse((d["numbers"] or "").encode("utf-8"), f"{label}/Extension[{NUMBER_CATEGORY}]")
        if not isinstance(doc, dict) or set(doc) != {"values", "categories", "unknown"}:
            raise PmmlStructureError(
                label,
                f'expected a JSON object with "values", "categories" and "unknown" in Extension '
                f"{NUMBER_CATEGORY!r}, found {shown(doc)}",
            )
        if not isinstance(doc["values"], list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in doc["values"]
        ):
            raise PmmlStructureError(label, f"expected a list of numbers as the values, found {shown(doc['values'])}")
        values.append(doc["values"])
        categories.append(doc["categories"] if isinstance(doc["categories"], list) else ())
        unknown.add(json.dumps(doc["unknown"]))
    if len(unknown) != 1:
        raise PmmlStructureError(label, "expected one unknown name for every feature of the encoder")
    name = json.loads(unknown.pop())
    return ir.NumberCategory(features, tuple(values), tuple(map(tuple, categories)), name, _outputs(group))


def _read_binning(group: list, features: tuple, sources: list, label: str) -> ir.Binning:
    """Per feature a Discretize over its bins; its edges in Extension crossform.binning (the
    document written again from them must be the file's, so the bins say the same)."""
    edges = []
    for d in _fields(group):
        doc = _json.parse((d["bins"] or "").encode("utf-8"), f"{label}/Extension[{BINNING}]")
        if not isinstance(doc, dict) or set(doc) != {"edges"} or not isinstance(doc["edges"], list):
            raise PmmlStructureError(
                label, f'expected a JSON object with "edges" in Extension {BINNING!r}, found {shown(doc)}'
            )
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in doc["edges"]):
            raise PmmlStructureError(label, f"expected a list of numbers as the edges, found {shown(doc['edges'])}")
        edges.append(doc["edges"])
    return ir.Binning(features, tuple(edges), _outputs(group))


def _read_integer_code(group: list, features: tuple, sources: list, label: str) -> ir.IntegerCode:
    """No parameters (the document written again from it must be the file's)."""
    return ir.IntegerCode(features, _outputs(group))


def _read_missing_band(group: list, features: tuple, sources: list, label: str) -> ir.MissingBand:
    """The ends from Extension crossform.missing-band (the document written again must be the file's)."""
    low, high = [], []
    for d in _fields(group):
        doc = _json.parse((d["band"] or "").encode("utf-8"), f"{label}/Extension[{MISSING_BAND}]")
        if not isinstance(doc, dict) or set(doc) != {"low", "high"}:
            raise PmmlStructureError(
                label, f'expected a JSON object with "low" and "high" in Extension {MISSING_BAND!r}, found {shown(doc)}'
            )
        if not all(isinstance(doc[k], (int, float)) and not isinstance(doc[k], bool) for k in ("low", "high")):
            raise PmmlStructureError(label, f"expected numbers as the band's ends, found {shown(doc)}")
        low.append(doc["low"])
        high.append(doc["high"])
    return ir.MissingBand(features, low, high, _outputs(group))


def _read_product_group(group: list, ir_name: dict, label: str) -> ir.Product:
    """A product step: one field per output, each with an Extension crossform.product naming
    the PMML fields the step reads (the same in every output) and the output's factors; the
    expression written again from them must be the file's."""
    docs = []
    for field, columns in group:
        if columns or field["product"] is None or field["display"] is None:
            raise PmmlStructureError(
                label, f"expected every output of a product to name its column and hold an Extension {PRODUCT!r}"
            )
        doc = _json.parse(field["product"].encode("utf-8"), f"{label}/Extension[{PRODUCT}]")
        if not isinstance(doc, dict) or set(doc) != {"factors", "fields"}:
            raise PmmlStructureError(
                label,
                f'expected a JSON object with "factors" and "fields" in Extension {PRODUCT!r}, found {shown(doc)}',
            )
        docs.append(doc)
    sources = docs[0]["fields"]
    if not isinstance(sources, list) or any(doc["fields"] != sources for doc in docs):
        raise PmmlStructureError(label, "expected every output of a product to name the same fields")
    for source in sources:
        if not isinstance(source, str) or source not in ir_name:
            raise PmmlStructureError(label, f"expected a product to read earlier fields, found {shown(source)}")
    for doc in docs:
        if not isinstance(doc["factors"], list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in doc["factors"]
        ):
            raise PmmlStructureError(
                label, f"expected a list of field indices as factors, found {shown(doc['factors'])}"
            )
    features = tuple(ir_name[source] for source in sources)
    return _read_product(group, features, [None] * len(features), label, [doc["factors"] for doc in docs])


def _read_product(group: list, features: tuple, sources: list, label: str, factors: Union[list, None] = None):
    """The product step from its features and per output its factors (see :func:`_read_product_group`)."""
    if factors is None:
        raise PmmlStructureError(label, f"expected an Extension {PRODUCT!r} in every output of a product")
    try:
        return ir.Product(features, tuple(map(tuple, factors)), _outputs(group))
    except IRValidationError as exc:
        raise PmmlStructureError(label, str(exc)) from None


_PROJECTION_KEYS = {"fields", "centring", "mean", "components", "divisor"}


def _read_projection_group(group: list, ir_name: dict, label: str) -> ir.Projection:
    """A projection step: one field per output, each with an Extension crossform.projection
    naming the PMML fields the step reads, the centring and the mean (the same in every output),
    and the output's components and divisor; the document written again must be the file's."""
    docs = []
    for field, columns in group:
        if columns or field["projection"] is None or field["display"] is None:
            raise PmmlStructureError(
                label, f"expected every output of a projection to name its column and hold an Extension {PROJECTION!r}"
            )
        doc = _json.parse(field["projection"].encode("utf-8"), f"{label}/Extension[{PROJECTION}]")
        if not isinstance(doc, dict) or set(doc) != _PROJECTION_KEYS:
            raise PmmlStructureError(
                label,
                f"expected a JSON object with {sorted(_PROJECTION_KEYS)} in Extension {PROJECTION!r}, found {shown(doc)}",
            )
        docs.append(doc)
    first = docs[0]
    if any(
        (doc["fields"], doc["centring"], doc["mean"]) != (first["fields"], first["centring"], first["mean"])
        for doc in docs
    ):
        raise PmmlStructureError(
            label, "expected every output of a projection to name the same fields, centring and mean"
        )
    sources = first["fields"]
    if not isinstance(sources, list):
        raise PmmlStructureError(label, f"expected a list of fields in a projection, found {shown(sources)}")
    for source in sources:
        if not isinstance(source, str) or source not in ir_name:
            raise PmmlStructureError(label, f"expected a projection to read earlier fields, found {shown(source)}")
    divisors = [doc["divisor"] for doc in docs]
    if any(d is None for d in divisors) and not all(d is None for d in divisors):
        raise PmmlStructureError(label, "expected a divisor in every output of a projection or in none")
    try:
        return ir.Projection(
            tuple(ir_name[source] for source in sources),
            first["mean"],
            [doc["components"] for doc in docs],
            _outputs(group),
            None if divisors[0] is None else divisors,
            first["centring"],
        )
    except (IRValidationError, ValueError, TypeError) as exc:
        raise PmmlStructureError(label, f"expected a valid projection: {exc}") from None


def _read_projection(group: list, features: tuple, sources: list, label: str):
    raise PmmlStructureError(label, f"expected an Extension {PROJECTION!r} in every output of a projection")


class EncoderReader(NamedTuple):
    """How a kind is read: the mark its DerivedFields hold (see :func:`_mark`), and its reader."""

    mark: tuple
    read: Callable[[list, tuple, list, str], Any]


# In the order an unknown mark's error lists them: an Apply of "/", "+" or "if".
ENCODER_READERS = {
    ir.FillMissing: EncoderReader(("FieldRef", "mapMissingTo"), _read_fill),
    ir.RefuseMissing: EncoderReader(("FieldRef", None), _read_refuse),
    ir.Scale: EncoderReader(("Apply", "/"), _read_scale),
    ir.Affine: EncoderReader(("Apply", "+"), _read_affine),
    ir.MissingIndicator: EncoderReader(("Apply", "if"), _read_indicator),
    ir.CategoricalEncoding: EncoderReader(("MapValues", CODES), _read_categorical_encoding),
    ir.OneHot: EncoderReader(("MapValues", ONE_HOT), _read_one_hot),
    ir.NumberCategory: EncoderReader(("Discretize", NUMBER_CATEGORY), _read_number_category),
    ir.Binning: EncoderReader(("Discretize", BINNING), _read_binning),
    ir.IntegerCode: EncoderReader(("Apply", INTEGER_CODE), _read_integer_code),
    ir.MissingBand: EncoderReader(("Apply", MISSING_BAND), _read_missing_band),
    ir.Product: EncoderReader(("Extension", PRODUCT), _read_product),  # _read_encoders reads it apart
    ir.Projection: EncoderReader(("Extension", PROJECTION), _read_projection),  # likewise
}
_KIND_OF_MARK = {reader.mark: kind for kind, reader in ENCODER_READERS.items()}
