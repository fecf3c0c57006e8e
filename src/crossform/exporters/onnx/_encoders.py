"""The onnx encoders, both directions: the nodes each kind is written as (``ENCODERS``, which
build calls per encoder) and the reader that rebuilds the kind from them (``ENCODER_READERS``,
which read_encoders calls per encoder). A new encoder kind touches only this module in onnx."""

from __future__ import annotations

import json

import numpy as np

from ... import ir, rules
from ...errors import cut, shown
from ._graph import Graph, step_doc
from ._nodes import const_of, is_int, is_names, node_doc, node_tag
from ._rules import OnnxStructureError


def _fill_missing(g: Graph, enc: ir.FillMissing, cols: dict, index: int) -> None:
    doc = step_doc(
        "fill-missing",
        features=list(enc.features),
        outputs=list(enc.outputs),
        values=[v if isinstance(v, str) else None for v in enc.values],
    )
    new = {}
    for j, (name, value) in enumerate(zip(enc.features, enc.values)):
        tag = f"e{index}.{j}"
        if isinstance(value, str):
            text, missing = cols[name]
            fill = g.text(f"{tag}.fill", [value])
            filled = g.op("Where", [missing, fill, text], f"{tag}.filled", doc=doc if j == 0 else "")
            never = g.op("And", [missing, g.op("Not", [missing], f"{tag}.present")], f"{tag}.never")
            new[enc.outputs[j]] = (filled, never)
        else:
            x = cols[name]
            g.refuse(g.op("IsInf", [x], f"{tag}.inf", doc=doc if j == 0 else ""))
            fill = g.const(f"{tag}.fill", np.array([value], dtype=np.float64))
            new[enc.outputs[j]] = g.op("Where", [g.op("IsNaN", [x], f"{tag}.nan"), fill, x], f"{tag}.filled")
    cols.update(new)


def _category_lookup(g: Graph, tag: str, step: str, column: tuple, categories: tuple, values, default: int, doc: str):
    """<tag>.<step>: a string column's category mapped to ``values`` by LabelEncoder, anything
    else (unknown, or the placeholder of a missing value) to ``default``; without categories,
    ``default`` for every row (a Where on the mask keeps the row count)."""
    text, missing = column
    if categories:
        return g.op(
            "LabelEncoder",
            [text],
            f"{tag}.{step}",
            domain="ai.onnx.ml",
            doc=doc,
            keys_strings=list(categories),
            values_int64s=list(values),
            default_int64=default,
        )
    none = g.const(f"{tag}.none", np.array([default], dtype=np.int64))
    return g.op("Where", [missing, none, none], f"{tag}.{step}", doc=doc)


def _unknown_rows(g: Graph, tag: str, looked_up: str, lowest: int, hint: str, missing: str, missing_has_value: bool):
    """The rows whose category is unknown: looked up below ``lowest`` (LabelEncoder's default),
    or missing unless a missing value has a value of its own (``missing_has_value``)."""
    found = g.op(
        "GreaterOrEqual", [looked_up, g.const(f"{tag}.{hint}", np.array([lowest], dtype=np.int64))], f"{tag}.found"
    )
    present = g.op("Not", [missing], f"{tag}.present")
    unknown = g.op("Not", [g.op("And", [found, present], f"{tag}.known")], f"{tag}.unknown")
    if missing_has_value:
        unknown = g.op("And", [unknown, present], f"{tag}.unknown.present")
    return unknown


def _categorical_encoding(g: Graph, enc: ir.CategoricalEncoding, cols: dict, index: int) -> None:
    doc = step_doc(
        "label-encoder",
        features=list(enc.features),
        outputs=list(enc.outputs),
        categories=[list(c) for c in enc.categories],
        missing=[m is not None for m in enc.missing_codes],
        unknown=enc.unknown_code is not None,
    )
    new = {}
    for j, (name, categories, codes, missing_code) in enumerate(
        zip(enc.features, enc.categories, enc.codes, enc.missing_codes)
    ):
        tag = f"e{index}.{j}"
        missing = cols[name][1]  # the string column itself goes to the lookup
        first = doc if j == 0 else ""
        position = _category_lookup(g, tag, "position", cols[name], categories, range(len(categories)), -1, first)
        # position -1 (unknown) reads the last entry: the unknown code (NaN when unknown is an error)
        fallback = np.nan if enc.unknown_code is None else enc.unknown_code
        table = g.const(f"{tag}.codes", np.append(np.asarray(codes, dtype=np.float64), fallback))
        code = g.op("Gather", [table, position], f"{tag}.code", axis=0)
        unknown = _unknown_rows(g, tag, position, 0, "zero", missing, missing_code is not None)
        if enc.unknown_code is None:
            g.refuse(unknown)
        else:
            code = g.op(
                "Where", [unknown, g.const(f"{tag}.unknown.code", np.array([enc.unknown_code])), code], f"{tag}.coded"
            )
        if missing_code is not None:
            code = g.op(
                "Where",
                [missing, g.const(f"{tag}.missing.code", np.array([missing_code])), code],
                f"{tag}.coded.missing",
            )
        new[enc.outputs[j]] = code
    cols.update(new)


def _numeric_steps(g: Graph, enc: ir.Encoder, cols: dict, index: int, doc: str, steps: tuple) -> None:
    """Per feature j: +-inf refused (as the reference does in every numeric encoder), then each
    (op, constant name, constants, step name) of ``steps`` applied in turn with constant j."""
    new = {}
    for j, name in enumerate(enc.features):
        tag = f"e{index}.{j}"
        x = cols[name]
        g.refuse(g.op("IsInf", [x], f"{tag}.inf", doc=doc if j == 0 else ""))
        for op, constant, values, step in steps:
            x = g.op(op, [x, g.const(f"{tag}.{constant}", np.array([values[j]]))], f"{tag}.{step}")
        new[enc.outputs[j]] = x
    cols.update(new)


def _scale(g: Graph, enc: ir.Scale, cols: dict, index: int) -> None:
    doc = step_doc("standard-scaler", features=list(enc.features), outputs=list(enc.outputs))
    _numeric_steps(
        g, enc, cols, index, doc, (("Sub", "offset", enc.offset, "shifted"), ("Div", "scale", enc.scale, "scaled"))
    )


def _affine(g: Graph, enc: ir.Affine, cols: dict, index: int) -> None:
    # two roundings, multiply first, as the reference (and MinMaxScaler): no fused multiply-add
    doc = step_doc("affine", features=list(enc.features), outputs=list(enc.outputs))
    _numeric_steps(
        g, enc, cols, index, doc, (("Mul", "scale", enc.scale, "scaled"), ("Add", "offset", enc.offset, "affine"))
    )


def _missing_indicator(g: Graph, enc: ir.MissingIndicator, cols: dict, index: int) -> None:
    doc = step_doc(
        "missing-indicator", features=list(enc.features), outputs=list(enc.outputs), kinds=list(enc.kinds_in)
    )
    new = {}
    for j, (name, kind) in enumerate(zip(enc.features, enc.kinds_in)):
        tag = f"e{index}.{j}"
        first = doc if j == 0 else ""
        if kind == ir.NUMERIC:
            x = cols[name]
            g.refuse(g.op("IsInf", [x], f"{tag}.inf", doc=first))
            missing = g.op("IsNaN", [x], f"{tag}.nan")
        else:
            missing = cols[name][1]
        new[enc.outputs[j]] = g.op(
            "Cast", [missing], f"{tag}.indicator", doc=first if kind != ir.NUMERIC else "", to=g.onnx.TensorProto.DOUBLE
        )
    cols.update(new)


def _refuse_missing(g: Graph, enc: ir.RefuseMissing, cols: dict, index: int) -> None:
    """Per feature: a numeric NaN or +-inf (IsInf, IsNaN) or a categorical mask (Identity) is a
    row error; the column itself passes unchanged. A numeric column under a new name is an
    Identity of its own (e<i>.<j>.value), so the model's Concat names the column it reads."""
    doc = step_doc("refuse-missing", features=list(enc.features), outputs=list(enc.outputs), kinds=list(enc.kinds_in))
    new = {}
    for j, (name, kind) in enumerate(zip(enc.features, enc.kinds_in)):
        tag = f"e{index}.{j}"
        first = doc if j == 0 else ""
        if kind == ir.NUMERIC:
            x = cols[name]
            g.refuse(g.op("IsInf", [x], f"{tag}.inf", doc=first))
            g.refuse(g.op("IsNaN", [x], f"{tag}.nan"))
            new[enc.outputs[j]] = x if enc.outputs[j] == name else g.op("Identity", [x], f"{tag}.value")
        else:
            g.refuse(g.op("Identity", [cols[name][1]], f"{tag}.missing", doc=first))
            new[enc.outputs[j]] = cols[name]
    cols.update(new)


NO_COLUMN, UNKNOWN_COLUMN = -1, -2  # a dropped category's column; what LabelEncoder gives an unknown one


def _one_hot(g: Graph, enc: ir.OneHot, cols: dict, index: int) -> None:
    """Per feature: LabelEncoder(category -> its column, unknown -> -2), Where for missing
    and unknown values, then Equal against 0..width-1: exactly one 1.0 where a column is
    set, none for -1 (dropped) or an unknown under "zeros"."""
    doc = step_doc(
        "one-hot",
        features=list(enc.features),
        outputs=list(enc.outputs),
        categories=[list(c) for c in enc.categories],
        columns=[c.tolist() for c in enc.columns],
        widths=list(enc.widths),
        missing=list(enc.missing_columns),
        unknown=list(enc.unknown),
    )
    new = {}
    for j, (name, categories, columns, width, missing_column, unknown, block) in enumerate(
        zip(enc.features, enc.categories, enc.columns, enc.widths, enc.missing_columns, enc.unknown, enc.blocks())
    ):
        tag = f"e{index}.{j}"
        missing = cols[name][1]  # the string column itself goes to the lookup
        first = doc if j == 0 else ""
        column = _category_lookup(g, tag, "column", cols[name], categories, columns.tolist(), UNKNOWN_COLUMN, first)
        unknown_rows = _unknown_rows(g, tag, column, NO_COLUMN, "dropped", missing, missing_column is not None)
        if unknown == "error":
            g.refuse(unknown_rows)
        else:
            # a missing value's placeholder "" may be a known category: never trust its column
            target = NO_COLUMN if unknown == "zeros" else unknown
            column = g.op(
                "Where",
                [unknown_rows, g.const(f"{tag}.unknown.column", np.array([target], dtype=np.int64)), column],
                f"{tag}.column.unknown",
            )
        if missing_column is not None:
            column = g.op(
                "Where",
                [missing, g.const(f"{tag}.missing.column", np.array([missing_column], dtype=np.int64)), column],
                f"{tag}.column.missing",
            )
        if width == 0:
            continue
        hot = g.op("Equal", [column, g.const(f"{tag}.columns", np.arange(width, dtype=np.int64))], f"{tag}.hot")
        indicators = g.op("Cast", [hot], f"{tag}.indicators", to=g.onnx.TensorProto.DOUBLE)
        parts = [indicators] if width == 1 else g.split(indicators, width, f"{tag}.split")
        new.update(zip(block, parts))
    cols.update(new)


def _number_category(g: Graph, enc: ir.NumberCategory, cols: dict, index: int) -> None:
    """Per feature: +-inf refused; Equal against the known numbers ([N, K]), each match weighted
    by its position + 1 and summed (ReduceSum), minus one: the category's position, or -1 for
    none, which Gather reads as the table's last entry, the unknown name. NaN equals nothing, so
    a missing value reads the unknown name too; the column's missing mask (IsNaN) says it is
    missing, as a categorical input's does."""
    doc = step_doc(
        "number-category",
        features=list(enc.features),
        outputs=list(enc.outputs),
        values=[v.tolist() for v in enc.values],
        categories=[list(c) for c in enc.categories],
        unknown=enc.unknown,
    )
    new = {}
    for j, (name, values, categories) in enumerate(zip(enc.features, enc.values, enc.categories)):
        tag = f"e{index}.{j}"
        x = cols[name]
        g.refuse(g.op("IsInf", [x], f"{tag}.inf", doc=doc if j == 0 else ""))
        missing = g.op("IsNaN", [x], f"{tag}.nan")
        table = g.text(f"{tag}.names", [*categories, enc.unknown])
        if len(values):
            equal = g.op("Equal", [x, g.const(f"{tag}.values", np.asarray(values, dtype=np.float64))], f"{tag}.equal")
            weighted = g.op(
                "Mul",
                [
                    g.op("Cast", [equal], f"{tag}.match", to=g.onnx.TensorProto.INT64),
                    g.const(f"{tag}.weights", np.arange(1, len(values) + 1, dtype=np.int64)),
                ],
                f"{tag}.weighted",
            )
            axis = g.const(f"{tag}.axis", np.array([1], dtype=np.int64))
            found = g.op("ReduceSum", [weighted, axis], f"{tag}.found", keepdims=1)
            at = g.op("Sub", [found, g.const(f"{tag}.one", np.array([1], dtype=np.int64))], f"{tag}.position")
        else:
            none = g.const(f"{tag}.none", np.array([-1], dtype=np.int64))
            at = g.op("Where", [missing, none, none], f"{tag}.position")
        text = g.op("Gather", [table, at], f"{tag}.name", axis=0)
        new[enc.outputs[j]] = (text, missing)  # [K + 1] gathered at [N, 1]: [N, 1]
    cols.update(new)


def _binning(g: Graph, enc: ir.Binning, cols: dict, index: int) -> None:
    """Per feature: NaN and +-inf refused; GreaterOrEqual(x, edges) [N, K], Cast to double,
    ReduceSum(axis 1): how many edges are at most x, a whole number held exactly."""
    doc = step_doc(
        "binning", features=list(enc.features), outputs=list(enc.outputs), edges=[e.tolist() for e in enc.edges]
    )
    new = {}
    for j, (name, edges) in enumerate(zip(enc.features, enc.edges)):
        tag = f"e{index}.{j}"
        x = cols[name]
        g.refuse(g.op("IsInf", [x], f"{tag}.inf", doc=doc if j == 0 else ""))
        nan = g.op("IsNaN", [x], f"{tag}.nan")
        g.refuse(nan)
        if len(edges):
            above = g.op(
                "GreaterOrEqual", [x, g.const(f"{tag}.edges", np.asarray(edges, dtype=np.float64))], f"{tag}.above"
            )
            counted = g.op("Cast", [above], f"{tag}.counted", to=g.onnx.TensorProto.DOUBLE)
            axis = g.const(f"{tag}.axis", np.array([1], dtype=np.int64))
            new[enc.outputs[j]] = g.op("ReduceSum", [counted, axis], f"{tag}.bin", keepdims=1)
        else:
            zero = g.const(f"{tag}.zero", np.array([0.0]))
            new[enc.outputs[j]] = g.op("Where", [nan, zero, zero], f"{tag}.bin")  # one bin: 0.0 for every row
    cols.update(new)


def _product(g: Graph, enc: ir.Product, cols: dict, index: int) -> None:
    """Per feature: NaN and +-inf refused (e<i>.<j>.inf, .nan). Per output k: a chain of Mul
    nodes in the order of its factors (e<i>.<k>.product.<m>: the product of the first m + 2;
    the model's reader names a column by the k of its tag), so
    every runtime multiplies the same doubles in the same order; one factor is an Identity, none
    a Where on feature 0's NaN mask choosing 1.0 either way (a column of 1.0 for every row)."""
    doc = step_doc(
        "product", features=list(enc.features), outputs=list(enc.outputs), factors=[list(t) for t in enc.factors]
    )
    nans = []
    for j, name in enumerate(enc.features):
        tag = f"e{index}.{j}"
        g.refuse(g.op("IsInf", [cols[name]], f"{tag}.inf", doc=doc if j == 0 else ""))
        nans.append(g.op("IsNaN", [cols[name]], f"{tag}.nan"))
        g.refuse(nans[-1])
    new = {}
    for k, (out, term) in enumerate(zip(enc.outputs, enc.factors)):
        tag = f"e{index}.{k}.product"
        if not term:
            one = g.const(f"{tag}.one", np.array([1.0]))
            new[out] = g.op("Where", [nans[0], one, one], f"{tag}.0")
            continue
        value = g.op("Identity", [cols[enc.features[term[0]]]], f"{tag}.0") if len(term) == 1 else None
        for m, i in enumerate(term[1:]):
            left = cols[enc.features[term[0]]] if m == 0 else value
            value = g.op("Mul", [left, cols[enc.features[i]]], f"{tag}.{m}")
        new[out] = value
    cols.update(new)


def _integer_code(g: Graph, enc: ir.IntegerCode, cols: dict, index: int) -> None:
    """Per feature: Where(-1 < x < 2^31, Floor(Max(x, 0)), NaN): trunc(x) on that range (Floor of
    x >= 0, and 0 for -1 < x < 0), NaN elsewhere; both comparisons are false for NaN. No refusal."""
    doc = step_doc("integer-code", features=list(enc.features), outputs=list(enc.outputs))
    new = {}
    for j, name in enumerate(enc.features):
        tag = f"e{index}.{j}"
        x = cols[name]
        low = g.op("Greater", [x, g.const("minus_one", np.array([-1.0]))], f"{tag}.above", doc=doc if j == 0 else "")
        high = g.op("Less", [x, g.const("int_end", np.array([2.0**31]))], f"{tag}.below")
        inside = g.op("And", [low, high], f"{tag}.inside")
        floor = g.op("Floor", [g.op("Max", [x, g.const("zero", np.array([0.0]))], f"{tag}.positive")], f"{tag}.floor")
        new[enc.outputs[j]] = g.op("Where", [inside, floor, g.const("nan", np.array([np.nan]))], f"{tag}.code")
    cols.update(new)


def _missing_band(g: Graph, enc: ir.MissingBand, cols: dict, index: int) -> None:
    """Per feature: Where(And(GreaterOrEqual(x, low), GreaterOrEqual(high, x)), NaN, x); both
    comparisons are false for NaN, which passes as NaN. No row error."""
    doc = step_doc(
        "missing-band",
        features=list(enc.features),
        outputs=list(enc.outputs),
        low=enc.low.tolist(),
        high=enc.high.tolist(),
    )
    new = {}
    for j, name in enumerate(enc.features):
        tag = f"e{index}.{j}"
        x = cols[name]
        low = g.op(
            "GreaterOrEqual",
            [x, g.const(f"{tag}.low", np.array([enc.low[j]]))],
            f"{tag}.low",
            doc=doc if j == 0 else "",
        )
        high = g.op("GreaterOrEqual", [g.const(f"{tag}.high", np.array([enc.high[j]])), x], f"{tag}.high")
        band = g.op("And", [low, high], f"{tag}.band")
        new[enc.outputs[j]] = g.op("Where", [band, g.const("nan", np.array([np.nan])), x], f"{tag}.value")
    cols.update(new)


def _projection(g: Graph, enc: ir.Projection, cols: dict, index: int) -> None:
    """Per feature j: NaN and +-inf refused (e<i>.<j>.inf, .nan); centring before: Sub of the
    mean (e<i>.<j>.centred); Mul by the components' column j as a [1, K] initializer
    (e<i>.<j>.term: K products, each one IEEE multiplication); from feature 1 on, Add to the sum
    of the terms before (e<i>.<j>.sum): a left fold in feature order, elementwise, never
    MatMul or Gemm, whose kernels reorder the sums. Centring after: Sub of the per-component
    fold of mean * components (e<i>.0.projected, computed by the rule's own fold); divisors: Div
    (e<i>.0.whitened); then a Split into the K columns (e<i>.0.split: output k is column k).
    The mean and centring travel in the doc_string; the rebuilt graph must match the file."""
    doc = step_doc("projection", features=list(enc.features), outputs=list(enc.outputs), centring=enc.centring)
    doc = doc[:-1] + ',"mean":' + json.dumps(enc.mean.tolist()) + "}"
    before = enc.centring == "before"
    total = None
    for j, name in enumerate(enc.features):
        tag = f"e{index}.{j}"
        x = cols[name]
        g.refuse(g.op("IsInf", [x], f"{tag}.inf", doc=doc if j == 0 else ""))
        g.refuse(g.op("IsNaN", [x], f"{tag}.nan"))
        if before:
            x = g.op("Sub", [x, g.const(f"{tag}.mean", enc.mean[j : j + 1].copy())], f"{tag}.centred")
        column = np.ascontiguousarray(enc.components[:, j]).reshape(1, -1)
        term = g.op("Mul", [x, g.const(f"{tag}.component", column)], f"{tag}.term")
        total = term if total is None else g.op("Add", [total, term], f"{tag}.sum")
    tag = f"e{index}.0"
    if not before:
        offsets = rules.projection_offsets(enc).reshape(1, -1)
        total = g.op("Sub", [total, g.const(f"{tag}.offsets", offsets)], f"{tag}.projected")
    if enc.divisors is not None:
        divisors = np.ascontiguousarray(enc.divisors).reshape(1, -1)
        total = g.op("Div", [total, g.const(f"{tag}.divisors", divisors)], f"{tag}.whitened")
    cols.update(zip(enc.outputs, g.split(total, len(enc.outputs), f"{tag}.split")))


ENCODERS = {
    ir.FillMissing: _fill_missing,
    ir.CategoricalEncoding: _categorical_encoding,
    ir.Scale: _scale,
    ir.Affine: _affine,
    ir.MissingIndicator: _missing_indicator,
    ir.OneHot: _one_hot,
    ir.RefuseMissing: _refuse_missing,
    ir.NumberCategory: _number_category,
    ir.Binning: _binning,
    ir.Product: _product,
    ir.IntegerCode: _integer_code,
    ir.MissingBand: _missing_band,
    ir.Projection: _projection,
}


class _EncoderNodes:
    """The nodes of encoder ``index`` (tagged e<index>.<feature>.<step>), for its reader."""

    def __init__(self, by_tag: dict, index: int, kind: str, inits: dict, where: str):
        self.by_tag, self.index, self.kind, self.inits, self.where = by_tag, index, kind, inits, where

    def node(self, j: int, part: str):
        found = self.by_tag.get(f"e{self.index}.{j}.{part}")
        if found is None:
            raise OnnxStructureError(
                self.where, f"expected a node e{self.index}.{j}.{part} for encoder {self.index}, found none"
            )
        return found

    def number(self, j: int, part: str, k: int = 1) -> float:
        """The one number initializer ``k`` of node e<index>.<j>.<part> holds."""
        node = self.node(j, part)
        value = const_of(node, k, self.inits, self.where)
        if value.size != 1 or value.dtype.kind != "f":
            raise OnnxStructureError(
                self.where,
                f"expected input {k} of node {node.name!r} to be one float, "
                f"found {value.dtype} of shape {list(value.shape)}",
            )
        return float(value.reshape(-1)[0])

    def entries(self, doc: dict, key: str, n: int, what: str, ok) -> list:
        """doc[key]: a list of ``n`` entries each passing ``ok`` (``what`` says what they must be)."""
        value = doc.get(key)
        if not isinstance(value, list) or len(value) != n or not all(ok(v) for v in value):
            found = cut(json.dumps(value)) if value is not None else "none"
            raise OnnxStructureError(
                self.where,
                f"expected doc_string key {key!r} of encoder {self.index} "
                f"({self.kind}) to be a list of {n} {what}, found {found}",
            )
        return value


def _read_fill_missing(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    n = len(features)
    texts = doc.get("values", [None] * n)
    values = []
    for j in range(n):
        if j < len(texts) and isinstance(texts[j], str):
            values.append(texts[j])
        else:
            values.append(nodes.number(j, "filled"))
    return ir.FillMissing(features, tuple(values), outputs)


def _read_scale(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    offset = [nodes.number(j, "shifted") for j in range(len(features))]
    scale = [nodes.number(j, "scaled") for j in range(len(features))]
    return ir.Scale(features, offset, scale, outputs)


def _read_categorical_encoding(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    n = len(features)
    categories = doc.get("categories", [])
    has_missing = doc.get("missing", [])
    codes, missing = [], []
    for j in range(n):
        table = const_of(nodes.node(j, "code"), 0, nodes.inits, nodes.where).astype(np.float64)
        codes.append(table[:-1])
        missing.append(nodes.number(j, "coded.missing") if j < len(has_missing) and has_missing[j] else None)
    unknown = None
    if doc.get("unknown"):
        unknown = nodes.number(0, "coded") if n else 0.0
    return ir.CategoricalEncoding(
        features, tuple(tuple(c) for c in categories), tuple(codes), tuple(missing), unknown, outputs
    )


def _read_affine(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    scale = [nodes.number(j, "scaled") for j in range(len(features))]
    offset = [nodes.number(j, "affine") for j in range(len(features))]
    return ir.Affine(features, scale, offset, outputs)


def _read_missing_indicator(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    kinds = nodes.entries(doc, "kinds", len(features), f"kinds ({', '.join(ir.KINDS)})", lambda k: k in ir.KINDS)
    return ir.MissingIndicator(features, tuple(kinds), outputs)


def _read_refuse_missing(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    kinds = nodes.entries(doc, "kinds", len(features), f"kinds ({', '.join(ir.KINDS)})", lambda k: k in ir.KINDS)
    return ir.RefuseMissing(features, tuple(kinds), outputs)


def _read_one_hot(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    """Everything is in the doc_string; the rebuilt graph must then match the file's nodes."""
    n = len(features)
    categories = nodes.entries(doc, "categories", n, "lists of category strings", is_names)
    columns = nodes.entries(
        doc, "columns", n, "lists of column indices", lambda c: isinstance(c, list) and all(is_int(v) for v in c)
    )
    widths = nodes.entries(doc, "widths", n, "column counts", lambda w: is_int(w) and w >= 0)
    missing = nodes.entries(doc, "missing", n, "column indices or null", lambda m: m is None or is_int(m))
    unknown = nodes.entries(
        doc,
        "unknown",
        n,
        f"column indices or one of {', '.join(ir.UNKNOWN_POLICIES)}",
        lambda u: is_int(u) or u in ir.UNKNOWN_POLICIES,
    )
    return ir.OneHot(
        features, tuple(map(tuple, categories)), tuple(columns), tuple(widths), tuple(missing), tuple(unknown), outputs
    )


def _read_number_category(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    """Everything is in the doc_string; the rebuilt graph must then match the file's nodes."""
    n = len(features)
    values = nodes.entries(
        doc,
        "values",
        n,
        "lists of numbers",
        lambda v: isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v),
    )
    categories = nodes.entries(doc, "categories", n, "lists of category strings", is_names)
    unknown = doc.get("unknown")
    if not isinstance(unknown, str):
        raise OnnxStructureError(
            nodes.where,
            f"expected doc_string key 'unknown' of encoder {nodes.index} (number-category) to be a string, "
            f"found {shown(unknown)}",
        )
    return ir.NumberCategory(features, tuple(values), tuple(map(tuple, categories)), unknown, outputs)


def _read_binning(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    """Everything is in the doc_string; the rebuilt graph must then match the file's nodes."""
    edges = nodes.entries(
        doc,
        "edges",
        len(features),
        "lists of numbers",
        lambda v: isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v),
    )
    return ir.Binning(features, tuple(edges), outputs)


def _read_product(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    """Everything is in the doc_string; the rebuilt graph must then match the file's nodes."""
    factors = nodes.entries(
        doc,
        "factors",
        len(outputs),
        "lists of feature indices",
        lambda t: isinstance(t, list) and all(is_int(i) for i in t),
    )
    return ir.Product(features, tuple(map(tuple, factors)), outputs)


def _read_integer_code(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    """No parameters; the rebuilt graph must then match the file's nodes."""
    return ir.IntegerCode(features, outputs)


def _read_missing_band(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    """The band's ends from the comparisons' constants; the rebuilt graph must then match the file."""
    low = [nodes.number(j, "low") for j in range(len(features))]
    high = [nodes.number(j, "high", k=0) for j in range(len(features))]
    return ir.MissingBand(features, low, high, outputs)


def _read_projection(nodes: _EncoderNodes, doc: dict, features: tuple, outputs: tuple):
    """The mean and centring from the doc_string, the components from the Mul initializers and
    the divisors from the Div's; the rebuilt graph must then match the file's nodes."""
    n, k = len(features), len(outputs)
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
    mean = nodes.entries(doc, "mean", n, "numbers", number)
    centring = doc.get("centring")
    if centring not in ir.CENTRINGS:
        raise OnnxStructureError(
            nodes.where,
            f"expected doc_string key 'centring' of encoder {nodes.index} to be one of {ir.CENTRINGS}, found {shown(centring)}",
        )
    components = np.empty((k, n))
    for j in range(n):
        column = const_of(nodes.node(j, "term"), 1, nodes.inits, nodes.where)
        if column.shape != (1, k) or column.dtype != np.float64:
            raise OnnxStructureError(
                nodes.where,
                f"expected the components of feature {j} of encoder {nodes.index} to be doubles of shape [1, {k}], "
                f"found {column.dtype} of shape {list(column.shape)}",
            )
        components[:, j] = column[0]
    divisors = None
    if f"e{nodes.index}.0.whitened" in nodes.by_tag:
        divisors = const_of(nodes.node(0, "whitened"), 1, nodes.inits, nodes.where)
        if divisors.shape != (1, k) or divisors.dtype != np.float64:
            raise OnnxStructureError(
                nodes.where,
                f"expected the divisors of encoder {nodes.index} to be doubles of shape [1, {k}], "
                f"found {divisors.dtype} of shape {list(divisors.shape)}",
            )
        divisors = divisors[0]
    return ir.Projection(features, mean, components, outputs, divisors, centring)


ENCODER_READERS = {
    "fill-missing": _read_fill_missing,
    "standard-scaler": _read_scale,
    "label-encoder": _read_categorical_encoding,
    "affine": _read_affine,  # from 1.3
    "missing-indicator": _read_missing_indicator,  # from 1.3
    "one-hot": _read_one_hot,  # from 1.3
    "refuse-missing": _read_refuse_missing,  # from 1.3 (crossform 0.5.0)
    "number-category": _read_number_category,  # from 1.4
    "binning": _read_binning,  # from 1.4
    "product": _read_product,  # from 1.4
    "integer-code": _read_integer_code,  # from 1.4
    "missing-band": _read_missing_band,  # from 1.4
    "projection": _read_projection,  # from 1.4
}


def read_encoders(proto, inits: dict, where: str) -> tuple:
    encoders = []
    by_tag = {node_tag(n): n for n in proto.graph.node}
    index = 0
    while True:
        first = [n for n in proto.graph.node if node_tag(n).startswith(f"e{index}.0.") and n.doc_string]
        if not first:
            return tuple(encoders)
        doc = node_doc(first[0], where)
        kind = doc["crossform"]
        reader = ENCODER_READERS.get(kind) if isinstance(kind, str) else None
        if reader is None:
            raise OnnxStructureError(where, f"expected an encoder kind crossform writes, found {shown(kind)}")
        nodes = _EncoderNodes(by_tag, index, kind, inits, where)
        features = tuple(
            nodes.entries(
                doc, "features", len(doc.get("features") or ()), "feature names", lambda f: isinstance(f, str)
            )
        )
        outputs = doc.get("outputs", [])
        if not is_names(outputs):
            raise OnnxStructureError(
                where,
                f"expected doc_string key 'outputs' of encoder {index} ({kind}) to be "
                f"a list of names, found {cut(json.dumps(outputs))}",
            )
        encoders.append(reader(nodes, doc, features, tuple(outputs)))
        index += 1
