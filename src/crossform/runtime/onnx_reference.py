"""onnx-reference: score the onnx format's graph with onnx.reference.ReferenceEvaluator.

onnx's own evaluator, in numpy: slow, but a second reading of the operator
specs, independent of onnxruntime. Feeds and outputs as in the onnxruntime
runtime.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

import numpy as np

from ..reference import Scores
from . import onnxruntime as ort_runtime

NAME = "onnx-reference"


def unavailable():
    try:
        import onnx.reference  # noqa: F401
    except ImportError:
        return f"onnx is not installed: {ort_runtime.INSTALL}"
    return None


def version() -> str:
    import onnx

    return f"onnx {onnx.__version__} ReferenceEvaluator"


def prepare(content: Any, fmt: ModuleType) -> Callable[[Any], Scores]:
    reason = unavailable()
    if reason is not None:
        from ..errors import CrossformError

        raise CrossformError(reason)
    import onnx
    from onnx.reference import ReferenceEvaluator

    proto = onnx.ModelProto()
    proto.ParseFromString(content)
    evaluator = ReferenceEvaluator(proto)

    def run(names, feed):
        # numpy warns when Cast meets a value beyond float32; those rows are row errors already
        with np.errstate(over="ignore", invalid="ignore"):
            return evaluator.run(names, feed)

    return ort_runtime.make_scorer(run, content)
