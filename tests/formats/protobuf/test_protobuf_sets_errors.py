"""Crafted tree_ensemble_with_rules files: each refused with its named error."""

from __future__ import annotations

import math

import pytest

from crossform.errors import (
    IdMismatchError,
    LimitExceededError,
    MalformedPackageError,
)
from crossform.exporters import protobuf as P
from helpers.packages import small_package
from helpers.protobuf import (
    EVERY_KIND,
    WITH_RULES,
    as_plain_ensemble,
    assign,
    both,
    edited,
    isolation,
    linear,
    refused,
    refused_in_java,
    replaced,
    rules,
    rules_tree,
    set_version,
    tree,
    tree_sets,
    with_unknown,
)

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


@pytest.mark.parametrize("name", sorted(BAD_WITH_RULES))
def test_bad_1_1_tree_input_is_refused_by_the_java_reader_with_its_named_error(name):
    package, edit, error, _ = BAD_WITH_RULES[name]
    refused_in_java(edited(edit, WITH_RULES[package]), error)


@pytest.mark.parametrize("name", sorted(BAD_RULES_ELSEWHERE))
def test_what_only_tree_ensemble_with_rules_may_hold_is_refused_elsewhere_by_the_java_reader(name):
    package, edit, error, _ = BAD_RULES_ELSEWHERE[name]
    refused_in_java(edited(edit, package), error)


def test_bad_set_input_names_the_message_path():
    data = edited(replaced(tree_sets(1), "values", [4.0, -3.0, 1.0]), WITH_RULES["sets-regression"])
    assert (
        refused(data, P.ProtobufOrderError, "").path
        == "pkg.pb#Package.model.tree_ensemble_with_rules.tree_sets[1].values[1]"
    )
