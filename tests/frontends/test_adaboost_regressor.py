"""AdaBoostRegressor over single trees: the reference evaluator gives scikit-learn's predict bit
for bit on the probe rows and on random rows where trees tie, and what crossform cannot state is
refused by name."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.ensemble import AdaBoostRegressor
from sklearn.linear_model import LinearRegression
from sklearn.tree import DecisionTreeRegressor, ExtraTreeRegressor

import crossform
from crossform import evaluator
from crossform.checks import compare
from crossform.errors import UnsupportedEstimatorError


def _fit(estimator=None, seed: int = 0, step: float = 0.0, **params):
    X, y = make_regression(600, 5, n_informative=4, noise=5.0, random_state=seed)
    if step:
        y = np.round(y / step)  # an integer target: trees tie often
    return AdaBoostRegressor(estimator, random_state=0, **params).fit(X, y)


FITS = {
    "default": lambda: _fit(n_estimators=30),
    "stumps-ties": lambda: _fit(DecisionTreeRegressor(max_depth=1), 1, 80.0, n_estimators=50),
    "depth-2-ties-square": lambda: _fit(DecisionTreeRegressor(max_depth=2), 2, 40.0, n_estimators=40, loss="square"),
    "depth-3-ties": lambda: _fit(DecisionTreeRegressor(max_depth=3), 2, 100.0, n_estimators=40),
    "extra-trees-exponential": lambda: _fit(ExtraTreeRegressor(max_depth=4), 3, n_estimators=20, loss="exponential"),
}


@pytest.mark.parametrize("name", sorted(FITS))
def test_reference_gives_sklearns_predict_bit_for_bit(name):
    model = FITS[name]()
    package = crossform.from_sklearn(model, checks=600)
    assert package.model.aggregation == "weighted-median"
    scores = evaluator.score(package, package.checks.data())
    result = compare(package.checks, scores, package.model)
    assert result.ok, result.summary() + "\n" + "\n".join(str(m) for m in result.mismatches)
    assert result.leaves_compared and len(package.checks) >= 100
    X = np.random.default_rng(7).normal(size=(5000, 5)) * 2
    got = evaluator.score(package, {f.name: X[:, j] for j, f in enumerate(package.inputs)}).values[:, 0]
    assert np.array_equal(got, model.predict(X))  # bit for bit, not within a tolerance


def test_the_tie_fits_do_tie():
    """The fits above that round the target give rows where two trees predict the same value."""
    model = FITS["depth-3-ties"]()
    X = np.random.default_rng(7).normal(size=(2000, 5)) * 2
    P = np.array([e.predict(X) for e in model.estimators_]).T
    assert np.mean([len(np.unique(row)) < len(row) for row in P]) > 0.2


def test_weights_are_the_fitted_estimators():
    model = FITS["default"]()
    package = crossform.from_sklearn(model)
    assert package.model.tree_weights == tuple(model.estimator_weights_[: len(model.estimators_)].tolist())


def test_other_members_are_refused_by_name():
    X, y = make_regression(200, 3, random_state=0)
    model = AdaBoostRegressor(LinearRegression(), n_estimators=3, random_state=0).fit(X, y)
    with pytest.raises(
        UnsupportedEstimatorError, match="over LinearRegression: crossform exports AdaBoost over single trees"
    ):
        crossform.from_sklearn(model)


def test_nan_is_a_row_error_as_adaboost_refuses_it():
    model = FITS["default"]()
    package = crossform.from_sklearn(model)
    assert package.model.missing == "error"
    row = {f.name: [np.nan if j == 0 else 0.0] for j, f in enumerate(package.inputs)}
    assert not evaluator.score(package, row).ok[0]
