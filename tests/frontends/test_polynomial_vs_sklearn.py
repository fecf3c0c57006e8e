"""PolynomialFeatures against scikit-learn: packages score rows exactly as the fitted pipeline
predicts them (its predict / predict_proba, recorded in the package's checks), the rows its input
check refuses and the rows whose products overflow are row errors; elementwise functions
are refused by name. Expected outputs are scikit-learn's, never the evaluator's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, PolynomialFeatures, StandardScaler
from sklearn.tree import DecisionTreeClassifier

import crossform
from crossform import evaluator, ir
from crossform.checks import compare
from crossform.errors import UnsupportedEstimatorError

X_CLASSES, Y_CLASSES = make_classification(400, 3, n_informative=3, n_redundant=0, random_state=5)
X_VALUES, Y_VALUES = make_regression(400, 3, noise=1.0, random_state=5)

FITS = {
    "degree-2-linear": lambda: Pipeline(
        [("p", PolynomialFeatures(2)), ("s", StandardScaler()), ("m", LinearRegression())]
    ).fit(X_VALUES * [1.0, 1e3, 1e-3], Y_VALUES),
    "degree-3-interactions-logistic": lambda: Pipeline(
        [("p", PolynomialFeatures(3, interaction_only=True, include_bias=False)), ("m", LogisticRegression())]
    ).fit(X_CLASSES, Y_CLASSES),
    "degree-range-tree": lambda: Pipeline(
        [("p", PolynomialFeatures((2, 3))), ("m", DecisionTreeClassifier(max_depth=5, random_state=0))]
    ).fit(X_CLASSES, Y_CLASSES),
}


@pytest.mark.parametrize("name", sorted(FITS))
def test_packages_score_their_checks_as_scikit_learn_predicted_them(name):
    model = FITS[name]()
    package = crossform.from_sklearn(model, checks=400)
    assert any(isinstance(enc, ir.Product) for enc in package.encoders)
    comparison = compare(package.checks, evaluator.score(package, package.checks.data()), package.model)
    assert comparison.ok, (comparison.summary(), comparison.mismatches[:3])
    assert package.checks.errors.any()  # NaN and infinities were probed


def test_training_rows_and_overflowing_products_score_as_scikit_learn_does():
    model = FITS["degree-2-linear"]()
    package = crossform.from_sklearn(model, checks=0)
    X = np.vstack([X_VALUES * [1.0, 1e3, 1e-3], [[1e200, 1.0, 1.0], [1.0, np.nan, 1.0], [1e155, 1e155, 0.0]]])
    scores = evaluator.score(package, pd.DataFrame(X, columns=["x0", "x1", "x2"]))
    for i, row in enumerate(X):
        try:
            with np.errstate(over="ignore"):
                expected = model.predict(row[None, :])[0]
        except ValueError:
            assert scores.errors[i] is not None, i
            continue
        assert scores.errors[i] is None, i
        assert abs(scores.values[i, 0] - expected) <= 1e-12 * abs(expected), i
    assert scores.errors[-3] is not None and scores.errors[-1] is not None  # x0^2 and x0 x1 overflow


@pytest.mark.parametrize("func", [np.log1p, np.exp, np.sqrt])
def test_elementwise_functions_are_refused_by_name(func):
    model = Pipeline([("f", FunctionTransformer(func)), ("m", LinearRegression())]).fit(np.abs(X_VALUES), Y_VALUES)
    with pytest.raises(UnsupportedEstimatorError, match=rf"FunctionTransformer\(func='{func.__name__}'\)"):
        crossform.from_sklearn(model)
