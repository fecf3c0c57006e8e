"""onnxmltools (the LightGBM and XGBoost converters for ONNX) next to crossform's onnx format on
the conformance suite's LightGBM and XGBoost fits: where onnxmltools' model differs from the
library, crossform's does not (bench/onnx_crosscheck.py prints the whole table)."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from helpers.paths import REPO

pytest.importorskip("onnxmltools")
pytest.importorskip("onnxruntime")
pytest.importorskip("lightgbm")
pytest.importorskip("xgboost")

sys.path.insert(0, str(REPO / "bench"))
from onnx_crosscheck import crosscheck  # noqa: E402


def test_onnxmltools_differs_from_lightgbm_and_xgboost_where_crossform_is_exact():
    names = {"lgbm-regression", "lgbm-multiclassova", "xgb-regression", "xgb-ranker"}
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        rows = {r["name"]: r for r in crosscheck(names)}
    assert all(r["ours"] == 0 for r in rows.values()), rows
    # LightGBM compares doubles; onnxmltools' file compares float32, so rows one float64 step from
    # a threshold go the other way
    assert rows["lgbm-regression"]["skl2onnx"] > 0, rows["lgbm-regression"]
    # it normalises multiclassova's per-class sigmoids, which LightGBM's predict_proba does not
    assert rows["lgbm-multiclassova"]["skl2onnx"] == rows["lgbm-multiclassova"]["rows"]
    # XGBoost compares float32 too: close to 1e-5, but not bit for bit
    assert rows["xgb-regression"]["skl2onnx"] == 0 and rows["xgb-regression"]["exact"] > 0, rows["xgb-regression"]
    # no converter for the ranker: a named result, not a crash
    assert rows["xgb-ranker"]["skl2onnx"] is None and rows["xgb-ranker"]["reason"], rows["xgb-ranker"]
