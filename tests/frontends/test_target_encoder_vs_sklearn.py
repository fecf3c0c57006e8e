"""TargetEncoder against scikit-learn: its transform (the learned encodings, the target mean for
unknown categories and unseen NaN) on string and numeric categories, for binary, multiclass and
continuous targets. Expected outputs are scikit-learn's (the package's checks)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import TargetEncoder

import crossform
from crossform import evaluator, ir
from crossform.checks import compare


def _frame(n: int = 600, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "bird": pd.Series(rng.choice(["crow", "owl", "kiwi", "auk"], n), dtype=object),
            "eggs": rng.choice([0, 1, 2, 5], n),
            "migrates": rng.random(n) < 0.3,
            "wingspan": rng.normal(1.0, 0.4, n),
        }
    )
    df.loc[rng.random(n) < 0.1, "bird"] = np.nan
    return df


def _target(df: pd.DataFrame, task: str):
    signal = df.wingspan + (df.bird == "owl") - df.eggs * 0.2 + df.migrates * 0.5
    if task == "continuous":
        return signal.to_numpy()
    if task == "multiclass":
        return np.digitize(signal, np.quantile(signal, [0.33, 0.66]))
    return (signal > signal.median()).to_numpy()


@pytest.mark.parametrize("task", ["binary", "multiclass", "continuous"])
def test_target_encoder_scores_as_scikit_learn(task):
    df = _frame()
    columns = ColumnTransformer(
        [("target", TargetEncoder(cv=KFold(4)), ["bird", "eggs", "migrates"]), ("num", "passthrough", ["wingspan"])]
    )
    model = Ridge() if task == "continuous" else RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = Pipeline([("c", columns), ("m", model)]).fit(df, _target(df, task))
        package = crossform.from_sklearn(est, checks=400)
    result = compare(package.checks, evaluator.score(package, package.checks.data()), package.model)
    assert result.ok, result.summary() + "\n" + "\n".join(str(m) for m in result.mismatches)
    encodings = [e for e in package.encoders if isinstance(e, ir.CategoricalEncoding)]
    assert len(encodings) == (3 if task == "multiclass" else 1)
    target = est[0].named_transformers_["target"]
    means = np.atleast_1d(target.target_mean_)
    assert [e.unknown_code for e in encodings] == means.tolist()


def test_an_unknown_category_and_an_unseen_nan_take_the_target_mean():
    df = _frame()
    target = TargetEncoder(cv=KFold(4)).fit(df[["eggs"]], _target(df, "continuous"))
    est = Pipeline([("t", target), ("m", Ridge().fit(target.transform(df[["eggs"]]), _target(df, "continuous")))])
    package = crossform.from_sklearn(est, checks=0)
    rows = pd.DataFrame({"eggs": [0.0, 3.0, np.nan, -0.0]})
    scores = crossform.score(package, rows)
    np.testing.assert_array_equal(scores.values[:, 0], est.predict(rows))
