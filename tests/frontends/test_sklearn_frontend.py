"""The scikit-learn frontend: what it converts, what it refuses, and how plugins extend it."""

from __future__ import annotations

import contextlib
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.base import is_classifier
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import (
    BaggingClassifier,
    GradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, OrdinalEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import crossform
from crossform import ir
from crossform.errors import InputError, InputNamesError, NotFittedError, UnsupportedEstimatorError
from crossform.sklearn import converters
from helpers.estimators import HalfScaler
from helpers.oracle import assert_checks_pass, assert_identical, compare


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame(
        {
            "bird": pd.Series(rng.choice(["crow", "owl", "kiwi"], n), dtype=object),
            "weight": rng.normal(size=n),
            "age": rng.normal(size=n),
        }
    )
    df.loc[rng.random(n) < 0.1, "weight"] = np.nan
    y = (df.weight.fillna(0) + (df.bird == "owl") > 0.5).to_numpy()
    return df, y


def seed_pipeline(model=None):
    return Pipeline(
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
                            ["bird"],
                        ),
                        ("num", SimpleImputer(strategy="median"), ["weight", "age"]),
                    ]
                ),
            ),
            ("model", model or RandomForestClassifier(n_estimators=5, random_state=0)),
        ]
    )


def test_seed_pipeline_structure(data):
    df, y = data
    package = crossform.from_sklearn(seed_pipeline().fit(df, y), owner="birds")
    assert [(f.name, f.kind) for f in package.inputs] == [
        ("bird", "categorical"),
        ("weight", "numeric"),
        ("age", "numeric"),
    ]
    assert [e.encoder_type for e in package.encoders] == ["fill-missing", "label-encoder", "fill-missing"]
    assert package.encoders[1].features == ("bird",) and package.encoders[1].outputs == ("bird",)
    assert package.model.features == ("bird", "weight", "age")
    assert package.model_type == "classification-forest"
    assert package.owner == "birds" and package.producer["scikit-learn"]


def test_column_read_by_two_branches_is_not_overwritten(data):
    df, y = data
    est = Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("fill", SimpleImputer(strategy="median"), ["weight"]),
                        ("scale", StandardScaler(), ["weight", "age"]),
                    ]
                ),
            ),
            ("model", DecisionTreeClassifier(random_state=0)),
        ]
    ).fit(df, y)
    package = crossform.from_sklearn(est)
    fill, scale = package.encoders
    assert fill.features == ("weight",) and fill.outputs == ("fill__weight",)
    assert scale.features == ("weight", "age") and scale.outputs == ("weight", "age")
    assert package.model.features == ("fill__weight", "weight", "age")
    assert_identical(compare(package, est, df[["weight", "age"]]))


@pytest.mark.parametrize("keep", [False, True])
def test_imputer_with_a_feature_never_seen(keep):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(size=200), "empty": np.nan, "b": rng.normal(size=200)})
    y = df.a > 0
    est = Pipeline(
        [("impute", SimpleImputer(keep_empty_features=keep)), ("model", DecisionTreeClassifier(random_state=0))]
    ).fit(df, y)
    package = crossform.from_sklearn(est)
    assert ("empty" in package.model.features) == keep
    probe = pd.DataFrame({"a": rng.normal(size=50), "empty": rng.choice([np.nan, 3.0], 50), "b": np.nan})
    assert_identical(compare(package, est, probe))


UNSUPPORTED = {
    "model class": (lambda: KNeighborsClassifier(n_neighbors=2), "cannot convert sklearn.neighbors.KNeighbors"),
    "clipping": (lambda: Pipeline([("s", MinMaxScaler(clip=True)), ("m", DecisionTreeClassifier())]), "clip=True"),
    "ovr probabilities": (lambda: SGDClassifier(loss="modified_huber"), "modified_huber"),
    "custom init": (
        lambda: GradientBoostingClassifier(n_estimators=2, init=DecisionTreeClassifier(max_depth=1)),
        "init estimator",
    ),
    "missing marker": (
        lambda: Pipeline([("i", SimpleImputer(missing_values=-1.0)), ("m", DecisionTreeClassifier())]),
        "missing_values=-1.0",
    ),
    "code": (
        lambda: Pipeline([("f", FunctionTransformer(np.log1p)), ("m", DecisionTreeClassifier())]),
        "runs arbitrary code.*docs/plugins.md",
    ),
    "transformer only": (lambda: Pipeline([("s", StandardScaler())]), "ends in a transformer"),
    "bagging over a linear model": (
        lambda: BaggingClassifier(LogisticRegression(), n_estimators=2),
        "BaggingClassifier over LogisticRegression: crossform exports bagging over single trees",
    ),
}


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_unsupported_estimators_are_named(name):
    make, words = UNSUPPORTED[name]
    X = np.abs(np.random.default_rng(0).normal(size=(60, 3)))
    est = make().fit(X, X[:, 0] > 0.7)
    with pytest.raises(UnsupportedEstimatorError, match=words):
        crossform.from_sklearn(est)


def test_a_missing_indicator_refuses_rows_missing_a_value_it_never_saw_missing():
    X = np.random.default_rng(0).normal(size=(60, 3))
    X[::7, 1] = np.nan  # only column 1 has missing values at fit
    est = Pipeline([("i", MissingIndicator()), ("m", DecisionTreeClassifier(random_state=0))]).fit(X, X[:, 0] > 0)
    package = crossform.from_sklearn(est)
    refuse = package.encoders[0]
    assert isinstance(refuse, ir.RefuseMissing) and refuse.features == ("x0", "x2")
    rows = pd.DataFrame({"x0": [np.nan, 0.5, 0.5], "x1": [0.5, np.nan, 0.5], "x2": [0.5, 0.5, np.nan]})
    assert [e is not None for e in crossform.score(package, rows).errors] == [True, False, True]
    with pytest.raises(ValueError):
        est.predict(rows.iloc[[0]].to_numpy())  # as scikit-learn refuses them
    est.predict(rows.iloc[[1]].to_numpy())


def test_unsupported_message_lists_what_is_supported():
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(UnsupportedEstimatorError) as info:
        crossform.from_sklearn(KNeighborsClassifier(n_neighbors=2).fit(X, X[:, 0] > 0))
    assert "Supported: " in str(info.value) and "sklearn.ensemble.RandomForestClassifier" in str(info.value)
    assert "crossform.converters" in str(info.value) and "docs/plugins.md" in str(info.value)


def test_numeric_categories_convert_through_a_number_category_step():
    X = pd.DataFrame({"code": [1, 2, 3, 1, 2, 3]})
    est = Pipeline([("e", OrdinalEncoder()), ("m", DecisionTreeClassifier(random_state=0))]).fit(X, [0, 1, 0, 0, 1, 0])
    package = crossform.from_sklearn(est)
    assert [type(e) for e in package.encoders] == [ir.NumberCategory, ir.CategoricalEncoding]
    assert package.inputs == (ir.Field("code", ir.NUMERIC),)
    rows = pd.DataFrame({"code": [1.0, 2.0, 3.0, -0.0, 2.5]})
    scores = crossform.score(package, rows)
    assert [e is None for e in scores.errors] == [True, True, True, False, False]  # unknown numbers: errors
    np.testing.assert_array_equal(scores.values[:3], est.predict_proba(rows[:3]))


def test_integer_categories_float64_cannot_hold_are_refused_by_name():
    X = pd.DataFrame({"code": np.array([1, 2**53 + 1, 1, 2**53 + 1], dtype=np.int64)})
    est = Pipeline([("e", OrdinalEncoder()), ("m", DecisionTreeClassifier())]).fit(X, [0, 1, 0, 1])
    with pytest.raises(UnsupportedEstimatorError, match="9007199254740993 for 'code', which float64 cannot hold"):
        crossform.from_sklearn(est)


def test_one_column_read_as_two_kinds_is_refused(data):
    df, y = data
    est = Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("encode", OrdinalEncoder(), ["bird"]),
                        ("scale", "passthrough", ["bird"]),
                    ]
                ),
            ),
            ("model", DecisionTreeClassifier()),
        ]
    )
    df2 = df.assign(bird=df.bird.map({"crow": "1", "owl": "2", "kiwi": "3"}))
    est.fit(df2, y)
    with pytest.raises(
        UnsupportedEstimatorError,
        match="DecisionTreeClassifier reads column 'scale__bird' as numeric, but it is categorical",
    ):
        crossform.from_sklearn(est)


def test_multi_output_is_refused():
    X = np.random.default_rng(0).normal(size=(50, 2))
    est = DecisionTreeRegressor().fit(X, np.c_[X[:, 0], X[:, 1]])
    with pytest.raises(UnsupportedEstimatorError, match="2 targets"):
        crossform.from_sklearn(est)


def test_unfitted_estimator():
    with pytest.raises(NotFittedError, match="not fitted"):
        crossform.from_sklearn(seed_pipeline())


def test_declared_fields_reach_the_package(data):
    df, y = data
    package = crossform.from_sklearn(seed_pipeline().fit(df, y), owner="o", tags=["b", "a"], metadata={"k": "v"})
    assert package.tags == ("a", "b") and dict(package.metadata) == {"k": "v"}


# ---------------------------------------------------------------- plugins


def test_subclasses_are_not_silently_converted(data):
    df, y = data
    est = Pipeline([("s", HalfScaler()), ("m", DecisionTreeClassifier())]).fit(df[["weight", "age"]].fillna(0), y)
    with pytest.raises(UnsupportedEstimatorError, match="HalfScaler"):
        crossform.from_sklearn(est)


@contextlib.contextmanager
def installed_plugin(tmp_path, monkeypatch, name: str, source: str):
    """A real installed distribution (a dist-info folder on sys.path) whose
    entry point in crossform.converters names ``name:CONVERTERS``."""
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    dist = tmp_path / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[crossform.converters]\n{name} = {name}:CONVERTERS\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    converters.cache_clear()
    try:
        yield
    finally:
        monkeypatch.undo()
        sys.modules.pop(name, None)
        converters.cache_clear()


def test_entry_point_converters_are_used(tmp_path, monkeypatch, data):
    source = """
        from crossform.sklearn.preprocessing import convert_standard_scaler
        from helpers.estimators import HalfScaler
        CONVERTERS = {HalfScaler: convert_standard_scaler}
    """
    with installed_plugin(tmp_path, monkeypatch, "birdplugin", source):
        assert HalfScaler in converters()
        df, y = data
        X = df[["weight", "age"]].fillna(0)
        est = Pipeline([("s", HalfScaler()), ("m", DecisionTreeClassifier(random_state=0))]).fit(X, y)
        package = crossform.from_sklearn(est)
        assert isinstance(package.encoders[0], ir.Scale)
        assert_identical(compare(package, est, X))


def test_entry_point_that_is_not_a_table(tmp_path, monkeypatch):
    with installed_plugin(tmp_path, monkeypatch, "badplugin", "CONVERTERS = [1, 2]\n"):
        with pytest.raises(UnsupportedEstimatorError, match="must name a mapping"):
            converters()


# ---------------------------------------------------------------- make_serializable


def test_make_serializable(data):
    df, y = data
    model = crossform.make_serializable(seed_pipeline(), owner="birds", tags=["t"], metadata={"m": "1"})
    assert is_classifier(model)
    model.fit(df, y)
    package = model.model_package
    assert [e.encoder_type for e in package.encoders] == ["fill-missing", "label-encoder", "fill-missing"]
    assert package.model.model_type == "classification-forest"
    assert (
        model.to_content_hash()
        == crossform.from_sklearn(model.estimator_, owner="birds", tags=["t"], metadata={"m": "1"}).id
    )
    np.testing.assert_array_equal(model.predict_proba(df), model.estimator_.predict_proba(df))
    np.testing.assert_array_equal(crossform.score(package, df).values, model.predict_proba(df))


def test_make_serializable_needs_a_dataframe(data):
    df, y = data
    with pytest.raises(InputError, match="DataFrame"):
        crossform.make_serializable(RandomForestRegressor(n_estimators=2)).fit(df[["age"]].to_numpy(), y)


def test_class_labels_the_ir_cannot_carry_are_refused():
    X = np.random.default_rng(0).normal(size=(40, 2))
    labels = np.where(X[:, 0] > 0, "ok", "bad\ud800").astype(object)  # a lone surrogate has no UTF-8 form
    est = DecisionTreeClassifier(max_depth=2).fit(X, labels)
    with pytest.raises(UnsupportedEstimatorError, match="class labels crossform cannot export"):
        crossform.from_sklearn(est)


def test_identity_function_transformer_inside_column_transformer(data):
    """Such a branch cannot name its columns (get_feature_names_out raises); the
    columns keep their own names instead of the conversion failing."""
    df, y = data
    columns = ColumnTransformer(
        [
            ("same", FunctionTransformer(), ["weight"]),
            ("keep", "passthrough", ["age"]),
        ]
    )
    est = Pipeline([("columns", columns), ("model", DecisionTreeClassifier(max_depth=4, random_state=0))]).fit(df, y)
    with pytest.raises(AttributeError):
        columns.get_feature_names_out()
    package = crossform.from_sklearn(est, checks=0)
    assert [f.name for f in package.inputs] == ["weight", "age"]
    assert_identical(compare(package, est, df, {"bird": {"crow", "owl", "kiwi"}}))


# ---------------------------------------------------------------- pipeline shapes and input names


def numeric(data):
    df, y = data
    return df[["weight", "age"]], y


def test_one_step_pipeline_is_its_model(data):
    X, y = numeric(data)
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    est = Pipeline([("model", model)])
    assert crossform.from_sklearn(est).id == crossform.from_sklearn(model).id
    assert_checks_pass(crossform.from_sklearn(est))


@pytest.mark.parametrize("skip", ["passthrough", None])
def test_passthrough_and_none_steps_are_skipped(data, skip):
    X, y = numeric(data)
    plain = Pipeline([("impute", SimpleImputer()), ("model", DecisionTreeClassifier(max_depth=4, random_state=0))])
    skipping = Pipeline(
        [
            ("first", skip),
            ("impute", SimpleImputer()),
            ("middle", skip),
            ("model", DecisionTreeClassifier(max_depth=4, random_state=0)),
        ]
    )
    package = crossform.from_sklearn(skipping.fit(X, y))
    assert package.id == crossform.from_sklearn(plain.fit(X, y)).id
    assert [f.name for f in package.inputs] == ["weight", "age"]
    assert_checks_pass(package)


def test_nested_pipelines_are_flattened(data):
    X, y = numeric(data)
    flat = Pipeline(
        [
            ("impute", SimpleImputer()),
            ("scale", StandardScaler()),
            ("model", DecisionTreeClassifier(max_depth=4, random_state=0)),
        ]
    )
    nested = Pipeline(
        [
            ("prep", Pipeline([("impute", SimpleImputer()), ("inner", Pipeline([("scale", StandardScaler())]))])),
            (
                "model",
                Pipeline([("skip", "passthrough"), ("tree", DecisionTreeClassifier(max_depth=4, random_state=0))]),
            ),
        ]
    )
    package = crossform.from_sklearn(nested.fit(X, y))
    assert package.id == crossform.from_sklearn(flat.fit(X, y)).id
    assert_checks_pass(package)  # with the leaf of every row: the model inside the nested pipeline is found


def test_a_pipeline_of_nothing_but_passthrough_is_refused(data):
    X, y = numeric(data)
    est = Pipeline([("a", "passthrough"), ("b", None)]).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match="no step"):
        crossform.from_sklearn(est)


def test_input_names_for_a_model_fitted_on_an_array(data):
    X, y = numeric(data)
    est = Pipeline([("impute", SimpleImputer()), ("model", DecisionTreeClassifier(max_depth=4, random_state=0))])
    est.fit(X.to_numpy(), y)
    assert [f.name for f in crossform.from_sklearn(est, checks=0).inputs] == ["x0", "x1"]
    package = crossform.from_sklearn(est, input_names=["weight", "age"])
    assert [f.name for f in package.inputs] == ["weight", "age"]
    assert_checks_pass(package)
    scores = crossform.score(package, X)
    np.testing.assert_array_equal(scores.values, est.predict_proba(X.to_numpy()))


def test_input_names_rename_a_model_fitted_on_a_dataframe(data):
    X, y = numeric(data)
    est = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    package = crossform.from_sklearn(est, input_names=("w", "a"))
    assert [f.name for f in package.inputs] == ["w", "a"]
    assert_checks_pass(package)
    scores = crossform.score(package, X.set_axis(["w", "a"], axis=1))
    np.testing.assert_array_equal(scores.values, est.predict_proba(X))


@pytest.mark.parametrize(
    "names,message",
    [
        (["weight"], r"must give 2 names, one per column the estimator was fitted on\. Got 1 instead"),
        (["weight", "age", "extra"], r"must give 2 names, one per column the estimator was fitted on\. Got 3 instead"),
        (["weight", "weight"], r"unique names\. Got 'weight' twice"),
        (["weight", 3], r"strings\. Got 3 \(int\) at position 1"),
        (["weight", ""], r"non-empty strings\. Got '' at position 1"),
        ("wa", r"a sequence of strings, not one string\. Got the string 'wa' instead"),
        (7, r"a sequence of strings\. Got int instead"),
    ],
)
def test_bad_input_names_are_refused(data, names, message):
    X, y = numeric(data)
    est = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X.to_numpy(), y)
    with pytest.raises(InputNamesError, match=message):
        crossform.from_sklearn(est, input_names=names)


@pytest.mark.parametrize(
    "select",
    [["weight", "age"], [1, 2], slice(1, 3), [False, True, True], make_column_selector(dtype_include=np.number)],
    ids=["names", "positions", "slice", "mask", "selector"],
)
def test_column_transformer_columns_chosen_every_way(data, select):
    df, y = data
    columns = ColumnTransformer([("cat", OrdinalEncoder(), ["bird"]), ("num", SimpleImputer(), select)])
    est = Pipeline([("columns", columns), ("model", DecisionTreeClassifier(max_depth=4, random_state=0))]).fit(df, y)
    package = crossform.from_sklearn(est)
    assert [f.name for f in package.inputs] == ["bird", "weight", "age"]
    assert_identical(compare(package, est, df, {"bird": {"crow", "owl", "kiwi"}}))
    assert_checks_pass(package)
