"""bonsai: stripe-json's encoding of the trees of an ensemble as one compact, read-only binary
(docs/formats/bonsai.md).

The structure is a level-order bitset, one bit per node (1 = a split with two
children); the children of the k-th split of a tree sit at level-order
positions 2k+1 and 2k+2, so a reader navigates with a rank over the bitset
and needs no child pointers. Split labels (feature, threshold, missing
direction) and leaf labels (the leaf's output vector) are column vectors,
each stored raw or through a dictionary when that is smaller. Big-endian,
a CRC-32 at the end, nothing after it.

Writing and reading are vectorised with numpy: loops run over tree depth
and over trees, never over nodes. The reader trusts nothing: every count is
bounded before anything is allocated, every section is checked against the
bytes left, and each malformed input is one named error.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from collections.abc import Sequence

import numpy as np

from ... import ir
from ...errors import (
    BonsaiChecksumError,
    BonsaiEncodingError,
    BonsaiIndexError,
    BonsaiMagicError,
    BonsaiStructureError,
    BonsaiTrailingBytesError,
    BonsaiTruncatedError,
    FormatVersionError,
    LimitExceededError,
    shown,
)
from ...floats import float32_threshold
from .. import _limits
from .._versions import FormatVersionWarning

MAGIC = b"\x89BONSAI\n"
# 1.1: set splits (flag SETS and its sections) and +inf thresholds. A file
# using neither records 1.0, byte for byte as before, so 1.0 readers read it;
# they refuse a 1.1 file (non-zero flags, or a threshold that is not finite).
VERSION = "1.1"
SETS = 1  # flag: the file has set splits, and the sections that hold them
FLAGS = {SETS: (1, "1 (set splits)")}  # flag -> (the minor that defines it, its name)
_HEADER = struct.Struct(">8sHHIIIQ")  # magic, major, minor, flags, trees, outputs, nodes

# bonsai's own limits beside the shared ones (_limits.MAX_TREES, _limits.MAX_NODES)
MAX_OUTPUTS = 1 << 16
MAX_VALUES = 1 << 28  # nodes x outputs: 2 GiB of float64 in memory
MAX_SET_SIZE = ir.MAX_SET_SIZE
# A dictionary lets a few bytes stand for many leaf values; a file may ask for
# this many node values plus this many per byte of its own size, no more.
VALUES_BASE, VALUES_PER_BYTE = 1 << 22, 64

RAW, DICTIONARY, FLOAT32_REWRITE = 0, 1, 2
_TAG_NAMES = {RAW: "raw", DICTIONARY: "dictionary", FLOAT32_REWRITE: "float32-rewrite"}
_INDEX_TYPES = {1: np.dtype(">u1"), 2: np.dtype(">u2"), 4: np.dtype(">u4")}
_BLOCK_WORDS = 8  # the rank directory holds one count per 512 bits


# ---------------------------------------------------------------- writing


def _level_order(trees: Sequence[ir.Tree]) -> tuple:
    """Concatenated node arrays of all trees, and each tree's nodes in level order."""
    sizes = np.array([t.n_nodes for t in trees], dtype=np.int64)
    base = np.concatenate([[0], np.cumsum(sizes)])
    left = np.concatenate([np.where(t.left >= 0, t.left + b, -1) for t, b in zip(trees, base)])
    right = np.concatenate([np.where(t.right >= 0, t.right + b, -1) for t, b in zip(trees, base)])
    tree_of = np.repeat(np.arange(len(trees)), sizes)
    level = np.full(len(left), -1, dtype=np.int64)
    seq = np.zeros(len(left), dtype=np.int64)
    current, depth = base[:-1].copy(), 0
    while current.size:
        level[current] = depth
        seq[current] = np.arange(current.size)
        split = current[left[current] >= 0]
        # children in parent order, left before right: the level order of every tree at once
        current = np.stack([left[split], right[split]], axis=1).ravel()
        depth += 1
    order = np.lexsort((seq, level, tree_of))
    return order, base


def _dictionary_width(k: int) -> int:
    return 1 if k <= 1 << 8 else 2 if k <= 1 << 16 else 4


def _column(values: np.ndarray, element: np.dtype, rewrite: bool = False) -> bytes:
    """The smallest exact encoding of ``values`` (n elements, each a row of ``element``).

    Dictionary keys are compared as bytes, so -0.0 and 0.0 stay distinct.
    """
    n = len(values)
    encoded = np.ascontiguousarray(values.reshape(n, int(np.prod(values.shape[1:]))).astype(element))
    width = encoded.shape[1] * element.itemsize
    options = {RAW: n * width}
    if n:
        cells = encoded.view(np.dtype((np.void, width))).ravel()
        keys, index = np.unique(cells, return_inverse=True)
        k = len(keys)
        options[DICTIONARY] = 4 + k * width + 1 + n * _dictionary_width(k)
    if rewrite and n:
        exact = values.reshape(-1).astype(np.float64)
        f32 = _float32_below(exact)
        if np.array_equal(float32_threshold(f32.astype(np.float64)).view(np.uint64), exact.view(np.uint64)):
            options[FLOAT32_REWRITE] = n * 4
    tag = min(options, key=lambda t: (options[t], t))
    if tag == RAW:
        return bytes([RAW]) + encoded.tobytes()
    if tag == FLOAT32_REWRITE:
        return bytes([FLOAT32_REWRITE]) + f32.astype(">f4").tobytes()
    w = _dictionary_width(k)
    return (
        bytes([DICTIONARY])
        + struct.pack(">I", k)
        + keys.tobytes()
        + bytes([w])
        + index.reshape(-1).astype(_INDEX_TYPES[w]).tobytes()
    )


def _float32_below(t: np.ndarray) -> np.ndarray:
    """The largest float32 <= t (the float32 a rewritten threshold came from)."""
    with np.errstate(over="ignore", invalid="ignore"):
        f = t.astype(np.float32)
        f = np.where(f.astype(np.float64) > t, np.nextafter(f, np.float32(-np.inf)), f)
    top = np.finfo(np.float32).max
    return np.clip(f, -top, top).astype(np.float32)


def _bitset(bits: np.ndarray) -> np.ndarray:
    """Bits as uint64 words, bit j of word w holding element 64w + j."""
    words = (len(bits) + 63) // 64
    padded = np.zeros(words * 64, dtype=np.uint8)
    padded[: len(bits)] = bits
    # packbits with little bit order puts element 8i + j at bit j of byte i;
    # eight such bytes read little-endian form the word.
    return np.packbits(padded, bitorder="little").view("<u8").astype(np.uint64)


def _bits_before(words: np.ndarray) -> np.ndarray:
    """The 1 bits before each word of a bitset, and in all of it (the last entry)."""
    return np.concatenate([[0], np.cumsum(_popcount(words))])


def _rank_directory(words: np.ndarray, before: np.ndarray = None) -> np.ndarray:
    before = _bits_before(words) if before is None else before
    blocks = (len(words) + _BLOCK_WORDS - 1) // _BLOCK_WORDS
    return before[np.arange(blocks) * _BLOCK_WORDS].astype(np.uint32)


_BYTE_COUNTS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(axis=1).astype(np.uint8)


def _popcount(words: np.ndarray) -> np.ndarray:
    return _BYTE_COUNTS[words.astype("<u8").view(np.uint8)].reshape(-1, 8).sum(axis=1, dtype=np.int64)


def _set_sections(trees: Sequence[ir.Tree], order: np.ndarray, split: np.ndarray) -> list:
    """The set bitset over the splits, each set split's first value, and the values, in level order."""
    sets = [s for t in trees for s in (t.sets or (None,) * t.n_nodes)]
    at_split = [sets[i] for i in order[split]]
    is_set = np.array([s is not None for s in at_split], dtype=bool)
    chosen = [s for s in at_split if s is not None]
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in chosen])]).astype(">u4")
    values = np.array([v for s in chosen for v in s], dtype=np.float64)
    return [_bitset(is_set).astype(">u8").tobytes(), offsets.tobytes(), _column(values, np.dtype(">f8"))]


def dumps(model: ir.TreeEnsemble) -> bytes:
    trees = model.trees
    if len(trees) > _limits.MAX_TREES:
        raise LimitExceededError("<bonsai>", f"at most {_limits.MAX_TREES} trees, found {len(trees)}")
    order, base = _level_order(trees)
    feature = np.concatenate([t.feature for t in trees])[order]
    threshold = np.concatenate([t.threshold for t in trees])[order]
    missing = np.concatenate([t.missing_left for t in trees])[order]
    value = np.concatenate([t.value for t in trees])[order]
    split = feature >= 0
    n_nodes = len(order)
    if n_nodes > _limits.MAX_NODES:
        raise LimitExceededError("<bonsai>", f"at most {_limits.MAX_NODES} nodes, found {n_nodes}")
    flags = SETS if model.has_sets else 0
    major = int(VERSION.split(".")[0])
    minor = 1 if flags or np.isinf(threshold).any() else 0
    structure = _bitset(split)
    parts = [
        _HEADER.pack(MAGIC, major, minor, flags, len(trees), model.n_outputs, n_nodes),
        base.astype(">u4").tobytes(),
        structure.astype(">u8").tobytes(),
        _rank_directory(structure).astype(">u4").tobytes(),
        _column(feature[split], np.dtype(">i4")),
        _column(threshold[split], np.dtype(">f8"), rewrite=True),
        _bitset(missing[split]).astype(">u8").tobytes(),
    ]
    if flags & SETS:
        parts += _set_sections(trees, order, split)
    parts.append(_column(value[~split], np.dtype(">f8")))
    body = b"".join(parts)
    return body + struct.pack(">I", zlib.crc32(body))


# ---------------------------------------------------------------- reading


class _Reader:
    """A cursor over untrusted bytes: every read is checked against what is left."""

    def __init__(self, data: bytes, where: str):
        self.data = data
        self.where = where
        self.at = 0

    def take(self, count: int, what: str) -> bytes:
        if count < 0 or count > len(self.data) - self.at:
            raise BonsaiTruncatedError(
                self.where, f"expected {count} bytes of {what} at offset {self.at}, found {len(self.data) - self.at}"
            )
        start, self.at = self.at, self.at + count
        return self.data[start : self.at]

    def array(self, dtype: np.dtype, count: int, what: str) -> np.ndarray:
        return np.frombuffer(self.take(count * dtype.itemsize, what), dtype=dtype)

    def byte(self, what: str) -> int:
        return self.take(1, what)[0]

    def u32(self, what: str) -> int:
        return struct.unpack(">I", self.take(4, what))[0]


def _read_column(
    reader: _Reader, n: int, element: np.dtype, width: int, what: str, rewrite: bool = False
) -> np.ndarray:
    """n elements of ``width`` values of ``element``, shape (n, width); ``rewrite``:
    the float32-rewrite encoding is allowed (the threshold column only)."""
    tag = reader.byte(f"the {what} column's encoding")
    if tag == RAW:
        flat = reader.array(element, n * width, f"the {what} column")
    elif tag == DICTIONARY:
        k = reader.u32(f"the {what} dictionary size")
        if n == 0:
            raise BonsaiEncodingError(
                reader.where, f"the {what} column has no elements, so it must be raw; found a dictionary of {k} entries"
            )
        if not 1 <= k <= n:
            raise BonsaiEncodingError(
                reader.where, f"the {what} dictionary must hold 1 to {n} entries (one per {what} at most), found {k}"
            )
        keys = reader.array(element, k * width, f"the {what} dictionary").reshape(k, width)
        w = reader.byte(f"the {what} index width")
        if w != _dictionary_width(k):
            raise BonsaiEncodingError(
                reader.where,
                f"the {what} dictionary of {k} entries needs indexes of {_dictionary_width(k)} bytes, found width {w}",
            )
        index = reader.array(_INDEX_TYPES[w], n, f"the {what} indexes").astype(np.int64)
        if n and index.max() >= k:
            bad = int(np.argmax(index >= k))
            raise BonsaiIndexError(
                reader.where, f"{what} {bad}: dictionary index {int(index[bad])} is beyond the dictionary's {k} entries"
            )
        flat = keys[index]
    elif tag == FLOAT32_REWRITE and rewrite:
        with np.errstate(invalid="ignore"):  # a signalling NaN is refused just below, not warned about
            f32 = reader.array(np.dtype(">f4"), n, f"the {what} column").astype(np.float64)
        if not np.isfinite(f32).all():
            bad = int(np.argmax(~np.isfinite(f32)))
            raise BonsaiEncodingError(reader.where, f"{what} {bad}: expected a finite float32, found {f32[bad]}")
        flat = float32_threshold(f32)
    else:
        raise BonsaiEncodingError(
            reader.where,
            f"unknown encoding {tag} for the {what} column (expected "
            f"{', '.join(f'{t} {name}' for t, name in _TAG_NAMES.items())})",
        )
    return np.asarray(flat).reshape(n, width)


def _splits_before(words: np.ndarray, before: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """How many bits of the bitset ``words`` come before each of ``positions``, from the
    counts before each word (``before``): nothing is allocated per node."""
    whole, rest = positions // 64, (positions % 64).astype(np.uint64)
    partial = words[np.minimum(whole, len(words) - 1)] & ((np.uint64(1) << rest) - np.uint64(1))
    return before[whole] + _popcount(partial)


def _read_packed(reader: _Reader, n: int, what: str) -> np.ndarray:
    """A bitset of n elements as bytes in little bit order (element 8i + j at bit j of
    byte i), its padding bits checked; 1/8 byte per element, as in the file."""
    words = (n + 63) // 64
    packed = reader.array(np.dtype(">u8"), words, what).astype("<u8").view(np.uint8)
    tail = np.unpackbits(packed[len(packed) - 8 :], bitorder="little")[n - (words - 1) * 64 :] if words else packed
    if tail.any():
        raise BonsaiEncodingError(
            reader.where,
            f"{what}: the {words * 64 - n} padding bits after the last "
            f"element must be 0, found bit {n + int(np.argmax(tail))} set",
        )
    return packed


def _unpacked(packed: np.ndarray, n: int) -> np.ndarray:
    return np.unpackbits(packed, bitorder="little")[:n].view(bool)


def _read_bitset(reader: _Reader, n: int, what: str) -> np.ndarray:
    return _unpacked(_read_packed(reader, n, what), n)


def loads(data: bytes, where: str, n_features: int) -> tuple:
    """The trees of a bonsai file, each an ir.Tree with nodes in level order."""
    data = bytes(data)
    if len(data) < _HEADER.size + 4:
        raise BonsaiTruncatedError(
            where, f"expected at least {_HEADER.size + 4} bytes (header and checksum), found {len(data)}"
        )
    magic, major, minor, flags, n_trees, n_outputs, n_nodes = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise BonsaiMagicError(where, f"expected the bonsai magic {MAGIC!r}, found {shown(magic)}")
    ours_major, ours_minor = (int(p) for p in VERSION.split("."))
    if major != ours_major:
        raise FormatVersionError(
            where, f"written in bonsai {major}.{minor}; this crossform reads bonsai {ours_major}.x"
        )
    if minor > ours_minor:
        warnings.warn(
            f"{where}: written in bonsai {major}.{minor}, newer than {VERSION}", FormatVersionWarning, stacklevel=2
        )
    stored = struct.unpack(">I", data[-4:])[0]
    content = memoryview(data)[:-4]  # a view, not a second copy of the file
    if zlib.crc32(content) != stored:
        raise BonsaiChecksumError(
            where,
            f"the CRC-32 of the content is {zlib.crc32(content):08x}, the file "
            f"records {stored:08x}: the bytes changed after they were written",
        )
    # the rules of the file's minor, or of ours when it is newer (its additions are not ours to read)
    rules = min(minor, ours_minor)
    defined = [flag for flag, (since, _) in FLAGS.items() if rules >= since]
    if flags & ~sum(defined):
        allowed = " or ".join(["0"] + [FLAGS[f][1] for f in defined])
        what = ", ".join(FLAGS[f][1] for f in defined) or "none"
        raise BonsaiEncodingError(
            where, f"expected flags {allowed} (bonsai {major}.{rules} defines {what}), found {flags}"
        )
    for count, limit, what in (
        (n_trees, _limits.MAX_TREES, "trees"),
        (n_outputs, MAX_OUTPUTS, "outputs per leaf"),
        (n_nodes, _limits.MAX_NODES, "nodes"),
    ):
        if not 1 <= count <= limit:
            raise LimitExceededError(where, f"expected 1 to {limit} {what}, found {count}")
    if n_nodes * n_outputs > MAX_VALUES:
        # a one-entry dictionary could otherwise ask a small file for gigabytes of leaf values
        raise LimitExceededError(
            where, f"expected at most {MAX_VALUES} node values (nodes x outputs), found {n_nodes} x {n_outputs}"
        )
    if n_nodes < n_trees:
        raise BonsaiStructureError(where, f"{n_trees} trees need at least {n_trees} nodes, found {n_nodes}")
    reader = _Reader(content, where)
    reader.take(_HEADER.size, "the header")

    base = reader.array(np.dtype(">u4"), n_trees + 1, "the tree offsets").astype(np.int64)
    sizes = np.diff(base)
    if base[0] != 0 or base[-1] != n_nodes or (sizes <= 0).any():
        raise BonsaiStructureError(
            where,
            f"tree offsets must rise from 0 to the node count {n_nodes}, found "
            f"{base[:3].tolist()}...{base[-2:].tolist()}",
        )
    # the header's node count is only a claim: the structure stays packed, as in the file,
    # until the columns have proved that the file holds a byte per node or more
    structure = _read_packed(reader, n_nodes, "the structure bitset")
    ranks = reader.array(
        np.dtype(">u4"), ((n_nodes + 63) // 64 + _BLOCK_WORDS - 1) // _BLOCK_WORDS, "the rank directory"
    )
    words = structure.view("<u8")
    before = _bits_before(words)
    counted = _rank_directory(words, before)
    if not np.array_equal(ranks, counted):
        block = int(np.argmax(ranks != counted))
        raise BonsaiStructureError(
            where,
            f"the rank directory does not count the structure bitset's 1 bits: "
            f"block {block} expected {int(counted[block])}, found {int(ranks[block])}",
        )

    n_splits_tree = np.diff(_splits_before(words, before, base))
    if (sizes != 2 * n_splits_tree + 1).any():
        t = int(np.argmax(sizes != 2 * n_splits_tree + 1))
        splits = int(n_splits_tree[t])
        raise BonsaiStructureError(
            where,
            f"tree {t}: {splits} {'split needs' if splits == 1 else 'splits need'} "
            f"{2 * splits + 1} nodes, the tree has {sizes[t]}",
        )

    n_splits = int(n_splits_tree.sum())
    n_leaves = n_nodes - n_splits
    allowed = VALUES_BASE + VALUES_PER_BYTE * len(data)
    if n_nodes * n_outputs > allowed:
        raise LimitExceededError(
            where,
            f"expected at most {allowed} node values (nodes x outputs) for a file of "
            f"{len(data)} bytes, found {n_nodes} x {n_outputs}",
        )
    feature = _read_column(reader, n_splits, np.dtype(">i4"), 1, "split feature")[:, 0].astype(np.int64)
    if n_splits and (feature.min() < 0 or feature.max() >= n_features):
        bad = int(np.argmax((feature < 0) | (feature >= n_features)))
        raise BonsaiIndexError(
            where, f"split {bad}: feature {int(feature[bad])} is not one of the model's {n_features} features"
        )
    threshold = _read_column(reader, n_splits, np.dtype(">f8"), 1, "split threshold", rewrite=True)[:, 0]
    missing = _read_bitset(reader, n_splits, "the missing-direction bitset")
    sets = _read_sets(reader, n_splits, threshold) if flags & SETS else None
    value = _read_column(reader, n_leaves, np.dtype(">f8"), n_outputs, "leaf")
    if reader.at != len(reader.data):
        raise BonsaiTrailingBytesError(
            where, f"expected the checksum at offset {reader.at}, found {len(reader.data) - reader.at} more bytes first"
        )
    # every column spends a byte or more per element, so the file holds a byte per node:
    # the per-node arrays below are now a bounded multiple of its size
    split = _unpacked(structure, n_nodes)
    tree_of = np.repeat(np.arange(n_trees), sizes)
    rank = np.cumsum(split) - split  # splits before each node, over the whole forest
    local_rank = rank - rank[base[:-1]][tree_of]
    position = np.arange(n_nodes) - base[:-1][tree_of]
    orphan = split & (position >= 2 * local_rank + 1)
    if orphan.any():
        node = int(np.argmax(orphan))
        raise BonsaiStructureError(
            where,
            f"tree {int(tree_of[node])}: node {int(position[node])} comes after the "
            "children the level order gives it, so some node is unreachable",
        )
    del tree_of, rank, position, orphan
    if rules >= 1:  # +inf is a threshold since 1.1: every number goes left, NaN by its missing direction
        checks = [("threshold", ~np.isnan(threshold) & (threshold != -np.inf), threshold, "a number or +inf")]
    else:
        checks = [("threshold", np.isfinite(threshold), threshold, "finite numbers")]
    checks.append(("leaf value", np.isfinite(value).all(axis=1), value, "finite numbers"))
    for name, ok, arr, expected in checks:
        if not ok.all():
            bad = int(np.argmax(~ok))
            raise BonsaiEncodingError(where, f"{name} {bad}: expected {expected}, found {arr[bad]}")
    return _trees(split, base, local_rank, feature, threshold, missing, value, n_outputs, sets)


def _read_sets(reader: _Reader, n_splits: int, threshold: np.ndarray) -> list:
    """Per split, None or its set's values: the set bitset, each set's first value, the values."""
    where = reader.where
    is_set = _read_bitset(reader, n_splits, "the set bitset")
    n_sets = int(is_set.sum())
    if n_sets == 0:
        raise BonsaiEncodingError(where, "flag 1 (set splits) is set, but the set bitset marks no split")
    offsets = reader.array(np.dtype(">u4"), n_sets + 1, "the set offsets").astype(np.int64)
    sizes = np.diff(offsets)
    if offsets[0] != 0 or (sizes < 0).any():
        raise BonsaiStructureError(where, f"set offsets must rise from 0, found {offsets[:3].tolist()}...")
    if sizes.max() > MAX_SET_SIZE:
        k = int(np.argmax(sizes))
        raise LimitExceededError(where, f"set {k}: expected at most {MAX_SET_SIZE} values, found {int(sizes[k])}")
    n_values = int(offsets[-1])
    values = _read_column(reader, n_values, np.dtype(">f8"), 1, "set value")[:, 0]
    if not np.isfinite(values).all():
        bad = int(np.argmax(~np.isfinite(values)))
        raise BonsaiEncodingError(where, f"set value {bad}: expected a finite number, found {values[bad]}")
    # strictly rising within each set: sorted, no repeats (and so not both -0.0 and 0.0)
    rising = np.ones(n_values, dtype=bool)
    rising[1:] = values[1:] > values[:-1]
    rising[offsets[:-1][sizes > 0]] = True
    if not rising.all():
        at = int(np.argmax(~rising))
        k = int(np.searchsorted(offsets, at, side="right")) - 1
        raise BonsaiEncodingError(
            where, f"set {k}: expected strictly rising values, found {values[at - 1]} then {values[at]}"
        )
    split_of_set = np.flatnonzero(is_set)
    nonzero = threshold[split_of_set] != 0.0
    if nonzero.any():
        k = int(np.argmax(nonzero))
        raise BonsaiEncodingError(
            where,
            f"split {int(split_of_set[k])}: a set split's threshold must be 0.0, found {threshold[split_of_set[k]]}",
        )
    out: list = [None] * n_splits
    for k, s in enumerate(split_of_set.tolist()):
        out[s] = tuple(values[offsets[k] : offsets[k + 1]].tolist())
    return out


def _trees(split, base, local_rank, feature, threshold, missing, value, n_outputs, sets=None) -> tuple:
    n = len(split)
    node_feature = np.full(n, -1, dtype=np.int64)
    node_threshold = np.zeros(n)
    node_missing = np.zeros(n, dtype=bool)
    node_value = np.zeros((n, n_outputs))
    node_feature[split] = feature
    node_threshold[split] = threshold
    node_missing[split] = missing
    node_value[~split] = value
    left = np.where(split, 2 * local_rank + 1, -1)
    right = np.where(split, 2 * local_rank + 2, -1)
    node_sets: list = []
    if sets is not None:
        node_sets = [None] * n
        for node, entry in zip(np.flatnonzero(split).tolist(), sets):
            node_sets[node] = entry
    trees = []
    for t in range(len(base) - 1):
        a, b = base[t], base[t + 1]
        tree_sets = tuple(node_sets[a:b]) if node_sets and any(e is not None for e in node_sets[a:b]) else ()
        trees.append(
            ir.Tree(
                node_feature[a:b],
                node_threshold[a:b],
                left[a:b],
                right[a:b],
                node_missing[a:b],
                node_value[a:b],
                tree_sets,
            )
        )
    return tuple(trees)
