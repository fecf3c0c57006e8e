"""skl2onnx next to crossform's onnx format on conformance fits: where skl2onnx's model differs
from scikit-learn, crossform's does not (bench/onnx_crosscheck.py prints the whole table)."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from helpers.paths import REPO

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")

sys.path.insert(0, str(REPO / "bench"))
from onnx_crosscheck import crosscheck  # noqa: E402


def test_skl2onnx_gets_nan_rows_wrong_where_crossform_is_exact():
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        rows = {r["name"]: r for r in crosscheck({"et-nan-unseen", "rf-binary", "unknown-is-error"})}
    assert all(r["ours"] == 0 for r in rows.values()), rows
    # trained without NaN, scored on NaN rows: skl2onnx drops the NaN routing (skl2onnx #1253)
    assert rows["et-nan-unseen"]["skl2onnx"] > 0, rows["et-nan-unseen"]
    assert rows["rf-binary"]["skl2onnx"] > 0
