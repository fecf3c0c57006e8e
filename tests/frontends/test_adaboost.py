"""AdaBoostClassifier (SAMME) over single trees: the reference evaluator gives scikit-learn's
predict_proba bit for bit and its predict on the probe rows (rows at every split, special values,
random rows), and what crossform cannot state is refused by name."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier, ExtraTreeClassifier

import crossform
from crossform import evaluator
from crossform.checks import compare
from crossform.errors import UnsupportedEstimatorError


def _data(classes: int, seed: int, n: int = 600):
    return make_classification(
        n, 5, n_informative=4, n_redundant=0, n_classes=classes, n_clusters_per_class=1, random_state=seed
    )


def _fit(estimator=None, classes: int = 2, seed: int = 0, labels=None, **params):
    X, y = _data(classes, seed)
    if labels is not None:
        y = np.asarray(labels)[y]
    if "algorithm" in AdaBoostClassifier().get_params():  # scikit-learn before 1.8
        params["algorithm"] = "SAMME"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return AdaBoostClassifier(estimator, random_state=0, **params).fit(X, y)


FITS = {
    "stumps-binary": lambda: _fit(n_estimators=30),
    "trees-three-classes": lambda: _fit(DecisionTreeClassifier(max_depth=3), 3, 1, n_estimators=15),
    "extra-trees-four-classes": lambda: _fit(ExtraTreeClassifier(max_depth=4), 4, 2, n_estimators=12),
    # nine classes: numpy's sum over a softmax row of 8 or more values is pairwise
    "trees-nine-classes": lambda: _fit(DecisionTreeClassifier(max_depth=5), 9, 3, n_estimators=10),
    "learning-rate-string-classes": lambda: _fit(
        DecisionTreeClassifier(max_depth=2), 3, 4, labels=["cat", "dog", "emu"], n_estimators=8, learning_rate=0.3
    ),
}


@pytest.mark.parametrize("name", sorted(FITS))
def test_reference_gives_sklearns_probabilities_bit_for_bit(name):
    model = FITS[name]()
    package = crossform.from_sklearn(model, checks=600)
    scores = evaluator.score(package, package.checks.data())
    result = compare(package.checks, scores, package.model)
    assert result.ok, result.summary() + "\n" + "\n".join(str(m) for m in result.mismatches)
    assert result.leaves_compared and len(package.checks) >= 100
    ok = ~package.checks.errors
    data = package.checks.data()
    X = np.column_stack([np.asarray(data[f.name], dtype=np.float64) for f in package.inputs])[ok]
    got, expected = np.asarray(scores.values)[ok], model.predict_proba(X)
    if len(model.classes_) < 8:
        np.testing.assert_array_equal(got, expected)
    else:
        # scikit-learn's decision array is Fortran-ordered (np.where(...).T), so its softmax sums
        # each row as a left fold in class order; the reference's C-ordered numpy sum is pairwise
        # from 8 values on: the last bit may differ, well within 1e-12 (docs/SEMANTICS.md note 20)
        np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
    assert np.array_equal(
        np.asarray(model.classes_)[np.argmax(np.asarray(scores.values)[ok], axis=1)], model.predict(X)
    )


def test_the_weight_total_and_k_minus_1_are_the_divisors():
    model = FITS["trees-three-classes"]()
    package = crossform.from_sklearn(model, checks=0)
    assert package.model.divisors == (float(model.estimator_weights_.sum()), 2.0)
    assert package.model.post_transform == "softmax" and package.model.aggregation == "sum"
    assert package.model.missing == "error"  # AdaBoost's own validation refuses NaN


def test_early_stopping_keeps_only_the_fitted_trees():
    X, _ = _data(2, 5)
    y = (X[:, 0] > 0.1).astype(int)
    params = {"algorithm": "SAMME"} if "algorithm" in AdaBoostClassifier().get_params() else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = AdaBoostClassifier(n_estimators=10, random_state=0, **params).fit(X, y)
    assert len(model.estimators_) == 1 and model.estimator_weights_.tolist()[:2] == [1.0, 0.0]
    package = crossform.from_sklearn(model, checks=200)
    assert len(package.model.trees) == 1
    result = compare(package.checks, evaluator.score(package, package.checks.data()), package.model)
    assert result.ok, result.summary()


@pytest.mark.parametrize(
    ("member", "match"),
    [
        (LogisticRegression(), "AdaBoostClassifier over LogisticRegression: crossform exports AdaBoost over single"),
        (RandomForestClassifier(n_estimators=2, max_depth=2), "over RandomForestClassifier"),
    ],
)
def test_members_other_than_single_trees_are_refused_by_name(member, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _fit(member, n_estimators=3)
    with pytest.raises(UnsupportedEstimatorError, match=match):
        crossform.from_sklearn(model)


def test_samme_r_is_refused_by_name():
    """scikit-learn 1.4 and 1.5 default to SAMME.R (removed in 1.6); its fitted attribute says so."""
    model = FITS["stumps-binary"]()
    model.algorithm = "SAMME.R"
    with pytest.raises(UnsupportedEstimatorError, match="algorithm='SAMME.R'"):
        crossform.from_sklearn(model)
