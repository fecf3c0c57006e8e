"""Pipelines and ColumnTransformers against scikit-learn, on rows in the raw input space.

Each case fits a pipeline on a DataFrame with categorical (bird, food,
planet) and numeric columns, then probes it with random rows, missing
values, unknown categories, and values scikit-learn refuses.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer, make_column_transformer
from sklearn.ensemble import ExtraTreesRegressor, RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

import crossform
from helpers.oracle import SPECIALS, assert_checks_pass, assert_identical, compare

BIRDS = ["albatross", "crow", "heron", "kiwi", "owl", "puffin"]
FOODS = ["fish", "insects", "nectar", "seeds"]
PLANETS = ["earth", "mars", "venus"]
CATS = ["bird", "food", "planet"]
NUMS = ["wingspan", "weight", "altitude"]


def frame(n: int, seed: int, missing: float = 0.1, rare_food: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    foods = FOODS + (["worms"] if rare_food else [])
    p_food = [0.3, 0.3, 0.2, 0.19, 0.01] if rare_food else None
    df = pd.DataFrame(
        {
            "bird": pd.Series(rng.choice(BIRDS, n), dtype=object),
            "food": pd.Series(rng.choice(foods, n, p=p_food), dtype=object),
            "planet": pd.Series(rng.choice(PLANETS, n), dtype=object),
            "wingspan": rng.normal(1.2, 0.5, n),
            "weight": rng.lognormal(0, 1, n),
            "altitude": rng.normal(500, 300, n).round(),
        }
    )
    for col in df.columns:
        df.loc[rng.random(n) < missing, col] = np.nan
    return df


def target(df: pd.DataFrame, task: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    signal = (
        df.wingspan.fillna(1.0) * 2
        + np.log(df.weight.fillna(1.0))
        + (df.bird == "owl") * 1.5
        - (df.food == "fish")
        + (df.planet == "mars") * 0.7
        + rng.normal(0, 0.3, len(df))
    )
    if task == "regression":
        return signal.to_numpy()
    if task == "multiclass":
        return np.digitize(signal, np.quantile(signal, [0.33, 0.66]))
    return (signal > signal.median()).to_numpy()


def probes(known_seed: int = 99) -> pd.DataFrame:
    """Random rows, then rows with one odd value each: unknown and missing
    categories, a number in a category column, and the special numbers."""
    rows = frame(400, known_seed, missing=0.15)
    rng = np.random.default_rng(known_seed)
    odd = []
    for col in CATS:
        for value in ["zebra", "", np.nan]:
            row = rows.iloc[rng.integers(len(rows))].copy()
            row[col] = value
            odd.append(row)
    for col in NUMS:
        for value in SPECIALS + [np.nan]:
            row = rows.iloc[rng.integers(len(rows))].copy()
            row[col] = value
            odd.append(row)
    out = pd.concat([rows, pd.DataFrame(odd)], ignore_index=True)
    for col in CATS:
        out[col] = out[col].astype(object)
    for col in NUMS:
        out[col] = out[col].astype(np.float64)
    return out


KNOWN = {"bird": set(BIRDS), "food": set(FOODS) | {"worms"}, "planet": set(PLANETS)}


def cat_pipeline(**encoder):
    return Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("encode", OrdinalEncoder(**encoder))])


PIPELINES = {
    # the seed's example: fill missing, encode categories, random forest
    "seed": lambda model: Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("cat", cat_pipeline(), CATS),
                        ("num", SimpleImputer(strategy="median"), NUMS),
                    ]
                ),
            ),
            ("model", model),
        ]
    ),
    "unknown-as-value": lambda model: Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("cat", cat_pipeline(handle_unknown="use_encoded_value", unknown_value=-1), CATS),
                        ("num", SimpleImputer(strategy="mean"), NUMS),
                    ]
                ),
            ),
            ("model", model),
        ]
    ),
    "unknown-as-nan-missing-kept": lambda model: Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), CATS),
                        ("num", "passthrough", NUMS),
                    ]
                ),
            ),
            ("model", model),
        ]
    ),
    "encoded-missing-value": lambda model: Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        (
                            "cat",
                            OrdinalEncoder(
                                encoded_missing_value=-2, handle_unknown="use_encoded_value", unknown_value=-1
                            ),
                            CATS,
                        ),
                    ],
                    remainder="passthrough",
                ),
            ),
            ("model", model),
        ]
    ),
    "missing-is-unknown-error": lambda model: Pipeline(
        [
            # no NaN in the categorical training data: a missing category is unknown, a row error
            (
                "columns",
                ColumnTransformer(
                    [
                        ("cat", OrdinalEncoder(), ["planet"]),
                        ("num", SimpleImputer(strategy="constant", fill_value=-999.0), NUMS),
                    ]
                ),
            ),
            ("model", model),
        ]
    ),
    "infrequent-categories": lambda model: Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        (
                            "cat",
                            cat_pipeline(min_frequency=0.05, handle_unknown="use_encoded_value", unknown_value=-1),
                            CATS,
                        ),
                        ("num", SimpleImputer(strategy="constant"), NUMS),
                    ],
                    verbose_feature_names_out=False,
                ),
            ),
            ("model", model),
        ]
    ),
    "max-categories": lambda model: Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("cat", cat_pipeline(max_categories=3), ["bird"]),
                        ("num", SimpleImputer(strategy=lambda x: float(np.nanmax(x))), NUMS),
                    ]
                ),
            ),
            ("model", model),
        ]
    ),
    "scaled-and-shared-columns": lambda model: Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("cat", cat_pipeline(), CATS),
                        (
                            "num",
                            Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
                            NUMS,
                        ),
                        ("raw", SimpleImputer(strategy="mean"), ["wingspan"]),  # wingspan feeds two branches
                    ]
                ),
            ),
            ("model", model),
        ]
    ),
    "scaler-options": lambda model: Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("cat", cat_pipeline(), ["bird"]),
                        ("mean-only", StandardScaler(with_std=False), ["weight"]),
                        ("std-only", StandardScaler(with_mean=False), ["altitude"]),
                        ("both", StandardScaler(), ["wingspan"]),
                    ]
                ),
            ),
            ("model", model),
        ]
    ),
    "pipeline-after-columns": lambda model: Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("cat", cat_pipeline(), CATS),
                        ("num", SimpleImputer(strategy="median"), NUMS),
                    ]
                ),
            ),
            ("scale", StandardScaler()),
            ("model", model),
        ]
    ),
    "nested-column-transformers": lambda model: Pipeline(
        [
            (
                "outer",
                ColumnTransformer(
                    [
                        (
                            "inner",
                            ColumnTransformer(
                                [
                                    ("cat", cat_pipeline(), ["bird", "food"]),
                                    ("num", SimpleImputer(), ["weight"]),
                                ]
                            ),
                            ["bird", "food", "weight"],
                        ),
                        ("planet", cat_pipeline(), ["planet"]),
                    ],
                    remainder=SimpleImputer(strategy="median"),
                ),
            ),
            ("model", model),
        ]
    ),
}

MODELS = {
    "binary": lambda: RandomForestClassifier(n_estimators=12, max_depth=9, random_state=0),
    "multiclass": lambda: DecisionTreeClassifier(max_depth=7, random_state=0),
    "regression": lambda: ExtraTreesRegressor(n_estimators=10, max_depth=9, random_state=0),
}
CASES = [(p, t) for p in PIPELINES for t in MODELS]


@pytest.fixture(scope="module")
def train():
    return frame(1500, 0)


@pytest.fixture(scope="module")
def rows():
    return probes()


@pytest.mark.parametrize("pipeline,task", CASES, ids=[f"{p}-{t}" for p, t in CASES])
def test_pipeline_matches_sklearn(pipeline, task, train, rows):
    data = train
    if pipeline == "missing-is-unknown-error":
        data = train.assign(planet=train.planet.fillna("earth"))
    est = PIPELINES[pipeline](MODELS[task]()).fit(data, target(data, task))
    package = crossform.from_sklearn(est)
    report = compare(package, est, rows, KNOWN)
    assert report["refused"] >= 10
    assert_identical(report)
    assert_checks_pass(package)


# The shapes a pipeline takes around the same steps: (the columns it is fitted on,
# whether it is fitted on a numpy array and exported with input_names, builder, task).
SHAPES = {
    "one-step-pipeline": (NUMS, False, lambda model: Pipeline([("model", model)]), "binary"),
    "nested-pipelines": (
        CATS + NUMS,
        False,
        lambda model: Pipeline(
            [
                (
                    "prepare",
                    Pipeline(
                        [
                            (
                                "columns",
                                ColumnTransformer([("cat", cat_pipeline(), CATS), ("num", SimpleImputer(), NUMS)]),
                            ),
                            ("scale", Pipeline([("scale", StandardScaler())])),
                        ]
                    ),
                ),
                ("model", Pipeline([("model", model)])),
            ]
        ),
        "multiclass",
    ),
    "passthrough-and-none-steps": (
        CATS + NUMS,
        False,
        lambda model: Pipeline(
            [
                ("nothing-first", "passthrough"),
                ("columns", ColumnTransformer([("cat", cat_pipeline(), CATS), ("num", SimpleImputer(), NUMS)])),
                ("nothing", None),
                ("nothing-either", "passthrough"),
                ("model", model),
            ]
        ),
        "regression",
    ),
    "remainder-passthrough": (
        CATS + NUMS,
        False,
        lambda model: Pipeline(
            [
                ("columns", ColumnTransformer([("cat", cat_pipeline(), CATS)], remainder="passthrough")),
                ("model", model),
            ]
        ),
        "binary",
    ),
    "remainder-passthrough-short-names": (
        CATS + NUMS,
        False,
        lambda model: Pipeline(
            [
                (
                    "columns",
                    ColumnTransformer(
                        [("cat", cat_pipeline(), CATS)], remainder="passthrough", verbose_feature_names_out=False
                    ),
                ),
                ("model", model),
            ]
        ),
        "multiclass",
    ),
    "remainder-drop": (
        CATS + NUMS,
        False,
        lambda model: Pipeline(
            [
                (
                    "columns",
                    ColumnTransformer(
                        [("cat", cat_pipeline(), ["bird", "planet"]), ("num", SimpleImputer(), ["wingspan", "weight"])],
                        remainder="drop",
                    ),
                ),
                ("model", model),
            ]
        ),
        "regression",
    ),
    "remainder-drop-short-names": (
        CATS + NUMS,
        False,
        lambda model: Pipeline(
            [
                (
                    "columns",
                    ColumnTransformer(
                        [("cat", cat_pipeline(), ["food"]), ("num", SimpleImputer(), ["wingspan", "altitude"])],
                        remainder="drop",
                        verbose_feature_names_out=False,
                    ),
                ),
                ("model", model),
            ]
        ),
        "binary",
    ),
    "make-pipeline-names": (
        CATS + NUMS,
        False,
        lambda model: make_pipeline(
            make_column_transformer((cat_pipeline(), CATS), (SimpleImputer(strategy="median"), NUMS)),
            StandardScaler(),
            model,
        ),
        "multiclass",
    ),
    "pandas-output": (
        CATS + NUMS,
        False,
        lambda model: Pipeline(
            [
                ("columns", ColumnTransformer([("cat", cat_pipeline(), CATS)], remainder=SimpleImputer())),
                ("scale", StandardScaler()),
                ("model", model),
            ]
        ).set_output(transform="pandas"),
        "regression",
    ),
    "numpy-fit-named-inputs": (
        NUMS,
        True,
        lambda model: Pipeline(
            [
                ("impute", SimpleImputer(strategy="median")),
                ("model", model),
            ]
        ),
        "binary",
    ),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_pipeline_shape_matches_sklearn(shape, train, rows):
    columns, numpy_fit, build, task = SHAPES[shape]
    data = train[columns]
    est = build(MODELS[task]())
    if numpy_fit:
        est.fit(data.to_numpy(dtype=np.float64), target(train, task))
        package = crossform.from_sklearn(est, input_names=columns)
        assert [f.name for f in package.inputs] == columns
        # crossform takes the columns by the names given at export, whatever their order
        shuffled = rows[columns[::-1]]
        np.testing.assert_array_equal(
            crossform.score(package, shuffled).values, crossform.score(package, rows[columns]).values
        )
    else:
        est.fit(data, target(train, task))
        package = crossform.from_sklearn(est)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "X has feature names")  # scikit-learn takes an array's columns by position
        report = compare(package, est, rows[columns], KNOWN)
    assert report["refused"] >= 10
    assert_identical(report)
    assert_checks_pass(package)


def test_seed_pipeline_round_trips_through_stripe_json(tmp_path, train, rows):
    est = PIPELINES["seed"](RandomForestRegressor(n_estimators=8, random_state=0)).fit(
        train, target(train, "regression")
    )
    package = crossform.from_sklearn(est, owner="birds", tags=["demo"], metadata={"purpose": "test"}, checks=0)
    path = crossform.save(package, tmp_path / "pkg")
    loaded = crossform.load(path)
    assert loaded.id == package.id
    report = compare(loaded, est, rows, KNOWN)
    assert_identical(report)


def test_row_errors_name_the_feature_and_value(train):
    est = PIPELINES["seed"](DecisionTreeClassifier(random_state=0)).fit(train, target(train, "binary"))
    package = crossform.from_sklearn(est, checks=0)
    rows = train.head(4).copy()
    rows.loc[0, "bird"] = "dodo"
    rows.loc[1, "wingspan"] = np.inf
    rows.loc[2, "food"] = 7
    scores = crossform.score(package, rows)
    assert scores.errors[0] == "feature 'bird': unknown category 'dodo'"
    assert scores.errors[1] == "feature 'wingspan': value inf is not finite"
    assert scores.errors[2] == "feature 'food': expected a string category or missing, got 7 (int)"
    assert scores.errors[3] is None
    assert np.isnan(scores.values[:3]).all() and not np.isnan(scores.values[3]).any()


def test_none_and_nan_are_both_missing(train):
    est = PIPELINES["seed"](DecisionTreeClassifier(random_state=0)).fit(train, target(train, "binary"))
    package = crossform.from_sklearn(est, checks=0)
    with_nan = train.head(20).copy()
    with_nan.loc[:, "bird"] = np.nan
    with_none = with_nan.copy()
    with_none["bird"] = pd.Series([None] * 20, dtype=object)
    a, b = crossform.score(package, with_nan), crossform.score(package, with_none)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.values, est.predict_proba(with_nan))
