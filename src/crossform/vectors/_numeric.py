"""Probe rows: a numeric input, the model features it feeds, and the values around their thresholds.

Each feature computed from a numeric input is monotone in it (or constant),
so the inputs that keep a feature in an interval form an interval, found by
searching the doubles in order with the rules the reference scores with.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

import numpy as np

from .. import ir, rules
from ..floats import FLOAT32_OVERFLOW, first_double, from_order_key, order_key
from ._common import FREE, INF, LIMIT, UNSAT

F32_MAX = float(np.finfo(np.float32).max)
_NAN_SHARE, _CELL_SHARE = 0.1, 0.45  # random numeric values: NaN, a threshold cell, else uniform

NUMERIC_SPECIALS = (
    (math.nan, "nan"),
    (INF, "+inf"),
    (-INF, "-inf"),
    (-0.0, "-0.0"),
    (0.0, "0.0"),
    (5e-324, "5e-324 (smallest subnormal)"),
    (1e39, "1e+39 (beyond float32)"),
    (-1e39, "-1e+39 (beyond float32)"),
    (F32_MAX, f"{F32_MAX!r} (float32 max)"),
    (-F32_MAX, f"{-F32_MAX!r} (minus float32 max)"),
    (FLOAT32_OVERFLOW, f"{FLOAT32_OVERFLOW!r} (float32 overflow boundary)"),
    (
        math.nextafter(FLOAT32_OVERFLOW, 0.0),
        f"{math.nextafter(FLOAT32_OVERFLOW, 0.0)!r} (just below the float32 overflow boundary)",
    ),
)


# ---------------------------------------------------------------- numeric inputs


class Chain:
    """One model feature computed from a numeric input: monotone in the input
    (a composition of x -> (x - offset) / scale and x -> x * scale + offset,
    each correctly rounded), or a missing indicator (0.0 for every number,
    1.0 for NaN)."""

    def __init__(self, steps: tuple):
        self.steps = steps
        a, b = 1.0, 0.0  # the map x -> a * x + b the steps compute, up to rounding: the guesses start from it
        for enc, j, _ in steps:
            if isinstance(enc, ir.Scale):
                offset, scale = float(enc.offset[j]), float(enc.scale[j])
                a, b = a / scale, (b - offset) / scale
            elif isinstance(enc, ir.Affine):
                scale, offset = float(enc.scale[j]), float(enc.offset[j])
                a, b = a * scale, b * scale + offset
        self.indicator = any(isinstance(enc, ir.MissingIndicator) for enc, _, _ in steps)
        if self.indicator or a == 0.0:
            a, b = 0.0, self.z(0.0)
        self.a, self.b = a, b
        self.identity = all(isinstance(enc, ir.FillMissing) for enc, _, _ in steps)
        self.increasing = a > 0
        self._bounds: dict = {}

    def z(self, x: float) -> float:
        return rules.run_number(self.steps, x)[0]

    def guess(self, z: float) -> float:
        if self.a == 0.0:
            return 0.0
        x = (z - self.b) / self.a if math.isfinite(z) else 0.0
        return x if math.isfinite(x) else 0.0

    def _first(self, op: str, v: float) -> float | None:
        """The smallest input x whose feature value satisfies ``op v``."""
        key = (op, v)
        if key not in self._bounds:
            test = {">=": lambda z: z >= v, ">": lambda z: z > v, "<=": lambda z: z <= v, "<": lambda z: z < v}[op]
            self._bounds[key] = first_double(lambda x: test(self.z(x)), near=self.guess(v))
        return self._bounds[key]

    def pullback(self, lo: float, hi: float) -> tuple:
        """The inputs (L, H), inclusive, whose feature value is in [lo, hi] (both finite)."""
        if self.identity:
            return lo, hi
        if self.a == 0.0:  # every number gives the same value (an indicator's 0.0)
            return (-LIMIT, LIMIT) if lo <= self.b <= hi else (INF, -INF)
        if self.increasing:
            low, above = self._first(">=", lo), self._first(">", hi)
        else:
            low, above = self._first("<=", hi), self._first("<", lo)
        if low is None:
            return INF, -INF
        return low, INF if above is None else math.nextafter(above, -INF)

    def invert(self, v: float, t: float) -> float | None:
        """The input whose feature value is closest to v on v's side of t."""
        if self.identity:
            return v
        if self.a == 0.0:
            return 0.0 if (self.b <= t) == (v <= t) else None
        left = v <= t
        k = order_key(self.guess(v))
        candidates = [from_order_key(k + d) for d in range(-4, 5)]
        # the exact edges of both sides, for when v is closer to t than one input ulp
        candidates += [*self.pullback(-LIMIT, t), *self.pullback(math.nextafter(t, INF), LIMIT)]
        best, best_gap = None, INF
        for x in candidates:
            if not math.isfinite(x):
                continue
            z, ok = rules.run_number(self.steps, x)
            if not ok or math.isnan(z) or abs(z) > LIMIT or (z <= t) != left:
                continue
            gap = abs(z - v)
            if gap < best_gap:
                best, best_gap = x, gap
        return best


def _float32_in(x: float, lo: float, hi: float) -> float:
    """The float32 value nearest x inside [lo, hi] when there is one, else x."""
    return float(_float32_in_many(np.array([x]), lo, hi)[0])


def _float32_in_many(x: np.ndarray, lo, hi) -> np.ndarray:
    """``_float32_in`` over arrays: per value, the first of float32(x) and the
    float32 values below and above it that is finite and inside [lo, hi]."""
    out = np.array(x, dtype=np.float64)
    done = ~np.isfinite(out)
    with np.errstate(over="ignore", invalid="ignore"):
        f = out.astype(np.float32)
        for candidate in (f, np.nextafter(f, np.float32(-np.inf)), np.nextafter(f, np.float32(np.inf))):
            c = candidate.astype(np.float64)
            take = ~done & np.isfinite(c) & (lo <= c) & (c <= hi)
            out[take] = c[take]
            done |= take
    return out


def _float32_sides(x: float) -> list:
    """The float32 values at or below and above x (finite ones)."""
    with np.errstate(over="ignore"):
        f = np.float32(x)
        if float(f) > x:
            f = np.nextafter(f, np.float32(-np.inf))
        g = np.nextafter(f, np.float32(np.inf))
    return [float(v) for v in (f, g) if math.isfinite(float(v))]


def _probe_values(t: float) -> list:
    """The values around t that tell float64, float32 and rounding rules apart."""
    with np.errstate(over="ignore"):
        f = np.float32(t)
        if float(f) > t:
            f = np.nextafter(f, np.float32(-np.inf))
        g = np.nextafter(f, np.float32(np.inf))
    f, g = float(f), float(g)
    out = [
        (t, "at threshold"),
        (math.nextafter(t, INF), "one float64 above threshold"),
        (math.nextafter(t, -INF), "one float64 below threshold"),
        (f, "float32 at or below threshold"),
        (g, "float32 above threshold"),
    ]
    mid = (f + g) / 2.0
    if math.isfinite(mid):
        out += [
            (mid, "at float32 midpoint around threshold"),
            (math.nextafter(mid, INF), "just above float32 midpoint around threshold"),
            (math.nextafter(mid, -INF), "just below float32 midpoint around threshold"),
        ]
    return [(v, kind) for v, kind in out if math.isfinite(v)]


class NumericInput:
    def __init__(self, position: int, name: str, features: dict, chains: dict, others: list, thresholds: dict):
        self.position, self.name = position, name
        self.features = features  # model feature index -> its name, for the features read from this input
        self.chains = chains  # model feature index -> Chain
        self.others = others  # steps of columns the model does not read
        self.plausible = self._plausible(thresholds)
        self.random_span = (
            (self.plausible[0], self.plausible[-1])
            if self.plausible[0] < self.plausible[-1]
            else (self.plausible[0] - 1.0, self.plausible[0] + 1.0)
        )

    def _plausible(self, thresholds: dict) -> list:
        """Values strictly between the input-space images of the thresholds
        (so no path row sits on a threshold), and one beyond each end."""
        pulled = []
        for j, chain in self.chains.items():
            t = thresholds.get(j, np.zeros(0))
            t = t[np.abs(t) < LIMIT]  # scikit-learn's "only missing values go right" marker
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                x = (t - chain.b) / chain.a
            pulled.append(x[np.isfinite(x)])
        u = np.unique(np.concatenate(pulled)) if pulled else np.zeros(0)
        if u.size == 0:
            values = np.zeros(1)
        else:
            span = u[-1] - u[0]
            pad = span / 4 if span > 0 else max(abs(u[0]) / 4, 1.0)
            values = np.concatenate([[u[0] - pad], u[:-1] / 2 + u[1:] / 2, [u[-1] + pad]])
            # float32 values where one fits strictly inside the same cell
            bounds = np.concatenate([[-INF], u, [INF]])
            values = _float32_in_many(values, np.nextafter(bounds[:-1], INF), np.nextafter(bounds[1:], -INF))
        keep = np.isfinite(values)
        for chain in self.chains.values():
            z, ok = rules.run_steps(chain.steps, values)
            keep &= ok & (np.abs(z) <= LIMIT)
        for steps in self.others:
            keep &= rules.run_steps(steps, values)[1]
        values = np.unique(values[keep])
        return values.tolist() if values.size else [0.0]

    def pick(self, u: float) -> float:
        return self.plausible[min(int(u * len(self.plausible)), len(self.plausible) - 1)]

    def random_value(self, a: float, b: float) -> float:
        if a < _NAN_SHARE:
            return math.nan
        if a < _NAN_SHARE + _CELL_SHARE:
            return self.pick(b)
        lo, hi = self.random_span
        return _float32_in(lo + b * (hi - lo), lo, hi)

    def _constraints(self, state: dict) -> list:
        return [
            (j, max(lo, -LIMIT), min(hi, LIMIT), nan_ok) for j in self.chains for lo, hi, nan_ok in [state.get(j, FREE)]
        ]

    def fits(self, x: float, constraints: list) -> bool:
        for steps in self.others:
            if not rules.run_number(steps, x)[1]:
                return False
        for j, lo, hi, nan_ok in constraints:
            z, ok = rules.run_number(self.chains[j].steps, x)
            if not ok or (not nan_ok if math.isnan(z) else not lo <= z <= hi):
                return False
        return True

    def _interval(self, constraints: list) -> tuple:
        """The inputs [low, high] whose features all satisfy ``constraints``,
        missing values aside (each feature is monotone in the input, so the
        answer is an interval)."""
        low, high = -INF, INF
        for j, lo, hi, _ in constraints:
            a, b = self.chains[j].pullback(lo, hi) if lo <= hi else (INF, -INF)
            low, high = max(low, a), min(high, b)
        return low, high

    def solve(self, state: dict, rng: np.random.Generator) -> Any:
        """A value of this input that keeps every feature it feeds on the path."""
        constraints = self._constraints(state)
        low, high = self._interval(constraints)
        if low <= high:
            for x in self._inside(low, high, rng):
                if self.fits(x, constraints):
                    return x
        # only a missing value takes some paths (scikit-learn's "only missing goes right")
        if self.fits(math.nan, constraints):
            return math.nan
        return UNSAT

    def _inside(self, low: float, high: float, rng: np.random.Generator):
        first = bisect.bisect_right(self.plausible, low)
        last = bisect.bisect_left(self.plausible, high)
        if last > first:
            yield self.plausible[int(rng.integers(first, last))]
        if math.isfinite(low) and math.isfinite(high):
            mid = low / 2 + high / 2
            if _float32_in(mid, low, high) != mid:
                yield _float32_in(mid, low, high)
            yield mid
        for x in (high, low):
            if math.isfinite(x):
                yield x

    def probes(self, j: int, t: float, missing_left: bool, state: dict) -> list:
        chain, fname = self.chains[j], self.features[j]
        via = "" if chain.identity and fname == self.name else "; input {name!r} = {x!r}"
        constraints = self._constraints(state)
        out, sides = [], set()
        for v, kind in _probe_values(t):
            x = chain.invert(v, t)
            if x is None or (not chain.identity and not self.fits(x, self._constraints({}))):
                continue
            side = "left" if chain.z(x) <= t else "right"
            if self.fits(x, constraints):
                sides.add(side)
            out.append((x, f"{fname!r} {kind} {t!r} ({side} side{via.format(name=self.name, x=x)})"))
            if not chain.identity and kind == "at threshold":
                # what a float32 input can be: the float32 inputs either side of the pre-image
                for x32 in _float32_sides(x):
                    if x32 != x and self.fits(x32, self._constraints({})):
                        side32 = "left" if chain.z(x32) <= t else "right"
                        if self.fits(x32, constraints):
                            sides.add(side32)
                        out.append(
                            (
                                x32,
                                f"{fname!r} from a float32 input near threshold {t!r} "
                                f"({side32} side; input {self.name!r} = {x32!r})",
                            )
                        )
        # The values around t can all miss the inputs that reach this node
        # (beyond the float32 range; t beyond the path's interval when only
        # missing values go one way; another feature of the same input
        # constraining it): then probe that side at the reaching input nearest t.
        low, high = self._interval(constraints)
        for side, lo, hi in (("left", -LIMIT, t), ("right", math.nextafter(t, INF), LIMIT)):
            if side in sides or lo > hi:
                continue
            a, b = chain.pullback(lo, hi)
            a, b = max(a, low), min(b, high)
            if a > b:
                continue
            x = min((a, b), key=lambda x: abs(chain.z(x) - t))
            if self.fits(x, constraints):
                where = "below" if side == "left" else "above"
                label = (
                    f"{fname!r} nearest value reaching the node {where} threshold {t!r} "
                    f"({side} side{via.format(name=self.name, x=x)})"
                )
                out.append((x, label))
        z = chain.z(math.nan)
        side = ("left" if missing_left else "right") if math.isnan(z) else ("left" if z <= t else "right")
        out.append((math.nan, f"{fname!r} missing, threshold {t!r} ({side} side; input {self.name!r} = nan)"))
        return out

    def set_probes(self, j: int, members: tuple) -> list:
        """For a set split: each member (up to a few dozen), values beside them, and missing."""
        chain, fname = self.chains[j], self.features[j]
        wanted = [(v, "member") for v in members[:48]]
        outside = sorted(
            {members[0] - 1.0, members[-1] + 1.0, -1.0, 0.5 * (members[0] + members[-1]) + 0.25} - set(members)
        )
        wanted += [(v, "not a member") for v in outside]
        out = []
        for v, what in wanted:
            x = v if chain.identity else chain.guess(v)
            if math.isfinite(x) and chain.z(x) == v and self.fits(x, self._constraints({})):
                out.append((x, f"{fname!r} {what} {v!r} of the node's set (input {self.name!r} = {x!r})"))
        if any(isinstance(enc, ir.IntegerCode) for enc, _, _ in chain.steps):
            out += self._truncation_probes(chain, fname, members)
        out.append((math.nan, f"{fname!r} missing at a set split (input {self.name!r} = nan)"))
        return out

    def _truncation_probes(self, chain, fname: str, members: tuple) -> list:
        """Inputs at the edges of an integer-code step: each member m's range [m, m + 1) at both ends
        and inside, the values just below it, and the ends of the codes (-1 and 2^31, beside them)."""
        xs = {-0.5, -1.0, math.nextafter(-1.0, 0.0), rules.INT_END, math.nextafter(rules.INT_END, 0.0)}
        for m in members[:48]:
            xs.update((m + 0.5, math.nextafter(m + 1.0, -math.inf), math.nextafter(m, -math.inf), m - 0.5))
        out = []
        for x in sorted(xs):
            if math.isfinite(x) and self.fits(x, self._constraints({})):
                out.append((x, f"{fname!r} code {chain.z(x)!r} of an int truncation (input {self.name!r} = {x!r})"))
        return out

    def specials(self) -> list:
        """The special numbers, and both ends of each missing-band step's band with the doubles
        just outside them."""
        ends = set()
        for chain in self.chains.values():
            for enc, j, _ in chain.steps:
                if isinstance(enc, ir.MissingBand):
                    low, high = enc.low.item(j), enc.high.item(j)
                    ends.update((low, high, math.nextafter(low, -math.inf), math.nextafter(high, math.inf)))
        return list(NUMERIC_SPECIALS) + [(v, f"{v!r} (at a missing band's end)") for v in sorted(ends)]
