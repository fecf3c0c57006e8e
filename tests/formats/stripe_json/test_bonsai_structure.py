"""bonsai's tree structure and columns: each malformed section refused with one named error."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from crossform import errors
from crossform.exporters.stripe_json import bonsai
from crossform.floats import float32_threshold
from helpers.bonsai import (
    BIG_PARTS,
    PARTS,
    SMALL,
    STRUCTURE,
    WHERE,
    assemble,
    assert_same_tree,
    dictionary,
    random_tree,
    raw,
    refused,
    regressor,
    rewrite,
    sections,
    structure,
)

# ---------------------------------------------------------------- structure


@pytest.mark.parametrize("offsets", [(0, 0, 10), (0, 5, 9), (1, 5, 10), (0, 11, 10), (0, 5, 11), (0, 10, 10)])
def test_tree_offsets_must_rise_to_the_node_count(offsets):
    refused(
        assemble(PARTS, offsets=struct.pack(">3I", *offsets)),
        errors.BonsaiStructureError,
        "tree offsets must rise from 0 to the node count 10",
        f"found {list(offsets[:3])}",
    )


@pytest.mark.parametrize(
    "bits, message",
    [
        ([1, 0, 0, 0, 0] + STRUCTURE[5:], "tree 0: 1 split needs 3 nodes, the tree has 5"),
        (STRUCTURE[:5] + [1, 1, 1, 0, 0], "tree 1: 3 splits need 7 nodes, the tree has 5"),
        (STRUCTURE[:5] + [0, 0, 0, 0, 0], "tree 1: 0 splits need 1 nodes, the tree has 5"),
    ],
)
def test_split_count_must_match_the_tree_size(bits, message):
    refused(assemble(PARTS, **structure(bits)), errors.BonsaiStructureError, message)


@pytest.mark.parametrize(
    "bits, node",
    [
        ([1, 0, 0, 1, 0] + STRUCTURE[5:], "tree 0: node 3"),  # node 3 would be its own first child
        ([0, 1, 1, 0, 0] + STRUCTURE[5:], "tree 0: node 1"),  # a leaf root with splits below it
        (STRUCTURE[:5] + [1, 0, 0, 0, 1], "tree 1: node 4"),
    ],
)
def test_unreachable_nodes(bits, node):
    refused(assemble(PARTS, **structure(bits)), errors.BonsaiStructureError, node, "unreachable")


def test_wrong_rank_directory():
    refused(assemble(PARTS, ranks=struct.pack(">I", 1)), errors.BonsaiStructureError, "rank directory")
    first, second = struct.unpack(">2I", BIG_PARTS["ranks"])
    for ranks in ((first, second + 1), (first, second - 1), (first + 1, second)):
        refused(
            assemble(BIG_PARTS, ranks=struct.pack(">2I", *ranks)),
            errors.BonsaiStructureError,
            "rank directory",
            n_features=2,
        )


@pytest.mark.parametrize(
    "section, bit, what, padding",
    [
        ("structure", 10, "the structure bitset", 54),
        ("structure", 63, "the structure bitset", 54),
        ("missing", 4, "the missing-direction bitset", 60),
        ("missing", 63, "the missing-direction bitset", 60),
    ],
)
def test_padding_bits_must_be_zero(section, bit, what, padding):
    word = struct.unpack(">Q", PARTS[section])[0] | (1 << bit)
    refused(
        assemble(PARTS, **{section: struct.pack(">Q", word)}),
        errors.BonsaiEncodingError,
        what,
        f"the {padding} padding bits",
    )


# ---------------------------------------------------------------- columns


@pytest.mark.parametrize(
    "section, tag, what",
    [
        ("feature", 3, "split feature"),
        ("feature", 255, "split feature"),
        ("feature", bonsai.FLOAT32_REWRITE, "split feature"),  # float32-rewrite is for float64 thresholds only
        ("threshold", 3, "split threshold"),
        ("leaf", 7, "leaf"),
        ("leaf", bonsai.FLOAT32_REWRITE, "leaf"),  # two outputs per leaf: never a float32-rewrite column
    ],
)
def test_unknown_column_encoding(section, tag, what):
    column = bytes([tag]) + PARTS[section][1:]
    refused(
        assemble(PARTS, **{section: column}),
        errors.BonsaiEncodingError,
        f"unknown encoding {tag} for the {what} column",
        "expected 0 raw, 1 dictionary, 2 float32-rewrite",
    )


@pytest.mark.parametrize("width", [0, 2, 3, 4, 8])
def test_dictionary_index_width_must_fit_the_dictionary(width):
    column = dictionary([0, 1], [0, 1, 0, 1], ">i4", width=width)
    refused(
        assemble(PARTS, feature=column),
        errors.BonsaiEncodingError,
        "split feature dictionary of 2 entries needs indexes of 1 bytes",
        f"found width {width}",
    )


def test_a_257_entry_dictionary_needs_two_byte_indexes():
    n_splits = 300
    keys = np.arange(257) % 2
    for width, error in ((1, errors.BonsaiEncodingError), (2, None)):
        column = dictionary(keys, np.arange(n_splits) % 257, ">i4", width=width)
        data = assemble(BIG_PARTS, feature=column)
        if error is None:
            trees = bonsai.loads(data, WHERE, 2)
            assert (
                np.concatenate([t.feature[t.feature >= 0] for t in trees]).tolist()
                == (np.arange(n_splits) % 257 % 2).tolist()
            )
        else:
            refused(data, error, "of 257 entries needs indexes of 2 bytes", "found width 1")


@pytest.mark.parametrize("size", [0, 5, 2**32 - 1])
def test_dictionary_size_must_be_1_to_n(size):
    column = dictionary([0, 1], [0, 1, 0, 1], ">i4", size=size)
    refused(assemble(PARTS, feature=column), errors.BonsaiEncodingError, "must hold 1 to 4 entries", f"found {size}")


def test_leaf_dictionary_larger_than_the_leaves():
    keys = np.arange(14, dtype=np.float64).reshape(7, 2)
    refused(
        assemble(PARTS, leaf=dictionary(keys, [0, 1, 2, 3, 4, 5], ">f8")),
        errors.BonsaiEncodingError,
        "leaf dictionary must hold 1 to 6 entries",
        "found 7",
    )


@pytest.mark.parametrize(
    "section, column, message",
    [
        (
            "feature",
            dictionary([0, 1], [0, 1, 2, 1], ">i4"),
            "split feature 2: dictionary index 2 is beyond the dictionary's 2 entries",
        ),
        ("threshold", dictionary([0.5, 2.0], [0, 1, 0, 255], ">f8"), "split threshold 3: dictionary index 255"),
        (
            "leaf",
            dictionary([[0.0, 1.0]], [0, 0, 0, 0, 1, 0], ">f8"),
            "leaf 4: dictionary index 1 is beyond the dictionary's 1 entries",
        ),
    ],
)
def test_dictionary_index_beyond_the_dictionary(section, column, message):
    refused(assemble(PARTS, **{section: column}), errors.BonsaiIndexError, message)


@pytest.mark.parametrize(
    "column, found",
    [
        (raw([0, 1, 2, 1], ">i4"), "split 2: feature 2 is not one of the model's 2 features"),
        (raw([0, -1, 0, 1], ">i4"), "split 1: feature -1"),
        (raw([0, 1, 0, -(2**31)], ">i4"), f"split 3: feature {-(2**31)}"),
        (dictionary([0, 1, 9], [0, 2, 1, 1], ">i4"), "split 1: feature 9"),
    ],
)
def test_feature_index_beyond_the_features(column, found):
    refused(assemble(PARTS, feature=column), errors.BonsaiIndexError, found)


def test_feature_index_beyond_the_callers_feature_count():
    refused(SMALL, errors.BonsaiIndexError, "split 1: feature 1 is not one of the model's 1 features", n_features=1)
    refused(SMALL, errors.BonsaiIndexError, "model's 0 features", n_features=0)


def test_unused_dictionary_entries_are_not_checked():
    # an entry no index points at is never a feature of the model
    data = assemble(PARTS, feature=dictionary([0, 1, 99], [0, 1, 0, 1], ">i4"))
    for a, b in zip(bonsai.loads(data, WHERE, 2), bonsai.loads(SMALL, WHERE, 2), strict=True):
        assert_same_tree(a, b)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_threshold(bad):
    refused(
        assemble(PARTS, threshold=raw([0.5, bad, 1.5, 2.0], ">f8")),
        errors.BonsaiEncodingError,
        "threshold 1: expected finite numbers",
        f"found {bad}",
    )
    refused(
        assemble(PARTS, threshold=dictionary([0.5, bad], [0, 0, 0, 1], ">f8")),
        errors.BonsaiEncodingError,
        "threshold 3: expected finite numbers",
        f"found {bad}",
    )


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_leaf_value(bad):
    values = np.full((6, 2), 0.5)
    values[4, 1] = bad
    refused(
        assemble(PARTS, leaf=raw(values, ">f8")),
        errors.BonsaiEncodingError,
        "leaf value 4: expected finite numbers",
        "found [",
        str(bad),
    )
    refused(
        assemble(PARTS, leaf=dictionary([[0.5, 0.5], [bad, 0.0]], [0, 0, 1, 0, 0, 0], ">f8")),
        errors.BonsaiEncodingError,
        "leaf value 2",
        "expected finite numbers",
    )


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_float32_rewrite_column_must_be_finite(bad):
    refused(
        assemble(PARTS, threshold=rewrite([0.5, 2.0, bad, 1.5])),
        errors.BonsaiEncodingError,
        "split threshold 2: expected a finite float32",
        f"found {bad}",
    )


def test_float32_rewrite_column_decodes_to_the_rewritten_thresholds():
    f32 = np.array([0.5, 2.0, np.finfo(np.float32).max, -np.finfo(np.float32).max], dtype=np.float32)
    trees = bonsai.loads(assemble(PARTS, threshold=rewrite(f32)), WHERE, 2)
    got = np.concatenate([t.threshold[t.feature >= 0] for t in trees])
    assert got.view(np.uint64).tolist() == float32_threshold(f32.astype(np.float64)).view(np.uint64).tolist()


def test_leaf_column_is_never_a_float32_rewrite():
    model = regressor([random_tree(np.random.default_rng(6), 2)])
    parts = sections(bonsai.dumps(model))
    # the writer never uses it there, and it would turn leaf values into threshold rewrites
    refused(
        assemble(parts, leaf=rewrite([0.5, 1.0, 1.5])),
        errors.BonsaiEncodingError,
        "unknown encoding 2 for the leaf column",
        n_features=4,
    )


_AMPLIFY = """
import resource, struct, zlib
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # the test must never be able to take the machine
from crossform import errors
from crossform.exporters.stripe_json import bonsai
s, outputs = 1 << 16, bonsai.MAX_OUTPUTS
n = 2 * s + 1
def bitset(ones, count):  # the first ``ones`` of ``count`` bits set
    words = [0] * ((count + 63) // 64)
    for i in range(ones):
        words[i // 64] |= 1 << (i % 64)
    return struct.pack(f">{len(words)}Q", *words), words
def one_entry_dictionary(key, count):
    return bytes([1]) + struct.pack(">I", 1) + key + bytes([1]) + bytes(count)
structure, words = bitset(s, n)
ranks = [sum(bin(w).count("1") for w in words[: 8 * b]) for b in range((len(words) + 7) // 8)]
body = b"".join([
    struct.pack(">8sHHIIIQ", bonsai.MAGIC, 1, 0, 0, 1, outputs, n), struct.pack(">2I", 0, n), structure,
    struct.pack(f">{len(ranks)}I", *ranks), one_entry_dictionary(struct.pack(">i", 0), s),
    one_entry_dictionary(struct.pack(">d", 0.5), s), bitset(0, s)[0],
    one_entry_dictionary(bytes(8 * outputs), s + 1),
])
data = body + struct.pack(">I", zlib.crc32(body))
try:
    bonsai.loads(data, "x.bonsai", 1)
except errors.PackageError as e:
    print("refused", len(data), type(e).__name__)
except BaseException as e:
    print("crashed", len(data), type(e).__name__, e)
else:
    print("loaded", len(data))
"""


def test_a_leaf_dictionary_cannot_demand_a_huge_allocation():
    # 750 kB that decode to 65537 leaves x 65536 outputs (32 GiB) with a one-entry dictionary; in a
    # subprocess under an address-space limit, so that a regression fails the test and spares the machine
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_AMPLIFY)], capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith("refused 746583 LimitExceededError"), done.stdout + done.stderr
