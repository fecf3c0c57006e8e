"""The onnx reader: the file parsed within its limits and audited, the metadata, the graph
inputs and encoders read back, the model by _read_models, and the whole graph rebuilt by the
writer and compared, so anything but a graph crossform writes is refused by name."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ... import ir
from ...errors import IRValidationError, LimitExceededError, UnsupportedModelError, cut, shown
from .. import _versions
from .._envelope import (
    CHECKS,
    FORMAT_VERSION,
    ID,
    METADATA,
    OWNER,
    PRODUCER,
    TAGS,
    read_checks,
    string_map,
    verify_id,
)
from .._limits import MAX_FILE_BYTES
from ._nodes import const_of, initializers, is_int, is_names, json_prop, node_doc, node_tag
from ._read_models import check_tree_count, read_model
from ._rules import (
    COLUMNS,
    FLOAT32,
    FLOAT64,
    MEMBER,
    MISSING_SUFFIX,
    NAME,
    OPS,
    OPTIONS,
    PRECISION,
    SOURCE_ID,
    TOLERANCE,
    VERSION,
    WHERE,
    OnnxCheckerError,
    OnnxDecodeError,
    OnnxExternalDataError,
    OnnxMetadataError,
    OnnxStructureError,
    load_onnx,
    needs,
    per_tree_layout,
    written_version,
)
from ._write import build

# ONNX protobuf files hold a 2 GiB message at most; crossform's own limit is the same.
MAX_BYTES = min(MAX_FILE_BYTES, 2**31 - 1)


def sniff(source: Any) -> bool:
    """A ModelProto (field 1, ir_version, comes first) whose metadata names our
    format version; the key is stored as plain text, so no parse is needed."""
    return isinstance(source, bytes) and source[:1] == b"\x08" and FORMAT_VERSION.encode("ascii") in source


def _parse(data: bytes, where: str):
    onnx = load_onnx()
    if len(data) > MAX_BYTES:
        raise LimitExceededError(where, f"expected at most {MAX_BYTES} bytes, found {len(data)}")
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError, and RuntimeWarning-free variants of it
        raise OnnxDecodeError(where, f"expected a serialized ONNX ModelProto; protobuf says: {exc}") from None
    return onnx, proto


def _props(proto, where: str) -> dict:
    props: dict = {}
    for entry in proto.metadata_props:
        if entry.key in props:
            raise OnnxMetadataError(where, f"expected each metadata key once, found {shown(entry.key)} twice")
        props[entry.key] = entry.value
    return props


def properties(source: bytes, where: str = WHERE) -> dict:
    """What ``crossform info`` shows besides the package: the precision, and
    for float32 the declared tolerance and the id of the source package."""
    _, proto = _parse(source, where)
    props = _props(proto, where)
    out = {"precision": props.get(PRECISION, FLOAT64)}
    if TOLERANCE in props:
        out["tolerance"] = json_prop(props, TOLERANCE, where)
    if SOURCE_ID in props:
        out["source id"] = props[SOURCE_ID]
    return out


def read_version(source: bytes, where: str = WHERE) -> str:
    """The format version the metadata records, read without trusting the graph."""
    _, proto = _parse(source, where)
    found = _props(proto, where).get(FORMAT_VERSION)
    _versions.parse_version(found, where)
    return found


def _tensors(proto) -> Any:
    """Every tensor a model holds: initializers, sparse initializers (values and
    indices) and attribute tensors, in the main graph, in every subgraph an
    attribute holds (If, Loop, Scan bodies) and in local functions."""
    graphs, nodes = [proto.graph], [n for f in proto.functions for n in f.node]
    while graphs or nodes:
        if graphs:
            graph = graphs.pop()
            yield from graph.initializer
            for sparse in graph.sparse_initializer:
                yield from (sparse.values, sparse.indices)
            nodes.extend(graph.node)
            continue
        for attr in nodes.pop().attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            for sparse in ([attr.sparse_tensor] if attr.HasField("sparse_tensor") else []) + list(attr.sparse_tensors):
                yield from (sparse.values, sparse.indices)
            graphs.extend(([attr.g] if attr.HasField("g") else []) + list(attr.graphs))


def _external(proto) -> Any:
    """The first tensor that keeps its data outside the file, or None."""
    onnx = load_onnx()
    for t in _tensors(proto):
        if t.data_location == onnx.TensorProto.EXTERNAL or len(t.external_data):
            return t
    return None


def _read_inputs(proto, where: str, precision: str) -> tuple:
    onnx = load_onnx()
    fields = []
    names = [i.name for i in proto.graph.input]
    real = onnx.TensorProto.FLOAT if precision == FLOAT32 else onnx.TensorProto.DOUBLE
    for value in proto.graph.input:
        elem = value.type.tensor_type.elem_type
        if value.name.endswith(MISSING_SUFFIX) and value.name[: -len(MISSING_SUFFIX)] in names:
            continue
        if elem == real:
            fields.append(ir.Field(value.name, ir.NUMERIC))
        elif elem == onnx.TensorProto.STRING:
            fields.append(ir.Field(value.name, ir.CATEGORICAL))
        else:
            raise OnnxStructureError(
                where,
                f"expected {'float' if real == onnx.TensorProto.FLOAT else 'double'} or "
                f"string graph inputs ({precision} precision), found input "
                f"{value.name!r} of type {onnx.TensorProto.DataType.Name(elem)}",
            )
    return tuple(fields)


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


ENCODER_READERS = {
    "fill-missing": _read_fill_missing,
    "standard-scaler": _read_scale,
    "label-encoder": _read_categorical_encoding,
    "affine": _read_affine,  # from 1.3
    "missing-indicator": _read_missing_indicator,  # from 1.3
    "one-hot": _read_one_hot,  # from 1.3
    "refuse-missing": _read_refuse_missing,  # from 1.3 (crossform 0.5.0)
}


def _read_encoders(proto, inits: dict, where: str) -> tuple:
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


def _checks(props: dict, where: str):
    if CHECKS not in props:
        return None
    return read_checks(props[CHECKS].encode("utf-8"), f"{where}#metadata[{CHECKS}]")


def _string_map(props: dict, key: str, where: str) -> dict:
    """The JSON object in metadata ``key`` ({} when absent): metadata and producer are maps."""
    return string_map(json_prop(props, key, where, default={}), f"metadata {key!r}", where, OnnxMetadataError)


def loads(source: bytes, where: str = WHERE) -> ir.Package:
    """The package in ``source``: parsed, audited (size, external data, onnx.checker, the ops),
    rebuilt from the graph, written again and required to be the same graph, its id verified."""
    onnx, proto = _parse(source, where)
    props = _props(proto, where)
    newer = _versions.check_version(NAME, VERSION, props.get(FORMAT_VERSION), where)
    per_tree = per_tree_layout(props[FORMAT_VERSION])
    precision = props.get(PRECISION, FLOAT64)
    if precision not in OPTIONS["precision"]:
        raise OnnxMetadataError(
            where,
            f"expected metadata {PRECISION!r} to be one of {', '.join(OPTIONS['precision'])}, found {shown(precision)}",
        )
    external = _external(proto)
    if external is not None:
        raise OnnxExternalDataError(
            where,
            f"tensor {external.name!r} keeps its data outside the file; crossform reads only self-contained models",
        )
    # before the checker, which walks every node: a per-tree file has a TreeEnsemble per tree
    check_tree_count(sum(node.op_type == "TreeEnsemble" for node in proto.graph.node), where)
    try:
        onnx.checker.check_model(proto)
    except Exception as exc:  # onnx.checker.ValidationError, and C++ errors it surfaces as others
        raise OnnxCheckerError(
            where, f"onnx.checker refuses the model: {str(exc).splitlines()[0] if str(exc) else exc}"
        ) from None
    for node in proto.graph.node:
        if (node.domain, node.op_type) not in OPS:
            raise UnsupportedModelError(
                f"{where}: op {node.domain + '.' if node.domain else ''}{node.op_type} "
                f"(node {node.name!r}) is not one crossform writes"
            )
    try:
        inits = initializers(proto)
        package = ir.Package(
            inputs=_read_inputs(proto, where, precision),
            encoders=_read_encoders(proto, inits, where),
            model=read_model(proto, inits, props, where, per_tree),
            owner=props.get(OWNER),
            tags=tuple(json_prop(props, TAGS, where, default=[])),
            metadata=_string_map(props, METADATA, where),
            producer=_string_map(props, PRODUCER, where),
            checks=_checks(props, where),
        )
    except IRValidationError as exc:
        raise OnnxStructureError(where, str(exc)) from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise OnnxStructureError(where, f"expected the graph crossform writes; {type(exc).__name__}: {exc}") from None
    recorded, expected = props[FORMAT_VERSION], written_version(precision, per_tree, package)
    if not newer and recorded != expected:
        # a writer records 1.3 exactly when the package uses a kind 1.3 added, so that
        # 0.4.0 refuses those files and still reads the rest
        uses = needs(package)
        raise OnnxStructureError(
            where,
            f"expected format version {expected} for this package "
            f"({'it uses ' + uses if uses else 'it uses nothing 1.3 added'}), "
            f"found {recorded}",
        )
    member = any(
        n.op_type == "TreeEnsemble" and any(a.name == "membership_values" for a in n.attribute)
        for n in proto.graph.node
    )
    again = build(package, precision, per_tree, sets=MEMBER if member else COLUMNS)
    if again.graph.SerializeToString(deterministic=True) != proto.graph.SerializeToString(deterministic=True):
        raise OnnxStructureError(
            where,
            f"expected the graph crossform writes for the package it describes; "
            f"the graph differs ({_first_difference(again.graph, proto.graph)})",
        )
    return verify_id(props.get(ID), package, where)


def _first_difference(ours, theirs) -> str:
    for i, (a, b) in enumerate(zip(ours.node, theirs.node)):
        if a != b:
            return f"node {i} {b.name!r} ({b.op_type})"
    if len(ours.node) != len(theirs.node):
        return f"{len(theirs.node)} nodes, expected {len(ours.node)}"
    for a, b in zip(ours.initializer, theirs.initializer):
        if a != b:
            return f"initializer {b.name!r}"
    return "inputs, outputs or initializers"
