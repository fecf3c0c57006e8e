"""PMML's composite "target" (TransformedTargetRegressor's inverse steps) against scikit-learn's
own predict in JPMML: scalers, log/exp and log1p/expm1 over forests, histogram boosting, ridges,
a voting and a stacking regressor; the exp and expm1 Applies against numpy on chosen values; a
prediction that is not finite refused as a row error; crafted steps refused by name. (The
conformance cases target-steps hold more fits to scikit-learn's predict in every format.)"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_regression
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor, StackingRegressor, VotingRegressor
from sklearn.linear_model import Ridge
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

import crossform
from crossform import ir
from crossform.exporters import get_format
from crossform.exporters import pmml as P
from crossform.runtime import get_runtime, unavailable

FMT = get_format("pmml")


def _jpmml(package: ir.Package, rows: pd.DataFrame):
    reason = unavailable("jpmml")
    if reason is not None:
        pytest.skip(f"jpmml unavailable: {reason}")
    data = FMT.dumps(package)
    assert FMT.loads(data).id == package.id
    return get_runtime("jpmml").prepare(data, FMT)(rows)


def _fit(model, seed: int):
    X, y = make_regression(400, 4, n_informative=3, noise=3.0, random_state=seed)
    if not _linear(model):
        X[::17, seed % 4] = np.nan  # routed by the trees (a ridge refuses NaN)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # check_inverse's warning for log pairs
        return model.fit(X, y - y.min() + 1.0)


def _linear(model) -> bool:
    regressor = model.regressor
    return isinstance(regressor, (Ridge, VotingRegressor, StackingRegressor))


def _forest():
    return RandomForestRegressor(n_estimators=5, max_depth=6, random_state=0)


def _scaled(regressor, scaler):
    return TransformedTargetRegressor(regressor, transformer=scaler)


def _functions(regressor, func, inverse):
    return TransformedTargetRegressor(regressor, func=func, inverse_func=inverse)


FITS = {
    "standard-forest": lambda: _fit(_scaled(_forest(), StandardScaler()), 1),
    "min-max-forest": lambda: _fit(_scaled(_forest(), MinMaxScaler((-1.0, 2.0))), 2),
    "max-abs-forest": lambda: _fit(_scaled(_forest(), MaxAbsScaler()), 3),
    "robust-forest": lambda: _fit(_scaled(_forest(), RobustScaler(quantile_range=(10, 80))), 4),
    "expm1-forest": lambda: _fit(_functions(_forest(), np.log1p, np.expm1), 5),
    "exp-poisson": lambda: _fit(
        _functions(HistGradientBoostingRegressor(loss="poisson", max_iter=8), np.log, np.exp), 6
    ),
    "standard-ridge": lambda: _fit(_scaled(Ridge(alpha=0.5), StandardScaler()), 7),
    "min-max-ridge": lambda: _fit(_scaled(Ridge(), MinMaxScaler()), 8),
    "exp-ridge": lambda: _fit(_functions(Ridge(), np.log, np.exp), 9),
    "expm1-ridge": lambda: _fit(_functions(Ridge(), np.log1p, np.expm1), 10),
    "standard-voting": lambda: _fit(
        _scaled(VotingRegressor([("rf", _forest()), ("ridge", Ridge())], weights=[2.0, 1.0]), StandardScaler()), 11
    ),
    "expm1-stacking": lambda: _fit(
        _functions(
            StackingRegressor([("rf", _forest()), ("ridge", Ridge())], final_estimator=Ridge(), cv=3),
            np.log1p,
            np.expm1,
        ),
        12,
    ),
}
# the forests' average and the scalers' steps are IEEE operations JPMML does as numpy does; Java's
# Math.exp and Math.expm1, and a ridge's BLAS dot product, may differ from numpy in the last bits
BIT_EQUAL = ("standard-forest", "min-max-forest", "max-abs-forest", "robust-forest")


@pytest.mark.parametrize("name", sorted(FITS))
def test_jpmml_scores_a_transformed_target_regressor_as_sklearns_predict(name):
    model = FITS[name]()
    exported = crossform.from_sklearn(model, checks=600)  # rows at the splits, extremes, NaN
    checks = exported.checks
    # written without its checks: an expected value np.exp overflowed to inf is not yet storable
    package = exported.replace(checks=None)
    assert package.model.target_steps and P.written_version(package, P.OFF) == "1.3"
    data = checks.data()
    got = _jpmml(package, data)
    assert [e is not None for e in got.errors] == checks.errors.tolist()  # scikit-learn's, row by row
    X = np.column_stack([np.asarray(data[f.name], dtype=np.float64) for f in package.inputs])[~checks.errors]
    with np.errstate(over="ignore"):
        want = model.predict(X)
    values = got.values[~checks.errors, 0]
    assert len(values) >= 100
    if name in BIT_EQUAL:
        assert np.array_equal(values, want)  # bit for bit, not within a tolerance
        return
    infinite = np.isinf(want)  # np.exp and Math.exp overflow alike
    assert np.array_equal(values[infinite], want[infinite])
    values, want = values[~infinite], want[~infinite]
    assert (np.abs(values - want) <= 1e-12 * np.abs(want)).all(), np.max(np.abs(values - want) / np.abs(want))


def _identity(steps: tuple, width: int = 1, coefficient: float = 1.0) -> ir.Package:
    """A 'target' over one linear member whose prediction is the sum of its inputs times ``coefficient``."""
    names = tuple(f"t{i}" for i in range(width))
    member = ir.LinearModel(names, np.full((1, width), coefficient), np.zeros(1), "none", None)
    model = ir.Composite((member,), "target", target_steps=steps)
    return ir.Package(inputs=tuple(ir.Field(n, ir.NUMERIC) for n in names), encoders=(), model=model)


def _chosen() -> np.ndarray:
    rng = np.random.default_rng(7)
    edges = [1e-300, 5e-324, 1e-17, 1e-8, 0.5, 1.0, 700.0, 709.78, 709.79, 710.0, 746.0, 1e300]
    return np.concatenate([rng.uniform(-40, 40, 300), rng.uniform(-1e-4, 1e-4, 200), edges, [-e for e in edges]])


@pytest.mark.parametrize("function, numpy", [("exp", np.exp), ("expm1", np.expm1)])
def test_jpmml_exp_and_expm1_are_numpys_within_the_suite_s_tolerance_overflow_included(function, numpy):
    t = _chosen()
    got = _jpmml(_identity(((function, None),)), pd.DataFrame({"t0": t}))
    assert all(e is None for e in got.errors)
    with np.errstate(over="ignore"):
        want = numpy(t)
    values = got.values[:, 0]
    infinite = np.isinf(want)
    assert infinite.any() and np.array_equal(values[infinite], want[infinite])  # an overflow is +inf, no error
    assert (np.abs(values[~infinite] - want[~infinite]) <= 1e-12 * np.abs(want[~infinite])).all()


def test_jpmml_runs_the_operations_in_order_on_doubles_bit_for_bit():
    steps = (("subtract", 0.1), ("divide", 3.0), ("multiply", 1e-3), ("add", 2.2250738585072014e-308))
    t = _chosen()
    got = _jpmml(_identity(steps), pd.DataFrame({"t0": t}))
    want = ((t - 0.1) / 3.0) * 1e-3 + 2.2250738585072014e-308
    assert all(e is None for e in got.errors) and np.array_equal(got.values[:, 0], want)


def test_a_prediction_that_is_not_finite_is_a_row_error_in_jpmml_as_in_the_reference():
    package = _identity((("multiply", 2.0),), width=2, coefficient=1e300)
    rows = pd.DataFrame({"t0": [1e10, -1e10, 1e10, 1.0], "t1": [0.0, 0.0, -1e10, 1e-300]})  # +inf, -inf, NaN, fine
    want = crossform.score(package, rows)
    got = _jpmml(package, rows)
    assert [e is None for e in want.errors] == [False, False, False, True]
    assert [e is None for e in got.errors] == [False, False, False, True]
    assert got.values[3, 0] == want.values[3, 0]


def _text(package: ir.Package) -> str:
    return FMT.dumps(package).decode()


def _edited(text: str, old: str, new: str) -> bytes:
    assert old in text, old
    return text.replace(old, new, 1).encode()


STEPS = (("multiply", 0.5), ("add", 3.0), ("expm1", None))
DIFFERS = "expected the document crossform writes for the package it describes"
CRAFTED = {
    "steps not a list": (
        "&quot;target_steps&quot;:[[&quot;multiply&quot;,0.5],[&quot;add&quot;,3.0],[&quot;expm1&quot;,null]]",
        "&quot;target_steps&quot;:&quot;multiply&quot;",
        P.PmmlHeaderError,
        '"target_steps"',
    ),
    "step not a pair": (
        "[&quot;add&quot;,3.0]",
        "[&quot;add&quot;,3.0,1.0]",
        P.PmmlHeaderError,
        "[operation, number or null] pairs",
    ),
    "unknown operation": ("[&quot;add&quot;,3.0]", "[&quot;log&quot;,3.0]", P.PmmlStructureError, "an operation of"),
    "number with expm1": (
        "[&quot;expm1&quot;,null]",
        "[&quot;expm1&quot;,1.0]",
        P.PmmlStructureError,
        "no number with 'expm1'",
    ),
    "header number not the Apply's": ("[&quot;add&quot;,3.0]", "[&quot;add&quot;,3.5]", P.PmmlStructureError, DIFFERS),
    "Apply not the header's": ('<Apply function="expm1">', '<Apply function="exp">', P.PmmlStructureError, DIFFERS),
    "no finiteness check": (
        '<Constant dataType="double">1.7976931348623157e+308</Constant>',
        '<Constant dataType="double">1e+308</Constant>',
        P.PmmlStructureError,
        DIFFERS,
    ),
}


def test_a_target_round_trips_to_the_same_ir():
    package = _identity(STEPS)
    back = FMT.loads(FMT.dumps(package))
    assert back.id == package.id and back.model.combination == "target" and back.model.target_steps == STEPS


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_target_steps_are_refused_by_name(name):
    old, new, error, words = CRAFTED[name]
    data = _edited(_text(_identity(STEPS)), old, new)
    with pytest.raises(error, match=re.escape(words)):
        FMT.loads(data)
