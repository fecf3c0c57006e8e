"""The reference evaluator on small hand-built packages, one docs/SEMANTICS.md rule at a time.

Each expected value is worked out here from the rule itself (plain Python floats), never by
crossform, so a wrong evaluator cannot agree with itself.
"""

from __future__ import annotations

import math
from functools import reduce

import numpy as np
import pytest

from crossform import evaluator, ir
from helpers.packages import leaf_only_tree, small_package, small_tree

NUMBERS = (ir.Field("x0", ir.NUMERIC), ir.Field("x1", ir.NUMERIC))


def trees_package(trees, aggregation="average", post_transform="none", classes=None, base_value=None) -> ir.Package:
    model = ir.TreeEnsemble(("x0", "x1"), tuple(trees), aggregation, post_transform, classes, base_value)
    return ir.Package(inputs=NUMBERS, encoders=(), model=model)


# ---------------------------------------------------------------- adding the trees

# 1e-16 is below half an ulp of 1.0: added one at a time to 1.0 each vanishes, added to each
# other first they survive. So the order of the additions shows in the last bit.
LEAVES = (1.0, 1e-16, 1e-16)


def test_the_order_of_the_leaves_changes_the_sum():
    # the premise of the two tests below: a pairwise or reversed sum gives another double
    assert reduce(lambda a, b: a + b, LEAVES, 0.0) != LEAVES[0] + (LEAVES[1] + LEAVES[2])
    assert reduce(lambda a, b: a + b, LEAVES, 0.0) != sum(reversed(LEAVES))


def test_average_is_a_left_fold_in_tree_order_then_a_division():
    package = trees_package([leaf_only_tree((v,)) for v in LEAVES])
    expected = reduce(lambda a, b: a + b, LEAVES, 0.0) / len(LEAVES)
    got = evaluator.score(package, {"x0": [0.0], "x1": [0.0]}).values
    assert got.tolist() == [[expected]]


def test_sum_folds_the_trees_onto_the_base_value_in_tree_order():
    package = trees_package([leaf_only_tree((v,)) for v in LEAVES[1:]], "sum", base_value=[LEAVES[0]])
    expected = reduce(lambda a, b: a + b, LEAVES[1:], LEAVES[0])
    assert expected == 1.0  # each 1e-16 vanishes against the base value
    got = evaluator.score(package, {"x0": [0.0], "x1": [0.0]}).values
    assert got.tolist() == [[expected]]


# ---------------------------------------------------------------- splits and missing values

# small_tree: x0 <= 0.5 ? node 1 : (x1 <= 2.0 ? node 3 : node 4); NaN in x0 goes left, NaN in x1 right
LEAF_VALUES = {1: [0.25, 0.75], 3: [0.9, 0.1], 4: [0.5, 0.5]}
ROWS = {
    "x0 at the threshold goes left": (0.5, 9.0, 1),
    "x0 just above goes right": (math.nextafter(0.5, 1.0), 2.0, 3),
    "x1 at its threshold goes left": (1.0, 2.0, 3),
    "NaN in x0 follows missingLeft (left)": (math.nan, 9.0, 1),
    "NaN in x1 follows missingLeft (right)": (1.0, math.nan, 4),
    "None is missing too": (None, 9.0, 1),
}


@pytest.mark.parametrize("label", ROWS)
def test_a_row_reaches_the_leaf_the_splits_and_missing_sides_give(label):
    x0, x1, leaf = ROWS[label]
    scores = evaluator.score(trees_package([small_tree()], classes=("no", "yes")), [{"x0": x0, "x1": x1}])
    assert scores.errors == [None]
    assert scores.leaves.tolist() == [[leaf]]
    assert scores.values.tolist() == [LEAF_VALUES[leaf]]


def test_missing_goes_to_the_recorded_side_whichever_it_is():
    tree = small_tree()
    right_first = ir.Tree(
        tree.feature, tree.threshold, tree.left, tree.right, [False, False, True, False, False], tree.value
    )
    scores = evaluator.score(
        trees_package([right_first], classes=("no", "yes")), [{"x0": math.nan, "x1": 9.0}, {"x0": 1.0, "x1": math.nan}]
    )
    assert scores.leaves.tolist() == [[4], [3]]  # x0 NaN: right, then x1 = 9.0 > 2.0; x1 NaN: left


# ---------------------------------------------------------------- row errors


def test_an_unknown_category_is_a_row_error_and_the_other_rows_score_as_if_alone():
    package = small_package()  # its colour encoding has no unknown code: an unknown colour is an error
    rows = [{"colour": "red", "size": 3.0}, {"colour": "mauve", "size": 3.0}, {"colour": "blue", "size": 30.0}]
    together = evaluator.score(package, rows)
    assert together.errors[0] is None and together.errors[2] is None
    assert "colour" in together.errors[1] and "unknown category 'mauve'" in together.errors[1]
    assert np.isnan(together.values[1]).all() and together.leaves[1].tolist() == [-1, -1]
    for i in (0, 2):
        alone = evaluator.score(package, [rows[i]])
        assert together.values[i].tolist() == alone.values[0].tolist()
        assert together.leaves[i].tolist() == alone.leaves[0].tolist()


# ---------------------------------------------------------------- post transforms


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@pytest.mark.parametrize("raw", [-2.5, 0.0, 0.75, 40.0])
def test_binary_logistic_gives_one_minus_p_and_p(raw):
    # base value 0.25 plus one leaf of raw - 0.25: the raw score is exactly raw for these values
    package = trees_package([leaf_only_tree((raw - 0.25,))], "sum", "logistic", ("no", "yes"), [0.25])
    p = logistic(0.25 + (raw - 0.25))
    got = evaluator.score(package, {"x0": [0.0], "x1": [0.0]}).values
    # 1 - p from p as written: at raw 40, p rounds to 1.0 and 1 - p is exactly 0.0, not exp(-40)
    np.testing.assert_allclose(got, [[1.0 - p, p]], rtol=1e-15, atol=0)


def test_logistic_of_a_hugely_negative_score_is_exactly_zero():
    package = trees_package([leaf_only_tree((-1000.0,))], "sum", "logistic", ("no", "yes"), [0.0])
    got = evaluator.score(package, {"x0": [0.0], "x1": [0.0]}).values
    assert got.tolist() == [[1.0, 0.0]]


def test_softmax_subtracts_the_row_maximum_and_normalises():
    raw = [0.5 + 1.0, -0.5 + 2.5, 0.0 - 3.0]
    package = trees_package([leaf_only_tree((1.0, 2.5, -3.0))], "sum", "softmax", ("a", "b", "c"), [0.5, -0.5, 0.0])
    top = max(raw)
    shifted = [math.exp(r - top) for r in raw]
    total = reduce(lambda a, b: a + b, shifted, 0.0)
    got = evaluator.score(package, {"x0": [0.0], "x1": [0.0]}).values[0]
    np.testing.assert_allclose(got, [s / total for s in shifted], rtol=1e-15, atol=0)
    assert evaluator.score(package, {"x0": [0.0], "x1": [0.0]}).labels() == ["b"]


def test_softmax_of_scores_beyond_exp_s_range_still_sums_to_one():
    package = trees_package([leaf_only_tree((800.0, 799.0, -800.0))], "sum", "softmax", ("a", "b", "c"), [0.0] * 3)
    got = evaluator.score(package, {"x0": [0.0], "x1": [0.0]}).values[0]
    e = math.exp(-1.0)
    np.testing.assert_allclose(got, [1 / (1 + e + 0.0), e / (1 + e + 0.0), 0.0], rtol=1e-15, atol=0)
