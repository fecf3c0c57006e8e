"""XGBoost's models against XGBoost itself: every expected value comes from its predict,
predict_proba or raw margins (output_margin=True), never from crossform's evaluator.

Rows sit at every split condition t of every tree, at the float32 values just below and above it
and at the doubles between (where the float32 cast decides), plus NaN, infinities and values too
large for float32."""

from __future__ import annotations

import dataclasses
import json
import platform
import subprocess
import sys

import numpy as np
import pytest

import crossform
from crossform import errors
from crossform.checks import compare

xgboost = pytest.importorskip("xgboost")

SMALL = {"n_estimators": 8, "max_depth": 4, "learning_rate": 0.3, "n_jobs": 1, "random_state": 0}


def _data(n=400, features=3, seed=0, nan=0.1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    y = X[:, 0] * 2 - X[:, 1] + rng.normal(0, 0.3, n)
    X[rng.random(X.shape) < nan] = np.nan
    return X, y


def _split_rows(model, n_features: int) -> np.ndarray:
    """Rows at each split condition, its float32 neighbours and the doubles around it, one
    feature at a time (the others at 0.0), then NaN and out-of-range values."""
    dump = [json.loads(t) for t in model.get_booster().get_dump(dump_format="json")]
    conditions = {}

    def walk(node):
        if "split_condition" in node:
            conditions.setdefault(int(node["split"].lstrip("f")), set()).add(float(node["split_condition"]))
            for child in node["children"]:
                walk(child)

    for tree in dump:
        walk(tree)
    rows = []
    for j, values in conditions.items():
        for t in values:
            t32 = np.float32(t)
            below, above = np.nextafter(t32, np.float32(-np.inf)), np.nextafter(t32, np.float32(np.inf))
            mid_low = (float(below) + float(t32)) / 2
            mid_high = (float(t32) + float(above)) / 2
            for x in (
                float(below),
                float(t32),
                float(above),
                mid_low,
                np.nextafter(mid_low, -np.inf),
                np.nextafter(mid_low, np.inf),
                mid_high,
                np.nextafter(mid_high, -np.inf),
                np.nextafter(mid_high, np.inf),
            ):
                row = np.zeros(n_features)
                row[j] = x
                rows.append(row)
    for j in range(n_features):
        for x in (np.nan, 0.0, -0.0):
            row = np.full(n_features, 0.25)
            row[j] = x
            rows.append(row)
    return np.array(rows)


def _score(package, X):
    return crossform.score(package, {f"x{j}": X[:, j] for j in range(X.shape[1])})


@pytest.fixture(scope="module")
def regressor():
    X, y = _data()
    return xgboost.XGBRegressor(**SMALL).fit(X, y), X


def test_regression_is_bit_exact_at_every_split(regressor):
    model, X = regressor
    rows = np.vstack([_split_rows(model, 3), X[:100]])
    package = crossform.from_sklearn(model, checks=0)
    got = _score(package, rows)
    want = model.predict(rows).astype(np.float64)  # float32 from XGBoost, held exactly
    assert got.ok.all()
    np.testing.assert_array_equal(got.values[:, 0], want)
    # the same leaf in every tree as XGBoost's own pred_leaf
    from crossform.checks import leaf_positions as package_leaves
    from crossform.sklearn.xgboost import leaf_positions

    np.testing.assert_array_equal(package_leaves(package.model, got.leaves), leaf_positions(model, rows))


def test_regression_margin_is_the_raw_score(regressor):
    model, X = regressor
    package = crossform.from_sklearn(model, checks=0)
    margin = model.predict(X, output_margin=True).astype(np.float64)
    np.testing.assert_array_equal(_score(package, X).values[:, 0], margin)


def test_the_strict_comparison_matters_on_these_rows(regressor):
    """x == t goes right in XGBoost (x < t is false): a package comparing x <= t would put
    these rows left; the rows above reach such values."""
    model, _ = regressor
    rows = _split_rows(model, 3)
    tree = model.get_booster().get_dump(dump_format="json")[0]
    root = json.loads(tree)
    t32 = np.float32(root["split_condition"])
    j = int(root["split"].lstrip("f"))
    at = rows[(rows[:, j] == float(t32))]
    assert len(at)
    leaves = model.get_booster().predict(xgboost.DMatrix(at), pred_leaf=True)[:, 0]
    assert (leaves != root["yes"]).all()  # "yes" is the x < t child


def test_infinities_and_values_beyond_float32_compare_as_in_xgboost(regressor):
    """predict (inplace_predict) accepts them: +inf and 1e39 (inf once cast) go right, -inf left."""
    model, _ = regressor
    package = crossform.from_sklearn(model, checks=0)
    rows = np.array([[v, w, 0.1] for v in (np.inf, -np.inf, 1e39, -1e39, 3.4028235e38) for w in (np.inf, 0.2)])
    got = _score(package, rows)
    assert got.ok.all()
    np.testing.assert_array_equal(got.values[:, 0], model.predict(rows).astype(np.float64))


def _glibc() -> bool:
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _mismatch_report(got: np.ndarray, want: np.ndarray) -> tuple:
    """(rows differing at all, largest difference in float32 ulps of the expected value)."""
    differ = (got != want).any(axis=1)
    ulps = np.abs(got - want) / np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    return int(differ.sum()), float(np.nanmax(ulps)) if differ.any() else 0.0


@pytest.mark.parametrize(
    "objective",
    ["binary:logistic", "multi:softprob", "count:poisson", "reg:gamma", "reg:tweedie"],
)
def test_transforms_within_one_float32_ulp_and_margins_exact(objective):
    X, y = _data(600, 4, seed=3)
    if objective == "binary:logistic":
        model = xgboost.XGBClassifier(**SMALL).fit(X, (y > 0).astype(int))
    elif objective == "multi:softprob":
        model = xgboost.XGBClassifier(**SMALL).fit(X, np.digitize(y, [-1, 0, 1]))
    else:
        target = np.exp(np.clip(y, -3, 3) / 2) + (0.1 if objective == "reg:gamma" else 0.0)
        model = xgboost.XGBRegressor(objective=objective, **SMALL).fit(X, target)
    rows = np.vstack([_split_rows(model, 4), X])
    package = crossform.from_sklearn(model, checks=0)
    got = _score(package, rows).values
    want = model.predict_proba(rows) if hasattr(model, "predict_proba") else model.predict(rows).reshape(-1, 1)
    want = np.asarray(want, dtype=np.float64)
    differing, ulps = _mismatch_report(got, want)
    # bit for bit where XGBoost's expf is glibc's (the rule's), else within a float32 ulp
    assert (differing == 0) if _glibc() else (ulps <= 1.0), (differing, ulps)
    # the margins, before any transform, are bit-exact: only expf may differ
    if package.model.n_outputs == 1:
        raw = dataclasses.replace(package.model, post_transform="none", classes=None)
        margin = model.predict(rows, output_margin=True).astype(np.float64)
        np.testing.assert_array_equal(_score(package.replace(model=raw), rows).values[:, 0], margin)


def test_ranker_scores_are_bit_exact():
    X, y = _data(400, 3, seed=4)
    relevance = np.clip(np.round(y), 0, 3)
    model = xgboost.XGBRanker(objective="rank:pairwise", **SMALL).fit(X, relevance, qid=np.repeat(np.arange(40), 10))
    rows = np.vstack([_split_rows(model, 3), X])
    package = crossform.from_sklearn(model, checks=0)
    np.testing.assert_array_equal(_score(package, rows).values[:, 0], model.predict(rows).astype(np.float64))


def test_early_stopping_exports_the_trees_predict_uses():
    X, y = _data(600, 3, seed=5)
    model = xgboost.XGBRegressor(n_estimators=200, early_stopping_rounds=3, learning_rate=0.5, max_depth=3)
    model.fit(X[:400], y[:400], eval_set=[(X[400:], y[400:])], verbose=False)
    assert model.best_iteration < 199
    package = crossform.from_sklearn(model, checks=0)
    assert len(package.model.trees) == model.best_iteration + 1
    np.testing.assert_array_equal(_score(package, X).values[:, 0], model.predict(X).astype(np.float64))


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"booster": "dart"}, "booster='dart'"),
        ({"booster": "gblinear"}, "booster='gblinear'"),
        ({"missing": 0.0}, "missing=0.0"),
        ({"objective": "multi:softmax"}, "objective 'multi:softmax'"),
    ],
)
def test_unsupported_options_are_refused_by_name(params, words):
    X, y = _data(200, 3, seed=6)
    if params.get("objective") == "multi:softmax":
        model = xgboost.XGBClassifier(n_estimators=2, **params).fit(X, np.digitize(y, [-1, 1]))
    else:
        model = xgboost.XGBRegressor(n_estimators=2, **params).fit(X, y)
    with pytest.raises(errors.UnsupportedEstimatorError, match=words):
        crossform.from_sklearn(model, checks=0)


def _category_model(onehot: int, nan: bool = True):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(7)
    codes = rng.choice(list("abcdef"), 600).astype(object)
    y = np.isin(codes, ["a", "d"]) * 2.0 + rng.normal(0, 0.1, 600)
    if nan:
        missing = rng.random(600) < 0.15
        codes[missing], y[missing] = None, y[missing] + 3.0  # NaN its own way: some default_left
    df = pd.DataFrame({"c": pd.Categorical(codes), "x": rng.normal(size=600)})
    params = {"n_estimators": 4, "max_depth": 3, "n_jobs": 1, "tree_method": "hist"}
    model = xgboost.XGBRegressor(enable_categorical=True, max_cat_to_onehot=onehot, **params)
    return model.fit(df, y + df.x), df


@pytest.mark.parametrize("onehot", [1, 8])
def test_categorical_splits_score_as_xgboost(onehot):
    model, _ = _category_model(onehot)
    package = crossform.from_sklearn(model, checks=300)
    assert package.model.has_sets and package.inputs[0].kind == "categorical"
    comparison = compare(package.checks, crossform.score(package, package.checks.data()), package.model)
    assert comparison.ok and comparison.leaves_compared, comparison.summary()


def test_every_category_nan_and_an_unknown_one_score_as_xgboost():
    pd = pytest.importorskip("pandas")
    from crossform.sklearn.xgboost import booster_document, xgboost_trees

    model, df = _category_model(1)
    trees = xgboost_trees(booster_document(model.get_booster()))
    assert any(t["default_left"][n] for t in trees for n in t["categories_nodes"])  # both missing sides
    assert any(not t["default_left"][n] for t in trees for n in t["categories_nodes"])
    package = crossform.from_sklearn(model, checks=0)
    values = ["a", "b", "c", "d", "e", "f", None, "zebra", "A"]
    got = crossform.score(package, {"c": values, "x": [0.25] * len(values)})
    # XGBoost given the fitted categories: an unknown value is NaN, missing (its own predict on a
    # column with other categories re-codes them by name: see category_frame)
    known = [v if v in set(df.c.cat.categories) else None for v in values]
    frame = pd.DataFrame({"c": pd.Categorical(known, categories=df.c.cat.categories), "x": [0.25] * len(values)})
    expected = model.predict(frame)
    assert np.array_equal(got.values[:, 0], expected.astype(np.float64))
    assert got.values[7, 0] == got.values[6, 0] == got.values[8, 0]


def test_numeric_categories_are_refused_by_name():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"c": pd.Categorical(rng.choice([1, 2, 3, 5], 300)), "x": rng.normal(size=300)})
    model = xgboost.XGBRegressor(n_estimators=3, enable_categorical=True, max_cat_to_onehot=1).fit(df, df.x)
    with pytest.raises(errors.UnsupportedEstimatorError, match="categories that are numbers"):
        crossform.from_sklearn(model, checks=0)


def test_checks_come_from_xgboost_and_pass():
    X, y = _data(300, 3, seed=8)
    model = xgboost.XGBRegressor(**SMALL).fit(X, y)
    package = crossform.from_sklearn(model, checks=300)
    assert package.checks.expected_by.startswith("xgboost ")
    assert package.checks.leaves is not None
    comparison = compare(package.checks, crossform.score(package, package.checks.data()), package.model)
    assert comparison.ok, comparison.summary()


def test_importing_crossform_does_not_import_xgboost():
    code = "import sys, crossform, crossform.sklearn; assert 'xgboost' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("params", "exact"),
    [
        ({"objective": "reg:squarederror"}, True),
        ({"objective": "binary:logistic"}, False),
        ({"objective": "multi:softprob", "num_class": 3}, False),
        ({"objective": "reg:gamma"}, False),
    ],
)
def test_a_raw_booster_scores_as_its_predict_with_its_feature_names(params, exact):
    X, y = _data(500, 3, seed=9)
    target = {"binary:logistic": (y > 0).astype(int), "multi:softprob": np.digitize(y, [-1, 1])}.get(
        params["objective"], np.exp(np.clip(y, -2, 2))
    )
    names = ["span", "mass", "height"]
    booster = xgboost.train(
        {**params, "max_depth": 3, "nthread": 1}, xgboost.DMatrix(X, label=target, feature_names=names), 6
    )
    package = crossform.from_sklearn(booster, checks=0)
    assert [f.name for f in package.inputs] == names
    rows = np.vstack([X, [[np.inf, -np.inf, 1e39]]])
    got = crossform.score(package, {n: rows[:, j] for j, n in enumerate(names)}).values
    want = np.asarray(booster.inplace_predict(rows), dtype=np.float64).reshape(len(rows), -1)
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        differing, ulps = _mismatch_report(got, want)
        assert (differing == 0) if _glibc() else (ulps <= 1.0), (differing, ulps)


def test_a_custom_objective_scores_as_predict_does():
    """predict applies the transform of the objective the booster records (the identity for a
    regressor, the sigmoid for a binary classifier); so does the package."""
    X, y = _data(300, 3, seed=10)

    def squared(y_true, y_pred):
        return y_pred - y_true, np.ones_like(y_pred)

    def logistic(y_true, y_pred):
        p = 1 / (1 + np.exp(-y_pred))
        return p - y_true, p * (1 - p)

    regressor = xgboost.XGBRegressor(objective=squared, **SMALL).fit(X, y)
    classifier = xgboost.XGBClassifier(objective=logistic, **SMALL).fit(X, (y > 0).astype(int))
    for model, want in ((regressor, regressor.predict(X).reshape(-1, 1)), (classifier, classifier.predict_proba(X))):
        package = crossform.from_sklearn(model, checks=0)
        np.testing.assert_array_equal(_score(package, X).values, np.asarray(want, dtype=np.float64))
