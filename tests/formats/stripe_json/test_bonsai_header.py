"""bonsai's header, checksum, truncation and trailing bytes: each malformed file refused with one named error."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from crossform import errors
from crossform.exporters import _limits
from crossform.exporters._versions import FormatVersionWarning
from crossform.exporters.stripe_json import bonsai
from helpers.bonsai import (
    BIG_PARTS,
    HEADER,
    ORDER,
    PARTS,
    SMALL,
    WHERE,
    assemble,
    assert_same_tree,
    dictionary,
    header,
    refused,
    with_crc,
)

# ---------------------------------------------------------------- header


def test_empty_and_tiny_files_are_truncated():
    for data in (b"", SMALL[:8], SMALL[:35]):
        refused(data, errors.BonsaiTruncatedError, "expected at least 36 bytes", f"found {len(data)}")


@pytest.mark.parametrize("magic", [b"\x89BONSAI\r", b"\x89PNG\r\n\x1a\n", b'{"modelT'])
def test_bad_magic(magic):
    refused(
        assemble(PARTS, header=header(PARTS, magic=magic)),
        errors.BonsaiMagicError,
        "expected the bonsai magic",
        f"found {magic!r}",
    )


@pytest.mark.parametrize("major", [0, 2, 65535])
def test_other_major_version(major):
    refused(
        assemble(PARTS, header=header(PARTS, major=major)),
        errors.FormatVersionError,
        f"written in bonsai {major}.0",
        "reads bonsai 1.x",
    )


def test_newer_minor_version_warns_and_loads():
    with pytest.warns(FormatVersionWarning, match=r"trees\.bonsai: written in bonsai 1\.7, newer than 1\.1"):
        trees = bonsai.loads(assemble(PARTS, header=header(PARTS, minor=7)), WHERE, 2)
    for a, b in zip(trees, bonsai.loads(SMALL, WHERE, 2), strict=True):
        assert_same_tree(a, b)


@pytest.mark.parametrize("flags", [1, 0x80000000])
def test_flags_must_be_zero(flags):
    refused(
        assemble(PARTS, header=header(PARTS, flags=flags)),
        errors.BonsaiEncodingError,
        "expected flags 0",
        f"found {flags}",
    )


@pytest.mark.parametrize(
    "field, value, limit",
    [
        ("trees", 0, _limits.MAX_TREES),
        ("trees", _limits.MAX_TREES + 1, _limits.MAX_TREES),
        ("trees", 2**32 - 1, _limits.MAX_TREES),
        ("outputs", 0, bonsai.MAX_OUTPUTS),
        ("outputs", bonsai.MAX_OUTPUTS + 1, bonsai.MAX_OUTPUTS),
        ("nodes", 0, _limits.MAX_NODES),
        ("nodes", _limits.MAX_NODES + 1, _limits.MAX_NODES),
        ("nodes", 2**64 - 1, _limits.MAX_NODES),
    ],
)
def test_counts_beyond_the_limits(field, value, limit):
    refused(
        assemble(PARTS, header=header(PARTS, **{field: value})),
        errors.LimitExceededError,
        f"expected 1 to {limit}",
        f"found {value}",
    )


def test_counts_at_the_limits_allocate_nothing_before_the_bytes_are_there():
    data = assemble(PARTS, header=header(PARTS, trees=_limits.MAX_TREES, outputs=1, nodes=bonsai.MAX_VALUES))
    refused(data, errors.BonsaiTruncatedError, f"expected {4 * (_limits.MAX_TREES + 1)} bytes of the tree offsets")
    data = assemble(
        PARTS,
        header=header(PARTS, trees=1, outputs=bonsai.MAX_OUTPUTS, nodes=bonsai.MAX_VALUES // bonsai.MAX_OUTPUTS),
        offsets=struct.pack(">2I", 0, bonsai.MAX_VALUES // bonsai.MAX_OUTPUTS),
    )
    refused(data, errors.BonsaiTruncatedError, "the structure bitset")


@pytest.mark.parametrize(
    "nodes, outputs",
    [
        (_limits.MAX_NODES, bonsai.MAX_OUTPUTS),
        (bonsai.MAX_VALUES + 1, 1),
        (bonsai.MAX_VALUES // 2 + 1, 2),
    ],
)
def test_node_values_beyond_the_limit(nodes, outputs):
    refused(
        assemble(PARTS, header=header(PARTS, nodes=nodes, outputs=outputs)),
        errors.LimitExceededError,
        f"expected at most {bonsai.MAX_VALUES} node values",
        f"found {nodes} x {outputs}",
    )


def test_node_values_beyond_what_the_file_size_allows():
    """Under the absolute limit, a dictionary could still let a small file stand for
    millions of leaf values: the reader allows VALUES_BASE plus VALUES_PER_BYTE per byte."""
    data = assemble(BIG_PARTS, header=header(BIG_PARTS, outputs=bonsai.MAX_OUTPUTS))
    nodes = 750
    assert nodes * bonsai.MAX_OUTPUTS <= bonsai.MAX_VALUES
    assert nodes * bonsai.MAX_OUTPUTS > bonsai.VALUES_BASE + bonsai.VALUES_PER_BYTE * len(data)
    refused(
        data,
        errors.LimitExceededError,
        f"node values (nodes x outputs) for a file of {len(data)} bytes",
        f"found {nodes} x {bonsai.MAX_OUTPUTS}",
    )


def test_fewer_nodes_than_trees():
    refused(
        assemble(PARTS, header=header(PARTS, trees=3, nodes=2)),
        errors.BonsaiStructureError,
        "3 trees need at least 3 nodes, found 2",
    )


# ---------------------------------------------------------------- checksum, truncation, trailing bytes


@pytest.mark.parametrize("at", [40, len(SMALL) // 2, len(SMALL) - 5, len(SMALL) - 1])
def test_checksum_mismatch(at):
    data = bytearray(SMALL)
    data[at] ^= 0x10
    stored = struct.unpack(">I", bytes(data[-4:]))[0]
    refused(
        bytes(data), errors.BonsaiChecksumError, f"{zlib.crc32(bytes(data[:-4])):08x}", f"the file records {stored:08x}"
    )


@pytest.mark.parametrize("section", ORDER[1:])
@pytest.mark.parametrize("cut", ["before", "inside"])
def test_truncated_at_each_section(section, cut):
    what = {
        "offsets": "the tree offsets",
        "structure": "the structure bitset",
        "ranks": "the rank directory",
        "feature": "split feature",
        "threshold": "split threshold",
        "missing": "the missing-direction bitset",
        "leaf": "leaf",
    }[section]
    before = b"".join(PARTS[name] for name in ORDER[: ORDER.index(section)])
    kept = before + (PARTS[section][: len(PARTS[section]) // 2] if cut == "inside" else b"")
    refused(with_crc(kept), errors.BonsaiTruncatedError, what, "expected", "found")


def test_plain_truncation_is_too_short_or_a_checksum_error():
    for length in range(len(SMALL)):
        expected = errors.BonsaiTruncatedError if length < HEADER.size + 4 else errors.BonsaiChecksumError
        refused(SMALL[:length], expected)


def test_truncated_inside_a_dictionary():
    keys = np.array([[0.25, 0.75], [0.5, 0.5]], dtype=">f8")
    full = dictionary(keys, [0, 1, 0, 1, 0, 1], ">f8")
    for keep in (1, 3, 5, 5 + 8, 5 + 32, len(full) - 1):  # tag, size, keys, width, indexes
        refused(assemble(PARTS, leaf=full[:keep]), errors.BonsaiTruncatedError, "leaf")


@pytest.mark.parametrize("extra", [b"\x00", bytes(16), b"\x01\x00\x00\x00"])
def test_trailing_bytes_before_the_checksum(extra):
    body = b"".join(PARTS[name] for name in ORDER)
    refused(
        with_crc(body + extra),
        errors.BonsaiTrailingBytesError,
        f"expected the checksum at offset {len(body)}",
        f"found {len(extra)} more bytes",
    )


def test_bytes_after_the_checksum():
    refused(SMALL + b"\x00", errors.BonsaiChecksumError)
