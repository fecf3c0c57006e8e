"""What the onnx reader reads off a parsed graph: nodes by their tag, the step a node's
doc_string describes, initializers, attributes and metadata values, each refused by name
when it is not what the writer puts there."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ...errors import cut, shown
from .._envelope import CLASSES
from ._rules import INTERNAL, OnnxMetadataError, OnnxStructureError, load_onnx


def json_prop(props: dict, key: str, where: str, default: Any = None) -> Any:
    """The JSON value of metadata ``key``; ``default`` when it is absent and a default is given."""
    if key not in props:
        if default is not None:
            return default
        raise OnnxMetadataError(where, f"expected metadata key {key!r}, found none")
    try:
        return json.loads(props[key])
    except ValueError as exc:
        raise OnnxMetadataError(where, f"expected JSON in metadata {key!r}; {exc}") from None


def node_doc(node, where: str) -> dict:
    """The step a node's doc_string describes (see _graph.step_doc)."""
    try:
        doc = json.loads(node.doc_string)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or "crossform" not in doc:
        raise OnnxStructureError(
            where, f"expected node {node.name!r} to describe its step in doc_string, found {shown(node.doc_string)}"
        )
    return doc


def initializers(proto) -> dict:
    onnx = load_onnx()
    return {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}


def attributes(node) -> dict:
    onnx = load_onnx()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def const_of(node, k: int, inits: dict, where: str) -> np.ndarray:
    """The initializer that is input ``k`` of ``node``."""
    if k >= len(node.input) or node.input[k] not in inits:
        raise OnnxStructureError(where, f"expected input {k} of node {node.name!r} to be an initializer")
    return inits[node.input[k]]


def node_tag(node) -> str:
    """The hint part of a node name: 'crossform:12:e0.1.filled' -> 'e0.1.filled'."""
    return node.name.split(":", 2)[-1] if node.name.startswith(INTERNAL) else node.name


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def const_of_name(inits: dict, hint: str, where: str) -> np.ndarray:
    """The initializer named ``crossform:<count>:<hint>``."""
    for name, value in inits.items():
        if name.startswith(INTERNAL) and name.split(":", 2)[-1] == hint:
            return value
    raise OnnxStructureError(where, f"expected an initializer {hint!r}, found none")


def scalar_of_name(inits: dict, hint: str, where: str) -> float:
    value = const_of_name(inits, hint, where)
    if value.dtype != np.float64 or value.size != 1:
        raise OnnxStructureError(
            where, f"expected initializer {hint!r} to be one double, found {value.dtype} of shape {list(value.shape)}"
        )
    return float(value.reshape(-1)[0])


def read_classes(props: dict, where: str):
    """The class labels the metadata records, or None for a regressor."""
    classes = json_prop(props, CLASSES, where) if CLASSES in props else None
    if classes is not None and not isinstance(classes, list):
        raise OnnxMetadataError(where, f"expected a JSON list in metadata {CLASSES!r}, found {type(classes).__name__}")
    return tuple(classes) if classes is not None else None


def doc_choice(doc: dict, key: str, choices: tuple, default: str, where: str) -> str:
    """doc[key], one of ``choices``; absent means ``default`` (the writer leaves defaults out)."""
    value = doc.get(key, default)
    if value not in choices or (key in doc and value == default):
        raise OnnxStructureError(
            where,
            f"expected the model's {key!r} rule to be one of {', '.join(choices)} "
            f"(absent for {default!r}), found {cut(json.dumps(doc.get(key)))}",
        )
    return value
