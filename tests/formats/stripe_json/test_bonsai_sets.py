"""bonsai 1.1: set splits and +inf thresholds, their sections, and the 1.0 reader's refusal."""

from __future__ import annotations

import struct
import warnings

import numpy as np
import pytest
from hypothesis import given

from crossform import errors, ir
from crossform.checks import leaf_positions
from crossform.evaluator import score
from crossform.exporters._versions import FormatVersionWarning
from crossform.exporters.stripe_json import bonsai
from helpers.bonsai import (
    FUZZ,
    HEADER,
    SET_ORDER,
    SMALL,
    WHERE,
    assemble,
    assert_round_trip,
    assert_same_tree,
    bits_of,
    bitset,
    dictionary,
    header,
    mutations,
    numeric_package,
    raw,
    refused,
    regressor,
    reloaded,
    rewrite,
    sections,
    with_crc,
)

# ---------------------------------------------------------------- set splits and +inf thresholds


def set_tree(values=(1.0, 3.0, 4.0), missing_left=True, inf=True) -> ir.Tree:
    """x0 in values ? (away from the missing side) : (missing side); then x1 <= +inf (or 2.0)."""
    return ir.Tree(
        feature=[0, -1, 1, -1, -1],
        threshold=[0.0, 0.0, np.inf if inf else 2.0, 0.0, 0.0],
        left=[1, -1, 3, -1, -1],
        right=[2, -1, 4, -1, -1],
        missing_left=[missing_left, False, True, False, False],
        value=[[0.0], [1.5], [0.0], [-0.5], [2.0]],
        sets=(tuple(values), None, None, None, None),
    )


def set_forest() -> ir.TreeEnsemble:
    inf_leaf = ir.Tree([1, -1, -1], [np.inf, 0.0, 0.0], [1, -1, -1], [2, -1, -1], [False] * 3, [[0.0], [1.0], [-1.0]])
    return regressor(
        [set_tree(), small_tree_1d(), set_tree((-2.5, 0.0, 7.0), missing_left=False, inf=False), inf_leaf],
        n_features=2,
        aggregation="sum",
    )


def small_tree_1d() -> ir.Tree:
    return ir.Tree(
        [0, -1, 1, -1, -1],
        [0.5, 0.0, 2.0, 0.0, 0.0],
        [1, -1, 3, -1, -1],
        [2, -1, 4, -1, -1],
        [True, False, False, False, False],
        [[0.0], [0.25], [0.0], [0.9], [0.5]],
    )


SETS_FILE = bonsai.dumps(set_forest())
SETS_PARTS = sections(SETS_FILE)  # 4 trees, 7 splits, set splits 0 and 4 (level order), 6 set values


def set_rows() -> dict:
    values = [1.0, 3.0, 4.0, -2.5, 0.0, -0.0, 7.0, 2.0, 5.0, np.nan, np.inf, -np.inf, 1e300, 0.5]
    x0 = np.repeat(values, len(values))
    x1 = np.tile(values, len(values))
    return {"x0": x0, "x1": x1}


def test_files_without_sets_or_infinities_record_1_0():
    assert HEADER.unpack_from(SMALL)[2:4] == (0, 0)  # minor 0, flags 0: byte for byte what 1.0 wrote
    inf_only = bonsai.dumps(regressor([set_forest().trees[3]], n_features=2))
    assert HEADER.unpack_from(inf_only)[2:4] == (1, 0)
    assert HEADER.unpack_from(SETS_FILE)[2:4] == (1, bonsai.SETS)


def test_set_splits_and_infinite_thresholds_round_trip():
    model = set_forest()
    package = numeric_package(ir.TreeEnsemble(model.features, model.trees, "sum", infinite="compare"))
    loaded = assert_round_trip(package)
    rows = set_rows()
    a, b = score(package, rows), score(loaded, rows)
    np.testing.assert_array_equal(a.values, b.values)
    # node numbers change (level order), the leaves' preorder positions do not
    np.testing.assert_array_equal(leaf_positions(package.model, a.leaves), leaf_positions(loaded.model, b.leaves))
    assert a.errors == b.errors


def test_set_sections_hold_the_sets_in_level_order():
    assert bits_of(SETS_PARTS["sets"], 7) == [1, 0, 0, 0, 1, 0, 0]
    assert struct.unpack(">3I", SETS_PARTS["set offsets"]) == (0, 3, 6)
    trees = bonsai.loads(SETS_FILE, WHERE, 2)
    assert trees[0].sets[0] == (1.0, 3.0, 4.0) and trees[2].sets[0] == (-2.5, 0.0, 7.0)
    assert trees[1].sets == () and trees[3].sets == ()
    assert trees[0].threshold[2] == np.inf


def test_a_1_0_reader_refuses_1_1_files_by_name(monkeypatch):
    """What crossform 0.2.0-0.4.0 do with them: warn about the newer minor, then refuse (checked against 0.4.0)."""
    inf_only = bonsai.dumps(regressor([set_forest().trees[3]], n_features=2))
    monkeypatch.setattr(bonsai, "VERSION", "1.0")
    with pytest.warns(FormatVersionWarning, match="written in bonsai 1.1, newer than 1.0"):
        refused(SETS_FILE, errors.BonsaiEncodingError, "expected flags 0 (bonsai 1.0 defines none)", "found 1")
    with pytest.warns(FormatVersionWarning):
        refused(inf_only, errors.BonsaiEncodingError, "threshold 0: expected finite numbers", "found inf")


def test_a_newer_minor_reads_sets_by_1_1_rules():
    with pytest.warns(FormatVersionWarning, match="1.9, newer than 1.1"):
        trees = bonsai.loads(assemble(SETS_PARTS, header=header(SETS_PARTS, minor=9)), WHERE, 2)
    assert trees[0].sets[0] == (1.0, 3.0, 4.0)


def set_values(values) -> bytes:
    return raw(values, ">f8")


SET_BREAKS = {
    "flag in a 1.0 file": (
        dict(header=header(SETS_PARTS, minor=0)),
        errors.BonsaiEncodingError,
        ("expected flags 0 (bonsai 1.0 defines none)", "found 1"),
    ),
    "unknown flag": (
        dict(header=header(SETS_PARTS, flags=3)),
        errors.BonsaiEncodingError,
        ("expected flags 0 or 1 (set splits) (bonsai 1.1 defines 1 (set splits))", "found 3"),
    ),
    "flag without sets": (
        dict(sets=bitset([0] * 7), **{"set offsets": struct.pack(">I", 0), "set values": raw([], ">f8")}),
        errors.BonsaiEncodingError,
        ("flag 1 (set splits) is set", "marks no split"),
    ),
    "offsets not from 0": (
        {"set offsets": struct.pack(">3I", 1, 3, 6)},
        errors.BonsaiStructureError,
        ("set offsets must rise from 0",),
    ),
    "offsets falling": (
        {"set offsets": struct.pack(">3I", 0, 4, 3)},
        errors.BonsaiStructureError,
        ("set offsets must rise from 0",),
    ),
    "set too large": (
        {"set offsets": struct.pack(">3I", 0, 3, 3 + bonsai.MAX_SET_SIZE + 1)},
        errors.LimitExceededError,
        ("set 1: expected at most 65536 values", "found 65537"),
    ),
    "set value not finite": (
        {"set values": set_values([1.0, 3.0, np.inf, -2.5, 0.0, 7.0])},
        errors.BonsaiEncodingError,
        ("set value 2: expected a finite number", "found inf"),
    ),
    "set value NaN": (
        {"set values": set_values([1.0, 3.0, 4.0, -2.5, np.nan, 7.0])},
        errors.BonsaiEncodingError,
        ("set value 4: expected a finite number", "found nan"),
    ),
    "set not sorted": (
        {"set values": set_values([1.0, 4.0, 3.0, -2.5, 0.0, 7.0])},
        errors.BonsaiEncodingError,
        ("set 0: expected strictly rising values", "found 4.0 then 3.0"),
    ),
    "set value repeated": (
        {"set values": set_values([1.0, 3.0, 4.0, -2.5, 7.0, 7.0])},
        errors.BonsaiEncodingError,
        ("set 1: expected strictly rising values", "found 7.0 then 7.0"),
    ),
    "signed zeros in one set": (
        {"set values": set_values([1.0, 3.0, 4.0, -0.0, 0.0, 7.0])},
        errors.BonsaiEncodingError,
        ("set 1: expected strictly rising values", "found -0.0 then 0.0"),
    ),
    "set index beyond its dictionary": (
        {"set values": dictionary([1.0, 2.0], [0, 1, 2, 0, 1, 0], ">f8")},
        errors.BonsaiIndexError,
        ("set value 2: dictionary index 2",),
    ),
    "set values as float32 rewrites": (
        {"set values": rewrite([1.0] * 6)},
        errors.BonsaiEncodingError,
        ("unknown encoding 2 for the set value column",),
    ),
    "set split with a threshold": (
        dict(threshold=raw([0.5, 0.5, np.inf, 2.0, 0.0, 2.0, np.inf], ">f8")),
        errors.BonsaiEncodingError,
        ("split 0: a set split's threshold must be 0.0", "found 0.5"),
    ),
    "set bitset padding": (
        dict(sets=struct.pack(">Q", 0b10001 | 1 << 9)),
        errors.BonsaiEncodingError,
        ("the set bitset", "padding bits"),
    ),
    "-inf threshold": (
        dict(threshold=raw([0.0, 0.5, -np.inf, 2.0, 0.0, 2.0, np.inf], ">f8")),
        errors.BonsaiEncodingError,
        ("threshold 2: expected a number or +inf", "found -inf"),
    ),
    "NaN threshold": (
        dict(threshold=raw([0.0, 0.5, np.nan, 2.0, 0.0, 2.0, np.inf], ">f8")),
        errors.BonsaiEncodingError,
        ("threshold 2: expected a number or +inf", "found nan"),
    ),
}


@pytest.mark.parametrize("case", SET_BREAKS)
def test_set_sections_refuse_bad_input_by_name(case):
    changes, error, fragments = SET_BREAKS[case]
    refused(assemble(SETS_PARTS, **changes), error, *fragments)


@pytest.mark.parametrize("section", ["sets", "set offsets", "set values"])
def test_truncated_in_the_set_sections(section):
    body = b"".join(SETS_PARTS[name] for name in SET_ORDER[: SET_ORDER.index(section) + 1])
    refused(with_crc(body[:-1]), errors.BonsaiTruncatedError, "expected")


def test_the_set_section_parser_reads_what_the_writer_wrote():
    assert assemble(SETS_PARTS) == SETS_FILE
    assert SETS_PARTS["threshold"][0] != bonsai.FLOAT32_REWRITE  # +inf and a set's 0.0 are no float32 rewrites


@FUZZ
@given(mutations(SETS_FILE[:-4]).map(with_crc))
def test_mutations_of_a_file_with_sets_load_or_are_refused(mutated):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FormatVersionWarning)
        try:
            trees = bonsai.loads(mutated, WHERE, 2)
        except errors.PackageError as e:
            assert e.path == WHERE
            return
    model = regressor(list(trees), n_features=2, aggregation="sum") if trees[0].n_outputs == 1 else None
    if model is not None:
        for a, b in zip(trees, reloaded(model).trees, strict=True):
            assert_same_tree(a, b)
