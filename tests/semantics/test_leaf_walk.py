"""The compiled leaf walk (crossform.leafwalk, src/crossform/_leaves.c) against the written rule.

Expected leaves come from crossform.evaluator.forest_leaves (the numpy walk, the rule of
docs/SEMANTICS.md) on seeded random forests, and from scikit-learn's own apply and predict_proba
on fitted models (tests/helpers/oracle.py); never from the compiled walk itself.
"""

from __future__ import annotations

import subprocess
import sys
from functools import reduce

import numpy as np
import pandas as pd
import pytest

import crossform
from crossform import evaluator, ir, leafwalk
from helpers.oracle import assert_checks_pass, compare

N_FEATURES = 3
FEATURES = tuple(f"x{j}" for j in range(N_FEATURES))
# thresholds and inputs that meet at the edges of the rule: equal values, signed zeros, infinities
THRESHOLDS = (-1.0, -0.0, 0.0, 0.5, 1.0, 2.0, np.inf)
INPUTS = (-np.inf, -1.0, -0.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, np.inf, np.nan)
SET_VALUES = (-1.0, 0.0, 1.0, 2.0, 3.0)


def test_the_extension_is_built():
    # an install with a C compiler builds it (pyproject.toml); CI must not pass on the fallback alone
    assert leafwalk.AVAILABLE, "crossform._leaves was not built: is gcc installed?"
    assert evaluator.LEAF_WALK == "compiled"


# ---------------------------------------------------------------- random forests


def random_tree(rng: np.random.Generator, max_depth: int, leaf_chance: float, set_chance: float) -> ir.Tree:
    """A random tree, its nodes numbered in a shuffled order (root 0), so the layout cannot
    count on the numbering."""
    nodes = []

    def grow(depth: int) -> int:
        i = len(nodes)
        nodes.append(None)
        if depth >= max_depth or (depth > 0 and rng.random() < leaf_chance):
            nodes[i] = (-1, 0.0, -1, -1, False, None)
            return i
        is_set = rng.random() < set_chance
        left = grow(depth + 1)
        right = grow(depth + 1)
        if is_set:
            members = rng.choice(SET_VALUES, size=rng.integers(1, len(SET_VALUES) + 1), replace=False)
            nodes[i] = (int(rng.integers(N_FEATURES)), 0.0, left, right, bool(rng.random() < 0.5), sorted(members))
        else:
            threshold = float(rng.choice(THRESHOLDS))
            nodes[i] = (int(rng.integers(N_FEATURES)), threshold, left, right, bool(rng.random() < 0.5), None)
        return i

    grow(0)
    n = len(nodes)
    new = np.concatenate([[0], 1 + rng.permutation(n - 1)])  # old index -> new index
    at = np.empty(n, dtype=np.int64)
    at[new] = np.arange(n)  # new index -> old index
    rows = [nodes[old] for old in at]

    def renumbered(child: int) -> int:
        return -1 if child < 0 else int(new[child])

    value = np.where(np.array([r[2] < 0 for r in rows])[:, None], rng.normal(size=(n, 1)), 0.0)
    sets = [r[5] for r in rows] if any(r[5] is not None for r in rows) else ()
    return ir.Tree(
        feature=[r[0] for r in rows],
        threshold=[r[1] for r in rows],
        left=[renumbered(r[2]) for r in rows],
        right=[renumbered(r[3]) for r in rows],
        missing_left=[r[4] for r in rows],
        value=value,
        sets=sets,
    )


def chain_tree(rng: np.random.Generator, depth: int) -> ir.Tree:
    """A chain ``depth`` splits deep, one side of each split a leaf: every number goes on (left
    of +inf) but for the last three splits, which decide at random, and NaN leaves the chain
    where missing_left sends it to the leaf."""
    feature, threshold, left, right, missing_left = [], [], [], [], []
    for d in range(depth):
        leaf, deeper = 2 * d + 1, 2 * d + 2
        last = d >= depth - 3
        on_left = not last or bool(rng.random() < 0.5)
        feature.append(int(rng.integers(N_FEATURES)))
        threshold.append(float(rng.choice(THRESHOLDS)) if last else np.inf)
        left.append(deeper if on_left else leaf)
        right.append(leaf if on_left else deeper)
        missing_left.append(bool(rng.random() < 0.98))  # NaN mostly goes on: rows reach the end
        feature.append(-1), threshold.append(0.0), left.append(-1), right.append(-1), missing_left.append(False)
    feature.append(-1), threshold.append(0.0), left.append(-1), right.append(-1), missing_left.append(False)
    value = np.where(np.array(left)[:, None] < 0, rng.normal(size=(len(feature), 1)), 0.0)
    return ir.Tree(feature, threshold, left, right, missing_left, value)


def random_model(seed: int, set_chance: float = 0.0) -> ir.TreeEnsemble:
    rng = np.random.default_rng(seed)
    trees = [random_tree(rng, int(rng.integers(1, 12)), 0.3, set_chance) for _ in range(12)]
    trees.insert(3, ir.Tree([-1], [0.0], [-1], [-1], [False], [[0.5]]))  # a single leaf
    trees.append(chain_tree(rng, 300))
    return ir.TreeEnsemble(FEATURES, tuple(trees), "sum", "none", None, np.zeros(1))


def random_inputs(seed: int, n_rows: int) -> np.ndarray:
    return np.random.default_rng(seed).choice(INPUTS, size=(n_rows, N_FEATURES))


@pytest.mark.parametrize("set_chance", [0.0, 0.3], ids=["thresholds", "with sets"])
@pytest.mark.parametrize("n_rows", [0, 1, 7, 8, 9, 1003])
@pytest.mark.parametrize("seed", range(4))
def test_the_compiled_walk_reaches_the_numpy_walks_leaves(seed, n_rows, set_chance):
    model = random_model(seed, set_chance)
    X = random_inputs(seed + 100, n_rows)
    want = evaluator.forest_leaves(model, X)
    got = evaluator.compiled_leaves(model, X)
    assert got.shape == want.shape == (n_rows, len(model.trees))
    np.testing.assert_array_equal(got, want)


def test_rows_without_nan_take_the_same_leaves():
    # the walk leaves out the missing_left test for a block of rows without NaN
    model = random_model(6, set_chance=0.3)
    X = random_inputs(106, 2000)
    X[np.isnan(X)] = 0.5
    np.testing.assert_array_equal(evaluator.compiled_leaves(model, X), evaluator.forest_leaves(model, X))


def test_the_random_forests_reach_every_kind_of_leaf():
    # the premise of the test above: NaN both ways, infinities, set nodes and the chain all decide
    model = random_model(0, set_chance=0.3)
    X = random_inputs(100, 1003)
    leaves = evaluator.forest_leaves(model, X)
    assert any(t.sets for t in model.trees)
    chain = leaves[:, -1] - leaves[:, -1].min()
    assert len(np.unique(chain)) > 3 and (leaves[:, -1] >= model.trees[-1].n_nodes - 8).mean() > 0.2
    assert all(len(np.unique(leaves[:, t])) > 1 for t in range(len(model.trees)) if model.trees[t].n_nodes > 1)


def test_signed_zeros_and_infinities_compare_as_numbers():
    # x <= threshold with the sides worked out here: -0.0 <= 0.0 and 0.0 <= -0.0 (left); inf <= inf
    # (left); -inf <= -1.0 (left); NaN goes by missing_left
    tree = ir.Tree([0, -1, -1], [0.0, 0.0, 0.0], [1, -1, -1], [2, -1, -1], [False, False, False], [[0], [1], [2]])
    inf_tree = ir.Tree([0, -1, -1], [np.inf, 0.0, 0.0], [1, -1, -1], [2, -1, -1], [True, False, False], [[0], [1], [2]])
    model = ir.TreeEnsemble(("x0",), (tree, inf_tree), "sum", "none", None, np.zeros(1))
    X = np.array([[-0.0], [0.0], [np.inf], [-np.inf], [np.nan], [1e-300]])
    want = np.array([[1, 4], [1, 4], [2, 4], [1, 4], [2, 4], [2, 4]])
    np.testing.assert_array_equal(evaluator.compiled_leaves(model, X), want)
    np.testing.assert_array_equal(evaluator.forest_leaves(model, X), want)


def test_a_set_node_sends_members_away_from_the_missing_side():
    # {1.0, 2.0} with missing_left: members go right (leaf 2), anything else, NaN included, left;
    # {0.0} without missing_left: its members, -0.0 == 0.0 among them, go left (leaf 4), anything
    # else right (leaf 5)
    tree = ir.Tree(
        [0, -1, -1],
        [0.0, 0.0, 0.0],
        [1, -1, -1],
        [2, -1, -1],
        [True, False, False],
        [[0], [1], [2]],
        sets=[(1.0, 2.0), None, None],
    )
    zero = ir.Tree(
        [0, -1, -1],
        [0.0, 0.0, 0.0],
        [1, -1, -1],
        [2, -1, -1],
        [False, False, False],
        [[0], [1], [2]],
        sets=[(0.0,), None, None],
    )
    model = ir.TreeEnsemble(("x0",), (tree, zero), "sum", "none", None, np.zeros(1))
    X = np.array([[1.0], [2.0], [1.5], [np.nan], [-0.0], [np.inf]])
    want = np.array([[2, 5], [2, 5], [1, 5], [1, 5], [1, 4], [1, 5]])
    np.testing.assert_array_equal(evaluator.compiled_leaves(model, X), want)
    np.testing.assert_array_equal(evaluator.forest_leaves(model, X), want)


# ---------------------------------------------------------------- the fold


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_fold_adds_in_tree_order_with_numpys_rounding(dtype):
    model = random_model(5, set_chance=0.3)
    forest = evaluator._forest(model)
    rng = np.random.default_rng(3)
    # leaf values of very different sizes, so that another order of the additions shows in the bits
    values = rng.normal(size=(len(forest.value), 2)) * 10.0 ** rng.integers(-20, 20, size=(len(forest.value), 1))
    values = values.astype(dtype)
    X = random_inputs(7, 301)
    start = rng.normal(size=(len(X), 2)).astype(dtype)
    leaves = evaluator.forest_leaves(model, X)
    want = reduce(lambda acc, t: acc + values[leaves[:, t]], range(leaves.shape[1]), start)
    acc = start.copy()
    np.testing.assert_array_equal(leafwalk.walk(forest.compact, X, values, acc), leaves)
    assert acc.dtype == want.dtype == dtype
    bits = np.uint64 if dtype is np.float64 else np.uint32
    np.testing.assert_array_equal(acc.view(bits), want.view(bits))
    assert not np.array_equal(
        want, reduce(lambda acc, t: acc + values[leaves[:, t]], range(leaves.shape[1])[::-1], start)
    )


# ---------------------------------------------------------------- fitted models


def frame_of(X: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])


def fitted(kind: str):
    from sklearn.datasets import make_classification
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, RandomForestClassifier

    X, y = make_classification(600, 6, n_informative=4, random_state=0)
    if kind == "random forest":
        X[::7, 1] = np.nan  # learnt missing directions
        return RandomForestClassifier(20, random_state=0).fit(frame_of(X), y), X
    if kind == "gradient boosting":
        return GradientBoostingClassifier(n_estimators=20, random_state=0).fit(frame_of(X), y), X
    frame = frame_of(X)
    frame["x0"] = pd.Categorical(np.floor(np.abs(X[:, 0]) * 3).astype(int) % 6)
    frame.loc[::9, "x2"] = np.nan
    model = HistGradientBoostingClassifier(max_iter=20, categorical_features="from_dtype", random_state=0)
    return model.fit(frame, y), frame


@pytest.mark.parametrize("walk", ["compiled", "numpy"])
@pytest.mark.parametrize("kind", ["random forest", "gradient boosting", "histogram boosting"])
def test_fitted_models_score_as_scikit_learn_with_either_walk(kind, walk, monkeypatch):
    est, data = fitted(kind)
    # the checks: rows at every split and leaf, with scikit-learn's leaves (apply, or its
    # histogram predictor's walk) and predict_proba for them
    package = crossform.from_sklearn(est, checks=400)
    monkeypatch.setattr(evaluator, "LEAF_WALK", walk)
    assert_checks_pass(package)
    if kind == "histogram boosting":
        assert any(t.sets for t in package.model.trees)  # categorical splits are walked
    if kind != "random forest":
        return
    report = compare(package, est, frame_of(data))  # and the fitted rows, NaN among them
    assert report["leaf_rows_differ"] == 0 and report["value_rows_differ"] == 0, report
    assert report["label_rows_differ"] == 0, report


def test_the_numpy_walk_scores_the_same_bits_and_leaves(monkeypatch):
    est, data = fitted("random forest")
    package = crossform.from_sklearn(est, checks=0)
    frame = frame_of(data)
    monkeypatch.setattr(evaluator, "LEAF_WALK", "compiled")
    compiled = crossform.score(package, frame)
    monkeypatch.setattr(evaluator, "LEAF_WALK", "numpy")
    numpy_walk = crossform.score(package, frame)
    np.testing.assert_array_equal(compiled.values, numpy_walk.values)
    np.testing.assert_array_equal(compiled.leaves, numpy_walk.leaves)


def test_an_unknown_walk_is_refused_by_name(monkeypatch):
    est, data = fitted("random forest")
    package = crossform.from_sklearn(est, checks=0)
    monkeypatch.setattr(evaluator, "LEAF_WALK", "fortran")
    with pytest.raises(ValueError, match=r"LEAF_WALK must be one of \['compiled', 'numpy'\]; got 'fortran'"):
        crossform.score(package, frame_of(data[:3]))


def run_python(code: str, **env) -> str:
    import os

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_environment_chooses_the_numpy_walk():
    code = "from crossform import evaluator; print(evaluator.LEAF_WALK)"
    assert run_python(code, CROSSFORM_LEAF_WALK="numpy") == "numpy"


def test_without_the_extension_the_evaluator_walks_in_numpy(monkeypatch):
    # an install built without a compiler: importing crossform._leaves fails
    from helpers.packages import small_package
    from helpers.paths import REPO

    monkeypatch.setattr(evaluator, "LEAF_WALK", "numpy")
    want = crossform.score(small_package(), {"colour": ["red", "blue"], "size": [1.0, 30.0]}).leaves.tolist()
    code = """
import sys
sys.modules["crossform._leaves"] = None
from crossform import evaluator, leafwalk
from helpers.packages import small_package
import crossform
scores = crossform.score(small_package(), {"colour": ["red", "blue"], "size": [1.0, 30.0]})
print(leafwalk.AVAILABLE, evaluator.LEAF_WALK, scores.leaves.tolist())
try:
    leafwalk.walk(None, None)
except leafwalk.CompiledWalkUnavailable as e:
    print("refused")
"""
    out = run_python(code, PYTHONPATH=str(REPO / "tests")).splitlines()
    assert out == [f"False numpy {want}", "refused"]


# ---------------------------------------------------------------- bad buffers


@pytest.fixture(scope="module")
def walk_args():
    model = random_model(1, set_chance=0.3)
    forest = evaluator._forest(model).compact
    X = random_inputs(5, 20)
    out = np.empty((forest.n_trees, len(X)), dtype=np.int64)
    return forest, X, out


def call_walk(forest, rows, leaves, values=None, acc=None, **changes):
    from crossform import _leaves

    args = dict(
        nodes=forest.nodes,
        starts=forest.starts,
        set_nodes=forest.set_nodes,
        set_offsets=forest.set_offsets,
        set_values=forest.set_values,
        original=forest.original,
        n_features=forest.n_features,
        X=rows,
        out=leaves,
    )
    args.update(changes)
    fold = () if values is None and acc is None else (values, acc)
    _leaves.walk(*args.values(), *fold)


BAD_WALKS = {
    "float32 X": (dict(X="float32"), r"X must hold float64 items; got format f"),
    "int64 X": (dict(X="int64"), r"X must hold float64 items"),
    "Fortran X": (dict(X="fortran"), r"X must be a C-contiguous float64 buffer"),
    "strided X": (dict(X="strided"), r"X must be a C-contiguous float64 buffer"),
    "X of one dimension": (dict(X="flat"), r"X must have 2 dimension\(s\); got 1"),
    "X with a feature too few": (dict(X="narrow"), r"X must have the forest's 3 feature columns; got 2"),
    "a list for X": (dict(X="list"), r"X must be a C-contiguous float64 buffer of 2 dimension\(s\); got a list"),
    "out rows x trees": (dict(out="transposed"), r"out must be 14 trees x 20 rows; got 20 x 14"),
    "read-only out": (dict(out="readonly"), r"out must be a C-contiguous, writable int64 buffer"),
    "int32 out": (dict(out="int32"), r"out must hold int64 items"),
    "a partial node": (dict(nodes="partial"), r"nodes must hold whole 16-byte nodes"),
    "starts past the nodes": (dict(starts="long"), r"starts must run from 0 to the \d+ nodes"),
    "an empty tree": (dict(starts="repeated"), r"starts must increase \(every tree has a node\); tree 0 does not"),
    "offsets past the values": (dict(set_offsets="long"), r"set_offsets must hold \d+ \+ 1 offsets"),
    "original too short": (dict(original="short"), r"original must hold one index per node"),
}


def bad_value(name: str, how: str, forest, X, out):
    return {
        ("X", "float32"): X.astype(np.float32),
        ("X", "int64"): np.zeros(X.shape, dtype=np.int64),
        ("X", "fortran"): np.asfortranarray(X),
        ("X", "strided"): np.repeat(X, 2, axis=0)[::2],
        ("X", "flat"): X.ravel(),
        ("X", "narrow"): np.ascontiguousarray(X[:, :2]),
        ("X", "list"): X.tolist(),
        ("out", "transposed"): np.empty((len(X), forest.n_trees), dtype=np.int64),
        ("out", "readonly"): np.frombuffer(bytes(out.nbytes), dtype=np.int64).reshape(out.shape),
        ("out", "int32"): out.astype(np.int32),
        ("nodes", "partial"): forest.nodes[:-3],
        ("starts", "long"): np.append(forest.starts[:-1], forest.starts[-1] + 1),
        ("starts", "repeated"): np.insert(forest.starts, 1, 0),
        ("set_offsets", "long"): np.append(forest.set_offsets[:-1], forest.set_offsets[-1] + 1),
        ("original", "short"): forest.original[:-1],
    }[name, how]


@pytest.mark.parametrize("case", list(BAD_WALKS))
def test_bad_buffers_are_refused_by_name(case, walk_args):
    from crossform import _leaves

    forest, X, out = walk_args
    change, message = BAD_WALKS[case]
    ((name, how),) = change.items()
    if case == "X with a feature too few":
        assert forest.n_features == 3
    with pytest.raises(_leaves.LeafBufferError, match=message):
        call_walk(forest, X, out, **{name: bad_value(name, how, forest, X, out)})


def test_the_same_buffers_unchanged_walk(walk_args):
    # the premise of the bad cases: the arguments they start from are good
    forest, X, out = walk_args
    call_walk(forest, X, out)
    np.testing.assert_array_equal(out.T, evaluator.forest_leaves(random_model(1, set_chance=0.3), X))


def test_the_fold_refuses_values_and_acc_that_do_not_fit(walk_args):
    from crossform import _leaves

    forest, X, out = walk_args
    n_nodes = len(forest.original)
    values, acc = np.ones((n_nodes, 2)), np.zeros((len(X), 2))
    cases = [
        (values[:-1], acc, rf"values must hold a row per node \({n_nodes}\); got {n_nodes - 1}"),
        (values, np.zeros((len(X), 1)), rf"acc must be {len(X)} rows x 2 outputs; got {len(X)} x 1"),
        (values.astype(np.float32), acc, r"acc must hold float32 items; got format d"),
        (values, acc.astype(np.float32), r"acc must hold float64 items; got format f"),
        (values, None, r"values and acc come together"),
        (values, np.asfortranarray(np.zeros((len(X), 3)))[:, :2], r"acc must be a C-contiguous, writable float64"),
    ]
    for bad_values, bad_acc, message in cases:
        with pytest.raises(_leaves.LeafBufferError, match=message):
            call_walk(forest, X, out, values=bad_values, acc=bad_acc)
    call_walk(forest, X, out, values=values, acc=acc)  # the premise: these fit
    np.testing.assert_array_equal(acc, np.full((len(X), 2), float(forest.n_trees)))


def test_a_forest_with_children_outside_its_tree_is_refused():
    model = random_model(2)
    forest = evaluator._forest(model)
    right = forest.right.copy()
    split = int(np.flatnonzero(right >= 0)[0])
    right[split] = len(right) + 5
    with pytest.raises(leafwalk.ForestLayoutError, match="expected right children inside their own tree"):
        leafwalk.compact(forest.feature, forest.left, right, forest.threshold, forest.missing_left, forest.roots, {}, 3)
    with pytest.raises(leafwalk.ForestLayoutError, match="expected feature indices from 0 to 1"):
        leafwalk.compact(
            forest.feature, forest.left, forest.right, forest.threshold, forest.missing_left, forest.roots, {}, 2
        )


def test_the_walk_lets_other_threads_run():
    # the server scores in threads: while one walks, the others must get the interpreter. With
    # the GIL held through the walk, this thread would stand still for the whole walk.
    import threading
    import time

    model = random_model(8)
    forest = evaluator._forest(model).compact
    X = random_inputs(9, 400_000)
    done = threading.Event()
    took = []

    def walk():
        start = time.perf_counter()
        leafwalk.walk(forest, X)
        took.append(time.perf_counter() - start)
        done.set()

    worker = threading.Thread(target=walk)
    last, longest = time.perf_counter(), 0.0
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    worker.join()
    assert longest < took[0] / 2, f"this thread stood still {longest:.3f} s of a {took[0]:.3f} s walk"
