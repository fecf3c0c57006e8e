"""IR construction: every broken contract is refused with the one error template."""

from __future__ import annotations

import re

import numpy as np
import pytest

from crossform import ir
from crossform.errors import IRValidationError
from helpers.packages import small_package, small_tree

TEMPLATE = re.compile(r"^The '\w+' field of [\w ()]+ must be .+\. Got .+ instead\.$", re.S)


def tree_parts(**changes):
    t = small_tree()
    parts = dict(
        feature=t.feature, threshold=t.threshold, left=t.left, right=t.right, missing_left=t.missing_left, value=t.value
    )
    parts.update(changes)
    return parts


BROKEN_TREES = {
    "empty": dict(feature=[], threshold=[], left=[], right=[], missing_left=[], value=np.zeros((0, 2))),
    "length mismatch": dict(threshold=[0.5, 0.0, 2.0, 0.0]),
    "child out of range": dict(left=[1, -1, 9, -1, -1]),
    "child is the root": dict(right=[0, -1, 4, -1, -1]),
    "half a leaf": dict(right=[2, -1, -1, -1, -1]),
    "shared child": dict(left=[1, -1, 1, -1, -1]),
    "cycle": dict(
        feature=[0, -1, 1, 0, -1], threshold=[0.5, 0, 2.0, 1.0, 0], left=[1, -1, 3, 2, -1], right=[2, -1, 4, 4, -1]
    ),
    "negative feature at split": dict(feature=[-1, -1, 1, -1, -1]),
    "feature at leaf": dict(feature=[0, 3, 1, -1, -1]),
    "-inf threshold": dict(threshold=[-np.inf, 0.0, 2.0, 0.0, 0.0]),
    "NaN threshold": dict(threshold=[np.nan, 0.0, 2.0, 0.0, 0.0]),
    "set at a leaf": dict(sets=(None, (1.0,), None, None, None)),
    "set at a threshold node": dict(sets=((1.0,), None, None, None, None)),
    "set of the wrong length": dict(sets=(None, None)),
    "repeated set value": dict(threshold=[0.0, 0.0, 2.0, 0.0, 0.0], sets=((1.0, 1.0), None, None, None, None)),
    "NaN in a set": dict(threshold=[0.0, 0.0, 2.0, 0.0, 0.0], sets=((np.nan,), None, None, None, None)),
    "NaN value": dict(value=np.full((5, 2), np.nan)),
    "value at split node": dict(value=np.ones((5, 2))),
    "float children": dict(left=[1.5, -1, 3, -1, -1]),
    "huge feature": dict(feature=[2**40, -1, 1, -1, -1]),
    "missing_left at leaf": dict(missing_left=[True, True, False, False, False]),
    "one-dimensional value": dict(value=np.zeros(5)),
}


@pytest.mark.parametrize("name", BROKEN_TREES)
def test_broken_trees_are_refused(name):
    with pytest.raises(IRValidationError) as info:
        ir.Tree(**tree_parts(**BROKEN_TREES[name]))
    assert TEMPLATE.match(str(info.value)), str(info.value)


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


BROKEN_PACKAGES = {
    "unknown column": dict(encoders=(ir.Scale(("nope",), [0.0], [1.0]),)),
    "kind mismatch": dict(encoders=(ir.Scale(("colour",), [0.0], [1.0]),)),
    "categorical into the model": dict(encoders=()),
    "duplicate inputs": dict(inputs=(ir.Field("size", ir.NUMERIC), ir.Field("size", ir.NUMERIC))),
    "no inputs": dict(inputs=()),
    "metadata not text": dict(metadata={"n": 1}),
    "owner not text": dict(owner=3),
    "tag empty": dict(tags=("",)),
}


@pytest.mark.parametrize("name", BROKEN_PACKAGES)
def test_broken_packages_are_refused(name):
    with pytest.raises(IRValidationError) as info:
        small_package(**BROKEN_PACKAGES[name])
    assert TEMPLATE.match(str(info.value)), str(info.value)


def test_error_message_says_what_and_where():
    with pytest.raises(
        IRValidationError,
        match=r"The 'left' field of Tree must be child indices in \[1, 5\) "
        r"at split nodes\. Got left=9, right=4 at node 2 instead\.",
    ):
        ir.Tree(**tree_parts(left=[1, -1, 9, -1, -1]))


def test_field_kind():
    with pytest.raises(IRValidationError, match="The 'kind' field of Field must be one of"):
        ir.Field("a", "text")


def test_set_splits_are_kept_sorted_and_plain_trees_have_none():
    tree = ir.Tree(**tree_parts(threshold=[0.0, 0.0, 2.0, 0.0, 0.0], sets=((3.0, 1.0), None, None, None, None)))
    assert tree.sets[0] == (1.0, 3.0) and tree.has_sets and tree.is_set.tolist() == [True] + [False] * 4
    assert ir.Tree(**tree_parts(sets=(None,) * 5)).sets == ()
