"""bonsai: exact round trips, and every malformed file refused with one named error.

Crafted files are built from a valid one: parse it into its sections with the
same arithmetic as the reader, change one section, and write the CRC again,
so that the check a test aims at is the one that fires.
"""

from __future__ import annotations

import dataclasses
import json
import struct
import subprocess
import sys
import textwrap
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import crossform
from crossform import errors, ir
from crossform.checks import leaf_positions
from crossform.evaluator import score
from crossform.exporters import _limits
from crossform.exporters._versions import FormatVersionWarning
from crossform.exporters.stripe_json import bonsai
from crossform.floats import float32_threshold
from helpers.packages import small_package, small_tree

WHERE = "pkg/trees.bonsai"
HEADER = struct.Struct(">8sHHIIIQ")
ORDER = ("header", "offsets", "structure", "ranks", "feature", "threshold", "missing", "leaf")
# a file with flag SETS (bonsai 1.1) has three more sections before the leaves
SET_ORDER = ORDER[:-1] + ("sets", "set offsets", "set values", "leaf")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- building models


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


def changed_threshold(tree: ir.Tree, threshold: float) -> ir.Tree:
    """``tree`` with its first split's threshold replaced."""
    at = int(np.argmax(tree.feature >= 0))
    changed = tree.threshold.copy()
    changed[at] = threshold
    return ir.Tree(tree.feature, changed, tree.left, tree.right, tree.missing_left, tree.value)


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


def renumbered(tree: ir.Tree, rng) -> ir.Tree:
    n = tree.n_nodes
    new = np.concatenate([[0], 1 + rng.permutation(n - 1)])
    order = np.empty(n, dtype=np.int64)
    order[new] = np.arange(n)

    def child(c):
        return np.where(c >= 0, new[np.maximum(c, 0)], -1)[order]

    return in_order(tree, order, child)


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


# ---------------------------------------------------------------- the file's sections


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


def test_the_section_parser_reads_what_the_writer_wrote():
    assert [len(PARTS[name]) for name in ("header", "offsets", "structure", "ranks", "missing", "crc")] == [
        32,
        12,
        8,
        4,
        8,
        4,
    ]
    assert bits_of(PARTS["structure"], 10) == STRUCTURE
    assert PARTS["structure"] == bitset(STRUCTURE) and PARTS["ranks"] == rank_directory(STRUCTURE)
    assert BIG_PARTS["ranks"] == rank_directory(bits_of(BIG_PARTS["structure"], 750))
    assert struct.unpack(">2I", BIG_PARTS["ranks"]) == (0, sum(bits_of(BIG_PARTS["structure"], 512)))
    assert assemble(PARTS) == SMALL


# ---------------------------------------------------------------- round trips


def test_small_package_round_trip(package):
    loaded = assert_round_trip(package)
    rows = [{"colour": c, "size": s} for c in ("red", "blue", None, "mauve") for s in (2.0, 9.0, 20.0, None)]
    a, b = crossform.score(package, rows), crossform.score(loaded, rows)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.errors == b.errors


def _chain(depth: int, side: str) -> ir.Tree:
    rng = np.random.default_rng(depth)
    if side == "left":
        return grow(rng, depth, lambda leaves: len(leaves) - 2)
    if side == "right":
        return grow(rng, depth, lambda leaves: len(leaves) - 1)
    return grow(rng, depth, lambda leaves: len(leaves) - 1 - (len(leaves) // 2) % 2)  # zigzag


HAND_BUILT = {
    "one leaf": lambda rng: regressor([leaf(3.5)]),
    "only leaves": lambda rng: regressor([leaf(float(i)) for i in range(70)]),
    "leaves and trees": lambda rng: regressor([leaf(1.0), random_tree(rng, 3), leaf(-0.0), random_tree(rng, 1)]),
    "left chain": lambda rng: regressor([_chain(60, "left")]),
    "right chain": lambda rng: regressor([_chain(60, "right")]),
    "zigzag": lambda rng: regressor([_chain(45, "zigzag"), _chain(3, "left")]),
    "deep and shallow": lambda rng: regressor([_chain(100, "left"), leaf(2.0), _chain(1, "right")]),
    "three classes": lambda rng: classifier([random_tree(rng, 6, n_outputs=3) for _ in range(4)]),
    "many trees": lambda rng: classifier([random_tree(rng, int(rng.integers(0, 12)), n_outputs=2) for _ in range(300)]),
    "big trees": lambda rng: regressor([random_tree(rng, 700, values=rng.normal(size=900)) for _ in range(2)]),
    "boosted": lambda rng: regressor(
        [random_tree(rng, 5) for _ in range(5)], aggregation="sum", post_transform="logistic", base_value=[-0.25]
    ),
    "softmax": lambda rng: classifier(
        [random_tree(rng, 4, n_outputs=3) for _ in range(3)],
        aggregation="sum",
        post_transform="softmax",
        base_value=[0.1, -0.0, 2.0],
    ),
}


@pytest.mark.parametrize("name", HAND_BUILT)
def test_hand_built_round_trips(name):
    rng = np.random.default_rng(len(name))
    assert_round_trip(numeric_package(HAND_BUILT[name](rng)), rng)


def test_signed_zero_leaves_survive_raw_and_dictionary():
    few = regressor([ir.Tree([0, -1, -1], [0.5, 0, 0], [1, -1, -1], [2, -1, -1], [False] * 3, [[0.0], [-0.0], [0.0]])])
    many = regressor(
        [
            ir.Tree([0, -1, -1], [0.5, 0, 0], [1, -1, -1], [2, -1, -1], [False] * 3, [[0.0], [v], [0.0]])
            for v in [-0.0, 0.0] * 20
        ]
    )
    flipped = regressor(
        [ir.Tree([0, -1, -1], [0.5, 0, 0], [1, -1, -1], [2, -1, -1], [False] * 3, [[0.0], [0.0], [-0.0]])]
    )
    assert numeric_package(few).id != numeric_package(flipped).id  # so a lost sign would show in the id
    for model, tag in ((few, bonsai.RAW), (many, bonsai.DICTIONARY), (flipped, bonsai.RAW)):
        assert sections(bonsai.dumps(model))["leaf"][0] == tag
        back = assert_round_trip(numeric_package(model)).model
        signs = np.concatenate([np.signbit(t.value[t.is_leaf]) for t in back.trees])
        want = np.concatenate([np.signbit(level_order(t).value[t.is_leaf]) for t in model.trees])
        assert signs.tolist() == want.tolist() and signs.any()


F32_REWRITTEN = float32_threshold(np.array([0.5, -1.25, 3e-39, 7.0e30, 1.1]))
ODD_THRESHOLDS = [0.1, 1e300, -1e300, 5e-324, -0.0, 1 / 3, float(np.finfo(np.float64).max)]


# many distinct values, so that no dictionary is smaller than the encoding a case is about
MANY_REWRITTEN = float32_threshold(np.random.default_rng(1).normal(size=100_000).astype(np.float32))


@pytest.mark.parametrize(
    "pool, odd_one, tag",
    [
        (list(MANY_REWRITTEN) + [float(np.finfo(np.float64).max)], None, bonsai.FLOAT32_REWRITE),
        (ODD_THRESHOLDS, None, None),
        (MANY_REWRITTEN, 0.1, None),  # one threshold that is not a rewrite keeps the whole column exact
        (list(np.random.default_rng(1).normal(size=100_000)), None, bonsai.RAW),
    ],
)
def test_thresholds_round_trip_bit_for_bit(pool, odd_one, tag):
    rng = np.random.default_rng(2)
    trees = [random_tree(rng, 40, thresholds=pool) for _ in range(6)]
    if odd_one is not None:
        trees[3] = changed_threshold(trees[3], odd_one)
    model = regressor(trees)
    column = sections(bonsai.dumps(model))["threshold"]
    if tag is not None:
        assert column[0] == tag
    else:
        assert column[0] in (bonsai.RAW, bonsai.DICTIONARY)
    if tag == bonsai.FLOAT32_REWRITE:
        assert len(column) == 1 + 4 * 240
    assert_round_trip(numeric_package(model), rng)


@pytest.mark.parametrize("n_nodes", [2, 63, 64, 65, 511, 512, 513, 1024, 1026, 1537])
def test_bitset_word_and_rank_block_boundaries(n_nodes):
    rng = np.random.default_rng(n_nodes)
    big = (n_nodes - 1) // 2 * 2 + 1
    trees = [random_tree(rng, (big - 1) // 2, n_outputs=2, thresholds=rng.normal(size=800))]
    trees += [leaf(0.5, 0.5)] * (n_nodes - big)
    model = classifier(trees)
    parts = sections(bonsai.dumps(model))
    bits = [int(b) for t in trees for b in (level_order(t).feature >= 0)]
    assert parts["structure"] == bitset(bits) and parts["ranks"] == rank_directory(bits)
    assert_round_trip(numeric_package(model), rng)


def test_bytes_are_deterministic_and_ignore_node_numbering():
    rng = np.random.default_rng(3)
    trees = [
        random_tree(rng, int(rng.integers(0, 30)), n_outputs=3, values=[0.0, -0.0, 0.5, 1e-300]) for _ in range(20)
    ]
    model = classifier(trees)
    data = bonsai.dumps(model)
    assert bonsai.dumps(model) == data
    assert bonsai.dumps(classifier([renumbered(t, rng) for t in trees])) == data
    assert bonsai.dumps(classifier([level_order(t) for t in trees])) == data
    assert bonsai.dumps(classifier(trees[::-1])) != data  # tree order is content


def _sklearn_models():
    pytest.importorskip("sklearn")
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    return {
        "rf-classifier": lambda: RandomForestClassifier(n_estimators=6, random_state=0),
        "rf-regressor": lambda: RandomForestRegressor(n_estimators=6, max_depth=8, random_state=0),
        "et-classifier": lambda: ExtraTreesClassifier(n_estimators=6, random_state=0),
        "et-regressor": lambda: ExtraTreesRegressor(n_estimators=6, max_depth=8, random_state=0),
        "dt-classifier": lambda: DecisionTreeClassifier(random_state=0),
        "dt-regressor": lambda: DecisionTreeRegressor(random_state=0),
    }


def _training_data(n=300, classes=3, nan=True, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y_class = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1) * (classes - 2)
    y_value = X[:, 0] * 2 + np.sin(X[:, 3]) + rng.normal(scale=0.1, size=n)
    if nan:
        X[rng.random(X.shape) < 0.1] = np.nan
    return X, y_class, y_value


@pytest.mark.parametrize(
    "name", ["rf-classifier", "rf-regressor", "et-classifier", "et-regressor", "dt-classifier", "dt-regressor"]
)
@pytest.mark.parametrize("nan", [False, True], ids=["dense", "with-nan"])
def test_sklearn_models_round_trip(name, nan):
    estimator = _sklearn_models()[name]()
    X, y_class, y_value = _training_data(nan=nan)
    estimator.fit(X, y_class if "classifier" in name else y_value)
    package = crossform.from_sklearn(estimator, checks=0)
    assert_round_trip(package, np.random.default_rng(4))


def test_bonsai_is_much_smaller_than_json_trees():
    RandomForestClassifier = pytest.importorskip("sklearn.ensemble").RandomForestClassifier

    X, y, _ = _training_data(n=400, nan=False, seed=5)
    model = crossform.from_sklearn(RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y), checks=0).model
    as_json = json.dumps(
        [
            {
                "feature": t.feature.tolist(),
                "threshold": t.threshold.tolist(),
                "left": t.left.tolist(),
                "right": t.right.tolist(),
                "missing_left": t.missing_left.tolist(),
                "value": t.value.tolist(),
            }
            for t in model.trees
        ]
    ).encode()
    assert len(bonsai.dumps(model)) * 4 < len(as_json)


def test_dumps_refuses_more_trees_than_the_format_holds(monkeypatch):
    monkeypatch.setattr(_limits, "MAX_TREES", 1)
    with pytest.raises(errors.LimitExceededError, match="at most 1 trees, found 2"):
        bonsai.dumps(small_package().model)


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


# ---------------------------------------------------------------- fuzzing


FUZZ_FEATURES = 4
FUZZ_BASES = (
    bonsai.dumps(
        classifier(
            [random_tree(np.random.default_rng(i), 5, n_outputs=3, thresholds=np.arange(1000) / 7) for i in range(3)]
        )
    ),
    bonsai.dumps(
        regressor(
            [random_tree(np.random.default_rng(i), 4, thresholds=F32_REWRITTEN, values=[1.0, -0.0]) for i in range(3)]
            + [leaf(2.0)]
        )
    ),
)


def test_fuzz_bases_cover_every_encoding():
    tags = {(name, sections(base)[name][0]) for base in FUZZ_BASES for name in ("feature", "threshold", "leaf")}
    assert {t for _, t in tags} == {bonsai.RAW, bonsai.DICTIONARY, bonsai.FLOAT32_REWRITE}


def load_or_refuse(data: bytes):
    """The trees, or None when refused with a named error; anything else fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FormatVersionWarning)
        try:
            trees = bonsai.loads(data, WHERE, FUZZ_FEATURES)
        except errors.PackageError as e:
            assert e.path == WHERE
            event(type(e).__name__)
            return None
    assert trees and all(isinstance(t, ir.Tree) for t in trees)
    event("loaded")
    try:
        model = (classifier if trees[0].n_outputs > 1 else regressor)(list(trees), n_features=FUZZ_FEATURES)
    except errors.CrossformError:
        return trees
    # whatever was accepted is a model: it writes and reads back to the same trees
    for a, b in zip(trees, reloaded(model).trees, strict=True):
        assert_same_tree(a, b)
    return trees


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


@FUZZ
@given(st.sampled_from(FUZZ_BASES).flatmap(lambda base: st.tuples(st.just(base), mutations(base))))
def test_mutations_with_the_old_checksum_are_refused(case):
    base, mutated = case
    if mutated == base:
        assert load_or_refuse(mutated) is not None
    else:
        assert load_or_refuse(mutated) is None


@FUZZ
@given(st.sampled_from(FUZZ_BASES).flatmap(lambda base: mutations(base[:-4]).map(with_crc)))
def test_mutations_with_a_fresh_checksum_load_or_are_refused(mutated):
    load_or_refuse(mutated)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=400),
        st.binary(min_size=26, max_size=400).map(lambda b: bonsai.MAGIC + b),
        st.binary(min_size=22, max_size=400).map(lambda b: bonsai.MAGIC + b"\x00\x01\x00\x00" + b),
    )
)
def test_random_bytes_are_refused(data):
    assert load_or_refuse(data) is None


@st.composite
def random_sections(draw) -> bytes:
    """A header and tree offsets that hold, a random structure with its true rank directory, random columns:
    the checks past the offsets see random input."""
    sizes = draw(st.lists(st.integers(0, 6).map(lambda s: 2 * s + 1), min_size=1, max_size=5))
    n = sum(sizes)
    bits = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    head = HEADER.pack(bonsai.MAGIC, 1, draw(st.integers(0, 2)), 0, len(sizes), draw(st.integers(1, 3)), n)
    columns = draw(st.binary(max_size=300))
    return with_crc(head + offsets.astype(">u4").tobytes() + bitset(bits) + rank_directory(bits) + columns)


@FUZZ
@given(
    st.one_of(
        random_sections(),
        st.tuples(st.integers(1, 40), st.integers(1, 4), st.integers(1, 80), st.binary(max_size=300)).map(
            lambda c: with_crc(HEADER.pack(bonsai.MAGIC, 1, 0, 0, *c[:3]) + c[3])
        ),
    )
)
def test_random_sections_after_a_valid_header(data):
    load_or_refuse(data)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(1, 3))
def test_random_forests_round_trip(seed, n_trees, n_outputs):
    rng = np.random.default_rng(seed)
    pool = ODD_THRESHOLDS if seed % 3 == 0 else list(F32_REWRITTEN) if seed % 3 == 1 else None
    trees = [
        random_tree(
            rng, int(rng.integers(0, 25)), n_outputs=n_outputs, thresholds=pool, values=[0.0, -0.0, 1e-300, 0.1, 7.0]
        )
        for _ in range(n_trees)
    ]
    model = classifier(trees) if n_outputs > 1 else regressor(trees)
    assert_round_trip(numeric_package(model), rng)


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
