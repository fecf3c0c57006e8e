"""The product rule against scikit-learn's PolynomialFeatures: the frontend's factor lists, folded
in order by crossform.rules, give PolynomialFeatures.transform's columns bit for bit, for every
degree, interaction_only, include_bias and degree range; NaN and +-inf are refused as its input
check refuses them. Expected values come from PolynomialFeatures.transform, never the evaluator."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import PolynomialFeatures

from crossform import ir, rules
from crossform.sklearn.derived import polynomial_terms

RNG = np.random.default_rng(3)
# scales from 1e-150 to 1e100, -0.0, subnormals and values whose products round differently
X = np.vstack(
    [
        RNG.normal(size=(300, 4)) * np.array([1.0, 1e3, 1e-3, 7.0]),
        RNG.normal(size=(20, 4)) * 1e100,
        RNG.normal(size=(20, 4)) * 1e-150,
        [[-0.0, 5e-324, 1e308, -1e-308]],
        [[3.0, 1.0 / 3.0, 0.1, 1e154]],
    ]
)

SETTINGS = [
    {"degree": 2},
    {"degree": 3},
    {"degree": 4},
    {"degree": 3, "interaction_only": True},
    {"degree": 2, "include_bias": False},
    {"degree": (2, 3)},
    {"degree": (2, 4), "include_bias": False},
    {"degree": (3, 3), "interaction_only": True},
    {"degree": 0},
]


@pytest.mark.parametrize("params", SETTINGS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_products_are_polynomial_features_transform_bit_for_bit(params):
    sk = PolynomialFeatures(**params).fit(X)
    with np.errstate(over="ignore", invalid="ignore"):  # 1e308 squared is inf, times -0.0 NaN
        expected = sk.transform(X)
    terms = polynomial_terms(sk, X.shape[1])
    assert len(terms) == expected.shape[1]
    enc = ir.Product(("a", "b", "c", "d"), terms, tuple(f"t{k}" for k in range(len(terms))))
    got = rules.combine(enc, [X[:, j].copy() for j in range(4)])
    for k in range(len(terms)):
        assert np.array_equal(got[k], expected[:, k], equal_nan=True), (k, terms[k])


def test_another_order_of_the_same_factors_differs_somewhere():
    # the order is part of the rule: (a * b) * c and a * (b * c) differ on some rows
    a, b, c = X[:300, 0], X[:300, 1], X[:300, 2]
    left = rules.combine(ir.Product(("a", "b", "c"), ((0, 1, 2),), ("p",)), [a, b, c])[0]
    right = rules.combine(ir.Product(("a", "b", "c"), ((1, 2, 0),), ("p",)), [a, b, c])[0]
    assert not np.array_equal(left, right)
    assert np.array_equal(left, (a * b) * c) and np.array_equal(right, (b * c) * a)


def test_products_refuse_nan_and_infinities_in_every_feature_as_polynomial_features_does():
    sk = PolynomialFeatures(degree=2, interaction_only=True, include_bias=False).fit(X[:, :2])
    enc = ir.Product(("a", "b"), ((0, 1),), ("a b",))
    column = np.array([0.5, np.nan, np.inf, -np.inf, 1e300])
    for j in range(2):
        (same,), refused = rules.product(enc, j, column.copy())
        rows = np.zeros(len(column), dtype=bool)
        for mask, _ in refused:
            rows |= mask
        assert rows.tolist() == [False, True, True, True, False]
        assert np.array_equal(same, column, equal_nan=True)
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError):
            sk.transform([[bad, 1.0]])
        with pytest.raises(ValueError):
            sk.transform([[1.0, bad]])
    # a finite product that overflows is no error of the step itself: inf, as scikit-learn gives
    with np.errstate(over="ignore"):
        assert sk.transform([[1e300, 1e300]])[0, 2] == np.inf  # columns a, b, a b
    assert rules.combine(enc, [np.array([1e300]), np.array([1e300])])[0][0] == np.inf
