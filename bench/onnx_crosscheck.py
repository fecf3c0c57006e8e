"""skl2onnx next to crossform's onnx format, on every fit of the conformance suite.

For each generator of conformance/generators.py: convert the fitted estimator with
skl2onnx (where it converts), score the case's rows in onnxruntime, and count the rows
whose outputs differ from scikit-learn's recorded ones; then the same for crossform's
onnx package in onnxruntime. skl2onnx computes in float32, so a value counts as
different only beyond 1e-5 (relative, or absolute below 1), or when the class differs;
crossform's rows are held to the conformance rule (1e-12, same class, same leaves).
Rows scikit-learn refuses (unknown categories, infinities) are counted apart: ONNX
has no row errors, so skl2onnx scores them.

Run: python bench/onnx_crosscheck.py [--markdown] [CASE...]   (needs crossform[all]: skl2onnx, onnxruntime)
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _crosscheck  # noqa: E402
from _crosscheck import Unconverted  # noqa: E402

TOLERANCE = 1e-5


def _skl2onnx_scores(estimator, checks):
    """(values, classes or None) from skl2onnx + onnxruntime, or raise with the reason."""
    import onnxruntime
    import pandas as pd
    from skl2onnx import to_onnx

    from crossform import ir

    data = checks.data()
    is_frame = hasattr(estimator, "feature_names_in_") and not all(
        str(n).startswith("x") for n in getattr(estimator, "feature_names_in_", [])
    )
    classifier = hasattr(estimator, "predict_proba")
    options = {id(estimator): {"zipmap": False}} if classifier else None
    if is_frame:
        frame = pd.DataFrame(
            {
                c.name: pd.Series(data[c.name], dtype=object if c.kind == ir.CATEGORICAL else float)
                for c in checks.columns
            }
        )
        for name in estimator.feature_names_in_:  # a column the pipeline drops is not in the rows
            if name not in frame:
                frame[name] = np.nan
        frame = frame[list(estimator.feature_names_in_)]
        sample = frame.iloc[:1].copy()
        for c in checks.columns:
            if c.kind == ir.NUMERIC and c.name in sample:
                sample[c.name] = sample[c.name].astype(np.float32)
        model = to_onnx(estimator, sample, options=options)
        feed = {}
        for value in model.graph.input:
            column = frame[value.name]
            if value.type.tensor_type.elem_type == 8:  # string: ONNX has no missing string
                feed[value.name] = np.array(["" if v is None else v for v in column], dtype=object).reshape(-1, 1)
            else:
                feed[value.name] = column.to_numpy(dtype=np.float32).reshape(-1, 1)
    else:
        X = np.array([[np.nan if v is None else v for v in row] for row in checks.rows], dtype=np.float64)
        model = to_onnx(estimator, X[:1].astype(np.float32), options=options)
        feed = {model.graph.input[0].name: X.astype(np.float32)}
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outputs = dict(zip(names, session.run(None, feed)))
    if classifier:
        return np.asarray(outputs["probabilities"], dtype=np.float64), tuple(estimator.classes_)
    return np.asarray(outputs["variable"], dtype=np.float64).reshape(-1, 1), None


def _differs(values, classes, checks) -> tuple:
    scored = ~checks.errors
    want = checks.values
    with np.errstate(invalid="ignore"):
        bad = np.abs(values - want) > TOLERANCE * np.maximum(1.0, np.abs(want))
        bad = bad.any(axis=1) | np.isnan(values).any(axis=1)
    if classes is not None and checks.predicted is not None:
        got = [classes[k] for k in np.argmax(np.nan_to_num(values, nan=-1.0), axis=1)]
        bad |= np.array([g != p for g, p in zip(got, checks.predicted)])
    return int((bad & scored).sum()), int(checks.errors.sum())


def _measure(estimator, package, checks) -> dict:
    try:
        values, classes = _skl2onnx_scores(estimator, checks)
    except Exception as exc:  # any refusal of the converter is a result, with its reason
        raise Unconverted(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}") from None
    return {"skl2onnx": _differs(values, classes, checks)[0]}


def crosscheck(names=None) -> list:
    """One dict per case: name, rows, refused, skl2onnx (rows differing, or None), reason, ours."""
    return _crosscheck.crosscheck("skl2onnx", "onnx", "onnxruntime", _measure, names)


def main(argv=None) -> int:
    return _crosscheck.main(
        argv, __doc__, crosscheck, "skl2onnx", "onnx", "skl2onnx: rows differing", lambda r: str(r["skl2onnx"])
    )


if __name__ == "__main__":
    sys.exit(main())
