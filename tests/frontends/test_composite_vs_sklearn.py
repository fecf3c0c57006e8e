"""VotingClassifier (soft and hard) and VotingRegressor against scikit-learn's own predict_proba / predict,
and what the composite converter refuses by name."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    AdaBoostClassifier,
    BaggingRegressor,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingClassifier,
    StackingRegressor,
    VotingClassifier,
    VotingRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import crossform
from crossform.errors import UnsupportedEstimatorError

# nine weights whose numpy sum (pairwise from 8 on) is not their left fold
NINE = [0.34, 1.17, 1.55, 1.29, 1.76, 2.21, 2.87, 0.85, 1.95]


def _columns(X) -> dict:
    return {f"x{j}": X[:, j] for j in range(X.shape[1])}


def test_nine_weighted_trees_score_bit_for_bit_with_numpys_divisor():
    left = 0.0
    for w in NINE:
        left += w
    assert left != np.sum(NINE)  # the case the recorded divisor exists for
    X, y = make_classification(400, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=1)
    members = [(f"dt{i}", DecisionTreeClassifier(max_depth=2 + i % 4, random_state=i)) for i in range(9)]
    model = VotingClassifier(members, voting="soft", weights=NINE).fit(X, y)
    package = crossform.from_sklearn(model, checks=0)
    assert package.model.divisor == np.sum(NINE)
    scores = crossform.score(package, _columns(X))
    np.testing.assert_array_equal(scores.values, model.predict_proba(X))
    assert scores.labels() == model.predict(X).tolist()


@pytest.mark.parametrize("weights", [None, [1.0, 2.5, 0.3]])
def test_soft_voting_over_trees_boosting_and_a_logistic_regression(weights):
    X, y = make_classification(400, 4, n_informative=3, n_redundant=0, random_state=2)
    members = [
        ("rf", RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0)),
        ("hgb", HistGradientBoostingClassifier(max_iter=3, random_state=0)),
        ("lr", LogisticRegression()),
    ]
    model = VotingClassifier(members, voting="soft", weights=weights).fit(X, y)
    scores = crossform.score(crossform.from_sklearn(model, checks=0), _columns(X))
    # the logistic regression's dot product is BLAS's: within the 1e-12 relative rule
    np.testing.assert_allclose(scores.values, model.predict_proba(X), rtol=1e-12, atol=0)
    assert scores.labels() == model.predict(X).tolist()


def test_a_voting_regressor_after_a_scaler():
    X, y = make_regression(300, 3, random_state=3)
    members = [("rf", RandomForestRegressor(n_estimators=3, max_depth=4, random_state=0)), ("lin", LinearRegression())]
    model = make_pipeline(StandardScaler(), VotingRegressor(members, weights=[0.25, 0.75])).fit(X, y)
    scores = crossform.score(crossform.from_sklearn(model, checks=0), _columns(X))
    np.testing.assert_allclose(scores.values[:, 0], model.predict(X), rtol=1e-12, atol=0)


@pytest.mark.parametrize("weights", [None, [1.0, 2.0, 1.5, 1.5]])
def test_hard_voting_gives_scikit_learns_class(weights):
    X, y = make_classification(500, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=4)
    members = [
        ("dt", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("rf", RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0)),
        ("lr", LogisticRegression()),
        ("ridge", RidgeClassifier()),
    ]
    model = VotingClassifier(members, voting="hard", weights=weights).fit(X, y)
    package = crossform.from_sklearn(model, checks=0)
    assert package.model.combination == "vote"
    assert [m.post_transform for m in package.model.members[2:]] == ["none", "none"]  # they vote by predict
    scores = crossform.score(package, _columns(X))
    assert scores.labels() == model.predict(X).tolist()
    codes = np.asarray([m.predict(X) for m in model.estimators_]).T
    counts = [np.bincount(row, weights=weights, minlength=3) for row in codes]
    np.testing.assert_array_equal(scores.values, np.asarray(counts, dtype=np.float64))


def test_hard_voting_with_a_negative_weight_is_refused_by_name():
    X, y = make_classification(100, 3, n_informative=2, n_redundant=0, random_state=4)
    members = [("a", DecisionTreeClassifier(max_depth=2)), ("b", DecisionTreeClassifier(max_depth=3))]
    model = VotingClassifier(members, voting="hard", weights=[1.0, -1.0]).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match="negative weight"):
        crossform.from_sklearn(model, checks=0)


def test_members_reading_other_columns_are_refused_by_name():
    X, y = make_regression(100, 4, random_state=5)
    bagged = BaggingRegressor(DecisionTreeRegressor(max_depth=2), n_estimators=1, max_features=2, random_state=0)
    model = VotingRegressor([("bag", bagged), ("lin", LinearRegression())]).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match="member 'bag'"):
        crossform.from_sklearn(model, checks=0)
    piped = VotingRegressor([("p", make_pipeline(StandardScaler(), LinearRegression()))]).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match="member 'p'"):
        crossform.from_sklearn(piped, checks=0)


@pytest.mark.parametrize("passthrough", [False, True])
def test_stacking_classifier_gives_scikit_learns_probabilities(passthrough):
    X, y = make_classification(400, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=6)
    members = [
        ("dt", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("hgb", HistGradientBoostingClassifier(max_iter=3, random_state=0)),
        ("ridge", RidgeClassifier()),
    ]
    model = StackingClassifier(members, passthrough=passthrough, cv=3).fit(X, y)
    package = crossform.from_sklearn(model, checks=0)
    assert package.model.combination == "stack" and package.model.passthrough is passthrough
    scores = crossform.score(package, _columns(X))
    # the final logistic regression's dot product is BLAS's: within the 1e-12 relative rule
    np.testing.assert_allclose(scores.values, model.predict_proba(X), rtol=1e-12, atol=0)
    assert scores.labels() == model.predict(X).tolist()


def test_stacking_regressor_gives_scikit_learns_prediction():
    X, y = make_regression(300, 3, random_state=7)
    members = [("rf", RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0)), ("lin", LinearRegression())]
    model = StackingRegressor(members, passthrough=True, cv=3).fit(X, y)
    scores = crossform.score(crossform.from_sklearn(model, checks=0), _columns(X))
    np.testing.assert_allclose(scores.values[:, 0], model.predict(X), rtol=1e-12, atol=0)


def test_stacking_refuses_what_it_cannot_state_by_name():
    X, y = make_classification(200, 3, n_informative=2, n_redundant=0, random_state=8)
    members = [("dt", DecisionTreeClassifier(max_depth=2, random_state=0))]
    forest_final = StackingClassifier(members, final_estimator=RandomForestClassifier(n_estimators=2), cv=3)
    with pytest.raises(UnsupportedEstimatorError, match="final estimator sklearn.ensemble.RandomForestClassifier"):
        crossform.from_sklearn(forest_final.fit(X, y), checks=0)
    by_class = StackingClassifier(members, stack_method="predict", cv=3).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match="stacks its predict"):
        crossform.from_sklearn(by_class, checks=0)


@pytest.mark.parametrize("ensemble", [True, False])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_sigmoid_calibration_gives_scikit_learns_probabilities(ensemble, n_classes):
    X, y = make_classification(400, 4, n_informative=3, n_redundant=0, n_classes=n_classes, random_state=9)
    for base in (RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0), LogisticRegression()):
        model = CalibratedClassifierCV(base, method="sigmoid", ensemble=ensemble, cv=3).fit(X, y)
        package = crossform.from_sklearn(model, checks=0)
        assert package.model.combination == "calibrate"
        assert len(package.model.members) == (3 if ensemble else 1)
        scores = crossform.score(package, _columns(X))
        # scipy's expit and numpy's exp may differ by an ulp; BLAS orders the linear member's dot product
        np.testing.assert_allclose(scores.values, model.predict_proba(X), rtol=1e-12, atol=0)
        assert scores.labels() == model.predict(X).tolist()


@pytest.mark.parametrize("ensemble", [True, False])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_isotonic_calibration_gives_scikit_learns_probabilities(ensemble, n_classes):
    X, y = make_classification(400, 4, n_informative=3, n_redundant=0, n_classes=n_classes, random_state=9)
    forest = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0)
    model = CalibratedClassifierCV(forest, method="isotonic", ensemble=ensemble, cv=3).fit(X, y)
    package = crossform.from_sklearn(model, checks=0)
    assert package.model.calibration_method == "isotonic"
    # the training responses themselves land on breakpoints; midpoints and outside values between them
    responses = np.vstack([X, X[:50] * 1.5, X[:50] * -3.0])
    scores = crossform.score(package, _columns(responses))
    np.testing.assert_array_equal(scores.values, model.predict_proba(responses))
    assert scores.labels() == model.predict(responses).tolist()
    linear = CalibratedClassifierCV(LogisticRegression(), method="isotonic", ensemble=ensemble, cv=3).fit(X, y)
    scores = crossform.score(crossform.from_sklearn(linear, checks=0), _columns(responses))
    # BLAS orders the linear member's dot product, and interp's slope carries its last bits
    np.testing.assert_allclose(scores.values, linear.predict_proba(responses), rtol=1e-9, atol=1e-12)


def test_isotonic_breakpoints_interpolate_as_numpys_interp():
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.uniform(1e-3, 1.0, 40))
    y = np.sort(rng.uniform(0.0, 1.0, 40))
    t = np.concatenate([x, (x[:-1] + x[1:]) / 2, np.nextafter(x, np.inf), np.nextafter(x, -np.inf), [-1e300, 1e300]])
    t = np.concatenate([t, rng.uniform(x[0] - 1, x[-1] + 1, 5000)])
    got = crossform.ir.isotonic_interpolate(np.column_stack([x, y]), t)
    np.testing.assert_array_equal(got, np.interp(t, x, y))


def test_calibration_refuses_what_it_cannot_state_by_name():
    X, y = make_classification(300, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=10)
    temperature = CalibratedClassifierCV(DecisionTreeClassifier(max_depth=3), method="isotonic", cv=3).fit(X, y)
    temperature.method = "temperature"  # scikit-learn 1.8's third method, stated here on any release
    with pytest.raises(UnsupportedEstimatorError, match=r"method='temperature'"):
        crossform.from_sklearn(temperature, checks=0)
    for k in (2, 3):  # AdaBoost's decision_function is not the divided sums its probabilities read
        X, y = make_classification(300, 4, n_informative=3, n_redundant=0, n_classes=k, random_state=10)
        votes = CalibratedClassifierCV(AdaBoostClassifier(n_estimators=3, random_state=0), cv=3).fit(X, y)
        with pytest.raises(UnsupportedEstimatorError, match="AdaBoost's weighted votes"):
            crossform.from_sklearn(votes, checks=0)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
@pytest.mark.parametrize("n_classes", [2, 3, 4])
def test_boosting_is_calibrated_on_its_raw_sums(method, n_classes):
    """Gradient and histogram boosting's decision_function is the raw prediction before its link:
    one raw score for two classes, one raw sum per class for more."""
    X, y = make_classification(600, 4, n_informative=3, n_redundant=0, n_classes=n_classes, random_state=11)
    X[::7, 1] = np.nan
    for base in (
        HistGradientBoostingClassifier(max_iter=4, random_state=0),
        GradientBoostingClassifier(n_estimators=4, max_depth=3, random_state=0),
    ):
        data = X if isinstance(base, HistGradientBoostingClassifier) else np.nan_to_num(X)
        model = CalibratedClassifierCV(base, method=method, cv=3).fit(data, y)
        package = crossform.from_sklearn(model, checks=0)
        scores = crossform.score(package, _columns(data))
        # scipy's expit and numpy's exp may differ by an ulp
        np.testing.assert_allclose(scores.values, model.predict_proba(data), rtol=1e-12, atol=0)
        assert scores.labels() == model.predict(data).tolist()


def test_the_row_sum_adds_as_numpy_adds_a_row_of_any_width():
    rng = np.random.default_rng(4)
    for k in [*range(1, 40), 127, 128, 129, 136, 300]:
        p = rng.uniform(0.0, 1.0, (200, k)) ** 3
        got = crossform.ir.pairwise_sum([p[:, c] for c in range(k)], np.add)
        np.testing.assert_array_equal(got, np.sum(p, axis=1))


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrating_nine_classes_normalises_by_numpys_pairwise_row_sum(method):
    X, y = make_classification(900, 6, n_informative=5, n_redundant=0, n_classes=9, random_state=11)
    forest = RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0)
    model = CalibratedClassifierCV(forest, method=method, ensemble=False, cv=3).fit(X, y)
    rows = np.vstack([X, X[:100] * 2.5])
    scores = crossform.score(crossform.from_sklearn(model, checks=0), _columns(rows))
    want = model.predict_proba(rows)
    if method == "isotonic":
        np.testing.assert_array_equal(scores.values, want)
    else:  # scipy's expit and numpy's exp may differ by an ulp
        np.testing.assert_allclose(scores.values, want, rtol=1e-12, atol=0)
    assert scores.labels() == model.predict(rows).tolist()
