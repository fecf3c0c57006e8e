"""The compiled leaf walk: crossform.evaluator.forest_leaves' rule, in C (src/crossform/_leaves.c).

``compact`` lays a forest's flat arrays out for the walk once, and checks every child and
feature index there, so the C loop can trust them: each tree in preorder, so a split's left
child is the next node, one 16-byte node each (threshold, feature with the missing_left and set
flags, right child; a leaf points to itself). ``walk`` gives the leaf each row reaches in each
tree, as an index in the forest's own arrays, exactly what ``forest_leaves`` gives, and can add
the leaf values on the way (the evaluator's left fold, in tree order, each addition rounded as
numpy rounds it). It releases the GIL while it runs.

The extension is optional (an install without a compiler has none): ``AVAILABLE`` says whether
it was built, and the evaluator then walks in numpy (crossform.evaluator.LEAF_WALK).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np

try:
    # by name: import-linter sees no Python source for the extension and would read
    # "from . import _leaves" as an import of crossform itself (the package, a layer above)
    _leaves = importlib.import_module(f"{__package__}._leaves")
except ImportError:  # built without a C compiler: crossform.evaluator walks in numpy
    _leaves = None

AVAILABLE = _leaves is not None

FEATURE_BITS = 30  # bits 0-29 of a node's word; bit 30 missing_left, bit 31 a set node
NODE = np.dtype([("threshold", "<f8"), ("word", "<u4"), ("right", "<i4")])


class CompiledWalkUnavailable(RuntimeError):
    """The compiled walk was asked for, and crossform was installed without it."""


class ForestLayoutError(ValueError):
    """A forest's arrays do not describe trees the compiled walk can follow."""


@dataclass(frozen=True, eq=False)
class CompactForest:
    """A forest laid out for crossform._leaves.walk (the module docstring says how)."""

    nodes: bytes
    starts: np.ndarray  # int64, n_trees + 1: tree t is nodes starts[t] to starts[t + 1]
    set_nodes: np.ndarray  # int64, sorted: the set nodes' positions
    set_offsets: np.ndarray  # int64, n_sets + 1: set s is set_values[set_offsets[s]:set_offsets[s + 1]]
    set_values: np.ndarray  # float64, each set sorted
    original: np.ndarray  # int64: position -> the node's index in the forest's arrays
    n_features: int

    @property
    def n_trees(self) -> int:
        return len(self.starts) - 1


def compact(
    feature: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    threshold: np.ndarray,
    missing_left: np.ndarray,
    roots: np.ndarray,
    sets: dict,
    n_features: int,
) -> CompactForest:
    """Lay out a forest given as crossform.evaluator's flat arrays (children as indices into
    them, -1 at leaves; tree t's nodes from roots[t] to the next root; sets: node -> sorted
    values), checking every index the walk will follow."""
    n = len(feature)
    roots = np.asarray(roots, dtype=np.int64)
    ends = np.append(roots[1:], n)
    if len(roots) == 0 or roots[0] != 0 or np.any(ends <= roots) or n >= 2**31:
        raise ForestLayoutError(f"expected trees from node 0 up to {n} nodes (fewer than 2**31); got roots {roots[:8]}")
    if not 0 <= n_features <= 2**FEATURE_BITS:
        raise ForestLayoutError(f"expected at most 2**{FEATURE_BITS} features; got {n_features}")
    tree_of = np.repeat(np.arange(len(roots)), ends - roots)
    split = left >= 0
    for name, child in (("left", left), ("right", right)):
        inside = (child[split] > roots[tree_of[split]]) & (child[split] < ends[tree_of[split]])
        if not inside.all():
            at = np.flatnonzero(split)[~inside][0]
            raise ForestLayoutError(f"expected {name} children inside their own tree; node {at} has {child[at]}")
    if np.any(right[~split] != -1):
        raise ForestLayoutError("expected right == -1 exactly where left == -1 (leaves)")
    if np.any((feature[split] < 0) | (feature[split] >= n_features)):
        raise ForestLayoutError(f"expected feature indices from 0 to {n_features - 1} at split nodes")
    order = _preorder(left, right, roots, n)  # position -> node
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    split_at = split[order]
    # preorder puts a split's left child next; the walk relies on it
    if np.any(position[left[order][split_at]] != np.flatnonzero(split_at) + 1):
        raise ForestLayoutError("expected every node reachable from its tree's root, once")  # pragma: no cover
    is_set = np.zeros(n, dtype=bool)
    is_set[list(sets)] = True
    nodes = np.zeros(n, dtype=NODE)
    nodes["threshold"] = np.where(split_at, threshold[order], np.nan)
    nodes["word"] = np.where(
        split_at,
        feature[order].astype(np.uint32)
        | (missing_left[order].astype(np.uint32) << FEATURE_BITS)
        | (is_set[order].astype(np.uint32) << 31),
        0,
    )
    nodes["right"] = np.where(split_at, position[np.where(split, right, 0)][order], np.arange(n))
    set_order = sorted(sets, key=lambda node: position[node])
    sizes = [len(sets[node]) for node in set_order]
    return CompactForest(
        nodes=nodes.tobytes(),
        starts=np.append(roots, n).astype(np.int64),
        set_nodes=np.array([position[node] for node in set_order], dtype=np.int64),
        set_offsets=np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64),
        set_values=np.concatenate([np.asarray(sets[node], dtype=np.float64) for node in set_order] or [[]]),
        original=order,
        n_features=int(n_features),
    )


def _preorder(left: np.ndarray, right: np.ndarray, roots: np.ndarray, n: int) -> np.ndarray:
    """Every tree's nodes in preorder (root, left subtree, right subtree), trees in order: a
    level at a time, each node placed after its parent by the size of the subtrees before it."""
    size = np.ones(n, dtype=np.int64)
    levels = [roots]
    while True:  # top down, then sizes bottom up
        frontier = levels[-1]
        frontier = frontier[left[frontier] >= 0]
        if frontier.size == 0:
            break
        if sum(len(level) for level in levels) > n:
            raise ForestLayoutError("expected trees without cycles")
        levels.append(np.concatenate([left[frontier], right[frontier]]))
    for level in reversed(levels[:-1]):
        inner = level[left[level] >= 0]
        size[inner] += size[left[inner]] + size[right[inner]]
    place = np.empty(n, dtype=np.int64)
    place[roots] = roots
    for level in levels[:-1]:
        inner = level[left[level] >= 0]
        place[left[inner]] = place[inner] + 1
        place[right[inner]] = place[inner] + 1 + size[left[inner]]
    reached = np.concatenate(levels)
    places = place[reached]
    seen = np.zeros(n, dtype=bool)
    if len(reached) == n and places.min() >= 0 and places.max() < n:
        seen[places] = True  # n places, all seen: each node has its own
    if not seen.all():
        raise ForestLayoutError("expected every node reachable from its tree's root, once")
    order = np.empty(n, dtype=np.int64)
    order[place] = np.arange(n)
    return order


def _extension():
    if _leaves is None:
        raise CompiledWalkUnavailable(
            "the compiled leaf walk (crossform._leaves) was not built in this install; "
            "walk in numpy (CROSSFORM_LEAF_WALK=numpy) or reinstall crossform with a C compiler"
        )
    return _leaves


def walk(forest: CompactForest, X: np.ndarray, values: np.ndarray = None, acc: np.ndarray = None) -> np.ndarray:
    """The leaf each row of X (rows x n_features) reaches in each tree: rows x trees, int64,
    node indices in the forest's arrays. With ``values`` (a row per node, float64 or float32)
    and ``acc`` (rows x outputs, the same dtype, C-contiguous), each tree's leaf value is also
    added to ``acc`` in place, tree by tree in order: ``acc + values[leaves[:, 0]] +
    values[leaves[:, 1]] + ...`` as a numpy left fold rounds it."""
    leaves = _extension()
    X = np.ascontiguousarray(X, dtype=np.float64)
    out = np.empty((forest.n_trees, len(X)), dtype=np.int64)  # tree-major, as the walk writes it
    fold = () if values is None else (np.ascontiguousarray(values), acc)
    leaves.walk(
        forest.nodes,
        forest.starts,
        forest.set_nodes,
        forest.set_offsets,
        forest.set_values,
        forest.original,
        forest.n_features,
        X,
        out,
        *fold,
    )
    return out.T
