"""Seeded fits for columns derived from several inputs: PolynomialFeatures (feature "products").

Registered with generators.py's ``case`` (generators.py imports this module at its end), so
generate.py writes them like every other case; each case names this file as its generator.
"""

from __future__ import annotations

import numpy as np
from generators import FEATURES, NUMERIC, bird_target, birds, case, numbers
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder, PolynomialFeatures, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor


@case(
    "products",
    "poly2-scaled-linear",
    "PolynomialFeatures(degree=2) with its bias column, scaled, before a linear regression",
)
def poly2_scaled_linear():
    X, y = numbers(500, 3, seed=90, task="regression")
    X = X * np.array([1.0, 30.0, 1e-3])  # products across scales: every term rounds differently
    model = Pipeline(
        [("poly", PolynomialFeatures(degree=2)), ("scale", StandardScaler()), ("model", LinearRegression())]
    )
    return model.fit(X, y)


@case(
    "products",
    "poly3-interactions-logistic",
    "PolynomialFeatures(degree=3, interaction_only, no bias): three-way products, scaled, logistic regression",
)
def poly3_interactions_logistic():
    X, y = numbers(600, 4, seed=91, classes=3)
    poly = PolynomialFeatures(degree=3, interaction_only=True, include_bias=False)
    model = Pipeline([("poly", poly), ("scale", StandardScaler()), ("model", LogisticRegression(max_iter=2000))])
    return model.fit(X, y)


@case(
    "products",
    "poly3-tree",
    "PolynomialFeatures(degree=3) before a decision tree: splits on squares and cubes, compared in float32",
)
def poly3_tree():
    X, y = numbers(1500, 3, seed=92)
    model = Pipeline(
        [("poly", PolynomialFeatures(degree=3)), ("model", DecisionTreeClassifier(max_depth=8, random_state=0))]
    )
    return model.fit(X, y)


@case(
    "products",
    "poly-degree-range-columns",
    "PolynomialFeatures(degree=(2, 3)) on two columns beside encoded categories, scaled, before a ridge",
)
def poly_degree_range_columns():
    df = birds(600, seed=93)
    columns = ColumnTransformer(
        [
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["bird", "food"]),
            ("num", PolynomialFeatures(degree=(2, 3)), ["wingspan", "weight"]),
        ]
    )
    model = Pipeline([("columns", columns), ("scale", StandardScaler()), ("model", Ridge(alpha=0.5))])
    return model.fit(df[["bird", "food", *NUMERIC[:2]]], bird_target(df, "regression"))


@case(
    "products",
    "poly2-tree-regression",
    "PolynomialFeatures(degree=2, interaction_only) before a regression tree",
)
def poly2_tree_regression():
    X, y = numbers(500, 3, seed=94, task="regression")
    poly = PolynomialFeatures(degree=2, interaction_only=True)
    model = Pipeline([("poly", poly), ("model", DecisionTreeRegressor(max_depth=6, random_state=0))])
    return model.fit(X, y)


FEATURES.update(
    {
        "products": "Columns of several inputs: PolynomialFeatures' products in scikit-learn's order, before linear "
        "models and trees; NaN, infinities and overflowing products are row errors.",
    }
)
