"""PMML's calibrations against numpy itself (what scikit-learn's CalibratedClassifierCV calls):
isotonic breakpoints interpolated as ``np.interp`` computes them, and the normalisation of 8 or
more classes by ``np.sum``'s pairwise row sum, bit for bit in JPMML. A linear member with
coefficient 1.0 makes the response the input itself, so the rows put it exactly on, beside and
between the breakpoints. (The conformance cases calibration-isotonic and
calibration-many-classes hold fitted models to scikit-learn's predict_proba.)"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

import crossform
from crossform import ir
from crossform.errors import CrossformError
from crossform.exporters import get_format
from crossform.runtime import get_runtime, unavailable

CLASSES = ("no", "yes")


def _identity_package(points_per_column: list, classes: tuple) -> ir.Package:
    """One linear member whose response column c is input t<c> itself (coefficient 1.0, the rest 0.0)."""
    width = len(points_per_column)
    names = tuple(f"t{c}" for c in range(width))
    member = ir.LinearModel(names, np.eye(width), np.zeros(width), "none", classes)
    model = ir.Composite(
        (member,),
        "calibrate",
        classes=classes,
        calibration=(tuple(np.asarray(points, dtype=np.float64) for points in points_per_column),),
        calibration_method="isotonic",
    )
    return ir.Package(inputs=tuple(ir.Field(n, ir.NUMERIC) for n in names), encoders=(), model=model)


def _jpmml(package: ir.Package, rows: pd.DataFrame):
    reason = unavailable("jpmml")
    if reason is not None:
        pytest.skip(f"jpmml unavailable: {reason}")
    fmt = get_format("pmml")
    data = fmt.dumps(package)
    assert fmt.loads(data).id == package.id
    return get_runtime("jpmml").prepare(data, fmt)(rows)


def _around(x: np.ndarray) -> list:
    """Each breakpoint, its float64 neighbours, the midpoints between them, and values outside."""
    values = []
    for v in x.tolist():
        values += [v, math.nextafter(v, -math.inf), math.nextafter(v, math.inf)]
    values += ((x[1:] + x[:-1]) / 2).tolist() if len(x) > 1 else []
    values += [x[0] - 1.0, x[-1] + 1.0, -1e300, 1e300, 0.0]
    return values


BREAKPOINTS = {
    "steps": [[-0.75, 0.0], [0.0, 0.1], [0.07, 0.1], [0.3, 0.3333333333333333], [0.31, 0.9], [2.5, 1.0]],
    "two": [[0.1, 0.2], [0.7, 0.9]],
    "one": [[0.5, 0.375]],
    "many": np.column_stack(
        [np.cumsum(np.random.default_rng(3).uniform(1e-3, 0.1, 37)), np.sort(np.random.default_rng(4).random(37))]
    ),
}


@pytest.mark.parametrize("name", sorted(BREAKPOINTS))
def test_jpmml_interpolates_isotonic_breakpoints_as_numpys_interp_bit_for_bit(name):
    points = np.asarray(BREAKPOINTS[name], dtype=np.float64)
    t = np.array(_around(points[:, 0]) + np.random.default_rng(5).uniform(-1, 3, 200).tolist())
    p = np.interp(t, points[:, 0], points[:, 1])
    want = np.column_stack([1.0 - p, p])
    package = _identity_package([points], CLASSES)
    rows = pd.DataFrame({"t0": t})
    got = _jpmml(package, rows)
    assert all(e is None for e in got.errors)
    np.testing.assert_array_equal(got.values, want)
    np.testing.assert_array_equal(crossform.score(package, rows).values, want)


def test_jpmml_normalises_nine_calibrated_classes_by_numpys_pairwise_row_sum():
    classes = tuple(f"c{k}" for k in range(9))
    package = _identity_package([[[0.0, 0.0], [1.0, 1.0]]] * 9, classes)  # p = t on [0, 1]
    rng = np.random.default_rng(0)
    p = rng.random((400, 9))
    total = np.sum(p, axis=1)  # numpy's add reduction of a row: pairwise from 8 values on
    fold = np.zeros(len(p))
    for k in range(9):
        fold = fold + p[:, k]
    assert (fold != total).sum() > 50  # rows where a left fold would give another last bit
    want = p / total[:, None]
    rows = pd.DataFrame({f"t{k}": p[:, k] for k in range(9)})
    got = _jpmml(package, rows)
    assert all(e is None for e in got.errors)
    np.testing.assert_array_equal(got.values, want)


def test_pmml_refuses_a_crafted_calibration_method_by_name():
    fmt = get_format("pmml")
    data = fmt.dumps(_identity_package([BREAKPOINTS["two"]], CLASSES))
    spec = re.search(rb'name="crossform.model" value="([^"]*)"', data).group(1)
    crafted = spec.replace(b"&quot;isotonic&quot;", b"&quot;spline&quot;")
    assert crafted != spec
    with pytest.raises(CrossformError, match="calibration_method"):
        fmt.loads(data.replace(spec, crafted))
