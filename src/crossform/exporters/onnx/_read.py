"""The onnx reader: the file parsed within its limits and audited, the metadata and the graph
inputs read back, the encoders by _encoders, the model by _read_models, and the whole graph
rebuilt by the writer and compared, so anything but a graph crossform writes is refused by name."""

from __future__ import annotations

from typing import Any

from ... import ir
from ...errors import IRValidationError, LimitExceededError, UnsupportedModelError, shown
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
from ._encoders import read_encoders
from ._nodes import initializers, json_prop
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
    PER_TREE_VERSION,
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
            encoders=read_encoders(proto, inits, where),
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
        # a writer records 1.3 (1.4) exactly when the package uses a kind 1.3 (1.4) added, so that
        # older releases refuse those files and still read the rest
        uses = needs(package)
        raise OnnxStructureError(
            where,
            f"expected format version {expected} for this package "
            f"({'it uses ' + uses if uses else 'it uses nothing added after ' + PER_TREE_VERSION}), "
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
