"""Conformance generators of ensembles built from other estimators (bagging over single trees), and
of the single extra trees they bag.

Registered into conformance/generators.py's GENERATORS (imported at its end); each case's
"generator" names this file.
"""

from __future__ import annotations

from generators import case, numbers
from sklearn.ensemble import BaggingClassifier, BaggingRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor


@case("ensembles", "bagging-binary", "bagging over decision trees, binary, every column, trained with NaN")
def bagging_binary():
    X, y = numbers(500, 4, seed=41, nan=0.1)
    return BaggingClassifier(DecisionTreeClassifier(max_depth=5), n_estimators=4, random_state=0).fit(X, y)


@case(
    "ensembles",
    "bagging-feature-subsets",
    "bagging, four classes, each tree on 3 of 6 columns drawn with repeats (bootstrap_features)",
)
def bagging_feature_subsets():
    X, y = numbers(600, 6, seed=42, classes=4, nan=0.05)
    model = BaggingClassifier(
        DecisionTreeClassifier(max_depth=4), n_estimators=6, max_features=3, bootstrap_features=True, random_state=1
    )
    return model.fit(X, y)


@case(
    "ensembles",
    "bagging-small-samples",
    "pasting (bootstrap=False) 8-row samples of five classes into extra trees",
)
def bagging_small_samples():
    X, y = numbers(300, 4, seed=43, classes=5)
    model = BaggingClassifier(ExtraTreeClassifier(), n_estimators=8, max_samples=8, bootstrap=False, random_state=2)
    return model.fit(X, y)


@case(
    "ensembles",
    "bagging-regression",
    "bagging over extra-tree regressors, 3 of 5 columns each, NaN at fit",
    since=("1.6", "extra trees fitted on NaN"),
)
def bagging_regression():
    X, y = numbers(500, 5, seed=44, task="regression", nan=0.1)
    model = BaggingRegressor(ExtraTreeRegressor(max_depth=5, random_state=0), n_estimators=5, max_features=3)
    return model.set_params(random_state=0).fit(X, y)


@case("ensembles", "bagging-regression-pasting", "pasting (no bootstrap) over decision tree regressors")
def bagging_regression_pasting():
    X, y = numbers(400, 4, seed=45, task="regression")
    model = BaggingRegressor(DecisionTreeRegressor(max_depth=6), n_estimators=3, max_samples=0.5, bootstrap=False)
    return model.set_params(random_state=0).fit(X, y)


@case("ensembles", "extra-tree-single", "one ExtraTreeRegressor (sklearn.tree), not a forest")
def extra_tree_single():
    X, y = numbers(400, 4, seed=46, task="regression")
    return ExtraTreeRegressor(max_depth=7, random_state=0).fit(X, y)


@case(
    "ensembles",
    "extra-tree-classifier-single",
    "one ExtraTreeClassifier (sklearn.tree), three classes, NaN at fit",
    since=("1.6", "extra trees fitted on NaN"),
)
def extra_tree_classifier_single():
    X, y = numbers(400, 4, seed=47, classes=3, nan=0.1)
    return ExtraTreeClassifier(max_depth=7, random_state=0).fit(X, y)
