"""crossform.checks on hand-made checks and scores: the JSON round trip, what compare reports,
and leaf positions in preorder whatever the node numbering."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from crossform import checks, ir
from crossform.evaluator import Scores

COLUMNS = (ir.Field("colour", ir.CATEGORICAL), ir.Field("size", ir.NUMERIC))
OUTPUTS = ("probability(no)", "probability(yes)")

# root 0 sends x0 <= 0.5 to node 2 (a split on x1) and the rest to leaf 1; node 2 has leaves 3 and 4.
# Preorder visits 0, 2, 3, 4, 1: the leaf numbered 1 is the last position, 4.
TREE = ir.Tree(
    feature=[0, -1, 1, -1, -1],
    threshold=[0.5, 0.0, 2.0, 0.0, 0.0],
    left=[2, -1, 3, -1, -1],
    right=[1, -1, 4, -1, -1],
    missing_left=[True, False, False, False, False],
    value=[[0.0, 0.0], [0.1, 0.9], [0.0, 0.0], [0.6, 0.4], [0.3, 0.7]],
)
MODEL = ir.TreeEnsemble(("colour", "size"), (TREE,), classes=("no", "yes"))


def sample(**changes) -> checks.Checks:
    parts = dict(
        description="hand-made rows",
        columns=COLUMNS,
        rows=(("red", 0.25), (None, math.nan), ("blue", math.inf), ("mauve", -math.inf)),
        labels=("left", "missing", "infinite", "unknown"),
        outputs=OUTPUTS,
        values=np.array([[0.6, 0.4], [0.3, 0.7], [0.1, 0.9], [math.nan, math.nan]]),
        errors=np.array([False, False, False, True]),
        predicted=("no", "yes", "yes", None),
        leaves=np.array([[2], [3], [4], [-1]]),
        expected_by="scikit-learn 9.9 (hand-made for this test)",
    )
    parts.update(changes)
    return checks.Checks(**parts)


def scores_for(expected: checks.Checks, **changes) -> Scores:
    """What a runtime that agrees with ``expected`` reports (leaves as node numbers)."""
    parts = dict(
        values=expected.values.copy(),
        outputs=expected.outputs,
        errors=["unknown category 'mauve'" if e else None for e in expected.errors],
        classes=("no", "yes"),
        leaves=np.array([[3], [4], [1], [-1]]),
    )
    parts.update(changes)
    return Scores(**parts)


def assert_same_checks(a: checks.Checks, b: checks.Checks) -> None:
    assert (a.description, a.columns, a.labels, a.outputs, a.predicted, a.expected_by) == (
        b.description,
        b.columns,
        b.labels,
        b.outputs,
        b.predicted,
        b.expected_by,
    )
    assert (a.tolerance, a.absolute) == (b.tolerance, b.absolute)
    assert len(a.rows) == len(b.rows)
    for ra, rb in zip(a.rows, b.rows):  # NaN cells compare equal to NaN, and keep their type
        assert [type(v) for v in ra] == [type(v) for v in rb]
        assert all(x == y or (x != x and y != y) for x, y in zip(ra, rb)), (ra, rb)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.errors, b.errors)
    np.testing.assert_array_equal(a.leaves, b.leaves)


# ---------------------------------------------------------------- the JSON document


@pytest.mark.parametrize(
    "changes",
    [{}, {"predicted": None, "leaves": None}, {"absolute": 1e-12}],
    ids=["classes and leaves", "values only", "absolute bound"],
)
def test_checks_survive_the_json_document_round_trip(changes):
    original = sample(**changes)
    doc = json.loads(json.dumps(checks.to_document(original), allow_nan=False))  # strict JSON: no bare NaN
    assert_same_checks(original, checks.from_document(doc, "checks.json"))


def test_the_document_spells_special_numbers_and_error_rows_as_the_schema_says():
    doc = checks.to_document(sample())
    assert doc["rows"] == [["red", 0.25], [None, "NaN"], ["blue", "Infinity"], ["mauve", "-Infinity"]]
    assert doc["expected"]["values"][3] is None and doc["expected"]["leaves"][3] is None


def test_a_document_with_a_row_too_short_is_refused_by_name():
    doc = checks.to_document(sample())
    doc["rows"][1] = [None]
    with pytest.raises(checks.MalformedPackageError, match=r"checks.json.*row 1: expected 2 values.*found 1"):
        checks.from_document(doc, "checks.json")


# ---------------------------------------------------------------- compare


def test_scores_that_agree_compare_identical():
    expected = sample()
    result = checks.compare(expected, scores_for(expected), MODEL)
    assert result.ok and result.leaves_compared and result.summary() == "4 rows identical"


def test_a_value_beyond_the_tolerance_is_reported_with_its_row_and_output():
    expected = sample()
    values = expected.values.copy()
    values[1, 1] = 0.7 * (1 + 1e-11)
    result = checks.compare(expected, scores_for(expected, values=values), MODEL)
    assert not result.ok and result.counts["value"] == 1
    [m] = result.mismatches
    assert (m.row, m.label, m.kind, m.what, m.expected, m.got) == (
        1,
        "missing",
        "value",
        "probability(yes)",
        0.7,
        values[1, 1],
    )
    assert result.summary() == "1 row differs in value"


def test_a_value_within_the_tolerance_is_no_difference():
    expected = sample()
    values = expected.values.copy()
    values[1, 1] = 0.7 * (1 + 1e-13)
    assert checks.compare(expected, scores_for(expected, values=values), MODEL).ok


def test_an_expected_zero_must_be_exactly_zero():
    expected = sample(values=np.array([[0.0, 1.0], [0.3, 0.7], [0.1, 0.9], [math.nan, math.nan]]))
    values = expected.values.copy()
    values[0, 0] = 5e-324
    result = checks.compare(expected, scores_for(expected, values=values), MODEL)
    assert result.counts["value"] == 1 and result.mismatches[0].row == 0


def test_another_leaf_is_reported_as_a_preorder_position():
    expected = sample()
    leaves = np.array([[3], [4], [4], [-1]])  # row 2 reaches node 4 (position 3), not node 1 (position 4)
    result = checks.compare(expected, scores_for(expected, leaves=leaves), MODEL)
    assert result.counts["leaf"] == 1
    [m] = result.mismatches
    assert (m.row, m.kind, m.what, m.expected, m.got) == (2, "leaf", "tree 0 leaf", 4, 3)


def test_a_row_error_where_scores_were_expected_is_reported_and_the_reverse_too():
    expected = sample()
    errors = ["feature 'size': value inf is not finite", None, None, None]
    values = expected.values.copy()
    values[0] = math.nan
    values[3] = [0.5, 0.5]
    result = checks.compare(
        expected, scores_for(expected, errors=errors, values=values, leaves=np.array([[-1], [4], [1], [3]])), MODEL
    )
    assert result.counts["error"] == 2
    assert [(m.row, m.kind, m.expected) for m in result.mismatches] == [
        (0, "error", "scores"),
        (3, "error", "a row error"),
    ]
    assert "is not finite" in result.mismatches[0].got
    assert result.counts["value"] == 0 and result.counts["leaf"] == 0  # rows in error on either side


def test_another_class_is_reported():
    expected = sample(predicted=("yes", "yes", "yes", None))  # row 0 expects yes although 0.6 > 0.4
    result = checks.compare(expected, scores_for(expected), MODEL)
    assert result.counts["class"] == 1
    assert [(m.row, m.kind, m.expected, m.got) for m in result.mismatches] == [(0, "class", "yes", "no")]


def test_other_outputs_are_one_mismatch_for_every_row():
    expected = sample()
    result = checks.compare(expected, scores_for(expected, outputs=("p0", "p1")), MODEL)
    assert result.counts == {"outputs": 4}


# ---------------------------------------------------------------- leaf positions


def test_leaf_positions_turn_node_numbers_into_preorder_positions():
    got = checks.leaf_positions(MODEL, np.array([[3], [4], [1], [-1]]))
    assert got.tolist() == [[2], [3], [4], [-1]]


def test_leaf_positions_of_a_tree_numbered_in_preorder_are_its_node_numbers():
    preorder = ir.Tree(
        feature=[0, -1, 1, -1, -1],
        threshold=[0.5, 0.0, 2.0, 0.0, 0.0],
        left=[1, -1, 3, -1, -1],
        right=[2, -1, 4, -1, -1],
        missing_left=[True] + [False] * 4,
        value=TREE.value,
    )
    model = ir.TreeEnsemble(("colour", "size"), (preorder, TREE), classes=("no", "yes"))
    got = checks.leaf_positions(model, np.array([[1, 1], [3, 3], [4, 4]]))
    assert got.tolist() == [[1, 4], [3, 2], [4, 3]]


def test_leaf_positions_of_no_leaves_are_none():
    assert checks.leaf_positions(MODEL, None) is None
