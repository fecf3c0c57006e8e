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


# ---------------------------------------------------------------- expf
# XGBoost's float transforms call the C library's expf. glibc (2.28 and later) and musl compute
# it with ARM's optimized-routines algorithm (e_expf.c, exp2f_data.c): x * 32 / ln 2 = k + r,
# rounded to the nearest integer k by the 1.5 * 2^52 shift, exp(x) ~= 2^(k/32) * (1 + C2 r +
# C1 r^2 + C0 r^3) in double, then one rounding to float. Not correctly rounded (0.502 ulp), so
# exp in double rounded once differs on 0.07% of inputs; these operations, in this order, are
# the library's to the bit (checked against glibc 2.36's expf on x86-64, FMA or not:
# docs/SEMANTICS.md note 13). 2^(k/32) = EXPF_TABLE[k mod 32] * 2^((k - k mod 32) / 32), exact.
EXPF_TABLE = np.array(
    [
        float.fromhex(h)
        for h in (
            "0x1.0000000000000p+0",
            "0x1.059b0d3158574p+0",
            "0x1.0b5586cf9890fp+0",
            "0x1.11301d0125b51p+0",
            "0x1.172b83c7d517bp+0",
            "0x1.1d4873168b9aap+0",
            "0x1.2387a6e756238p+0",
            "0x1.29e9df51fdee1p+0",
            "0x1.306fe0a31b715p+0",
            "0x1.371a7373aa9cbp+0",
            "0x1.3dea64c123422p+0",
            "0x1.44e086061892dp+0",
            "0x1.4bfdad5362a27p+0",
            "0x1.5342b569d4f82p+0",
            "0x1.5ab07dd485429p+0",
            "0x1.6247eb03a5585p+0",
            "0x1.6a09e667f3bcdp+0",
            "0x1.71f75e8ec5f74p+0",
            "0x1.7a11473eb0187p+0",
            "0x1.82589994cce13p+0",
            "0x1.8ace5422aa0dbp+0",
            "0x1.93737b0cdc5e5p+0",
            "0x1.9c49182a3f090p+0",
            "0x1.a5503b23e255dp+0",
            "0x1.ae89f995ad3adp+0",
            "0x1.b7f76f2fb5e47p+0",
            "0x1.c199bdd85529cp+0",
            "0x1.cb720dcef9069p+0",
            "0x1.d5818dcfba487p+0",
            "0x1.dfc97337b9b5fp+0",
            "0x1.ea4afa2a490dap+0",
            "0x1.f50765b6e4540p+0",
        )  # fmt: skip
    ]
)
EXPF_INV_LN2_N = float.fromhex("0x1.71547652b82fep+0") * 32
EXPF_SHIFT = float.fromhex("0x1.8p+52")
# C0 r^3 + C1 r^2 + C2 r: exp2f's polynomial, scaled by 1/32 per power
EXPF_POLY = (
    float.fromhex("0x1.c6af84b912394p-5") / 32 / 32 / 32,
    float.fromhex("0x1.ebfce50fac4f3p-3") / 32 / 32,
    float.fromhex("0x1.62e42ff0c52d6p-1") / 32,
)
# above: +inf; below: 0.0 (what glibc returns before the algorithm runs)
EXPF_OVERFLOW = float(np.float32(float.fromhex("0x1.62e42ep6")))
EXPF_UNDERFLOW = float(np.float32(-float.fromhex("0x1.9fe368p6")))


def expf(x: np.ndarray) -> np.ndarray:
    """The C library's expf (glibc, musl) of float32 values, bit for bit: see EXPF_TABLE."""
    x = np.asarray(x, dtype=np.float32)
    xd = np.clip(x.astype(np.float64), -160.0, 100.0)  # beyond, the ends below decide
    z = EXPF_INV_LN2_N * xd
    kd = (z + EXPF_SHIFT) - EXPF_SHIFT
    r = z - kd
    k = kd.astype(np.int64)
    j = k % 32
    s = EXPF_TABLE[j] * np.ldexp(1.0, (k - j) // 32)
    c0, c1, c2 = EXPF_POLY
    y = ((c0 * r + c1) * (r * r) + (c2 * r + 1.0)) * s
    with np.errstate(over="ignore"):
        out = y.astype(np.float32)
    out = np.where(x > np.float32(EXPF_OVERFLOW), np.float32(np.inf), out)
    return np.where(x < np.float32(EXPF_UNDERFLOW), np.float32(0.0), out).astype(np.float32)
