"""The IR's divisors (docs/SEMANTICS.md: the aggregated outputs divided in turn before the post
transform): what it refuses, message by message."""

from __future__ import annotations

import numpy as np
import pytest

from crossform import ir
from crossform.errors import CrossformError


def _stump() -> ir.Tree:
    return ir.Tree([0, -1, -1], [0.5, 0.0, 0.0], [1, -1, -1], [2, -1, -1], [True, False, False], [[0.0], [-1.0], [2.0]])


def test_divisors_are_kept_as_floats_in_order():
    model = ir.TreeEnsemble(("a",), (_stump(),), "average", divisors=[3, 0.5])
    assert model.divisors == (3.0, 0.5) and all(type(d) is float for d in model.divisors)
    assert ir.TreeEnsemble(("a",), (_stump(),)).divisors == ()


@pytest.mark.parametrize(
    ("divisors", "message"),
    [
        ((0.0,), "finite numbers > 0"),
        ((-2.0,), "finite numbers > 0"),
        ((np.inf,), "a finite number"),
        ((np.nan,), "a finite number"),
        ("2", "a sequence of numbers > 0"),
        ((True,), "a number"),
    ],
)
def test_the_ir_refuses_bad_divisors_by_name(divisors, message):
    with pytest.raises(CrossformError, match=message):
        ir.TreeEnsemble(("a",), (_stump(),), "average", divisors=divisors)


def test_the_ir_refuses_divisors_beside_float32_accumulation_or_isolation():
    stump = _stump()
    with pytest.raises(CrossformError, match="divisors only with accumulate 'float64'"):
        ir.TreeEnsemble(("a",), (stump,), "sum", accumulate="float32", divisors=(2.0,))
    with pytest.raises(CrossformError, match="divisors only with accumulate 'float64'"):
        ir.TreeEnsemble(("a",), (stump,), "sum", "isolation", isolation=(2.0, 0.5), divisors=(2.0,))
