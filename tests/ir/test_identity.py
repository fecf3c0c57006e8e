"""Package ids: pinned, deterministic, blind to node numbering and producer versions."""

from __future__ import annotations

import numpy as np
import pytest

from crossform import identity, ir
from helpers.packages import small_package, small_tree

# The id of helpers.packages.small_package(). If this changes, every id in the field
# changes: that needs a new CANONICAL_VERSION and a note in docs/IDENTITY.md.
GOLDEN_ID = "sha256.CSKUKRCZTOMBHJYCS3QNJF2J56MXPKNHAX22UGJITSGWWGHQLZYQ"


def spec_bytes() -> bytes:
    """helpers.packages.small_package() encoded by hand from docs/IDENTITY.md, not by crossform."""
    import struct

    def u8(v):
        return struct.pack(">B", v)

    def u32(v):
        return struct.pack(">I", v)

    def f64(v):
        return struct.pack(">d", v)

    def text(s):
        return u32(len(s.encode())) + s.encode()

    def texts(xs):
        return u32(len(xs)) + b"".join(text(x) for x in xs)

    def arr(fmt, xs):
        return u32(len(xs)) + b"".join(struct.pack(">" + fmt, x) for x in xs)

    def tree(threshold, leaves):
        # preorder already: 0 split x0, 1 leaf, 2 split x1, 3 leaf, 4 leaf
        values = [0.0, 0.0, *leaves[0], 0.0, 0.0, *leaves[1], *leaves[2]]
        return (
            u32(5)
            + arr("i", [0, -1, 1, -1, -1])
            + arr("d", [threshold, 0.0, 2.0, 0.0, 0.0])
            + arr("i", [1, -1, 3, -1, -1])
            + arr("i", [2, -1, 4, -1, -1])
            + arr("B", [1, 0, 0, 0, 0])
            + arr("d", values)
        )

    return b"".join(
        [
            b"crossform-ir/1\n",
            u32(2),
            text("colour"),
            u8(1),
            text("size"),
            u8(0),
            u32(3),
            text("fill-missing"),
            texts(["colour"]),
            texts(["colour"]),
            u8(1),
            text("red"),
            text("label-encoder"),
            texts(["colour"]),
            texts(["colour"]),
            texts(["blue", "green", "red"]),
            arr("d", [0.0, 1.0, 2.0]),
            u8(0),
            u8(0),
            text("standard-scaler"),
            texts(["size"]),
            texts(["size_scaled"]),
            arr("d", [10.0]),
            arr("d", [4.0]),
            text("tree-ensemble"),
            texts(["colour", "size_scaled"]),
            text("average"),
            text("none"),
            u8(0),
            u8(1),
            u32(2),
            u8(0),
            text("no"),
            u8(0),
            text("yes"),
            u32(2),
            u32(2),
            tree(0.5, [(0.25, 0.75), (0.9, 0.1), (0.5, 0.5)]),
            tree(1.5, [(1.0, 0.0), (0.0, 1.0), (0.5, 0.5)]),
            u8(1),
            text("tests"),
            texts(["golden"]),
            u32(1),
            text("purpose"),
            text("pin the package id"),
        ]
    )


def test_canonical_bytes_follow_the_written_spec(package):
    import hashlib

    assert identity.canonical_digest(package) == hashlib.sha256(spec_bytes()).digest()


def test_golden_id(package):
    assert package.id == GOLDEN_ID


def test_id_shape(package):
    assert identity.is_package_id(package.id)
    assert len(package.id) == len("sha256.") + 52


def test_producer_versions_do_not_change_the_id(package):
    assert package.replace(producer={"crossform": "99.0", "scikit-learn": "0.1"}).id == package.id


@pytest.mark.parametrize(
    "change",
    [
        {"owner": "someone else"},
        {"owner": None},
        {"tags": ("golden", "extra")},
        {"metadata": {"purpose": "other"}},
    ],
)
def test_declared_fields_change_the_id(package, change):
    assert package.replace(**change).id != package.id


def test_tags_and_metadata_order_do_not_change_the_id():
    a = small_package(tags=("b", "a"), metadata={"x": "1", "y": "2"})
    b = small_package(tags=("a", "b", "a"), metadata={"y": "2", "x": "1"})
    assert a.id == b.id


def test_a_threshold_one_ulp_away_changes_the_id(package):
    trees = list(package.model.trees)
    trees[0] = small_tree(np.nextafter(0.5, 1.0))
    model = ir.TreeEnsemble(package.model.features, tuple(trees), classes=package.model.classes)
    assert package.replace(model=model).id != package.id


def _renumber(tree: ir.Tree, perm: np.ndarray) -> ir.Tree:
    """The same tree with node i stored at index perm[i] (root stays 0)."""
    n = tree.n_nodes
    inverse = np.empty(n, dtype=np.int64)
    inverse[perm] = np.arange(n)

    def move(arr):
        return arr[inverse]

    def relink(children):
        return np.where(children < 0, -1, perm[np.maximum(children, 0)])

    return ir.Tree(
        move(tree.feature),
        move(tree.threshold),
        relink(move(tree.left)),
        relink(move(tree.right)),
        move(tree.missing_left),
        move(tree.value),
    )


def test_node_numbering_does_not_change_the_id():
    from sklearn.ensemble import RandomForestRegressor

    import crossform

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    model = RandomForestRegressor(n_estimators=3, random_state=0).fit(X, X[:, 0] + rng.normal(size=300))
    package = crossform.from_sklearn(model)
    shuffled = []
    for tree in package.model.trees:
        perm = np.concatenate([[0], 1 + rng.permutation(tree.n_nodes - 1)])
        shuffled.append(_renumber(tree, perm))
    assert not all(np.array_equal(a.left, b.left) for a, b in zip(package.model.trees, shuffled))
    renumbered = package.replace(model=ir.TreeEnsemble(package.model.features, tuple(shuffled)))
    assert renumbered.id == package.id
    rows = {f"x{i}": X[:50, i] for i in range(4)}
    np.testing.assert_array_equal(crossform.score(renumbered, rows).values, crossform.score(package, rows).values)


def test_swapping_children_changes_the_id(package):
    tree = package.model.trees[0]
    swapped = ir.Tree(tree.feature, tree.threshold, tree.right, tree.left, tree.missing_left, tree.value)
    model = ir.TreeEnsemble(package.model.features, (swapped, package.model.trees[1]), classes=package.model.classes)
    assert package.replace(model=model).id != package.id


def test_nan_payloads_hash_alike():
    weird_nan = np.array([0x7FF8000000000001], dtype=np.uint64).view(np.float64)[0]
    enc = dict(features=("colour",), categories=(("a",),), codes=((0.0,),), missing_codes=(None,))
    a = ir.CategoricalEncoding(**enc, unknown_code=float("nan"))
    b = ir.CategoricalEncoding(**enc, unknown_code=float(weird_nan))
    base = small_package()
    pa = base.replace(encoders=(base.encoders[0], a, base.encoders[2]))
    pb = base.replace(encoders=(base.encoders[0], b, base.encoders[2]))
    assert pa.id == pb.id
