"""sklearn2pmml next to crossform's pmml format on conformance fits (bench/pmml_crosscheck.py
prints the whole table). sklearn2pmml refuses scikit-learn releases newer than it knows:
then, unless a side interpreter with a scikit-learn it accepts is set up (./dev bench makes
one), its column is its reason, and crossform's column is still held to zero differences."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from helpers.paths import REPO

pytest.importorskip("sklearn2pmml")

from helpers.pmml import jpmml_or_skip  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from pmml_crosscheck import crosscheck  # noqa: E402


def test_crossform_pmml_is_exact_and_sklearn2pmml_is_measured_or_names_its_refusal():
    jpmml_or_skip()
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        rows = {r["name"]: r for r in crosscheck({"et-nan-unseen", "unknown-is-error"})}
    assert set(rows) == {"et-nan-unseen", "unknown-is-error"}
    assert all(r["ours"] == 0 for r in rows.values()), rows
    for r in rows.values():
        if r["sklearn2pmml"] is None:
            # e.g. "org.jpmml.sklearn.SkLearnException: Scikit-Learn version '1.9.1' is not supported (...)"
            assert r["reason"] and "Exception" in r["reason"], r
        else:
            # Converted: the comparison is not vacuous. For a forest fitted without NaN,
            # sklearn2pmml writes missingValueStrategy="nullPrediction", so the NaN rows that
            # scikit-learn routes get no prediction; and it scores the +-inf rows scikit-learn refuses.
            assert r["by"]["refused"] > 0 and r["by"]["scored"] > 0, r
