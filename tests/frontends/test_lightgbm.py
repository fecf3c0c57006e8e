"""LightGBM models score in the reference evaluator exactly as LightGBM's own predict /
predict_proba and pred_leaf say (the checks' expected outputs come from LightGBM), and what
crossform cannot state exactly is refused by name."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

lightgbm = pytest.importorskip("lightgbm")

import crossform  # noqa: E402
from crossform import evaluator, ir  # noqa: E402
from crossform.checks import compare  # noqa: E402
from crossform.errors import UnsupportedEstimatorError  # noqa: E402
from crossform.sklearn import lightgbm as lgbm_frontend  # noqa: E402

FIXED = {"n_jobs": 1, "deterministic": True, "force_row_wise": True, "verbose": -1, "random_state": 0}


def _data(n=600, features=4, seed=0, nan=0.0):
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, features))
    y = X[:, 0] * 2 - X[:, 1] + r.normal(0, 0.3, n)
    if nan:
        X[r.random(X.shape) < nan] = np.nan
    return X, y


def _classes(y, k):
    return np.digitize(y, np.quantile(y, np.linspace(0, 1, k + 1)[1:-1]))


def _matches(estimator, rows=600):
    package = crossform.from_sklearn(estimator, checks=rows)
    scores = evaluator.score(package, package.checks.data())
    result = compare(package.checks, scores, package.model)
    assert result.ok, result.summary() + "\n" + "\n".join(str(m) for m in result.mismatches)
    assert result.leaves_compared
    assert package.checks.expected_by.startswith(f"lightgbm {lightgbm.__version__}")
    return package


FITS = {
    "regression-nan": lambda: lightgbm.LGBMRegressor(n_estimators=10, num_leaves=7, **FIXED).fit(*_data(nan=0.1)),
    "regression-no-nan": lambda: lightgbm.LGBMRegressor(n_estimators=10, num_leaves=7, **FIXED).fit(*_data()),
    "binary": lambda: lightgbm.LGBMClassifier(n_estimators=8, num_leaves=5, **FIXED).fit(
        _data(nan=0.1)[0], _data()[1] > 0
    ),
    "multiclass": lambda: lightgbm.LGBMClassifier(n_estimators=5, num_leaves=5, **FIXED).fit(
        _data()[0], np.array(["a", "b", "c"])[_classes(_data()[1], 3)]
    ),
    "poisson": lambda: lightgbm.LGBMRegressor(objective="poisson", n_estimators=8, **FIXED).fit(
        _data()[0], np.round(np.exp(np.clip(_data()[1], -2, 2)))
    ),
    "gamma": lambda: lightgbm.LGBMRegressor(objective="gamma", n_estimators=8, **FIXED).fit(
        _data()[0], np.exp(np.clip(_data()[1], -2, 2))
    ),
    "tweedie": lambda: lightgbm.LGBMRegressor(objective="tweedie", n_estimators=8, **FIXED).fit(
        _data()[0], np.round(np.exp(np.clip(_data()[1], -2, 2)))
    ),
    "huber": lambda: lightgbm.LGBMRegressor(objective="huber", n_estimators=6, **FIXED).fit(*_data()),
    "random-forest": lambda: lightgbm.LGBMRegressor(
        boosting_type="rf", n_estimators=5, subsample=0.7, subsample_freq=1, **FIXED
    ).fit(*_data(nan=0.1)),
}


@pytest.mark.parametrize("name", FITS)
def test_reference_matches_lightgbm(name):
    _matches(FITS[name]())


def test_predict_uses_best_iteration_and_so_does_the_package():
    """A Booster kept training holds every tree, and predict stops at best_iteration."""
    X, y = _data(900)
    params = {"objective": "regression", "learning_rate": 0.5, "num_leaves": 5, "num_threads": 1, "verbose": -1}
    booster = lightgbm.train(
        params,
        lightgbm.Dataset(X[:600], label=y[:600]),
        num_boost_round=300,
        valid_sets=[lightgbm.Dataset(X[600:], label=y[600:])],
        callbacks=[lightgbm.early_stopping(2, verbose=False)],
        keep_training_booster=True,
    )
    assert 0 < booster.best_iteration < booster.num_trees()
    package = _matches(booster)
    assert len(package.model.trees) == booster.best_iteration


def test_a_raw_booster_keeps_its_feature_names_and_scores_as_lightgbm():
    X, y = _data(nan=0.1)
    frame = pd.DataFrame(X, columns=["span", "mass", "height", "speed"])
    params = {"objective": "binary", "num_leaves": 5, "num_threads": 1, "verbose": -1, "deterministic": True}
    booster = lightgbm.train(params, lightgbm.Dataset(frame, label=y > 0), num_boost_round=6)
    package = _matches(booster)
    assert [f.name for f in package.inputs] == ["span", "mass", "height", "speed"]
    assert package.model.classes == (0, 1) and package.model.post_transform == "logistic"
    # LGBMClassifier's [1 - p, p], from the Booster's own p
    p = booster.predict(frame.iloc[:5])
    np.testing.assert_array_equal(crossform.score(package, frame.iloc[:5]).values[:, 1], p)


def test_a_raw_multiclass_booster_is_its_softmax():
    X, y = _data()
    params = {"objective": "multiclass", "num_class": 3, "num_leaves": 5, "num_threads": 1, "verbose": -1}
    booster = lightgbm.train(params, lightgbm.Dataset(X, label=_classes(y, 3)), num_boost_round=4)
    package = _matches(booster)
    assert package.model.classes == (0, 1, 2) and [f.name for f in package.inputs][0] == "Column_0"


# ---------------------------------------------------------------- the zero band


def test_the_zero_band_is_folded_into_thresholds():
    """LightGBM drops |x| <= kZeroThreshold from a row (it reads as 0.0): the rewritten
    threshold sends those values where 0.0 goes, which x <= t alone would not."""
    z = lgbm_frontend.ZERO_THRESHOLD
    assert z == float(np.float32(1e-35))
    assert lgbm_frontend._threshold(-z) == math.nextafter(-z, -math.inf)
    assert lgbm_frontend._threshold(-1e-40) == math.nextafter(-z, -math.inf)
    assert lgbm_frontend._threshold(0.0) == z and lgbm_frontend._threshold(1e-40) == z
    assert lgbm_frontend._threshold(z) == z and lgbm_frontend._threshold(-2 * z) == -2 * z


def test_values_in_the_zero_band_score_as_lightgbm():
    r = np.random.default_rng(5)
    X = r.choice([-1e-30, -1e-35, -1e-36, 0.0, 1e-36, 1e-35, 1e-30, -1.0, 1.0], size=(800, 2))
    y = (X[:, 0] > 0).astype(int) ^ (X[:, 1] < 0).astype(int)
    model = lightgbm.LGBMClassifier(n_estimators=5, num_leaves=6, min_child_samples=3, **FIXED).fit(X, y)
    package = _matches(model)
    band = [
        v for v in (-1e-35, -1e-36, -1e-40, 0.0, -0.0, 1e-40, 1e-36, 1e-35) if abs(v) <= lgbm_frontend.ZERO_THRESHOLD
    ]
    rows = np.array([[a, b] for a in band + [-1e-30, 1e-30] for b in band + [-1e-30, 1e-30]])
    got = crossform.score(package, {"x0": rows[:, 0], "x1": rows[:, 1]}).values
    np.testing.assert_array_equal(got, model.predict_proba(rows))


# ---------------------------------------------------------------- refusals


def _refused(estimator, words):
    with pytest.raises(UnsupportedEstimatorError, match=words):
        crossform.from_sklearn(estimator, checks=0)


def _zero_as_missing(nan=0.1):
    X, y = _data(n=900, nan=nan)
    X[::3, 0] = 0.0
    y = np.where(np.isnan(X[:, 0]) | (X[:, 0] == 0.0), y + 3.0, y)
    return lightgbm.LGBMRegressor(n_estimators=8, num_leaves=6, zero_as_missing=True, **FIXED).fit(X, y)


def test_zero_as_missing_scores_as_lightgbm():
    model = _zero_as_missing()
    package = _matches(model)
    assert isinstance(package.encoders[0], ir.MissingBand)


def test_the_zero_band_and_nan_go_the_default_way_under_zero_as_missing():
    model = _zero_as_missing()
    package = crossform.from_sklearn(model, checks=0)
    z = lgbm_frontend.ZERO_THRESHOLD
    edges = [0.0, -0.0, z, -z, math.nextafter(z, 1.0), math.nextafter(-z, -1.0), 1e-36, math.nan, 1e-30, -1e-30]
    edges += [math.inf, -math.inf, 0.5, -0.5]
    X = np.zeros((len(edges), 4))
    X[:, 0] = edges
    X[:, 1] = edges[::-1]
    got = evaluator.score(package, {f.name: X[:, j] for j, f in enumerate(package.inputs)})
    assert not any(got.errors)
    assert np.array_equal(got.values[:, 0], model.predict(X)), np.c_[edges, got.values[:, 0], model.predict(X)]
    assert model.predict(X[[0]])[0] != model.predict(X[[8]])[0]  # the band and a value beside it part ways


def _numeric_categories():
    X, y = _data(n=900)
    X[:, 3] = np.floor(np.abs(X[:, 3]) * 4)  # codes 0..~11
    model = lightgbm.LGBMRegressor(n_estimators=6, num_leaves=6, min_data_per_group=5, cat_smooth=1, **FIXED)
    return model.fit(X, y + np.isin(X[:, 3], [1, 4, 6]) * 2, categorical_feature=[3])


def test_categorical_splits_on_numbers_score_as_lightgbm():
    model = _numeric_categories()
    package = _matches(model)
    assert isinstance(package.encoders[0], ir.IntegerCode) and package.model.has_sets


# CategoricalDecision: NaN, a negative int and INT_MIN (x86-64's int of +-inf and of values beyond
# the int range) go right; int() truncates, so -0.5 and -0.999 are category 0 and 2.7 category 2
EDGES = [0.0, -0.0, -0.5, -0.999, -1.0, -2.5, 1.0, 1.5, 2.7, 4.0, 4.999, 6.0, 11.0, 12.0, 1e6, 2.0**31 - 0.5]
EDGES += [2.0**31, 1e300, math.inf, -math.inf, math.nan, 1e-36, -1e-36]


def test_numbers_read_as_categories_truncate_as_lightgbm_does():
    model = _numeric_categories()
    package = crossform.from_sklearn(model, checks=0)
    X = np.zeros((len(EDGES), 4))
    X[:, 3] = EDGES
    expected = model.predict(X)
    got = evaluator.score(package, {f.name: X[:, j] for j, f in enumerate(package.inputs)})
    assert not any(got.errors)
    assert np.array_equal(got.values[:, 0], expected), np.c_[EDGES, got.values[:, 0], expected]
    assert len(set(expected.tolist())) >= 2  # the rows reach both sides of the category splits


def _category_frame(ordered=False):
    X, y = _data(nan=0.1)
    r = np.random.default_rng(3)
    birds = r.choice(["crow", "owl", "kiwi", "heron", "auk"], len(y))
    frame = pd.DataFrame(X[:, :2], columns=["a", "b"]).assign(
        bird=pd.Categorical(birds, ordered=ordered), food=pd.Categorical(r.choice(["fish", "seeds", "nectar"], len(y)))
    )
    frame.loc[r.random(len(y)) < 0.1, "bird"] = np.nan
    target = y + (frame.bird == "owl") * 2 - (frame.food == "fish") * 1.5
    return frame, target.to_numpy()


def test_pandas_category_columns_score_as_lightgbm():
    """LightGBM codes a category column itself (unknown and missing categories become NaN):
    a label encoder and set splits of codes reproduce it, unknown categories included."""
    frame, y = _category_frame()
    model = lightgbm.LGBMRegressor(n_estimators=8, num_leaves=6, min_data_per_group=5, cat_smooth=1, **FIXED)
    package = _matches(model.fit(frame, y))
    assert any(t.has_sets for t in package.model.trees)
    assert [f.kind for f in package.inputs] == [ir.NUMERIC, ir.NUMERIC, ir.CATEGORICAL, ir.CATEGORICAL]
    rows = pd.DataFrame({"a": [0.1, 0.1], "b": [0.2, 0.2], "bird": ["owl", "dodo"], "food": ["fish", None]})
    # LightGBM's own coding of a column whose categories differ from the fitted ones: set_categories
    as_fitted = rows.assign(bird=rows.bird.astype("category"), food=rows.food.astype("category"))
    expected = model.predict(as_fitted)
    np.testing.assert_array_equal(crossform.score(package, rows).values[:, 0], expected)


def test_a_classifier_on_pandas_categories_predicts_the_classes_lightgbm_does():
    frame, y = _category_frame()
    model = lightgbm.LGBMClassifier(n_estimators=5, num_leaves=6, min_data_per_group=5, cat_smooth=1, **FIXED)
    package = _matches(model.fit(frame, y > 0))
    assert package.checks.predicted is not None and any(t.has_sets for t in package.model.trees)


def test_ordered_pandas_categories_are_refused_by_name():
    frame, y = _category_frame(ordered=True)
    _refused(lightgbm.LGBMRegressor(n_estimators=3, **FIXED).fit(frame, y), "cannot tell which column")


def test_linear_trees_are_refused_by_name():
    _refused(lightgbm.LGBMRegressor(n_estimators=3, linear_tree=True, **FIXED).fit(*_data()), "linear trees")


def test_a_sigmoid_other_than_one_is_refused_by_name():
    X, y = _data()
    _refused(lightgbm.LGBMClassifier(n_estimators=3, sigmoid=0.7, **FIXED).fit(X, y > 0), "sigmoid=0.7")


def test_multiclassova_is_one_unnormalised_sigmoid_per_class():
    X, y = _data()
    model = lightgbm.LGBMClassifier(objective="multiclassova", n_estimators=4, **FIXED).fit(X, _classes(y, 3))
    package = _matches(model)
    assert package.model.post_transform == "logistic" and package.model.n_outputs == 3
    assert not np.allclose(model.predict_proba(X[:20]).sum(axis=1), 1.0)  # not a distribution, as LightGBM gives it


def test_reg_sqrt_is_refused_by_name():
    X, y = _data()
    _refused(lightgbm.LGBMRegressor(n_estimators=3, reg_sqrt=True, **FIXED).fit(X, np.abs(y)), "reg_sqrt")


def test_a_custom_objective_is_refused_by_name():
    X, y = _data()

    def l2(y_true, y_pred):
        return y_pred - y_true, np.ones_like(y_true)

    _refused(lightgbm.LGBMRegressor(objective=l2, n_estimators=3, **FIXED).fit(X, y), "custom objective")


def test_importing_crossform_or_converting_sklearn_models_never_imports_lightgbm():
    script = textwrap.dedent("""
        import sys
        import numpy as np
        import crossform
        from sklearn.tree import DecisionTreeRegressor
        crossform.from_sklearn(DecisionTreeRegressor().fit(np.eye(3), [1.0, 2.0, 3.0]), checks=0)
        assert "lightgbm" not in sys.modules
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_package_records_the_exp_transform_and_lightgbm_as_producer():
    package = crossform.from_sklearn(FITS["poisson"](), checks=0)
    assert isinstance(package.model, ir.TreeEnsemble) and package.model.post_transform == "exp"
    assert package.producer["lightgbm"] == lightgbm.__version__
