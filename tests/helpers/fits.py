"""Small scikit-learn pipelines fitted on seeded data, shared by the format tests."""

from __future__ import annotations

import numpy as np


def fit_pipeline(task: str, seed: int = 0):
    """A small pipeline (encoder, imputer, scaler, forest) for "classifier" or "regressor"; ``seed``
    draws the forest (another seed: the same pipeline retrained, with the same outputs)."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder, StandardScaler

    rng = np.random.default_rng(0)
    n = 300

    X = pd.DataFrame(
        {
            "colour": pd.Series(rng.choice(["red", "blue", "green"], n), dtype=object),
            "size": rng.normal(10, 4, n),
            "weight": rng.normal(0, 1, n),
        }
    )
    X.loc[rng.random(n) < 0.1, "size"] = np.nan
    y = X["size"].fillna(10).to_numpy() + (X["colour"] == "red") * 3 + rng.normal(0, 1, n)
    prep = ColumnTransformer(
        [
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["colour"]),
            (
                "num",
                Pipeline([("fill", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
                ["size", "weight"],
            ),
        ]
    )
    if task == "classifier":
        model = RandomForestClassifier(n_estimators=5, max_depth=5, random_state=seed)
        y = np.array(["low", "mid", "high"])[np.digitize(y, np.quantile(y, [0.33, 0.66]))]
    else:
        model = RandomForestRegressor(n_estimators=5, max_depth=5, random_state=seed)
    return Pipeline([("prep", prep), ("model", model)]).fit(X, y)


def linear_bird_pipeline():
    """A logistic regression on the bird columns: imputed, one-hot encoded, scaled (unfitted)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categories = Pipeline(
        [("impute", SimpleImputer(strategy="most_frequent")), ("encode", OneHotEncoder(handle_unknown="ignore"))]
    )
    numbers = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    columns = ColumnTransformer([("cat", categories, ["bird", "food"]), ("num", numbers, ["wingspan", "weight"])])
    return Pipeline([("columns", columns), ("model", LogisticRegression())])
