"""skl2onnx and onnxmltools next to crossform's onnx format, on every fit of the conformance suite.

For each generator of conformance/generators.py: convert the fitted estimator with
skl2onnx (where it converts), score the case's rows in onnxruntime, and count the rows
whose outputs differ from the library's recorded ones; then the same for crossform's
onnx package in onnxruntime. A LightGBM or XGBoost model (estimator or raw Booster) is
converted with onnxmltools' convert_lightgbm / convert_xgboost, its documented route, fed
float32 rows in the model's feature order (LightGBM's pandas categories as LightGBM's own
codes); a pipeline holding one goes through skl2onnx with onnxmltools' converters
registered (update_registered_converter), as onnxmltools' docs show. skl2onnx and
onnxmltools compute in float32, so a value counts as different only beyond 1e-5 (relative,
or absolute below 1), or when the class differs;
crossform's rows are held to the conformance rule (1e-12, same class, same leaves); the
converter's rows beyond 1e-12 are counted too, in parentheses.
Rows scikit-learn refuses (unknown categories, infinities) are counted apart: ONNX
has no row errors, so skl2onnx scores them.

Run: python bench/onnx_crosscheck.py [--markdown] [CASE...]
     (needs crossform[all]: skl2onnx, onnxruntime; onnxmltools for LightGBM and XGBoost, in the
     crosscheck extra)
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
EXACT = 1e-12  # the conformance tolerance crossform is held to, counted beside


def _boosting_library(model):
    """The library ("lightgbm" or "xgboost") of a model of theirs (estimator or Booster), else None."""
    module = type(model).__module__.split(".")[0]
    return module if module in ("lightgbm", "xgboost") else None


def _register_boosting_converters() -> None:
    """onnxmltools' LightGBM and XGBoost converters, registered with skl2onnx for the pipelines
    that hold such a model (onnxmltools' documented recipe); ImportError without onnxmltools."""
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    try:
        import lightgbm
        from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    except ModuleNotFoundError as exc:
        if exc.name != "lightgbm":
            raise
    else:
        update_registered_converter(
            lightgbm.LGBMClassifier,
            "LightGbmLGBMClassifier",
            calculate_linear_classifier_output_shapes,
            convert_lightgbm,
            options=options,
        )
        update_registered_converter(
            lightgbm.LGBMRegressor,
            "LightGbmLGBMRegressor",
            calculate_linear_regressor_output_shapes,
            convert_lightgbm,
            options={"split": None},
        )
    try:
        import xgboost
        from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    except ModuleNotFoundError as exc:
        if exc.name != "xgboost":
            raise
    else:
        update_registered_converter(
            xgboost.XGBClassifier,
            "XGBoostXGBClassifier",
            calculate_linear_classifier_output_shapes,  # skl2onnx's: onnxmltools' own checks its own tensor types
            convert_xgboost,
            options=options,
        )
        update_registered_converter(
            xgboost.XGBRegressor, "XGBoostXGBRegressor", calculate_linear_regressor_output_shapes, convert_xgboost
        )


def _codes(model, data: dict) -> dict:
    """LightGBM's pandas categories as LightGBM reads them: the code of the value in the
    categories it was fitted on (pandas_categorical, in the order of its category columns);
    missing or unknown is NaN, as LightGBM's pandas conversion makes it."""
    booster = model if hasattr(model, "pandas_categorical") else model.booster_
    categorical = booster.pandas_categorical or []
    string_columns = [n for n in data if any(isinstance(v, str) for v in data[n])]
    out = dict(data)
    for name, categories in zip(string_columns, categorical):
        index = {c: float(i) for i, c in enumerate(categories)}
        out[name] = [index.get(v, np.nan) for v in data[name]]
    return out


def _onnxmltools_scores(model, checks, classes):
    """(values, classes or None) of onnxmltools' file in onnxruntime for a LightGBM or XGBoost
    model (estimator or Booster), or raise with the reason."""
    import onnxmltools
    import onnxruntime
    from onnxmltools.convert.common.data_types import FloatTensorType

    names = [c.name for c in checks.columns]  # the model's features, in its order (the package's inputs)
    data = checks.data()
    if _boosting_library(model) == "lightgbm":
        data = _codes(model, data)
    X = np.array([[np.nan if v is None else v for v in data[n]] for n in names], dtype=np.float64).T
    inputs = [("input", FloatTensorType([None, len(names)]))]
    if _boosting_library(model) == "lightgbm":
        onx = onnxmltools.convert_lightgbm(model, initial_types=inputs, zipmap=False)
    else:
        onx = onnxmltools.convert_xgboost(model, initial_types=inputs)
    session = onnxruntime.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outputs = session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})
    # the float tensor: probabilities for a classifier, the prediction for a regressor
    values = [np.asarray(o, dtype=np.float64) for o in outputs if np.asarray(o).dtype == np.float32][-1]
    values = values.reshape(len(checks), -1)
    if checks.values.shape[1] == 1 and values.shape[1] == 2:  # a Booster's binary predict: p alone
        values = values[:, 1:]
    return values, classes if values.shape[1] > 1 else None


def _opset(estimator):
    """None (skl2onnx's default), or for a pipeline holding a LightGBM or XGBoost model the
    opsets onnxmltools' converters write (ai.onnx.ml 3: they refuse skl2onnx's default 5)."""
    steps = getattr(estimator, "steps", [])
    if any(_boosting_library(step) for _, step in steps):
        return {"": 17, "ai.onnx.ml": 3}
    return None


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
        model = to_onnx(estimator, sample, options=options, target_opset=_opset(estimator))
        feed = {}
        for value in model.graph.input:
            column = frame[value.name]
            if value.type.tensor_type.elem_type == 8:  # string: ONNX has no missing string
                feed[value.name] = np.array(["" if v is None else v for v in column], dtype=object).reshape(-1, 1)
            else:
                feed[value.name] = column.to_numpy(dtype=np.float32).reshape(-1, 1)
    else:
        X = np.array([[np.nan if v is None else v for v in row] for row in checks.rows], dtype=np.float64)
        model = to_onnx(estimator, X[:1].astype(np.float32), options=options, target_opset=_opset(estimator))
        feed = {model.graph.input[0].name: X.astype(np.float32)}
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outputs = dict(zip(names, session.run(None, feed)))
    if classifier:
        return np.asarray(outputs["probabilities"], dtype=np.float64), tuple(estimator.classes_)
    return np.asarray(outputs["variable"], dtype=np.float64).reshape(-1, 1), None


def _differs(values, classes, checks, tolerance=TOLERANCE) -> tuple:
    scored = ~checks.errors
    want = checks.values
    with np.errstate(invalid="ignore"):
        bad = np.abs(values - want) > tolerance * np.maximum(1.0, np.abs(want))
        bad = bad.any(axis=1) | np.isnan(values).any(axis=1)
    if classes is not None and checks.predicted is not None:
        got = [classes[k] for k in np.argmax(np.nan_to_num(values, nan=-1.0), axis=1)]
        bad |= np.array([g != p for g, p in zip(got, checks.predicted)])
    return int((bad & scored).sum()), int(checks.errors.sum())


def _measure(estimator, package, checks) -> dict:
    try:
        if _boosting_library(estimator) is not None:
            values, classes = _onnxmltools_scores(estimator, checks, package.model.classes)
        else:
            values, classes = _skl2onnx_scores(estimator, checks)
    except Exception as exc:  # any refusal of the converter is a result, with its reason
        raise Unconverted(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}") from None
    return {
        "skl2onnx": _differs(values, classes, checks)[0],
        "exact": _differs(values, classes, checks, EXACT)[0],
    }


def crosscheck(names=None) -> list:
    """One dict per case: name, rows, refused, skl2onnx (rows differing, or None), reason, ours."""
    try:
        _register_boosting_converters()
    except ImportError:  # no onnxmltools: LightGBM and XGBoost are not converted, the reason says so
        pass
    return _crosscheck.crosscheck("skl2onnx", "onnx", "onnxruntime", _measure, names)


def main(argv=None) -> int:
    return _crosscheck.main(
        argv,
        __doc__,
        crosscheck,
        "skl2onnx",
        "onnx",
        "skl2onnx (onnxmltools for LightGBM/XGBoost): rows differing beyond 1e-5 (beyond 1e-12)",
        lambda r: f"{r['skl2onnx']} ({r['exact']})",
    )


if __name__ == "__main__":
    sys.exit(main())
