"""XGBoost's float32 transforms in PMML, held to the C library itself: JPMML computes expf (the
exp, logistic and softmax transforms) as glibc's ``expf`` does, bit for bit, on the values where
a double exp rounded once to float32 is another float, through PMML's float fields and Apply
expressions (pmml.float32). The conformance cases xgboost and xgboost-categories hold fitted
models to XGBoost's own predictions."""

from __future__ import annotations

import numpy as np
import pytest

from crossform import ir
from crossform.exporters import get_format
from crossform.floats import expf
from crossform.runtime import get_runtime, unavailable
from helpers.runtimes import libc_expf

VALUES = np.concatenate(
    [
        np.random.default_rng(21).uniform(-20, 20, 100_000),
        [88.0, 88.7, 88.72283, 88.7229, 89.0, -87.3, -103.9, -103.97, -103.98, -104.0, -200.0, 1e30, -1e30, 0.0],
    ]
).astype(np.float32)


def _libc_expf():
    fn = libc_expf()
    return lambda values: np.array([fn(float(v)) for v in values], dtype=np.float32)


def _values() -> np.ndarray:
    """The inputs where the library's expf is not the correctly rounded exp first, then others."""
    with np.errstate(over="ignore"):  # 1e30 overflows, as it should
        rounded = np.exp(VALUES.astype(np.float64)).astype(np.float32)
    hard = VALUES[rounded != expf(VALUES)]
    assert len(hard) > 20
    return np.concatenate([hard[:400], VALUES[:: len(VALUES) // 300], VALUES[-14:]])


def _staircase(values: np.ndarray) -> ir.Tree:
    """A tree sending input i (0, 1, ..., len(values) - 1) to a leaf whose values are row i of ``values``."""
    values = values.reshape(len(values), -1)
    width = values.shape[1]
    feature, threshold, left, right, value = [], [], [], [], []

    def node(lo: int, hi: int) -> int:
        n = len(feature)
        feature.append(-1), threshold.append(0.0), left.append(-1), right.append(-1), value.append([0.0] * width)
        if hi - lo == 1:
            value[n] = values[lo].astype(np.float64).tolist()
            return n
        mid = (lo + hi) // 2
        feature[n], threshold[n] = 0, mid - 0.5
        left[n] = node(lo, mid)
        right[n] = node(mid, hi)
        return n

    node(0, len(values))
    return ir.Tree(feature, threshold, left, right, [False] * len(feature), value)


def _jpmml(model: ir.TreeEnsemble, n: int) -> np.ndarray:
    reason = unavailable("jpmml")
    if reason is not None:
        pytest.skip(f"jpmml unavailable: {reason}")
    package = ir.Package(inputs=(ir.Field("i", ir.NUMERIC),), encoders=(), model=model)
    fmt = get_format("pmml")
    content = fmt.dumps(package, leaves="off")
    assert fmt.loads(content).id == package.id
    got = get_runtime("jpmml").prepare(content, fmt)({"i": np.arange(n, dtype=np.float64)})
    assert all(e is None for e in got.errors)
    return got.values


def test_jpmml_computes_expf_as_the_c_library():
    libc = _libc_expf()
    values = _values()
    model = ir.TreeEnsemble(("i",), (_staircase(values),), "sum", "exp", base_value=[0.0], accumulate="float32")
    want = libc(values).astype(np.float64)
    np.testing.assert_array_equal(_jpmml(model, len(values))[:, 0], want)


def test_jpmml_computes_xgboosts_logistic_with_the_c_librarys_expf():
    libc = _libc_expf()
    values = np.concatenate([-_values(), _values()[:50]])
    model = ir.TreeEnsemble(
        ("i",), (_staircase(values),), "sum", "logistic", (0, 1), base_value=[0.0], accumulate="float32"
    )
    one = np.float32(1.0)
    p = one / (libc(np.minimum(-values, np.float32(88.7))) + one)
    want = np.column_stack([one - p, p]).astype(np.float64)
    np.testing.assert_array_equal(_jpmml(model, len(values)), want)


def test_jpmml_computes_xgboosts_softmax_with_the_c_librarys_expf():
    libc = _libc_expf()
    hard = _values()[:300]
    hard = hard[np.abs(hard) < 80]
    values = np.column_stack([hard, np.zeros_like(hard), hard[::-1]]).astype(np.float32)
    model = ir.TreeEnsemble(
        ("i",), (_staircase(values),), "sum", "softmax", (0, 1, 2), base_value=[0.0] * 3, accumulate="float32"
    )
    shifted = values - values.max(axis=1, keepdims=True)
    exps = np.column_stack([libc(shifted[:, k]) for k in range(3)])
    total = np.zeros(len(values))
    for k in range(3):  # a double left fold in class order, as XGBoost's Softmax adds
        total = total + exps[:, k]
    want = (exps / total.astype(np.float32)[:, None]).astype(np.float64)
    np.testing.assert_array_equal(_jpmml(model, len(values)), want)


def test_pmml_refuses_a_crafted_accumulation_by_name():
    import re

    from crossform.errors import CrossformError

    values = np.array([0.5, -1.0], dtype=np.float32)
    model = ir.TreeEnsemble(("i",), (_staircase(values),), "sum", "exp", base_value=[0.0], accumulate="float32")
    fmt = get_format("pmml")
    data = fmt.dumps(ir.Package(inputs=(ir.Field("i", ir.NUMERIC),), encoders=(), model=model))
    spec = re.search(rb'name="crossform.model" value="([^"]*)"', data).group(1)
    for crafted, words in ((b"&quot;float16&quot;", "accumulate"), (b"&quot;float64&quot;", "differs")):
        tampered = spec.replace(b"&quot;accumulate&quot;:&quot;float32&quot;", b"&quot;accumulate&quot;:" + crafted)
        assert tampered != spec
        with pytest.raises(CrossformError, match=words):
            fmt.loads(data.replace(spec, tampered))
