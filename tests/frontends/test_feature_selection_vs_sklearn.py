"""Column selectors against scikit-learn: the columns they drop vanish, and the rows they refuse
(NaN or infinity in any column, the dropped ones too, where their input check runs) are the
rows scikit-learn refuses. Expected outputs are scikit-learn's (the package's checks)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import (
    RFE,
    RFECV,
    GenericUnivariateSelect,
    SelectFdr,
    SelectFpr,
    SelectFromModel,
    SelectFwe,
    SelectKBest,
    SelectPercentile,
    SequentialFeatureSelector,
    VarianceThreshold,
    f_classif,
    f_regression,
)
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import crossform
from crossform import evaluator, ir
from crossform.checks import compare


def _classes(n: int = 500, features: int = 6):
    return make_classification(n, features, n_informative=3, n_redundant=0, random_state=0)


def _values(n: int = 500, features: int = 6):
    return make_regression(n, features, n_informative=3, noise=2.0, random_state=0)


def _tree():
    return RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0)


def _frame(X) -> pd.DataFrame:
    return pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])


FITS = {
    "k-best": lambda: Pipeline([("s", SelectKBest(f_classif, k=2)), ("m", _tree())]).fit(*_classes()),
    "percentile": lambda: Pipeline([("s", SelectPercentile(f_regression, percentile=40)), ("m", Ridge())]).fit(
        *_values()
    ),
    "fpr-fdr-fwe": lambda: Pipeline(
        [("a", SelectFpr(f_classif)), ("b", SelectFdr(f_classif)), ("c", SelectFwe(f_classif)), ("m", _tree())]
    ).fit(*_classes()),
    "generic": lambda: Pipeline(
        [("s", GenericUnivariateSelect(f_classif, mode="percentile", param=50)), ("m", LogisticRegression())]
    ).fit(*_classes()),
    "variance": lambda: Pipeline([("s", VarianceThreshold(0.9)), ("m", _tree())]).fit(
        _classes()[0] * np.array([1, 0.1, 1, 0.1, 1, 1]), _classes()[1]
    ),
    "from-model": lambda: Pipeline(
        [("z", StandardScaler()), ("s", SelectFromModel(Lasso(alpha=1.0))), ("m", LinearRegression())]
    ).fit(*_values()),
    "from-model-tree": lambda: Pipeline(
        [("s", SelectFromModel(DecisionTreeClassifier(random_state=0), max_features=3)), ("m", _tree())]
    ).fit(*_classes()),
    "rfe": lambda: Pipeline([("s", RFE(LogisticRegression(), n_features_to_select=3)), ("m", _tree())]).fit(
        *_classes()
    ),
    "rfecv-tree": lambda: Pipeline(
        [("s", RFECV(DecisionTreeRegressor(max_depth=3, random_state=0), cv=3)), ("m", Ridge())]
    ).fit(*_values()),
    "sequential": lambda: Pipeline(
        [("s", SequentialFeatureSelector(Ridge(), n_features_to_select=2, cv=3)), ("m", LinearRegression())]
    ).fit(*_values()),
    "pandas-columns": lambda: Pipeline(
        [
            (
                "c",
                ColumnTransformer(
                    [("k", SelectKBest(f_classif, k=1), ["c0", "c1", "c2"]), ("v", VarianceThreshold(), ["c3", "c4"])]
                ),
            ),
            ("m", _tree()),
        ]
    ).fit(_frame(_classes()[0]), _classes()[1]),
    "pandas-output": lambda: (
        Pipeline([("s", SelectKBest(f_classif, k=2)), ("m", _tree())])
        .set_output(transform="pandas")
        .fit(_frame(_classes()[0]), _classes()[1])
    ),
}


@pytest.mark.parametrize("name", FITS)
def test_reference_matches_sklearn(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator = FITS[name]()
        package = crossform.from_sklearn(estimator, checks=400)
    result = compare(package.checks, evaluator.score(package, package.checks.data()), package.model)
    assert result.ok, result.summary() + "\n" + "\n".join(str(m) for m in result.mismatches)
    assert len(package.checks) >= 100


def _row_error(package, row: dict) -> bool:
    return bool(evaluator.score(package, {k: [v] for k, v in row.items()}).errors[0])


def test_dropped_columns_refuse_what_the_selector_refuses():
    """SelectKBest checks every column it receives: NaN or inf in a dropped column fails
    scikit-learn's predict, so it is a row error; the dropped column is still an input."""
    X, y = _classes()
    est = Pipeline([("s", SelectKBest(f_classif, k=2)), ("m", _tree())]).fit(X, y)
    package = crossform.from_sklearn(est, checks=0)
    dropped = int(np.flatnonzero(~est[0].get_support())[0])
    assert {f.name for f in package.inputs} == {f"x{i}" for i in range(6)}
    assert any(isinstance(e, ir.RefuseMissing) for e in package.encoders)
    for bad in (np.nan, np.inf, -np.inf):
        row = X[:1].copy()
        row[0, dropped] = bad
        with pytest.raises(ValueError):
            est.predict_proba(row)
        assert _row_error(package, {f"x{i}": row[0, i] for i in range(6)})


def test_variance_threshold_lets_nan_through_and_drops_the_column():
    X, y = _classes()
    X = X * np.array([1, 0.1, 1, 0.1, 1, 1])
    est = Pipeline([("s", VarianceThreshold(0.9)), ("m", _tree())]).fit(X, y)
    package = crossform.from_sklearn(est, checks=0)
    kept = est[0].get_support()
    assert not any(isinstance(e, ir.RefuseMissing) for e in package.encoders)
    assert [f.name for f in package.inputs] == [f"x{i}" for i in np.flatnonzero(kept)]
    row = X[:1].copy()
    row[0, :] = np.nan
    expected = est.predict_proba(row)[0]
    got = evaluator.score(package, {f"x{i}": [row[0, i]] for i in np.flatnonzero(kept)})
    assert not got.errors[0]
    np.testing.assert_array_equal(got.values[0], expected)


def test_pandas_output_skips_the_check():
    """Under set_output(transform="pandas") a DataFrame skips the selector's input check."""
    est = FITS["pandas-output"]()
    package = crossform.from_sklearn(est, checks=0)
    assert not any(isinstance(e, ir.RefuseMissing) for e in package.encoders)
    frame = _frame(_classes()[0][:1])
    dropped = f"c{int(np.flatnonzero(~est[0].get_support())[0])}"
    frame.loc[0, dropped] = np.inf
    est.predict_proba(frame)  # no error: the selector never looks at the dropped column
    assert not _row_error(package, frame.iloc[0].to_dict())


def test_a_branch_whose_selector_keeps_nothing_still_refuses_what_it_checks():
    """A ColumnTransformer still calls transform on a branch whose selector kept no column, and
    that transform refuses NaN in the branch's columns: so does the package."""
    X, y = _classes()
    noise = np.random.default_rng(3).normal(size=(len(X), 2))
    columns = ColumnTransformer([("none", SelectFpr(f_classif, alpha=1e-12), [6, 7])], remainder="passthrough")
    est = Pipeline([("c", columns), ("m", _tree())]).fit(np.column_stack([X, noise]), y)
    assert not est[0].named_transformers_["none"].get_support().any()
    package = crossform.from_sklearn(est, checks=0)
    row = np.column_stack([X, noise])[:1].copy()
    row[0, 7] = np.nan
    with pytest.raises(ValueError):
        est.predict_proba(row)
    assert _row_error(package, {f"x{i}": row[0, i] for i in range(8)})
    row[0, 7] = 0.0
    np.testing.assert_array_equal(
        evaluator.score(package, {f"x{i}": [row[0, i]] for i in range(8)}).values[0], est.predict_proba(row)[0]
    )
