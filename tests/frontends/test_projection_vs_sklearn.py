"""PCA and IncrementalPCA against scikit-learn: packages score rows as the fitted pipeline
predicts them (its predict / predict_proba, recorded in the package's checks), NaN and infinities
are row errors; the projection rule equals ``transform`` bit for bit under OpenBLAS's Prescott
kernel (a subprocess, since the kernel is chosen at load); the centring and whitening follow the
fitting release; float32 fits are refused by name. Expected outputs are scikit-learn's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.decomposition import PCA, IncrementalPCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

import crossform
from crossform import evaluator, ir
from crossform.checks import compare
from crossform.errors import UnsupportedEstimatorError
from crossform.sklearn import derived

X_CLASSES, Y_CLASSES = make_classification(500, 6, n_informative=4, n_redundant=0, random_state=7)
X_VALUES, Y_VALUES = make_regression(500, 8, noise=1.0, random_state=7)

FITS = {
    "pca-logistic": lambda: Pipeline([("p", PCA(3)), ("m", LogisticRegression())]).fit(X_CLASSES, Y_CLASSES),
    "pca-fraction-whiten-ridge": lambda: Pipeline([("p", PCA(0.8, whiten=True)), ("m", Ridge())]).fit(
        X_VALUES, Y_VALUES + 500.0
    ),
    "pca-mle-forest": lambda: Pipeline(
        [("p", PCA("mle")), ("m", RandomForestClassifier(5, max_depth=4, random_state=0))]
    ).fit(X_CLASSES, Y_CLASSES),
    "incremental-whiten-logistic": lambda: Pipeline(
        [("p", IncrementalPCA(2, whiten=True, batch_size=100)), ("m", LogisticRegression())]
    ).fit(X_CLASSES, Y_CLASSES),
}


@pytest.mark.parametrize("name", sorted(FITS))
def test_packages_score_their_checks_as_scikit_learn_predicted_them(name):
    model = FITS[name]()
    package = crossform.from_sklearn(model, checks=300)
    assert any(isinstance(enc, ir.Projection) for enc in package.encoders)
    comparison = compare(package.checks, evaluator.score(package, package.checks.data()), package.model)
    assert comparison.ok, (comparison.summary(), comparison.mismatches[:3])
    assert package.checks.errors.any()  # NaN and infinities were probed


_PRESCOTT = """
import json, sys
import numpy as np
from sklearn.datasets import make_regression
from sklearn.decomposition import PCA, IncrementalPCA
from crossform import ir, rules
from crossform.sklearn.derived import projection_parameters
X, _ = make_regression(2000, 30, random_state=3)
X = X * np.linspace(0.01, 100, 30) + np.linspace(-40, 40, 30)
out = []
for pca in (PCA(8), PCA(8, whiten=True), IncrementalPCA(5, whiten=True, batch_size=500)):
    pca.fit(X)
    mean, components, divisors, centring = projection_parameters(pca)
    names = tuple(f"x{j}" for j in range(30))
    enc = ir.Projection(names, mean, components, tuple(f"p{k}" for k in range(len(components))), divisors, centring)
    got = np.column_stack(rules.projections(enc, list(X.T)))
    want = pca.transform(X)
    out.append([repr(pca), int((got != want).sum()), float(np.max(np.abs(got - want)))])
print(json.dumps(out))
"""


def test_the_rule_equals_transform_bit_for_bit_under_the_prescott_kernel():
    src = str(Path(crossform.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "OPENBLAS_CORETYPE": "Prescott",
        "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run([sys.executable, "-c", _PRESCOTT], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    for name, differing, largest in json.loads(done.stdout):
        assert differing == 0, (name, differing, largest)


def test_centring_and_whitening_follow_the_fitting_release(monkeypatch):
    pca = PCA(4, whiten=True).fit(X_VALUES)
    variance = pca.explained_variance_.copy()
    variance[-1] = 0.0  # what arpack can give on rank-deficient data
    pca.explained_variance_ = variance
    mean, components, divisors, centring = derived.projection_parameters(pca)
    assert centring == "after"  # scikit-learn 1.5 on: X @ C.T - mean_ @ C.T
    assert divisors[-1] == np.finfo(np.float64).eps
    np.testing.assert_array_equal(divisors[:-1], np.sqrt(variance[:-1]))
    whitened = pca.transform(X_VALUES)
    pca.whiten = False
    np.testing.assert_array_equal(whitened, pca.transform(X_VALUES) / divisors)  # what transform divides by
    pca.whiten = True
    monkeypatch.setattr(derived, "_release", lambda: (1, 4))
    with pytest.raises(UnsupportedEstimatorError, match=r"positive variance in every component"):
        derived.projection_parameters(pca)
    pca = PCA(2, whiten=True).fit(X_VALUES)
    mean, components, divisors, centring = derived.projection_parameters(pca)
    assert centring == "before"  # 1.4: (X - mean_) @ C.T, divided by sqrt(explained_variance_) unclipped
    np.testing.assert_array_equal(divisors, np.sqrt(pca.explained_variance_))


def test_a_float32_fit_is_refused_by_name():
    model = Pipeline([("p", PCA(2)), ("m", Ridge())]).fit(X_VALUES.astype(np.float32), Y_VALUES)
    with pytest.raises(UnsupportedEstimatorError, match=r"PCA's components_ must be a float64 array.*Got float32"):
        crossform.from_sklearn(model)
