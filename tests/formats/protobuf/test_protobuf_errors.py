"""The protobuf reader: one named error per bad input, limits, and damaged files of every kind."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crossform
from crossform.errors import (
    FormatVersionError,
    IdMismatchError,
    LimitExceededError,
    MalformedPackageError,
)
from crossform.exporters import _limits
from crossform.exporters import protobuf as P
from helpers.fuzz import damaged, read_or_refuse
from helpers.packages import TREE_VARIANTS, small_package
from helpers.protobuf import (
    GOOD_1_1,
    GOOD_1_1_TREES,
    GOOD_REFUSE,
    assign,
    edited,
    read_or_refused_in_java,
    refused,
    refused_in_java,
    set_version,
    tag,
    tree,
    with_unknown,
)

UNKNOWN = tag(99, 0) + b"\x01"


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


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_refused_by_the_java_reader_with_its_named_error(name):
    data, error, _ = BAD[name]
    refused_in_java(data, error)


def test_errors_name_the_file_loaded(tmp_path):
    path = tmp_path / "edited.pb"
    path.write_bytes(edited(lambda m: tree(m).left.__setitem__(0, 5)))
    with pytest.raises(P.ProtobufIndexError) as info:
        crossform.load(path)
    assert info.value.path == f"{path}#Package.model.tree_ensemble.trees[0]"


def test_newer_minor_warns_drops_unknown_fields_and_reads():
    package = small_package()
    data = edited(lambda m: (set_version("1.7")(m), with_unknown(tree, 20)(m)), package) + UNKNOWN
    with pytest.warns(P.FormatVersionWarning, match=r"protobuf 1\.7, newer than the 1\.2.*field 20.*field 99"):
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


@pytest.mark.parametrize("originals", DAMAGED.values(), ids=list(DAMAGED))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_flipped_or_truncated_bytes_are_read_or_refused_by_name_by_the_java_reader(originals, data):
    read_or_refused_in_java(damaged(data, originals, flips=4, keep=0.0))
