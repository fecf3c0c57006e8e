"""The protobuf format: lossless round trips, deterministic bytes, and one named error per bad input."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import subprocess
import sys
import tarfile
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crossform
from crossform import checks as checks_module
from crossform import evaluator, ir
from crossform.checks import leaf_positions
from crossform.errors import (
    FormatVersionError,
    IdMismatchError,
    LimitExceededError,
    MalformedPackageError,
)
from crossform.exporters import _limits, get_format
from crossform.exporters import protobuf as P
from crossform.runtime import reference as reference_runtime
from crossform.v1 import package_pb2 as pb
from helpers import every_kind
from helpers.fits import fit_pipeline
from helpers.fuzz import damaged, read_or_refuse
from helpers.packages import TREE_VARIANTS, small_package
from helpers.paths import REPO

ROOT = REPO

# ---------------------------------------------------------------- packages


ROWS = [{"colour": c, "size": s} for c in ("red", "blue", "green", None) for s in (-30.0, 9.0, 14.0, 30.0, math.nan)]


def assert_same(a: ir.Package, b: ir.Package) -> None:
    assert b.id == a.id
    assert b.producer == a.producer and b.owner == a.owner and b.tags == a.tags
    sa, sb = crossform.score(a, ROWS), crossform.score(b, ROWS)
    np.testing.assert_array_equal(sa.values, sb.values)
    assert sa.errors == sb.errors
    np.testing.assert_array_equal(sa.leaves, sb.leaves)
    assert [type(c) for c in a.model.classes or ()] == [type(c) for c in b.model.classes or ()]


@pytest.mark.parametrize("name", sorted(TREE_VARIANTS))
def test_hand_built_packages_round_trip(name):
    package = TREE_VARIANTS[name]
    data = P.dumps(package)
    assert P.sniff(data) and data.startswith(b"\x0a\x11crossform.package")
    assert_same(package, P.loads(data))
    assert P.dumps(P.loads(data)) == data


def test_the_same_package_always_gives_the_same_bytes():
    package = small_package(metadata={"z": "1", "a": "2", "m": "3"}, producer={"b": "1", "a": "2"})
    again = small_package(metadata={"m": "3", "a": "2", "z": "1"}, producer={"a": "2", "b": "1"})
    assert P.dumps(package) == P.dumps(again) == P.dumps(P.loads(P.dumps(again)))


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
    reordered = (
        P.PREFIX
        + msg.SerializeToString(deterministic=True)[len(P.PREFIX) :].replace(b"\x12\x031.0", b"")
        + b"\x12\x031.0"
    )
    assert P.read_version(reordered) == "1.0"


# ---------------------------------------------------------------- bad input


def edited(edit, package: ir.Package = None) -> bytes:
    msg = pb.Package.FromString(P.dumps(package or small_package()))
    edit(msg)
    return msg.SerializeToString(deterministic=True)


def tree(msg: pb.Package, i: int = 0) -> pb.Tree:
    return msg.model.tree_ensemble.trees[i]


def tag(number: int, wire: int) -> bytes:
    return (
        bytes([(number << 3) | wire])
        if number < 16
        else bytes([((number << 3) | wire) & 0x7F | 0x80, (number << 3 | wire) >> 7])
    )


UNKNOWN = tag(99, 0) + b"\x01"


def with_unknown(getter, number: int = 9):
    """An edit that appends field ``number`` (unknown to the schema) to the message ``getter`` finds."""

    def edit(msg):
        target = getter(msg)
        data = target.SerializeToString() + tag(number, 0) + b"\x05"
        target.Clear()
        target.MergeFromString(data)

    return edit


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


def refused(data: bytes, error: type, text: str) -> Exception:
    """What loading ``data`` as pkg.pb raises: ``error``, saying ``text`` and naming the file."""
    with pytest.raises(error) as info:
        P.loads(data, where="pkg.pb")
    assert text in str(info.value), str(info.value)
    assert info.value.path.startswith("pkg.pb"), info.value.path
    return info.value


BAD = {
    "not protobuf": (b"PK\x03\x04 a zip file", P.ProtobufMagicError, "starting with"),
    "bad magic": (b"\x0a\x11crossform.packagX" + b"\x12\x031.0", P.ProtobufMagicError, "crossform.package"),
    "magic overridden later": (P.dumps(small_package()) + b"\x0a\x03abc", P.ProtobufMagicError, "found 'abc'"),
    "magic then garbage": (P.PREFIX + b"\x12\xff\xff\xff\xff\x0f", P.ProtobufDecodeError, "protobuf says"),
    "truncated": (P.dumps(small_package())[:-7], P.ProtobufDecodeError, "crossform.v1.Package"),
    "other major": (edited(set_version("2.0")), FormatVersionError, "protobuf 2.0"),
    "no version": (edited(set_version("")), FormatVersionError, "major.minor"),
    "unknown field, same minor": (P.dumps(small_package()) + UNKNOWN, P.ProtobufUnknownFieldError, "Package: field 99"),
    "unknown field in a tree": (
        edited(with_unknown(tree, 20)),
        P.ProtobufUnknownFieldError,
        "Package.model.tree_ensemble.trees[0]: field 20",
    ),
    "unspecified aggregation": (
        edited(assign(lambda m: m.model.tree_ensemble, "aggregation", 0)),
        P.ProtobufEnumError,
        "found AGGREGATION_UNSPECIFIED",
    ),
    "unknown post transform": (
        edited(assign(lambda m: m.model.tree_ensemble, "post_transform", 9)),
        P.ProtobufEnumError,
        "found 9",
    ),
    "unspecified kind": (edited(assign(lambda m: m.inputs[0], "kind", 0)), P.ProtobufEnumError, "inputs[0].kind"),
    "encoder not set": (edited(clear(lambda m: m.encoders[1])), P.ProtobufMissingError, "'encoder'"),
    "model not set": (edited(clear(lambda m: m.model)), P.ProtobufMissingError, "'model'"),
    "class label not set": (
        edited(clear(lambda m: m.model.tree_ensemble.classes[1])),
        P.ProtobufMissingError,
        "classes[1]",
    ),
    "fill value not set": (
        edited(clear(lambda m: m.encoders[0].fill_missing.values[0])),
        P.ProtobufMissingError,
        "values[0]",
    ),
    "threshold missing": (edited(lambda m: tree(m).threshold.pop()), P.ProtobufCountError, "threshold"),
    "missing_left extra": (edited(lambda m: tree(m).missing_left.append(True)), P.ProtobufCountError, "missing_left"),
    "leaf value missing": (edited(lambda m: tree(m).leaf_value.pop()), P.ProtobufCountError, "leaf_value"),
    "right shorter": (edited(lambda m: tree(m).right.pop()), P.ProtobufCountError, "one length"),
    "no nodes": (edited(clear(lambda m: tree(m, 1))), P.ProtobufCountError, "at least one node"),
    "codes per category": (
        edited(lambda m: m.encoders[1].categorical_encoding.encodings[0].codes.pop()),
        P.ProtobufCountError,
        "codes",
    ),
    "encodings per feature": (
        edited(lambda m: m.encoders[1].categorical_encoding.encodings.add()),
        P.ProtobufCountError,
        "encodings",
    ),
    "child out of range": (
        edited(lambda m: tree(m).left.__setitem__(0, 5)),
        P.ProtobufIndexError,
        "left in [1, 5) at split node 0, found 5",
    ),
    "child negative": (edited(lambda m: tree(m).right.__setitem__(2, -7)), P.ProtobufIndexError, "found -7"),
    "root as a child": (edited(lambda m: tree(m).left.__setitem__(2, 0)), P.ProtobufIndexError, "found 0"),
    "leaf with a feature": (
        edited(lambda m: tree(m).feature.__setitem__(1, 0)),
        P.ProtobufIndexError,
        "feature -1 at leaf 1",
    ),
    "feature out of range": (
        edited(lambda m: tree(m).feature.__setitem__(0, 2)),
        P.ProtobufIndexError,
        "feature in [0, 2)",
    ),
    "two parents": (edited(lambda m: tree(m).left.__setitem__(2, 1)), MalformedPackageError, "one parent"),
    "infinite threshold": (
        edited(lambda m: tree(m).threshold.__setitem__(0, math.inf)),
        MalformedPackageError,
        "finite",
    ),
    "duplicate inputs": (edited(lambda m: m.inputs.add(name="size", kind=1)), MalformedPackageError, "distinct"),
    "bad checks": (
        edited(assign(lambda m: m, "checks_json", b'{"not": "checks"')),
        MalformedPackageError,
        "checks_json",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_refused_with_its_named_error(name):
    refused(*BAD[name])


def test_errors_name_the_file_loaded(tmp_path):
    path = tmp_path / "edited.pb"
    path.write_bytes(edited(lambda m: tree(m).left.__setitem__(0, 5)))
    with pytest.raises(P.ProtobufIndexError) as info:
        crossform.load(path)
    assert info.value.path == f"{path}#Package.model.tree_ensemble.trees[0]"


def test_newer_minor_warns_drops_unknown_fields_and_reads():
    package = small_package()
    data = edited(lambda m: (set_version("1.7")(m), with_unknown(tree, 20)(m)), package) + UNKNOWN
    with pytest.warns(P.FormatVersionWarning, match=r"protobuf 1\.7, newer than the 1\.1.*field 20.*field 99"):
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


@pytest.mark.parametrize(
    "limits, limit, value",
    [
        (_limits, "MAX_TREES", 1),
        (P.reader, "MAX_OUTPUTS", 1),
        (_limits, "MAX_NODES", 9),
        (_limits, "MAX_FILE_BYTES", 100),
    ],
    ids=["MAX_TREES", "MAX_OUTPUTS", "MAX_NODES", "MAX_FILE_BYTES"],
)
def test_counts_over_the_limits_are_refused(monkeypatch, limits, limit, value):
    monkeypatch.setattr(limits, limit, value)
    with pytest.raises(LimitExceededError, match="expected at most"):
        P.loads(P.dumps(small_package()))


def test_loads_warns_nothing_on_its_own_version():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        P.loads(P.dumps(small_package()))


GOOD = P.dumps(TREE_VARIANTS["nan codes"].replace(checks=None))


# ---------------------------------------------------------------- one-hot, linear and boosting kinds

EVERY_KIND = every_kind.packages()
EVERY_KIND_ROWS = every_kind.rows()
ENCODERS_1_1 = (ir.Affine, ir.MissingIndicator, ir.OneHot, ir.RefuseMissing)


def needs_a_1_1_member(model) -> bool:
    """Whether ``model`` needs a 1.1 member (what 1.0's tree_ensemble cannot state)."""
    plain_trees = (
        isinstance(model, ir.TreeEnsemble)
        and not model.is_binary
        and (model.missing, model.infinite) == ("route", "error")
        and not model.has_sets
        and model.isolation is None
        and all(np.isfinite(t.threshold).all() for t in model.trees)
    )
    return not plain_trees


def uses_1_1(package: ir.Package) -> bool:
    return needs_a_1_1_member(package.model) or any(isinstance(e, ENCODERS_1_1) for e in package.encoders)


def members_1_0_lacks(data: bytes) -> list:
    """The oneof members of Encoder and Model that ``data`` sets and 1.0 does not have."""
    msg = pb.Package.FromString(data)
    members = [(e, e.WhichOneof("encoder")) for e in msg.encoders] + [(msg.model, msg.model.WhichOneof("model"))]
    return [
        name
        for holder, member in members
        if (name := holder.DESCRIPTOR.fields_by_name[member].full_name) in P.MEMBER_FEATURES
    ]


def assert_scores_like_the_reference(package: ir.Package, data: bytes, rows) -> None:
    want = evaluator.score(package, rows)
    got = reference_runtime.prepare(data, P)(rows)
    assert got.outputs == want.outputs and got.classes == want.classes
    assert [type(c) for c in got.classes or ()] == [type(c) for c in want.classes or ()]
    assert got.errors == want.errors
    np.testing.assert_array_equal(got.values, want.values)  # exact, NaN in the same rows
    if want.leaves is None:  # a linear model has no leaves
        assert got.leaves is None
    else:
        back = P.loads(data)
        np.testing.assert_array_equal(
            leaf_positions(back.model, got.leaves), leaf_positions(package.model, want.leaves)
        )


@pytest.mark.parametrize("name", sorted(EVERY_KIND))
def test_every_kind_package_round_trips_record_1_1_and_score_like_the_reference(name):
    package = EVERY_KIND[name]
    data = P.dumps(package)
    assert P.sniff(data) and P.read_version(data) == "1.1"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 1.1 is this reader's own version
        back = P.loads(data)
    assert back.id == package.id and P.dumps(back) == data
    assert_scores_like_the_reference(package, data, EVERY_KIND_ROWS)
    errors = evaluator.score(package, EVERY_KIND_ROWS).errors
    assert any(e is None for e in errors), "rows that score"


def test_the_every_kind_rows_reach_row_errors_and_every_new_rule():
    # the rows above prove something only if they hit the new rules' error rows
    errors = {
        name: sum(e is not None for e in evaluator.score(p, EVERY_KIND_ROWS).errors) for name, p in EVERY_KIND.items()
    }
    assert errors["boost-binary-one-hot"] and errors["linear-regression"] and errors["forest-one-hot"]
    compare = evaluator.score(EVERY_KIND["boost-regression-compare"], EVERY_KIND_ROWS)
    assert not any(compare.errors)  # inf and 1e39 compared, not refused


def each_1_1_kind() -> dict:
    """small_package with exactly one of the kinds 1.1 adds."""
    base = small_package()
    model = base.model
    binary = tuple(
        ir.Tree(t.feature, t.threshold, t.left, t.right, t.missing_left, t.value[:, 1:]) for t in model.trees
    )
    one_hot = ir.OneHot(
        ("colour",),
        (("blue", "green", "red"),),
        ((0, 1, 2),),
        (3,),
        (None,),
        ("zeros",),
        ("colour_0", "colour_1", "colour_2"),
    )
    return {
        "affine": base.replace(encoders=base.encoders[:2] + (ir.Affine(("size",), [0.25], [-2.5], ("size_scaled",)),)),
        "missing-indicator": base.replace(
            encoders=(ir.MissingIndicator(("colour",), (ir.CATEGORICAL,), ("gone",)),) + base.encoders
        ),
        "refuse-missing": base.replace(encoders=(ir.RefuseMissing(("size",), (ir.NUMERIC,)),) + base.encoders),
        "one-hot": base.replace(
            encoders=(one_hot,) + base.encoders[2:],
            model=dataclasses.replace(model, features=("colour_2", "size_scaled")),
        ),
        "binary": base.replace(model=ir.TreeEnsemble(model.features, binary, "sum", "logistic", model.classes, [0.0])),
        "missing error": base.replace(model=dataclasses.replace(model, missing="error")),
        "infinite compare": base.replace(model=dataclasses.replace(model, infinite="compare")),
        "linear": base.replace(model=ir.LinearModel(model.features, [[1.0, -2.0]], [0.5], "logistic", model.classes)),
    }


@pytest.mark.parametrize("kind", sorted(each_1_1_kind()))
def test_each_1_1_kind_alone_makes_the_file_1_1(kind):
    package = each_1_1_kind()[kind]
    data = P.dumps(package)
    assert P.read_version(data) == "1.1"
    assert members_1_0_lacks(data), "the version comes from FEATURES_SINCE, the member from the writer: both say 1.1"
    assert P.loads(data).id == package.id
    assert_scores_like_the_reference(package, data, ROWS + [{"colour": "red", "size": math.inf}])


@pytest.mark.parametrize("kind", sorted(each_1_1_kind()))
def test_the_format_says_what_needs_1_1_and_which_version_it_writes(kind):
    fmt = get_format(P.NAME)
    assert fmt is P.FORMAT
    assert fmt.needs(small_package()) is None and fmt.written_version(small_package()) == "1.0"
    package = each_1_1_kind()[kind]
    assert fmt.written_version(package) == P.read_version(P.dumps(package)) == "1.1"
    assert fmt.needs(package), "compat names what older releases refuse"


@pytest.mark.parametrize("name", sorted(TREE_VARIANTS))
def test_packages_of_1_0_kinds_still_record_1_0(name):
    assert not uses_1_1(TREE_VARIANTS[name])
    data = P.dumps(TREE_VARIANTS[name])
    assert P.read_version(data) == "1.0" and not members_1_0_lacks(data)


GOLDEN_1_0 = sorted((ROOT / "conformance" / "golden" / "protobuf" / "1.0" / "packages").glob("*.protobuf"))


@pytest.mark.parametrize("path", GOLDEN_1_0, ids=[p.stem for p in GOLDEN_1_0])
def test_golden_1_0_files_are_written_again_byte_for_byte(path):
    """Strict minor: a package using none of 1.1's kinds is the file 1.0 wrote, so 1.0 readers read it."""
    data = path.read_bytes()
    assert P.dumps(P.loads(data, where=str(path))) == data


def test_golden_1_0_files_exist():
    assert len(GOLDEN_1_0) == 5


def reader_1_0():
    """Package as a 1.0 reader parses it: from the released 1.0 descriptor set, in a pool of its own."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    files = descriptor_pb2.FileDescriptorSet.FromString(
        (ROOT / "proto" / "descriptors" / "crossform-v1-1.0.binpb").read_bytes()
    )
    pool = descriptor_pool.DescriptorPool()
    for f in files.file:
        pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("crossform.v1.Package"))


@pytest.mark.parametrize("name", sorted(EVERY_KIND))
def test_a_1_0_reader_finds_an_unset_oneof_where_1_1_put_its_kinds(name):
    """What the 1.0 reader does with a newer minor: drop unknown fields, then refuse any
    encoder or model whose oneof is unset (ProtobufMissingError). So every new kind must
    leave such a hole, and nothing else may be dropped silently."""
    package = EVERY_KIND[name]
    msg = reader_1_0().FromString(P.dumps(package))
    assert msg.format_version == "1.1"
    msg.DiscardUnknownFields()
    unset = [i for i, e in enumerate(msg.encoders) if e.WhichOneof("encoder") is None]
    assert unset == [i for i, e in enumerate(package.encoders) if isinstance(e, ENCODERS_1_1)]
    assert (msg.model.WhichOneof("model") is None) == needs_a_1_1_member(package.model)
    assert unset or needs_a_1_1_member(package.model)


@pytest.mark.parametrize("name", sorted(TREE_VARIANTS))
def test_a_1_0_reader_sees_all_of_a_1_0_file(name):
    data = P.dumps(TREE_VARIANTS[name])
    msg = reader_1_0().FromString(data)
    assert msg.format_version == "1.0" and msg.SerializeToString(deterministic=True) == data


def test_a_newer_minors_new_encoder_is_refused_not_skipped():
    # what a 1.2 encoder looks like to this reader: a member it does not know, so an unset oneof
    package = EVERY_KIND["linear-regression"]
    msg = pb.Package.FromString(P.dumps(package))
    msg.format_version = "1.2"
    msg.encoders[2].Clear()
    msg.encoders[2].MergeFromString(tag(8, 2) + b"\x00")  # Encoder field 8 (past 1.1's members), an empty message
    with (
        pytest.warns(P.FormatVersionWarning, match=r"Package.encoders\[2\]: field 8"),
        pytest.raises(P.ProtobufMissingError, match=r"encoders\[2\]: expected one member of the oneof 'encoder'"),
    ):
        P.loads(msg.SerializeToString(deterministic=True))


def encoder(i: int, member: str):
    return lambda m: getattr(m.encoders[i], member)


def block(i: int = 0, j: int = 0):
    return lambda m: m.encoders[i].one_hot.blocks[j]


def linear(m: pb.Package) -> pb.LinearModel:
    return m.model.linear_model


def rules(m: pb.Package) -> pb.TreeEnsembleWithRules:
    return m.model.tree_ensemble_with_rules


def as_plain_ensemble(m: pb.Package) -> None:
    ensemble = pb.TreeEnsemble()
    ensemble.CopyFrom(rules(m).ensemble)
    m.model.tree_ensemble.CopyFrom(ensemble)


def both(*edits):
    def edit(msg):
        for e in edits:
            e(msg)

    return edit


BAD_1_1 = {
    "affine scale per feature": (
        "linear-regression",
        lambda m: encoder(2, "affine")(m).scale.append(1.0),
        P.ProtobufCountError,
        "expected 1 scale entries, one per feature, found 2",
    ),
    "affine offset per feature": (
        "boost-binary-one-hot",
        lambda m: encoder(1, "affine")(m).offset.pop(),
        P.ProtobufCountError,
        "offset",
    ),
    "affine infinite scale": (
        "linear-regression",
        lambda m: encoder(2, "affine")(m).scale.__setitem__(0, math.inf),
        MalformedPackageError,
        "finite",
    ),
    "indicator kinds per feature": (
        "linear-regression",
        lambda m: encoder(0, "missing_indicator")(m).kinds.pop(),
        P.ProtobufCountError,
        "kinds",
    ),
    "indicator kind unspecified": (
        "linear-regression",
        lambda m: encoder(0, "missing_indicator")(m).kinds.__setitem__(1, 0),
        P.ProtobufEnumError,
        "found KIND_UNSPECIFIED",
    ),
    "indicator kind unknown": (
        "linear-regression",
        lambda m: encoder(0, "missing_indicator")(m).kinds.__setitem__(0, 7),
        P.ProtobufEnumError,
        "kinds[0]",
    ),
    "indicator over a categorical": (
        "linear-regression",
        lambda m: encoder(0, "missing_indicator")(m).outputs.__delitem__(slice(None)),
        MalformedPackageError,
        "categorical",
    ),
    "one-hot blocks per feature": (
        "boost-binary-one-hot",
        lambda m: encoder(0, "one_hot")(m).blocks.add(),
        P.ProtobufCountError,
        "blocks",
    ),
    "one-hot columns per category": (
        "boost-binary-one-hot",
        lambda m: block()(m).columns.pop(),
        P.ProtobufCountError,
        "expected 3 columns, one per category, found 2",
    ),
    "one-hot column past the width": (
        "boost-binary-one-hot",
        lambda m: block()(m).columns.__setitem__(0, 3),
        P.ProtobufIndexError,
        "in [-1, 3) (the block's width), found 3",
    ),
    "one-hot column below -1": (
        "boost-binary-one-hot",
        lambda m: block()(m).columns.__setitem__(1, -2),
        P.ProtobufIndexError,
        "blocks[0].columns[1]",
    ),
    "one-hot missing column": (
        "boost-multiclass-ignore",
        assign(block(), "missing_column", 3),
        P.ProtobufIndexError,
        "missing_column",
    ),
    "one-hot unknown not set": (
        "boost-binary-one-hot",
        lambda m: block()(m).ClearField("unknown_policy"),
        P.ProtobufMissingError,
        "'unknown'",
    ),
    "one-hot unknown policy unspecified": (
        "boost-binary-one-hot",
        assign(block(), "unknown_policy", 0),
        P.ProtobufEnumError,
        "found UNKNOWN_POLICY_UNSPECIFIED",
    ),
    "one-hot unknown policy unknown": (
        "boost-multiclass-ignore",
        assign(block(), "unknown_policy", 3),
        P.ProtobufEnumError,
        "found 3",
    ),
    "one-hot unknown column": (
        "linear-binary-logistic",
        assign(block(), "unknown_column", 9),
        P.ProtobufIndexError,
        "unknown_column",
    ),
    "one-hot outputs per column": (
        "boost-binary-one-hot",
        lambda m: encoder(0, "one_hot")(m).outputs.append("x"),
        P.ProtobufCountError,
        "expected 3 outputs, one per column",
    ),
    "one-hot width over the limit": (
        "boost-binary-one-hot",
        assign(block(), "width", P.MAX_BLOCK_WIDTH + 1),
        LimitExceededError,
        "at most 1000000 columns",
    ),
    "one-hot repeated category": (
        "boost-binary-one-hot",
        lambda m: block()(m).categories.__setitem__(1, "blue"),
        MalformedPackageError,
        "distinct",
    ),
    "one-hot output over its feature": (
        "boost-binary-one-hot",
        lambda m: encoder(0, "one_hot")(m).outputs.__setitem__(2, "colour"),
        MalformedPackageError,
        "overwrite no input",
    ),
    "linear without intercepts": (
        "linear-multinomial",
        lambda m: linear(m).ClearField("intercepts"),
        P.ProtobufCountError,
        "at least one intercept",
    ),
    "linear coefficients": (
        "linear-multinomial",
        lambda m: linear(m).coefficients.pop(),
        P.ProtobufCountError,
        "expected 6 coefficients (3 outputs x 2 features), found 5",
    ),
    "linear classes per output": (
        "linear-multinomial",
        lambda m: linear(m).classes.add(text="d"),
        P.ProtobufCountError,
        "to be 4 (one per class), found 3",
    ),
    "linear regressor of two outputs": (
        "linear-regression",
        lambda m: (linear(m).intercepts.append(0.0), linear(m).coefficients.extend([0.0] * 4)),
        P.ProtobufCountError,
        "to be 1 (a regressor, no classes), found 2",
    ),
    "linear post transform unspecified": (
        "linear-decision-binary",
        assign(linear, "post_transform", 0),
        P.ProtobufEnumError,
        "linear_model.post_transform",
    ),
    "linear softmax of one output": (
        "linear-binary-logistic",
        assign(linear, "post_transform", 3),
        MalformedPackageError,
        "softmax",
    ),
    "linear class label not set": (
        "linear-decision-binary",
        lambda m: linear(m).classes[0].Clear(),
        P.ProtobufMissingError,
        "classes[0]",
    ),
    "linear infinite coefficient": (
        "linear-multinomial",
        lambda m: linear(m).coefficients.__setitem__(4, -math.inf),
        MalformedPackageError,
        "finite",
    ),
    "linear too many classes": (
        "linear-multinomial",
        lambda m: [linear(m).classes.add(integer=i) for i in range(70000)],
        LimitExceededError,
        "at most 65536 outputs",
    ),
    "rules without ensemble": (
        "boost-regression-compare",
        lambda m: rules(m).ClearField("ensemble"),
        P.ProtobufMissingError,
        "'ensemble'",
    ),
    "rules missing unspecified": (
        "boost-binary-one-hot",
        assign(rules, "missing", 0),
        P.ProtobufEnumError,
        "found MISSING_UNSPECIFIED",
    ),
    "rules infinite unknown": (
        "boost-regression-compare",
        assign(rules, "infinite", 5),
        P.ProtobufEnumError,
        "tree_ensemble_with_rules.infinite",
    ),
    "rules leaf width zero": (
        "boost-regression-compare",
        assign(rules, "leaf_width", 0),
        P.ProtobufCountError,
        "leaf_width to be 1 (a regressor, no classes), found 0",
    ),
    "rules leaf width against classes": (
        "boost-binary-one-hot",
        assign(rules, "leaf_width", 3),
        P.ProtobufCountError,
        "leaf_width to be 2 (one per class) or 1",
    ),
    "rules leaf width against leaves": (
        "boost-binary-one-hot",
        assign(rules, "leaf_width", 2),
        P.ProtobufCountError,
        "leaf_value",
    ),
    "rules leaf width past the limit": (
        "boost-multiclass-ignore",
        assign(rules, "leaf_width", 2**20),
        LimitExceededError,
        "at most 65536 outputs",
    ),
    "binary without logistic": (
        "boost-binary-one-hot",
        lambda m: setattr(rules(m).ensemble, "post_transform", 1),
        MalformedPackageError,
        "logistic",
    ),
    "binary as a 1.0 ensemble": ("boost-binary-one-hot", as_plain_ensemble, P.ProtobufCountError, "leaf_value"),
    "1.1 encoders in a 1.0 file": (
        "linear-regression",
        set_version("1.0"),
        P.ProtobufUnknownFieldError,
        "Package.encoders[0]: field 5 (missing_indicator, added in protobuf 1.1)",
    ),
    "1.1 model in a 1.0 file": (
        "boost-regression-compare",
        set_version("1.0"),
        P.ProtobufUnknownFieldError,
        "Package.model: field 3 (tree_ensemble_with_rules, added in protobuf 1.1)",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_1_1))
def test_bad_1_1_input_is_refused_with_its_named_error(name):
    package, edit, error, text = BAD_1_1[name]
    refused(edited(edit, EVERY_KIND[package]), error, text)


def test_bad_1_1_input_names_the_message_path():
    data = edited(lambda m: block()(m).columns.__setitem__(0, 3), EVERY_KIND["boost-binary-one-hot"])
    assert refused(data, P.ProtobufIndexError, "").path == "pkg.pb#Package.encoders[0].one_hot.blocks[0].columns[0]"


GOOD_1_1 = [
    P.dumps(EVERY_KIND[name]) for name in ("boost-binary-one-hot", "linear-regression", "linear-binary-logistic")
]


# ---------------------------------------------------------------- refuse-missing


def refuse_packages() -> dict:
    """name -> Package with a RefuseMissing encoder (1.1): numeric and categorical features, in
    place and renamed, and beside a MissingIndicator, as scikit-learn's MissingIndicator writes them."""
    base = small_package()
    codes, scale = base.encoders[1:]
    model = base.model
    return {
        "refuse-in-place": base.replace(
            encoders=(ir.RefuseMissing(("colour", "size"), (ir.CATEGORICAL, ir.NUMERIC)),) + base.encoders
        ),
        "refuse-renamed": base.replace(
            encoders=(
                ir.RefuseMissing(("size", "colour"), (ir.NUMERIC, ir.CATEGORICAL), ("size_ok", "colour_ok")),
                ir.CategoricalEncoding(("colour_ok",), codes.categories, codes.codes, (None,), None, ("colour_code",)),
                ir.Scale(("size_ok",), [10.0], [4.0], ("size_scaled",)),
            ),
            model=dataclasses.replace(model, features=("colour_code", "size_scaled")),
        ),
        "refuse-beside-indicator": base.replace(
            encoders=(
                ir.RefuseMissing(("colour",), (ir.CATEGORICAL,), ("colour#2",)),
                ir.MissingIndicator(("size",), (ir.NUMERIC,), ("size_gone",)),
                ir.FillMissing(("colour", "size"), ("red", 10.0)),
                codes,
                scale,
            ),
            model=ir.LinearModel(
                ("colour", "size_scaled", "size_gone"), [[1.0, -2.0, 0.75]], [0.5], "logistic", model.classes
            ),
        ),
    }


REFUSE = refuse_packages()
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


def test_bad_refuse_missing_input_names_the_message_path():
    data = edited(lambda m: refuse(m).kinds.__setitem__(1, 0), REFUSE["refuse-in-place"])
    assert refused(data, P.ProtobufEnumError, "").path == "pkg.pb#Package.encoders[0].refuse_missing.kinds[1]"


GOOD_REFUSE = [P.dumps(REFUSE[name]) for name in sorted(REFUSE)]


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


# ---------------------------------------------------------------- set splits, +inf thresholds, isolation


def set_tree_root(width: int = 1) -> ir.Tree:
    """Root: code in {-3, 0, 2, 7.5} (missing side right, so in the set goes left); then
    x <= +inf (every number left, NaN right)."""
    value = np.zeros((5, width))
    value[[1, 3, 4]] = np.array([[0.5], [-1.25], [2.0]]) * np.arange(1, width + 1)
    return ir.Tree(
        feature=[0, -1, 1, -1, -1],
        threshold=[0.0, 0.0, math.inf, 0.0, 0.0],
        left=[1, -1, 3, -1, -1],
        right=[2, -1, 4, -1, -1],
        missing_left=[False, False, False, False, False],
        value=value,
        sets=((7.5, -3.0, 2.0, 0.0), None, None, None, None),
    )


def set_tree_deep(width: int = 1) -> ir.Tree:
    """Not numbered in preorder: 0 -> (2, 1); 2: code in {1} (missing side left, so in the set
    goes right); 1: code in {-3, 4} (missing side right)."""
    value = np.zeros((7, width))
    value[[3, 4, 5, 6]] = np.array([[0.125], [-0.5], [0.75], [-2.5]]) * np.arange(1, width + 1)
    return ir.Tree(
        feature=[1, 0, 0, -1, -1, -1, -1],
        threshold=[0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        left=[2, 5, 3, -1, -1, -1, -1],
        right=[1, 6, 4, -1, -1, -1, -1],
        missing_left=[True, False, True, False, False, False, False],
        value=value,
        sets=(None, (4.0, -3.0), (1.0,), None, None, None, None),
    )


def empty_set_tree() -> ir.Tree:
    """Root: code in {} (nothing is in it, so every row goes the missing side, left)."""
    return ir.Tree(
        feature=[0, -1, -1],
        threshold=[0.0, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=[True, False, False],
        value=[[0.0], [1.5], [-1.5]],
        sets=((), None, None),
    )


def plain_tree(width: int = 1) -> ir.Tree:
    value = np.zeros((3, width))
    value[1:] = np.array([[0.25], [-0.75]]) * np.arange(1, width + 1)
    return ir.Tree(
        feature=[1, -1, -1],
        threshold=[-1.5, 0.0, 0.0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        missing_left=[True, False, False],
        value=value,
    )


def isolation_tree(threshold: float = 0.25) -> ir.Tree:
    return ir.Tree(
        feature=[1, 0, -1, -1, -1],
        threshold=[threshold, -2.0, 0.0, 0.0, 0.0],
        left=[1, 2, -1, -1, -1],
        right=[4, 3, -1, -1, -1],
        missing_left=[False, True, False, False, False],
        value=[[0.0], [0.0], [2.0 + 1.2], [2.0 + 0.5], [1.0 + 3.75]],
    )


CODE_INPUTS = (ir.Field("code", ir.NUMERIC), ir.Field("x", ir.NUMERIC))
CODE_FEATURES = ("code", "x")


def with_rules_packages() -> dict:
    """name -> Package using set splits, +inf thresholds or the isolation transform (1.1)."""

    def package(model, encoders=()):
        return ir.Package(inputs=CODE_INPUTS, encoders=encoders, model=model, owner="tests")

    base = small_package()
    first = base.model.trees[0]
    infinite_first = ir.Tree(
        first.feature,
        np.where(np.arange(5) == 2, math.inf, first.threshold),
        first.left,
        first.right,
        first.missing_left,
        first.value,
    )
    return {
        "sets-regression": package(
            ir.TreeEnsemble(
                CODE_FEATURES,
                (set_tree_root(), set_tree_deep(), plain_tree()),
                "sum",
                base_value=[0.5],
                infinite="compare",
            )
        ),
        "sets-binary": package(
            ir.TreeEnsemble(
                CODE_FEATURES,
                (plain_tree(), set_tree_deep(), set_tree_root()),
                "sum",
                "logistic",
                classes=(0, 1),
                base_value=[-0.25],
                infinite="compare",
            )
        ),
        "sets-softmax-missing-error": package(
            ir.TreeEnsemble(
                CODE_FEATURES,
                (set_tree_deep(3), set_tree_root(3)),
                "sum",
                "softmax",
                classes=("a", "b", "c"),
                base_value=[0.1, 0.0, -0.1],
                missing="error",
            )
        ),
        "sets-forest": package(ir.TreeEnsemble(CODE_FEATURES, (set_tree_root(2), plain_tree(2)), classes=("n", "y"))),
        "sets-empty-set": package(
            ir.TreeEnsemble(
                CODE_FEATURES, (empty_set_tree(), set_tree_root()), "sum", base_value=[0.0], infinite="compare"
            )
        ),
        "sets-after-scale": package(
            ir.TreeEnsemble(CODE_FEATURES, (set_tree_root(),), "sum", base_value=[0.0], infinite="compare"),
            (ir.Scale(("code",), [0.0], [1.0]),),
        ),  # the frontend's guard against inf codes
        # 1.0's rules, but a +inf threshold: 1.0's tree_ensemble has finite thresholds only
        "inf-threshold-only": base.replace(
            model=dataclasses.replace(base.model, trees=(infinite_first,) + base.model.trees[1:])
        ),
        "isolation": package(
            ir.TreeEnsemble(
                CODE_FEATURES,
                (isolation_tree(), isolation_tree(-0.5)),
                "sum",
                "isolation",
                base_value=[0.0],
                infinite="compare",
                isolation=(6.5, -0.4375),
            )
        ),
        "isolation-offset-zero": package(
            ir.TreeEnsemble(
                CODE_FEATURES,
                (isolation_tree(),),
                "sum",
                "isolation",
                base_value=[0.0],
                infinite="compare",
                isolation=(2.0, -0.0),
            )
        ),
        "isolation-sets-inf": package(
            ir.TreeEnsemble(
                CODE_FEATURES,
                (isolation_tree(math.inf), set_tree_root()),
                "sum",
                "isolation",
                base_value=[0.0],
                infinite="error",
                isolation=(3.0, 0.5),
            )
        ),
    }


def with_rules_rows() -> list:
    """Every code in a set and out of it (-0.0 equals 0.0; the next float after 2.0 is not 2.0),
    crossed with numbers, +-inf, huge values and NaN."""
    codes = [-3.0, 0.0, -0.0, 2.0, np.nextafter(2.0, 3.0), 7.5, 1.0, 4.0, math.nan, math.inf, -math.inf, 1e39]
    xs = [-2.0, 0.5, 0.75, -1.5, 1e300, math.inf, -math.inf, math.nan]
    rows = [{"code": c, "x": x} for c in codes for x in xs]
    return rows + [{"colour": row["colour"], "size": row["size"]} for row in ROWS]  # for inf-threshold-only


WITH_RULES = with_rules_packages()
WITH_RULES_ROWS = with_rules_rows()


def rows_for(package: ir.Package) -> list:
    names = [f.name for f in package.inputs]
    return [r for r in WITH_RULES_ROWS if list(r) == names]


@pytest.mark.parametrize("name", sorted(WITH_RULES))
def test_with_rules_packages_round_trip_record_1_1_and_score_like_the_reference(name):
    package = WITH_RULES[name]
    data = P.dumps(package)
    assert P.read_version(data) == "1.1"
    assert pb.Package.FromString(data).model.WhichOneof("model") == "tree_ensemble_with_rules"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = P.loads(data)
    assert back.id == package.id and P.dumps(back) == data
    assert [t.sets for t in back.model.trees] == [t.sets for t in package.model.trees]
    assert back.model.isolation == package.model.isolation
    for a, b in zip(back.model.trees, package.model.trees):
        np.testing.assert_array_equal(a.threshold, b.threshold)
    assert_scores_like_the_reference(package, data, rows_for(package))


def test_the_with_rules_rows_reach_every_leaf_and_the_inf_threshold():
    for name in ("sets-regression", "sets-binary", "isolation-sets-inf"):
        package = WITH_RULES[name]
        leaves = evaluator.score(package, rows_for(package)).leaves
        for t, tree in enumerate(package.model.trees):
            assert set(leaves[:, t][leaves[:, t] >= 0].tolist()) == set(np.flatnonzero(tree.is_leaf).tolist()), (
                name,
                t,
            )
    # 4.0 is in no set: the missing side, right, to x <= +inf, where +inf goes left and NaN right
    package = WITH_RULES["sets-regression"]
    got = reference_runtime.prepare(P.dumps(package), P)([{"code": 4.0, "x": math.inf}, {"code": 4.0, "x": math.nan}])
    assert got.leaves[:, 0].tolist() == [3, 4]


def test_set_values_are_exact_doubles():
    # -0.0 is in the set holding 0.0; the double after 2.0 is not in it
    package = WITH_RULES["sets-regression"]
    got = reference_runtime.prepare(P.dumps(package), P)(
        [{"code": -0.0, "x": 0.5}, {"code": 0.0, "x": 0.5}, {"code": np.nextafter(2.0, 3.0), "x": 0.5}]
    )
    assert got.leaves[:, 0].tolist() == [1, 1, 3]


def test_an_isolation_file_outputs_score_and_decision_as_written():
    package = WITH_RULES["isolation"]
    row = {"code": -3.0, "x": 0.0}
    got = reference_runtime.prepare(P.dumps(package), P)([row])
    assert got.outputs == ("score", "decision")
    raw = 0.0 + sum(t.value[leaf, 0] for t, leaf in zip(package.model.trees, got.leaves[0]))
    score = -(2.0 ** -(raw / 6.5))
    assert got.values[0].tolist() == [score, score - -0.4375]


def fit_with_rules(name: str):
    """Small seeded scikit-learn fits that make set splits, +inf thresholds and isolation forests."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        IsolationForest,
    )

    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 3))
    X[:, 2] = rng.integers(0, 6, 400)  # integer codes
    signal = X[:, 0] + np.isin(X[:, 2], (1, 4)) * 1.5
    gone = rng.random(400) < 0.25
    X[gone, 1] = np.nan  # only NaN carries signal in column 1: a +inf threshold
    signal = signal + gone * 2.0
    X[rng.random(400) < 0.05, 2] = np.nan
    if name == "hgb-binary-categorical":
        return HistGradientBoostingClassifier(
            max_iter=5, max_leaf_nodes=6, categorical_features=[2], random_state=0
        ).fit(X, signal > np.median(signal))
    if name == "hgb-regression-nan":
        return HistGradientBoostingRegressor(max_iter=4, max_leaf_nodes=4, random_state=0).fit(X[:, :2], signal)
    return IsolationForest(n_estimators=4, max_samples=64, max_features=2, random_state=0).fit(X)


FITS_1_1 = ("hgb-binary-categorical", "hgb-regression-nan", "isolation-forest-features")


@pytest.fixture(scope="module")
def fitted_1_1():
    return {name: crossform.from_sklearn(fit_with_rules(name), checks=150) for name in FITS_1_1}


@pytest.mark.parametrize("name", FITS_1_1)
def test_sklearn_fits_with_1_1_trees_round_trip_and_score_as_sklearn(fitted_1_1, name, tmp_path):
    package = fitted_1_1[name]
    model = package.model
    used = {
        "sets": model.has_sets,
        "+inf": any(np.isinf(t.threshold).any() for t in model.trees),
        "isolation": model.isolation is not None,
    }
    assert used[
        {"hgb-binary-categorical": "sets", "hgb-regression-nan": "+inf", "isolation-forest-features": "isolation"}[name]
    ], used
    path = crossform.save(package, tmp_path / "model.pb", format="protobuf")
    assert P.read_version(path.read_bytes()) == "1.1"
    back = crossform.load(path)
    assert back.id == package.id
    comparison = checks_module.compare(back.checks, crossform.score(back, back.checks.data()), back.model)
    assert comparison.ok, comparison.summary()
    rows = [
        dict(zip((f.name for f in package.inputs), values))
        for values in [
            (0.5, math.inf, 1.0),
            (math.nan, math.nan, math.nan),
            (-math.inf, 1e39, 4.0),
            (0.0, -0.0, 9.0),
            (1.0, 2.0, 4.0 + 1e-15),
        ]
    ]
    assert_scores_like_the_reference(package, path.read_bytes(), rows)


ALL_1_1 = {**EVERY_KIND, **WITH_RULES, **REFUSE}


@pytest.mark.parametrize("name", sorted(WITH_RULES))
def test_a_1_0_reader_finds_the_model_unset_in_a_file_with_1_1_trees(name):
    """Set splits, +inf thresholds and isolation live in tree_ensemble_with_rules, whole: a 1.0
    reader drops it as an unknown field and then refuses the model with no member set."""
    package = WITH_RULES[name]
    msg = reader_1_0().FromString(P.dumps(package))
    assert msg.format_version == "1.1"
    msg.DiscardUnknownFields()
    assert msg.model.WhichOneof("model") is None
    assert len(msg.encoders) == len(package.encoders) and all(e.WhichOneof("encoder") for e in msg.encoders)


RELEASED_0_4_0 = "5cf8627"  # crossform 0.4.0 (protobuf 1.0): its reader, generated code and IR, from git

RELEASED_READ = textwrap.dedent("""
    import json, sys, warnings
    import crossform
    from crossform.exporters import protobuf as P
    assert crossform.__version__ == "0.4.0" and P.VERSION == "1.0", (crossform.__version__, P.VERSION)
    warnings.simplefilter("ignore")  # it warns first: 1.1 is a newer minor of its major
    out = {}
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            data = f.read()
        try:
            out[path] = ["read", P.loads(data, where=path).id]
        except Exception as exc:
            out[path] = [type(exc).__name__, str(exc)]
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def released_read(tmp_path_factory):
    """Reads files with crossform 0.4.0's protobuf reader, in a subprocess over its own source tree."""
    root = tmp_path_factory.mktemp("crossform-0.4.0")
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", RELEASED_0_4_0, "src"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        archive = None
    if archive is None or archive.returncode != 0:
        pytest.skip(f"crossform 0.4.0's protobuf reader is not available (needs git and commit {RELEASED_0_4_0})")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(root, filter="data")

    def read(files: dict) -> dict:
        paths = {}
        for name, data in files.items():
            paths[name] = root / f"{len(paths)}.pb"
            paths[name].write_bytes(data)
        env = {**os.environ, "PYTHONPATH": str(root / "src")}
        done = subprocess.run(
            [sys.executable, "-c", RELEASED_READ, *map(str, paths.values())],
            capture_output=True,
            text=True,
            cwd=root,
            env=env,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        found = json.loads(done.stdout)
        return {name: found[str(path)] for name, path in paths.items()}

    return read


def test_the_released_1_0_reader_refuses_every_1_1_file_and_reads_every_1_0_file(released_read, fitted_1_1):
    new = {
        **{name: P.dumps(p) for name, p in ALL_1_1.items()},
        **{name: P.dumps(p) for name, p in each_1_1_kind().items()},
        **{name: P.dumps(p) for name, p in fitted_1_1.items()},
    }
    old = {name: P.dumps(p) for name, p in TREE_VARIANTS.items()}
    found = released_read({**new, **old})
    for name in new:
        assert found[name][0] == "ProtobufMissingError", (name, found[name])
        assert "expected one member of the oneof" in found[name][1]
    for name, package in TREE_VARIANTS.items():
        assert found[name] == ["read", package.id], name


def test_the_released_1_0_reader_refuses_a_hand_made_inf_threshold_in_tree_ensemble(released_read):
    """Were +inf written into 1.0's tree_ensemble (this writer never does), 0.4.0 would still
    refuse it, whatever version the file records: its IR has finite thresholds only."""
    found = released_read(
        {
            version: edited(both(set_version(version), lambda m: tree(m).threshold.__setitem__(1, math.inf)))
            for version in ("1.0", "1.1")
        }
    )
    for version, (error, text) in found.items():
        assert error == "MalformedPackageError" and "finite" in text, (version, error, text)


def tree_sets(i: int):
    return lambda m: rules(m).tree_sets[i]


def rules_tree(m: pb.Package, i: int = 0) -> pb.Tree:
    return rules(m).ensemble.trees[i]


def isolation(m: pb.Package) -> pb.Isolation:
    return rules(m).isolation


def replaced(getter, name, values):
    def edit(msg):
        field = getattr(getter(msg), name)
        del field[:]
        field.extend(values)

    return edit


# sets-regression: tree 0 has set node 0 = {-3, 0, 2, 7.5}; tree 1 set nodes 1 = {-3, 4} and 2 = {1}; tree 2 none
BAD_WITH_RULES = {
    "set value NaN": (
        "sets-regression",
        lambda m: tree_sets(0)(m).values.__setitem__(1, math.nan),
        P.ProtobufValueError,
        "expected finite set values, found nan",
    ),
    "set value infinite": (
        "sets-regression",
        lambda m: tree_sets(0)(m).values.__setitem__(3, math.inf),
        P.ProtobufValueError,
        "found inf",
    ),
    "set values unsorted": (
        "sets-regression",
        replaced(tree_sets(0), "values", [-3.0, 2.0, 0.0, 7.5]),
        P.ProtobufOrderError,
        "strictly ascending (distinct), found 0.0 after 2.0",
    ),
    "set value repeated": (
        "sets-regression",
        replaced(tree_sets(0), "values", [-3.0, -3.0, 2.0, 7.5]),
        P.ProtobufOrderError,
        "found -3.0 after -3.0",
    ),
    "set holding -0.0 and 0.0": (
        "sets-regression",
        replaced(tree_sets(0), "values", [-3.0, -0.0, 0.0, 7.5]),
        P.ProtobufOrderError,
        "found 0.0 after -0.0",
    ),
    "set on a leaf": (
        "sets-regression",
        lambda m: tree_sets(0)(m).nodes.__setitem__(0, 1),
        P.ProtobufIndexError,
        "expected a split node (a set is tested at split nodes only), found leaf 1",
    ),
    "set node out of range": (
        "sets-regression",
        lambda m: tree_sets(0)(m).nodes.__setitem__(0, 5),
        P.ProtobufIndexError,
        "expected a node in [0, 5), found 5",
    ),
    "set nodes unsorted": (
        "sets-regression",
        both(
            replaced(tree_sets(1), "nodes", [2, 1]),
            replaced(tree_sets(1), "sizes", [1, 2]),
            replaced(tree_sets(1), "values", [1.0, -3.0, 4.0]),
        ),
        P.ProtobufOrderError,
        "expected set nodes strictly ascending, found 1 after 2",
    ),
    "set node repeated": (
        "sets-regression",
        replaced(tree_sets(1), "nodes", [2, 2]),
        P.ProtobufOrderError,
        "found 2 after 2",
    ),
    "sizes per set node": (
        "sets-regression",
        lambda m: tree_sets(1)(m).sizes.pop(),
        P.ProtobufCountError,
        "expected 2 sizes, one per set node, found 1",
    ),
    "values against sizes": (
        "sets-regression",
        lambda m: tree_sets(0)(m).values.pop(),
        P.ProtobufCountError,
        "expected 4 values (the sum of sizes), found 3",
    ),
    "values beyond sizes": (
        "sets-regression",
        lambda m: tree_sets(2)(m).values.append(1.0),
        P.ProtobufCountError,
        "expected 0 values (the sum of sizes), found 1",
    ),
    "set size over the limit": (
        "sets-regression",
        lambda m: tree_sets(0)(m).sizes.__setitem__(0, 65537),
        LimitExceededError,
        "expected at most 65536 values in a set, found 65537",
    ),
    "tree_sets per tree": (
        "sets-regression",
        lambda m: rules(m).tree_sets.add(),
        P.ProtobufCountError,
        "expected 3 tree_sets, one per tree (or none), found 4",
    ),
    "tree_sets without a set node": (
        "sets-regression",
        lambda m: [t.Clear() for t in rules(m).tree_sets],
        P.ProtobufUnexpectedError,
        "found no set node in any",
    ),
    "threshold at a set node": (
        "sets-regression",
        lambda m: rules_tree(m).threshold.__setitem__(0, 1.5),
        P.ProtobufValueError,
        "expected threshold 0.0 at set node 0, found 1.5",
    ),
    "NaN threshold": (
        "sets-regression",
        lambda m: rules_tree(m, 2).threshold.__setitem__(0, math.nan),
        P.ProtobufValueError,
        "expected a finite or +inf threshold at split node 0, found nan",
    ),
    "-inf threshold": (
        "sets-regression",
        lambda m: rules_tree(m).threshold.__setitem__(1, -math.inf),
        P.ProtobufValueError,
        "at split node 2, found -inf",
    ),
    "+inf threshold as a 1.0 ensemble": (
        "inf-threshold-only",
        as_plain_ensemble,
        P.ProtobufValueError,
        "+inf only in tree_ensemble_with_rules, since 1.1",
    ),
    # what dropping the sets would score: other splits, so another package
    "sets dropped": (
        "sets-regression",
        lambda m: rules(m).ClearField("tree_sets"),
        IdMismatchError,
        "the content changed",
    ),
    "isolation not set": (
        "isolation",
        lambda m: rules(m).ClearField("isolation"),
        P.ProtobufMissingError,
        "expected isolation with POST_TRANSFORM_ISOLATION, found none",
    ),
    "isolation without its transform": (
        "sets-regression",
        assign(isolation, "denominator", 2.0),
        P.ProtobufUnexpectedError,
        "expected no isolation with post transform 'none'",
    ),
    "isolation denominator not set": (
        "isolation",
        lambda m: isolation(m).ClearField("denominator"),
        P.ProtobufMissingError,
        "'denominator'",
    ),
    "isolation offset not set": (
        "isolation",
        lambda m: isolation(m).ClearField("offset"),
        P.ProtobufMissingError,
        "'offset'",
    ),
    "isolation denominator zero": (
        "isolation",
        assign(isolation, "denominator", 0.0),
        P.ProtobufValueError,
        "expected a finite number > 0, found 0.0",
    ),
    "isolation denominator negative": (
        "isolation",
        assign(isolation, "denominator", -6.5),
        P.ProtobufValueError,
        "found -6.5",
    ),
    "isolation denominator infinite": (
        "isolation",
        assign(isolation, "denominator", math.inf),
        P.ProtobufValueError,
        "isolation.denominator",
    ),
    "isolation offset NaN": (
        "isolation",
        assign(isolation, "offset", math.nan),
        P.ProtobufValueError,
        "expected a finite number, found nan",
    ),
    "isolation with classes": (
        "isolation",
        lambda m: rules(m).ensemble.classes.add(text="outlier"),
        MalformedPackageError,
        "only for a regressor",
    ),
    "isolation averaged": (
        "isolation",
        both(
            lambda m: setattr(rules(m).ensemble, "aggregation", 1), lambda m: rules(m).ensemble.ClearField("base_value")
        ),
        MalformedPackageError,
        "aggregation 'sum'",
    ),
    "isolation leaf width 2": (
        "isolation",
        assign(rules, "leaf_width", 2),
        P.ProtobufCountError,
        "leaf_width to be 1 (a regressor, no classes), found 2",
    ),
    "unknown field in tree_sets": (
        "sets-binary",
        with_unknown(tree_sets(1)),
        P.ProtobufUnknownFieldError,
        "Package.model.tree_ensemble_with_rules.tree_sets[1]: field 9",
    ),
    "unknown field in isolation": (
        "isolation",
        with_unknown(isolation, 7),
        P.ProtobufUnknownFieldError,
        "tree_ensemble_with_rules.isolation: field 7",
    ),
    "isolation in a 1.0 file": (
        "isolation",
        set_version("1.0"),
        P.ProtobufUnknownFieldError,
        "Package.model: field 3 (tree_ensemble_with_rules, added in protobuf 1.1)",
    ),
}
BAD_RULES_ELSEWHERE = {
    "isolation transform in tree_ensemble": (
        small_package(),
        assign(lambda m: m.model.tree_ensemble, "post_transform", 4),
        P.ProtobufEnumError,
        "found POST_TRANSFORM_ISOLATION",
    ),
    "isolation transform in a linear model": (
        EVERY_KIND["linear-regression"],
        assign(linear, "post_transform", 4),
        P.ProtobufEnumError,
        "linear_model.post_transform",
    ),
    "+inf threshold in tree_ensemble": (
        small_package(),
        lambda m: tree(m).threshold.__setitem__(1, math.inf),
        P.ProtobufValueError,
        "expected a finite threshold at split node 2",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_WITH_RULES))
def test_bad_1_1_tree_input_is_refused_with_its_named_error(name):
    package, edit, error, text = BAD_WITH_RULES[name]
    refused(edited(edit, WITH_RULES[package]), error, text)


@pytest.mark.parametrize("name", sorted(BAD_RULES_ELSEWHERE))
def test_what_only_tree_ensemble_with_rules_may_hold_is_refused_elsewhere(name):
    package, edit, error, text = BAD_RULES_ELSEWHERE[name]
    refused(edited(edit, package), error, text)


def test_bad_set_input_names_the_message_path():
    data = edited(replaced(tree_sets(1), "values", [4.0, -3.0, 1.0]), WITH_RULES["sets-regression"])
    assert (
        refused(data, P.ProtobufOrderError, "").path
        == "pkg.pb#Package.model.tree_ensemble_with_rules.tree_sets[1].values[1]"
    )


GOOD_1_1_TREES = [P.dumps(WITH_RULES[name]) for name in ("sets-regression", "isolation-sets-inf")]


# Files of each group of kinds, each damaged: a few bytes flipped, then cut anywhere.
DAMAGED = {
    "1.0 tree_ensemble": [GOOD],
    "one-hot, linear and boosting": GOOD_1_1,
    "refuse-missing": GOOD_REFUSE,
    "set splits, +inf and isolation": GOOD_1_1_TREES,
}


@pytest.mark.parametrize("originals", DAMAGED.values(), ids=list(DAMAGED))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_flipped_or_truncated_bytes_raise_only_crossform_errors(originals, data):
    read_or_refuse(P.loads, damaged(data, originals, flips=4, keep=0.0), quiet=P.FormatVersionWarning)
