"""onnxruntime: score the onnx format's graph in an InferenceSession.

The feeds and the mapping of the graph's outputs back to Scores are shared
with the onnx-reference runtime (crossform.runtime.onnx_reference): only the
engine differs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ir
from ..exporters import Format
from ..rows import read_batch
from ..scores import Scores

NAME = "onnxruntime"
INSTALL = "pip install 'crossform[onnx]'"
REFUSED = (
    "onnx: row refused (an unknown category, an infinite value, a value too large for float32, "
    "or a missing value the model refuses)"
)


def unavailable():
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return f"onnxruntime is not installed: {INSTALL}"
    return None


def version() -> str:
    import onnxruntime

    return f"onnxruntime {onnxruntime.__version__}"


def signature(content: bytes) -> tuple:
    """(fields, score output name, classes, output names, numeric dtype per
    field, whether the graph reports leaves) from the model's inputs, outputs
    and metadata."""
    import json

    import onnx

    from ..exporters import onnx as fmt

    proto = onnx.ModelProto()
    proto.ParseFromString(content)
    names = [i.name for i in proto.graph.input]
    fields, reals = [], {}
    for value in proto.graph.input:
        if value.name.endswith(fmt.MISSING_SUFFIX) and value.name[: -len(fmt.MISSING_SUFFIX)] in names:
            continue
        elem = value.type.tensor_type.elem_type
        kind = ir.CATEGORICAL if elem == onnx.TensorProto.STRING else ir.NUMERIC
        fields.append(ir.Field(value.name, kind))
        # the float32 variant takes float32 inputs: values are rounded to float32 on the way in
        reals[value.name] = np.float32 if elem == onnx.TensorProto.FLOAT else np.float64
    props = {p.key: p.value for p in proto.metadata_props}
    classes = tuple(json.loads(props[fmt.CLASSES])) if fmt.CLASSES in props else None
    score = proto.graph.output[0].name
    if score == fmt.DECISION:  # a linear classifier's raw scores: one for two classes, else one per class
        width = proto.graph.output[0].type.tensor_type.shape.dim[1].dim_value
        outputs = ("decision",) if width == 1 else tuple(f"decision({c})" for c in classes)
    elif score == fmt.SCORES:  # an isolation forest's score_samples and decision_function
        outputs = ir.ISOLATION_OUTPUTS
    elif score == fmt.VOTES:  # a hard-voting composite's votes per class
        outputs = tuple(f"votes({c})" for c in classes)
    elif classes is not None:
        outputs = tuple(f"probability({c})" for c in classes)
    else:
        outputs = ("prediction",)
    has_leaves = fmt.LEAVES in {o.name for o in proto.graph.output}  # a linear model has no trees
    return tuple(fields), score, classes, outputs, reals, has_leaves


def feeds(fields: tuple, data: Any, reals: Any = None) -> tuple:
    """The graph's inputs for a batch, and the batch (its row errors: wrong types)."""
    from ..exporters.onnx import MISSING_SUFFIX

    batch = read_batch(fields, data)
    out = {}
    for f in fields:
        col = batch.columns[f.name]
        if f.kind == ir.NUMERIC:
            with np.errstate(over="ignore"):  # beyond float32 becomes inf: a row error, as in the reference
                out[f.name] = np.asarray(col, dtype=(reals or {}).get(f.name, np.float64)).reshape(-1, 1)
        else:
            missing = np.equal(col, None)
            # ONNX strings have no missing value: a placeholder, and the mask says it is missing
            out[f.name] = np.where(missing, "", col).astype(object).reshape(-1, 1)
            out[f.name + MISSING_SUFFIX] = missing.reshape(-1, 1)
    return out, batch


def scores(batch, values: np.ndarray, error: np.ndarray, leaves: Any, outputs: tuple, classes) -> Scores:
    """``leaves`` None: the model has no trees (Scores.leaves is None)."""
    errors = batch.errors.copy()
    refused = np.asarray(error, dtype=bool).reshape(-1) & np.equal(errors, None)
    errors[refused] = REFUSED
    bad = ~np.equal(errors, None)
    values = np.array(values, dtype=np.float64).reshape(len(errors), -1)
    values[bad] = np.nan
    if leaves is not None:
        leaves = np.array(leaves, dtype=np.int64)
        leaves[bad] = -1
    return Scores(values, outputs, errors.tolist(), classes, leaves)


def make_scorer(run: Callable, content: bytes) -> Callable[[Any], Scores]:
    fields, score, classes, outputs, reals, has_leaves = signature(content)
    names = [score, "error"] + (["leaves"] if has_leaves else [])

    def score_batch(data: Any) -> Scores:
        feed, batch = feeds(fields, data, reals)
        if batch.n_rows == 0:
            return Scores(
                np.zeros((0, len(outputs))),
                outputs,
                [],
                classes,
                np.zeros((0, 0), dtype=np.int64) if has_leaves else None,
            )
        values, error, *leaves = run(names, feed)
        return scores(batch, values, error, leaves[0] if has_leaves else None, outputs, classes)

    return score_batch


def session(content: bytes, threads: int = 0):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(content, options, providers=["CPUExecutionProvider"])


def prepare(content: Any, fmt: Format) -> Callable[[Any], Scores]:
    reason = unavailable()
    if reason is not None:
        from ..errors import CrossformError

        raise CrossformError(reason)
    run = session(content).run
    return make_scorer(lambda names, feed: run(names, feed), content)
