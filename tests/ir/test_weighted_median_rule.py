"""The IR's weighted-median aggregation (docs/SEMANTICS.md note 21, AdaBoostRegressor): its tree
weights and what it refuses, message by message."""

from __future__ import annotations

import numpy as np
import pytest

from crossform import ir
from crossform.errors import CrossformError


def _stump(width: int = 1) -> ir.Tree:
    value = [[0.0] * width, [-1.0] * width, [2.0] * width]
    return ir.Tree([0, -1, -1], [0.5, 0.0, 0.0], [1, -1, -1], [2, -1, -1], [True, False, False], value)


def test_tree_weights_are_kept_as_floats_one_per_tree():
    model = ir.TreeEnsemble(("a",), (_stump(), _stump()), "weighted-median", tree_weights=[1, 0.5])
    assert model.tree_weights == (1.0, 0.5) and all(type(w) is float for w in model.tree_weights)
    assert model.base_value is None and model.model_type == "regression-forest"
    assert ir.TreeEnsemble(("a",), (_stump(),)).tree_weights == ()


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ((1.0,), "2 weights, one per tree"),
        ((), "2 weights, one per tree"),
        ((-1.0, 2.0), "finite numbers >= 0"),
        ((np.inf, 1.0), "a finite number"),
        ((np.nan, 1.0), "a finite number"),
        ((0.0, 0.0), "summing to more than 0"),
        ("12", "a sequence of numbers >= 0"),
    ],
)
def test_the_ir_refuses_bad_tree_weights_by_name(weights, message):
    with pytest.raises(CrossformError, match=message):
        ir.TreeEnsemble(("a",), (_stump(), _stump()), "weighted-median", tree_weights=weights)


def test_tree_weights_belong_to_the_weighted_median_only():
    with pytest.raises(CrossformError, match="no tree weights with aggregation 'average'"):
        ir.TreeEnsemble(("a",), (_stump(),), "average", tree_weights=(1.0,))


@pytest.mark.parametrize(
    "fields",
    [
        {"post_transform": "exp"},
        {"divisors": (2.0,)},
        {"classes": ("no", "yes"), "post_transform": "logistic"},
    ],
)
def test_the_weighted_median_is_a_plain_regressor(fields):
    with pytest.raises(CrossformError, match="'weighted-median' only for a regressor"):
        ir.TreeEnsemble(("a",), (_stump(),), "weighted-median", tree_weights=(1.0,), **fields)
