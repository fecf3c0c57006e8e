"""Conformance probe rows generated from a package's own IR.

A runtime is only as trustworthy as the rows it was checked on, and random
rows rarely land within a few ulps of a threshold. These rows come from the
package alone (no training data, no scikit-learn) and aim at every decision
the model makes:

1. for every split node, a row that follows the node's own path from the
   root, with the split feature set to the float64 and float32 values around
   the threshold and to missing;
2. for every leaf, a row that reaches it;
3. for every input, the values runtimes disagree on (NaN, infinities, the
   float32 overflow boundary, an unknown category, a missing one);
4. random rows.

Values that are not about float64 (the other columns of a path row, cell
midpoints, random values) are float32 values whenever one fits, so most rows
reach a float32 graph unchanged; for a scaled feature the float32 inputs on
either side of the threshold's pre-image are probed as well.

When nothing is sampled, the rows are built so that changing one threshold
to a neighbouring double, one leaf value, one missing direction, or one
category code across the nearest threshold changes the score or the leaves
of some row whenever some input row could tell the two packages apart
(tests/semantics/test_vectors.py checks this by mutating packages).

Probes are chosen in the model's feature space and pulled back through the
encoders to the package inputs. Every candidate is checked with the rules
crossform.reference scores with (crossform.rules), so a probe lands on the
intended side of its threshold after filling, scaling and encoding, and every
path row is scored by crossform.reference to confirm it reaches its node.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import ir, rules
from .floats import FLOAT32_OVERFLOW, first_double, from_order_key, order_key

__all__ = ["UNKNOWN_CATEGORY", "Vectors", "generate"]

F32_MAX = float(np.finfo(np.float32).max)
# Trees refuse |x| >= the float32 overflow boundary, so path rows stay below it.
_LIMIT = math.nextafter(FLOAT32_OVERFLOW, 0.0)
_INF = math.inf
_FREE = (-_INF, _INF, True)  # an unconstrained feature: (lo, hi, NaN allowed)
UNKNOWN_CATEGORY = "\u00abunknown\u00bb"
# Several categories may share a code (infrequent categories); probing a few
# of them lets a change to any one of their codes show.
_TIES = 4
_NAN_SHARE, _CELL_SHARE = 0.1, 0.45  # random numeric values: NaN, a threshold cell, else uniform
_MISSING_SHARE, _UNKNOWN_SHARE = 0.05, 0.05  # random categories
_SET_BOUND = 56  # rows probing one set split: up to 48 members, values beside them, missing

NUMERIC_SPECIALS = (
    (math.nan, "nan"),
    (_INF, "+inf"),
    (-_INF, "-inf"),
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


@dataclass(frozen=True)
class Vectors:
    """Probe rows for one package.

    ``rows[k][c]`` is the value of input ``columns[c]``: a float for a
    numeric input (NaN allowed), a str or None (missing) for a categorical
    one. ``labels[k]`` says why row k is there. ``unreachable`` lists the
    (tree, node) pairs examined whose path no row can take (an empty
    interval, or no known category satisfies it), so they have no path rows.
    """

    columns: tuple
    rows: list
    labels: list
    unreachable: tuple = ()

    def __len__(self) -> int:
        return len(self.rows)

    def to_columns(self) -> dict:
        """The rows as a column mapping, as crossform.score and the reference evaluator read them."""
        return {name: [row[c] for row in self.rows] for c, name in enumerate(self.columns)}


# ---------------------------------------------------------------- numeric inputs


class _Chain:
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
            return (-_LIMIT, _LIMIT) if lo <= self.b <= hi else (_INF, -_INF)
        if self.increasing:
            low, above = self._first(">=", lo), self._first(">", hi)
        else:
            low, above = self._first("<=", hi), self._first("<", lo)
        if low is None:
            return _INF, -_INF
        return low, _INF if above is None else math.nextafter(above, -_INF)

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
        candidates += [*self.pullback(-_LIMIT, t), *self.pullback(math.nextafter(t, _INF), _LIMIT)]
        best, best_gap = None, _INF
        for x in candidates:
            if not math.isfinite(x):
                continue
            z, ok = rules.run_number(self.steps, x)
            if not ok or math.isnan(z) or abs(z) > _LIMIT or (z <= t) != left:
                continue
            gap = abs(z - v)
            if gap < best_gap:
                best, best_gap = x, gap
        return best


_UNSAT = object()


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
        (math.nextafter(t, _INF), "one float64 above threshold"),
        (math.nextafter(t, -_INF), "one float64 below threshold"),
        (f, "float32 at or below threshold"),
        (g, "float32 above threshold"),
    ]
    mid = (f + g) / 2.0
    if math.isfinite(mid):
        out += [
            (mid, "at float32 midpoint around threshold"),
            (math.nextafter(mid, _INF), "just above float32 midpoint around threshold"),
            (math.nextafter(mid, -_INF), "just below float32 midpoint around threshold"),
        ]
    return [(v, kind) for v, kind in out if math.isfinite(v)]


class _NumericInput:
    def __init__(self, position: int, name: str, features: dict, chains: dict, others: list, thresholds: dict):
        self.position, self.name = position, name
        self.features = features  # model feature index -> its name, for the features read from this input
        self.chains = chains  # model feature index -> _Chain
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
            t = t[np.abs(t) < _LIMIT]  # scikit-learn's "only missing values go right" marker
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
            bounds = np.concatenate([[-_INF], u, [_INF]])
            values = _float32_in_many(values, np.nextafter(bounds[:-1], _INF), np.nextafter(bounds[1:], -_INF))
        keep = np.isfinite(values)
        for chain in self.chains.values():
            z, ok = rules.run_steps(chain.steps, values)
            keep &= ok & (np.abs(z) <= _LIMIT)
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
            (j, max(lo, -_LIMIT), min(hi, _LIMIT), nan_ok)
            for j in self.chains
            for lo, hi, nan_ok in [state.get(j, _FREE)]
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
        low, high = -_INF, _INF
        for j, lo, hi, _ in constraints:
            a, b = self.chains[j].pullback(lo, hi) if lo <= hi else (_INF, -_INF)
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
        return _UNSAT

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
        for side, lo, hi in (("left", -_LIMIT, t), ("right", math.nextafter(t, _INF), _LIMIT)):
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
        out.append((math.nan, f"{fname!r} missing at a set split (input {self.name!r} = nan)"))
        return out

    def specials(self) -> list:
        return list(NUMERIC_SPECIALS)


# ---------------------------------------------------------------- categorical inputs


class _CategoricalInput:
    """A categorical input takes few values that matter: its known categories,
    missing, and one unknown category. Each is pushed through the encoders
    once, so paths and probes are decided by table lookups."""

    def __init__(self, position: int, name: str, features: dict, steps: dict, others: list, model: ir.Model):
        self.position, self.name = position, name
        self.features = features
        known = set()
        for chain in list(steps.values()) + others:
            for enc, j, _ in chain:
                if isinstance(enc, (ir.CategoricalEncoding, ir.OneHot)):
                    known.update(enc.categories[j])
        self.known = sorted(known)
        token = UNKNOWN_CATEGORY
        while token in known:
            token += "?"
        self.unknown = token
        self.candidates = self.known + [None, token]
        self.column = {j: c for c, j in enumerate(steps)}
        self.codes = np.full((len(self.candidates), len(steps)), np.nan)
        self.ok = np.ones(len(self.candidates), dtype=bool)
        candidates = np.array(self.candidates, dtype=object)
        for j, c in self.column.items():
            z, ok = rules.run_steps(steps[j], candidates)
            self.codes[:, c] = z
            self.ok &= ok & ~rules.model_refuses(model, self.codes[:, c])
        for chain in others:
            self.ok &= rules.run_steps(chain, candidates)[1]
        good = np.flatnonzero(self.ok[: len(self.known)])
        self.defaults = [self.known[k] for k in good] or [None]

    def pick(self, u: float) -> Any:
        return self.defaults[min(int(u * len(self.defaults)), len(self.defaults) - 1)]

    def random_value(self, a: float, b: float) -> Any:
        if a < _MISSING_SHARE or not self.known:
            return None
        if a < _MISSING_SHARE + _UNKNOWN_SHARE:
            return self.unknown
        return self.known[min(int(b * len(self.known)), len(self.known) - 1)]

    def satisfying(self, state: dict) -> np.ndarray:
        mask = self.ok.copy()
        for j, c in self.column.items():
            if j in state:
                lo, hi, nan_ok = state[j]
                z = self.codes[:, c]
                with np.errstate(invalid="ignore"):
                    mask &= np.where(np.isnan(z), nan_ok, (z >= lo) & (z <= hi))
        return mask

    def solve(self, state: dict, rng: np.random.Generator) -> Any:
        mask = self.satisfying(state)
        n = len(self.known)
        known = np.flatnonzero(mask[:n])
        if known.size:
            return self.known[int(known[rng.integers(known.size)])]
        rest = np.flatnonzero(mask[n:])
        return self.candidates[n + int(rest[0])] if rest.size else _UNSAT

    def probes(self, j: int, t: float, missing_left: bool, state: dict) -> list:
        """The categories whose codes are nearest t on each side, then missing,
        then a category whose code is NaN (so the missing direction is tested
        even when missing has a code of its own)."""
        mask = self.satisfying(state)
        z = self.codes[:, self.column[j]]
        fname = self.features[j]
        out = []
        with np.errstate(invalid="ignore"):
            below, above = mask & (z <= t), mask & (z > t)
        for side, chosen in (("left", below), ("right", above)):
            if not chosen.any():
                continue
            edge = z[chosen].max() if side == "left" else z[chosen].min()
            for k in np.flatnonzero(chosen & (z == edge))[:_TIES]:
                op = "<=" if side == "left" else ">"
                label = (
                    f"{fname!r} code {float(edge)!r} {op} threshold {t!r} "
                    f"({side} side; input {self.name!r} = {self.candidates[k]!r})"
                )
                out.append((self.candidates[k], label))
        nan_ok = mask & np.isnan(z)
        for k in [len(self.known)] + [int(k) for k in np.flatnonzero(nan_ok)[:1]]:
            value, code = self.candidates[k], z[k]
            if value is not None and not np.isnan(code):
                continue
            side = ("left" if missing_left else "right") if np.isnan(code) else ("left" if code <= t else "right")
            what = "missing" if value is None else "unknown"
            label = (
                f"{fname!r} {what} (code {float(code)!r}), threshold {t!r} "
                f"({side} side; input {self.name!r} = {value!r})"
            )
            out.append((value, label))
        return out

    def set_probes(self, j: int, members: tuple) -> list:
        """For a set split: categories whose code is in the set, some that are not, missing, unknown."""
        z = self.codes[:, self.column[j]]
        fname = self.features[j]
        inside = np.isin(z, members) & self.ok
        chosen = np.flatnonzero(inside)[: 4 * _TIES].tolist() + np.flatnonzero(~inside & self.ok)[:_TIES].tolist()
        chosen += [len(self.known), len(self.known) + 1]  # missing, unknown
        return [
            (
                self.candidates[k],
                f"{fname!r} code {float(z[k])!r} {'in' if inside[k] else 'not in'} the "
                f"node's set (input {self.name!r} = {self.candidates[k]!r})",
            )
            for k in chosen
        ]

    def specials(self) -> list:
        return [(self.unknown, f"{self.unknown!r} (unknown category)"), (None, "None (missing)")]


# ---------------------------------------------------------------- the plan


class _Items:
    """An array read one item at a time, as Python scalars (what ``tolist`` holds)."""

    __slots__ = ("_item",)

    def __init__(self, array: np.ndarray):
        self._item = array.item

    def __getitem__(self, i: int):
        return self._item(i)


class _NoSets:
    """The sets of a tree without set splits: None at every node."""

    def __getitem__(self, node: int) -> None:
        return None


_NO_SETS = _NoSets()


@dataclass
class _Group:
    tree: int
    node: int
    leaf: bool
    base: list
    rows: list
    labels: list


class _Plan:
    def __init__(self, package: ir.Package):
        self.package = package
        model = package.model
        self.trees = getattr(model, "trees", ())  # a linear model has none: special and random rows only
        model_versions, every = rules.derivations(package)
        position = {f.name: k for k, f in enumerate(package.inputs)}
        self.source = [position[source] for source, _ in model_versions]
        thresholds = self._thresholds()
        self.inputs = []
        for k, f in enumerate(package.inputs):
            mine = [j for j, s in enumerate(self.source) if s == k]
            names = {j: model.features[j] for j in mine}
            # columns the model does not read can still refuse a row
            read = {id(model_versions[j]) for j in mine}
            others = [version[1] for version in every if version[0] == f.name and id(version) not in read]
            if f.kind == ir.NUMERIC:
                chains = {j: _Chain(model_versions[j][1]) for j in mine}
                self.inputs.append(_NumericInput(k, f.name, names, chains, others, thresholds))
            else:
                steps = {j: model_versions[j][1] for j in mine}
                self.inputs.append(_CategoricalInput(k, f.name, names, steps, others, model))
        self._items: dict = {}
        self._sets: dict = {}  # tree -> per node: None, or the set of a set split

    def _thresholds(self) -> dict:
        if not self.trees:
            return {}
        features, values = [], []
        for tree in self.trees:
            split = tree.left >= 0
            features.append(tree.feature[split])
            values.append(tree.threshold[split])
        features, values = np.concatenate(features), np.concatenate(values)
        order = np.argsort(features, kind="stable")  # np.unique sorts each feature's values
        features, values = features[order], values[order]
        starts = np.flatnonzero(np.r_[True, features[1:] != features[:-1]]) if len(features) else []
        ends = list(starts[1:]) + [len(features)]
        return {int(features[a]): np.unique(values[a:b]) for a, b in zip(starts, ends)}

    def tree_items(self, ti: int) -> tuple:
        """The tree's arrays for node-by-node walks, giving Python scalars (numpy
        scalars are slow one at a time, and whole lists are slow to make when a
        sample touches a few nodes of each of many large trees)."""
        if ti not in self._items:
            tree = self.trees[ti]
            parent = np.full(tree.n_nodes, -1, dtype=np.int64)
            split = np.flatnonzero(tree.left >= 0)
            parent[tree.left[split]] = split
            parent[tree.right[split]] = split
            self._items[ti] = tuple(
                _Items(a) for a in (tree.feature, tree.threshold, tree.left, tree.missing_left, parent)
            )
            self._sets[ti] = tree.sets or _NO_SETS
        return self._items[ti]

    def state(self, ti: int, node: int) -> dict:
        """Per model feature on the path to ``node``: (lo, hi, NaN allowed), lo and hi inclusive."""
        feature, threshold, left, missing_left, parent = self.tree_items(ti)
        state: dict = {}
        sets = self._sets[ti]
        child, p = node, parent[node]
        while p >= 0:
            if sets[p] is not None:  # a set split constrains no interval; verify() drops rows that miss
                child, p = p, parent[p]
                continue
            j, t = feature[p], threshold[p]
            went_left = left[p] == child
            lo, hi, nan_ok = state.get(j, _FREE)
            if went_left:
                hi = min(hi, t)
            else:
                lo = max(lo, math.nextafter(t, _INF))
            state[j] = (lo, hi, nan_ok and missing_left[p] == went_left)
            child, p = p, parent[p]
        return state

    def default_row(self, rng: np.random.Generator) -> list:
        return [inp.pick(u) for inp, u in zip(self.inputs, rng.random(len(self.inputs)).tolist())]

    def solve(self, state: dict, rng: np.random.Generator) -> list | None:
        row = self.default_row(rng)
        for k in sorted({self.source[j] for j in state}):
            value = self.inputs[k].solve(state, rng)
            if value is _UNSAT:
                return None
            row[k] = value
        return row

    def group(self, ti: int, node: int, rng: np.random.Generator) -> _Group | None:
        feature, threshold, left, missing_left, _ = self.tree_items(ti)
        state = self.state(ti, node)
        base = self.solve(state, rng)
        if base is None:
            return None
        if left[node] < 0:
            return _Group(ti, node, True, base, [base], [f"tree {ti} leaf {node}"])
        j = feature[node]
        k = self.source[j]
        rows, labels, seen = [], [], set()
        members = self._sets[ti][node]
        probes = (
            self.inputs[k].probes(j, threshold[node], missing_left[node], state)
            if members is None
            else self.inputs[k].set_probes(j, members)
        )
        for value, text in probes:
            key = _value_key(value)
            if key in seen:
                continue
            seen.add(key)
            row = list(base)
            row[k] = value
            rows.append(row)
            labels.append(f"tree {ti} node {node}: {text}")
        return _Group(ti, node, False, base, rows, labels)

    def bound(self, ti: int, node: int) -> int:
        """At most how many rows the node's group has."""
        feature, _, left, _, _ = self.tree_items(ti)
        if left[node] < 0:
            return 1
        if self._sets[ti][node] is not None:
            return _SET_BOUND
        if isinstance(self.inputs[self.source[feature[node]]], _NumericInput):
            return 11  # 8 values around the threshold, the nearest reaching value each side, missing
        return 2 * _TIES + 2

    def total_bound(self) -> int:
        numeric = np.array([isinstance(self.inputs[s], _NumericInput) for s in self.source], dtype=bool)
        total = 0
        for tree in self.trees:
            split = tree.feature[tree.left >= 0]
            total += tree.n_leaves + 11 * int(numeric[split].sum()) + (2 * _TIES + 2) * int((~numeric[split]).sum())
            total += _SET_BOUND * int(tree.is_set.sum())
        return total

    def verify(self, groups: list) -> tuple:
        """Keep the groups whose path row reaches its node under the reference evaluator."""
        if not groups:
            return [], []
        from .reference import score

        columns = {f.name: [g.base[c] for g in groups] for c, f in enumerate(self.package.inputs)}
        leaves = score(self.package, columns).leaves
        kept, failed = [], []
        for r, g in enumerate(groups):
            parent = self.tree_items(g.tree)[4]
            p = int(leaves[r, g.tree])
            while p >= 0 and p != g.node:
                p = parent[p]
            (kept if p == g.node else failed).append(g)
        return kept, failed


def _value_key(value: Any) -> tuple:
    # repr tells -0.0 from 0.0 and makes every NaN one value
    return ("f", repr(value)) if isinstance(value, float) else ("s", value)


# ---------------------------------------------------------------- generate


def generate(package: ir.Package, *, seed: int = 0, max_rows: int | None = None, random_rows: int = 50) -> Vectors:
    """Probe rows for ``package``: path rows at every split and leaf, special
    values per input, and ``random_rows`` random rows.

    Deterministic for a package and seed. With ``max_rows``, when the full set
    could be larger, whole groups are sampled (round-robin over the trees, so
    every tree is probed) and only the sampled groups are built: beyond a few
    array passes over the nodes, the cost follows max_rows, not the size of
    the model. The special values are always kept, and len(rows) <= max_rows.
    """
    if max_rows is not None and max_rows < 0:
        raise ValueError(f"max_rows must be None or >= 0. Got {max_rows} instead.")
    if random_rows < 0:
        raise ValueError(f"random_rows must be >= 0. Got {random_rows} instead.")
    rng = np.random.default_rng(seed)
    plan = _Plan(package)
    if not plan.trees:  # a linear model: no paths to follow, so more random rows
        random_rows *= 4
    n_specials = sum(len(inp.specials()) for inp in plan.inputs)
    unreachable = []
    if max_rows is None or plan.total_bound() + n_specials + random_rows <= max_rows:
        built = []
        for ti, tree in enumerate(plan.trees):
            for node in range(tree.n_nodes):
                g = plan.group(ti, node, rng)
                if g is None:
                    unreachable.append((ti, node))
                else:
                    built.append(g)
        room = None
    else:
        room = max_rows - min(n_specials, max_rows)
        built, unreachable = _sample(plan, rng, room - min(random_rows, room // 10))
    groups, failed = plan.verify(built)
    # A path row that misses its node would be a flaw here, not in the
    # package; reporting the node keeps it visible without failing the caller.
    unreachable = sorted(unreachable + [(g.tree, g.node) for g in failed])
    groups.sort(key=lambda g: (g.leaf, g.tree, g.node))

    rows, labels = [], []
    for g in groups:
        rows.extend(g.rows)
        labels.extend(g.labels)

    specials, special_labels = [], []
    for inp in plan.inputs:
        for value, text in inp.specials():
            base = groups[int(rng.integers(len(groups)))].base if groups else plan.default_row(rng)
            row = list(base)
            row[inp.position] = value
            specials.append(row)
            special_labels.append(f"feature {inp.name!r} = {text}")
    if max_rows is not None and len(specials) > max_rows:
        keep = np.sort(rng.choice(len(specials), size=max_rows, replace=False)).tolist()
        specials = [specials[k] for k in keep]
        special_labels = [special_labels[k] for k in keep]
    rows.extend(specials)
    labels.extend(special_labels)

    n_random = random_rows if room is None else max(0, min(random_rows, max_rows - len(rows)))
    draws = rng.random((n_random, len(plan.inputs), 2)).tolist()
    for draw in draws:
        rows.append([inp.random_value(a, b) for inp, (a, b) in zip(plan.inputs, draw)])
        labels.append("random")
    return Vectors(tuple(f.name for f in package.inputs), rows, labels, tuple(unreachable))


def _sample(plan: _Plan, rng: np.random.Generator, budget: int) -> tuple:
    """Groups taken round-robin over the trees, each tree's nodes in random
    order, until ``budget`` rows are used; only those groups are built."""
    if not plan.trees:
        return [], []
    permutations = [rng.permutation(tree.n_nodes) for tree in plan.trees]
    built, unreachable = [], []
    for ti, node in _round_robin(permutations):
        if budget <= 0:
            break
        if plan.bound(ti, node) > budget:
            continue
        g = plan.group(ti, node, rng)
        if g is None:
            unreachable.append((ti, node))
        elif len(g.rows) <= budget:
            built.append(g)
            budget -= len(g.rows)
    return built, unreachable


def _round_robin(permutations: list):
    """(tree, node): the first node of every tree, then the second of every tree
    that has one, and so on; lazily, since sampling stops long before the end."""
    trees = list(range(len(permutations)))
    for rank in range(max((len(p) for p in permutations), default=0)):
        trees = [ti for ti in trees if rank < len(permutations[ti])]
        for ti in trees:
            yield ti, int(permutations[ti][rank])
