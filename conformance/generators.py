"""The registry of the conformance suite's seeded fits, and the data they share.

Each generator function, in a ``generators_<family>.py`` module imported at
the end of this file, fits one estimator or pipeline and is registered with
``case``: the feature it exercises (the case file it lands in), its short
name and a one-line description. The import order below is the order cases
are written. conformance/generate.py exports each fit as a
stripe-json package, generates rows at its splits (crossform.vectors) and
records scikit-learn's outputs for them. Reading these functions tells an
implementer in another language exactly what each case is.

Models are kept small so that the case files stay small: what matters is
that every kind of decision appears, not how many.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification, make_regression

# (feature, name, description, function), in the order they are written
GENERATORS: list = []


def case(feature: str, name: str, description: str, input_names=None, since=None) -> Callable:
    """Register a generator. ``input_names``: the names the package gives the
    columns of a model fitted on an array (crossform.from_sklearn's argument).
    ``since``: ``(release, why)`` when the fit needs a scikit-learn release newer
    than the oldest crossform supports, ``(release, why, library)`` when it needs a
    newer release of another library ("xgboost", "lightgbm"); conformance/refit.py
    skips it there, naming the library."""

    def register(fit: Callable) -> Callable:
        fit.input_names = input_names
        fit.since = since
        GENERATORS.append((feature, name, description, fit))
        return fit

    return register


# ---------------------------------------------------------------- data

BIRDS = ["albatross", "crow", "heron", "kiwi", "owl", "puffin"]
FOODS = ["fish", "insects", "nectar", "seeds"]
PLANETS = ["earth", "mars", "venus"]
CATEGORICAL = ["bird", "food", "planet"]
NUMERIC = ["wingspan", "weight", "altitude"]


def _machine_independent(values: np.ndarray) -> np.ndarray:
    """The values rounded to float32 (and held as float64).

    A regression target computed through BLAS (make_regression's X @ coef) or numpy's SIMD
    math (np.log) differs in the last bits between CPUs, and a tree fitted on it can choose
    another split where two candidates tie. Rounded to float32, the same target comes out
    on every machine (two float64 values a few ulps apart round apart only when they
    straddle a float32 rounding boundary, about once in 2^29 values)."""
    return np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)


def birds(n: int, seed: int, missing: float = 0.0) -> pd.DataFrame:
    """Three categorical and three numeric columns; NaN in a share of cells."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "bird": pd.Series(rng.choice(BIRDS, n), dtype=object),
            "food": pd.Series(rng.choice(FOODS, n), dtype=object),
            "planet": pd.Series(rng.choice(PLANETS, n), dtype=object),
            "wingspan": rng.normal(1.2, 0.5, n),
            "weight": rng.lognormal(0, 1, n),
            "altitude": rng.normal(500, 300, n).round(),
        }
    )
    for col in df.columns:
        df.loc[rng.random(n) < missing, col] = np.nan
    return df


def bird_target(df: pd.DataFrame, task: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    signal = (
        df.wingspan.fillna(1.0) * 2
        + np.log(df.weight.fillna(1.0))
        + (df.bird == "owl") * 1.5
        - (df.food == "fish")
        + (df.planet == "mars") * 0.7
        + rng.normal(0, 0.3, len(df))
    )
    if task == "regression":
        return _machine_independent(signal.to_numpy())
    if task == "multiclass":
        return np.array(["low", "mid", "high"])[np.digitize(signal, np.quantile(signal, [0.33, 0.66]))]
    return (signal > signal.median()).to_numpy()


def numbers(
    n: int, features: int, seed: int, task: str = "binary", nan: float = 0.0, classes: int = 2, float32: bool = False
):
    """make_classification / make_regression data, with NaN holes if asked. ``float32``: the
    features rounded to float32 (:func:`_machine_independent`); make_classification and
    make_regression compute them through BLAS, whose last bits differ between CPUs, so a
    threshold fitted between two of them does too, and a case's row labels name thresholds."""
    if task == "regression":
        X, y = make_regression(
            n_samples=n, n_features=features, n_informative=min(4, features), noise=5.0, random_state=seed
        )
        y = _machine_independent(y)
    else:
        X, y = make_classification(
            n_samples=n,
            n_features=features,
            n_informative=min(4, features),
            n_redundant=0,
            n_classes=classes,
            n_clusters_per_class=1,
            flip_y=0.05,
            random_state=seed,
        )
    if float32:
        X = _machine_independent(X)
    if nan:
        rng = np.random.default_rng(seed)
        X[rng.random(X.shape) < nan] = np.nan
    return X, y


FEATURES = {
    "splits": "Rows at every split: the threshold, its float64 neighbours, the float32 values and midpoints around it.",
    "missing": "NaN at every split of forests trained with and without NaN, and imputers.",
    "categories": "Unknown and missing categories under each ordinal-encoder policy.",
    "multiclass": "Several classes and every class-label type: strings, integers, booleans, floats.",
    "encoders": "Scalers, imputers, missing indicators and passthrough columns before the trees.",
    "one-hot": "One-hot encoders under each unknown-category policy, with dropped, missing and infrequent columns.",
    "boosting": "Gradient boosting: binary and multiclass classifiers, every regression loss, default init estimators.",
    "linear": "Linear and logistic regression, regularised and SGD models: probabilities and decision scores.",
    "hist-boosting": "Histogram gradient boosting: float64 thresholds, NaN routing, category-in-set splits.",
    "anomaly": "Isolation forests: score_samples and decision_function, with feature subsampling.",
    "ensembles": "Ensembles of other estimators: bagging over single trees, with feature subsets and small samples.",
    "pipeline-shapes": "The shapes a pipeline takes around its steps: one step, nesting, skipped steps, "
    "ColumnTransformer remainders and names, pandas output, names given to an array's columns.",
}

# Families in modules of their own register their cases when imported here, after FEATURES. A
# family whose library is not installed registers none and is named in MISSING_LIBRARIES:
# generate.py refuses to write the suite without it, refit.py reports it as skipped.
MISSING_LIBRARIES: dict = {}
import generators_adaboost  # noqa: E402, F401  (AdaBoost over single trees)
import generators_boosting  # noqa: E402, F401  (gradient and histogram boosting, isolation forests)
import generators_derived  # noqa: E402, F401  (columns derived from several inputs)
import generators_encoders  # noqa: E402, F401  (scalers, imputers, indicators, one-hot)
import generators_ensembles  # noqa: E402, F401
import generators_linear  # noqa: E402, F401
import generators_pipelines  # noqa: E402, F401  (pipeline shapes)
import generators_preprocessing  # noqa: E402, F401  (registers its cases and their features)
import generators_trees  # noqa: E402, F401  (splits, missing values, categories, class labels)

try:
    import generators_lightgbm  # noqa: E402, F401  (LightGBM and the exp link)
except ModuleNotFoundError as exc:
    if exc.name != "lightgbm":
        raise
    MISSING_LIBRARIES["lightgbm"] = "generators_lightgbm.py"
try:
    from generators_xgboost import FEATURES as _XGBOOST_FEATURES  # noqa: E402

    FEATURES.update(_XGBOOST_FEATURES)
except ModuleNotFoundError as exc:
    if exc.name != "xgboost":
        raise
    MISSING_LIBRARIES["xgboost"] = "generators_xgboost.py"
import generators_categories  # noqa: E402, F401  (category splits on numbers: histogram boosting, LightGBM, XGBoost)
import generators_composite  # noqa: E402, F401  (VotingClassifier, VotingRegressor)
import generators_projection  # noqa: E402, F401  (PCA and IncrementalPCA)
import generators_target  # noqa: E402, F401  (TransformedTargetRegressor's inverse target steps)
