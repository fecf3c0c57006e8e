"""The shapes a pipeline takes around its steps.

The cases of the feature "pipeline-shapes": one step, nesting, skipped steps, ColumnTransformer
remainders and names, pandas output, names given to an array's columns.
"""

from __future__ import annotations

import numpy as np
from generators import CATEGORICAL, NUMERIC, bird_target, birds, case, numbers
from sklearn.compose import ColumnTransformer, make_column_transformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    MinMaxScaler,
    OrdinalEncoder,
    StandardScaler,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

# ---------------------------------------------------------------- pipeline shapes


def _bird_columns():
    """An ordinal-encoded bird and food, imputed wingspan and weight (planet and altitude are the remainder)."""
    return [
        (
            "cat",
            Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("encode", OrdinalEncoder())]),
            ["bird", "food"],
        ),
        ("num", SimpleImputer(strategy="median"), ["wingspan", "weight"]),
    ]


@case("pipeline-shapes", "one-step-pipeline", "a pipeline of one step: the model alone")
def one_step_pipeline():
    X, y = numbers(600, 4, seed=52)
    return Pipeline([("model", ExtraTreesClassifier(n_estimators=3, max_depth=5, random_state=0))]).fit(X, y)


@case("pipeline-shapes", "nested-pipelines", "pipelines inside pipelines, the model in one of its own")
def nested_pipelines():
    df = birds(700, seed=53, missing=0.1)
    prepare = Pipeline(
        [("columns", ColumnTransformer(_bird_columns())), ("scale", Pipeline([("scale", StandardScaler())]))]
    )
    model = Pipeline([("model", RandomForestRegressor(n_estimators=3, max_depth=5, random_state=0))])
    return Pipeline([("prepare", prepare), ("model", model)]).fit(
        df[CATEGORICAL + NUMERIC], bird_target(df, "regression")
    )


@case("pipeline-shapes", "passthrough-and-none-steps", '"passthrough" and None steps, the first step among them')
def passthrough_and_none_steps():
    df = birds(700, seed=54, missing=0.1)
    model = Pipeline(
        [
            ("first", "passthrough"),
            ("columns", ColumnTransformer(_bird_columns())),
            ("nothing", None),
            ("model", DecisionTreeClassifier(max_depth=6, random_state=0)),
        ]
    )
    return model.fit(df, bird_target(df, "binary"))


def _remainder_case(seed: int, remainder: str, verbose: bool, task: str, model):
    df = birds(700, seed=seed, missing=0.1)
    columns = ColumnTransformer(_bird_columns(), remainder=remainder, verbose_feature_names_out=verbose)
    if remainder == "passthrough":  # the remainder must be numeric: encode planet, leave altitude as it is
        columns = ColumnTransformer(
            [*_bird_columns(), ("planet", OrdinalEncoder(), ["planet"])],
            remainder=remainder,
            verbose_feature_names_out=verbose,
        )
    return Pipeline([("columns", columns), ("model", model)]).fit(df, bird_target(df, task))


@case("pipeline-shapes", "remainder-passthrough", "ColumnTransformer(remainder='passthrough'), verbose feature names")
def remainder_passthrough():
    return _remainder_case(
        55, "passthrough", True, "binary", RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0)
    )


@case(
    "pipeline-shapes",
    "remainder-passthrough-short-names",
    "ColumnTransformer(remainder='passthrough', verbose_feature_names_out=False)",
    since=("1.6", "extra trees fitted on NaN"),
)
def remainder_passthrough_short_names():
    return _remainder_case(
        56, "passthrough", False, "regression", ExtraTreesRegressor(n_estimators=3, max_depth=5, random_state=0)
    )


@case("pipeline-shapes", "remainder-drop", "ColumnTransformer(remainder='drop'): planet and altitude never read")
def remainder_drop():
    return _remainder_case(57, "drop", True, "multiclass", DecisionTreeClassifier(max_depth=6, random_state=0))


@case(
    "pipeline-shapes",
    "remainder-drop-short-names",
    "ColumnTransformer(remainder='drop', verbose_feature_names_out=False)",
)
def remainder_drop_short_names():
    return _remainder_case(
        58, "drop", False, "binary", GradientBoostingClassifier(n_estimators=5, max_depth=3, random_state=0)
    )


@case("pipeline-shapes", "make-pipeline-names", "make_pipeline and make_column_transformer: generated step names")
def make_pipeline_names():
    df = birds(700, seed=59, missing=0.1)
    columns = make_column_transformer(
        (Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("encode", OrdinalEncoder())]), CATEGORICAL),
        (SimpleImputer(strategy="median"), NUMERIC),
    )
    model = make_pipeline(
        columns, StandardScaler(), RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0)
    )
    return model.fit(df, bird_target(df, "multiclass"))


@case("pipeline-shapes", "pandas-output", "set_output(transform='pandas'): DataFrames between the steps")
def pandas_output():
    df = birds(700, seed=60, missing=0.1)
    columns = ColumnTransformer(_bird_columns(), remainder="drop")
    model = Pipeline(
        [("columns", columns), ("scale", MinMaxScaler()), ("model", DecisionTreeRegressor(max_depth=6, random_state=0))]
    )
    return model.set_output(transform="pandas").fit(df, bird_target(df, "regression"))


@case(
    "pipeline-shapes",
    "array-fit-named-inputs",
    "fitted on a numpy array, exported with input_names: the package reads wingspan, weight, altitude",
    input_names=NUMERIC,
)
def array_fit_named_inputs():
    df = birds(700, seed=61, missing=0.1)
    model = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("model", RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0)),
        ]
    )
    return model.fit(df[NUMERIC].to_numpy(dtype=np.float64), bird_target(df, "binary"))
