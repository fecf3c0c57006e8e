"""crossform.floats.expf is the C library's expf (glibc, musl), bit for bit, and every runtime that
scores XGBoost's transforms computes it so: the reference evaluator and both onnx runtimes."""

from __future__ import annotations

import numpy as np
import pytest

import crossform
from crossform import ir
from crossform.floats import expf
from helpers.runtimes import libc_expf

VALUES = np.concatenate(
    [
        np.random.default_rng(11).uniform(-20, 20, 200_000),
        np.random.default_rng(12).uniform(-110, 95, 50_000),
        [88.0, 88.7, 88.72283, 88.7229, 89.0, -87.3, -103.9, -103.97, -103.98, -104.0, -200.0, 1e30, -1e30, 0.0],
    ]
).astype(np.float32)


def test_expf_is_glibcs_bit_for_bit():
    fn = libc_expf()
    want = np.array([fn(float(v)) for v in VALUES], dtype=np.float32)
    got = expf(VALUES)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.view(np.int32), want.view(np.int32))
    # and it is not the correctly rounded exp: the rule needs the library's algorithm
    with np.errstate(over="ignore"):  # 1e30 overflows, as it should
        rounded = np.exp(VALUES.astype(np.float64)).astype(np.float32)
    assert (rounded != want).sum() > 50


def _staircase(values: np.ndarray) -> ir.Tree:
    """A tree sending input i (0, 1, ..., len(values) - 1) to a leaf of value values[i]."""
    feature, threshold, left, right, value = [], [], [], [], []

    def node(lo: int, hi: int) -> int:  # the leaves for inputs lo .. hi - 1
        n = len(feature)
        feature.append(-1), threshold.append(0.0), left.append(-1), right.append(-1), value.append([0.0])
        if hi - lo == 1:
            value[n] = [float(values[lo])]
            return n
        mid = (lo + hi) // 2
        feature[n], threshold[n] = 0, mid - 0.5
        left[n] = node(lo, mid)
        right[n] = node(mid, hi)
        return n

    node(0, len(values))
    return ir.Tree(feature, threshold, left, right, [False] * len(feature), value)


def test_onnx_runtimes_compute_the_same_expf():
    pytest.importorskip("onnxruntime")
    from crossform.exporters import onnx as O
    from helpers.onnx_files import RUNTIMES

    # the values where the library's expf is not the correctly rounded exp come first
    with np.errstate(over="ignore"):  # 1e30 overflows, as it should
        rounded = np.exp(VALUES.astype(np.float64)).astype(np.float32)
    hard = VALUES[rounded != expf(VALUES)]
    values = np.concatenate([hard, VALUES[:: len(VALUES) // 512], VALUES[-14:]])[:1024]
    package = ir.Package(
        inputs=(ir.Field("i", ir.NUMERIC),),
        encoders=(),
        model=ir.TreeEnsemble(("i",), (_staircase(values),), "sum", "exp", base_value=[0.0], accumulate="float32"),
    )
    rows = {"i": np.arange(len(values), dtype=np.float64)}
    want = expf(values).astype(np.float64)
    np.testing.assert_array_equal(crossform.score(package, rows).values[:, 0], want)
    content = O.dumps(package)
    for runtime in RUNTIMES:
        np.testing.assert_array_equal(runtime.prepare(content, O)(rows).values[:, 0], want, err_msg=runtime.NAME)
