"""Refuse-missing encoders in protobuf: every category and none, with ordinary numbers, NaN and +-inf."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import crossform
from crossform import checks as checks_module
from crossform import evaluator, ir
from crossform.errors import (
    IdMismatchError,
    MalformedPackageError,
)
from crossform.exporters import protobuf as P
from crossform.runtime import reference as reference_runtime
from crossform.v1 import package_pb2 as pb
from helpers.protobuf import (
    ENCODERS_1_1,
    REFUSE,
    assert_scores_like_the_reference,
    edited,
    reader_1_0,
    refused,
    refused_in_java,
    set_version,
    with_unknown,
)

# every category and none, crossed with ordinary numbers, NaN and +-inf
REFUSE_ROWS = [
    {"colour": c, "size": s}
    for c in ("red", "blue", "green", None)
    for s in (-30.0, 9.0, 14.0, -0.0, 1e30, math.nan, math.inf, -math.inf)
]


@pytest.mark.parametrize("name", sorted(REFUSE))
def test_refuse_missing_packages_round_trip_record_1_1_and_score_like_the_reference(name):
    package = REFUSE[name]
    data = P.dumps(package)
    assert P.read_version(data) == "1.1"
    members = [e.WhichOneof("encoder") for e in pb.Package.FromString(data).encoders]
    assert members.count("refuse_missing") == sum(isinstance(e, ir.RefuseMissing) for e in package.encoders) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 1.1 is this reader's own version
        back = P.loads(data)
    assert back.id == package.id and P.dumps(back) == data
    refused = [e for e in back.encoders if isinstance(e, ir.RefuseMissing)]
    assert refused == [e for e in package.encoders if isinstance(e, ir.RefuseMissing)]
    assert_scores_like_the_reference(package, data, REFUSE_ROWS)


def test_the_refuse_missing_rows_reach_every_row_error_and_rows_that_score():
    want = evaluator.score(REFUSE["refuse-in-place"], REFUSE_ROWS).errors
    for row, error in zip(REFUSE_ROWS, want):
        size, colour = row["size"], row["colour"]
        if colour is None or math.isnan(size):
            assert "missing value" in error, (row, error)
        elif math.isinf(size):
            assert "not finite" in error, (row, error)
        else:
            assert error is None, (row, error)
    # renamed, the inputs stay as they were: a missing colour is refused, however filled after, and
    # a missing size (an indicator's, then filled) scores
    errors = evaluator.score(REFUSE["refuse-beside-indicator"], REFUSE_ROWS).errors
    assert [e is not None for e in errors] == [r["colour"] is None or math.isinf(r["size"]) for r in REFUSE_ROWS]


def test_refuse_missing_stores_its_kinds_and_outputs_as_written():
    msg = pb.Package.FromString(P.dumps(REFUSE["refuse-renamed"])).encoders[0].refuse_missing
    assert list(msg.features) == ["size", "colour"] and list(msg.outputs) == ["size_ok", "colour_ok"]
    assert list(msg.kinds) == [pb.Field.KIND_NUMERIC, pb.Field.KIND_CATEGORICAL]


def test_a_1_0_reader_finds_the_encoder_unset_where_1_1_put_refuse_missing():
    for name, package in REFUSE.items():
        msg = reader_1_0().FromString(P.dumps(package))
        msg.DiscardUnknownFields()
        unset = [i for i, e in enumerate(msg.encoders) if e.WhichOneof("encoder") is None]
        assert unset == [i for i, e in enumerate(package.encoders) if isinstance(e, ENCODERS_1_1)], name


def refuse(m: pb.Package) -> pb.RefuseMissing:
    return m.encoders[0].refuse_missing


BAD_REFUSE = {
    "refuse kinds per feature": (
        "refuse-in-place",
        lambda m: refuse(m).kinds.pop(),
        P.ProtobufCountError,
        "expected 2 kinds entries, one per feature, found 1",
    ),
    "refuse kinds extra": ("refuse-renamed", lambda m: refuse(m).kinds.append(1), P.ProtobufCountError, "found 3"),
    "refuse kind unspecified": (
        "refuse-in-place",
        lambda m: refuse(m).kinds.__setitem__(1, 0),
        P.ProtobufEnumError,
        "found KIND_UNSPECIFIED",
    ),
    "refuse kind unknown": (
        "refuse-in-place",
        lambda m: refuse(m).kinds.__setitem__(0, 7),
        P.ProtobufEnumError,
        "kinds[0]",
    ),
    "refuse kind against its input": (
        "refuse-in-place",
        lambda m: refuse(m).kinds.reverse(),
        MalformedPackageError,
        "must be a numeric column for 'colour'",
    ),
    "refuse outputs per feature": (
        "refuse-renamed",
        lambda m: refuse(m).outputs.pop(),
        MalformedPackageError,
        "2 names, one per feature",
    ),
    "refuse repeated feature": (
        "refuse-in-place",
        lambda m: refuse(m).features.__setitem__(1, "colour"),
        MalformedPackageError,
        "distinct",
    ),
    "refuse output over another input": (
        "refuse-renamed",
        lambda m: refuse(m).outputs.__setitem__(0, "colour"),
        MalformedPackageError,
        "overwrite no other input",
    ),
    "refuse unknown field": (
        "refuse-in-place",
        with_unknown(refuse),
        P.ProtobufUnknownFieldError,
        "Package.encoders[0].refuse_missing: field 9",
    ),
    "refuse in a 1.0 file": (
        "refuse-in-place",
        set_version("1.0"),
        P.ProtobufUnknownFieldError,
        "Package.encoders[0]: field 7 (refuse_missing, added in protobuf 1.1)",
    ),
    # what dropping it would score: rows refused before now score, so another package
    "refuse dropped": ("refuse-in-place", lambda m: m.encoders.__delitem__(0), IdMismatchError, "the content changed"),
    "refuse feature dropped": (
        "refuse-in-place",
        lambda m: (refuse(m).features.pop(), refuse(m).kinds.pop(), refuse(m).outputs.pop()),
        IdMismatchError,
        "the content changed",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_REFUSE))
def test_bad_refuse_missing_input_is_refused_with_its_named_error(name):
    package, edit, error, text = BAD_REFUSE[name]
    refused(edited(edit, REFUSE[package]), error, text)


@pytest.mark.parametrize("name", sorted(BAD_REFUSE))
def test_bad_refuse_missing_input_is_refused_by_the_java_reader_with_its_named_error(name):
    package, edit, error, _ = BAD_REFUSE[name]
    refused_in_java(edited(edit, REFUSE[package]), error)


def test_bad_refuse_missing_input_names_the_message_path():
    data = edited(lambda m: refuse(m).kinds.__setitem__(1, 0), REFUSE["refuse-in-place"])
    assert refused(data, P.ProtobufEnumError, "").path == "pkg.pb#Package.encoders[0].refuse_missing.kinds[1]"


def fit_error_on_new():
    """The brief's example: MissingIndicator (error_on_new=True) over three columns, only x1 missing at fit."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.tree import DecisionTreeClassifier

    X = np.random.default_rng(0).normal(size=(300, 3))
    X[::7, 1] = np.nan
    est = Pipeline(
        [
            ("u", ColumnTransformer([("i", MissingIndicator(), [0, 1, 2]), ("f", SimpleImputer(), [0, 1, 2])])),
            ("m", DecisionTreeClassifier(max_depth=4, random_state=0)),
        ]
    ).fit(X, X[:, 0] > 0)
    return est, X


def test_missing_indicator_error_on_new_exports_and_scores_as_sklearn(tmp_path):
    est, X = fit_error_on_new()
    package = crossform.from_sklearn(est)
    assert [type(e) for e in package.encoders] == [ir.RefuseMissing, ir.MissingIndicator, ir.FillMissing]
    assert package.encoders[0].features == ("x0", "x2")
    path = crossform.save(package, tmp_path / "model.pb", format="protobuf")
    data = path.read_bytes()
    assert P.read_version(data) == "1.1"
    back = crossform.load(path)
    assert back.id == package.id
    comparison = checks_module.compare(back.checks, reference_runtime.prepare(data, P)(back.checks.data()), back.model)
    assert comparison.ok, comparison.summary()
    # row by row: scikit-learn refuses a row missing x0 or x2 (none missing at fit), and +-inf anywhere
    rows = [X[0], X[7]]
    for column in range(3):
        for value in (math.nan, math.inf, -math.inf):
            row = X[1].copy()
            row[column] = value
            rows.append(row)
    got = reference_runtime.prepare(data, P)([dict(zip(("x0", "x1", "x2"), map(float, r))) for r in rows])
    for i, row in enumerate(rows):
        try:
            want = est.predict_proba(row[None, :])[0]
        except ValueError:
            assert got.errors[i] is not None, (row, got.values[i])
        else:
            assert got.errors[i] is None, (row, got.errors[i])
            np.testing.assert_array_equal(got.values[i], want)
    assert [e is None for e in got.errors] == [True, True, False, False, False, True, False, False, False, False, False]
