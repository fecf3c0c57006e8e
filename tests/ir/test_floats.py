"""The float32 threshold rewrite: x <= t' exactly when float32(x) <= t."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crossform.floats import (
    FLOAT32_OVERFLOW,
    first_double,
    float32_overflows,
    float32_threshold,
    from_order_key,
    order_key,
)


def float32_decision(x: np.ndarray, t: np.ndarray) -> tuple:
    with np.errstate(over="ignore"):
        x32 = x.astype(np.float32)
    return x32.astype(np.float64) <= t, np.isfinite(x32)


def neighbourhood(t: np.ndarray, tp: np.ndarray) -> list:
    with np.errstate(over="ignore"):
        f = t.astype(np.float32)
    points = [t, tp, f.astype(np.float64)]
    with np.errstate(over="ignore"):
        for p in list(points):
            points += [np.nextafter(p, np.inf), np.nextafter(p, -np.inf)]
    return points


def mismatches(t: np.ndarray) -> int:
    tp = float32_threshold(t)
    bad = 0
    for x in neighbourhood(t, tp):
        want, finite = float32_decision(x, t)
        bad += int(((x <= tp) != want)[finite & np.isfinite(x)].sum())
    return bad


def test_rewrite_on_a_million_thresholds_from_1e_minus_30_to_1e30():
    rng = np.random.default_rng(0)
    magnitude = 10.0 ** rng.uniform(-30, 30, 400_000)
    sign = rng.choice([-1.0, 1.0], 400_000)
    a = rng.normal(size=300_000).astype(np.float32)
    midpoints = (a.astype(np.float64) + np.nextafter(a, np.float32(np.inf))) / 2  # scikit-learn's thresholds
    exact32 = rng.normal(size=300_000).astype(np.float32).astype(np.float64)
    t = np.concatenate([magnitude * sign, midpoints, exact32])
    assert mismatches(t) == 0


def test_rewrite_at_the_edges():
    f32 = np.finfo(np.float32)
    t = np.array(
        [
            0.0,
            -0.0,
            5e-324,
            -5e-324,
            1e-45,
            -1e-45,
            float(f32.tiny),
            float(f32.max),
            -float(f32.max),
            np.inf,
            -np.inf,
            1e300,
            -1e300,
        ]
    )
    tp = float32_threshold(t)
    assert np.isfinite(tp).all()
    assert mismatches(t) == 0


@settings(max_examples=3000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False), st.floats(allow_nan=False, allow_infinity=False))
def test_rewrite_property(t, x):
    tp = float32_threshold(np.array([t]))[0]
    with np.errstate(over="ignore"):
        x32 = np.float32(x)
    if np.isfinite(x32):
        assert (x <= tp) == (float(x32) <= t)


def test_overflow_boundary():
    x = np.array([FLOAT32_OVERFLOW, np.nextafter(FLOAT32_OVERFLOW, 0), -FLOAT32_OVERFLOW, np.inf, np.nan, 1.0])
    assert float32_overflows(x).tolist() == [True, False, True, True, False, False]
    with np.errstate(over="ignore"):
        assert np.isinf(np.float32(FLOAT32_OVERFLOW)) and np.isfinite(np.float32(np.nextafter(FLOAT32_OVERFLOW, 0)))


# ---------------------------------------------------------------- doubles in order


def test_order_key_counts_doubles_and_keys_minus_zero_as_zero():
    assert order_key(0.0) == order_key(-0.0) == 0
    assert order_key(5e-324) == 1 and order_key(-5e-324) == -1
    assert order_key(math.nextafter(1.0, math.inf)) - order_key(1.0) == 1
    assert order_key(1.0) - order_key(math.nextafter(1.0, -math.inf)) == 1
    assert order_key(math.inf) - order_key(np.finfo(np.float64).max) == 1
    assert order_key(-math.inf) == -order_key(math.inf)
    assert repr(from_order_key(0)) == "0.0"  # the one zero the key gives back


@given(st.floats(allow_nan=False), st.floats(allow_nan=False))
@settings(max_examples=300, deadline=None)
def test_order_key_orders_like_the_doubles(a, b):
    assert (order_key(a) < order_key(b)) == (a < b)
    assert (order_key(a) == order_key(b)) == (a == b)
    assert from_order_key(order_key(a)) == a


@given(st.floats(allow_nan=False), st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300))
@settings(max_examples=300, deadline=None)
def test_first_double_finds_the_boundary_with_or_without_a_guess(t, guess):
    # x >= t is false then true along the doubles; its first double is t (0.0 for either zero)
    for near in (None, guess, t):
        found = first_double(lambda x: x >= t, near=near)
        assert found == t and order_key(found) == order_key(t)
        assert first_double(lambda x: x > t, near=near) == (None if t == math.inf else math.nextafter(t, math.inf))


def test_first_double_within_a_range_and_never_true():
    assert first_double(lambda x: x >= 10.0, 0.0, 5.0) is None
    assert first_double(lambda x: x >= 10.0, 0.0, 5.0, near=4.0) is None
    assert first_double(lambda x: x >= -3.0, 0.0, 5.0) == 0.0  # true at the lower end already
    assert first_double(lambda x: True, near=7.0) == -math.inf
    assert first_double(lambda x: x >= 2.5, 0.0, 5.0, near=1e6) == 2.5  # a guess beyond the range is clamped
