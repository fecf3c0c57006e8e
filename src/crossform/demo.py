"""The demo's example: a seeded bird data set, the pipeline fitted on it and six sample rows.

``crossform demo`` shows it; tests and docs use it as a small realistic pipeline. scikit-learn,
pandas and numpy are imported inside the functions, so importing this module (or ``crossform``)
stays light.
"""

from __future__ import annotations

import math

import crossform
from crossform.errors import CrossformError
from crossform.exporters import sniff

CATEGORIES = {
    "bird": ["albatross", "crow", "heron", "kiwi", "owl", "puffin"],
    "food": ["fish", "insects", "nectar", "seeds"],
    "planet": ["earth", "mars", "venus"],
}
NUMERIC = ["wingspan", "weight", "altitude"]
TARGET = "migrates"
ROWS = 2000
MISSING = 0.08
# What marks a package as the demo's own output, which a later run may replace without --overwrite.
OWNER = "crossform-demo"
TAGS = ("demo",)
# The tag the demo deploys its models to, in the store and registry under --ship-to.
DEPLOY_TAG = "birds.production"


def frame(rng, n: int):
    """``n`` rows of bird data drawn from the numpy Generator ``rng``, with the target column."""
    import numpy as np
    import pandas as pd

    birds = pd.DataFrame(
        {
            **{name: pd.Series(rng.choice(values, n), dtype=object) for name, values in CATEGORIES.items()},
            "wingspan": rng.normal(1.2, 0.5, n),
            "weight": rng.lognormal(0.0, 1.0, n),
            "altitude": rng.normal(500.0, 300.0, n).round(),
        }
    )
    # Long-winged seabirds migrate, heavy ones and those on venus less so.
    signal = (
        birds.wingspan.fillna(1.2) * 2.0
        - np.log(birds.weight.fillna(1.0))
        + birds.bird.isin(["albatross", "puffin", "heron"]) * 1.0
        - (birds.planet == "venus") * 0.8
        + birds.altitude.fillna(500.0) / 1000.0
        + rng.normal(0.0, 0.5, n)
    )
    target = (signal > signal.median()).to_numpy()
    # Holes go in after the target so that missing values are not informative.
    for name in birds.columns:
        birds.loc[rng.random(n) < MISSING, name] = np.nan
    birds[TARGET] = target
    return birds


SAMPLES = [
    {"bird": "albatross", "food": "fish", "planet": "earth", "wingspan": 2.9, "weight": 8.5, "altitude": 1200.0},
    {"bird": "owl", "food": "insects", "planet": "mars", "wingspan": 1.1, "weight": 1.4, "altitude": 300.0},
    {"bird": "kiwi", "food": "seeds", "planet": "venus", "wingspan": 0.3, "weight": 2.6, "altitude": 40.0},
    {"bird": None, "food": "nectar", "planet": "earth", "wingspan": None, "weight": 0.2, "altitude": 650.0},
    {"bird": "crow", "food": "seeds", "planet": "pluto", "wingspan": 0.9, "weight": 0.5, "altitude": 200.0},
    {"bird": "puffin", "food": "fish", "planet": "mars", "wingspan": math.inf, "weight": 0.6, "altitude": 90.0},
]


def pipeline(week: int = 0):
    """Fit the demo's example pipeline: (fitted pipeline, training frame, sample rows).

    ``week`` 0 is the demo's model; week 1 is the same pipeline retrained on next week's birds
    (another draw of the data, another forest seed), the second model the demo deploys.
    The sample rows are plain dicts (None for missing): three ordinary rows,
    one with a missing bird and wingspan, one with the unknown planet
    "pluto" and one with an infinite wingspan.
    """
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    train = frame(np.random.default_rng(week), ROWS)
    cats = list(CATEGORIES)
    pipe = Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        (
                            "cat",
                            Pipeline(
                                [("impute", SimpleImputer(strategy="most_frequent")), ("encode", OrdinalEncoder())]
                            ),
                            cats,
                        ),
                        ("num", SimpleImputer(strategy="median"), NUMERIC),
                    ]
                ),
            ),
            ("model", RandomForestClassifier(n_estimators=50, max_depth=10, random_state=week)),
        ]
    )
    pipe.fit(train[cats + NUMERIC], train[TARGET])
    return pipe, train, [dict(row) for row in SAMPLES]


def sklearn_row(pipe, row: dict):
    """predict_proba of one row alone, or None when scikit-learn refuses it."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {
            # scikit-learn's imputers take NaN, not None, as missing in object columns
            **{name: pd.Series([np.nan if row.get(name) is None else row[name]], dtype=object) for name in CATEGORIES},
            **{name: pd.Series([np.nan if row.get(name) is None else row[name]], dtype=np.float64) for name in NUMERIC},
        }
    )
    try:
        return [float(v) for v in pipe.predict_proba(frame)[0]]
    except ValueError:  # how scikit-learn refuses unknown categories and infinities
        return None


def is_demo_output(path: str) -> bool:
    """True when ``path`` is a stripe-json package the demo wrote (its owner and tags), even one
    edited since (an id mismatch); anything else, readable or not, is somebody else's."""
    try:
        if sniff(path) != "stripe-json":
            return False
        package = crossform.load(path, format="stripe-json")
    except crossform.IdMismatchError as exc:
        package = exc.package
    except (CrossformError, OSError):
        return False
    return package.owner == OWNER and package.tags == TAGS
