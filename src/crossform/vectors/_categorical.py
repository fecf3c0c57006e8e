"""Probe rows: a categorical input, whose few values that matter are each pushed through the encoders once."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ir, rules
from ._common import TIES, UNSAT
from ._numeric import NUMERIC_SPECIALS, _float32_sides

UNKNOWN_CATEGORY = "\u00abunknown\u00bb"
_MISSING_SHARE, _UNKNOWN_SHARE = 0.05, 0.05  # random categories
_NEIGHBOURED = 16  # known numbers whose float64 neighbours get a special row

# ---------------------------------------------------------------- categorical inputs


class CategoricalInput:
    """A categorical input takes few values that matter: its known categories,
    missing, and one unknown category. Each is pushed through the encoders
    once, so paths and probes are decided by table lookups."""

    missing_value: Any = None  # what a row holds for missing

    def __init__(self, position: int, name: str, features: dict, steps: dict, others: list, model: ir.Model):
        self.position, self.name = position, name
        self.features = features
        self.known = self._known(list(steps.values()) + others)
        self.unknown = self._unknown_value()
        self.candidates = self.known + [self.missing_value, self.unknown]
        self.column = {j: c for c, j in enumerate(steps)}
        self.codes = np.full((len(self.candidates), len(steps)), np.nan)
        self.ok = np.ones(len(self.candidates), dtype=bool)
        candidates = self._array(self.candidates)
        for j, c in self.column.items():
            z, ok = rules.run_steps(steps[j], candidates)
            self.codes[:, c] = z
            self.ok &= ok & ~rules.model_refuses(model, self.codes[:, c])
        for chain in others:
            self.ok &= rules.run_steps(chain, candidates)[1]
        good = np.flatnonzero(self.ok[: len(self.known)])
        self.defaults = [self.known[k] for k in good] or [self.missing_value]

    def _known(self, chains: list) -> list:
        known = set()
        for chain in chains:
            for enc, j, _ in chain:
                if isinstance(enc, (ir.CategoricalEncoding, ir.OneHot)):
                    known.update(enc.categories[j])
        return sorted(known)

    def _unknown_value(self) -> Any:
        token = UNKNOWN_CATEGORY
        while token in self.known:
            token += "?"
        return token

    def _array(self, values: list) -> np.ndarray:
        return np.array(values, dtype=object)

    def pick(self, u: float) -> Any:
        return self.defaults[min(int(u * len(self.defaults)), len(self.defaults) - 1)]

    def random_value(self, a: float, b: float) -> Any:
        if a < _MISSING_SHARE or not self.known:
            return self.missing_value
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
        return self.candidates[n + int(rest[0])] if rest.size else UNSAT

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
            for k in np.flatnonzero(chosen & (z == edge))[:TIES]:
                op = "<=" if side == "left" else ">"
                label = (
                    f"{fname!r} code {float(edge)!r} {op} threshold {t!r} "
                    f"({side} side; input {self.name!r} = {self.candidates[k]!r})"
                )
                out.append((self.candidates[k], label))
        nan_ok = mask & np.isnan(z)
        for k in [len(self.known)] + [int(k) for k in np.flatnonzero(nan_ok)[:1]]:
            value, code = self.candidates[k], z[k]
            if k != len(self.known) and not np.isnan(code):
                continue
            side = ("left" if missing_left else "right") if np.isnan(code) else ("left" if code <= t else "right")
            what = "missing" if k == len(self.known) else "unknown"
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
        chosen = np.flatnonzero(inside)[: 4 * TIES].tolist() + np.flatnonzero(~inside & self.ok)[:TIES].tolist()
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


class NumberCategoryInput(CategoricalInput):
    """A numeric input read as categories (``number-category``): like a categorical input, its
    values that matter are few, the known numbers, NaN and an unknown number; its special rows
    add each known number's float64 neighbours (unknown, a few ulps away) and the special
    numbers (infinities are row errors, -0.0 is 0.0)."""

    missing_value = math.nan

    def _known(self, chains: list) -> list:
        """The input numbers that matter: the known numbers of a number-category step the input
        reaches directly (or through a fill), and both sides of each edge of a binning step
        before one (a bin's number is what the categories then name)."""
        known = set()
        for chain in chains:
            direct = True
            for enc, j, _ in chain:
                if isinstance(enc, ir.NumberCategory) and direct:
                    known.update(enc.values[j].tolist())
                elif isinstance(enc, ir.Binning) and direct:
                    edges = enc.edges[j].tolist()
                    known.update(edges)
                    known.update(math.nextafter(e, -math.inf) for e in edges)
                    known.update(v for e in edges for v in _float32_sides(e))  # rows a float32 runtime takes
                    direct = False
                elif not isinstance(enc, ir.FillMissing):
                    direct = False
        return sorted(known)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the values a float32 runtime takes as written: preferred wherever the choice is free
        self.single = [v for v in self.known if _is_float32(v)]
        self.defaults = [v for v in self.defaults if _is_float32(v)] or self.defaults

    def random_value(self, a: float, b: float) -> Any:
        if a < _MISSING_SHARE or not self.known:
            return self.missing_value
        pool = self.single or self.known
        return pool[min(int(b * len(pool)), len(pool) - 1)]

    def solve(self, state: dict, rng: np.random.Generator) -> Any:
        mask = self.satisfying(state)
        n = len(self.known)
        known = np.flatnonzero(mask[:n])
        single = [k for k in known.tolist() if _is_float32(self.known[k])]
        if single:
            return self.known[single[int(rng.integers(len(single)))]]
        return super().solve(state, rng)

    def _unknown_value(self) -> float:
        # half past the largest known number: a float32 value for integer and boolean categories
        value = (max(self.known) if self.known else 0.0) + 0.5
        while value in self.known or not math.isfinite(value):
            value = math.nextafter(value, -math.inf)
        return value

    def _array(self, values: list) -> np.ndarray:
        return np.array(values, dtype=np.float64)

    def specials(self) -> list:
        out = [(self.unknown, f"{self.unknown!r} (unknown number)"), (math.nan, "nan (missing)")]
        for value in self.known[:_NEIGHBOURED]:
            for side, to in (("below", -math.inf), ("above", math.inf)):
                near = math.nextafter(value, to)
                if near not in self.known:
                    out.append((near, f"{near!r} (the double {side} the category {value!r})"))
        out += [(v, text) for v, text in NUMERIC_SPECIALS if not math.isnan(v)]
        return out


def _is_float32(value: float) -> bool:
    return math.isfinite(value) and float(np.float32(value)) == value
