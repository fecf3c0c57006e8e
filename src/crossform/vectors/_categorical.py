"""Probe rows: a categorical input, whose few values that matter are each pushed through the encoders once."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ir, rules
from ._common import TIES, UNSAT

UNKNOWN_CATEGORY = "\u00abunknown\u00bb"
_MISSING_SHARE, _UNKNOWN_SHARE = 0.05, 0.05  # random categories

# ---------------------------------------------------------------- categorical inputs


class CategoricalInput:
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
