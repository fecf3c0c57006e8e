"""Every kind a 1.2 file holds (encoders, linear models, boosting, rules), hand-built and fitted by
scikit-learn, round trips and scores in JPMML as in the reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import crossform
from crossform import checks as checks_module
from crossform import ir
from crossform.exporters import pmml as P
from crossform.exporters.pmml import accepts, writer
from helpers.pmml import (
    KIND_ROWS,
    KINDS,
    assert_jpmml_scores_like_the_reference,
    assert_same,
    has_trees,
    jpmml_or_skip,
    kind_text,
)


@pytest.mark.parametrize("leaves", [P.ON, P.OFF])
@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_round_trips_and_records_1_2(name, leaves):
    package = KINDS[name]
    assert P.needs(package) is not None and P.unsupported(package) is None
    data = P.dumps(package, leaves=leaves)
    assert P.read_version(data) == "1.2" == P.written_version(package, leaves)
    assert P.properties(data) == {"leaves": leaves if has_trees(package) else P.OFF}
    back = P.loads(data)
    assert_same(package, back, KIND_ROWS)
    assert P.dumps(back, leaves=leaves) == data


@pytest.mark.parametrize("leaves", [P.ON, P.OFF])
@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_scores_in_jpmml_as_in_the_reference(name, leaves):
    package = KINDS[name]
    assert_jpmml_scores_like_the_reference(package, P.dumps(package, leaves=leaves), KIND_ROWS)


def test_the_rows_jpmml_must_refuse_or_score_are_the_reference_s():
    """Infinities compared (histogram boosting) or refused, NaN refused by gradient boosting and linear models,
    1e300 scored by a linear model and refused by a float32 tree (even scaled by 0.125): the reference's rows."""
    refused = {
        name: [e is not None for e in crossform.score(KINDS[name], KIND_ROWS).errors]
        for name in ("boost-regression-compare", "boost-binary-one-hot", "linear-multinomial")
    }
    size = KIND_ROWS["size"].tolist()
    at = {repr(v): i for i, v in enumerate(size)}
    assert not refused["boost-regression-compare"][at["inf"]] and not refused["boost-regression-compare"][at["-inf"]]
    assert refused["boost-binary-one-hot"][at["nan"]] and refused["boost-binary-one-hot"][at["1e+300"]]
    assert not refused["boost-binary-one-hot"][at["1e+39"]]  # 1.25e38 after the affine: a float32
    assert refused["linear-multinomial"][at["nan"]] and not refused["linear-multinomial"][at["1e+300"]]
    for name in refused:
        assert_jpmml_scores_like_the_reference(KINDS[name], P.dumps(KINDS[name]), KIND_ROWS)


def test_a_binary_logit_gives_class_0_one_minus_class_1_in_jpmml():
    """JPMML's logit of a table pair: the first table's class gets p = 1 / (1 + exp(-y)), the other 1 - p,
    computed from p, as docs/SEMANTICS.md asks."""
    jpmml = jpmml_or_skip()
    for name in ("linear-binary-logistic", "boost-binary-one-hot", "average-logistic-binary"):
        package = KINDS[name]
        text = P.dumps(package).decode()
        assert 'normalizationMethod="logit"' in text
        got = jpmml.prepare(text.encode(), P)(KIND_ROWS)
        ok = np.equal(got.errors, None)
        assert ok.sum() >= 3
        np.testing.assert_array_equal(got.values[ok, 0], 1.0 - got.values[ok, 1])


def test_how_each_layout_is_written():
    text = {name: P.dumps(package).decode() for name, package in KINDS.items()}
    # one-hot: the column a category sets as an integer field, then a NormDiscrete per column
    assert (
        '<MapValues outputColumn="out" dataType="integer" mapMissingTo="1" defaultValue="-1">'
        in text["boost-multiclass-ignore"]
    )
    assert '<NormDiscrete field="crossform:e0.0" value="2"/>' in text["boost-multiclass-ignore"]
    assert '<Apply function="+"><Apply function="*"><FieldRef field="size"/>' in text["boost-binary-one-hot"]
    assert '<Apply function="if"><Apply function="isMissing"><FieldRef field="colour"/>' in text["linear-regression"]
    # a chain: a score's trees, then the link; a sum skips a tree's all-+0.0 scores but keeps every tree somewhere
    multi = text["sum-softmax-zeros"]
    assert multi.count('<Segment id="0">') == 1 and multi.count('<Segment id="1">') == 1
    assert multi.count('<Segment id="2">') == 2
    assert (
        '<Segment id="link"><True/>\n<RegressionModel functionName="classification" normalizationMethod="softmax">'
        in multi
    )
    assert text["sum-none-classifier"].count('feature="transformedValue"><FieldRef field="crossform:raw(') == 3
    assert '<MiningModel functionName="regression">' in text["sum-none-classifier"]
    # an average keeps every tree in every score's MiningModel
    assert text["average-softmax"].count('<Segment id="1">') == 3
    # linear: the products in feature order, then the intercept (JPMML's order and the reference's)
    assert (
        '<RegressionTable intercept="0.25"><NumericPredictor name="size" coefficient="1.5"/><NumericPredictor '
        'name="weight" coefficient="-2.0"/></RegressionTable>'
    ) in text["linear-decision-binary"]
    assert (
        '<SimpleSetPredicate field="size" booleanOperator="isNotIn"><Array type="real" n="3">0.0 3.0 8.0</Array>'
        in text["sets-and-inf"]
    )
    assert 'operator="lessOrEqual" value="INF"/>' in text["sets-and-inf"]


def test_intervals_follow_constant_and_overflowing_steps():
    package = KINDS["constant-steps"]
    plan = writer._Plan(package)
    # size: any finite number gives 5.0 (refused only as +-inf); weight: finite, but missing overflows to inf
    assert plan.validity["size"].interval == (-accepts.DOUBLE_MAX, accepts.DOUBLE_MAX)
    assert not plan.validity["size"].missing_invalid and plan.validity["weight"].missing_invalid
    assert [
        e is None
        for e in crossform.score(package, [{"size": math.nan, "weight": 1.0}, {"size": 1.0, "weight": math.nan}]).errors
    ] == [True, False]


def test_refuse_missing_is_a_bare_field_ref_and_its_fields_declare_what_it_refuses():
    text = kind_text("refuse-missing")
    assert (
        '<DerivedField name="crossform:e0.0" displayName="size" optype="continuous" dataType="double">'
        '<FieldRef field="size"/></DerivedField>'
    ) in text
    assert (
        '<DerivedField name="crossform:e0.1" displayName="colour_checked" optype="categorical" dataType="string">'
        '<FieldRef field="colour"/></DerivedField>'
    ) in text
    assert (
        '<MiningField name="colour" invalidValueTreatment="returnInvalid" missingValueTreatment="returnInvalid"/>'
        in text
    )
    plan = writer._Plan(KINDS["refuse-missing"])
    colour, size, weight = (plan.validity[name] for name in ("colour", "size", "weight"))
    assert colour.missing_invalid and colour.valid is None and colour.invalid == ()  # any category but None
    assert size.missing_invalid and size.interval is not None  # NaN and +-inf refused (and past float32 x 2)
    assert not weight.missing_invalid  # the trees route a missing weight
    derived = writer._Plan(KINDS["refuse-missing-derived"]).validity
    # a missing colour's NaN code and +-inf weights are refused; a missing weight is filled, a NaN size routed
    assert derived["colour"].missing_invalid and not derived["weight"].missing_invalid
    assert derived["weight"].interval == (-accepts.BELOW_OVERFLOW, accepts.BELOW_OVERFLOW)  # a tree's
    assert not derived["size"].missing_invalid
    rows = [
        {"colour": None, "size": 1.0, "weight": 1.0},
        {"colour": "teal", "size": 1.0, "weight": math.nan},
        {"colour": "red", "size": math.nan, "weight": math.inf},
        {"colour": "red", "size": math.nan, "weight": 2.0},
    ]
    assert [e is None for e in crossform.score(KINDS["refuse-missing-derived"], rows).errors] == [
        False,
        True,
        False,
        True,
    ]
    assert_jpmml_scores_like_the_reference(
        KINDS["refuse-missing-derived"], P.dumps(KINDS["refuse-missing-derived"]), rows
    )


def test_without_refuse_missing_the_file_is_1_1_s():
    package = KINDS["refuse-missing-derived"]
    assert P.needs(package) == "a refuse-missing encoder"
    old = ir.Package(package.inputs, package.encoders[:2], package.model)
    assert P.needs(old) is None
    for leaves, version in ((P.ON, "1.0"), (P.OFF, "1.1")):
        assert P.read_version(P.dumps(package, leaves=leaves)) == "1.2"
        assert P.read_version(P.dumps(old, leaves=leaves)) == version


# the scikit-learn estimators whose conversion needs 1.2, fitted small; their checks are scikit-learn's outputs


def _numbers(n=400, features=4, seed=0, classes=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    signal = X[:, 0] + X[:, 1] / 2 + rng.normal(0, 0.3, n)
    return X, np.digitize(signal, np.quantile(signal, np.linspace(0, 1, classes + 1)[1:-1]))


def _fit(name: str):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        IsolationForest,
    )
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    X, y = _numbers(classes=3 if "multi" in name else 2)
    if name == "gb-binary":
        return GradientBoostingClassifier(n_estimators=5, max_depth=2, random_state=0).fit(X, y)
    if name == "gb-multiclass":
        return GradientBoostingClassifier(n_estimators=4, max_depth=2, random_state=0).fit(X, y)
    if name == "gb-regressor":
        return GradientBoostingRegressor(n_estimators=5, max_depth=2, random_state=0).fit(X, X[:, 0] * 2)
    if name == "hgb-categorical-multiclass":
        X[:, 3] = np.round(np.abs(X[:, 3]) * 3)
        X[::7, 2] = np.nan
        return HistGradientBoostingClassifier(
            max_iter=4, max_leaf_nodes=6, categorical_features=[3], random_state=0
        ).fit(X, y)
    if name == "isolation-forest":
        return IsolationForest(n_estimators=4, max_samples=64, random_state=0).fit(X)
    if name == "sgd-hinge-multiclass":
        return SGDClassifier(random_state=0).fit(X, y)
    if name == "scaled-linear-regression":
        X[::5, 1] = np.nan
        features = ColumnTransformer(
            [
                ("scaled", Pipeline([("fill", SimpleImputer()), ("scale", MinMaxScaler())]), [0, 1]),
                ("missing", MissingIndicator(), [1]),
                ("rest", "passthrough", [2, 3]),
            ]
        )
        return Pipeline([("features", features), ("model", LinearRegression())]).fit(X, X[:, 0])
    if name == "refuse-missing-tree":  # MissingIndicator(error_on_new=True) refuses NaN in x0 and x2: none at fit
        X = np.random.default_rng(0).normal(size=(300, 3))
        X[::7, 1] = np.nan
        features = ColumnTransformer([("i", MissingIndicator(), [0, 1, 2]), ("f", SimpleImputer(), [0, 1, 2])])
        model = DecisionTreeClassifier(max_depth=4, random_state=0)
        return Pipeline([("u", features), ("m", model)]).fit(X, X[:, 0] > 0)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "colour": pd.Series(rng.choice(["red", "blue", "green", "teal"], len(X)), dtype=object),
            "size": X[:, 0],
            "weight": X[:, 1],
        }
    )
    columns = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore", drop="first"), ["colour"]),
            ("num", "passthrough", ["size", "weight"]),
        ]
    )
    return Pipeline([("columns", columns), ("model", LogisticRegression())]).fit(frame, y)  # "logistic-one-hot"


FITS = [
    "gb-binary",
    "gb-multiclass",
    "gb-regressor",
    "hgb-categorical-multiclass",
    "isolation-forest",
    "sgd-hinge-multiclass",
    "scaled-linear-regression",
    "logistic-one-hot",
    "refuse-missing-tree",
]


@pytest.mark.parametrize("name", FITS)
def test_scikit_learn_fits_of_every_kind_score_in_jpmml_as_scikit_learn_did(name):
    package = crossform.from_sklearn(_fit(name), checks=200)
    assert P.needs(package) is not None
    jpmml = jpmml_or_skip()
    for leaves in (P.ON, P.OFF):
        data = P.dumps(package, leaves=leaves)
        back = P.loads(data)
        assert back.id == package.id and P.read_version(data) == "1.2"
        comparison = checks_module.compare(back.checks, jpmml.prepare(data, P)(back.checks.data()), back.model)
        assert comparison.ok, comparison.summary()
        assert comparison.leaves_compared == (leaves == P.ON and has_trees(package))
