"""One decision tree as arrays, its structural checks, and preorder numbering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ._validation import check_finite, describe, frozen_array, invalid, valid_number


@dataclass(frozen=True, eq=False)
class Tree:
    """One binary decision tree as struct-of-arrays; node 0 is the root.

    A split node n sends a row left iff ``x[feature[n]] <= threshold[n]``,
    and a missing (NaN) value left iff ``missing_left[n]``. Leaves have
    ``feature == left == right == -1``, threshold 0.0 and missing_left
    False; ``value[n]`` is the leaf's output vector and is 0.0 at split
    nodes (which no evaluator reads). Any node numbering is allowed; the
    package id hashes the tree in preorder, so numbering never changes it.

    ``sets`` (empty: none) makes some split nodes "category in set" splits:
    ``sets[n]`` is None for a threshold node, or the sorted values S of a
    set node (threshold 0.0). A value in S goes to the side away from the
    missing side (right when ``missing_left``, else left); everything else,
    NaN and any value not in S, goes the missing side. That is histogram
    boosting's three-way categorical split (left set, right set, unknown
    categories with missing values) as one membership test.
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    missing_left: np.ndarray
    value: np.ndarray
    sets: tuple = ()

    def __post_init__(self) -> None:
        owner = "Tree"
        feature = frozen_array(owner, "feature", self.feature, np.int32, 1)
        n = len(feature)
        if n == 0:
            raise invalid(owner, "feature", "an array of at least one node", "an empty array")
        arrays = {
            "feature": feature,
            "threshold": frozen_array(owner, "threshold", self.threshold, np.float64, 1),
            "left": frozen_array(owner, "left", self.left, np.int32, 1),
            "right": frozen_array(owner, "right", self.right, np.int32, 1),
            "missing_left": frozen_array(owner, "missing_left", self.missing_left, np.bool_, 1),
            "value": frozen_array(owner, "value", self.value, np.float64, 2),
        }
        for name, arr in arrays.items():
            if len(arr) != n:
                raise invalid(owner, name, f"{n} entries, one per node", f"{len(arr)} entries")
        if arrays["value"].shape[1] == 0:
            raise invalid(owner, "value", "at least one output per node", describe(arrays["value"]))
        _check_structure(**arrays)
        for name, arr in arrays.items():
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "sets", _sets(self.sets, arrays["left"] < 0, arrays["threshold"]))

    @property
    def n_nodes(self) -> int:
        return len(self.feature)

    @property
    def has_sets(self) -> bool:
        return bool(self.sets)

    @cached_property
    def is_set(self) -> np.ndarray:
        """Which nodes are set splits."""
        out = np.zeros(self.n_nodes, dtype=bool)
        if self.sets:
            out[[i for i, s in enumerate(self.sets) if s is not None]] = True
        out.setflags(write=False)
        return out

    @property
    def n_outputs(self) -> int:
        return self.value.shape[1]

    @cached_property
    def is_leaf(self) -> np.ndarray:
        leaf = self.left < 0
        leaf.setflags(write=False)
        return leaf

    @property
    def n_leaves(self) -> int:
        return int(self.is_leaf.sum())

    @cached_property
    def depth(self) -> int:
        """Edges on the longest root-to-leaf path."""
        return _levels(self.left, self.right)[1]

    @cached_property
    def preorder(self) -> np.ndarray:
        """Node indices in preorder (root, left subtree, right subtree)."""
        return _preorder(self.left, self.right)


MAX_SET_SIZE = 65_536


def _sets(value: Any, leaf: np.ndarray, threshold: np.ndarray) -> tuple:
    """Tree.sets validated: () or one entry per node, None or a sorted tuple of distinct finite floats."""
    owner = "Tree"
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise invalid(owner, "sets", "a sequence with one entry per node (or empty)", describe(value))
    if len(value) == 0:
        return ()
    if len(value) != len(leaf):
        raise invalid(owner, "sets", f"{len(leaf)} entries, one per node (or none)", f"{len(value)} entries")
    out = []
    for n, entry in enumerate(value):
        if entry is None:
            out.append(None)
            continue
        if leaf[n]:
            raise invalid(owner, "sets", "None at leaves (only split nodes test a set)", f"a set at leaf {n}")
        if threshold[n] != 0.0:
            raise invalid(owner, "threshold", "0.0 at set nodes", f"{threshold[n]} at node {n}")
        if (
            isinstance(entry, (str, bytes))
            or not isinstance(entry, (Sequence, np.ndarray))
            or len(entry) > MAX_SET_SIZE
        ):
            raise invalid(owner, "sets", f"a sequence of at most {MAX_SET_SIZE} numbers per set node", describe(entry))
        values = [valid_number(owner, "sets", v, allow_nan=False) for v in entry]
        if len(set(values)) != len(values):
            raise invalid(owner, "sets", f"distinct values (node {n})", sorted(values))
        out.append(tuple(sorted(values)))
    if all(entry is None for entry in out):
        return ()  # no set node: the same tree as without sets
    return tuple(out)


def _levels(left: np.ndarray, right: np.ndarray) -> tuple[int, int]:
    """Breadth-first walk from the root: (nodes reached, depth)."""
    frontier = np.zeros(1, dtype=np.int64)
    reached, depth = 1, 0
    while True:
        split = frontier[left[frontier] >= 0]
        if split.size == 0:
            return reached, depth
        frontier = np.concatenate([left[split], right[split]])
        reached += frontier.size
        depth += 1
        if reached > len(left):  # a cycle; the caller reports it
            return reached, depth


def _check_structure(feature, threshold, left, right, missing_left, value) -> None:
    owner = "Tree"
    n = len(feature)
    leaf = left < 0
    nodes = np.arange(n)

    def first(mask: np.ndarray) -> int:
        return int(nodes[mask][0])

    bad = leaf != (right < 0)
    if bad.any():
        i = first(bad)
        raise invalid(
            owner, "right", "-1 exactly where 'left' is -1 (leaves)", f"left={left[i]}, right={right[i]} at node {i}"
        )
    bad = leaf & ((left != -1) | (right != -1))
    if bad.any():
        i = first(bad)
        raise invalid(owner, "left", "-1 at leaves (no other negative value)", f"{left[i]} at node {i}")
    bad = ~leaf & ((left >= n) | (right >= n) | (left == 0) | (right == 0))
    if bad.any():
        i = first(bad)
        raise invalid(
            owner, "left", f"child indices in [1, {n}) at split nodes", f"left={left[i]}, right={right[i]} at node {i}"
        )
    bad = ~leaf & (feature < 0)
    if bad.any():
        raise invalid(
            owner, "feature", "a feature index >= 0 at split nodes", f"{feature[first(bad)]} at node {first(bad)}"
        )
    bad = leaf & ((feature != -1) | (threshold != 0.0) | missing_left)
    if bad.any():
        i = first(bad)
        raise invalid(
            owner,
            "feature",
            "-1, with threshold 0.0 and missing_left False, at leaves",
            f"feature={feature[i]}, threshold={threshold[i]}, missing_left={missing_left[i]} at leaf {i}",
        )
    # +inf is a threshold (histogram boosting's "every number left, NaN right"), NaN and -inf are not
    bad = np.isnan(threshold) | (threshold == -np.inf)
    if bad.any():
        raise invalid(owner, "threshold", "numbers or +inf", f"{threshold[first(bad)]} at node {first(bad)}")
    check_finite(owner, "value", value)
    bad = ~leaf & (value != 0.0).any(axis=1)
    if bad.any():
        raise invalid(
            owner,
            "value",
            "0.0 at split nodes (only leaves carry values)",
            f"{value[first(bad)].tolist()} at node {first(bad)}",
        )
    # Every node but the root has exactly one parent, and all are reachable
    # from the root: a tree, with no cycles and no orphans.
    parents = np.bincount(np.concatenate([left[~leaf], right[~leaf]]), minlength=n)
    if parents[0] != 0 or (parents[1:] != 1).any():
        i = first(np.concatenate([[parents[0] != 0], parents[1:] != 1]))
        raise invalid(
            owner,
            "left",
            "child links forming one tree (each node but the root has one parent)",
            f"node {i} with {parents[i]} parents",
        )
    reached, _ = _levels(left, right)
    if reached != n:
        raise invalid(
            owner,
            "left",
            "child links forming one tree (every node reachable from the root)",
            f"{n - reached} unreachable nodes" if reached < n else "a cycle",
        )


def preorder_positions(left: np.ndarray, right: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """Each node's position in its own tree's preorder (root 0, then the left
    subtree, then the right subtree).

    ``left``/``right`` may hold several trees concatenated, with child
    indices into the concatenation and ``roots`` the index of each root, so a
    whole forest is done in one pass per level, not one per tree.
    """
    n = len(left)
    levels = [np.asarray(roots, dtype=np.int64)]
    while True:
        split = levels[-1][left[levels[-1]] >= 0]
        if split.size == 0:
            break
        levels.append(np.concatenate([left[split], right[split]]))
    size = np.ones(n, dtype=np.int64)
    for level in reversed(levels[:-1]):
        split = level[left[level] >= 0]
        size[split] += size[left[split]] + size[right[split]]
    position = np.zeros(n, dtype=np.int64)
    for level in levels[:-1]:
        split = level[left[level] >= 0]
        position[left[split]] = position[split] + 1
        position[right[split]] = position[split] + 1 + size[left[split]]
    return position


def _preorder(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    position = preorder_positions(left, right, np.zeros(1, dtype=np.int64))
    order = np.empty(len(left), dtype=np.int64)
    order[position] = np.arange(len(left))
    order.setflags(write=False)
    return order
