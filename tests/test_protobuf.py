"""The protobuf format: lossless round trips, deterministic bytes, and one named error per bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from conftest import small_package, small_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crossform
from crossform import checks as checks_module
from crossform import ir
from crossform.errors import (
    CrossformError,
    FormatVersionError,
    IdMismatchError,
    LimitExceededError,
    MalformedPackageError,
)
from crossform.exporters import protobuf as P
from crossform.v1 import package_pb2 as pb

# ---------------------------------------------------------------- packages


def leaf_only_tree(values=(3.5,)) -> ir.Tree:
    return ir.Tree([-1], [0.0], [-1], [-1], [False], [list(values)])


def regression_tree() -> ir.Tree:
    return changed_value(small_tree(), width=1)


def changed_value(tree: ir.Tree, width: int) -> ir.Tree:
    value = np.zeros((tree.n_nodes, width))
    value[tree.is_leaf] = np.arange(1, tree.n_leaves * width + 1).reshape(-1, width) / 8
    return ir.Tree(tree.feature, tree.threshold, tree.left, tree.right, tree.missing_left, value)


def with_model(model: ir.TreeEnsemble, **changes) -> ir.Package:
    return small_package(model=model, **changes)


FEATURES = ("colour", "size_scaled")
PACKAGES = {
    "small": small_package(),
    "nan codes": small_package(encoders=(
        ir.FillMissing(("size",), (1.25,)),
        ir.CategoricalEncoding(("colour",), (("blue", "red"),), ((0.0, 2.0),), (math.nan,), math.nan),
        ir.Scale(("size",), [10.0], [4.0], ("size_scaled",)),
    )),
    "missing code and unknown code": small_package(encoders=(
        ir.CategoricalEncoding(("colour",), (("blue", "red"),), ((0.0, 2.0),), (-1.0,), -2.0),
        ir.Scale(("size",), [10.0], [-4.0], ("size_scaled",)),
    ), owner=None, tags=(), metadata={}),
    "int labels": with_model(ir.TreeEnsemble(FEATURES, (small_tree(),), classes=(0, -(2**63)))),
    "float labels": with_model(ir.TreeEnsemble(FEATURES, (small_tree(),), classes=(0.5, 2.0))),
    "bool labels": with_model(ir.TreeEnsemble(FEATURES, (small_tree(),), classes=(False, True))),
    "sum logistic": with_model(ir.TreeEnsemble(FEATURES, (regression_tree(), regression_tree()), "sum", "logistic",
                                               None, [0.25])),
    "softmax": with_model(ir.TreeEnsemble(FEATURES, (changed_value(small_tree(), 3),), "sum", "softmax",
                                          ("a", "b", "c"), [0.5, -0.5, 0.0])),
    "single leaf": with_model(ir.TreeEnsemble(FEATURES, (leaf_only_tree(), regression_tree()))),
    "producer": small_package(producer={"scikit-learn": "1.9.1", "crossform": "0.2.0"}),
}
ROWS = [{"colour": c, "size": s} for c in ("red", "blue", "green", None) for s in (-30.0, 9.0, 14.0, 30.0, math.nan)]


def assert_same(a: ir.Package, b: ir.Package) -> None:
    assert b.id == a.id
    assert b.producer == a.producer and b.owner == a.owner and b.tags == a.tags
    sa, sb = crossform.score(a, ROWS), crossform.score(b, ROWS)
    np.testing.assert_array_equal(sa.values, sb.values)
    assert sa.errors == sb.errors
    np.testing.assert_array_equal(sa.leaves, sb.leaves)
    assert [type(c) for c in a.model.classes or ()] == [type(c) for c in b.model.classes or ()]


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_hand_built_packages_round_trip(name):
    package = PACKAGES[name]
    data = P.dumps(package)
    assert P.sniff(data) and data.startswith(b"\x0a\x11crossform.package")
    assert_same(package, P.loads(data))
    assert P.dumps(P.loads(data)) == data


def test_the_same_package_always_gives_the_same_bytes():
    package = small_package(metadata={"z": "1", "a": "2", "m": "3"}, producer={"b": "1", "a": "2"})
    again = small_package(metadata={"m": "3", "a": "2", "z": "1"}, producer={"a": "2", "b": "1"})
    assert P.dumps(package) == P.dumps(again) == P.dumps(P.loads(P.dumps(again)))


def fit_pipeline(task: str):
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder, StandardScaler

    rng = np.random.default_rng(0)
    n = 300

    X = pd.DataFrame({"colour": pd.Series(rng.choice(["red", "blue", "green"], n), dtype=object),
                      "size": rng.normal(10, 4, n), "weight": rng.normal(0, 1, n)})
    X.loc[rng.random(n) < 0.1, "size"] = np.nan
    y = X["size"].fillna(10).to_numpy() + (X["colour"] == "red") * 3 + rng.normal(0, 1, n)
    prep = ColumnTransformer([
        ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["colour"]),
        ("num", Pipeline([("fill", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
         ["size", "weight"]),
    ])
    if task == "classifier":
        model = RandomForestClassifier(n_estimators=5, max_depth=5, random_state=0)
        y = np.array(["low", "mid", "high"])[np.digitize(y, np.quantile(y, [0.33, 0.66]))]
    else:
        model = RandomForestRegressor(n_estimators=5, max_depth=5, random_state=0)
    return Pipeline([("prep", prep), ("model", model)]).fit(X, y)


@pytest.mark.parametrize("task", ["classifier", "regressor"])
def test_sklearn_pipelines_round_trip_with_their_checks(task, tmp_path):
    package = crossform.from_sklearn(fit_pipeline(task), checks=200)
    path = crossform.save(package, tmp_path / "model.pb", format="protobuf")
    assert crossform.exporters.sniff(path) == "protobuf"
    back = crossform.load(path)
    assert back.id == package.id and back.producer == package.producer
    assert checks_module.to_document(back.checks) == checks_module.to_document(package.checks)
    comparison = checks_module.compare(back.checks, crossform.score(back, back.checks.data()), back.model)
    assert comparison.ok, comparison.summary()


def test_read_version_reads_the_field_after_the_magic():
    data = P.dumps(small_package())
    assert P.read_version(data) == "1.0"
    # a foreign writer may put format_version elsewhere: the whole message is parsed then
    msg = pb.Package.FromString(data)
    reordered = P.PREFIX + msg.SerializeToString(deterministic=True)[len(P.PREFIX):].replace(b"\x12\x031.0", b"") \
        + b"\x12\x031.0"
    assert P.read_version(reordered) == "1.0"


# ---------------------------------------------------------------- bad input


def edited(edit, package: ir.Package = None) -> bytes:
    msg = pb.Package.FromString(P.dumps(package or small_package()))
    edit(msg)
    return msg.SerializeToString(deterministic=True)


def tree(msg: pb.Package, i: int = 0) -> pb.Tree:
    return msg.model.tree_ensemble.trees[i]


def tag(number: int, wire: int) -> bytes:
    return bytes([(number << 3) | wire]) if number < 16 else bytes([((number << 3) | wire) & 0x7F | 0x80,
                                                                     (number << 3 | wire) >> 7])


UNKNOWN = tag(99, 0) + b"\x01"


def with_unknown_in_tree(msg: pb.Package) -> None:
    t = tree(msg)
    data = t.SerializeToString() + tag(20, 0) + b"\x05"
    t.Clear()
    t.MergeFromString(data)


def set_version(version: str):
    def edit(msg):
        msg.format_version = version
    return edit


def assign(getter, name, value):
    def edit(msg):
        setattr(getter(msg), name, value)
    return edit


def clear(getter):
    def edit(msg):
        getter(msg).Clear()
    return edit


BAD = {
    "not protobuf": (b"PK\x03\x04 a zip file", P.ProtobufMagicError, "starting with"),
    "bad magic": (b"\x0a\x11crossform.packagX" + b"\x12\x031.0", P.ProtobufMagicError, "crossform.package"),
    "magic overridden later": (P.dumps(small_package()) + b"\x0a\x03abc", P.ProtobufMagicError, "found 'abc'"),
    "magic then garbage": (P.PREFIX + b"\x12\xff\xff\xff\xff\x0f", P.ProtobufDecodeError, "protobuf says"),
    "truncated": (P.dumps(small_package())[:-7], P.ProtobufDecodeError, "crossform.v1.Package"),
    "other major": (edited(set_version("2.0")), FormatVersionError, "protobuf 2.0"),
    "no version": (edited(set_version("")), FormatVersionError, "major.minor"),
    "unknown field, same minor": (P.dumps(small_package()) + UNKNOWN, P.ProtobufUnknownFieldError,
                                  "Package: field 99"),
    "unknown field in a tree": (edited(with_unknown_in_tree), P.ProtobufUnknownFieldError,
                                "Package.model.tree_ensemble.trees[0]: field 20"),
    "unspecified aggregation": (edited(assign(lambda m: m.model.tree_ensemble, "aggregation", 0)),
                                P.ProtobufEnumError, "found AGGREGATION_UNSPECIFIED"),
    "unknown post transform": (edited(assign(lambda m: m.model.tree_ensemble, "post_transform", 9)),
                               P.ProtobufEnumError, "found 9"),
    "unspecified kind": (edited(assign(lambda m: m.inputs[0], "kind", 0)), P.ProtobufEnumError, "inputs[0].kind"),
    "encoder not set": (edited(clear(lambda m: m.encoders[1])), P.ProtobufMissingError, "'encoder'"),
    "model not set": (edited(clear(lambda m: m.model)), P.ProtobufMissingError, "'model'"),
    "class label not set": (edited(clear(lambda m: m.model.tree_ensemble.classes[1])), P.ProtobufMissingError,
                            "classes[1]"),
    "fill value not set": (edited(clear(lambda m: m.encoders[0].fill_missing.values[0])), P.ProtobufMissingError,
                           "values[0]"),
    "threshold missing": (edited(lambda m: tree(m).threshold.pop()), P.ProtobufCountError, "threshold"),
    "missing_left extra": (edited(lambda m: tree(m).missing_left.append(True)), P.ProtobufCountError,
                           "missing_left"),
    "leaf value missing": (edited(lambda m: tree(m).leaf_value.pop()), P.ProtobufCountError, "leaf_value"),
    "right shorter": (edited(lambda m: tree(m).right.pop()), P.ProtobufCountError, "one length"),
    "no nodes": (edited(clear(lambda m: tree(m, 1))), P.ProtobufCountError, "at least one node"),
    "codes per category": (edited(lambda m: m.encoders[1].categorical_encoding.encodings[0].codes.pop()),
                           P.ProtobufCountError, "codes"),
    "encodings per feature": (edited(lambda m: m.encoders[1].categorical_encoding.encodings.add()),
                              P.ProtobufCountError, "encodings"),
    "child out of range": (edited(lambda m: tree(m).left.__setitem__(0, 5)), P.ProtobufIndexError,
                           "left in [1, 5) at split node 0, found 5"),
    "child negative": (edited(lambda m: tree(m).right.__setitem__(2, -7)), P.ProtobufIndexError, "found -7"),
    "root as a child": (edited(lambda m: tree(m).left.__setitem__(2, 0)), P.ProtobufIndexError, "found 0"),
    "leaf with a feature": (edited(lambda m: tree(m).feature.__setitem__(1, 0)), P.ProtobufIndexError,
                            "feature -1 at leaf 1"),
    "feature out of range": (edited(lambda m: tree(m).feature.__setitem__(0, 2)), P.ProtobufIndexError,
                             "feature in [0, 2)"),
    "two parents": (edited(lambda m: tree(m).left.__setitem__(2, 1)), MalformedPackageError, "one parent"),
    "infinite threshold": (edited(lambda m: tree(m).threshold.__setitem__(0, math.inf)), MalformedPackageError,
                           "finite"),
    "duplicate inputs": (edited(lambda m: m.inputs.add(name="size", kind=1)), MalformedPackageError, "distinct"),
    "bad checks": (edited(assign(lambda m: m, "checks_json", b'{"not": "checks"')), MalformedPackageError,
                   "checks_json"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_refused_with_its_named_error(name):
    data, error, text = BAD[name]
    with pytest.raises(error) as info:
        P.loads(data, where="pkg.pb")
    assert text in str(info.value), str(info.value)
    assert info.value.path.startswith("pkg.pb"), info.value.path


def test_errors_name_the_file_loaded(tmp_path):
    path = tmp_path / "edited.pb"
    path.write_bytes(edited(lambda m: tree(m).left.__setitem__(0, 5)))
    with pytest.raises(P.ProtobufIndexError) as info:
        crossform.load(path)
    assert info.value.path == f"{path}#Package.model.tree_ensemble.trees[0]"


def test_newer_minor_warns_drops_unknown_fields_and_reads():
    package = small_package()
    data = edited(lambda m: (set_version("1.7")(m), with_unknown_in_tree(m)), package) + UNKNOWN
    with pytest.warns(P.FormatVersionWarning, match=r"protobuf 1\.7, newer than the 1\.0.*field 20.*field 99"):
        back = P.loads(data)
    assert back.id == package.id


def test_an_edited_threshold_is_an_id_mismatch_with_the_package_attached():
    data = edited(lambda m: tree(m).threshold.__setitem__(0, 0.75))
    with pytest.raises(IdMismatchError) as info:
        P.loads(data, where="pkg.pb")
    package = info.value.package
    assert package is not None and package.id != small_package().id
    assert package.model.trees[0].threshold[0] == 0.75
    assert small_package().id in str(info.value)


@pytest.mark.parametrize("limit, value", [("MAX_TREES", 1), ("MAX_OUTPUTS", 1), ("MAX_NODES", 9),
                                          ("MAX_FILE_BYTES", 100)])
def test_counts_over_the_limits_are_refused(monkeypatch, limit, value):
    monkeypatch.setattr(P, limit, value)
    with pytest.raises(LimitExceededError, match="expected at most"):
        P.loads(P.dumps(small_package()))


def test_loads_warns_nothing_on_its_own_version():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        P.loads(P.dumps(small_package()))


GOOD = P.dumps(PACKAGES["nan codes"].replace(checks=None))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_flipped_or_truncated_bytes_raise_only_crossform_errors(data):
    raw = bytearray(GOOD)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    candidate = bytes(raw[:cut])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", P.FormatVersionWarning)
            P.loads(candidate)
    except CrossformError:
        pass
