"""Stand-ins for the two boosting models of the export bench, fitted each run (about a second).

No Audit or auto-mpg data set is available offline, so these are seeded synthetic
frames of the same shape as the models measured in the field:

- Audit-like: 1,899 rows, 9 columns (4 numeric, 5 string categories, two of them
  with missing cells), a binary target; ordinal-encoded strings into a
  HistGradientBoostingClassifier of 60 iterations with the categories marked
  categorical (the usual Pipeline for string data).
- auto-mpg-like: 392 rows, 7 numeric columns (cylinders, displacement, horsepower,
  weight, acceleration, model year, origin), a HistGradientBoostingRegressor of
  80 iterations.
"""

from __future__ import annotations

import numpy as np

AUDIT_CATEGORIES = {
    "Employment": ["Private", "Consultant", "SelfEmp", "PSLocal", "PSState", "PSFederal", "Volunteer"],
    "Education": [
        "College",
        "HSgrad",
        "Bachelor",
        "Yr10",
        "Yr11",
        "Associate",
        "Master",
        "Vocational",
        "Yr9",
        "Professional",
        "Yr12",
        "Yr7t8",
        "Doctorate",
        "Yr5t6",
        "Yr1t4",
        "Preschool",
    ],
    "Marital": ["Married", "Absent", "Divorced", "Unmarried", "Widowed", "Married-spouse-absent"],
    "Occupation": [
        "Executive",
        "Professional",
        "Clerical",
        "Sales",
        "Repair",
        "Service",
        "Machinist",
        "Cleaner",
        "Transport",
        "Farming",
        "Support",
        "Protective",
        "Home",
        "Military",
    ],
    "Gender": ["Male", "Female"],
}
AUDIT_NUMERIC = ["Age", "Income", "Deductions", "Hours"]


def audit_frame(n: int = 1899, seed: int = 0):
    """(frame, target): an Audit-shaped frame, strings with missing cells in Employment and Occupation."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    data = {
        "Age": rng.integers(17, 91, n).astype(np.float64),
        "Income": np.round(rng.lognormal(11, 0.8, n), 2),
        "Deductions": np.where(rng.random(n) < 0.95, 0.0, np.round(rng.uniform(500, 3000, n), 2)),
        "Hours": rng.integers(1, 100, n).astype(np.float64),
    }
    for name, values in AUDIT_CATEGORIES.items():
        p = np.linspace(2.0, 1.0, len(values))
        data[name] = np.array(values, dtype=object)[rng.choice(len(values), n, p=p / p.sum())]
    for name in ("Employment", "Occupation"):
        data[name][rng.random(n) < 0.05] = np.nan
    frame = pd.DataFrame(data)[
        ["Age", "Employment", "Education", "Marital", "Occupation", "Income", "Gender", "Deductions", "Hours"]
    ]
    score = (
        frame["Age"] / 30
        + np.log(frame["Income"]) / 4
        + (frame["Marital"] == "Married")
        + frame["Education"].isin(["Bachelor", "Master", "Doctorate", "Professional"]) * 0.8
        + frame["Deductions"] / 2000
        + rng.normal(0, 0.7, n)
    )
    return frame, (score > np.quantile(score, 0.77)).astype(int).to_numpy()


def audit_classifier():
    """An HGB classifier of 60 iterations on the Audit-like frame (strings ordinal-encoded, categorical)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    frame, y = audit_frame()
    strings = list(AUDIT_CATEGORIES)
    columns = ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2),
                strings,
            ),
            ("num", "passthrough", AUDIT_NUMERIC),
        ]
    )
    model = HistGradientBoostingClassifier(
        max_iter=60, random_state=0, categorical_features=[True] * len(strings) + [False] * len(AUDIT_NUMERIC)
    )
    return Pipeline([("columns", columns), ("model", model)]).fit(frame, y)


def mpg_frame(n: int = 392, seed: int = 0):
    """(frame, target): an auto-mpg-shaped frame of 7 numeric columns."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    cylinders = rng.choice([3, 4, 5, 6, 8], n, p=[0.01, 0.51, 0.01, 0.21, 0.26]).astype(np.float64)
    displacement = np.round(cylinders * rng.uniform(20, 50, n), 0)
    horsepower = np.round(displacement * rng.uniform(0.35, 0.7, n) + 20, 0)
    weight = np.round(1500 + displacement * 7 + rng.normal(0, 250, n), 0)
    acceleration = np.round(rng.normal(15.5, 2.7, n), 1)
    year = rng.integers(70, 83, n).astype(np.float64)
    origin = rng.choice([1, 2, 3], n, p=[0.62, 0.18, 0.2]).astype(np.float64)
    frame = pd.DataFrame(
        {
            "cylinders": cylinders,
            "displacement": displacement,
            "horsepower": horsepower,
            "weight": weight,
            "acceleration": acceleration,
            "model_year": year,
            "origin": origin,
        }
    )
    mpg = 60 - weight / 150 + (year - 70) * 0.8 + (origin - 1) * 1.5 + rng.normal(0, 2.5, n)
    return frame, np.clip(mpg, 9, 47)


def mpg_regressor():
    """An HGB regressor of 80 iterations on the auto-mpg-like frame."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    frame, y = mpg_frame()
    return HistGradientBoostingRegressor(max_iter=80, random_state=0).fit(frame, y)
