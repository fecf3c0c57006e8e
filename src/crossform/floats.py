"""float32 facts that the frontend and the evaluator share, and doubles in order.

scikit-learn's trees cast their input to float32 and compare it with float64
thresholds. crossform rewrites each threshold ``t`` to the float64 value
``t'`` for which ``x <= t'`` equals ``float32(x) <= t`` for every float64
``x`` whose float32 rounding is finite, so every format compares plain
doubles and still reproduces scikit-learn's decisions (docs/SEMANTICS.md).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Union

import numpy as np

# float32(x) is infinite exactly when |x| >= 2**128 - 2**103: the midpoint
# between the largest float32 (2**128 - 2**104) and 2**128, which
# round-half-even sends up (the largest float32 has an odd mantissa).
FLOAT32_OVERFLOW = float(2.0**128 - 2.0**103)


def float32_threshold(threshold: np.ndarray) -> np.ndarray:
    """Rewrite float64 thresholds for float64 inputs that scikit-learn casts to float32.

    With f the largest float32 <= t and g the next float32 above f, every x
    below the midpoint m = (f + g) / 2 rounds to at most f (so goes left),
    every x above m rounds to at least g > t (so goes right), and x == m
    rounds to whichever of f and g has an even mantissa. So t' = m when f's
    last mantissa bit is 0, else the float64 just below m. m is exact in
    float64 (f and g are float32 values one float32 ulp apart).
    """
    t = np.asarray(threshold, dtype=np.float64)
    # Overflow at the ends of the float32 range is expected and handled below.
    with np.errstate(over="ignore", invalid="ignore"):
        f = t.astype(np.float32)
        f = np.where(f.astype(np.float64) > t, np.nextafter(f, np.float32(-np.inf)), f)
        g = np.nextafter(f, np.float32(np.inf))
        mid = (f.astype(np.float64) + g.astype(np.float64)) / 2.0
    odd = (f.view(np.uint32) & 1).astype(bool)
    out = np.where(odd, np.nextafter(mid, -np.inf), mid)
    # Beyond the float32 range the midpoint does not exist. Every x whose
    # float32 rounding is finite satisfies float32(x) <= t when t >= the
    # largest float32 (scikit-learn writes t = +inf for a split that sends
    # only missing values right), and none does when t < minus it; the
    # largest double reproduces both and keeps thresholds finite.
    top = np.finfo(np.float32).max
    big = np.finfo(np.float64).max
    return np.where(t >= top, big, np.where(t < -top, -big, out))


def float32_overflows(x: np.ndarray) -> np.ndarray:
    """Where float32(x) would be infinite (NaN gives False)."""
    with np.errstate(invalid="ignore"):
        return np.abs(x) >= FLOAT32_OVERFLOW


# ---------------------------------------------------------------- doubles in order
# Searches for the first double where a rule changes its answer (the input
# that reaches a threshold after scaling, the widest interval a field
# accepts) bisect over the doubles in order, one double at a time, so the key
# is a plain Python int from struct, not a numpy array. One convention:
# -0.0 and 0.0 share the key 0 (they compare equal, and no rule here tells
# them apart), and the key 0 gives 0.0 back.

_DOUBLE, _INT64 = struct.Struct("<d"), struct.Struct("<q")


def order_key(x: float) -> int:
    """An integer that orders like the double ``x`` (not NaN): adjacent
    doubles differ by 1, ``-inf`` is the smallest, ``+inf`` the largest, and
    ``-0.0`` has the key of ``0.0``."""
    bits = _INT64.unpack(_DOUBLE.pack(x))[0]
    return bits if bits >= 0 else -(bits & 0x7FFF_FFFF_FFFF_FFFF)


def from_order_key(k: int) -> float:
    """The double whose :func:`order_key` is ``k`` (0.0 for 0)."""
    if k >= 0:
        return _DOUBLE.unpack(_INT64.pack(k))[0]
    return -_DOUBLE.unpack(_INT64.pack(-k))[0]


def first_double(
    pred: Callable[[float], bool], lo: float = -math.inf, hi: float = math.inf, near: Union[float, None] = None
) -> Union[float, None]:
    """The smallest double x in [lo, hi] with ``pred(x)``, for a ``pred`` that
    is false and then true along the doubles in order; None when it is never
    true. ``near``, a guess a few ulps off the answer, makes the search
    gallop out from it (a handful of calls) instead of bisecting [lo, hi]
    (about 64)."""
    first, last = order_key(lo), order_key(hi)
    false_at, true_at = first - 1, None  # pred is false at false_at (or it is below the range), true at true_at
    if near is not None:
        k = min(max(order_key(near), first), last)
        step = 1
        if pred(from_order_key(k)):
            true_at = k
            while true_at > first:
                j = max(k - step, first)
                if not pred(from_order_key(j)):
                    false_at = j
                    break
                true_at, step = j, step * 2
        else:
            false_at = k
            while true_at is None:
                if false_at == last:
                    return None
                j = min(k + step, last)
                if pred(from_order_key(j)):
                    true_at = j
                else:
                    false_at, step = j, step * 2
    if true_at is None:
        if not pred(hi):
            return None
        true_at = last
    while true_at - false_at > 1:
        mid = (false_at + true_at) // 2
        if pred(from_order_key(mid)):
            true_at = mid
        else:
            false_at = mid
    return from_order_key(true_at)
