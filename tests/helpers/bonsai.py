"""What the bonsai tests share: models built for a case, and crafted files. A crafted file is built
from a valid one: parse it into its sections with the same arithmetic as the reader, change one
section, and write the CRC again, so that the check a test aims at is the one that fires."""

from __future__ import annotations

import dataclasses
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from crossform import errors, ir
from crossform.evaluator import score
from crossform.exporters.stripe_json import bonsai
from crossform.floats import float32_threshold
from helpers.packages import small_package, small_tree

WHERE = "pkg/trees.bonsai"
HEADER = struct.Struct(">8sHHIIIQ")
ORDER = ("header", "offsets", "structure", "ranks", "feature", "threshold", "missing", "leaf")
# a file with flag SETS (bonsai 1.1) has three more sections before the leaves
SET_ORDER = ORDER[:-1] + ("sets", "set offsets", "set values", "leaf")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def leaf(*values) -> ir.Tree:
    return ir.Tree([-1], [0.0], [-1], [-1], [False], [list(values)])


def grow(rng, n_splits, pick, n_outputs=1, n_features=4, thresholds=None, values=None) -> ir.Tree:
    """A tree grown by splitting the leaf ``pick`` chooses, numbered at random (root stays 0)."""
    left, right, leaves = [-1], [-1], [0]
    for _ in range(n_splits):
        node = leaves.pop(pick(leaves))
        left[node], right[node] = len(left), len(left) + 1
        leaves += [len(left), len(left) + 1]
        left += [-1, -1]
        right += [-1, -1]
    n = len(left)
    new = np.concatenate([[0], 1 + rng.permutation(n - 1)])  # old number -> new number
    split = np.array(left) >= 0
    feature = np.where(split, rng.integers(0, n_features, n), -1)
    pool = thresholds if thresholds is not None else [0.5, -2.0, 3.25]
    threshold = np.where(split, rng.choice(np.asarray(pool, dtype=np.float64), n), 0.0)
    missing = split & (rng.random(n) < 0.5)
    pool = np.asarray(values if values is not None else [0.0, 1.0, -1.5, 0.125], dtype=np.float64)
    value = np.where(split[:, None], 0.0, rng.choice(pool, (n, n_outputs)))

    def renumber(arr):
        out = np.empty_like(arr)
        out[new] = arr
        return out

    children = [np.where(np.array(c) >= 0, new[np.maximum(c, 0)], -1) for c in (left, right)]
    return ir.Tree(
        renumber(feature),
        renumber(threshold),
        renumber(children[0]),
        renumber(children[1]),
        renumber(missing),
        renumber(value),
    )


def random_tree(rng, n_splits, **kw) -> ir.Tree:
    return grow(rng, n_splits, lambda leaves: int(rng.integers(len(leaves))), **kw)


def in_order(tree: ir.Tree, order, child, sets=()) -> ir.Tree:
    """``tree``'s nodes taken in ``order``, ``child`` renumbering a child array the same way."""
    return ir.Tree(
        tree.feature[order],
        tree.threshold[order],
        child(tree.left),
        child(tree.right),
        tree.missing_left[order],
        tree.value[order],
        sets,
    )


def level_order(tree: ir.Tree) -> ir.Tree:
    """The same tree numbered breadth first, left before right: what the file stores.

    Written without numpy tricks so that it checks the codec's own ordering.
    """
    order, i = [0], 0
    while i < len(order):
        node = order[i]
        i += 1
        if tree.left[node] >= 0:
            order += [int(tree.left[node]), int(tree.right[node])]
    position = {node: p for p, node in enumerate(order)}

    def child(c):
        return [position[int(c[n])] if c[n] >= 0 else -1 for n in order]

    return in_order(tree, order, child, tuple(tree.sets[n] for n in order) if tree.sets else ())


def assert_same_tree(a: ir.Tree, b: ir.Tree) -> None:
    # bit patterns, so that -0.0 and 0.0 (and the last bit of a threshold) count
    assert [None if s is None else np.array(s).view(np.uint64).tolist() for s in a.sets] == [
        None if s is None else np.array(s).view(np.uint64).tolist() for s in b.sets
    ]
    for name in ("feature", "left", "right", "missing_left"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.threshold.view(np.uint64).tolist() == b.threshold.view(np.uint64).tolist()
    assert a.value.shape == b.value.shape
    assert a.value.view(np.uint64).tolist() == b.value.view(np.uint64).tolist()


def numeric_package(model: ir.TreeEnsemble) -> ir.Package:
    return ir.Package(inputs=tuple(ir.Field(f, ir.NUMERIC) for f in model.features), encoders=(), model=model)


def regressor(trees, n_features=4, **kw) -> ir.TreeEnsemble:
    return ir.TreeEnsemble(tuple(f"x{i}" for i in range(n_features)), tuple(trees), **kw)


def classifier(trees, n_features=4, **kw) -> ir.TreeEnsemble:
    classes = tuple(f"c{i}" for i in range(trees[0].n_outputs))
    return ir.TreeEnsemble(tuple(f"x{i}" for i in range(n_features)), tuple(trees), classes=classes, **kw)


def reloaded(model: ir.TreeEnsemble) -> ir.TreeEnsemble:
    trees = bonsai.loads(bonsai.dumps(model), WHERE, len(model.features))
    return dataclasses.replace(model, trees=trees)


def probe_rows(model: ir.TreeEnsemble, rng, n=200) -> dict:
    """Random rows, NaN, and every threshold with its neighbours, per feature."""
    columns = {}
    for i, name in enumerate(model.features):
        at = np.concatenate([t.threshold[t.feature == i] for t in model.trees])
        with np.errstate(over="ignore"):  # neighbours of the largest double are infinite: still valid input
            near = np.concatenate([at, np.nextafter(at, np.inf), np.nextafter(at, -np.inf)])
        random = np.where(rng.random(n) < 0.1, np.nan, rng.normal(scale=3.0, size=n))
        columns[name] = np.concatenate([random, near])
    width = max(len(c) for c in columns.values())
    return {k: np.resize(c, width) for k, c in columns.items()}


def assert_round_trip(package: ir.Package, rng=None) -> ir.Package:
    """Reloaded trees are the original trees in level order, the id is kept, and the scores are identical."""
    model = package.model
    back = reloaded(model)
    assert len(back.trees) == len(model.trees)
    for a, b in zip(model.trees, back.trees, strict=True):
        assert_same_tree(level_order(a), b)
    loaded = package.replace(model=back)
    assert loaded.id == package.id
    if not package.encoders:
        rows = probe_rows(model, rng if rng is not None else np.random.default_rng(0))
        a, b = score(package, rows), score(loaded, rows)
        np.testing.assert_array_equal(a.values, b.values)
        assert a.errors == b.errors
    assert bonsai.dumps(back) == bonsai.dumps(model)
    return loaded


def n_words(n: int) -> int:
    return (n + 63) // 64


def bits_of(section: bytes, n: int) -> list:
    words = struct.unpack(f">{len(section) // 8}Q", section)
    return [(words[i // 64] >> (i % 64)) & 1 for i in range(n)]


def bitset(bits) -> bytes:
    bits = [int(b) for b in bits]
    words = [sum(b << j for j, b in enumerate(bits[64 * w : 64 * w + 64])) for w in range(n_words(len(bits)))]
    return struct.pack(f">{len(words)}Q", *words)


def rank_directory(bits) -> bytes:
    bits = [int(b) for b in bits]
    words = n_words(len(bits))
    return struct.pack(f">{(words + 7) // 8}I", *(sum(bits[: 512 * b]) for b in range((words + 7) // 8)))


def column_length(data: bytes, at: int, n: int, width: int, itemsize: int) -> int:
    tag = data[at]
    if tag == bonsai.RAW:
        return 1 + n * width * itemsize
    if tag == bonsai.DICTIONARY:
        k = struct.unpack_from(">I", data, at + 1)[0]
        w = data[at + 5 + k * width * itemsize]
        return 1 + 4 + k * width * itemsize + 1 + n * w
    assert tag == bonsai.FLOAT32_REWRITE
    return 1 + 4 * n


def sections(data: bytes) -> dict:
    """A valid file as {section name: bytes}, in file order, plus "crc"."""
    _, _, _, flags, n_trees, n_outputs, n_nodes = HEADER.unpack_from(data)
    fixed = {
        "header": HEADER.size,
        "offsets": 4 * (n_trees + 1),
        "structure": 8 * n_words(n_nodes),
        "ranks": 4 * ((n_words(n_nodes) + 7) // 8),
    }
    parts, at = {}, 0
    for name, size in fixed.items():
        parts[name], at = data[at : at + size], at + size
    n_splits = sum(bits_of(parts["structure"], n_nodes))
    for name, n, width, itemsize in (
        ("feature", n_splits, 1, 4),
        ("threshold", n_splits, 1, 8),
        ("missing", None, None, None),
    ):
        size = 8 * n_words(n_splits) if n is None else column_length(data, at, n, width, itemsize)
        parts[name], at = data[at : at + size], at + size
    if flags & bonsai.SETS:
        parts["sets"], at = data[at : at + 8 * n_words(n_splits)], at + 8 * n_words(n_splits)
        n_sets = sum(bits_of(parts["sets"], n_splits))
        parts["set offsets"], at = data[at : at + 4 * (n_sets + 1)], at + 4 * (n_sets + 1)
        n_values = struct.unpack(f">{n_sets + 1}I", parts["set offsets"])[-1]
        size = column_length(data, at, n_values, 1, 8)
        parts["set values"], at = data[at : at + size], at + size
    size = column_length(data, at, n_nodes - n_splits, n_outputs, 8)
    parts["leaf"], at = data[at : at + size], at + size
    assert at == len(data) - 4
    parts["crc"] = data[at:]
    assert b"".join(parts.values()) == data
    return parts


def with_crc(body: bytes) -> bytes:
    return body + struct.pack(">I", zlib.crc32(body))


def assemble(parts: dict, **changes) -> bytes:
    parts = {**parts, **changes}
    return with_crc(b"".join(parts[name] for name in (SET_ORDER if "sets" in parts else ORDER)))


def header(parts: dict, **changes) -> bytes:
    fields = dict(
        zip(
            ("magic", "major", "minor", "flags", "trees", "outputs", "nodes"),
            HEADER.unpack(parts["header"]),
            strict=True,
        )
    )
    fields.update(changes)
    return HEADER.pack(*fields.values())


def raw(values, dtype) -> bytes:
    return bytes([bonsai.RAW]) + np.asarray(values, dtype=dtype).tobytes()


def dictionary(keys, index, dtype, width=None, size=None) -> bytes:
    keys = np.asarray(keys, dtype=dtype)
    k = len(keys) if size is None else size
    width = (1 if k <= 256 else 2 if k <= 65536 else 4) if width is None else width
    index_type = {1: ">u1", 2: ">u2", 4: ">u4"}.get(width, ">u1")
    return (
        bytes([bonsai.DICTIONARY])
        + struct.pack(">I", k)
        + keys.tobytes()
        + bytes([width])
        + np.asarray(index, dtype=index_type).tobytes()
    )


def rewrite(values) -> bytes:
    return bytes([bonsai.FLOAT32_REWRITE]) + np.asarray(values, dtype=">f4").tobytes()


SMALL = bonsai.dumps(small_package().model)  # 2 trees of 5 nodes, 4 splits, 6 leaves of 2 outputs, 2 features
PARTS = sections(SMALL)
STRUCTURE = [1, 0, 1, 0, 0, 1, 0, 1, 0, 0]
BIG = bonsai.dumps(classifier([small_tree(t) for t in np.linspace(-1.0, 1.0, 150)], n_features=2))
BIG_PARTS = sections(BIG)  # 750 nodes: two rank blocks


def structure(bits) -> dict:
    return {"structure": bitset(bits), "ranks": rank_directory(bits)}


def refused(data: bytes, error: type, *fragments: str, n_features: int = 2) -> errors.PackageError:
    """``loads`` raises exactly ``error``, naming the file and saying what it expected and found."""
    with pytest.raises(errors.PackageError) as info:
        bonsai.loads(data, WHERE, n_features)
    assert type(info.value) is error, str(info.value)
    assert info.value.path == WHERE
    assert str(info.value).startswith(f"{WHERE}: ")
    for fragment in fragments:
        assert fragment in info.value.reason, (fragment, info.value.reason)
    return info.value


F32_REWRITTEN = float32_threshold(np.array([0.5, -1.25, 3e-39, 7.0e30, 1.1]))
ODD_THRESHOLDS = [0.1, 1e300, -1e300, 5e-324, -0.0, 1 / 3, float(np.finfo(np.float64).max)]


@st.composite
def mutations(draw, data: bytes) -> bytes:
    data = bytearray(data)
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite"]))
    at = draw(st.integers(0, len(data)))
    if kind == "flip" and at < len(data):
        data[at] ^= 1 << draw(st.integers(0, 7))
    elif kind == "truncate":
        del data[at:]
    elif kind == "insert":
        data[at:at] = draw(st.binary(min_size=1, max_size=16))
    elif kind == "delete":
        del data[at : at + draw(st.integers(1, 16))]
    elif kind == "overwrite":
        chunk = draw(st.binary(min_size=1, max_size=8))
        data[at : at + len(chunk)] = chunk
    return bytes(data)
