"""Trees: what Tree refuses, by field and whole message, and what it keeps.

A tree is one binary tree from node 0: each node but the root has one parent, every node is
reachable, leaves have feature == left == right == -1 with threshold 0.0 and missing_left False
and are the only nodes with values; set splits sit at split nodes with threshold 0.0.
"""

from __future__ import annotations

import numpy as np
import pytest

from crossform import ir
from crossform.errors import IRValidationError
from helpers.packages import small_tree


def tree_parts(**changes):
    """small_tree's arrays: node 0 splits x0 <= 0.5 (leaf 1 | node 2), node 2 splits x1 <= 2.0 (leaf 3 | leaf 4)."""
    t = small_tree()
    parts = dict(
        feature=t.feature, threshold=t.threshold, left=t.left, right=t.right, missing_left=t.missing_left, value=t.value
    )
    parts.update(changes)
    return parts


def leaf_values(*leaves: int) -> np.ndarray:
    """Values for five nodes of two outputs: 0.0 at split nodes, distinct numbers at ``leaves``."""
    value = np.zeros((5, 2))
    value[list(leaves)] = np.arange(2 * len(leaves)).reshape(-1, 2) + 1.0
    return value


LEAF_RULE = "-1, with threshold 0.0 and missing_left False, at leaves"
ONE_PARENT = "child links forming one tree (each node but the root has one parent)"
SET_AT_ROOT = dict(threshold=[0.0, 0.0, 2.0, 0.0, 0.0])

REFUSED_TREES = {
    "no node": (
        dict(feature=[], threshold=[], left=[], right=[], missing_left=[], value=np.zeros((0, 2))),
        "The 'feature' field of Tree must be an array of at least one node. Got an empty array instead.",
    ),
    "arrays of different lengths": (
        dict(threshold=[0.5, 0.0, 2.0, 0.0]),
        "The 'threshold' field of Tree must be 5 entries, one per node. Got 4 entries instead.",
    ),
    "float children": (
        dict(left=[1.5, -1, 3, -1, -1]),
        "The 'left' field of Tree must be an array of int32 values. "
        "Got an array of dtype float64 and shape (5,) instead.",
    ),
    "integer missing directions": (
        dict(missing_left=[1, 0, 0, 0, 0]),
        "The 'missing_left' field of Tree must be an array of bool values. "
        "Got an array of dtype int64 and shape (5,) instead.",
    ),
    "feature index beyond int32": (
        dict(feature=[2**40, -1, 1, -1, -1]),
        "The 'feature' field of Tree must be int32 values. Got values up to 1099511627776 instead.",
    ),
    "one-dimensional values": (
        dict(value=np.zeros(5)),
        "The 'value' field of Tree must be a 2-dimensional array. Got an array of dtype float64 and shape (5,) instead.",
    ),
    "values with no output": (
        dict(value=np.zeros((5, 0))),
        "The 'value' field of Tree must be at least one output per node. "
        "Got an array of dtype float64 and shape (5, 0) instead.",
    ),
    "half a leaf": (
        dict(right=[2, -1, -1, -1, -1]),
        "The 'right' field of Tree must be -1 exactly where 'left' is -1 (leaves). Got left=3, right=-1 at node 2 "
        "instead.",
    ),
    "a leaf marked by another negative": (
        dict(left=[1, -2, 3, -1, -1]),
        "The 'left' field of Tree must be -1 at leaves (no other negative value). Got -2 at node 1 instead.",
    ),
    "child beyond the nodes": (
        dict(left=[1, -1, 9, -1, -1]),
        "The 'left' field of Tree must be child indices in [1, 5) at split nodes. Got left=9, right=4 at node 2 "
        "instead.",
    ),
    "the root as a child": (
        dict(right=[0, -1, 4, -1, -1]),
        "The 'left' field of Tree must be child indices in [1, 5) at split nodes. Got left=1, right=0 at node 0 "
        "instead.",
    ),
    "negative feature at a split": (
        dict(feature=[-1, -1, 1, -1, -1]),
        "The 'feature' field of Tree must be a feature index >= 0 at split nodes. Got -1 at node 0 instead.",
    ),
    "feature at a leaf": (
        dict(feature=[0, 3, 1, -1, -1]),
        f"The 'feature' field of Tree must be {LEAF_RULE}. Got feature=3, threshold=0.0, missing_left=False "
        "at leaf 1 instead.",
    ),
    "missing_left at a leaf": (
        dict(missing_left=[True, True, False, False, False]),
        f"The 'feature' field of Tree must be {LEAF_RULE}. Got feature=-1, threshold=0.0, missing_left=True "
        "at leaf 1 instead.",
    ),
    "-inf threshold": (
        dict(threshold=[-np.inf, 0.0, 2.0, 0.0, 0.0]),
        "The 'threshold' field of Tree must be numbers or +inf. Got -inf at node 0 instead.",
    ),
    "NaN threshold": (
        dict(threshold=[np.nan, 0.0, 2.0, 0.0, 0.0]),
        "The 'threshold' field of Tree must be numbers or +inf. Got nan at node 0 instead.",
    ),
    "NaN value": (
        dict(value=np.full((5, 2), np.nan)),
        "The 'value' field of Tree must be finite numbers. Got nan at index (0, 0) instead.",
    ),
    "value at a split node": (
        dict(value=np.ones((5, 2))),
        "The 'value' field of Tree must be 0.0 at split nodes (only leaves carry values). Got [1.0, 1.0] at node 0 "
        "instead.",
    ),
    "a shared child": (
        dict(left=[1, -1, 1, -1, -1]),
        f"The 'left' field of Tree must be {ONE_PARENT}. Got node 1 with 2 parents instead.",
    ),
    "a cycle back to an ancestor": (
        dict(
            feature=[0, -1, 1, 0, -1],
            threshold=[0.5, 0, 2.0, 1.0, 0],
            left=[1, -1, 3, 2, -1],
            right=[2, -1, 4, 4, -1],
            value=leaf_values(1, 4),
        ),
        f"The 'left' field of Tree must be {ONE_PARENT}. Got node 2 with 2 parents instead.",
    ),
    "a loop cut off from the root": (
        # node 3 is its own left child: every node has one parent, nodes 3 and 4 hang from no root path
        dict(
            feature=[0, -1, -1, 1, -1],
            threshold=[0.5, 0.0, 0.0, 1.0, 0.0],
            left=[1, -1, -1, 3, -1],
            right=[2, -1, -1, 4, -1],
            value=leaf_values(1, 2, 4),
        ),
        "The 'left' field of Tree must be child links forming one tree (every node reachable from the root). "
        "Got 2 unreachable nodes instead.",
    ),
    "sets as one string": (
        dict(sets="abc"),
        "The 'sets' field of Tree must be a sequence with one entry per node (or empty). Got 'abc' instead.",
    ),
    "sets for another number of nodes": (
        dict(sets=(None, None)),
        "The 'sets' field of Tree must be 5 entries, one per node (or none). Got 2 entries instead.",
    ),
    "a set at a leaf": (
        dict(sets=(None, (1.0,), None, None, None)),
        "The 'sets' field of Tree must be None at leaves (only split nodes test a set). Got a set at leaf 1 instead.",
    ),
    "a set at a threshold node": (
        dict(sets=((1.0,), None, None, None, None)),
        "The 'threshold' field of Tree must be 0.0 at set nodes. Got 0.5 at node 0 instead.",
    ),
    "a set beyond the largest size": (
        dict(SET_AT_ROOT, sets=(range(ir.MAX_SET_SIZE + 1), None, None, None, None)),
        "The 'sets' field of Tree must be a sequence of at most 65536 numbers per set node. "
        "Got range(0, 65537) instead.",
    ),
    "a repeated set value": (
        dict(SET_AT_ROOT, sets=((1.0, 1.0), None, None, None, None)),
        "The 'sets' field of Tree must be distinct values (node 0). Got [1.0, 1.0] instead.",
    ),
    "NaN in a set": (
        dict(SET_AT_ROOT, sets=((np.nan,), None, None, None, None)),
        "The 'sets' field of Tree must be a finite number. Got nan instead.",
    ),
    "text in a set": (
        dict(SET_AT_ROOT, sets=(("a",), None, None, None, None)),
        "The 'sets' field of Tree must be a number. Got 'a' instead.",
    ),
}


@pytest.mark.parametrize("name", REFUSED_TREES)
def test_tree_refusals(name):
    changes, message = REFUSED_TREES[name]
    with pytest.raises(IRValidationError) as info:
        ir.Tree(**tree_parts(**changes))
    assert str(info.value) == message


def test_tree_arrays_are_read_only_copies():
    threshold = np.array([0.5, 0.0, 2.0, 0.0, 0.0])
    tree = ir.Tree(**tree_parts(threshold=threshold))
    threshold[0] = 99.0
    assert tree.threshold[0] == 0.5
    with pytest.raises(ValueError):
        tree.threshold[0] = 1.0


def test_tree_depth_and_preorder():
    tree = small_tree()
    assert tree.depth == 2 and tree.n_leaves == 3
    assert tree.preorder.tolist() == [0, 1, 2, 3, 4]


def test_preorder_ignores_node_numbering():
    # small_tree numbered breadth-last: root 0, its right split at 1, the leaves after
    tree = ir.Tree(
        feature=[0, 1, -1, -1, -1],
        threshold=[0.5, 2.0, 0.0, 0.0, 0.0],
        left=[4, 2, -1, -1, -1],
        right=[1, 3, -1, -1, -1],
        missing_left=[True, False, False, False, False],
        value=np.zeros((5, 1)),
    )
    assert tree.preorder.tolist() == [0, 4, 1, 2, 3]


def test_plus_infinity_is_a_threshold():
    # histogram boosting's "every number left, NaN right"
    assert ir.Tree(**tree_parts(threshold=[np.inf, 0.0, 2.0, 0.0, 0.0])).threshold[0] == np.inf


def test_set_splits_are_kept_sorted_and_plain_trees_have_none():
    tree = ir.Tree(**tree_parts(**SET_AT_ROOT, sets=((3.0, 1.0), None, None, None, None)))
    assert tree.sets[0] == (1.0, 3.0) and tree.has_sets and tree.is_set.tolist() == [True] + [False] * 4
    assert ir.Tree(**tree_parts(sets=(None,) * 5)).sets == ()
