"""Seeded fits for projections: PCA and IncrementalPCA (feature "projection").

Registered with generators.py's ``case`` (generators.py imports this module at its end), so
generate.py writes them like every other case; each case names this file as its generator.
Every fit reads features rounded to float32 (``numbers(..., float32=True)``), so the data are
the same bits on every machine; the PCA fit itself (an SVD through LAPACK) and the projection
(a BLAS matrix product) still differ in the last bits between OpenBLAS kernels, which
generate.py's 1e-9 comparison absorbs. The rows are drawn in input space by the probe-row
generator: none is constructed at a threshold of a projected column (docs/SEMANTICS.md note 25).
"""

from __future__ import annotations

from generators import FEATURES, NUMERIC, bird_target, birds, case, numbers
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA, IncrementalPCA
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


@case("projection", "pca-logistic-binary", "PCA(n_components=3) of six inputs before a binary logistic regression")
def pca_logistic_binary():
    X, y = numbers(800, 6, seed=150, float32=True)
    model = Pipeline([("pca", PCA(n_components=3)), ("model", LogisticRegression())])
    return model.fit(X, y)


@case(
    "projection",
    "pca-logistic-multiclass",
    "PCA keeping 90% of the variance (a float n_components) before a three-class logistic regression",
)
def pca_logistic_multiclass():
    X, y = numbers(900, 8, seed=151, classes=3, float32=True)
    model = Pipeline(
        [("scale", StandardScaler()), ("pca", PCA(n_components=0.9)), ("model", LogisticRegression(max_iter=2000))]
    )
    return model.fit(X, y)


@case("projection", "pca-whiten-ridge", "PCA(n_components=5, whiten=True) of ten inputs before a ridge regression")
def pca_whiten_ridge():
    X, y = numbers(600, 10, seed=152, task="regression", float32=True)
    # a target far from 0: the kernel's last bits move a prediction near 0 by more than 1e-12 of it
    model = Pipeline([("pca", PCA(n_components=5, whiten=True)), ("model", Ridge(alpha=0.5))])
    return model.fit(X, y + 1000.0)


@case(
    "projection",
    "pca-mle-forest",
    "PCA(n_components='mle') before a random forest: splits on projected columns, compared in float32",
)
def pca_mle_forest():
    X, y = numbers(1500, 6, seed=153, float32=True)
    forest = RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0)
    model = Pipeline([("pca", PCA(n_components="mle")), ("model", forest)])
    return model.fit(X, y)


@case(
    "projection",
    "pca-whiten-hgb-regression",
    "PCA(n_components=3, whiten=True) before histogram boosting: splits on projections in float64",
)
def pca_whiten_hgb_regression():
    X, y = numbers(1200, 5, seed=154, task="regression", float32=True)
    hgb = HistGradientBoostingRegressor(max_iter=15, max_depth=4, random_state=0)
    model = Pipeline([("pca", PCA(n_components=3, whiten=True)), ("model", hgb)])
    return model.fit(X, y)


@case(
    "projection",
    "pca-columns-one-hot",
    "PCA(n_components=2) of three scaled columns beside one-hot columns, before a logistic regression",
)
def pca_columns_one_hot():
    df = birds(700, seed=155)
    numeric = df[NUMERIC].astype("float32").astype("float64")
    df[NUMERIC] = numeric
    columns = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["bird", "food"]),
            ("num", Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=2))]), NUMERIC),
        ]
    )
    model = Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=2000))])
    return model.fit(df[["bird", "food", *NUMERIC]], bird_target(df, "binary"))


@case(
    "projection",
    "ipca-whiten-logistic",
    "IncrementalPCA(n_components=4, whiten=True) of seven inputs before a logistic regression",
)
def ipca_whiten_logistic():
    X, y = numbers(1000, 7, seed=156, float32=True)
    model = Pipeline(
        [("pca", IncrementalPCA(n_components=4, whiten=True, batch_size=200)), ("model", LogisticRegression())]
    )
    return model.fit(X, y)


FEATURES.update(
    {
        "projection": "PCA and IncrementalPCA (whiten on and off, int, fractional and 'mle' n_components) as a "
        "left fold over the inputs, before linear models and trees; NaN and infinities are row errors.",
    }
)
