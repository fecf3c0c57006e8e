"""A tag's model and two candidate shadows, fitted by scikit-learn on one seeded data set, with
rows to score them on: the shadow tests compare what crossform logs and reports with what the
fitted models themselves give (predict_proba, predict), never with crossform's evaluator."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

import crossform
from crossform.serve.shadows import ShadowJob

COLUMNS = ("colour", "size", "weight")


def _frame(n: int, seed: int, colours):
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "colour": pd.Series(rng.choice(colours, n), dtype=object),
            "size": rng.normal(10, 4, n),
            "weight": rng.normal(0, 1, n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "size"] = np.nan
    return frame


def _labels(frame, seed: int):
    rng = np.random.default_rng(seed)
    y = frame["size"].fillna(10).to_numpy() + (frame["colour"] == "red") * 3 + rng.normal(0, 2, len(frame))
    return np.array(["low", "mid", "high"])[np.digitize(y, np.quantile(y, [0.33, 0.66]))]


def _pipeline(model, unknown: str):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    encoder = (
        OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        if unknown == "encode"
        else OrdinalEncoder(handle_unknown="error")
    )
    prep = ColumnTransformer(
        [("cat", encoder, ["colour"]), ("num", SimpleImputer(strategy="median"), ["size", "weight"])]
    )
    return Pipeline([("prep", prep), ("model", model)])


@dataclass
class ShadowModels:
    """The fitted pipelines (by model id), their packages, and rows to score."""

    fitted: dict  # model id -> fitted scikit-learn pipeline
    packages: dict  # model id -> crossform package
    primary_id: str
    shadow_ids: tuple  # (a deeper forest, a forest that refuses the colour "purple")
    rows: object  # a DataFrame: colours include "purple", which only the primary knows

    def columns(self, start: int, stop: int) -> dict:
        """Rows start..stop as the server passes them: {input name: list of values}, None for missing."""
        part = self.rows.iloc[start:stop]
        return {
            name: [None if (isinstance(v, float) and np.isnan(v)) else v for v in part[name].tolist()]
            for name in COLUMNS
        }

    def frame(self, start: int, stop: int):
        return self.rows.iloc[start:stop]


class PackageModel:
    """What the server's model cache hands out, reduced to what the pool uses: ``.score(columns)``."""

    def __init__(self, package):
        self.id = package.id
        self._score = crossform.scorer(package)

    def score(self, columns):
        return self._score(columns)


def fit_shadow_models() -> ShadowModels:
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

    train = _frame(400, seed=1, colours=["red", "blue", "green", "purple"])
    y = _labels(train, seed=2)
    primary = _pipeline(RandomForestClassifier(n_estimators=7, max_depth=4, random_state=0), "encode").fit(train, y)
    deeper = _pipeline(RandomForestClassifier(n_estimators=9, max_depth=8, random_state=1), "encode").fit(train, y)
    # the third never saw "purple" and refuses it (a row error in crossform; scikit-learn raises)
    known = train["colour"] != "purple"
    strict = _pipeline(ExtraTreesClassifier(n_estimators=5, max_depth=6, random_state=2), "error").fit(
        train[known], y[known]
    )
    fitted = {}
    packages = {}
    for pipeline in (primary, deeper, strict):
        package = crossform.from_sklearn(pipeline)
        fitted[package.id] = pipeline
        packages[package.id] = package
    ids = list(packages)
    rows = _frame(240, seed=3, colours=["red", "blue", "green", "purple"])
    return ShadowModels(fitted, packages, ids[0], (ids[1], ids[2]), rows)


def job_for(models: ShadowModels, start: int, stop: int, request_id: str, tag: str) -> ShadowJob:
    """The job the server would submit after the primary answered rows start..stop."""
    columns = models.columns(start, stop)
    began = time.perf_counter()
    scores = crossform.score(models.packages[models.primary_id], columns)
    return ShadowJob(
        request_id=request_id,
        tag=tag,
        primary_id=models.primary_id,
        columns=columns,
        primary=scores,
        primary_seconds=time.perf_counter() - began,
        received_at=time.time(),
    )


def sklearn_scores(models: ShadowModels, model_id: str, start: int, stop: int):
    """(probabilities with NaN rows, labels with None, error mask) scikit-learn gives rows
    start..stop; a row is in error where the model's encoder refuses its colour."""
    pipeline = models.fitted[model_id]
    frame = models.frame(start, stop)
    encoder = pipeline.named_steps["prep"].named_transformers_["cat"]
    refused = (
        np.zeros(len(frame), dtype=bool)
        if encoder.handle_unknown != "error"
        else ~frame["colour"].isin(encoder.categories_[0]).to_numpy()
    )
    probabilities = np.full((len(frame), len(pipeline.classes_)), np.nan)
    labels = np.full(len(frame), None, dtype=object)
    if (~refused).any():
        probabilities[~refused] = pipeline.predict_proba(frame[~refused])
        labels[~refused] = pipeline.predict(frame[~refused])
    return probabilities, labels, refused
