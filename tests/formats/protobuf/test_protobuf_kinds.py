"""The one-hot, linear and boosting kinds in protobuf 1.1: round trips, the recorded version, the released reader's refusal."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from crossform import evaluator, ir
from crossform.errors import (
    LimitExceededError,
    MalformedPackageError,
)
from crossform.exporters import get_format
from crossform.exporters import protobuf as P
from crossform.v1 import package_pb2 as pb
from helpers import every_kind
from helpers.packages import TREE_VARIANTS, small_package
from helpers.protobuf import (
    ENCODERS_1_1,
    EVERY_KIND,
    ROOT,
    ROWS,
    as_plain_ensemble,
    assert_scores_like_the_reference,
    assign,
    each_1_1_kind,
    edited,
    linear,
    reader_1_0,
    refused,
    rules,
    set_version,
    tag,
)

EVERY_KIND_ROWS = every_kind.rows()


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
    # what a newer minor's encoder looks like to this reader: a member it does not know, so an unset oneof
    package = EVERY_KIND["linear-regression"]
    msg = pb.Package.FromString(P.dumps(package))
    msg.format_version = "1.99"
    msg.encoders[2].Clear()
    msg.encoders[2].MergeFromString(tag(8, 2) + b"\x00")  # Encoder field 8 (no member has it), an empty message
    with (
        pytest.warns(P.FormatVersionWarning, match=r"Package.encoders\[2\]: field 8"),
        pytest.raises(P.ProtobufMissingError, match=r"encoders\[2\]: expected one member of the oneof 'encoder'"),
    ):
        P.loads(msg.SerializeToString(deterministic=True))


def encoder(i: int, member: str):
    return lambda m: getattr(m.encoders[i], member)


def block(i: int = 0, j: int = 0):
    return lambda m: m.encoders[i].one_hot.blocks[j]


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
