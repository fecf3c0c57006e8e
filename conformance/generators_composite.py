"""Conformance generators of models over other models' outputs: VotingClassifier (soft and hard
voting, with and without weights) and VotingRegressor, over trees, forests, histogram and gradient
boosting and linear models.

Registered into conformance/generators.py's GENERATORS (imported at its end); each case's
"generator" names this file. Expected outputs are scikit-learn's predict_proba / predict; hard
voting has no predict_proba, so its cases hold the weighted counts its predict takes the argmax of
(np.bincount of the members' predicted codes) and its predicted class.
"""

from __future__ import annotations

import numpy as np
from generators import FEATURES, case, numbers
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingClassifier,
    StackingRegressor,
    VotingClassifier,
    VotingRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, RidgeClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

FEATURES.update(
    {
        "composite": "Models over other models' outputs: voting (soft, hard, weighted), stacking, sigmoid calibration.",
    }
)

# nine weights whose numpy sum (pairwise from 8 on) differs from their left fold: the divisor
NINE_WEIGHTS = [0.34, 1.17, 1.55, 1.29, 1.76, 2.21, 2.87, 0.85, 1.95]


@case("composite", "voting-soft-binary", "soft voting: a forest, histogram boosting and a logistic regression")
def voting_soft_binary():
    X, y = numbers(500, 4, seed=71, float32=True)
    members = [
        ("rf", RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0)),
        ("hgb", HistGradientBoostingClassifier(max_iter=4, max_leaf_nodes=6, random_state=0)),
        ("lr", LogisticRegression()),
    ]
    return VotingClassifier(members, voting="soft").fit(X, y)


@case(
    "composite",
    "voting-soft-weighted-multiclass",
    "soft voting with weights over four classes: a tree, extra trees, gradient boosting, a logistic regression",
)
def voting_soft_weighted_multiclass():
    X, y = numbers(600, 5, seed=72, classes=4, float32=True)
    members = [
        ("dt", DecisionTreeClassifier(max_depth=5, random_state=0)),
        ("et", ExtraTreesClassifier(n_estimators=3, max_depth=4, random_state=0)),
        ("gb", GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0)),
        ("lr", LogisticRegression()),
    ]
    return VotingClassifier(members, voting="soft", weights=[2.0, 1.0, 0.5, 1.5]).fit(X, y)


@case(
    "composite",
    "voting-soft-nine-members",
    "soft voting over nine trees with weights whose pairwise sum is not their left fold, string classes",
)
def voting_soft_nine_members():
    X, y = numbers(500, 4, seed=73, classes=3, nan=0.05, float32=True)
    labels = np.array(["gull", "tern", "skua"])[y]
    members = [(f"dt{i}", DecisionTreeClassifier(max_depth=2 + i % 4, random_state=i)) for i in range(9)]
    return VotingClassifier(members, voting="soft", weights=NINE_WEIGHTS).fit(X, labels)


@case("composite", "voting-regressor", "voting regressor: a forest, a linear regression, histogram boosting")
def voting_regressor():
    X, y = numbers(400, 4, seed=74, task="regression", float32=True)
    members = [
        ("rf", RandomForestRegressor(n_estimators=3, max_depth=4, random_state=0)),
        ("lin", LinearRegression()),
        ("hgb", HistGradientBoostingRegressor(max_iter=4, max_leaf_nodes=5, random_state=0)),
    ]
    return VotingRegressor(members).fit(X, y)


@case(
    "composite",
    "voting-regressor-nine-weighted",
    "voting regressor over nine members with weights, after a scaler (a pipeline's final estimator)",
)
def voting_regressor_nine_weighted():
    X, y = numbers(400, 4, seed=75, task="regression", float32=True)
    members = [(f"dt{i}", DecisionTreeRegressor(max_depth=3 + i % 3, random_state=i)) for i in range(6)]
    members += [
        ("gb", GradientBoostingRegressor(n_estimators=3, max_depth=2, random_state=0)),
        ("ridge", Ridge(alpha=0.5)),
        ("lin", LinearRegression()),
    ]
    return make_pipeline(StandardScaler(), VotingRegressor(members, weights=NINE_WEIGHTS)).fit(X, y)


@case(
    "composite",
    "voting-hard-multiclass",
    "hard voting over three classes: a forest, histogram boosting, a logistic regression and a ridge classifier",
)
def voting_hard_multiclass():
    X, y = numbers(600, 4, seed=76, classes=3, float32=True)
    members = [
        ("rf", RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0)),
        ("hgb", HistGradientBoostingClassifier(max_iter=3, max_leaf_nodes=6, random_state=0)),
        ("lr", LogisticRegression()),
        ("ridge", RidgeClassifier()),
    ]
    return VotingClassifier(members, voting="hard").fit(X, y)


@case(
    "composite",
    "voting-hard-weighted-binary",
    "hard voting with weights over two classes (ties between the weighted votes), integer labels 3 and 7",
)
def voting_hard_weighted_binary():
    X, y = numbers(500, 4, seed=77, float32=True)
    members = [
        ("dt", DecisionTreeClassifier(max_depth=4, random_state=0)),
        ("et", ExtraTreesClassifier(n_estimators=3, max_depth=4, random_state=0)),
        ("hgb", HistGradientBoostingClassifier(max_iter=3, random_state=0)),
        ("gb", GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0)),
    ]
    return VotingClassifier(members, voting="hard", weights=[1.0, 2.0, 1.5, 1.5]).fit(X, np.where(y == 1, 7, 3))


@case(
    "composite",
    "stacking-binary",
    "stacking a forest, histogram boosting and a ridge classifier (decision scores) into a logistic regression",
)
def stacking_binary():
    X, y = numbers(500, 4, seed=78, float32=True)
    members = [
        ("rf", RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0)),
        ("hgb", HistGradientBoostingClassifier(max_iter=3, random_state=0)),
        ("ridge", RidgeClassifier()),
    ]
    return StackingClassifier(members, cv=3).fit(X, y)


@case(
    "composite",
    "stacking-multiclass-passthrough",
    "stacking three classes' probabilities with the features passed through, string classes",
)
def stacking_multiclass_passthrough():
    X, y = numbers(600, 4, seed=79, classes=3, float32=True)
    labels = np.array(["ash", "elm", "oak"])[y]
    members = [
        ("dt", DecisionTreeClassifier(max_depth=4, random_state=0)),
        ("lr", LogisticRegression()),
    ]
    return StackingClassifier(members, passthrough=True, cv=3).fit(X, labels)


@case("composite", "stacking-regressor", "stacking a forest, gradient boosting and a linear model into RidgeCV")
def stacking_regressor():
    X, y = numbers(400, 4, seed=80, task="regression", float32=True)
    members = [
        ("rf", RandomForestRegressor(n_estimators=3, max_depth=4, random_state=0)),
        ("gb", GradientBoostingRegressor(n_estimators=3, max_depth=2, random_state=0)),
        ("lin", LinearRegression()),
    ]
    return StackingRegressor(members, cv=3).fit(X, y)


@case(
    "composite",
    "stacking-regressor-passthrough",
    "stacking regressors with the features passed through into a LinearRegression, after a scaler",
)
def stacking_regressor_passthrough():
    X, y = numbers(400, 4, seed=81, task="regression", float32=True)
    members = [("dt", DecisionTreeRegressor(max_depth=4, random_state=0)), ("ridge", Ridge(alpha=0.5))]
    stack = StackingRegressor(members, final_estimator=LinearRegression(), passthrough=True, cv=3)
    return make_pipeline(StandardScaler(), stack).fit(X, y)


@case(
    "composite",
    "calibrated-sigmoid-forest",
    "sigmoid calibration of a forest's predict_proba, ensemble of three folds, binary",
)
def calibrated_sigmoid_forest():
    X, y = numbers(500, 4, seed=82, float32=True)
    base = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0)
    return CalibratedClassifierCV(base, method="sigmoid", cv=3).fit(X, y)


@case(
    "composite",
    "calibrated-sigmoid-boosting",
    "sigmoid calibration of histogram boosting's decision_function (its raw score), trained with NaN",
)
def calibrated_sigmoid_boosting():
    X, y = numbers(500, 4, seed=83, nan=0.05, float32=True)
    base = HistGradientBoostingClassifier(max_iter=4, random_state=0)
    return CalibratedClassifierCV(base, method="sigmoid", cv=3).fit(X, y)


@case(
    "composite",
    "calibrated-sigmoid-multiclass",
    "sigmoid calibration of a logistic regression's decision scores per class, four classes, ensemble off",
)
def calibrated_sigmoid_multiclass():
    X, y = numbers(600, 4, seed=84, classes=4, float32=True)
    return CalibratedClassifierCV(LogisticRegression(), method="sigmoid", ensemble=False, cv=3).fit(X, y)


@case(
    "composite",
    "calibrated-sigmoid-boosting-multiclass",
    "sigmoid calibration of gradient boosting's decision_function (its raw sum per class), three classes",
)
def calibrated_sigmoid_boosting_multiclass():
    X, y = numbers(600, 4, seed=88, classes=3, float32=True)
    base = GradientBoostingClassifier(n_estimators=5, max_depth=3, random_state=0)
    return CalibratedClassifierCV(base, method="sigmoid", cv=3).fit(X, y)


FEATURES.update(
    {
        "calibration-isotonic": "Isotonic calibration (CalibratedClassifierCV, method='isotonic'): responses on, "
        "between and outside the breakpoints, interpolated as numpy's interp.",
    }
)


@case(
    "calibration-isotonic",
    "calibrated-isotonic-forest",
    "isotonic calibration of a forest's predict_proba, ensemble of three folds, binary",
)
def calibrated_isotonic_forest():
    X, y = numbers(500, 4, seed=85, float32=True)
    base = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0)
    return CalibratedClassifierCV(base, method="isotonic", cv=3).fit(X, y)


@case(
    "calibration-isotonic",
    "calibrated-isotonic-boosting",
    "isotonic calibration of histogram boosting's decision_function (its raw score), trained with NaN",
)
def calibrated_isotonic_boosting():
    X, y = numbers(500, 4, seed=86, nan=0.05, float32=True)
    base = HistGradientBoostingClassifier(max_iter=4, random_state=0)
    return CalibratedClassifierCV(base, method="isotonic", cv=3).fit(X, y)


@case(
    "calibration-isotonic",
    "calibrated-isotonic-multiclass",
    "isotonic calibration of extra trees' probabilities per class, three classes, ensemble off",
)
def calibrated_isotonic_multiclass():
    X, y = numbers(600, 4, seed=87, classes=3, float32=True)
    base = ExtraTreesClassifier(n_estimators=3, max_depth=5, random_state=0)
    return CalibratedClassifierCV(base, method="isotonic", ensemble=False, cv=3).fit(X, y)


FEATURES.update(
    {
        "calibration-many-classes": "Calibration of 8 or more classes: the calibrated probabilities normalised by "
        "numpy's pairwise row sum.",
    }
)


@case(
    "calibration-many-classes",
    "calibrated-sigmoid-nine-classes",
    "sigmoid calibration of a forest's probabilities over nine classes, ensemble off",
)
def calibrated_sigmoid_nine_classes():
    X, y = numbers(900, 5, seed=88, classes=9, float32=True)
    base = RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0)
    return CalibratedClassifierCV(base, method="sigmoid", ensemble=False, cv=3).fit(X, y)


@case(
    "calibration-many-classes",
    "calibrated-isotonic-ten-classes",
    "isotonic calibration of extra trees' probabilities over ten classes, ensemble of two folds",
)
def calibrated_isotonic_ten_classes():
    X, y = numbers(1000, 5, seed=89, classes=10, float32=True)
    base = ExtraTreesClassifier(n_estimators=3, max_depth=6, random_state=0)
    return CalibratedClassifierCV(base, method="isotonic", cv=2).fit(X, y)


@case(
    "calibration-isotonic",
    "calibrated-isotonic-hist-boosting-multiclass",
    "isotonic calibration of histogram boosting's raw sums per class, four classes, trained with NaN, ensemble off",
)
def calibrated_isotonic_hist_boosting_multiclass():
    X, y = numbers(700, 4, seed=89, nan=0.05, classes=4, float32=True)
    base = HistGradientBoostingClassifier(max_iter=4, random_state=0)
    return CalibratedClassifierCV(base, method="isotonic", ensemble=False, cv=3).fit(X, y)
