"""scikit-learn as the oracle: probe rows, expected outputs, and the comparison.

Expected outputs always come from scikit-learn itself. Which rows are row
errors is decided by scoring each suspicious row alone with scikit-learn
(a row it refuses alone is an expected row error); all other rows must
score as one batch, or the test fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import is_classifier

import crossform
from crossform.checks import leaf_positions
from crossform.sklearn.compose import pipeline_steps
from crossform.sklearn.expect import sklearn_preorder

F32_MAX = float(np.finfo(np.float32).max)
OVERFLOW = float(2.0**128 - 2.0**103)
SPECIALS = [np.inf, -np.inf, 1e39, -1e39, OVERFLOW, np.nextafter(OVERFLOW, 0), F32_MAX, -F32_MAX, -0.0, 0.0, 5e-324]


def probe_values(threshold: float) -> list:
    """The threshold, its float64 neighbours, the float32 values around it,
    their rounding midpoint and the midpoint's float64 neighbours."""
    t = float(threshold)
    with np.errstate(over="ignore"):
        f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    g = np.nextafter(f, np.float32(np.inf))
    mid = (float(f) + float(g)) / 2.0
    values = [
        t,
        np.nextafter(t, np.inf),
        np.nextafter(t, -np.inf),
        float(f),
        float(g),
        mid,
        np.nextafter(mid, np.inf),
        np.nextafter(mid, -np.inf),
        float(np.nextafter(f, np.float32(-np.inf))),
    ]
    return [v for v in values if np.isfinite(v)]


def sklearn_trees(model) -> list:
    return [model.tree_] if hasattr(model, "tree_") else [e.tree_ for e in model.estimators_]


def split_rows(model, base: np.ndarray, limit: int = 4000, seed: int = 0) -> np.ndarray:
    """Rows (in the model's input space) at every split of ``model``."""
    rng = np.random.default_rng(seed)
    pairs = set()
    for tree in sklearn_trees(model):
        split = tree.children_left >= 0
        pairs.update(zip(tree.feature[split].tolist(), tree.threshold[split].tolist()))
    pairs = sorted(pairs)
    if len(pairs) * 9 > limit:
        pick = rng.choice(len(pairs), size=max(1, limit // 9), replace=False)
        pairs = [pairs[i] for i in sorted(pick)]
    rows = []
    for feature, threshold in pairs:
        for value in probe_values(threshold):
            row = base[rng.integers(len(base))].copy()
            row[feature] = value
            rows.append(row)
    return np.array(rows, dtype=np.float64)


def nan_rows(base: np.ndarray, seed: int = 1) -> np.ndarray:
    """Each feature missing alone, all missing, and random holes."""
    rng = np.random.default_rng(seed)
    n_features = base.shape[1]
    rows = []
    for j in range(n_features):
        for _ in range(3):
            row = base[rng.integers(len(base))].copy()
            row[j] = np.nan
            rows.append(row)
    rows.append(np.full(n_features, np.nan))
    holes = base[rng.integers(len(base), size=60)].copy()
    holes[rng.random(holes.shape) < 0.3] = np.nan
    return np.vstack([np.array(rows), holes])


def special_rows(base: np.ndarray, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = []
    for j in range(base.shape[1]):
        for value in SPECIALS:
            row = base[rng.integers(len(base))].copy()
            row[j] = value
            rows.append(row)
    return np.array(rows)


def is_plain(frame: pd.DataFrame, known: dict) -> np.ndarray:
    """Rows whose values are all ordinary: finite numbers of modest size or
    NaN, and categories seen in training (a missing category may be an
    unknown one). Others are scored alone."""
    plain = np.ones(len(frame), dtype=bool)
    for name in frame.columns:
        col = frame[name]
        if name in known:
            values = col.to_numpy(dtype=object)
            plain &= np.array([v in known[name] for v in values], dtype=bool)
        else:
            x = col.to_numpy(dtype=np.float64)
            with np.errstate(invalid="ignore"):
                plain &= np.isnan(x) | (np.abs(x) < 1e30)
    return plain


@dataclass
class Expected:
    values: np.ndarray  # NaN in refused rows
    refused: np.ndarray
    leaves: np.ndarray  # -1 in refused rows
    labels: list  # None in refused rows (classifiers)


def expected(est, frame: pd.DataFrame, known: dict) -> Expected:
    refused = np.zeros(len(frame), dtype=bool)
    for i in np.flatnonzero(~is_plain(frame, known)):
        try:
            _predict(est, frame.iloc[[i]])
        except ValueError:
            refused[i] = True
    ok = frame[~refused]
    out = _predict(est, ok)  # one batch: must not raise
    width = out.shape[1]
    values = np.full((len(frame), width), np.nan)
    values[~refused] = out
    # the model and what it sees: nested pipelines opened, None and "passthrough" steps skipped
    *transformers, model = pipeline_steps(est)
    transformed = ok
    for step in transformers:
        transformed = step.transform(transformed)
    leaf = model.apply(transformed)
    leaf = leaf.reshape(len(ok), -1)
    # leaves as preorder positions, so that any node numbering a format uses compares
    for t, tree in enumerate(sklearn_trees(model)):
        leaf[:, t] = sklearn_preorder(tree)[leaf[:, t]]
    leaves = np.full((len(frame), leaf.shape[1]), -1, dtype=np.int64)
    leaves[~refused] = leaf
    labels = [None] * len(frame)
    if is_classifier(est):
        for i, label in zip(np.flatnonzero(~refused), est.predict(ok)):
            labels[i] = label.item() if hasattr(label, "item") else label
    return Expected(values, refused, leaves, labels)


def _predict(est, frame):
    if is_classifier(est):
        return est.predict_proba(frame)
    return est.predict(frame).reshape(-1, 1)


def compare(
    package: crossform.Package, est, frame: pd.DataFrame, known: dict = None, runtime: str = "reference"
) -> dict:
    """Score with crossform and scikit-learn; return counts of every kind of mismatch."""
    want = expected(est, frame, known or {})
    got = crossform.score(package, frame, runtime=runtime)
    got_refused = ~got.ok
    both = ~want.refused & ~got_refused
    a, b = got.values[both], want.values[both]
    scale = np.maximum(np.abs(b), np.finfo(float).tiny)
    report = {
        "rows": len(frame),
        "refused": int(want.refused.sum()),
        "error_rows_differ": int((want.refused != got_refused).sum()),
        "value_rows_differ": int((np.abs(a - b) > 1e-12 * scale).any(axis=1).sum()),
        "max_rel_diff": float((np.abs(a - b) / scale).max()) if a.size else 0.0,
        "leaf_rows_differ": int(
            (want.leaves[both] != leaf_positions(package.model, got.leaves)[both]).any(axis=1).sum()
        ),
    }
    if package.model.is_classifier:
        got_labels = got.labels()
        report["label_rows_differ"] = sum(1 for i in np.flatnonzero(both) if got_labels[i] != want.labels[i])
    return report


def assert_checks_pass(package: crossform.Package) -> None:
    """The checks export attached (scikit-learn's outputs on rows at every
    split and leaf) score identically in the reference evaluator."""
    from crossform.checks import compare as compare_checks
    from crossform.evaluator import score as evaluate

    assert package.checks is not None and len(package.checks) > 0
    result = compare_checks(package.checks, evaluate(package, package.checks.data()), package.model)
    assert result.ok, [m.describe() for m in result.mismatches]
    assert result.leaves_compared


def assert_identical(report: dict) -> None:
    bad = {k: v for k, v in report.items() if k.endswith("differ") and v}
    assert not bad and report["max_rel_diff"] <= 1e-12, report
