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
encoders to the package inputs; a column of several inputs (a product) cannot
be pulled back, so its thresholds are crossed by searching one input at a time
with the rest of the row fixed, and the rows below it are found by scoring
candidates. A column of a projection (PCA) gets its path rows only: the library
computes it through BLAS, whose last bits depend on the CPU, so a row at its
threshold may go either way in the library itself (docs/SEMANTICS.md note 25). Every candidate is checked with the rules
crossform.evaluator scores with (crossform.rules), so a probe lands on the
intended side of its threshold after filling, scaling and encoding, and every
path row is scored by crossform.evaluator to confirm it reaches its node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import ir, rules
from ..floats import from_order_key, order_key
from ._categorical import UNKNOWN_CATEGORY, CategoricalInput, NumberCategoryInput
from ._common import FREE, INF, TIES, UNSAT
from ._numeric import Chain, NumericInput

__all__ = ["UNKNOWN_CATEGORY", "Vectors", "generate"]

_SET_BOUND = 56  # rows probing one set split: up to 48 members, values beside them, missing
_CANDIDATES = 16  # solved rows tried for a path through columns of several inputs
_FAN = 31  # rows scored per round of the search across a threshold of such a column
_FAR = 1e300  # the search's far end: inputs from 0 to 1e300 (and to -1e300)


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
        # a linear model has none: special and random rows only; a composite has its members'
        self.trees = model.member_trees if isinstance(model, ir.Composite) else getattr(model, "trees", ())
        model_chains, every = rules.derivations(package)
        position = {f.name: k for k, f in enumerate(package.inputs)}
        # None: a column of several inputs (a product), which no single input's probes can aim at;
        # paths through them and splits on them are searched by scoring candidate rows instead
        self.source = [None if source is None else position[source] for source, _ in model_chains]
        self.several = {j for j, s in enumerate(self.source) if s is None}
        # columns of a projection: the library's own value at their thresholds depends on the CPU
        projected = rules.kernel_dependent_columns(package)
        self.unaimed = {j for j in self.several if model.features[j] in projected}
        thresholds = self._thresholds()
        self.inputs = []
        for k, f in enumerate(package.inputs):
            mine = [j for j, s in enumerate(self.source) if s == k]
            names = {j: model.features[j] for j in mine}
            # columns the model does not read can still refuse a row
            read = {id(model_chains[j]) for j in mine}
            others = [chain[1] for chain in every if chain[0] == f.name and id(chain) not in read]
            if f.kind == ir.NUMERIC and any(
                isinstance(enc, ir.NumberCategory)
                for chain in [model_chains[j][1] for j in mine] + others
                for enc, _, _ in chain
            ):
                steps = {j: model_chains[j][1] for j in mine}
                self.inputs.append(NumberCategoryInput(k, f.name, names, steps, others, model))
            elif f.kind == ir.NUMERIC:
                chains = {j: Chain(model_chains[j][1]) for j in mine}
                self.inputs.append(NumericInput(k, f.name, names, chains, others, thresholds))
            else:
                steps = {j: model_chains[j][1] for j in mine}
                self.inputs.append(CategoricalInput(k, f.name, names, steps, others, model))
        self._items: dict = {}
        self._sets: dict = {}  # tree -> per node: None, or the set of a set split
        self._split_features: dict = {}  # tree -> the model features it splits on
        self._rows: dict = {}  # (tree, node) -> its group's rows, under columns of several inputs

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
            lo, hi, nan_ok = state.get(j, FREE)
            if went_left:
                hi = min(hi, t)
            else:
                lo = max(lo, math.nextafter(t, INF))
            state[j] = (lo, hi, nan_ok and missing_left[p] == went_left)
            child, p = p, parent[p]
        return state

    def default_row(self, rng: np.random.Generator) -> list:
        return [inp.pick(u) for inp, u in zip(self.inputs, rng.random(len(self.inputs)).tolist())]

    def solve(self, state: dict, rng: np.random.Generator) -> list | None:
        row = self.default_row(rng)
        for k in sorted({self.source[j] for j in state} - {None}):
            value = self.inputs[k].solve(state, rng)
            if value is UNSAT:
                return None
            row[k] = value
        return row

    def group(self, ti: int, node: int, rng: np.random.Generator) -> _Group | None:
        feature, threshold, left, missing_left, _ = self.tree_items(ti)
        state = self.state(ti, node)
        base = self.solve(state, rng)
        if base is None:
            return None
        if self.several.intersection(self.source_features(ti)):
            base = self._reaching(ti, node, state, base, rng)
        if left[node] < 0:
            return _Group(ti, node, True, base, [base], [f"tree {ti} leaf {node}"])
        j = feature[node]
        k = self.source[j]
        if k is None:  # a split on a column of several inputs: one input moved across the threshold
            rows, labels = [base], [f"tree {ti} node {node}: path row"]
            crossing = [] if j in self.unaimed else self._crossing(j, threshold[node], base)
            for c, value, text in crossing:
                row = list(base)
                row[c] = value
                rows.append(row)
                labels.append(f"tree {ti} node {node}: {text}")
            self._rows[(ti, node)] = rows
            return _Group(ti, node, False, base, rows, labels)
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
        if self.several:
            self._rows[(ti, node)] = rows
        return _Group(ti, node, False, base, rows, labels)

    def bound(self, ti: int, node: int) -> int:
        """At most how many rows the node's group has."""
        feature, _, left, _, _ = self.tree_items(ti)
        if left[node] < 0:
            return 1
        if self._sets[ti][node] is not None:
            return _SET_BOUND
        if self.source[feature[node]] is None:
            return 1 + 4 * len(self.inputs)  # the path row; per input two doubles, two float32 values
        if isinstance(self.inputs[self.source[feature[node]]], NumericInput):
            return 11  # 8 values around the threshold, the nearest reaching value each side, missing
        return 2 * TIES + 2

    def total_bound(self) -> int:
        # rows per split by the kind of column split on: numeric input, categorical, several inputs
        per_split = np.array(
            [
                1 + 4 * len(self.inputs)
                if s is None
                else 11
                if isinstance(self.inputs[s], NumericInput)
                else 2 * TIES + 2
                for s in self.source
            ],
            dtype=np.int64,
        )
        total = 0
        for tree in self.trees:
            split = tree.feature[tree.left >= 0]
            total += tree.n_leaves + int(per_split[split].sum())
            total += _SET_BOUND * int(tree.is_set.sum())
        return total

    def source_features(self, ti: int) -> set:
        """The model features tree ``ti`` splits on."""
        if ti not in self._split_features:
            tree = self.trees[ti]
            self._split_features[ti] = set(tree.feature[tree.left >= 0].tolist())
        return self._split_features[ti]

    def _model_column(self, rows: list, j: int) -> np.ndarray:
        from ..evaluator import encoded_columns

        columns = {f.name: [row[c] for row in rows] for c, f in enumerate(self.package.inputs)}
        return np.asarray(encoded_columns(self.package, columns)[self.package.model.features[j]], dtype=np.float64)

    def _reaching(self, ti: int, node: int, state: dict, base: list, rng: np.random.Generator) -> list:
        """A path row for a node whose path constrains a column of several inputs, which
        :meth:`solve` leaves free: the first of ``_CANDIDATES`` solved rows that reaches the
        node under the reference evaluator, else ``base`` (verify() then reports the node)."""
        from ..evaluator import score

        # inputs no interval on the path fixes take random values: a product of the 0.0 that
        # solve() picks for them is 0.0 whatever its other factors, and crosses no threshold
        fixed = {self.source[j] for j in state} - {None}
        free = [k for k, f in enumerate(self.package.inputs) if f.kind == ir.NUMERIC and k not in fixed]
        # the rows of the parent's group first: its path row and the rows either side of its
        # threshold, one of which goes this node's way (parents are built before their children)
        candidates = list(self._rows.get((ti, self.tree_items(ti)[4][node]), ()))
        for _ in range(_CANDIDATES):
            row = self.solve(state, rng)
            if row is not None:
                for k, u in zip(free, rng.random(len(free)).tolist()):
                    row[k] = self.inputs[k].random_value(0.99, u)  # a uniform number of its span, never NaN
                candidates.append(row)
        candidates.append(base)
        columns = {f.name: [row[c] for row in candidates] for c, f in enumerate(self.package.inputs)}
        leaves = score(self.package, columns).leaves
        parent = self.tree_items(ti)[4]
        for r, row in enumerate(candidates):
            p = int(leaves[r, ti])
            while p >= 0 and p != node:
                p = parent[p]
            if p == node:
                return row
        return base

    def _crossing(self, j: int, t: float, base: list) -> list:
        """``[(input position, value, label)]``: for each numeric input whose value, the rest of
        ``base`` fixed, moves model column ``j`` across ``t`` within the positive or the negative
        doubles, the two adjacent doubles either side (a search over the doubles in order,
        ``_FAN`` rows scored per round). Each input gives its own pair of rows, so the children
        of the node find rows that keep the rest of their path."""
        found = []
        for c, f in enumerate(self.package.inputs):
            if f.kind != ir.NUMERIC:
                continue
            for low, high in ((0.0, _FAR), (-0.0, -_FAR)):
                lo, hi = order_key(low), order_key(high)
                ends = self._sides(j, t, base, c, [low, high])
                if ends is None or ends[0] == ends[1]:
                    continue
                side = ends[0]
                while abs(hi - lo) > 1:
                    keys = sorted({lo + (hi - lo) * i // (_FAN + 1) for i in range(1, _FAN + 1)} - {lo, hi})
                    if hi < lo:
                        keys.reverse()
                    sides = self._sides(j, t, base, c, [from_order_key(k) for k in keys])
                    if sides is None:
                        break
                    for key, s in zip(keys, sides):
                        if s == side:
                            lo = key
                        else:
                            hi = key
                            break
                if abs(hi - lo) == 1:
                    a, b = from_order_key(lo), from_order_key(hi)
                    found += [
                        (c, a, f"{f.name} = {a!r}, one side of the threshold"),
                        (c, b, f"{f.name} = {b!r}, the other"),
                    ]
                    found += self._float32_crossing(j, t, base, c, a, side)
                    break
        return found

    def _float32_crossing(self, j: int, t: float, base: list, c: int, a: float, side: bool) -> list:
        """The float32 values of input ``c`` nearest the crossing at the double ``a`` (on the side
        ``side``), one each side where they exist, so that a float32 graph is probed there too."""
        values = sorted({float(v) for v in _float32_around(a)} - {math.inf, -math.inf})
        sides = self._sides(j, t, base, c, values)
        if sides is None:
            return []
        out = []
        for want, text in ((side, "one side"), (not side, "the other")):
            here = [v for v, s in zip(values, sides) if s == want]
            if here:
                v = min(here, key=lambda v: abs(order_key(v) - order_key(a)))
                out.append((c, v, f"{self.package.inputs[c].name} = {v!r} (float32), {text} of the threshold"))
        return out

    def _sides(self, j: int, t: float, base: list, c: int, values: list):
        """Per value of input ``c`` (the rest of ``base`` fixed): whether model column ``j`` is <= t;
        None when a value gives NaN there."""
        rows = []
        for v in values:
            row = list(base)
            row[c] = v
            rows.append(row)
        with np.errstate(all="ignore"):
            column = self._model_column(rows, j)
        if np.isnan(column).any():
            return None
        return (column <= t).tolist()

    def verify(self, groups: list) -> tuple:
        """Keep the groups whose path row reaches its node under the reference evaluator."""
        if not groups:
            return [], []
        from ..evaluator import score

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


def _float32_around(x: float) -> tuple:
    """The float32 values nearest ``x``: its rounding and the float32 on either side of it."""
    f = np.float32(x)
    return (f, np.nextafter(f, np.float32(-np.inf)), np.nextafter(f, np.float32(np.inf)))


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
