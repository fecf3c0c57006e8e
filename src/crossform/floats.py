"""float32 facts that the frontend and the evaluator share.

scikit-learn's trees cast their input to float32 and compare it with float64
thresholds. crossform rewrites each threshold ``t`` to the float64 value
``t'`` for which ``x <= t'`` equals ``float32(x) <= t`` for every float64
``x`` whose float32 rounding is finite, so every format compares plain
doubles and still reproduces scikit-learn's decisions (docs/SEMANTICS.md).
"""

from __future__ import annotations

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
