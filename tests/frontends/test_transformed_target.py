"""TransformedTargetRegressor: with func=np.log, inverse_func=np.exp over a tree regressor the
reference gives scikit-learn's predict bit for bit (the exp post transform is numpy's exp in
float64, as FunctionTransformer's inverse_transform computes it); without a transform the model
is the regressor's; StandardScaler, MinMaxScaler, np.expm1 and any inverse over linear models
or log-link regressors are the composite "target" steps, bit for bit too; every other inverse,
transformer or regressor is refused by name."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_regression
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
    StackingRegressor,
    VotingRegressor,
)
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, QuantileTransformer, RobustScaler, StandardScaler
from sklearn.tree import DecisionTreeRegressor

import crossform
from crossform import evaluator
from crossform.checks import compare
from crossform.errors import UnsupportedEstimatorError


def _data(seed: int, n: int = 500):
    X, y = make_regression(n, 4, n_informative=3, noise=3.0, random_state=seed)
    return X, y - y.min() + 1.0


def _fit(model, seed: int = 0):
    X, y = _data(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # check_inverse's warning for log1p/exp pairs
        return model.fit(X, y)


def _log(regressor):
    return TransformedTargetRegressor(regressor, func=np.log, inverse_func=np.exp)


FITS = {
    "tree": lambda: _fit(_log(DecisionTreeRegressor(max_depth=6, random_state=0))),
    "extra-trees": lambda: _fit(_log(ExtraTreesRegressor(n_estimators=5, max_depth=5, random_state=0)), 1),
    "boosting": lambda: _fit(_log(GradientBoostingRegressor(n_estimators=10, random_state=0)), 2),
    "hist-boosting": lambda: _fit(_log(HistGradientBoostingRegressor(max_iter=15, random_state=0)), 3),
    "scaled-pipeline": lambda: _fit(_log(make_pipeline(StandardScaler(), DecisionTreeRegressor(max_depth=4))), 4),
    "identity": lambda: _fit(TransformedTargetRegressor(DecisionTreeRegressor(max_depth=5, random_state=0)), 5),
}


def _scaled(regressor, scaler):
    return TransformedTargetRegressor(regressor, transformer=scaler)


def _forest():
    return RandomForestRegressor(n_estimators=4, max_depth=5, random_state=0)


TARGET_FITS = {
    "standard-forest": lambda: _fit(_scaled(_forest(), StandardScaler()), 7),
    "standard-no-mean": lambda: _fit(_scaled(_forest(), StandardScaler(with_mean=False)), 8),
    "standard-no-std": lambda: _fit(_scaled(_forest(), StandardScaler(with_std=False)), 9),
    "min-max-hist-boosting": lambda: _fit(
        _scaled(HistGradientBoostingRegressor(max_iter=10, random_state=0), MinMaxScaler((-2.0, 3.0))), 10
    ),
    "standard-ridge": lambda: _fit(_scaled(Ridge(alpha=0.5), StandardScaler()), 11),
    "expm1-ridge": lambda: _fit(TransformedTargetRegressor(Ridge(), func=np.log1p, inverse_func=np.expm1), 12),
    "expm1-forest": lambda: _fit(TransformedTargetRegressor(_forest(), func=np.log1p, inverse_func=np.expm1), 13),
    "exp-ridge": lambda: _fit(_log(Ridge()), 14),
    "exp-poisson": lambda: _fit(_log(HistGradientBoostingRegressor(loss="poisson", max_iter=5)), 15),
    "max-abs-tree": lambda: _fit(_scaled(DecisionTreeRegressor(max_depth=6, random_state=0), MaxAbsScaler()), 18),
    "robust-boosting": lambda: _fit(
        _scaled(GradientBoostingRegressor(n_estimators=8, random_state=0), RobustScaler(quantile_range=(10, 80))), 19
    ),
    "robust-no-centering": lambda: _fit(_scaled(_forest(), RobustScaler(with_centering=False)), 20),
    "standard-voting": lambda: _fit(
        _scaled(VotingRegressor([("rf", _forest()), ("ridge", Ridge())], weights=[2.0, 1.0]), StandardScaler()), 16
    ),
    "expm1-stacking": lambda: _fit(
        TransformedTargetRegressor(
            StackingRegressor([("rf", _forest()), ("ridge", Ridge())], final_estimator=Ridge(), cv=3),
            func=np.log1p,
            inverse_func=np.expm1,
        ),
        17,
    ),
}
STEPS = {
    "standard-forest": ["multiply", "add"],
    "standard-no-mean": ["multiply"],
    "standard-no-std": ["add"],
    "min-max-hist-boosting": ["subtract", "divide"],
    "standard-ridge": ["multiply", "add"],
    "expm1-ridge": ["expm1"],
    "expm1-forest": ["expm1"],
    "exp-ridge": ["exp"],
    "exp-poisson": ["exp"],
    "max-abs-tree": ["multiply"],
    "robust-boosting": ["multiply", "add"],
    "robust-no-centering": ["multiply"],
    "standard-voting": ["multiply", "add"],
    "expm1-stacking": ["expm1"],
}
COMBINATIONS = {"standard-voting": "average", "expm1-stacking": "stack"}


@pytest.mark.parametrize("name", sorted(FITS) + sorted(TARGET_FITS))
def test_reference_gives_sklearns_predict_bit_for_bit(name):
    model = {**FITS, **TARGET_FITS}[name]()
    package = crossform.from_sklearn(model, checks=600)
    if name in TARGET_FITS:
        assert package.model.combination == COMBINATIONS.get(name, "target")
        assert [op for op, _ in package.model.target_steps] == STEPS[name]
    else:
        assert package.model.post_transform == ("none" if name == "identity" else "exp")
    scores = evaluator.score(package, package.checks.data())
    result = compare(package.checks, scores, package.model)
    assert result.ok, result.summary() + "\n" + "\n".join(str(m) for m in result.mismatches)
    assert (result.leaves_compared or name in TARGET_FITS) and len(package.checks) >= 100
    ok = ~package.checks.errors
    data = package.checks.data()
    X = np.column_stack([np.asarray(data[f.name], dtype=np.float64) for f in package.inputs])[ok]
    expected = model.predict(X)
    if name not in COMBINATIONS:
        assert np.array_equal(scores.values[ok][:, 0], expected)  # bit for bit, not within a tolerance
        return
    # a voting or stacking regressor's own prediction is held to 1e-12 (np.average, BLAS: notes 16
    # and 18); the steps after it are scikit-learn's inverse of that very prediction, bit for bit
    alone = package.replace(model=dataclasses.replace(package.model, target_steps=()))
    inner = evaluator.score(alone, data).values[ok][:, 0]
    assert np.array_equal(scores.values[ok][:, 0], model.transformer_.inverse_transform(inner[:, None])[:, 0])


def test_the_regressor_alone_scores_the_log():
    """The same trees without the transform score regressor_.predict, whose np.exp is the package's."""
    model = FITS["extra-trees"]()
    package = crossform.from_sklearn(model, checks=300)
    plain = crossform.from_sklearn(model.regressor_)
    assert plain.model.post_transform == "none"
    data = package.checks.data()
    ok = ~package.checks.errors
    X = np.column_stack([np.asarray(data[f.name], dtype=np.float64) for f in package.inputs])[ok]
    logs = evaluator.score(plain, data).values[ok][:, 0]
    assert np.array_equal(logs, model.regressor_.predict(X))
    assert np.array_equal(evaluator.score(package, data).values[ok][:, 0], np.exp(logs))
    assert not np.array_equal(logs, np.exp(logs))


@pytest.mark.parametrize(
    "model, words",
    [
        (TransformedTargetRegressor(DecisionTreeRegressor(), func=np.sqrt, inverse_func=np.square), "square"),
        (
            TransformedTargetRegressor(DecisionTreeRegressor(), transformer=QuantileTransformer(n_quantiles=50)),
            "QuantileTransformer",
        ),
        (_log(_scaled(DecisionTreeRegressor(), StandardScaler())), "with target steps already"),
    ],
)
def test_refused_by_name(model, words):
    fitted = _fit(model)
    with pytest.raises(UnsupportedEstimatorError, match=words):
        crossform.from_sklearn(fitted)


def test_lightgbm_regressor_bit_for_bit():
    lightgbm = pytest.importorskip("lightgbm")
    model = _fit(_log(lightgbm.LGBMRegressor(n_estimators=20, verbose=-1)), 6)
    package = crossform.from_sklearn(model, checks=600)
    assert package.model.post_transform == "exp"
    result = compare(package.checks, evaluator.score(package, package.checks.data()), package.model)
    assert result.ok, result.summary()


def test_xgboost_float32_predictions_refused():
    """XGBRegressor.predict is float32 and np.exp keeps it float32: not the float64 exp."""
    xgboost = pytest.importorskip("xgboost")
    model = _fit(_log(xgboost.XGBRegressor(n_estimators=3)))
    with pytest.raises(UnsupportedEstimatorError, match="accumulate 'float32'"):
        crossform.from_sklearn(model)
    scaled = _fit(_scaled(xgboost.XGBRegressor(n_estimators=3), StandardScaler()))
    with pytest.raises(UnsupportedEstimatorError, match="float32 prediction"):
        crossform.from_sklearn(scaled)


def test_a_prediction_that_is_not_finite_is_a_row_error():
    """check_array in the inverse raises on +-inf: so does the rule, row by row."""
    from crossform import ir

    model = TARGET_FITS["standard-ridge"]()
    package = crossform.from_sklearn(model)
    huge = np.sign(model.regressor_.coef_) * 1.7e308  # every term the same sign: the sum overflows
    rows = {f.name: [huge[j], 0.5] for j, f in enumerate(package.inputs)}
    with pytest.raises(ValueError, match="infinity"):
        model.predict(huge[None, :])
    scores = evaluator.score(package, rows)
    assert scores.errors[0] is not None and "not finite" in scores.errors[0]
    assert scores.errors[1] is None
    assert scores.values[1, 0] == model.predict(np.array([[0.5] * len(package.inputs)]))[0]
    assert isinstance(package.model, ir.Composite)


@pytest.mark.parametrize("fmt", ["stripe-json", "protobuf", "onnx", "pmml"])
def test_checks_leave_out_rows_scikit_learn_scores_as_infinite(fmt, tmp_path):
    """np.exp overflows on the probe rows at the float64 limits: scikit-learn gives +inf there
    without refusing the row. A check states finite outputs only, so export keeps the other rows,
    counts the ones it left out, and the package writes, reads back and validates in every format."""
    X, y = _data(6, 200)
    model = TransformedTargetRegressor(Ridge(), func=np.log, inverse_func=np.exp).fit(X, y)
    everything = model.predict(np.array([[1e300] * X.shape[1], [-1e300] * X.shape[1]]))
    assert not np.isfinite(everything).all()  # the overflow this test is about
    package = crossform.from_sklearn(model, checks=600)
    assert "infinite or NaN left out" in package.checks.description
    values = package.checks.values[~package.checks.errors]
    assert len(values) > 0 and np.isfinite(values).all()
    crossform.save(package, tmp_path / "p", format=fmt)
    again = crossform.load(tmp_path / "p")
    assert again.id == package.id
    result = compare(again.checks, evaluator.score(again, again.checks.data()), again.model)
    assert result.ok, result
