"""onnx-reference: score the onnx format's graph with onnx.reference.ReferenceEvaluator.

onnx's own evaluator, in numpy: slow, but a second reading of the operator
specs, independent of onnxruntime. Feeds and outputs as in the onnxruntime
runtime. It cannot run every file: see ``unsupported``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..exporters import Format
from ..scores import Scores
from . import onnxruntime as ort_runtime

NAME = "onnx-reference"


def unavailable():
    try:
        import onnx.reference  # noqa: F401
    except ImportError:
        return f"onnx is not installed: {ort_runtime.INSTALL}"
    return None


# onnx 1.23.2, onnx/reference/ops/aionnxml/op_tree_ensemble.py, TreeEnsemble._run (line 179):
# ``while (set_member := next(set_membership_iter)) and not np.isnan(set_member)`` ends a set at
# a member 0.0 (falsy), and the members after it shift into the next BRANCH_MEMBER node's set.
ZERO_MEMBER = (
    "onnx's ReferenceEvaluator ends a BRANCH_MEMBER set at a member 0.0 "
    "(onnx/reference/ops/aionnxml/op_tree_ensemble.py, TreeEnsemble._run, line 179 in onnx 1.23.2: "
    "'while (set_member := next(it)) and not np.isnan(set_member)'), so it misroutes this file's "
    "set {set} (node {node} of {tree})"
)


def unsupported(content: bytes):
    """Why the ReferenceEvaluator would score this file wrongly, or None: a BRANCH_MEMBER
    set holding 0.0 (or -0.0), which the onnx format's "member" option writes."""
    import onnx

    proto = onnx.ModelProto()
    proto.ParseFromString(content)
    for node in proto.graph.node:
        if node.op_type != "TreeEnsemble":
            continue
        attrs = {a.name: a for a in node.attribute}
        if "membership_values" not in attrs:
            continue
        values = onnx.numpy_helper.to_array(attrs["membership_values"].t).reshape(-1)
        modes = onnx.numpy_helper.to_array(attrs["nodes_modes"].t).reshape(-1)
        members = np.flatnonzero(modes == 6).tolist()
        start = 0
        for k, end in enumerate(np.flatnonzero(np.isnan(values)).tolist()):
            found = values[start:end]
            if (found == 0.0).any():
                where = members[k] if k < len(members) else "?"
                return ZERO_MEMBER.format(set=found.tolist()[:8], node=where, tree=node.name)
            start = end + 1
    return None


def version() -> str:
    import onnx

    return f"onnx {onnx.__version__} ReferenceEvaluator"


def prepare(content: Any, fmt: Format) -> Callable[[Any], Scores]:
    reason = unavailable()
    if reason is not None:
        from ..errors import CrossformError

        raise CrossformError(reason)
    import onnx
    from onnx.reference import ReferenceEvaluator

    cannot = unsupported(content)
    if cannot is not None:
        from ..errors import UnsupportedModelError

        raise UnsupportedModelError(f"{NAME} cannot run this file: {cannot}")
    proto = onnx.ModelProto()
    proto.ParseFromString(content)
    evaluator = ReferenceEvaluator(proto)

    def run(names, feed):
        # numpy warns when Cast meets a value beyond float32; those rows are row errors already
        with np.errstate(over="ignore", invalid="ignore"):
            return evaluator.run(names, feed)

    return ort_runtime.make_scorer(run, content)
