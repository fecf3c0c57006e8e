"""The graph builder the writer adds nodes and initializers to, and the JSON texts it stores.

Every tensor and node is named ``crossform:<count>:<hint>``: the reader finds a step by its
hint (``_nodes.node_tag``), and the count keeps names unique in the order they were made.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ._rules import INTERNAL


class Graph:
    """Nodes, initializers and the current tensor of each column."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.h = onnx.helper
        self.nodes: list = []
        self.inits: list = []
        self.count = 0
        self.errors: list = []  # bool [N, 1] tensors, or'ed into the error output
        self.prefix = ""  # put before every hint: a composite's member i writes under "m<i>."

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{INTERNAL}{self.count}:{self.prefix}{hint}"

    def const(self, hint: str, array: np.ndarray) -> str:
        name = self.name(hint)
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def text(self, hint: str, values: list) -> str:
        name = self.name(hint)
        self.inits.append(
            self.h.make_tensor(name, self.onnx.TensorProto.STRING, [len(values)], [v.encode("utf-8") for v in values])
        )
        return name

    def op(self, op_type: str, inputs: list, hint: str, domain: str = "", doc: str = "", **attrs) -> str:
        out = self.name(hint)
        node = self.h.make_node(op_type, inputs, [out], name=out, domain=domain, **attrs)
        if doc:
            node.doc_string = doc
        self.nodes.append(node)
        return out

    def split(self, tensor: str, parts: int, hint: str) -> list:
        """Split [N, parts] into ``parts`` tensors [N, 1] (one node, ``parts`` outputs)."""
        name = self.name(hint)
        outs = [f"{name}.{k}" for k in range(parts)]
        self.nodes.append(self.h.make_node("Split", [tensor], outs, name=name, axis=1, num_outputs=parts))
        return outs

    def refuse(self, mask: str) -> None:
        self.errors.append(mask)

    def refuse_rows(self, mask: str, hint: str) -> None:
        """Refuse each row of a [N, F] mask with any true entry."""
        as_int = self.op("Cast", [mask], f"{hint}.int", to=self.onnx.TensorProto.INT32)
        axis = self.const("axis1", np.array([1], dtype=np.int64))
        self.refuse(
            self.op(
                "Cast",
                [self.op("ReduceMax", [as_int, axis], f"{hint}.any", keepdims=1)],
                f"{hint}.row",
                to=self.onnx.TensorProto.BOOL,
            )
        )


def step_doc(kind: str, **fields) -> str:
    """The doc_string of a step's first node: its kind and what the reader needs that the nodes do not hold."""
    return json.dumps({"crossform": kind, **fields}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def json_text(value: Any) -> str:
    """A metadata value: compact, sorted JSON (the same bytes for the same value)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
