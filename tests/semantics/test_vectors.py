"""crossform.vectors: probe rows derived from a package's own IR.

The rows are judged with the reference evaluator alone: which leaf each row
reaches in each tree says which nodes it passed and which way it went.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.ensemble import (
    ExtraTreesClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler

import crossform
from crossform import evaluator, ir, vectors
from helpers.fits import linear_bird_pipeline
from helpers.packages import small_package
from helpers.paths import REPO

SPLIT_LABEL = re.compile(r"^tree (\d+) node (\d+): ")
LEAF_LABEL = re.compile(r"^tree (\d+) leaf (\d+)$")
GROUP_LABEL = re.compile(r"^tree (\d+) (node|leaf) (\d+)")
ACCEPTED = float(np.nextafter(2.0**128 - 2.0**103, 0))  # the largest value a tree scores

# ---------------------------------------------------------------- packages


def raw_forest() -> ir.Package:
    """Numeric inputs straight into the trees, trained with NaN: every
    threshold and missing direction can be told apart by some row."""
    X, y = make_classification(n_samples=300, n_features=4, n_informative=3, n_redundant=0, random_state=0)
    X[np.random.default_rng(0).random(X.shape) < 0.1] = np.nan
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = RandomForestClassifier(n_estimators=6, max_depth=5, random_state=0).fit(frame, y)
    return crossform.from_sklearn(model)


BIRDS = ["albatross", "crow", "heron", "kiwi", "owl", "puffin"]
FOODS = ["fish", "insects", "nectar", "seeds", "worms"]


def birds(n: int = 400, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "bird": pd.Series(rng.choice(BIRDS, n), dtype=object),
            "food": pd.Series(rng.choice(FOODS, n, p=[0.3, 0.3, 0.2, 0.17, 0.03]), dtype=object),
            "wingspan": rng.normal(1.2, 0.5, n),
            "weight": rng.lognormal(0, 1, n),
        }
    )
    for col in frame.columns:
        frame.loc[rng.random(n) < 0.1, col] = np.nan
    y = (
        frame.wingspan.fillna(1.0) * 2
        + np.log(frame.weight.fillna(1.0))
        + (frame.bird == "owl") * 1.5
        - (frame.food == "fish")
        + rng.normal(0, 0.3, n)
    )
    return frame, y.to_numpy()


def cat_pipeline(**encoder) -> Pipeline:
    return Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("encode", OrdinalEncoder(**encoder))])


PIPELINES = {
    # imputed, encoded, scaled twice; wingspan feeds a scaled and a raw column
    "scaled": lambda: Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("cat", cat_pipeline(), ["bird", "food"]),
                        (
                            "num",
                            Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
                            ["wingspan", "weight"],
                        ),
                        ("raw", SimpleImputer(strategy="mean"), ["wingspan"]),
                    ]
                ),
            ),
            ("scale", StandardScaler()),
            ("model", RandomForestRegressor(n_estimators=5, max_depth=6, random_state=0)),
        ]
    ),
    # missing and unknown categories have codes of their own
    "encoded-missing": lambda: Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        (
                            "cat",
                            OrdinalEncoder(
                                encoded_missing_value=-2, handle_unknown="use_encoded_value", unknown_value=-1
                            ),
                            ["bird", "food"],
                        ),
                    ],
                    remainder="passthrough",
                ),
            ),
            ("model", RandomForestClassifier(n_estimators=5, max_depth=6, random_state=0)),
        ]
    ),
    # an unknown category becomes NaN, which the trees route by missing direction
    "unknown-nan": lambda: Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        (
                            "cat",
                            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan),
                            ["bird", "food"],
                        ),
                        ("num", "passthrough", ["wingspan", "weight"]),
                    ]
                ),
            ),
            ("model", ExtraTreesClassifier(n_estimators=5, max_depth=6, random_state=0)),
        ]
    ),
}


def hand_scaled() -> ir.Package:
    """Input u feeds the trees twice (raw, and filled then scaled); v is
    scaled by a negative factor, so its feature falls as the input rises."""
    rng = np.random.default_rng(7)
    encoders = (
        ir.FillMissing(("u",), (0.25,), ("u_filled",)),
        ir.Scale(("u_filled", "v"), [3.7, -1.3], [0.37, -2.9], ("zu", "zv")),
    )
    trees = []
    for _ in range(3):
        tree = random_tree(rng, 60, 2)
        # some zu splits become raw u splits, in u's units, so the two stay consistent
        raw = (tree.feature == 0) & (rng.random(tree.n_nodes) < 0.4)
        trees.append(
            ir.Tree(
                np.where(raw, 2, tree.feature),
                np.where(raw, tree.threshold * 0.37 + 3.7, tree.threshold),
                tree.left,
                tree.right,
                tree.missing_left,
                tree.value,
            )
        )
    model = ir.TreeEnsemble(("zu", "zv", "u"), tuple(trees))
    return ir.Package((ir.Field("u", ir.NUMERIC), ir.Field("v", ir.NUMERIC)), encoders, model)


@pytest.fixture(scope="module")
def packages() -> dict:
    frame, y = birds()
    out = {"small": small_package(), "raw": raw_forest(), "hand-scaled": hand_scaled()}
    for name, build in PIPELINES.items():
        target = y if name == "scaled" else y > np.median(y)
        out[name] = crossform.from_sklearn(build().fit(frame, target))
    return out


@pytest.fixture(scope="module")
def generated(packages) -> dict:
    return {name: vectors.generate(p, random_rows=20) for name, p in packages.items()}


# ---------------------------------------------------------------- judging rows


def columns(package: ir.Package, vecs: vectors.Vectors) -> dict:
    """The rows as typed arrays, so scoring them again and again is cheap."""
    out = {}
    for c, field in enumerate(package.inputs):
        values = [row[c] for row in vecs.rows]
        if field.kind == ir.NUMERIC:
            out[field.name] = np.array(values, dtype=np.float64)
        else:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            out[field.name] = arr
    return out


def parents(tree: ir.Tree) -> np.ndarray:
    parent = np.full(tree.n_nodes, -1)
    split = np.flatnonzero(tree.left >= 0)
    parent[tree.left[split]] = split
    parent[tree.right[split]] = split
    return parent


def routes(tree: ir.Tree, leaves: np.ndarray) -> list:
    """For each row, {node passed: child taken} in one tree (empty for an error row)."""
    parent = parents(tree)
    cache: dict = {}
    out = []
    for leaf in leaves.tolist():
        if leaf not in cache:
            path, child = {}, leaf
            while child >= 0 and parent[child] >= 0:
                path[int(parent[child])] = child
                child = parent[child]
            cache[leaf] = path if leaf >= 0 else {}
        out.append(cache[leaf])
    return out


def split_groups(vecs: vectors.Vectors) -> dict:
    groups: dict = {}
    for r, label in enumerate(vecs.labels):
        m = SPLIT_LABEL.match(label)
        if m:
            groups.setdefault((int(m[1]), int(m[2])), []).append(r)
    return groups


def scores_differ(a: evaluator.Scores, b: evaluator.Scores) -> bool:
    return bool((a.leaves != b.leaves).any() or not np.array_equal(a.values, b.values, equal_nan=True))


def with_tree(package: ir.Package, ti: int, **arrays) -> ir.Package:
    tree = package.model.trees[ti]
    parts = {name: getattr(tree, name) for name in ("feature", "threshold", "left", "right", "missing_left", "value")}
    parts.update(arrays)
    trees = list(package.model.trees)
    trees[ti] = ir.Tree(**parts)
    return package.replace(model=dataclasses.replace(package.model, trees=tuple(trees)))


def nan_reaches(tree: ir.Tree, node: int) -> bool:
    """Whether a missing split feature can arrive at ``node``: every ancestor
    splitting on the same feature sends missing the way the path goes."""
    parent = parents(tree)
    child, p = node, parent[node]
    while p >= 0:
        if tree.feature[p] == tree.feature[node] and bool(tree.missing_left[p]) != (tree.left[p] == child):
            return False
        child, p = p, parent[p]
    return True


# ---------------------------------------------------------------- coverage


@pytest.mark.parametrize("name", ["small", "raw", "hand-scaled", "scaled", "encoded-missing", "unknown-nan"])
def test_every_split_is_reached_and_probed_on_both_sides(name, packages, generated):
    package, vecs = packages[name], generated[name]
    assert vecs.columns == tuple(f.name for f in package.inputs)
    assert len(vecs.rows) == len(vecs.labels) == len(vecs)
    assert all(len(row) == len(vecs.columns) for row in vecs.rows)
    scores = evaluator.score(package, vecs.to_columns())
    groups = split_groups(vecs)
    trees = package.model.trees
    unreachable = set(vecs.unreachable)
    for ti, tree in enumerate(trees):
        route = routes(tree, scores.leaves[:, ti])
        for node in np.flatnonzero(tree.left >= 0).tolist():
            if (ti, node) in unreachable:
                continue
            rows = groups.get((ti, node))
            assert rows, f"no rows for tree {ti} node {node}"
            taken = {route[r].get(node) for r in rows} - {None}
            assert taken == {int(tree.left[node]), int(tree.right[node])}, (ti, node, [vecs.labels[r] for r in rows])
            # each probe that reaches its node goes the way its label says
            for r in rows:
                child = route[r].get(node)
                if child is not None:
                    side = "left" if child == tree.left[node] else "right"
                    assert f"({side} side" in vecs.labels[r], (vecs.labels[r], vecs.rows[r])
    # fitted trees have no dead branches (NaN reaches the "only missing values" ones)
    assert not unreachable, vecs.unreachable


@pytest.mark.parametrize("name", ["small", "raw", "hand-scaled", "scaled", "encoded-missing", "unknown-nan"])
def test_every_leaf_is_reached(name, packages, generated):
    package, vecs = packages[name], generated[name]
    scores = evaluator.score(package, vecs.to_columns())
    unreachable = set(vecs.unreachable)
    for ti, tree in enumerate(package.model.trees):
        leaves = set(np.flatnonzero(tree.is_leaf).tolist()) - {n for t, n in unreachable if t == ti}
        assert leaves <= set(scores.leaves[:, ti].tolist()), (ti, sorted(leaves - set(scores.leaves[:, ti].tolist())))
    # each leaf row reaches its own leaf
    for r, label in enumerate(vecs.labels):
        m = LEAF_LABEL.match(label)
        if m:
            assert scores.leaves[r, int(m[1])] == int(m[2]), label


def test_probes_pulled_back_through_scalers_land_on_both_sides(packages, generated):
    """After two StandardScalers, the rows in input space still straddle each
    threshold by the least amount the input doubles allow."""
    package, vecs = packages["scaled"], generated["scaled"]
    scaled = [e for e in package.encoders if isinstance(e, ir.Scale)]
    assert len(scaled) == 2
    scores = evaluator.score(package, vecs.to_columns())
    groups = split_groups(vecs)
    checked = 0
    for (ti, node), rows in groups.items():
        tree = package.model.trees[ti]
        route = routes(tree, scores.leaves[rows, ti])
        numeric = [k for k, r in enumerate(rows) if "missing" not in vecs.labels[r] and "code" not in vecs.labels[r]]
        if not numeric:
            continue
        sides = {route[k].get(node) for k in numeric}
        assert sides == {int(tree.left[node]), int(tree.right[node])}, [vecs.labels[rows[k]] for k in numeric]
        checked += 1
    assert checked > 50


def test_threshold_changes_behind_scalers_are_caught_when_an_input_can_show_them(packages, generated):
    """Behind a scaler, t and its neighbour differ for some input only when
    an input double maps exactly onto the value between them; every such
    change must be caught."""
    package, vecs = packages["hand-scaled"], generated["hand-scaled"]
    cols = columns(package, vecs)
    before = evaluator.score(package, cols)
    scale = {"zu": (3.7, 0.37), "zv": (-1.3, -2.9)}
    visible = caught = 0
    for ti, tree in enumerate(package.model.trees):
        for node in np.flatnonzero(tree.left >= 0).tolist():
            name = package.model.features[tree.feature[node]]
            if name not in scale:
                continue
            offset, factor = scale[name]
            t = tree.threshold[node]
            for direction in (np.inf, -np.inf):
                # moving t up lets next(t) go left; moving it down sends t right
                target = np.nextafter(t, np.inf) if direction > 0 else t
                x = target * factor + offset
                xs = [x]
                for way in (np.inf, -np.inf):
                    y = x
                    for _ in range(64):
                        y = np.nextafter(y, way)
                        xs.append(y)
                xs = [x for x in xs if (x - offset) / factor == target]
                if not xs or not any(reaches(package, ti, node, name, x) for x in xs):
                    continue
                visible += 1
                threshold = tree.threshold.copy()
                threshold[node] = np.nextafter(t, direction)
                caught += scores_differ(before, evaluator.score(with_tree(package, ti, threshold=threshold), cols))
    assert visible > 20 and caught == visible, (caught, visible)


def reaches(package: ir.Package, ti: int, node: int, name: str, x: float) -> bool:
    """Whether input value x of the input behind ``name`` satisfies every split
    on its features along the path to ``node`` (in hand_scaled)."""
    tree = package.model.trees[ti]
    source = "u" if name in ("zu", "u") else "v"
    values = {"zu": (x - 3.7) / 0.37, "u": x} if source == "u" else {"zv": (x + 1.3) / -2.9}
    parent = parents(tree)
    child, p = node, parent[node]
    while p >= 0:
        feature = package.model.features[tree.feature[p]]
        if feature in values and (values[feature] <= tree.threshold[p]) != (tree.left[p] == child):
            return False
        child, p = p, parent[p]
    return True


def test_dead_branches_are_reported_not_probed():
    """x <= 0, then x <= 1: the right branch of the second split needs
    x > 1 and x <= 0, and a missing x goes right at the first split."""
    value = np.zeros((5, 1))
    value[[2, 3, 4], 0] = [1.0, 2.0, 3.0]
    tree = ir.Tree(
        [0, 0, -1, -1, -1],
        [0.0, 1.0, 0.0, 0.0, 0.0],
        [1, 3, -1, -1, -1],
        [2, 4, -1, -1, -1],
        [False, True, False, False, False],
        value,
    )
    package = ir.Package((ir.Field("x", ir.NUMERIC),), (), ir.TreeEnsemble(("x",), (tree,)))
    vecs = vectors.generate(package)
    assert vecs.unreachable == ((0, 4),)
    assert not any(label.startswith("tree 0 leaf 4") for label in vecs.labels)
    scores = evaluator.score(package, vecs.to_columns())
    assert set(scores.leaves[:, 0].tolist()) >= {2, 3}


def test_an_encoder_the_model_ignores_still_decides_which_categories_a_row_may_hold():
    """'colour' is also encoded strictly (unknown is an error) into a column
    no tree reads; a row holding 'blue' is refused, so no row reaches the
    left leaf, and the other rows hold 'red'."""
    value = np.zeros((3, 1))
    value[[1, 2], 0] = [1.0, 2.0]
    tree = ir.Tree([0, -1, -1], [0.5, 0.0, 0.0], [1, -1, -1], [2, -1, -1], [False, False, False], value)
    package = ir.Package(
        (ir.Field("colour", ir.CATEGORICAL),),
        (
            ir.CategoricalEncoding(("colour",), (("red",),), ((0.0,),), (None,), None, ("strict",)),
            ir.CategoricalEncoding(("colour",), (("blue", "red"),), ((0.0, 1.0),), (None,), 5.0, ("code",)),
        ),
        ir.TreeEnsemble(("code",), (tree,)),
    )
    vecs = vectors.generate(package, random_rows=0)
    assert vecs.unreachable == ((0, 1),)
    scores = evaluator.score(package, vecs.to_columns())
    for label, row, error in zip(vecs.labels, vecs.rows, scores.errors):
        if LEAF_LABEL.match(label):
            assert row == ["red"] and error is None


def test_labels_say_why(generated):
    vecs = generated["raw"]
    kinds = {"split": 0, "leaf": 0, "special": 0, "random": 0}
    for label in vecs.labels:
        if SPLIT_LABEL.match(label):
            kinds["split"] += 1
        elif LEAF_LABEL.match(label):
            kinds["leaf"] += 1
        elif label.startswith("feature "):
            kinds["special"] += 1
        else:
            assert label == "random", label
            kinds["random"] += 1
    assert kinds["random"] == 20 and kinds["special"] == 4 * 12 and min(kinds.values()) > 0
    assert any("float32 above threshold" in label for label in vecs.labels)
    assert "feature 'a' = +inf" in vecs.labels


def test_specials_per_input(packages, generated):
    vecs = generated["encoded-missing"]
    specials = {label: row for label, row in zip(vecs.labels, vecs.rows) if label.startswith("feature ")}
    position = {name: c for c, name in enumerate(vecs.columns)}
    bird = specials["feature 'bird' = None (missing)"]
    assert bird[position["bird"]] is None
    unknown = specials[f"feature 'bird' = {vectors.UNKNOWN_CATEGORY!r} (unknown category)"]
    assert unknown[position["bird"]] == vectors.UNKNOWN_CATEGORY
    wing = {
        label: row[position["wingspan"]] for label, row in specials.items() if label.startswith("feature 'wingspan'")
    }
    values = list(wing.values())
    assert len(values) == 12 and np.isnan(values[0])
    for want in (
        np.inf,
        -np.inf,
        5e-324,
        1e39,
        -1e39,
        2.0**128 - 2.0**103,
        np.nextafter(2.0**128 - 2.0**103, 0),
        float(np.finfo(np.float32).max),
    ):
        assert want in values
    assert any(v == 0 and np.copysign(1, v) < 0 for v in values)
    # an unknown name never collides with a real category
    pkg = small_package(
        encoders=(
            ir.CategoricalEncoding(("colour",), ((vectors.UNKNOWN_CATEGORY, "red"),), ((0.0, 1.0),), (None,), 5.0),
            ir.Scale(("size",), [10.0], [4.0], ("size_scaled",)),
        )
    )
    vecs = vectors.generate(pkg)
    odd = [row[0] for label, row in zip(vecs.labels, vecs.rows) if label.endswith("(unknown category)")]
    assert odd and odd[0] != vectors.UNKNOWN_CATEGORY


# ---------------------------------------------------------------- mutation power


def test_mutations_of_thresholds_leaves_and_missing_directions_are_caught(packages, generated):
    """Change one number of the forest; some generated row must score differently."""
    package, vecs = packages["raw"], generated["raw"]
    cols = columns(package, vecs)
    before = evaluator.score(package, cols)
    trees = package.model.trees
    splits = [(ti, n) for ti, t in enumerate(trees) for n in np.flatnonzero(t.left >= 0).tolist()]
    leaves = [(ti, n) for ti, t in enumerate(trees) for n in np.flatnonzero(t.is_leaf).tolist()]

    def caught(mutant: ir.Package) -> bool:
        return scores_differ(before, evaluator.score(mutant, cols))

    missed = []
    tried = 0
    for ti, n in splits:
        for direction in (np.inf, -np.inf):
            threshold = trees[ti].threshold.copy()
            with np.errstate(over="ignore"):
                threshold[n] = np.nextafter(threshold[n], direction)
            if not np.isfinite(threshold[n]) or min(threshold[n], trees[ti].threshold[n]) >= ACCEPTED:
                continue  # only values the trees refuse lie between the two thresholds
            tried += 1
            if not caught(with_tree(package, ti, threshold=threshold)):
                missed.append(("threshold", ti, n, direction))
    assert tried >= 150
    for ti, n in leaves:
        value = trees[ti].value.copy()
        value[n, 0] += 0.125
        tried += 1
        if not caught(with_tree(package, ti, value=value)):
            missed.append(("leaf", ti, n))
    flips = 0
    for ti, n in splits:
        if not nan_reaches(trees[ti], n):
            continue  # no input can tell the two directions apart
        missing_left = trees[ti].missing_left.copy()
        missing_left[n] = not missing_left[n]
        flips += 1
        if not caught(with_tree(package, ti, missing_left=missing_left)):
            missed.append(("missing_left", ti, n))
    assert flips > 50
    assert not missed, missed


def test_category_code_changes_are_caught(packages, generated):
    """Move one category's code to the next code up or down: wherever that
    crosses a threshold the category reaches, a row scores differently."""
    package, vecs = packages["encoded-missing"], generated["encoded-missing"]
    cols = columns(package, vecs)
    before = evaluator.score(package, cols)
    position = next(k for k, e in enumerate(package.encoders) if isinstance(e, ir.CategoricalEncoding))
    enc = package.encoders[position]
    missed, visible = [], 0
    for i, feature in enumerate(enc.features):
        # the generated rows with each category in turn: a change none of
        # these rows notices is one no row built this way can notice
        values = np.empty(len(enc.categories[i]) + 1, dtype=object)
        values[:] = list(enc.categories[i]) + [None]
        probe = {k: np.tile(v, len(values)) for k, v in cols.items()}
        probe[feature] = np.repeat(values, len(vecs))
        unchanged = evaluator.score(package, probe)
        for c, category in enumerate(enc.categories[i]):
            for step in (-1.0, 1.0):
                codes = list(enc.codes)
                codes[i] = codes[i].copy()
                codes[i][c] += step
                mutant_enc = ir.CategoricalEncoding(
                    enc.features, enc.categories, tuple(codes), enc.missing_codes, enc.unknown_code, enc.outputs
                )
                encoders = list(package.encoders)
                encoders[position] = mutant_enc
                mutant = package.replace(encoders=tuple(encoders))
                if not scores_differ(unchanged, evaluator.score(mutant, probe)):
                    continue
                visible += 1
                if not scores_differ(before, evaluator.score(mutant, cols)):
                    missed.append((feature, category, step))
    assert visible >= 10
    assert not missed, missed


# ---------------------------------------------------------------- sampling and determinism


def row_keys(vecs: vectors.Vectors) -> list:
    return [repr(row) for row in vecs.rows]


def test_same_seed_same_rows(packages):
    package = packages["scaled"]
    a, b = vectors.generate(package, seed=3), vectors.generate(package, seed=3)
    assert row_keys(a) == row_keys(b) and a.labels == b.labels
    assert row_keys(vectors.generate(package, seed=4)) != row_keys(a)
    sampled = [vectors.generate(package, seed=5, max_rows=150) for _ in range(2)]
    assert row_keys(sampled[0]) == row_keys(sampled[1])


def test_max_rows_samples_groups_evenly_and_keeps_specials(packages, generated):
    package = packages["raw"]
    full = generated["raw"]
    for max_rows in (60, 200, 400):
        vecs = vectors.generate(package, max_rows=max_rows, random_rows=20)
        assert len(vecs) <= max_rows < len(full)
        specials = [label for label in vecs.labels if label.startswith("feature ")]
        assert len(specials) == 4 * 12
        if max_rows < 200:
            continue
        trees = {int(SPLIT_LABEL.match(label)[1]) for label in vecs.labels if SPLIT_LABEL.match(label)}
        trees |= {int(LEAF_LABEL.match(label)[1]) for label in vecs.labels if LEAF_LABEL.match(label)}
        assert trees == set(range(len(package.model.trees)))
        groups = {m.groups() for m in map(GROUP_LABEL.match, vecs.labels) if m}
        per_tree = np.bincount([int(tree) for tree, _, _ in groups])
        assert per_tree.max() - per_tree.min() <= 2, per_tree
    assert len(vectors.generate(package, max_rows=10)) == 10  # fewer rows than specials: a sample of them
    # a budget the full set fits in changes nothing
    assert row_keys(vectors.generate(package, max_rows=len(full) + 500, random_rows=20)) == row_keys(full)


def random_tree(rng: np.random.Generator, n_splits: int, n_features: int) -> ir.Tree:
    """A random tree with n_splits split nodes, each threshold inside the
    interval its path allows (as a fitted tree's), nodes numbered as created."""
    n = 2 * n_splits + 1
    feature = np.full(n, -1)
    threshold = np.zeros(n)
    left, right = np.full(n, -1), np.full(n, -1)
    box = {0: np.tile([-3.0, 3.0], (n_features, 1))}
    leaves, used = [0], 1
    for _ in range(n_splits):
        node = leaves.pop(int(rng.integers(len(leaves))))
        j = int(rng.integers(n_features))
        lo, hi = box[node][j]
        feature[node] = j
        threshold[node] = lo + (hi - lo) * rng.uniform(0.1, 0.9)
        left[node], right[node] = used, used + 1
        box[used], box[used + 1] = box[node].copy(), box.pop(node).copy()
        box[used][j, 1] = box[used + 1][j, 0] = threshold[node]
        leaves += [used, used + 1]
        used += 2
    value = np.zeros((n, 1))
    value[feature < 0, 0] = rng.normal(size=int((feature < 0).sum()))
    return ir.Tree(feature, threshold, left, right, (feature >= 0) & (rng.random(n) < 0.5), value)


def test_cost_follows_max_rows_not_model_size():
    rng = np.random.default_rng(0)
    tree = random_tree(rng, 10_000, 6)
    trees = (tree,) * 10  # 200k nodes; sharing one tree keeps the test fast to set up
    names = tuple(f"x{j}" for j in range(6))
    package = ir.Package(tuple(ir.Field(n, ir.NUMERIC) for n in names), (), ir.TreeEnsemble(names, trees))
    start = time.perf_counter()
    vecs = vectors.generate(package, max_rows=300)
    elapsed = time.perf_counter() - start
    assert len(vecs) <= 300
    assert elapsed < 3.0, elapsed


def test_vectors_import_neither_sklearn_nor_pandas():
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, "tests")
        from helpers.packages import small_package
        from crossform import vectors
        assert len(vectors.generate(small_package())) > 0
        heavy = sorted(m for m in ("sklearn", "pandas", "scipy") if m in sys.modules)
        assert not heavy, heavy
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=REPO)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- any row budget


def _row_budget_models() -> dict:
    """A linear model (no trees: special and random rows only), a tree and a boosting model, each small."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.tree import DecisionTreeClassifier

    frame, y = birds()
    y = y > np.median(y)
    linear = linear_bird_pipeline()
    numeric = frame[["wingspan", "weight"]]
    return {
        "linear": (linear, frame, y),
        "tree": (DecisionTreeClassifier(max_depth=3, random_state=0), numeric, y),
        "boosting": (HistGradientBoostingClassifier(max_iter=3, max_leaf_nodes=4, random_state=0), numeric, y),
    }


@pytest.fixture(scope="module")
def budget_packages() -> dict:
    return {
        name: (crossform.from_sklearn(model.fit(X, y), checks=0), model, X)
        for name, (model, X, y) in _row_budget_models().items()
    }


@pytest.mark.parametrize("kind", ["linear", "tree", "boosting"])
def test_every_row_budget_from_zero_gives_at_most_that_many_rows(kind, budget_packages):
    package = budget_packages[kind][0]
    full = vectors.generate(package)
    n_specials = sum(label.startswith("feature ") for label in full.labels)
    for max_rows in range(len(full) + 30):
        vecs = vectors.generate(package, max_rows=max_rows)
        assert len(vecs) <= max_rows, (max_rows, len(vecs))
        specials = sum(label.startswith("feature ") for label in vecs.labels)
        assert specials == min(n_specials, max_rows), max_rows
    # a budget the full set fits in changes nothing
    vecs = vectors.generate(package, max_rows=len(full) + 500)
    assert row_keys(vecs) == row_keys(full) and vecs.labels == full.labels
