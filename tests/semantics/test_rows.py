"""Scoring input: DataFrames, column mappings and row mappings, typed per field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crossform
from crossform.errors import InputError
from helpers.packages import small_package


@pytest.fixture
def pkg():
    return small_package()


def test_three_input_shapes_score_alike(pkg):
    rows = [{"colour": "red", "size": 1.0}, {"colour": None, "size": 30.0}, {"colour": "blue", "size": np.nan}]
    columns = {"colour": ["red", None, "blue"], "size": [1.0, 30.0, np.nan]}
    frame = pd.DataFrame(columns)
    a, b, c = (crossform.score(pkg, x) for x in (rows, columns, frame))
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.values, c.values)
    assert a.errors == b.errors == c.errors == [None, None, None]


def test_absent_field_in_a_row_is_missing(pkg):
    scores = crossform.score(pkg, [{"size": 1.0}, {"colour": "red"}])
    full = crossform.score(pkg, [{"colour": None, "size": 1.0}, {"colour": "red", "size": None}])
    np.testing.assert_array_equal(scores.values, full.values)


def test_missing_column_is_a_batch_error(pkg):
    with pytest.raises(InputError, match=r"Missing: \['size'\]"):
        crossform.score(pkg, pd.DataFrame({"colour": ["red"]}))


def test_ragged_columns(pkg):
    with pytest.raises(InputError, match="one length"):
        crossform.score(pkg, {"colour": ["red", "blue"], "size": [1.0]})


@pytest.mark.parametrize("bad", [42, "rows", [1, 2]])
def test_unreadable_input(pkg, bad):
    with pytest.raises(InputError):
        crossform.score(pkg, bad)


def test_wrong_types_are_row_errors(pkg):
    rows = [
        {"colour": "red", "size": "12"},
        {"colour": 3, "size": 1.0},
        {"colour": "red", "size": True},
        {"colour": "red", "size": np.float32(2.5)},
        {"colour": "red", "size": pd.NA},
    ]
    scores = crossform.score(pkg, rows)
    assert scores.errors[0] == "feature 'size': expected a number or missing, got '12' (str)"
    assert scores.errors[1] == "feature 'colour': expected a string category or missing, got 3 (int)"
    assert scores.errors[2:] == [None, None, None]  # bool is 0/1, numpy numbers and pandas NA are fine


def test_nullable_pandas_dtypes(pkg):
    frame = pd.DataFrame(
        {"colour": pd.array(["red", None], dtype="string"), "size": pd.array([1.0, None], dtype="Float64")}
    )
    rows = [{"colour": "red", "size": 1.0}, {"colour": None, "size": None}]
    np.testing.assert_array_equal(crossform.score(pkg, frame).values, crossform.score(pkg, rows).values)


def test_empty_batch(pkg):
    scores = crossform.score(pkg, pd.DataFrame({"colour": pd.Series([], dtype=object), "size": []}))
    assert scores.values.shape == (0, 2) and scores.errors == []


def test_unknown_runtime(pkg):
    with pytest.raises(crossform.UnknownRuntimeError, match="reference"):
        crossform.score(pkg, [], runtime="no-such-runtime")


def test_integer_beyond_float64_is_a_row_error(pkg):
    scores = crossform.score(pkg, [{"colour": "red", "size": 10**400}, {"colour": "red", "size": 3}])
    assert scores.errors[0].startswith("feature 'size': value 1000") and "beyond the float64 range" in scores.errors[0]
    assert scores.errors[1] is None
