"""bonsai: exact round trips, bit-for-bit thresholds, deterministic and small files."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import crossform
from crossform import errors, ir
from crossform.exporters import _limits
from crossform.exporters.stripe_json import bonsai
from crossform.floats import float32_threshold
from helpers.bonsai import (
    BIG_PARTS,
    ODD_THRESHOLDS,
    PARTS,
    SMALL,
    STRUCTURE,
    assemble,
    assert_round_trip,
    bits_of,
    bitset,
    classifier,
    grow,
    in_order,
    leaf,
    level_order,
    numeric_package,
    random_tree,
    rank_directory,
    regressor,
    sections,
)
from helpers.packages import small_package


def changed_threshold(tree: ir.Tree, threshold: float) -> ir.Tree:
    """``tree`` with its first split's threshold replaced."""
    at = int(np.argmax(tree.feature >= 0))
    changed = tree.threshold.copy()
    changed[at] = threshold
    return ir.Tree(tree.feature, changed, tree.left, tree.right, tree.missing_left, tree.value)


def renumbered(tree: ir.Tree, rng) -> ir.Tree:
    n = tree.n_nodes
    new = np.concatenate([[0], 1 + rng.permutation(n - 1)])
    order = np.empty(n, dtype=np.int64)
    order[new] = np.arange(n)

    def child(c):
        return np.where(c >= 0, new[np.maximum(c, 0)], -1)[order]

    return in_order(tree, order, child)


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
