"""`crossform info` stays readable on a wide model: long name lists are summarized, --json keeps them whole."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import crossform
from crossform import cli

COLUMNS = [f"column_{i:02d}" for i in range(30)]


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(200, 30)), columns=COLUMNS)
    y = X.column_00 + X.column_29 > 0
    pipe = Pipeline(
        [
            ("fill", SimpleImputer()),
            ("scale", StandardScaler()),
            ("model", RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0)),
        ]
    ).fit(X, y)
    return str(crossform.save(crossform.from_sklearn(pipe, checks=0), tmp_path_factory.mktemp("wide") / "pkg"))


def test_info_summarizes_wide_name_lists(capsys, wide):
    code, out, err = run(capsys, "info", wide)
    assert code == 0, err
    lines = out.splitlines()
    encoders = [line for line in lines if line.lstrip()[:2] in ("1.", "2.")]
    assert len(encoders) == 2
    for line in encoders:
        assert len(line) <= cli.WIDTH, line
        shown = re.findall(r"column_\d\d", line)
        more = re.search(r" and (\d+) more", line)
        assert shown == COLUMNS[: len(shown)] and more and len(shown) + int(more.group(1)) == 30, line
    assert out.count("column_29") <= 1  # not once per encoder, twice each
    assert all(len(line) <= cli.WIDTH for line in lines if "sha256." not in line), out


def test_info_json_keeps_every_name(capsys, wide):
    code, out, err = run(capsys, "info", wide, "--json")
    doc = json.loads(out)
    assert [f["name"] for f in doc["inputs"]] == COLUMNS
    assert all(e["features"] == COLUMNS for e in doc["encoders"])
